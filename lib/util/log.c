#include "util/log.h"
#include "util/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_log_level(void)
{
	const char *v = getenv("LV_LOG_LEVEL");
	if (!v || !*v)
		return LV_LOG_INFO;
	if (!strcmp(v, "debug"))
		return LV_LOG_DEBUG;
	if (!strcmp(v, "warn"))
		return LV_LOG_WARN;
	if (!strcmp(v, "error"))
		return LV_LOG_ERROR;
	if (!strcmp(v, "off"))
		return LV_LOG_OFF;
	return LV_LOG_INFO;
}

void lv_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char ts[21], line[2048];
	va_list ap;
	if (level < lv_log_level() || level < 0 || level > LV_LOG_ERROR)
		return;
	lv_time_iso8601(ts, lv_now_ms());
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent threads do not interleave within a line. */
	fprintf(stderr, "%s %s %s\n", ts, names[level], line);
}
