/*
 * The public provider calls (include/longvideo/provider.h) over the internal instances: a handle is a
 * box whose first member is the internal lv_provider, so that `struct lv_provider *` is both the public
 * opaque handle and the instance the pipeline uses.
 */
#include "longvideo/provider.h"

#include "config/config.h"
#include "model/storyboard.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_MAX_BYTES (1024 * 1024) /* a job string is the request and the vendor's small state */
#define MAX_REFERENCES 16

typedef struct box {
	lv_provider p;       /* first: the handle points here */
	lv_config *cfg;      /* owned (lv_provider_open) or NULL (borrowed from an engine) */
	char *work_dir;
	const volatile int *cancel;
} box;

static box *unbox(lv_provider *p)
{
	return (box *)(void *)p;
}

static int box_new(box **out, const lv_provider_options *opts)
{
	const char *dir = opts && opts->work_dir ? opts->work_dir : getenv("TMPDIR");
	box *b = lv_calloc(1, sizeof(*b));
	*out = NULL;
	if (!b)
		return LV_ENOMEM;
	if (!(b->work_dir = lv_strdup(dir && *dir ? dir : "/tmp"))) {
		free(b);
		return LV_ENOMEM;
	}
	b->cancel = opts ? opts->cancel : NULL;
	*out = b;
	return LV_OK;
}

static int check_options(const lv_provider_options *opts, const char *fn)
{
	if (opts && opts->version != LV_PROVIDER_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "%s: unsupported options version %u", fn, opts->version);
	return LV_OK;
}

int lv_provider_open(lv_provider **out, const char *config_json, const lv_provider_options *opts)
{
	const char *name = opts && opts->name && *opts->name ? opts->name : "provider";
	lv_config_overrides ov;
	cJSON *block = NULL, *root = NULL, *provs;
	char *text = NULL;
	box *b = NULL;
	int rc;

	if (!out)
		return lv_error_set(LV_EINVALID, "lv_provider_open: out is NULL");
	*out = NULL;
	if ((rc = check_options(opts, "lv_provider_open")))
		return rc;
	if (!config_json)
		return lv_error_set(LV_EINVALID, "lv_provider_open: config_json is NULL");
	if (lv_json_parse(&block, config_json, strlen(config_json), "provider config"))
		return lv_error_set(LV_ECONFIG, "config: providers.%s: %s", name, lv_error_last()->message);
	if (!cJSON_IsObject(block)) {
		cJSON_Delete(block);
		return lv_error_set(LV_ECONFIG, "config: providers.%s: must be an object like {\"type\": \"local\"}", name);
	}
	/* The block is checked exactly as in a config file: wrap it in one. */
	if (!(root = cJSON_CreateObject()) || !(provs = cJSON_AddObjectToObject(root, "providers"))) {
		cJSON_Delete(block);
		cJSON_Delete(root);
		return lv_error_nomem();
	}
	cJSON_AddItemToObject(provs, name, block);
	text = lv_json_print(root);
	cJSON_Delete(root);
	if (!text)
		return lv_error_nomem();
	memset(&ov, 0, sizeof(ov));
	ov.workers = -1;
	ov.types = opts ? opts->types : NULL;
	ov.n_types = opts ? opts->n_types : 0;
	if ((rc = box_new(&b, opts)) == LV_OK && (rc = lv_config_load(&b->cfg, NULL, text, &ov)) == LV_OK)
		rc = lv_provider_build(&b->p, lv_config_provider(b->cfg, name));
	free(text);
	if (rc) {
		if (b) {
			lv_config_free(b->cfg);
			free(b->work_dir);
			free(b);
		}
		return rc;
	}
	*out = &b->p;
	return LV_OK;
}

/* Used by lv_engine_provider(): a handle on an instance the engine owns. */
int lv_provider_borrow(lv_provider **out, const lv_provider *instance, const lv_provider_options *opts)
{
	box *b;
	int rc;
	*out = NULL;
	if ((rc = check_options(opts, "lv_engine_provider")) || (rc = box_new(&b, opts)))
		return rc;
	b->p = *instance;
	b->p.destroy = NULL; /* the engine's */
	*out = &b->p;
	return LV_OK;
}

void lv_provider_close(lv_provider *p)
{
	box *b;
	if (!p)
		return;
	b = unbox(p);
	if (b->p.destroy)
		b->p.destroy(b->p.self);
	lv_config_free(b->cfg);
	free(b->work_dir);
	free(b);
}

const char *lv_provider_name(const lv_provider *p)
{
	return p ? p->name : NULL;
}

const char *lv_provider_type_name(const lv_provider *p)
{
	return p && p->conf ? p->conf->type : NULL;
}

unsigned int lv_provider_stages(const lv_provider *p)
{
	unsigned s = 0;
	if (!p)
		return 0;
	s |= p->script ? LV_PROVIDER_SCRIPT : 0u;
	s |= p->moderation ? LV_PROVIDER_MODERATION : 0u;
	s |= p->anchor ? LV_PROVIDER_REFERENCE_IMAGE : 0u;
	s |= p->video ? LV_PROVIDER_VIDEO : 0u;
	s |= p->speech ? LV_PROVIDER_SPEECH : 0u;
	s |= p->music ? LV_PROVIDER_MUSIC : 0u;
	return s;
}

/* ---- calling -------------------------------------------------------------------------------------------- */

static lv_call_ctx ctx_of(lv_provider *p)
{
	lv_call_ctx c;
	c.cancel = unbox(p)->cancel;
	c.task_id = NULL;
	c.work_dir = unbox(p)->work_dir;
	return c;
}

/* A provider's failure as the last error: its message, and {"code", "retryable"} as details. */
static int failed(lv_provider *p, int rc, const lv_provider_error *err)
{
	char details[128];
	if (rc == LV_ECANCELED || (unbox(p)->cancel && *unbox(p)->cancel))
		return lv_error_set(LV_ECANCELED, "provider '%s': canceled", p->name);
	if (!err->message[0]) /* the call recorded its own error (out of memory, a file it could not write) */
		return lv_error_last()->status ? lv_error_last()->status : rc;
	rc = lv_error_set(!strcmp(err->code, "provider_timeout") ? LV_ETIMEOUT : LV_EPROVIDER, "%s", err->message);
	snprintf(details, sizeof(details), "{\"code\":\"%s\",\"retryable\":%s}", err->code[0] ? err->code : "internal_error",
	         err->retryable ? "true" : "false");
	lv_error_set_details(details);
	return rc;
}

static int need(lv_provider *p, const void *ops, const char *what)
{
	if (!p)
		return lv_error_set(LV_EINVALID, "provider is NULL");
	if (!ops)
		return lv_error_set(LV_EINVALID, "provider '%s' (type %s) does not %s", p->name, lv_provider_type_name(p),
		                    what);
	return LV_OK;
}

static int version_ok(unsigned have, unsigned want, const char *what)
{
	if (have != want)
		return lv_error_set(LV_EINVALID, "%s: unsupported version %u (initialise it with its _INIT macro)", what,
		                    have);
	return LV_OK;
}

int lv_provider_write_storyboard(char **out, lv_provider *p, const lv_storyboard_options *o)
{
	lv_call_ctx ctx;
	lv_script_request req;
	char feedback[512] = "";
	int *split = NULL, attempts, attempt, rc, sum = 0;
	size_t i, n;
	const int *seconds;

	if (!out)
		return lv_error_set(LV_EINVALID, "lv_provider_write_storyboard: out is NULL");
	*out = NULL;
	if ((rc = need(p, p ? p->script : NULL, "write storyboards")) || !o ||
	    (rc = version_ok(o->version, LV_STORYBOARD_OPTIONS_VERSION, "lv_storyboard_options")))
		return rc ? rc : lv_error_set(LV_EINVALID, "lv_provider_write_storyboard: options are NULL");
	if (!o->prompt || !*o->prompt)
		return lv_error_set(LV_EINVALID, "prompt: is required");
	if (o->duration < 3 || o->duration > 180)
		return lv_error_set(LV_EINVALID, "duration: must be an integer from 3 to 180");
	if (o->aspect_ratio && lv_aspect_index(o->aspect_ratio) < 0)
		return lv_error_set(LV_EINVALID, "aspect_ratio: must be \"16:9\", \"9:16\" or \"1:1\"");
	if (o->attempts < 0 || o->attempts > 10)
		return lv_error_set(LV_EINVALID, "attempts: must be from 0 to 10");
	if (o->shot_seconds) {
		if (o->n_shots == 0 || o->n_shots > 180)
			return lv_error_set(LV_EINVALID, "n_shots: must be from 1 to 180 with shot_seconds");
		for (i = 0; i < o->n_shots; i++) {
			if (o->shot_seconds[i] < 1 || o->shot_seconds[i] > 60)
				return lv_error_set(LV_EINVALID, "shot_seconds[%zu]: must be from 1 to 60", i);
			sum += o->shot_seconds[i];
		}
		if (sum != o->duration)
			return lv_error_set(LV_EINVALID, "shot_seconds: add up to %d, not the duration %d", sum, o->duration);
		seconds = o->shot_seconds;
		n = o->n_shots;
	} else {
		/* As the planner splits: shots of at most LV_SEGMENT_MAX_SECONDS differing by at most one second. */
		n = (size_t)((o->duration + LV_SEGMENT_MAX_SECONDS - 1) / LV_SEGMENT_MAX_SECONDS);
		if (!(split = lv_calloc(n, sizeof(int))))
			return LV_ENOMEM;
		for (i = 0; i < n; i++)
			split[i] = o->duration / (int)n + ((int)i < o->duration % (int)n ? 1 : 0);
		seconds = split;
	}
	memset(&req, 0, sizeof(req));
	req.prompt = o->prompt;
	req.language = o->language ? o->language : "en";
	req.aspect_ratio = o->aspect_ratio ? o->aspect_ratio : "16:9";
	req.duration = o->duration;
	req.n_shots = n;
	req.shot_seconds = seconds;
	ctx = ctx_of(p);
	attempts = o->attempts ? o->attempts : 3;
	for (attempt = 0; attempt < attempts; attempt++) {
		lv_provider_error err;
		char *json = NULL;
		cJSON *sb;
		memset(&err, 0, sizeof(err));
		req.attempt = attempt;
		req.feedback = feedback[0] ? feedback : NULL;
		if ((rc = p->script->write(p->self, &ctx, &req, &json, &err)) != LV_OK) {
			free(json);
			free(split);
			return failed(p, rc, &err);
		}
		sb = json ? lv_json_parse_text(json) : NULL;
		free(json);
		if (!sb) {
			snprintf(feedback, sizeof(feedback), "the output was not valid JSON");
			continue;
		}
		if (lv_storyboard_validate(sb, n, seconds, req.language, feedback, sizeof(feedback)) == LV_OK) {
			*out = lv_json_print(sb);
			cJSON_Delete(sb);
			free(split);
			return *out ? LV_OK : lv_error_nomem();
		}
		cJSON_Delete(sb);
	}
	free(split);
	rc = lv_error_set(LV_EPROVIDER,
	                  "the script provider '%s' did not produce a valid storyboard in %d attempts (last problem: %s)",
	                  p->name, attempts, feedback);
	lv_error_set_details("{\"code\":\"script_failed\",\"retryable\":false}");
	return rc;
}

int lv_storyboard_to_text(char **out, const char *text)
{
	cJSON *sb = NULL;
	const cJSON *it, *who;
	lv_buf b = LV_BUF_INIT;
	int start = 0, n = 0, shot = 0, bad = 0;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_storyboard_to_text: out is NULL");
	*out = NULL;
	if (!text || strlen(text) > JOB_MAX_BYTES || !(sb = lv_json_parse_text(text)) || !cJSON_IsObject(sb)) {
		cJSON_Delete(sb);
		return lv_error_set(LV_EINVALID, "storyboard: not a JSON object of at most 1 MiB");
	}
	bad |= lv_buf_printf(&b, "%s\n", lv_json_get_str(sb, "title") ? lv_json_get_str(sb, "title") : "(untitled)");
	if (lv_json_get_str(sb, "style"))
		bad |= lv_buf_printf(&b, "Style: %s\n", lv_json_get_str(sb, "style"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
	{
		const char *name = lv_json_get_str(it, "name"), *desc = lv_json_get_str(it, "description");
		bad |= lv_buf_printf(&b, "%s %s: %s\n", n++ ? "          " : "Characters:", name ? name : "?",
		                     desc ? desc : "");
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
	{
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "duration"), *w;
		const char *cam = lv_json_get_str(it, "camera"), *vis = lv_json_get_str(it, "visual"),
		           *nar = lv_json_get_str(it, "narration");
		int secs = cJSON_IsNumber(d) && d->valuedouble > 0 && d->valuedouble < 3600 ? (int)d->valuedouble : 0;
		bad |= lv_buf_printf(&b, "\nShot %d (%d-%d s)%s%s: %s\n", ++shot, start, start + secs, cam ? ", " : "",
		                     cam ? cam : "", vis ? vis : "");
		who = cJSON_GetObjectItemCaseSensitive(it, "characters");
		if (cJSON_GetArraySize(who) > 0) {
			bad |= lv_buf_printf(&b, "  with:");
			cJSON_ArrayForEach(w, who)
			{
				bad |= lv_buf_printf(&b, " %s", cJSON_IsString(w) ? w->valuestring : "?");
			}
			bad |= lv_buf_printf(&b, "\n");
		}
		if (nar && *nar)
			bad |= lv_buf_printf(&b, "  narration: \"%s\"\n", nar);
		start += secs;
	}
	cJSON_Delete(sb);
	if (bad || !b.data) {
		lv_buf_free(&b);
		return lv_error_nomem();
	}
	*out = lv_buf_detach(&b);
	return LV_OK;
}

int lv_provider_moderate(lv_moderation_verdict *out, lv_provider *p, const char *const *texts, size_t n)
{
	lv_call_ctx ctx;
	lv_moderation_result r;
	lv_provider_error err;
	size_t i;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_provider_moderate: out is NULL");
	if ((rc = version_ok(out->version, LV_MODERATION_VERDICT_VERSION, "lv_moderation_verdict")) ||
	    (rc = need(p, p ? p->moderation : NULL, "moderate texts")))
		return rc;
	if (!texts || n == 0)
		return lv_error_set(LV_EINVALID, "texts: give at least one");
	for (i = 0; i < n; i++)
		if (!texts[i])
			return lv_error_set(LV_EINVALID, "texts[%zu]: is NULL", i);
	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	if ((rc = p->moderation->check(p->self, &ctx, texts, n, &r, &err)) != LV_OK)
		return failed(p, rc, &err);
	out->flagged = r.flagged;
	out->text_index = r.text_index;
	snprintf(out->categories, sizeof(out->categories), "%s", r.categories);
	return LV_OK;
}

int lv_provider_reference_image(lv_provider *p, const lv_image_options *o)
{
	lv_call_ctx ctx;
	lv_anchor_request req;
	lv_provider_error err;
	int rc;
	if ((rc = need(p, p ? p->anchor : NULL, "draw reference images")))
		return rc;
	if (!o)
		return lv_error_set(LV_EINVALID, "lv_provider_reference_image: options are NULL");
	if ((rc = version_ok(o->version, LV_IMAGE_OPTIONS_VERSION, "lv_image_options")))
		return rc;
	if (!o->out_png || !*o->out_png)
		return lv_error_set(LV_EINVALID, "out_png: is required");
	if (o->width < 0 || o->height < 0 || o->width > 4096 || o->height > 4096 || (!o->width != !o->height))
		return lv_error_set(LV_EINVALID, "width, height: both 0 or both from 1 to 4096");
	memset(&req, 0, sizeof(req));
	req.is_style_frame = !o->id || !strcmp(o->id, "style");
	req.id = o->id ? o->id : "style";
	req.name = o->name ? o->name : (req.is_style_frame ? "style" : o->id);
	req.description = o->description ? o->description : "";
	req.style = o->style ? o->style : "";
	req.width = o->width ? o->width : 1280;
	req.height = o->height ? o->height : 720;
	req.seed = o->seed;
	req.language = o->language ? o->language : "en";
	req.out_png = o->out_png;
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	if ((rc = p->anchor->render(p->self, &ctx, &req, &err)) != LV_OK)
		return failed(p, rc, &err);
	return LV_OK;
}

/* ---- video jobs: the job string is the request plus the vendor's id and state ------------------------------ */

typedef struct job {
	cJSON *json;
	lv_segment_job sj;
	const char *refs[MAX_REFERENCES], *names[MAX_REFERENCES];
} job;

static void frame_size(const char *resolution, const char *aspect, int *w, int *h)
{
	int s = lv_resolution_index(resolution) == LV_RES_1080P ? 1080 : 720;
	int l = s * 16 / 9;
	int a = lv_aspect_index(aspect);
	*w = a == LV_ASPECT_9_16 ? s : a == LV_ASPECT_1_1 ? s : l;
	*h = a == LV_ASPECT_9_16 ? l : s;
}

static int add_str(cJSON *o, const char *k, const char *v)
{
	return v ? lv_json_add_str(o, k, v) : LV_OK;
}

static int job_from_options(cJSON **out, const lv_provider *p, const lv_video_options *o)
{
	const lv_video_caps *caps = &p->conf->video;
	const char *res = o->resolution ? o->resolution : "720p", *aspect = o->aspect_ratio ? o->aspect_ratio : "16:9";
	int ri = lv_resolution_index(res), ai = lv_aspect_index(aspect);
	cJSON *j, *refs, *names;
	size_t i;
	*out = NULL;
	if (ri < 0 || !(caps->resolutions & (1u << ri)))
		return lv_error_set(LV_EINVALID, "resolution: provider '%s' does not make %s", p->name, res);
	if (ai < 0 || !(caps->aspects & (1u << ai)))
		return lv_error_set(LV_EINVALID, "aspect_ratio: provider '%s' does not make %s", p->name, aspect);
	if (o->seconds < caps->min_seconds || o->seconds > caps->max_seconds)
		return lv_error_set(LV_EINVALID, "seconds: provider '%s' makes clips of %d to %d seconds", p->name,
		                    caps->min_seconds, caps->max_seconds);
	if (!o->prompt || !*o->prompt)
		return lv_error_set(LV_EINVALID, "prompt: is required");
	if (o->n_references > MAX_REFERENCES || (o->n_references && !o->references))
		return lv_error_set(LV_EINVALID, "references: at most %d files", MAX_REFERENCES);
	if (!(j = cJSON_CreateObject()))
		return lv_error_nomem();
	if (!cJSON_AddNumberToObject(j, "seconds", o->seconds) || lv_json_add_str(j, "resolution", res) ||
	    lv_json_add_str(j, "aspect_ratio", aspect) || lv_json_add_str(j, "prompt", o->prompt) ||
	    add_str(j, "visual", o->visual) || add_str(j, "camera", o->camera) ||
	    add_str(j, "negative_prompt", o->negative_prompt) || lv_json_add_str(j, "language", o->language ? o->language : "en") ||
	    !cJSON_AddNumberToObject(j, "seed", (double)o->seed) || !(refs = cJSON_AddArrayToObject(j, "references")) ||
	    !(names = cJSON_AddArrayToObject(j, "reference_names")))
		goto nomem;
	for (i = 0; i < o->n_references; i++) {
		const char *nm = o->reference_names && o->reference_names[i] ? o->reference_names[i] : "";
		if (!o->references[i]) {
			cJSON_Delete(j);
			return lv_error_set(LV_EINVALID, "references[%zu]: is NULL", i);
		}
		if (!cJSON_AddItemToArray(refs, cJSON_CreateString(o->references[i])) ||
		    !cJSON_AddItemToArray(names, cJSON_CreateString(nm)))
			goto nomem;
	}
	*out = j;
	return LV_OK;
nomem:
	cJSON_Delete(j);
	return lv_error_nomem();
}

/* Read a job string back into the request the provider gets.  j->json owns the strings. */
static int job_parse(job *j, const char *text)
{
	const cJSON *refs, *names, *it;
	size_t n = 0;
	memset(j, 0, sizeof(*j));
	if (!text)
		return lv_error_set(LV_EINVALID, "job: is NULL");
	it = NULL;
	if (strlen(text) > JOB_MAX_BYTES || !(j->json = lv_json_parse_text(text)) || !cJSON_IsObject(j->json) ||
	    !lv_json_get_str(j->json, "prompt") || !cJSON_IsNumber(it = cJSON_GetObjectItemCaseSensitive(j->json, "seconds")) ||
	    !(it->valuedouble >= 1 && it->valuedouble <= 60)) {
		cJSON_Delete(j->json);
		j->json = NULL;
		return lv_error_set(LV_EINVALID, "job: not a job string from lv_provider_video_submit()");
	}
	j->sj.index = 0;
	j->sj.seconds = (int)cJSON_GetObjectItemCaseSensitive(j->json, "seconds")->valuedouble;
	j->sj.resolution = lv_json_get_str(j->json, "resolution");
	j->sj.aspect_ratio = lv_json_get_str(j->json, "aspect_ratio");
	frame_size(j->sj.resolution, j->sj.aspect_ratio, &j->sj.width, &j->sj.height);
	j->sj.prompt = lv_json_get_str(j->json, "prompt");
	j->sj.visual = lv_json_get_str(j->json, "visual");
	if (!j->sj.visual)
		j->sj.visual = j->sj.prompt;
	j->sj.camera = lv_json_get_str(j->json, "camera");
	j->sj.negative_prompt = lv_json_get_str(j->json, "negative_prompt");
	j->sj.language = lv_json_get_str(j->json, "language");
	it = cJSON_GetObjectItemCaseSensitive(j->json, "seed");
	j->sj.seed = cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= 4294967295.0
	                     ? (uint32_t)it->valuedouble
	                     : 0u;
	refs = cJSON_GetObjectItemCaseSensitive(j->json, "references");
	names = cJSON_GetObjectItemCaseSensitive(j->json, "reference_names");
	cJSON_ArrayForEach(it, refs)
	{
		const cJSON *nm = cJSON_GetArrayItem(names, (int)n);
		if (n >= MAX_REFERENCES || !cJSON_IsString(it))
			break;
		j->refs[n] = it->valuestring;
		j->names[n] = cJSON_IsString(nm) ? nm->valuestring : "";
		n++;
	}
	j->sj.references = j->refs;
	j->sj.reference_names = j->names;
	j->sj.n_references = n;
	j->sj.job_id = lv_json_get_str(j->json, "job_id");
	j->sj.job_state = lv_json_get_str(j->json, "job_state");
	return LV_OK;
}

static void status_out(lv_video_status *out, const lv_job_status *st)
{
	if (!out)
		return;
	out->state = st->state;
	out->poll_after_ms = st->poll_after_ms;
}

/* Record the vendor's id and state in the job's JSON. */
static int job_set(cJSON *j, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(j, key);
	return value ? lv_json_add_str(j, key, value) : LV_OK;
}

int lv_provider_video_submit(char **out, lv_provider *p, const lv_video_options *o, lv_video_status *status)
{
	lv_call_ctx ctx;
	lv_job_status st;
	lv_provider_error err;
	cJSON *json = NULL;
	char *text;
	job j;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_provider_video_submit: job is NULL");
	*out = NULL;
	if ((rc = need(p, p ? p->video : NULL, "make video")))
		return rc;
	if (!o)
		return lv_error_set(LV_EINVALID, "lv_provider_video_submit: options are NULL");
	if ((rc = version_ok(o->version, LV_VIDEO_OPTIONS_VERSION, "lv_video_options")) ||
	    (status && (rc = version_ok(status->version, LV_VIDEO_STATUS_VERSION, "lv_video_status"))) ||
	    (rc = job_from_options(&json, p, o)))
		return rc;
	text = lv_json_print(json);
	cJSON_Delete(json);
	if (!text)
		return lv_error_nomem();
	rc = job_parse(&j, text);
	free(text);
	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	rc = p->video->submit(p->self, &ctx, &j.sj, &st, &err);
	if (rc == LV_OK && !st.job_id)
		rc = lv_provider_fail(&err, "segment_failed", 0, "provider '%s' started a job without an id", p->name);
	if (rc == LV_OK && (job_set(j.json, "job_id", st.job_id) || job_set(j.json, "job_state", st.job_state)))
		rc = lv_error_nomem();
	free(st.job_id);
	free(st.job_state);
	if (rc) {
		cJSON_Delete(j.json);
		return err.message[0] || rc == LV_ECANCELED ? failed(p, rc, &err) : rc;
	}
	*out = lv_json_print(j.json);
	cJSON_Delete(j.json);
	if (!*out)
		return lv_error_nomem();
	status_out(status, &st);
	return LV_OK;
}

int lv_provider_video_poll(char **jobp, lv_provider *p, lv_video_status *status)
{
	lv_call_ctx ctx;
	lv_job_status st;
	lv_provider_error err;
	job j;
	int rc;
	if (!jobp || !status)
		return lv_error_set(LV_EINVALID, "lv_provider_video_poll: %s is NULL", jobp ? "status" : "job");
	if ((rc = version_ok(status->version, LV_VIDEO_STATUS_VERSION, "lv_video_status")) ||
	    (rc = need(p, p ? p->video : NULL, "make video")) || (rc = job_parse(&j, *jobp)))
		return rc;
	if (!j.sj.job_id) {
		cJSON_Delete(j.json);
		return lv_error_set(LV_EINVALID, "job: has no job id (was it submitted?)");
	}
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	rc = p->video->poll(p->self, &ctx, &j.sj, &st, &err);
	if (rc == LV_OK && st.job_state && (!j.sj.job_state || strcmp(st.job_state, j.sj.job_state))) {
		char *text = NULL;
		if (job_set(j.json, "job_state", st.job_state) || !(text = lv_json_print(j.json)))
			rc = lv_error_nomem();
		else {
			lv_free(*jobp);
			*jobp = text;
		}
	}
	free(st.job_id);
	free(st.job_state);
	cJSON_Delete(j.json);
	if (st.state == LV_JOB_FAILED && rc != LV_ECANCELED) {
		/* The vendor says the job failed: that is its state, not a failed call. */
		if (rc == LV_OK)
			lv_provider_fail(&err, "segment_failed", 0, "provider '%s': the job failed", p->name);
		failed(p, LV_EPROVIDER, &err);
		status->state = LV_VIDEO_FAILED;
		status->poll_after_ms = 0;
		return LV_OK;
	}
	if (rc)
		return err.message[0] || rc == LV_ECANCELED ? failed(p, rc, &err) : rc;
	status_out(status, &st);
	return LV_OK;
}

int lv_provider_video_fetch(lv_provider *p, const char *text, const char *out_path)
{
	lv_call_ctx ctx;
	lv_provider_error err;
	job j;
	int rc;
	if (!out_path || !*out_path)
		return lv_error_set(LV_EINVALID, "out_path: is required");
	if ((rc = need(p, p ? p->video : NULL, "make video")) || (rc = job_parse(&j, text)))
		return rc;
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	rc = j.sj.job_id ? p->video->fetch(p->self, &ctx, &j.sj, out_path, &err)
	                 : lv_error_set(LV_EINVALID, "job: has no job id (was it submitted?)");
	cJSON_Delete(j.json);
	if (rc)
		return err.message[0] || rc == LV_ECANCELED ? failed(p, rc, &err) : rc;
	return LV_OK;
}

int lv_provider_video_cancel(lv_provider *p, const char *text)
{
	lv_call_ctx ctx;
	job j;
	int rc;
	if ((rc = need(p, p ? p->video : NULL, "make video")) || (rc = job_parse(&j, text)))
		return rc;
	ctx = ctx_of(p);
	if (p->video->cancel && j.sj.job_id)
		rc = p->video->cancel(p->self, &ctx, &j.sj);
	cJSON_Delete(j.json);
	return rc;
}

/* ---- speech and music ---------------------------------------------------------------------------------------- */

int lv_provider_speak(double *seconds, lv_provider *p, const lv_speech_options *o)
{
	lv_call_ctx ctx;
	lv_provider_error err;
	double got = 0;
	int rc;
	if (seconds)
		*seconds = 0;
	if ((rc = need(p, p ? p->speech : NULL, "speak")))
		return rc;
	if (!o)
		return lv_error_set(LV_EINVALID, "lv_provider_speak: options are NULL");
	if ((rc = version_ok(o->version, LV_SPEECH_OPTIONS_VERSION, "lv_speech_options")))
		return rc;
	if (!o->text || !*o->text)
		return lv_error_set(LV_EINVALID, "text: is required");
	if (!o->out_path || !*o->out_path)
		return lv_error_set(LV_EINVALID, "out_path: is required");
	if (!(o->max_seconds >= 0) || o->max_seconds > 3600)
		return lv_error_set(LV_EINVALID, "max_seconds: must be from 0 to 3600");
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	if ((rc = p->speech->speak(p->self, &ctx, o->text, o->language ? o->language : "en", o->max_seconds, o->out_path,
	                           &got, &err)) != LV_OK)
		return failed(p, rc, &err);
	if (seconds)
		*seconds = got;
	return LV_OK;
}

int lv_provider_music(lv_provider *p, const lv_music_options *o)
{
	lv_call_ctx ctx;
	lv_provider_error err;
	int rc;
	if ((rc = need(p, p ? p->music : NULL, "make music")))
		return rc;
	if (!o)
		return lv_error_set(LV_EINVALID, "lv_provider_music: options are NULL");
	if ((rc = version_ok(o->version, LV_MUSIC_OPTIONS_VERSION, "lv_music_options")))
		return rc;
	if (!(o->seconds > 0) || o->seconds > 3600)
		return lv_error_set(LV_EINVALID, "seconds: must be more than 0 and at most 3600");
	if (!o->out_path || !*o->out_path)
		return lv_error_set(LV_EINVALID, "out_path: is required");
	memset(&err, 0, sizeof(err));
	ctx = ctx_of(p);
	if ((rc = p->music->compose(p->self, &ctx, o->seconds, o->mood, o->seed, o->out_path, &err)) != LV_OK)
		return failed(p, rc, &err);
	return LV_OK;
}
