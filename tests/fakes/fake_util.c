#include "fakes/fake_util.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- arena ---------------------------------------------------------------------------------------------------- */

void fake_arena_init(fake_arena *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
}

void fake_arena_free(fake_arena *a)
{
	size_t i;
	for (i = 0; i < a->n; i++)
		free(a->items[i]);
	free(a->items);
	pthread_mutex_destroy(&a->mu);
	memset(a, 0, sizeof(*a));
}

const char *fake_keep(fake_arena *a, char *s)
{
	if (!s)
		return NULL;
	pthread_mutex_lock(&a->mu);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **items = realloc(a->items, cap * sizeof(*items));
		ck_assert_ptr_nonnull(items);
		a->items = items;
		a->cap = cap;
	}
	a->items[a->n++] = s;
	pthread_mutex_unlock(&a->mu);
	return s;
}

const char *fake_printf(fake_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = lv_vasprintf(fmt, ap);
	va_end(ap);
	ck_assert_ptr_nonnull(s);
	return fake_keep(a, s);
}

/* ---- scripts ---------------------------------------------------------------------------------------------------- */

void fake_script_add(fake_script *s, fake_arena *a, const lv_fake_response *r, int times)
{
	lv_fake_response *q;
	ck_assert_int_lt(s->n, FAKE_SCRIPT_MAX);
	q = &s->r[s->n];
	*q = *r;
	q->headers = fake_keep(a, lv_strdup(r->headers));
	q->body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
	q->body = r->body ? fake_keep(a, lv_strndup(r->body, q->body_len)) : NULL;
	q->body_file = fake_keep(a, lv_strdup(r->body_file));
	q->content_type = fake_keep(a, lv_strdup(r->content_type));
	s->times[s->n] = times;
	s->n++;
}

int fake_script_next(fake_script *s, fake_arena *a, const lv_fake_request *req, lv_fake_response *out)
{
	char key[256];
	if (s->pos >= s->n) {
		if (!s->sticky || s->n == 0)
			return 0;
		*out = s->r[s->n - 1];
	} else {
		*out = s->r[s->pos];
		if (s->times[s->pos] > 0 && ++s->served_at_pos >= s->times[s->pos]) {
			s->pos++;
			s->served_at_pos = 0;
		}
	}
	s->used++;
	fake_request_key(req, key, sizeof(key));
	if (out->body && strstr(out->body, "{{key}}")) {
		out->body = fake_expand_key(a, out->body, key);
		out->body_len = 0;
	}
	if (out->headers && strstr(out->headers, "{{key}}"))
		out->headers = fake_expand_key(a, out->headers, key);
	return 1;
}

void fake_script_clear(fake_script *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- requests ------------------------------------------------------------------------------------------------------ */

const char *fake_request_key(const lv_fake_request *req, char *buf, size_t cap)
{
	char v[512];
	buf[0] = '\0';
	if (lv_fake_header(req, "x-api-key", v, sizeof(v)) || lv_fake_header(req, "x-goog-api-key", v, sizeof(v)))
		snprintf(buf, cap, "%s", v);
	else if (lv_fake_header(req, "authorization", v, sizeof(v)) && !strncasecmp(v, "Bearer ", 7))
		snprintf(buf, cap, "%s", v + 7);
	else if (lv_fake_header(req, "authorization", v, sizeof(v)) && !strncmp(v, "Key ", 4))
		snprintf(buf, cap, "%s", v + 4);
	return buf;
}

int fake_key_ok(const char *expected, const lv_fake_request *req)
{
	char key[512];
	if (!expected || !*expected)
		return 1;
	return !strcmp(fake_request_key(req, key, sizeof(key)), expected);
}

const char *fake_expand_key(fake_arena *a, const char *text, const char *key)
{
	lv_buf b = LV_BUF_INIT;
	const char *p = text, *hit;
	while ((hit = strstr(p, "{{key}}")) != NULL) {
		lv_buf_put(&b, p, (size_t)(hit - p));
		lv_buf_puts(&b, key);
		p = hit + 7;
	}
	lv_buf_puts(&b, p);
	return fake_keep(a, lv_buf_detach(&b));
}

int fake_mp_field(const lv_fake_request *req, const char *name, char *buf, size_t cap)
{
	char pat[96];
	const char *p, *v, *end;
	snprintf(pat, sizeof(pat), "name=\"%s\"", name);
	if (!(p = strstr(req->body, pat)) || !(v = strstr(p, "\r\n\r\n")))
		return 0;
	v += 4;
	if (!(end = strstr(v, "\r\n--")))
		return 0;
	snprintf(buf, cap, "%.*s", (int)(end - v), v);
	return 1;
}

cJSON *fake_sent_json(lv_fake *f, const char *method, const char *path, size_t nth, lv_fake_request **out)
{
	size_t i, seen = 0, total = lv_fake_requests(f);
	for (i = 0; i < total; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		if (r && !strcmp(r->method, method) && !strcmp(r->path, path) && seen++ == nth) {
			cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
			ck_assert_msg(j != NULL, "request %zu to %s %s is not JSON", nth, method, path);
			if (out)
				*out = r;
			else
				lv_fake_request_free(r);
			return j;
		}
		lv_fake_request_free(r);
	}
	ck_abort_msg("no request %zu to %s %s", nth, method, path);
	return NULL;
}

/* ---- storyboards ----------------------------------------------------------------------------------------------------- */

char *fake_storyboard(size_t n, const int *secs, unsigned cast)
{
	lv_buf b = LV_BUF_INIT;
	size_t i;
	lv_buf_puts(&b, "{\"title\":\"The Keeper\",\"language\":\"en\",\"style\":\"soft watercolor, warm dusk light\","
	                "\"mood\":\"calm\",\"characters\":[{\"id\":\"c1\",\"name\":\"Ada\",\"description\":\"an old "
	                "keeper with a grey beard and a yellow raincoat\"}],\"shots\":[");
	for (i = 0; i < n; i++) {
		int ada = i < 32 && (cast >> i & 1u);
		lv_buf_printf(&b,
		              "%s{\"index\":%zu,\"duration\":%d,\"camera\":\"wide shot, slow push-in\",\"visual\":\"%s\","
		              "\"characters\":[%s],\"narration\":\"%s\"}",
		              i ? "," : "", i, secs[i],
		              ada ? "Ada climbs the lighthouse stairs as waves break below"
		                  : "Waves break on the empty rocks below the lighthouse",
		              ada ? "\"c1\"" : "", ada ? "Ada keeps the light." : "The sea keeps its own time.");
	}
	lv_buf_puts(&b, "]}");
	return lv_buf_detach(&b);
}

size_t fake_plan(const char *prompt, int *secs, size_t max)
{
	size_t n = 0;
	const char *p = prompt;
	while (p && n < max && (p = strstr(p, "- shot ")) != NULL) {
		int idx, d;
		if (sscanf(p, "- shot %d: duration %d s", &idx, &d) == 2 && idx == (int)n)
			secs[n++] = d;
		p += 7;
	}
	return n;
}

const char *fake_user_text(const cJSON *body)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(body, "messages"))
	{
		const char *role = lv_json_get_str(m, "role");
		if (role && !strcmp(role, "user"))
			return lv_json_get_str(m, "content");
	}
	return "";
}

/* ---- media ------------------------------------------------------------------------------------------------------------ */

int fake_clip(char *out, size_t cap, const char *dir, int w, int h, int seconds)
{
	snprintf(out, cap, "%s/clip_%dx%d_%d.mp4", dir, w, h, seconds);
	if (!lv_path_exists(out)) {
		char *cmd = lv_asprintf("ffmpeg -v error -y -f lavfi -i testsrc=size=%dx%d:rate=24 -f lavfi -i "
		                        "sine=frequency=440:sample_rate=48000 -t %d -pix_fmt yuv420p -c:v libx264 -preset "
		                        "ultrafast -c:a aac -shortest %s.tmp.mp4 && mv %s.tmp.mp4 %s",
		                        w, h, seconds, out, out, out);
		int rc = cmd ? system(cmd) : -1;
		free(cmd);
		if (rc != 0)
			return -1;
	}
	return 0;
}
