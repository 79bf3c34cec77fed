/*
 * liblongvideo — logging.
 *
 * The library reports what it does (tasks claimed, provider calls retried, webhooks given up) through
 * one log callback.  By default lines go to stderr as "2026-12-04T10:00:00Z warn message" at level
 * info, or at the level named by $LV_LOG_LEVEL when the library first logs (read once, never per line).
 *
 * A program that wants the lines elsewhere (its own logger, syslog, a test buffer) installs a
 * callback.  These are the only process-wide settings of the library, and they change only when the
 * program calls these functions: like FFmpeg's av_log_set_callback(), they belong to the program, not
 * to an engine.  The library never touches FFmpeg's own log settings, signal handlers or locale unless
 * the program asks (lv_log_route_ffmpeg()).
 */
#ifndef LONGVIDEO_LOG_H
#define LONGVIDEO_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a log line; LV_LOG_OFF as a level silences everything. */
typedef enum lv_log_level {
	LV_LOG_DEBUG = 0,
	LV_LOG_INFO = 1,
	LV_LOG_WARN = 2,
	LV_LOG_ERROR = 3,
	LV_LOG_OFF = 4
} lv_log_level;

/**
 * Receives one log line: `message` is one line of text without a newline, valid only during the call.
 * It may be called from any of the library's threads at once; it must not call back into the library's
 * logging functions.  Lines below the level set by lv_log_set_level() never reach it.
 */
typedef void (*lv_log_callback)(lv_log_level level, const char *message, void *userdata);

/**
 * Install `cb` (with `userdata`, passed back on every call) as the receiver of every log line.
 * NULL restores the default writer to stderr.  Takes effect for lines logged after it returns.
 */
LV_EXTERN(void) lv_log_set_callback(lv_log_callback cb, void *userdata);

/** Only lines at `level` or above are logged (LV_LOG_OFF: none).  Overrides $LV_LOG_LEVEL. */
LV_EXTERN(void) lv_log_set_level(lv_log_level level);

/** The level in force now. */
LV_EXTERN(lv_log_level) lv_log_get_level(void);

/**
 * Parse "debug", "info", "warn", "error" or "off" into `*out`.  Returns LV_OK, or LV_EINVALID (with a
 * message naming the text) for anything else.
 */
LV_EXTERN(int) lv_log_level_parse(lv_log_level *out, const char *name);

/** The lower-case name of `level` ("warn"); a static string. */
LV_EXTERN(const char *) lv_log_level_name(lv_log_level level);

/** How the default writer (no callback installed) prints a line. */
typedef enum lv_log_format {
	LV_LOG_FORMAT_TEXT = 0, /**< "2026-12-04T10:00:00Z warn message" */
	LV_LOG_FORMAT_JSON = 1  /**< one JSON object per line: {"ts","level","msg"[,"request_id"][,"fields"]} */
} lv_log_format;

/** Select the default writer's format (process-wide, like the level).  Text until called. */
LV_EXTERN(void) lv_log_set_format(lv_log_format format);

/** The format in force now. */
LV_EXTERN(lv_log_format) lv_log_get_format(void);

/** Parse "text" or "json"; LV_EINVALID (naming the text) for anything else. */
LV_EXTERN(int) lv_log_format_parse(lv_log_format *out, const char *name);

/**
 * Write one line to stderr in the format in force, as the default writer does: `request_id` (or NULL)
 * and `fields_json` (the members of a JSON object without its braces, e.g. "\"status\":200", or NULL)
 * appear in JSON lines as "request_id" and "fields"; in text lines the request id comes first and the
 * fields are left out.  For programs that log beside the library (lvserver's access log) in one shape.
 */
LV_EXTERN(void) lv_log_write(lv_log_level level, const char *request_id, const char *message,
                             const char *fields_json);

/**
 * Route FFmpeg's own log (encoder banners, decoder warnings) through the library's callback and level
 * (`on` != 0), or give FFmpeg back its default stderr logger (`on` == 0).  FFmpeg's logger is
 * process-wide, so the library changes it only when the program calls this; lvserver and lvctl do.
 */
LV_EXTERN(void) lv_log_route_ffmpeg(int on);

#ifdef __cplusplus
}
#endif
#endif
