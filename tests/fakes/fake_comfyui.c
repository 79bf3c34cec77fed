#include "fakes/fake_comfyui.h"
#include "media/local.h"
#include "testutil.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <check.h>
#include <curl/curl.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the outputs ------------------------------------------------------------------------------------------------ */

static void run_ffmpeg(const char *args)
{
	char *cmd = lv_asprintf("ffmpeg -hide_banner -loglevel error -y %s", args);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

void fake_comfyui_outputs_make(fake_comfyui_outputs *o)
{
	lv_render_params p;
	char *a;
	av_log_set_level(AV_LOG_ERROR); /* the encoders' chatter, as the workers set it */
	memset(o, 0, sizeof(*o));
	o->dir = lv_test_mkdtemp("comfy-fx");
	ck_assert_ptr_nonnull(o->dir);
	o->mp4 = lv_path_join(o->dir, "clip.mp4");
	o->webp = lv_path_join(o->dir, "anim.webp");
	o->gif = lv_path_join(o->dir, "anim.gif");
	o->frames_dir = lv_path_join(o->dir, "frames");
	lv_mkdir_p(o->frames_dir, 0);
	/* The MP4 a SaveVideo node would write: here a canonical one, so composition can copy it. */
	memset(&p, 0, sizeof(p));
	p.width = 1280;
	p.height = 720;
	p.seconds = 5;
	p.seed = 7;
	p.text = "fake ComfyUI output";
	p.camera = "pan left";
	p.language = "en";
	ck_assert_int_eq(lv_render_segment(&p, o->mp4), LV_OK);
	a = lv_asprintf("-f lavfi -i testsrc=size=320x240:rate=16 -t 3 -loop 0 -c:v libwebp_anim -quality 80 %s", o->webp);
	run_ffmpeg(a);
	free(a);
	a = lv_asprintf("-f lavfi -i testsrc=size=320x240:rate=16 -t 3 -loop 0 %s", o->gif);
	run_ffmpeg(a);
	free(a);
	a = lv_asprintf("-f lavfi -i testsrc=size=160x120:rate=16 -t 3 %s/f_%%05d_.png", o->frames_dir);
	run_ffmpeg(a);
	free(a);
}

void fake_comfyui_outputs_free(fake_comfyui_outputs *o)
{
	if (o->dir)
		lv_test_rmdir(o->dir);
	free(o->dir);
	free(o->mp4);
	free(o->webp);
	free(o->gif);
	free(o->frames_dir);
	memset(o, 0, sizeof(*o));
}

/* ---- the server ------------------------------------------------------------------------------------------------- */

/* A proxy's answer to a wrong key, echoing the one it got. */
static int key_refused(fake_comfyui *c, const lv_fake_request *req, lv_fake_response *out)
{
	char key[256];
	int ok;
	pthread_mutex_lock(&c->mu);
	ok = fake_key_ok(c->key, req);
	if (!ok) {
		out->status = 401;
		out->body = fake_printf(&c->arena, "{\"error\":\"invalid bearer token %s\"}",
		                        fake_request_key(req, key, sizeof(key)));
	}
	pthread_mutex_unlock(&c->mu);
	return !ok;
}

/* The prompt's times under one-at-a-time execution (deleted prompts never run). */
static void timeline(const fake_comfyui *c, int i, int64_t *start, int64_t *end)
{
	int64_t prev = 0;
	int j;
	*start = *end = 0;
	for (j = 0; j <= i; j++) {
		int64_t s, e;
		if (c->p[j].deleted)
			continue;
		s = c->p[j].submitted + c->queue_ms;
		if (s < prev)
			s = prev;
		e = s + c->run_ms;
		if (c->p[j].interrupted_at && c->p[j].interrupted_at < e)
			e = c->p[j].interrupted_at;
		prev = e;
		*start = s;
		*end = e;
	}
}

/* 0 gone (deleted), 1 pending, 2 running, 3 done */
int fake_comfyui_prompt_state(const fake_comfyui *c, int i, int64_t now)
{
	int64_t s, e;
	if (c->p[i].deleted)
		return 0;
	timeline(c, i, &s, &e);
	return now < s ? 1 : now < e ? 2 : 3;
}

static cJSON *queue_item(const fake_comfy_prompt *p)
{
	cJSON *a = cJSON_CreateArray(), *extra = cJSON_CreateObject();
	cJSON_AddItemToArray(a, cJSON_CreateNumber(p->number));
	cJSON_AddItemToArray(a, cJSON_CreateString(p->id));
	cJSON_AddItemToArray(a, cJSON_CreateObject());
	cJSON_AddStringToObject(extra, "client_id", p->client_id);
	cJSON_AddItemToArray(a, extra);
	cJSON_AddItemToArray(a, cJSON_CreateStringArray((const char *const[]){ "51" }, 1));
	return a;
}

static cJSON *file_entry(const char *name, const char *sub, const char *type)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "filename", name);
	cJSON_AddStringToObject(o, "subfolder", sub);
	cJSON_AddStringToObject(o, "type", type);
	return o;
}

/* "animated": [true], as SaveVideo and SaveAnimatedWEBP report it. */
static void animated_true(cJSON *node)
{
	cJSON *a = cJSON_AddArrayToObject(node, "animated");
	cJSON_AddItemToArray(a, cJSON_CreateTrue());
}

static cJSON *outputs_for(int kind)
{
	cJSON *o = cJSON_CreateObject(), *node, *arr;
	int i;
	/* A preview node's temporary picture: never the thing to fetch. */
	node = cJSON_AddObjectToObject(o, "12");
	arr = cJSON_AddArrayToObject(node, "images");
	cJSON_AddItemToArray(arr, file_entry("ComfyUI_temp_0001.png", "", "temp"));
	switch (kind) {
	case FAKE_COMFY_SAVEVIDEO: /* core SaveVideo: under "images" with "animated": [true] */
		node = cJSON_AddObjectToObject(o, "51");
		arr = cJSON_AddArrayToObject(node, "images");
		cJSON_AddItemToArray(arr, file_entry("clip.mp4", "longvideo", "output"));
		animated_true(node);
		break;
	case FAKE_COMFY_VHS: /* VHS_VideoCombine: under "gifs" */
		node = cJSON_AddObjectToObject(o, "9");
		arr = cJSON_AddArrayToObject(node, "gifs");
		cJSON_AddItemToArray(arr, file_entry("clip.mp4", "", "output"));
		cJSON_AddStringToObject(cJSON_GetArrayItem(arr, 0), "format", "video/h264-mp4");
		cJSON_AddNumberToObject(cJSON_GetArrayItem(arr, 0), "frame_rate", 16);
		break;
	case FAKE_COMFY_WEBP: /* SaveAnimatedWEBP */
		node = cJSON_AddObjectToObject(o, "41");
		arr = cJSON_AddArrayToObject(node, "images");
		cJSON_AddItemToArray(arr, file_entry("anim.webp", "longvideo", "output"));
		animated_true(node);
		break;
	case FAKE_COMFY_GIF:
		node = cJSON_AddObjectToObject(o, "9");
		arr = cJSON_AddArrayToObject(node, "gifs");
		cJSON_AddItemToArray(arr, file_entry("anim.gif", "", "output"));
		break;
	case FAKE_COMFY_FRAMES_OUT: /* SaveImage: one PNG per frame */
		node = cJSON_AddObjectToObject(o, "9");
		arr = cJSON_AddArrayToObject(node, "images");
		for (i = 1; i <= FAKE_COMFY_FRAMES; i++) {
			char name[32];
			snprintf(name, sizeof(name), "f_%05d_.png", i);
			cJSON_AddItemToArray(arr, file_entry(name, "", "output"));
		}
		break;
	default:
		break;
	}
	return o;
}

static cJSON *history_item(const fake_comfyui *c, int i)
{
	const fake_comfy_prompt *p = &c->p[i];
	cJSON *it = cJSON_CreateObject(), *st, *msgs, *m, *d;
	cJSON_AddItemToObject(it, "prompt", queue_item(p));
	st = cJSON_AddObjectToObject(it, "status");
	msgs = cJSON_CreateArray();
	m = cJSON_CreateArray();
	cJSON_AddItemToArray(m, cJSON_CreateString("execution_start"));
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "prompt_id", p->id);
	cJSON_AddItemToArray(m, d);
	cJSON_AddItemToArray(msgs, m);
	if (p->interrupted_at || p->fail) {
		m = cJSON_CreateArray();
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "prompt_id", p->id);
		cJSON_AddStringToObject(d, "node_id", "3");
		cJSON_AddStringToObject(d, "node_type", "KSampler");
		if (p->interrupted_at) {
			cJSON_AddItemToArray(m, cJSON_CreateString("execution_interrupted"));
		} else {
			cJSON_AddItemToArray(m, cJSON_CreateString("execution_error"));
			cJSON_AddStringToObject(d, "exception_type",
			                        p->fail == 2 ? "torch.OutOfMemoryError" : "RuntimeError");
			cJSON_AddStringToObject(d, "exception_message",
			                        p->fail == 2 ? "Allocation on device 0 would exceed allowed memory. (out of memory)"
			                                     : "mat1 and mat2 shapes cannot be multiplied (77x768 and 4096x5120)");
			cJSON_AddItemToObject(d, "traceback",
			                      cJSON_CreateStringArray((const char *const[]){ "File \"/srv/secret/comfy/x.py\"" }, 1));
		}
		cJSON_AddItemToArray(m, d);
		cJSON_AddItemToArray(msgs, m);
		cJSON_AddStringToObject(st, "status_str", "error");
		cJSON_AddBoolToObject(st, "completed", 0);
		cJSON_AddItemToObject(it, "outputs", cJSON_CreateObject());
	} else {
		m = cJSON_CreateArray();
		cJSON_AddItemToArray(m, cJSON_CreateString("execution_success"));
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "prompt_id", p->id);
		cJSON_AddItemToArray(m, d);
		cJSON_AddItemToArray(msgs, m);
		cJSON_AddStringToObject(st, "status_str", "success");
		cJSON_AddBoolToObject(st, "completed", 1);
		cJSON_AddItemToObject(it, "outputs", outputs_for(p->kind));
	}
	cJSON_AddItemToObject(st, "messages", msgs);
	cJSON_AddItemToObject(it, "meta", cJSON_CreateObject());
	return it;
}

static void answer_json(fake_comfyui *c, lv_fake_response *out, int status, cJSON *j)
{
	out->status = status;
	out->body = fake_keep(&c->arena, cJSON_PrintUnformatted(j));
	cJSON_Delete(j);
}

static void h_prompt(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	cJSON *b = cJSON_Parse(req->body), *r;
	fake_comfy_prompt *p;
	int queue = 1;
	(void)f;
	pthread_mutex_lock(&c->mu);
	if (c->n_prompt_times < 64)
		c->prompt_times[c->n_prompt_times++] = lv_mono_ms();
	if (c->prompt_429 > 0) {
		c->prompt_429--;
		out->status = 429;
		out->headers = "Retry-After: 1\r\n";
		out->body = "{\"error\":\"busy\"}";
		goto done;
	}
	if (c->prompt_400 > 0) {
		c->prompt_400--;
		out->status = 400;
		out->body = "{\"error\": {\"type\": \"prompt_outputs_failed_validation\", \"message\": \"Prompt outputs failed "
		            "validation\", \"details\": \"\", \"extra_info\": {}}, \"node_errors\": {\"37\": {\"errors\": "
		            "[{\"type\": \"value_not_in_list\", \"message\": \"Value not in list\", \"details\": \"unet_name: "
		            "'wan2.1_t2v_14B_fp8_e4m3fn.safetensors' not in []\", \"extra_info\": {}}], \"dependent_outputs\": "
		            "[\"51\"], \"class_type\": \"UNETLoader\"}}}";
		goto done;
	}
	if (c->prompt_503_lost > 0) {
		c->prompt_503_lost--;
		out->status = 503;
		out->body = "<html>Service Unavailable</html>";
		out->content_type = "text/html";
		goto done;
	}
	if (!cJSON_IsObject(cJSON_GetObjectItem(b, "prompt")) || !lv_json_get_str(b, "client_id") || c->n >= 64) {
		out->status = 400;
		out->body = "{\"error\": \"no prompt\", \"node_errors\": []}";
		goto done;
	}
	p = &c->p[c->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "0f1e2d3c-0000-4000-8000-%012d", c->n + 1);
	snprintf(p->client_id, sizeof(p->client_id), "%s", lv_json_get_str(b, "client_id"));
	p->submitted = lv_mono_ms();
	p->number = c->n;
	p->kind = c->n_kinds ? c->kinds[c->n % c->n_kinds] : FAKE_COMFY_SAVEVIDEO;
	p->fail = c->fail_prompt == c->n + 1 ? 1 : c->oom_prompt == c->n + 1 ? 2 : 0;
	p->body = lv_strdup(req->body);
	c->n++;
	(void)queue;
	if (c->prompt_502_queued > 0) {
		c->prompt_502_queued--;
		out->status = 502;
		out->body = "<html>Bad Gateway</html>";
		out->content_type = "text/html";
		goto done;
	}
	if (c->prompt_garbage > 0) {
		c->prompt_garbage--;
		out->body = "{\"prompt_id\": ";
		goto done;
	}
	if (c->prompt_slow_ms > 0) {
		out->delay_ms = c->prompt_slow_ms;
		c->prompt_slow_ms = 0;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "prompt_id", p->id);
	cJSON_AddNumberToObject(r, "number", p->number);
	cJSON_AddItemToObject(r, "node_errors", cJSON_CreateObject());
	answer_json(c, out, 200, r);
done:
	pthread_mutex_unlock(&c->mu);
	cJSON_Delete(b);
}

static void h_history_one(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	const char *id = req->path + strlen("/history/");
	cJSON *r = cJSON_CreateObject();
	int64_t now = lv_mono_ms();
	int i;
	(void)f;
	pthread_mutex_lock(&c->mu);
	if (c->history_500 > 0) {
		c->history_500--;
		out->status = 500;
		out->body = "500 Internal Server Error";
		out->content_type = "text/plain";
		cJSON_Delete(r);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (c->history_garbage > 0) {
		c->history_garbage--;
		out->body = "{\"0f1e2d3c\": {\"status\": ";
		cJSON_Delete(r);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->p[i].id, id) && fake_comfyui_prompt_state(c, i, now) == 3)
			cJSON_AddItemToObject(r, id, history_item(c, i));
	answer_json(c, out, 200, r);
	pthread_mutex_unlock(&c->mu);
}

static void h_history_all(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	cJSON *r = cJSON_CreateObject();
	int64_t now = lv_mono_ms();
	int i;
	(void)f;
	(void)req;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++)
		if (fake_comfyui_prompt_state(c, i, now) == 3)
			cJSON_AddItemToObject(r, c->p[i].id, history_item(c, i));
	answer_json(c, out, 200, r);
	pthread_mutex_unlock(&c->mu);
}

static void h_queue(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	cJSON *r = cJSON_CreateObject(), *run = cJSON_AddArrayToObject(r, "queue_running"),
	      *pend = cJSON_AddArrayToObject(r, "queue_pending");
	int64_t now = lv_mono_ms();
	int i;
	(void)f;
	(void)req;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++) {
		int s = fake_comfyui_prompt_state(c, i, now);
		if (s == 2)
			cJSON_AddItemToArray(run, queue_item(&c->p[i]));
		else if (s == 1)
			cJSON_AddItemToArray(pend, queue_item(&c->p[i]));
	}
	answer_json(c, out, 200, r);
	pthread_mutex_unlock(&c->mu);
}

static void h_queue_post(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	cJSON *b = cJSON_Parse(req->body);
	const cJSON *id;
	int i;
	(void)f;
	pthread_mutex_lock(&c->mu);
	cJSON_ArrayForEach(id, cJSON_GetObjectItem(b, "delete"))
	{
		for (i = 0; cJSON_IsString(id) && i < c->n; i++)
			if (!strcmp(c->p[i].id, id->valuestring) && fake_comfyui_prompt_state(c, i, lv_mono_ms()) == 1)
				c->p[i].deleted = 1;
	}
	pthread_mutex_unlock(&c->mu);
	cJSON_Delete(b);
	out->status = 200;
	out->body = "";
}

static void h_interrupt(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	cJSON *b = cJSON_Parse(req->body);
	const char *want = lv_json_get_str(b, "prompt_id");
	int64_t now = lv_mono_ms();
	int i;
	(void)f;
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++)
		if (fake_comfyui_prompt_state(c, i, now) == 2 && (!want || !strcmp(want, c->p[i].id)))
			c->p[i].interrupted_at = now;
	pthread_mutex_unlock(&c->mu);
	cJSON_Delete(b);
	out->status = 200;
	out->body = "";
}

static void h_upload(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	const char *fn = strstr(req->body, "filename=\"");
	char name[128] = "";
	cJSON *r;
	(void)f;
	if (fn) {
		const char *e = strchr(fn + 10, '"');
		snprintf(name, sizeof(name), "%.*s", e ? (int)(e - fn - 10) : 0, fn + 10);
	}
	pthread_mutex_lock(&c->mu);
	if (c->uploads < 8) {
		snprintf(c->upload_names[c->uploads], sizeof(c->upload_names[0]), "%s", name);
		c->upload_bodies[c->uploads] = lv_strndup(req->body, req->body_len);
		c->upload_lens[c->uploads] = req->body_len;
	}
	c->uploads++;
	/* The body is binary (the PNG): search it whole. */
	if (memmem(req->body, req->body_len, "\x89PNG\r\n\x1a\n", 8))
		c->upload_body_has_png = 1;
	{
		static const char ow[] = "name=\"overwrite\"\r\n\r\ntrue", ty[] = "name=\"type\"\r\n\r\ninput";
		if (memmem(req->body, req->body_len, ow, sizeof(ow) - 1))
			c->upload_has_overwrite = 1;
		if (memmem(req->body, req->body_len, ty, sizeof(ty) - 1))
			c->upload_has_type_input = 1;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "subfolder", "");
	cJSON_AddStringToObject(r, "type", "input");
	answer_json(c, out, 200, r);
	pthread_mutex_unlock(&c->mu);
}

static void h_view(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui *c = ctx;
	const char *q = strstr(req->query, "filename=");
	char name[256] = "", *dec;
	int len = 0;
	(void)f;
	if (q) {
		size_t n = strcspn(q + 9, "&");
		snprintf(name, sizeof(name), "%.*s", (int)n, q + 9);
	}
	dec = curl_easy_unescape(NULL, name, 0, &len);
	pthread_mutex_lock(&c->mu);
	out->content_type = "application/octet-stream";
	if (!strcmp(dec, "clip.mp4"))
		out->body_file = c->outputs->mp4;
	else if (!strcmp(dec, "anim.webp"))
		out->body_file = c->outputs->webp;
	else if (!strcmp(dec, "anim.gif"))
		out->body_file = c->outputs->gif;
	else if (!strncmp(dec, "f_", 2))
		out->body_file = fake_keep(&c->arena, lv_path_join(c->outputs->frames_dir, dec));
	else
		out->status = 404;
	pthread_mutex_unlock(&c->mu);
	curl_free(dec);
}

static void defaults(fake_comfyui *c)
{
	c->queue_ms = 50;
	c->run_ms = 300;
}

/* Every route checks the key first. */
typedef struct route {
	const char *method, *path;
	lv_fake_handler fn;
} route;

static const route routes[] = {
	{ "POST", "/prompt", h_prompt },          { "GET", "/history/*", h_history_one },
	{ "GET", "/history", h_history_all },     { "GET", "/queue", h_queue },
	{ "POST", "/queue", h_queue_post },       { "POST", "/interrupt", h_interrupt },
	{ "POST", "/upload/image", h_upload },    { "GET", "/view", h_view },
};

static void guarded(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_comfyui_route *r = ctx;
	if (!key_refused(r->c, req, out))
		routes[r->i].fn(f, req, out, r->c);
}

fake_comfyui *fake_comfyui_start(const fake_comfyui_outputs *outputs)
{
	size_t i;
	fake_comfyui *c = lv_calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	pthread_mutex_init(&c->mu, NULL);
	fake_arena_init(&c->arena);
	c->outputs = outputs;
	defaults(c);
	c->f = lv_fake_start();
	ck_assert_ptr_nonnull(c->f);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		c->routes[i].c = c;
		c->routes[i].i = i;
		lv_fake_handle(c->f, routes[i].method, routes[i].path, guarded, &c->routes[i]);
	}
	return c;
}

static void clear_state(fake_comfyui *c)
{
	int j;
	for (j = 0; j < c->n; j++)
		free(c->p[j].body);
	for (j = 0; j < 8; j++)
		free(c->upload_bodies[j]);
}

void fake_comfyui_reset(fake_comfyui *c)
{
	char key[sizeof(c->key)];
	pthread_mutex_lock(&c->mu);
	clear_state(c);
	memcpy(key, c->key, sizeof(key));
	memset(c->p, 0, (size_t)((char *)(c + 1) - (char *)c->p));
	memcpy(c->key, key, sizeof(key));
	defaults(c);
	pthread_mutex_unlock(&c->mu);
}

void fake_comfyui_stop(fake_comfyui *c)
{
	if (!c)
		return;
	lv_fake_stop(c->f);
	clear_state(c);
	fake_arena_free(&c->arena);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

lv_fake *fake_comfyui_server(const fake_comfyui *c)
{
	return c->f;
}

const char *fake_comfyui_url(const fake_comfyui *c)
{
	return lv_fake_url(c->f);
}

void fake_comfyui_lock(fake_comfyui *c)
{
	pthread_mutex_lock(&c->mu);
}

void fake_comfyui_unlock(fake_comfyui *c)
{
	pthread_mutex_unlock(&c->mu);
}

int fake_comfyui_prompts(fake_comfyui *c)
{
	int n;
	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

cJSON *fake_comfyui_workflow(fake_comfyui *c, int i, cJSON **root)
{
	pthread_mutex_lock(&c->mu);
	*root = i < c->n ? cJSON_Parse(c->p[i].body) : NULL;
	pthread_mutex_unlock(&c->mu);
	ck_assert_msg(*root != NULL, "no prompt %d", i);
	return cJSON_GetObjectItem(*root, "prompt");
}
