/* Internal: GET a client-named URL through the SSRF guard (every redirect hop too). */
#ifndef LV_WEBHOOK_FETCH_H
#define LV_WEBHOOK_FETCH_H

#include <stddef.h>

typedef struct lv_fetch_options {
	int allow_private;  /* webhooks.allow_private: lift the SSRF guard */
	long timeout_ms;    /* for the whole fetch, redirects included */
	size_t max_bytes;   /* a larger body is refused */
	int max_redirects;
	const char *field;  /* names the request field in every error: "characters[2].image" */
} lv_fetch_options;

/* The body of a 2xx answer in *out (malloc'd, *len bytes).  Every failure is LV_EINVALID with a
 * message naming o->field and why (refused address, timeout, too large, HTTP status, redirects). */
int lv_guarded_fetch(unsigned char **out, size_t *len, const char *url, const lv_fetch_options *o);

#endif
