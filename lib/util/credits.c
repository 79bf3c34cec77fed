/* Credit amounts: int64 thousandths of a credit, formatted and parsed exactly. */
#include "longvideo/common.h"
#include "util/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

int lv_credits_format(char *buf, size_t cap, int64_t amount)
{
	const char *sign = amount < 0 ? "-" : "";
	uint64_t a = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	uint64_t whole = a / 1000, frac = a % 1000;
	if (frac == 0)
		return snprintf(buf, cap, "%s%" PRIu64, sign, whole);
	if (frac % 100 == 0)
		return snprintf(buf, cap, "%s%" PRIu64 ".%" PRIu64, sign, whole, frac / 100);
	if (frac % 10 == 0)
		return snprintf(buf, cap, "%s%" PRIu64 ".%02" PRIu64, sign, whole, frac / 10);
	return snprintf(buf, cap, "%s%" PRIu64 ".%03" PRIu64, sign, whole, frac);
}

int lv_credits_parse(int64_t *out, const char *text)
{
	const char *p = text;
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	*out = 0;
	if (!p)
		return lv_error_set(LV_EINVALID, "credits: missing amount");
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (whole > (INT64_MAX / 1000 - 9) / 10)
			return lv_error_set(LV_EINVALID, "credits: '%s' is too large", text);
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, fdigits++) {
			if (fdigits == 3)
				return lv_error_set(LV_EINVALID,
				                    "credits: '%s' has more than three decimals", text);
			frac = frac * 10 + (*p - '0');
		}
		if (fdigits == 0)
			return lv_error_set(LV_EINVALID, "credits: '%s' is not a number", text);
	}
	if (digits == 0 || *p != '\0')
		return lv_error_set(LV_EINVALID,
		                    "credits: '%s' is not a non-negative number with at most three decimals", text);
	while (fdigits++ < 3)
		frac *= 10;
	*out = whole * 1000 + frac;
	return LV_OK;
}
