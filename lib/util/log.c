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
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVEL_UNSET (-1)

static atomic_int log_level = LEVEL_UNSET;
static atomic_int log_format = LV_LOG_FORMAT_TEXT;
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

void lv_log_set_format(lv_log_format format)
{
	atomic_store(&log_format, format == LV_LOG_FORMAT_JSON ? LV_LOG_FORMAT_JSON : LV_LOG_FORMAT_TEXT);
}

lv_log_format lv_log_get_format(void)
{
	return (lv_log_format)atomic_load_explicit(&log_format, memory_order_relaxed);
}

int lv_log_format_parse(lv_log_format *out, const char *name)
{
	if (name && !strcmp(name, "text"))
		*out = LV_LOG_FORMAT_TEXT;
	else if (name && !strcmp(name, "json"))
		*out = LV_LOG_FORMAT_JSON;
	else
		return lv_error_set(LV_EINVALID, "log format '%s' is not one of text, json", name ? name : "(null)");
	return LV_OK;
}

/* A JSON string literal of s (quotes included) appended at *len; 0, or -1 when it does not fit. */
static int put_json_string(char *buf, size_t cap, size_t *len, const char *s)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = *len;
	if (n + 2 > cap)
		return -1;
	buf[n++] = '"';
	for (; *p; p++) {
		const char *esc = NULL;
		char u[7];
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (*p < 0x20) {
				u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
				u[4] = hexd[*p >> 4]; u[5] = hexd[*p & 15]; u[6] = '\0';
				esc = u;
			}
		}
		if (esc) {
			size_t k = strlen(esc);
			if (n + k + 2 > cap)
				return -1;
			memcpy(buf + n, esc, k);
			n += k;
		} else {
			if (n + 3 > cap)
				return -1;
			buf[n++] = (char)*p;
		}
	}
	buf[n++] = '"';
	*len = n;
	return 0;
}

/* The id of the task a library line is about ("task vid_..." in the message), for the "fields". */
static int task_field(char *out, size_t cap, const char *msg)
{
	const char *p = strstr(msg, "vid_");
	size_t n = 4;
	if (!p || (p > msg && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
		return 0;
	while (isalnum((unsigned char)p[n]))
		n++;
	if (n <= 4 || n + 16 >= cap)
		return 0;
	snprintf(out, cap, "\"task_id\":\"%.*s\"", (int)n, p);
	return 1;
}

static void write_line(int level, const char *request_id, const char *msg, const char *fields)
{
	char ts[21];
	lv_time_iso8601(ts, lv_now_ms());
	if (lv_log_get_format() == LV_LOG_FORMAT_JSON) {
		char out[6144];
		size_t len = 0;
		int n = snprintf(out, sizeof(out), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
		len = (size_t)n;
		if (put_json_string(out, sizeof(out) - 8, &len, msg) != 0) {
			len = (size_t)n;
			put_json_string(out, sizeof(out) - 8, &len, "(line too long)");
		}
		if (request_id && *request_id) {
			size_t keep = len;
			if (len + 14 < sizeof(out)) {
				memcpy(out + len, ",\"request_id\":", 14);
				len += 14;
				if (put_json_string(out, sizeof(out) - 8, &len, request_id) != 0)
					len = keep;
			}
		}
		if (fields && *fields && len + strlen(fields) + 16 < sizeof(out))
			len += (size_t)snprintf(out + len, sizeof(out) - len, ",\"fields\":{%s}", fields);
		/* One fprintf per line so concurrent threads do not interleave within a line. */
		fprintf(stderr, "%.*s}\n", (int)len, out);
	} else if (request_id && *request_id) {
		fprintf(stderr, "%s %s %s %s\n", ts, level_names[level], request_id, msg);
	} else {
		fprintf(stderr, "%s %s %s\n", ts, level_names[level], msg);
	}
}

void lv_log_write(lv_log_level level, const char *request_id, const char *message, const char *fields_json)
{
	if ((int)level < LV_LOG_DEBUG || (int)level > LV_LOG_ERROR || !message)
		return;
	write_line((int)level, request_id, message, fields_json);
}

static void deliver(int level, const char *line)
{
	pthread_rwlock_rdlock(&sink_lock);
	if (sink_cb) {
		sink_cb((lv_log_level)level, line, sink_ud);
	} else {
		char fields[96];
		write_line(level, NULL, line,
		           lv_log_get_format() == LV_LOG_FORMAT_JSON && task_field(fields, sizeof(fields), line) ? fields
		                                                                                                  : NULL);
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
