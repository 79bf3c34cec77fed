/* A guarded GET: for fetching what a client names by URL (character images), with the SSRF guard on
 * every hop, a redirect limit, a size cap and one deadline. */
#include "webhook/fetch.h"
#include "webhook/ssrf.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/time.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	lv_ssrf_guard g; /* first: the guard's callbacks get this struct */
	unsigned char *data;
	size_t len, cap, max;
	int capped;
} fetch_ctx;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	fetch_ctx *c = userdata;
	size_t n = size * nmemb;
	if (c->len + n > c->max) {
		c->capped = 1;
		return 0;
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		unsigned char *p;
		while (cap < c->len + n)
			cap *= 2;
		if (!(p = lv_realloc(c->data, cap)))
			return 0;
		c->data = p;
		c->cap = cap;
	}
	memcpy(c->data + c->len, ptr, n);
	c->len += n;
	return n;
}

int lv_guarded_fetch(unsigned char **out, size_t *len, const char *url, const lv_fetch_options *o)
{
	int64_t deadline = lv_mono_ms() + o->timeout_ms;
	char *current = lv_strdup(url);
	int hop, rc = LV_OK;
	*out = NULL;
	*len = 0;
	if (!current)
		return LV_ENOMEM;
	for (hop = 0;; hop++) {
		fetch_ctx c;
		CURL *curl;
		CURLcode res;
		long status = 0, left = (long)(deadline - lv_mono_ms());
		char errbuf[CURL_ERROR_SIZE] = "", *next = NULL;
		memset(&c, 0, sizeof(c));
		c.g.guard = !o->allow_private;
		c.max = o->max_bytes;
		if (left <= 0) {
			rc = lv_error_set(LV_EINVALID, "%s: the server did not send it within %ld s", o->field,
			                  o->timeout_ms / 1000);
			break;
		}
		if (!(curl = curl_easy_init())) {
			rc = lv_error_set(LV_EINTERNAL, "cannot create a libcurl handle");
			break;
		}
		if (curl_easy_setopt(curl, CURLOPT_URL, current) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_PROXY, "") != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, left) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, left) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, lv_ssrf_open_socket) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &c) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, lv_ssrf_check_peer) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_PREREQDATA, &c) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c) != CURLE_OK ||
		    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
			curl_easy_cleanup(curl);
			rc = lv_error_set(LV_EINTERNAL, "libcurl lacks a required option");
			break;
		}
		res = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (res == CURLE_OK && status >= 300 && status < 400) {
			char *loc = NULL;
			curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &loc);
			next = loc ? lv_strdup(loc) : NULL;
		}
		curl_easy_cleanup(curl);
		if (c.g.refused[0]) {
			rc = lv_error_set(LV_EINVALID, "%s: %s", o->field, c.g.refused);
		} else if (c.capped || res == CURLE_FILESIZE_EXCEEDED) {
			rc = lv_error_set(LV_EINVALID, "%s: larger than %zu MiB", o->field, o->max_bytes >> 20);
		} else if (res == CURLE_OPERATION_TIMEDOUT) {
			rc = lv_error_set(LV_EINVALID, "%s: the server did not send it within %ld s", o->field,
			                  o->timeout_ms / 1000);
		} else if (res != CURLE_OK) {
			rc = lv_error_set(LV_EINVALID, "%s: could not be fetched (%s)", o->field,
			                  errbuf[0] ? errbuf : curl_easy_strerror(res));
		} else if (status >= 300 && status < 400) {
			if (!next)
				rc = lv_error_set(LV_EINVALID, "%s: HTTP %ld without a usable Location", o->field, status);
			else if (hop + 1 > o->max_redirects)
				rc = lv_error_set(LV_EINVALID, "%s: more than %d redirects", o->field, o->max_redirects);
			else {
				free(current);
				current = next;
				free(c.data);
				continue;
			}
		} else if (status < 200 || status >= 300) {
			rc = lv_error_set(LV_EINVALID, "%s: the server answered HTTP %ld", o->field, status);
		} else {
			*out = c.data;
			*len = c.len;
			c.data = NULL;
		}
		free(next);
		free(c.data);
		break;
	}
	free(current);
	return rc;
}
