/*
 * Your own characters: each image (a data URL, or an http(s) URL fetched through the SSRF guard) is
 * checked while the task is created — size, type, decodable, short side — and stored in storage as a
 * PNG before anything depends on it, so a bad image is a 400 at create and never a later failure.
 */
#include "core/creative.h"
#include "media/image.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "webhook/fetch.h"

#include <libavutil/frame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE_MAX_BYTES ((size_t)10 << 20)
#define IMAGES_MAX_BYTES ((size_t)20 << 20)
#define IMAGE_MIN_SIDE 256
#define IMAGE_MAX_SIDE 2048 /* larger pictures are scaled down when stored */
#define FETCH_TIMEOUT_MS 10000L
#define FETCH_MAX_REDIRECTS 3

/* The picture's codec by its first bytes: PNG, JPEG or WebP; AV_CODEC_ID_NONE otherwise. */
static enum AVCodecID sniff(const unsigned char *d, size_t n)
{
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return AV_CODEC_ID_PNG;
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return AV_CODEC_ID_MJPEG;
	if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
		return AV_CODEC_ID_WEBP;
	return AV_CODEC_ID_NONE;
}

/* The bytes of a data:image/png|jpeg|webp;base64,... URL. */
static int from_data_url(unsigned char **out, size_t *len, const char *url, const char *field)
{
	static const char *const types[] = { "data:image/png;base64,", "data:image/jpeg;base64,",
		                             "data:image/webp;base64,", NULL };
	const char *const *t;
	const char *b64 = NULL;
	size_t n;
	long got;
	for (t = types; *t; t++)
		if (!strncmp(url, *t, strlen(*t)))
			b64 = url + strlen(*t);
	if (!b64)
		return lv_error_set(LV_EINVALID, "%s: a data URL must be data:image/png, image/jpeg or image/webp with "
		                                 ";base64,", field);
	n = strlen(b64);
	if (n / 4 * 3 > IMAGE_MAX_BYTES + 3)
		return lv_error_set(LV_EINVALID, "%s: larger than %zu MiB", field, IMAGE_MAX_BYTES >> 20);
	if (!(*out = lv_malloc(n / 4 * 3 + 3)))
		return LV_ENOMEM;
	got = lv_base64_decode(*out, b64, n);
	if (got < 0) {
		free(*out);
		*out = NULL;
		return lv_error_set(LV_EINVALID, "%s: the data URL is not valid base64", field);
	}
	*len = (size_t)got;
	if (*len > IMAGE_MAX_BYTES) {
		free(*out);
		*out = NULL;
		return lv_error_set(LV_EINVALID, "%s: larger than %zu MiB", field, IMAGE_MAX_BYTES >> 20);
	}
	return LV_OK;
}

/* Check one picture and store it as a PNG under a key named by its content; *key and *url are set. */
static int store_picture(lv_engine *e, const unsigned char *data, size_t len, const char *field, char **key,
                         char **url)
{
	enum AVCodecID id = sniff(data, len);
	AVFrame *f = NULL;
	uint8_t *rgba = NULL, *rgb = NULL;
	char hash[65], rnd[13], *dir = NULL, *path = NULL;
	int w, h, rc, found = 0;
	size_t i;
	*key = *url = NULL;
	if (id == AV_CODEC_ID_NONE)
		return lv_error_set(LV_EINVALID, "%s: not a PNG, JPEG or WebP image", field);
	if (lv_image_decode(&f, id, data, len, field))
		return lv_error_set(LV_EINVALID, "%s: cannot be decoded as %s", field, avcodec_get_name(id));
	if (f->width < IMAGE_MIN_SIDE || f->height < IMAGE_MIN_SIDE) {
		rc = lv_error_set(LV_EINVALID, "%s: %dx%d pixels; the short side must be at least %d", field, f->width,
		                  f->height, IMAGE_MIN_SIDE);
		av_frame_free(&f);
		return rc;
	}
	w = f->width;
	h = f->height;
	if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE) {
		double s = (double)IMAGE_MAX_SIDE / (w > h ? w : h);
		w = (int)(w * s) & ~1;
		h = (int)(h * s) & ~1;
	}
	lv_sha256_hex(hash, data, len);
	hash[32] = '\0';
	*key = lv_asprintf("media/characters/%s/image.png", hash);
	dir = lv_asprintf("%s/tmp", e->cfg->data_dir);
	/* A name of this call's own: other requests and processes may store the same picture at once. */
	lv_random_base62(rnd, 12);
	path = dir ? lv_asprintf("%s/character-%s-%s.png", dir, hash, rnd) : NULL;
	if (!*key || !path || lv_mkdir_p(dir, 0)) {
		rc = lv_error_last()->status ? lv_error_last()->status : LV_ENOMEM;
		goto out;
	}
	if ((rc = e->storage->ops->exists(e->storage, *key, &found)))
		goto out;
	if (!found) {
		if ((rc = lv_image_frame_to_rgba(&rgba, f, w, h, field)))
			goto out;
		if (!(rgb = lv_malloc((size_t)w * (size_t)h * 3))) {
			rc = LV_ENOMEM;
			goto out;
		}
		for (i = 0; i < (size_t)w * (size_t)h; i++) { /* over white, where the picture is transparent */
			unsigned a = rgba[4 * i + 3];
			rgb[3 * i] = (uint8_t)((rgba[4 * i] * a + 255 * (255 - a)) / 255);
			rgb[3 * i + 1] = (uint8_t)((rgba[4 * i + 1] * a + 255 * (255 - a)) / 255);
			rgb[3 * i + 2] = (uint8_t)((rgba[4 * i + 2] * a + 255 * (255 - a)) / 255);
		}
		if ((rc = lv_png_save_rgb24(path, rgb, w, h, w * 3)) ||
		    (rc = e->storage->ops->put_file(e->storage, *key, path, "image/png")))
			goto out;
	}
	rc = e->storage->ops->url(e->storage, *key, url);
out:
	if (path)
		unlink(path);
	av_frame_free(&f);
	free(rgba);
	free(rgb);
	free(dir);
	free(path);
	if (rc) {
		free(*key);
		free(*url);
		*key = *url = NULL;
	}
	return rc;
}

static int ingest(lv_engine *e, const char *characters_json, char **out)
{
	cJSON *list = cJSON_Parse(characters_json), *c, *result = cJSON_CreateArray();
	size_t total = 0;
	int i = 0, rc = LV_OK;
	*out = NULL;
	if (!list || !result) {
		cJSON_Delete(list);
		cJSON_Delete(result);
		return LV_ENOMEM;
	}
	cJSON_ArrayForEach(c, list)
	{
		const char *image = lv_json_get_str(c, "image");
		unsigned char *data = NULL;
		size_t len = 0;
		char field[40], *key = NULL, *url = NULL;
		cJSON *o;
		snprintf(field, sizeof(field), "characters[%d].image", i);
		if (!strncmp(image, "data:", 5)) {
			rc = from_data_url(&data, &len, image, field);
		} else {
			lv_fetch_options fo = { e->cfg->webhook_allow_private, FETCH_TIMEOUT_MS, IMAGE_MAX_BYTES,
				                FETCH_MAX_REDIRECTS, field };
			rc = lv_guarded_fetch(&data, &len, image, &fo);
		}
		if (rc == LV_OK && (total += len) > IMAGES_MAX_BYTES)
			rc = lv_error_set(LV_EINVALID, "%s: the character images add up to more than %zu MiB", field,
			                  IMAGES_MAX_BYTES >> 20);
		if (rc == LV_OK)
			rc = store_picture(e, data, len, field, &key, &url);
		free(data);
		if (rc)
			break;
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(result, o);
		cJSON_AddStringToObject(o, "name", lv_json_get_str(c, "name"));
		cJSON_AddStringToObject(o, "description", lv_json_get_str(c, "description"));
		cJSON_AddStringToObject(o, "image", key);
		cJSON_AddStringToObject(o, "image_url", url);
		free(key);
		free(url);
		i++;
	}
	if (rc == LV_OK && !(*out = lv_json_print(result)))
		rc = LV_ENOMEM;
	cJSON_Delete(list);
	cJSON_Delete(result);
	return rc;
}

typedef struct {
	lv_engine *e;
	const char *json;
	char *out;
	int rc;
	char message[512]; /* the worker thread's last error message, carried over */
} ingest_job;

static void *ingest_thread(void *p)
{
	ingest_job *j = p;
	j->rc = ingest(j->e, j->json, &j->out);
	if (j->rc) {
		const lv_error *le = lv_error_last();
		snprintf(j->message, sizeof(j->message), "%s", le->message ? le->message : "");
	}
	return NULL;
}

/* Decoding and storing pictures needs more stack than a request thread may have (CivetWeb's are
 * small): the work runs on a thread of its own with a stack of known size. */
int lv_characters_ingest(lv_engine *e, const char *characters_json, char **out)
{
	ingest_job j;
	pthread_attr_t attr;
	pthread_t t;
	int started;
	memset(&j, 0, sizeof(j));
	j.e = e;
	j.json = characters_json;
	*out = NULL;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)8 << 20);
	started = pthread_create(&t, &attr, ingest_thread, &j) == 0;
	pthread_attr_destroy(&attr);
	if (!started)
		return lv_error_set(LV_EINTERNAL, "cannot start a thread to check the character images");
	pthread_join(t, NULL);
	if (j.rc)
		return lv_error_set(j.rc, "%s", j.message);
	*out = j.out;
	return LV_OK;
}

/* The stored characters of a task (from its state), or NULL. */
static cJSON *task_characters(const lv_task_rec *t, cJSON **state)
{
	*state = t->state ? cJSON_Parse(t->state) : NULL;
	return cJSON_GetObjectItemCaseSensitive(*state, "characters");
}

int lv_characters_merge(cJSON *sb, const lv_task_rec *t)
{
	cJSON *state, *mine = task_characters(t, &state), *c, *chars = cJSON_GetObjectItemCaseSensitive(sb, "characters");
	int i = 0;
	if (!mine) {
		cJSON_Delete(state);
		return LV_OK;
	}
	if (!cJSON_IsArray(chars)) {
		chars = cJSON_CreateArray();
		cJSON_DeleteItemFromObjectCaseSensitive(sb, "characters");
		cJSON_AddItemToObject(sb, "characters", chars);
	}
	cJSON_ArrayForEach(c, mine)
	{
		cJSON *slot = cJSON_GetArrayItem(chars, i), *shot;
		const char *name = lv_json_get_str(c, "name"), *desc = lv_json_get_str(c, "description");
		if (slot) { /* the writer's i-th character becomes yours */
			cJSON_ReplaceItemInObjectCaseSensitive(slot, "name", cJSON_CreateString(name));
			if (desc && *desc) {
				if (cJSON_GetObjectItemCaseSensitive(slot, "description"))
					cJSON_ReplaceItemInObjectCaseSensitive(slot, "description", cJSON_CreateString(desc));
				else
					cJSON_AddStringToObject(slot, "description", desc);
			}
		} else { /* one more character, in every shot */
			char id[16];
			snprintf(id, sizeof(id), "you%d", i + 1);
			slot = cJSON_CreateObject();
			cJSON_AddStringToObject(slot, "id", id);
			cJSON_AddStringToObject(slot, "name", name);
			cJSON_AddStringToObject(slot, "description", desc && *desc ? desc : name);
			cJSON_AddItemToArray(chars, slot);
			cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
			{
				cJSON *who = cJSON_GetObjectItemCaseSensitive(shot, "characters");
				if (!cJSON_IsArray(who)) {
					who = cJSON_CreateArray();
					cJSON_DeleteItemFromObjectCaseSensitive(shot, "characters");
					cJSON_AddItemToObject(shot, "characters", who);
				}
				cJSON_AddItemToArray(who, cJSON_CreateString(id));
			}
		}
		i++;
	}
	cJSON_Delete(state);
	return LV_OK;
}

const char *lv_characters_image(const lv_task_rec *t, const char *name, char *buf, size_t cap)
{
	cJSON *state, *mine = task_characters(t, &state), *c;
	const char *found = NULL;
	cJSON_ArrayForEach(c, mine)
	{
		const char *n = lv_json_get_str(c, "name"), *key = lv_json_get_str(c, "image");
		if (n && key && name && !strcmp(n, name) && strlen(key) < cap) {
			memcpy(buf, key, strlen(key) + 1);
			found = buf;
		}
	}
	cJSON_Delete(state);
	return found;
}
