/*
 * The `openai-images` anchor provider: character reference images and the style frame from
 * OpenAI's image generation endpoint (or a server that speaks it).
 *
 *   POST {base_url}/v1/images/generations
 *     {"model", "prompt", "n": 1, "size",
 *      GPT image models ("gpt-image-*"): "output_format": "png" (they always answer in base64);
 *      others (dall-e-2, dall-e-3, compatible servers): "response_format": "b64_json";
 *      optional "quality", "style" (dall-e-3), "moderation" (GPT image models)}
 *   -> {"created", "data": [{"b64_json", "revised_prompt"?}], ...}
 *
 * The image is decoded from base64 and written as PNG (JPEG or WebP answers are converted); a URL
 * instead of base64 is downloaded without credentials.  Safety refusals (error.code
 * content_policy_violation or moderation_blocked) become anchor_failed with the categories named.
 */
#include "providers/clip.h"
#include "providers/openai_media.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lv_provider_openai_images_create(lv_provider *p, const lv_provider_conf *conf);

#define DEFAULT_CHARACTER_PROMPT                                                                       \
	"Character reference sheet for a film. {{name}}: {{description}}. Film style: {{style}}. One person " \
	"(or creature), full figure, facing the viewer, plain neutral background, even light, no text, no logo."
#define DEFAULT_STYLE_PROMPT                                                                            \
	"Style frame for a film titled \"{{name}}\". {{style}}. A wide establishing shot that sets the palette, " \
	"light and mood; no text, no logo."

typedef struct images {
	lv_oai oai;
	char *model, *size, *quality, *style, *moderation;
	char *character_prompt, *style_prompt;
} images;

/* The template with {{name}}, {{description}} and {{style}} filled in. */
static char *fill(const char *tpl, const lv_anchor_request *req)
{
	lv_buf b = LV_BUF_INIT;
	const char *p = tpl, *s;
	while ((s = strstr(p, "{{")) != NULL) {
		const char *e = strstr(s, "}}"), *v = NULL;
		size_t n;
		if (!e)
			break;
		n = (size_t)(e - s - 2);
		lv_buf_put(&b, p, (size_t)(s - p));
		if (n == 4 && !strncmp(s + 2, "name", 4))
			v = req->name ? req->name : req->id;
		else if (n == 11 && !strncmp(s + 2, "description", 11))
			v = req->description;
		else if (n == 5 && !strncmp(s + 2, "style", 5))
			v = req->style;
		lv_buf_puts(&b, v ? v : "");
		p = e + 2;
	}
	lv_buf_puts(&b, p);
	return lv_buf_detach(&b);
}

/* The size to ask for: the closest shape the model makes. */
static const char *pick_size(const images *im, int w, int h)
{
	int wide = w * 10 > h * 12, tall = h * 10 > w * 12;
	if (im->size)
		return im->size;
	if (lv_oai_model_is(im->model, "gpt-image"))
		return wide ? "1536x1024" : tall ? "1024x1536" : "1024x1024";
	if (lv_oai_model_is(im->model, "dall-e-3"))
		return wide ? "1792x1024" : tall ? "1024x1792" : "1024x1024";
	if (lv_oai_model_is(im->model, "dall-e-2"))
		return w <= 512 && h <= 512 ? "512x512" : "1024x1024";
	return "1024x1024";
}

static char *request_body(const images *im, const lv_anchor_request *req, char **prompt_out)
{
	cJSON *b = cJSON_CreateObject();
	char *prompt = fill(req->is_style_frame ? im->style_prompt : im->character_prompt, req), *text = NULL;
	int gpt = lv_oai_model_is(im->model, "gpt-image");
	*prompt_out = NULL;
	if (b && prompt && cJSON_AddStringToObject(b, "model", im->model) && cJSON_AddStringToObject(b, "prompt", prompt) &&
	    cJSON_AddNumberToObject(b, "n", 1) &&
	    cJSON_AddStringToObject(b, "size", pick_size(im, req->width, req->height)) &&
	    (gpt ? cJSON_AddStringToObject(b, "output_format", "png") != NULL
	         : cJSON_AddStringToObject(b, "response_format", "b64_json") != NULL) &&
	    (!im->quality || cJSON_AddStringToObject(b, "quality", im->quality)) &&
	    (!im->style || cJSON_AddStringToObject(b, "style", im->style)) &&
	    (!im->moderation || cJSON_AddStringToObject(b, "moderation", im->moderation)))
		text = lv_json_print(b);
	cJSON_Delete(b);
	*prompt_out = prompt;
	return text;
}

static int write_image(const images *im, const lv_call_ctx *ctx, const cJSON *item, const lv_anchor_request *req,
                       lv_provider_error *err)
{
	const char *b64 = lv_json_get_str(item, "b64_json"), *url = lv_json_get_str(item, "url");
	unsigned char *bytes = NULL;
	long n = 0;
	char *tmp = NULL;
	int rc, w = 0, h = 0;
	lv_http_response resp;
	memset(&resp, 0, sizeof(resp));
	if (b64 && *b64) {
		size_t len = strlen(b64);
		if (!(bytes = lv_malloc(len / 4 * 3 + 3)))
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		n = lv_base64_decode(bytes, b64, len);
	} else if (url && (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7))) {
		if ((rc = lv_oai_get_url(&im->oai, ctx, url, "anchor_failed", &resp, err)))
			return rc;
		if (resp.status != 200) {
			lv_http_response_free(&resp);
			return lv_provider_fail(err, "anchor_failed", 1,
			                        "provider '%s': the image's URL answered HTTP %ld; try again", im->oai.conf->name,
			                        resp.status);
		}
		bytes = (unsigned char *)resp.body;
		n = (long)resp.body_len;
		resp.body = NULL;
		lv_http_response_free(&resp);
	} else {
		return lv_provider_fail(err, "anchor_failed", 1,
		                        "provider '%s': the answer has no image (data[0].b64_json); is base_url an OpenAI "
		                        "images endpoint?",
		                        im->oai.conf->name);
	}
	if (n <= 0 || lv_clip_sniff(bytes, (size_t)n) == LV_CLIP_UNKNOWN) {
		free(bytes);
		return lv_provider_fail(err, "anchor_failed", 1,
		                        "provider '%s': the image data is not valid base64 PNG, JPEG or WebP",
		                        im->oai.conf->name);
	}
	tmp = lv_asprintf("%s.download", req->out_png);
	rc = tmp ? lv_file_write_atomic(tmp, bytes, (size_t)n, 0600) : LV_ENOMEM;
	free(bytes);
	if (rc == LV_OK)
		rc = lv_clip_image_to_png(tmp, req->out_png, &w, &h);
	if (tmp)
		unlink(tmp);
	free(tmp);
	if (rc)
		return lv_provider_fail(err, "anchor_failed", 0, "provider '%s': the image cannot be used: %s",
		                        im->oai.conf->name, lv_error_last()->message);
	LV_DEBUG("provider '%s': anchor %s is %dx%d", im->oai.conf->name, req->id, w, h);
	return LV_OK;
}

static int images_render(void *self, const lv_call_ctx *ctx, const lv_anchor_request *req, lv_provider_error *err)
{
	images *im = self;
	char *prompt = NULL, *body = request_body(im, req, &prompt), doing[160];
	lv_http_response resp;
	cJSON *j = NULL;
	const cJSON *item;
	int rc;
	free(prompt);
	if (!body)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	if (req->is_style_frame)
		snprintf(doing, sizeof(doing), "drawing the film's style frame");
	else
		snprintf(doing, sizeof(doing), "drawing the character '%.60s'", req->name ? req->name : req->id);
	rc = lv_oai_post(&im->oai, ctx, "/v1/images/generations", body, "anchor_failed", doing, &resp, err);
	free(body);
	if (rc)
		return rc;
	j = lv_json_parse_n(resp.body, resp.body_len);
	lv_http_response_free(&resp);
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "data"), 0);
	if (!cJSON_IsObject(item)) {
		cJSON_Delete(j);
		return lv_provider_fail(err, "anchor_failed", 1,
		                        "provider '%s': the answer to %s is not the documented JSON (no data[0]); check "
		                        "base_url",
		                        im->oai.conf->name, doing);
	}
	rc = write_image(im, ctx, item, req, err);
	cJSON_Delete(j);
	return rc;
}

static const lv_anchor_ops anchor_ops = { LV_PROVIDER_ABI_VERSION, images_render };

static void images_destroy(void *self)
{
	images *im = self;
	if (!im)
		return;
	lv_oai_clear(&im->oai);
	free(im->model);
	free(im->size);
	free(im->quality);
	free(im->style);
	free(im->moderation);
	free(im->character_prompt);
	free(im->style_prompt);
	free(im);
}

static int str_key(char **out, const lv_provider_conf *conf, const char *key, const char *def,
                   const char *const *allowed)
{
	const char *v;
	const char *const *a;
	*out = NULL;
	if (lv_provider_conf_str(&v, conf, key, def))
		return LV_ECONFIG;
	if (!v)
		return LV_OK;
	for (a = allowed; a && *a; a++) /* keys with a list of values have no default */
		if (!strcmp(*a, v))
			break;
	if (allowed && !*a)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: '%s' is not one of the documented values",
		                    conf->name, key, v);
	return (*out = lv_strdup(v)) ? LV_OK : LV_ENOMEM;
}

int lv_provider_openai_images_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",      "size",          "quality",      "style",   "moderation",
		                            "character_prompt", "style_prompt", "organization", "project", NULL };
	static const char *const sizes[] = { "auto",      "256x256",   "512x512",   "1024x1024",
		                             "1536x1024", "1024x1536", "1792x1024", "1024x1792", NULL };
	static const char *const qualities[] = { "auto", "low", "medium", "high", "standard", "hd", NULL };
	static const char *const styles[] = { "vivid", "natural", NULL };
	static const char *const moderations[] = { "auto", "low", NULL };
	images *im;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!(im = lv_calloc(1, sizeof(*im))))
		return LV_ENOMEM;
	if (lv_oai_init(&im->oai, conf) || str_key(&im->model, conf, "model", "gpt-image-1", NULL) ||
	    str_key(&im->size, conf, "size", NULL, sizes) || str_key(&im->quality, conf, "quality", NULL, qualities) ||
	    str_key(&im->style, conf, "style", NULL, styles) ||
	    str_key(&im->moderation, conf, "moderation", NULL, moderations) ||
	    str_key(&im->character_prompt, conf, "character_prompt", DEFAULT_CHARACTER_PROMPT, NULL) ||
	    str_key(&im->style_prompt, conf, "style_prompt", DEFAULT_STYLE_PROMPT, NULL)) {
		int rc = lv_error_last()->status ? lv_error_last()->status : LV_ECONFIG;
		images_destroy(im);
		return rc;
	}
	if (im->style && !lv_oai_model_is(im->model, "dall-e-3")) {
		images_destroy(im);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.style: only dall-e-3 takes a style", conf->name);
	}
	if (im->moderation && !lv_oai_model_is(im->model, "gpt-image")) {
		images_destroy(im);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.moderation: only the gpt-image models take it",
		                    conf->name);
	}
	p->self = im;
	p->anchor = &anchor_ops;
	p->destroy = images_destroy;
	return LV_OK;
}
