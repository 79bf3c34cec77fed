#include "core/request.h"
#include "plan/plan.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_space_cp(unsigned cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0xa0 ||
	       cp == 0x3000 || cp == 0xfeff || (cp >= 0x2000 && cp <= 0x200b);
}

/* Trim Unicode whitespace at both ends (input already validated as UTF-8). */
static char *utf8_trim(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *start = NULL, *end = NULL;
	size_t n = strlen(s);
	while (n > 0) {
		unsigned cp;
		size_t l = lv_utf8_next(p, n, &cp);
		if (l == 0)
			break;
		if (!is_space_cp(cp)) {
			if (!start)
				start = p;
			end = p + l;
		}
		p += l;
		n -= l;
	}
	if (!start)
		return lv_strdup("");
	return lv_strndup((const char *)start, (size_t)(end - start));
}

int lv_idempotency_key_check(const char *key)
{
	size_t n = key ? strlen(key) : 0, i;
	if (n < 1 || n > LV_IDEMPOTENCY_KEY_MAX)
		return lv_error_set(LV_EINVALID, "Idempotency-Key: must be 1 to %d printable ASCII characters",
		                    LV_IDEMPOTENCY_KEY_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return lv_error_set(LV_EINVALID, "Idempotency-Key: must be 1 to %d printable ASCII characters",
			                    LV_IDEMPOTENCY_KEY_MAX);
	return LV_OK;
}

/* ---- fields ------------------------------------------------------------------------ */

static const char *const known_fields[] = { "prompt", "duration", "resolution", "aspect_ratio", "provider",
	                                    "language", "narration", "music", "subtitles", "webhook_url",
	                                    "metadata", "review", "characters", NULL };

static int check_fields(const cJSON *body)
{
	const cJSON *it, *other;
	cJSON_ArrayForEach(it, body)
	{
		const char *const *f;
		for (f = known_fields; *f; f++)
			if (!strcmp(*f, it->string))
				break;
		if (!*f)
			return lv_error_set(LV_EINVALID, "%s: unknown field", it->string);
		for (other = body->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_EINVALID, "%s: given more than once", it->string);
	}
	return LV_OK;
}

/* A member, or NULL when absent or JSON null (null means "use the default"). */
static const cJSON *field(const cJSON *body, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

static int get_choice(char *dst, size_t cap, const cJSON *body, const char *name, const char *def,
                      const char *const *choices, const char *message)
{
	const cJSON *v = field(body, name);
	const char *const *c;
	if (!v) {
		lv_strlcpy(dst, def, cap);
		return LV_OK;
	}
	if (cJSON_IsString(v))
		for (c = choices; *c; c++)
			if (!strcmp(*c, v->valuestring)) {
				lv_strlcpy(dst, *c, cap);
				return LV_OK;
			}
	return lv_error_set(LV_EINVALID, "%s: %s", name, message);
}

static int get_bool(int *dst, const cJSON *body, const char *name)
{
	const cJSON *v = field(body, name);
	*dst = 1;
	if (!v)
		return LV_OK;
	if (!cJSON_IsBool(v))
		return lv_error_set(LV_EINVALID, "%s: must be true or false", name);
	*dst = cJSON_IsTrue(v);
	return LV_OK;
}

static int check_prompt(lv_req *r, const cJSON *body)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "prompt");
	long chars;
	if (!v || cJSON_IsNull(v))
		return lv_error_set(LV_EINVALID, "prompt: is required");
	if (!cJSON_IsString(v))
		return lv_error_set(LV_EINVALID, "prompt: must be a string");
	if (lv_utf8_length(v->valuestring, strlen(v->valuestring)) < 0)
		return lv_error_set(LV_EINVALID, "prompt: must be valid UTF-8 without NUL characters");
	if (!(r->prompt = utf8_trim(v->valuestring)))
		return LV_ENOMEM;
	chars = lv_utf8_length(r->prompt, strlen(r->prompt));
	if (chars < 1 || chars > LV_PROMPT_MAX_CHARS)
		return lv_error_set(LV_EINVALID, "prompt: must be 1 to %d characters after trimming (got %ld)",
		                    LV_PROMPT_MAX_CHARS, chars);
	return LV_OK;
}

static int check_duration(lv_req *r, const cJSON *body)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "duration");
	if (!v || cJSON_IsNull(v))
		return lv_error_set(LV_EINVALID, "duration: is required (seconds, an integer from 3 to 180)");
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 3 ||
	    v->valuedouble > 180)
		return lv_error_set(LV_EINVALID, "duration: must be an integer from 3 to 180");
	r->duration = (int)v->valuedouble;
	return LV_OK;
}

static int check_language(lv_req *r, const cJSON *body)
{
	const cJSON *v = field(body, "language");
	const char *s;
	size_t i, primary = 0, seg = 0;
	if (!v) {
		lv_strlcpy(r->language, lv_language_detect(r->prompt), sizeof(r->language));
		return LV_OK;
	}
	if (!cJSON_IsString(v))
		goto bad;
	s = v->valuestring;
	/* BCP-47: a 2-3 letter primary subtag, then optional subtags of 1-8 alphanumerics. */
	for (i = 0; s[i] && s[i] != '-'; i++)
		if (!isalpha((unsigned char)s[i]))
			goto bad;
	primary = i;
	if (primary < 2 || primary > 3)
		goto bad;
	while (s[i] == '-') {
		for (i++, seg = 0; s[i] && s[i] != '-'; i++, seg++)
			if (!isalnum((unsigned char)s[i]))
				goto bad;
		if (seg < 1 || seg > 8)
			goto bad;
	}
	if (s[i] != '\0' || strlen(s) > 35)
		goto bad;
	for (i = 0; i < primary; i++)
		r->language[i] = (char)tolower((unsigned char)s[i]);
	r->language[primary] = '\0';
	return LV_OK;
bad:
	return lv_error_set(LV_EINVALID, "language: must be a BCP-47 language tag such as \"zh\" or \"en\"");
}

static int check_webhook_url(lv_req *r, const cJSON *body)
{
	const cJSON *v = field(body, "webhook_url");
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int ok;
	if (!v)
		return LV_OK;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > LV_WEBHOOK_URL_MAX || !v->valuestring[0])
		goto bad;
	if (!(u = curl_url()))
		return lv_error_nomem();
	ok = curl_url_set(u, CURLUPART_URL, v->valuestring, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
	     (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	/* curl accepts scheme-less input with a guessed scheme only when asked; require it literally. */
	if (!ok || (strncmp(v->valuestring, "http://", 7) != 0 && strncmp(v->valuestring, "https://", 8) != 0))
		goto bad;
	return (r->webhook_url = lv_strdup(v->valuestring)) ? LV_OK : LV_ENOMEM;
bad:
	return lv_error_set(LV_EINVALID, "webhook_url: must be an absolute http or https URL of at most %d characters",
	                    LV_WEBHOOK_URL_MAX);
}

static int cmp_members(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

static int check_metadata(lv_req *r, const cJSON *body)
{
	const cJSON *v = field(body, "metadata"), *it, *other;
	const cJSON *members[LV_METADATA_MAX_KEYS];
	cJSON *canon;
	size_t n = 0, i;
	if (!v)
		return (r->metadata = lv_strdup("{}")) ? LV_OK : LV_ENOMEM;
	if (!cJSON_IsObject(v))
		return lv_error_set(LV_EINVALID, "metadata: must be an object of string values");
	cJSON_ArrayForEach(it, v)
	{
		long klen = lv_utf8_length(it->string, strlen(it->string));
		if (n == LV_METADATA_MAX_KEYS)
			return lv_error_set(LV_EINVALID, "metadata: at most %d keys", LV_METADATA_MAX_KEYS);
		if (klen < 1 || klen > LV_METADATA_KEY_MAX)
			return lv_error_set(LV_EINVALID, "metadata: keys must be 1 to %d characters",
			                    LV_METADATA_KEY_MAX);
		for (other = v->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_EINVALID, "metadata.%s: given more than once", it->string);
		if (!cJSON_IsString(it) ||
		    lv_utf8_length(it->valuestring, strlen(it->valuestring)) > LV_METADATA_VALUE_MAX ||
		    lv_utf8_length(it->valuestring, strlen(it->valuestring)) < 0)
			return lv_error_set(LV_EINVALID, "metadata.%s: must be a string of at most %d characters",
			                    it->string, LV_METADATA_VALUE_MAX);
		members[n++] = it;
	}
	qsort(members, n, sizeof(members[0]), cmp_members);
	if (!(canon = cJSON_CreateObject()))
		return lv_error_nomem();
	for (i = 0; i < n; i++)
		if (!cJSON_AddStringToObject(canon, members[i]->string, members[i]->valuestring)) {
			cJSON_Delete(canon);
			return lv_error_nomem();
		}
	r->metadata = lv_json_print(canon);
	cJSON_Delete(canon);
	return r->metadata ? LV_OK : LV_ENOMEM;
}

/* "characters": at most 9 of {"name", "description"?, "image"}; the images are checked (and fetched)
 * when the task is created. */
static int check_characters(lv_req *r, const cJSON *body)
{
	const cJSON *v = field(body, "characters"), *c, *it;
	cJSON *canon;
	int i = 0;
	if (!v)
		return LV_OK;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > LV_CHARACTERS_MAX)
		return lv_error_set(LV_EINVALID, "characters: must be a list of at most %d {\"name\", \"description\", "
		                                 "\"image\"}", LV_CHARACTERS_MAX);
	cJSON_ArrayForEach(c, v)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name"), *prev;
		const cJSON *desc = cJSON_GetObjectItemCaseSensitive(c, "description");
		const cJSON *image = cJSON_GetObjectItemCaseSensitive(c, "image");
		long chars;
		if (!cJSON_IsObject(c))
			return lv_error_set(LV_EINVALID, "characters[%d]: must be an object {\"name\", \"description\", "
			                                 "\"image\"}", i);
		cJSON_ArrayForEach(it, c)
		{
			const cJSON *other;
			if (strcmp(it->string, "name") && strcmp(it->string, "description") && strcmp(it->string, "image"))
				return lv_error_set(LV_EINVALID, "characters[%d].%s: unknown field (allowed: name, description, "
				                                 "image)", i, it->string);
			for (other = c->child; other != it; other = other->next)
				if (!strcmp(other->string, it->string))
					return lv_error_set(LV_EINVALID, "characters[%d].%s: given more than once", i, it->string);
		}
		chars = cJSON_IsString(name) ? lv_utf8_length(name->valuestring, strlen(name->valuestring)) : -1;
		if (chars < 1 || chars > LV_CHARACTER_NAME_MAX)
			return lv_error_set(LV_EINVALID, "characters[%d].name: must be a string of 1 to %d characters", i,
			                    LV_CHARACTER_NAME_MAX);
		for (prev = v->child; prev != c; prev = prev->next)
			if (!strcmp(lv_json_get_str(prev, "name"), name->valuestring))
				return lv_error_set(LV_EINVALID, "characters[%d].name: '%s' is given more than once (names are "
				                                 "unique)", i, name->valuestring);
		chars = cJSON_IsString(desc) ? lv_utf8_length(desc->valuestring, strlen(desc->valuestring)) : 0;
		if ((desc && !cJSON_IsNull(desc) && !cJSON_IsString(desc)) || chars < 0 ||
		    chars > LV_CHARACTER_DESCRIPTION_MAX)
			return lv_error_set(LV_EINVALID, "characters[%d].description: must be a string of at most %d "
			                                 "characters", i, LV_CHARACTER_DESCRIPTION_MAX);
		if (!cJSON_IsString(image) ||
		    (strncmp(image->valuestring, "https://", 8) && strncmp(image->valuestring, "http://", 7) &&
		     strncmp(image->valuestring, "data:", 5)))
			return lv_error_set(LV_EINVALID, "characters[%d].image: required, an https URL or a "
			                                 "data:image/png|jpeg|webp;base64,... URL", i);
		i++;
	}
	/* Canonical: every character with the three fields, in the given order. */
	if (!(canon = cJSON_CreateArray()))
		return LV_ENOMEM;
	cJSON_ArrayForEach(c, v)
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(canon, o);
		cJSON_AddStringToObject(o, "name", lv_json_get_str(c, "name"));
		cJSON_AddStringToObject(o, "description", lv_json_get_str(c, "description") ? lv_json_get_str(c, "description")
		                                                                            : "");
		cJSON_AddStringToObject(o, "image", lv_json_get_str(c, "image"));
	}
	r->characters = lv_json_print(canon);
	cJSON_Delete(canon);
	return r->characters ? LV_OK : LV_ENOMEM;
}

static const char *const resolutions[] = { "720p", "1080p", NULL };
static const char *const aspects[] = { "16:9", "9:16", "1:1", NULL };
static const char *const subtitle_modes[] = { "soft", "burn", "none", NULL };

int lv_req_from_json(lv_req *r, lv_engine *e, const cJSON *body)
{
	const lv_provider_conf *pc;
	const cJSON *pv;
	char subs[8];
	int res, aspect, rc;
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(body))
		return lv_error_set(LV_EINVALID, "body: must be a JSON object");
	if ((rc = check_fields(body)) || (rc = check_prompt(r, body)) || (rc = check_duration(r, body)) ||
	    (rc = get_choice(r->resolution, sizeof(r->resolution), body, "resolution", "720p", resolutions,
	                     "must be \"720p\" or \"1080p\"")) ||
	    (rc = get_choice(r->aspect_ratio, sizeof(r->aspect_ratio), body, "aspect_ratio", "16:9", aspects,
	                     "must be \"16:9\", \"9:16\" or \"1:1\"")))
		goto fail;
	pv = field(body, "provider");
	if (pv && (!cJSON_IsString(pv) || !pv->valuestring[0])) {
		rc = lv_error_set(LV_EINVALID, "provider: must be the name of a configured video provider");
		goto fail;
	}
	if (!(r->provider = lv_strdup(pv ? pv->valuestring : e->cfg->default_video_provider))) {
		rc = LV_ENOMEM;
		goto fail;
	}
	if (!(pc = lv_engine_video_provider(e, r->provider))) {
		rc = LV_EINVALID;
		goto fail;
	}
	res = lv_resolution_index(r->resolution);
	aspect = lv_aspect_index(r->aspect_ratio);
	if (!(pc->video.resolutions & (1u << res))) {
		rc = lv_error_set(LV_EINVALID, "resolution: provider '%s' does not support %s", r->provider,
		                  r->resolution);
		goto fail;
	}
	if (!(pc->video.aspects & (1u << aspect))) {
		rc = lv_error_set(LV_EINVALID, "aspect_ratio: provider '%s' does not support %s", r->provider,
		                  r->aspect_ratio);
		goto fail;
	}
	if ((rc = check_language(r, body)) || (rc = get_bool(&r->narration, body, "narration")) ||
	    (rc = get_bool(&r->music, body, "music")) ||
	    (rc = get_choice(subs, sizeof(subs), body, "subtitles", "soft", subtitle_modes,
	                     "must be \"soft\", \"burn\" or \"none\"")) ||
	    (rc = check_webhook_url(r, body)) || (rc = check_metadata(r, body)) ||
	    (rc = get_bool(&r->review, body, "review")) || (rc = check_characters(r, body)))
		goto fail;
	if (!field(body, "review"))
		r->review = 0; /* off unless asked for */
	r->subtitles = lv_subtitles_parse(subs);
	return LV_OK;
fail:
	lv_req_clear(r);
	return rc;
}

int lv_req_from_struct(lv_req *out, lv_engine *e, const lv_task_request *q)
{
	cJSON *b, *meta = NULL;
	int ok, rc;
	memset(out, 0, sizeof(*out));
	if (!q)
		return lv_error_set(LV_EINVALID, "request: is NULL");
	b = cJSON_CreateObject();
	ok = b != NULL;
	if (q->version != LV_TASK_REQUEST_VERSION) {
		cJSON_Delete(b);
		return lv_error_set(LV_EINVALID, "request: unsupported version %u", q->version);
	}
	if (ok && q->prompt)
		ok = cJSON_AddStringToObject(b, "prompt", q->prompt) != NULL;
	if (ok && q->duration != 0)
		ok = cJSON_AddNumberToObject(b, "duration", q->duration) != NULL;
#define ADD_STR(name)                                                        \
	if (ok && q->name)                                                   \
		ok = cJSON_AddStringToObject(b, #name, q->name) != NULL;
	ADD_STR(resolution)
	ADD_STR(aspect_ratio)
	ADD_STR(provider)
	ADD_STR(language)
	ADD_STR(subtitles)
	ADD_STR(webhook_url)
#undef ADD_STR
	if (ok && q->narration >= 0)
		ok = cJSON_AddBoolToObject(b, "narration", q->narration != 0) != NULL;
	if (ok && q->music >= 0)
		ok = cJSON_AddBoolToObject(b, "music", q->music != 0) != NULL;
	if (ok && q->review > 0)
		ok = cJSON_AddBoolToObject(b, "review", 1) != NULL;
	if (ok && q->characters_json) {
		cJSON *chars = NULL;
		if (lv_json_parse(&chars, q->characters_json, strlen(q->characters_json), "characters")) {
			cJSON_Delete(b);
			return LV_EINVALID;
		}
		cJSON_AddItemToObject(b, "characters", chars);
	}
	if (!ok) {
		cJSON_Delete(b);
		return lv_error_nomem();
	}
	if (q->metadata_json) {
		if (lv_json_parse(&meta, q->metadata_json, strlen(q->metadata_json), "metadata")) {
			cJSON_Delete(b);
			return LV_EINVALID;
		}
		cJSON_AddItemToObject(b, "metadata", meta);
	}
	rc = lv_req_from_json(out, e, b);
	cJSON_Delete(b);
	return rc;
}

int lv_req_hash(const lv_req *r, char out[65])
{
	lv_buf b = LV_BUF_INIT;
	/* Length-prefixed fields: no two different requests serialise the same way. */
#define FIELD(s) lv_buf_printf(&b, "%zu:%s|", strlen(s), s)
	if (FIELD(r->prompt) || lv_buf_printf(&b, "%d|", r->duration) || FIELD(r->resolution) ||
	    FIELD(r->aspect_ratio) || FIELD(r->provider) || FIELD(r->language) ||
	    lv_buf_printf(&b, "%d|%d|%d|", r->narration, r->music, r->subtitles) ||
	    FIELD(r->webhook_url ? r->webhook_url : "") || FIELD(r->metadata) ||
	    (r->review && lv_buf_puts(&b, "review|")) || (r->characters && FIELD(r->characters))) {
		lv_buf_free(&b);
		return LV_ENOMEM;
	}
#undef FIELD
	lv_sha256_hex(out, b.data, b.len);
	lv_buf_free(&b);
	return LV_OK;
}

void lv_req_clear(lv_req *r)
{
	if (!r)
		return;
	free(r->prompt);
	free(r->provider);
	free(r->webhook_url);
	free(r->metadata);
	free(r->characters);
	memset(r, 0, sizeof(*r));
}
