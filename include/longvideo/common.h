/*
 * liblongvideo — common definitions: export macro, version, memory.
 *
 * Conventions used by every public header of this library:
 *  - Functions that can fail return an `int` status (LV_OK == 0, see errors.h);
 *    on failure, lv_error_last() holds a message naming the problem.
 *  - Out-parameters come first.  On failure `*out` is set to NULL.
 *  - Strings passed in are copied; the library keeps no pointer to them.
 *  - Every object type has one free function, and it accepts NULL.
 *  - Strings returned through `char **out` are owned by the caller and
 *    released with lv_free().
 *  - Credit amounts are int64_t thousandths of a credit (27.5 credits == 27500).
 *  - Options structs start with a `version` field; initialise them with the
 *    matching *_INIT macro so that later library versions can add fields.
 */
#ifndef LONGVIDEO_COMMON_H
#define LONGVIDEO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#  define LV_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#  define LV_EXTERN(type) extern type
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LV_VERSION_MAJOR 0
#define LV_VERSION_MINOR 1
#define LV_VERSION_PATCH 0
#define LV_VERSION "0.1.0"
/** LV_VERSION as one number: major * 10000 + minor * 100 + patch. */
#define LV_VERSION_NUMBER (LV_VERSION_MAJOR * 10000 + LV_VERSION_MINOR * 100 + LV_VERSION_PATCH)

/** Version of the library actually linked, e.g. "0.1.0".  Static string. */
LV_EXTERN(const char *) lv_version(void);
/** LV_VERSION_NUMBER of the library actually linked. */
LV_EXTERN(unsigned int) lv_version_number(void);

/** Release memory handed out by the library through a `char **` out-parameter. NULL-safe. */
LV_EXTERN(void) lv_free(void *ptr);

/**
 * Format a credit amount (thousandths) as a decimal with at most three
 * decimals and no trailing zeros: 82500 -> "82.5", 1650000 -> "1650".
 * Writes at most `cap` bytes including the terminator; returns the length
 * the full text needs (like snprintf).
 */
LV_EXTERN(int) lv_credits_format(char *buf, size_t cap, int64_t amount);

/**
 * Parse a non-negative decimal credit amount with at most three decimals
 * ("100", "82.5", "0.125") into thousandths.  Returns LV_OK or
 * LV_EINVALID (with a message) for anything else.
 */
LV_EXTERN(int) lv_credits_parse(int64_t *out, const char *text);

#ifdef __cplusplus
}
#endif
#endif
