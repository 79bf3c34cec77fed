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
