/*
 * The log sink: one callback and one level for the process, set only by the program
 * (<longvideo/log.h>).  The level is an atomic read on every line; the callback and its user data
 * change together under a read-write lock, so a line is never delivered to a new callback with the
 * old user data.  $LV_LOG_LEVEL is read once, the first time the level is needed.
 */
#include "util/log.h"
#include "util/time.h"

#include <libavutil/log.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVEL_UNSET (-1)

static atomic_int log_level = LEVEL_UNSET;
static pthread_rwlock_t sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static lv_log_callback sink_cb;
static void *sink_ud;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

const char *lv_log_level_name(lv_log_level level)
{
	return (int)level >= 0 && (int)level <= LV_LOG_OFF ? level_names[level] : "unknown";
}

int lv_log_level_parse(lv_log_level *out, const char *name)
{
	int i;
	for (i = 0; name && i <= LV_LOG_OFF; i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (lv_log_level)i;
			return LV_OK;
		}
	}
	return lv_error_set(LV_EINVALID, "log level '%s' is not one of debug, info, warn, error, off",
	                    name ? name : "(null)");
}

lv_log_level lv_log_get_level(void)
{
	int v = atomic_load_explicit(&log_level, memory_order_relaxed);
	if (v == LEVEL_UNSET) {
		lv_log_level parsed = LV_LOG_INFO;
		const char *env = getenv("LV_LOG_LEVEL");
		int expected = LEVEL_UNSET;
		if (env && *env && lv_log_level_parse(&parsed, env) != LV_OK) {
			lv_error_clear();
			parsed = LV_LOG_INFO;
		}
		/* Whoever reads the environment first wins; lv_log_set_level() always wins over it. */
		atomic_compare_exchange_strong(&log_level, &expected, (int)parsed);
		v = atomic_load(&log_level);
	}
	return (lv_log_level)v;
}

void lv_log_set_level(lv_log_level level)
{
	if ((int)level < LV_LOG_DEBUG)
		level = LV_LOG_DEBUG;
	if ((int)level > LV_LOG_OFF)
		level = LV_LOG_OFF;
	atomic_store(&log_level, (int)level);
}

void lv_log_set_callback(lv_log_callback cb, void *userdata)
{
	pthread_rwlock_wrlock(&sink_lock);
	sink_cb = cb;
	sink_ud = cb ? userdata : NULL;
	pthread_rwlock_unlock(&sink_lock);
}

int lv_log_enabled(int level)
{
	return level >= LV_LOG_DEBUG && level <= LV_LOG_ERROR && level >= (int)lv_log_get_level();
}

static void deliver(int level, const char *line)
{
	pthread_rwlock_rdlock(&sink_lock);
	if (sink_cb) {
		sink_cb((lv_log_level)level, line, sink_ud);
	} else {
		char ts[21];
		lv_time_iso8601(ts, lv_now_ms());
		/* One fprintf per line so concurrent threads do not interleave within a line. */
		fprintf(stderr, "%s %s %s\n", ts, level_names[level], line);
	}
	pthread_rwlock_unlock(&sink_lock);
}

void lv_log(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	if (!lv_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	deliver(level, line);
}

/* FFmpeg's errors are worth a warning (the library reports its own failures as errors); everything
 * else FFmpeg says (banners, encoder statistics, decoder notes) is debugging detail. */
static int from_av_level(int av_level)
{
	return av_level <= AV_LOG_ERROR ? LV_LOG_WARN : LV_LOG_DEBUG;
}

static void ffmpeg_callback(void *avcl, int av_level, const char *fmt, va_list vl)
{
	char line[1024];
	int print_prefix = 1, level = from_av_level(av_level);
	size_t n;
	if (av_level > AV_LOG_VERBOSE || !lv_log_enabled(level))
		return;
	av_log_format_line2(avcl, av_level, fmt, vl, line, (int)sizeof(line), &print_prefix);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		deliver(level, line);
}

void lv_log_route_ffmpeg(int on)
{
	av_log_set_callback(on ? ffmpeg_callback : av_log_default_callback);
}
