/* The operator kit: the example configuration and the configuration reference cannot fall behind
 * the parser (every key it knows is in both, with its default); audio stems are stored as FLAC,
 * losslessly; the film is published once; retention (lv_engine_gc) removes by policy and removed
 * results answer LV_EGONE. */
#include "testutil.h"
#include "compose/compose.h"
#include "config/config.h"
#include "media/wav.h"
#include "harness.h"
#include "pipeline_util.h"
#include "util/log.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <dirent.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *read_json(const char *rel)
{
	char path[1024], *text = NULL;
	size_t len = 0;
	cJSON *j;
	snprintf(path, sizeof(path), "%s/%s", LV_TEST_SOURCE_DIR, rel);
	ck_assert_msg(lv_test_read_file(&text, &len, path) == 0, "cannot read %s", path);
	j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	free(text);
	return j;
}

static const cJSON *section_of(const cJSON *root, const char *section)
{
	if (!*section)
		return root;
	char head[64];
	const char *dot;
	if (!strcmp(section, "storage.s3"))
		section = "storage";
	/* A nested section ("compose.qc") is walked part by part. */
	if ((dot = strchr(section, '.')) != NULL && (size_t)(dot - section) < sizeof(head)) {
		memcpy(head, section, (size_t)(dot - section));
		head[dot - section] = '\0';
		return section_of(cJSON_GetObjectItemCaseSensitive(root, head), dot + 1);
	}
	return cJSON_GetObjectItemCaseSensitive(root, section);
}

START_TEST(example_config_holds_every_key_with_its_default)
{
	cJSON *ex = read_json("examples/config/longvideo.json"), *deploy = read_json("examples/deploy/longvideo.json");
	const lv_config_key *k;
	const cJSON *it;
	size_t n = 0;
	for (k = lv_config_keys; k->name; k++, n++) {
		int s3 = !strcmp(k->section, "storage.s3");
		const cJSON *sec = section_of(s3 ? deploy : ex, k->section), *v;
		cJSON *def = cJSON_Parse(k->def);
		ck_assert_msg(def != NULL, "%s.%s: default '%s' is not JSON", k->section, k->name, k->def);
		ck_assert_msg(sec != NULL, "example has no section '%s'", k->section);
		v = cJSON_GetObjectItemCaseSensitive(sec, k->name);
		ck_assert_msg(v != NULL, "%s: %s%s%s is missing", s3 ? "examples/deploy/longvideo.json"
		                                                     : "examples/config/longvideo.json",
		              k->section, *k->section ? "." : "", k->name);
		/* The example of every default: the same value (objects are sections, checked key by key). */
		if (!s3 && !cJSON_IsObject(def))
			ck_assert_msg(cJSON_Compare(v, def, 1), "examples/config/longvideo.json: %s.%s is not the default %s",
			              k->section, k->name, k->def);
		cJSON_Delete(def);
	}
	ck_assert_int_gt(n, 40);
	/* And nothing in the example that the table lacks (the parser would refuse it anyway). */
	cJSON_ArrayForEach(it, ex)
	{
		const cJSON *sub;
		int found = 0;
		for (k = lv_config_keys; k->name; k++)
			found |= !*k->section && !strcmp(k->name, it->string);
		ck_assert_msg(found, "example key %s is not in the table", it->string);
		if (!cJSON_IsObject(it) || !strcmp(it->string, "providers"))
			continue;
		cJSON_ArrayForEach(sub, it)
		{
			found = 0;
			for (k = lv_config_keys; k->name; k++)
				found |= !strcmp(k->section, it->string) && !strcmp(k->name, sub->string);
			ck_assert_msg(found, "example key %s.%s is not in the table", it->string, sub->string);
		}
	}
	cJSON_Delete(ex);
	cJSON_Delete(deploy);
}
END_TEST

START_TEST(example_configs_load_and_equal_the_defaults)
{
	lv_config *ex = NULL, *def = NULL, *deploy = NULL;
	char path[1024];
	int i;
	snprintf(path, sizeof(path), "%s/examples/config/longvideo.json", LV_TEST_SOURCE_DIR);
	ck_assert_msg(lv_config_load(&ex, path, NULL, NULL) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_config_load(&def, NULL, NULL, NULL), LV_OK);
	ck_assert_str_eq(ex->data_dir, def->data_dir);
	ck_assert_str_eq(ex->store, def->store);
	ck_assert_str_eq(ex->storage_type, def->storage_type);
	ck_assert_str_eq(ex->storage_dir, def->storage_dir);
	ck_assert_str_eq(ex->listen, def->listen);
	ck_assert_str_eq(ex->public_url, def->public_url);
	ck_assert_int_eq(ex->threads, def->threads);
	ck_assert_int_eq(ex->max_body_bytes, def->max_body_bytes);
	ck_assert_int_eq(ex->max_create_body_bytes, def->max_create_body_bytes);
	ck_assert_int_eq(ex->rate_limit_per_minute, def->rate_limit_per_minute);
	ck_assert_int_eq(ex->max_connections, def->max_connections);
	ck_assert_int_eq(ex->max_connections_per_ip, def->max_connections_per_ip);
	ck_assert_int_eq(ex->edge_threads, def->edge_threads);
	ck_assert_int_eq(ex->header_timeout_ms, def->header_timeout_ms);
	ck_assert_int_eq(ex->body_timeout_ms, def->body_timeout_ms);
	ck_assert_ptr_null(ex->trusted_proxies);
	ck_assert_ptr_null(ex->cors_origins);
	ck_assert_int_eq(ex->log_json, 0);
	ck_assert_int_eq(ex->retention_days, def->retention_days);
	ck_assert_int_eq(ex->keep_intermediates, 1);
	ck_assert_int_eq(def->keep_intermediates, 1);
	ck_assert_int_eq(ex->workers, def->workers);
	ck_assert_int_eq(ex->segment_concurrency, def->segment_concurrency);
	ck_assert_int_eq(ex->lease_seconds, def->lease_seconds);
	ck_assert_int_eq(ex->segment_retries, def->segment_retries);
	ck_assert_int_eq(ex->max_tasks_in_flight, def->max_tasks_in_flight);
	ck_assert(ex->review_timeout_hours == def->review_timeout_hours);
	ck_assert_str_eq(ex->default_video_provider, def->default_video_provider);
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		ck_assert_str_eq(ex->stage_provider[i], def->stage_provider[i]);
	ck_assert_int_eq((int)ex->n_webhook_delays, (int)def->n_webhook_delays);
	ck_assert_int_eq(ex->webhook_timeout_ms, def->webhook_timeout_ms);
	ck_assert_int_eq(ex->webhook_allow_private, def->webhook_allow_private);
	ck_assert_str_eq(ex->master_key_env, def->master_key_env);
	ck_assert_int_eq(ex->idempotency_ttl_hours, def->idempotency_ttl_hours);
	ck_assert_int_eq(ex->store_pool_size, def->store_pool_size);
	/* The production example parses too (S3 is only opened by the engine). */
	snprintf(path, sizeof(path), "%s/examples/deploy/longvideo.json", LV_TEST_SOURCE_DIR);
	ck_assert_msg(lv_config_load(&deploy, path, NULL, NULL) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(deploy->retention_days, 30);
	ck_assert_int_eq(deploy->keep_intermediates, 0);
	ck_assert_int_eq(deploy->log_json, 1);
	lv_config_free(ex);
	lv_config_free(def);
	lv_config_free(deploy);
}
END_TEST

START_TEST(operating_md_documents_every_key)
{
	char path[1024], *doc = NULL, row[256];
	size_t len = 0;
	const lv_config_key *k;
	snprintf(path, sizeof(path), "%s/docs/operating.md", LV_TEST_SOURCE_DIR);
	ck_assert_int_eq(lv_test_read_file(&doc, &len, path), 0);
	for (k = lv_config_keys; k->name; k++) {
		const char *sec = !strcmp(k->section, "storage.s3") ? "storage" : k->section;
		snprintf(row, sizeof(row), "\n| `%s%s%s` |", sec, *sec ? "." : "", k->name);
		ck_assert_msg(strstr(doc, row) != NULL, "docs/operating.md has no table row for %s", row + 1);
	}
	free(doc);
}
END_TEST

START_TEST(new_keys_are_validated_by_name)
{
	lv_config *c = NULL;
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"server\":{\"log_format\":\"xml\"}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "server.log_format"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"retention_days\":-1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.retention_days"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"keep_intermediates\":1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "keep_intermediates"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"retention_dayz\":1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.retention_dayz: unknown key"));
	ck_assert_int_eq(lv_config_load(&c, NULL,
	                                "{\"server\":{\"log_format\":\"json\"},\"storage\":{\"retention_days\":7,"
	                                "\"keep_intermediates\":false}}",
	                                NULL),
	                 LV_OK);
	ck_assert_int_eq(c->log_json, 1);
	ck_assert_int_eq(c->retention_days, 7);
	ck_assert_int_eq(c->keep_intermediates, 0);
	lv_config_free(c);
}
END_TEST

/* ---- storage layout ---------------------------------------------------------------------- */

/* Every 16-bit sample of the first audio stream of a file, decoded with FFmpeg. */
static int16_t *decode_s16(const char *path, size_t *n)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	int16_t *out = NULL;
	size_t cap = 0;
	int idx;
	*n = 0;
	ck_assert_int_eq(avformat_open_input(&fmt, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fmt, NULL), 0);
	idx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	ck_assert_int_ge(idx, 0);
	dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, fmt->streams[idx]->codecpar);
	ck_assert_int_eq(avcodec_open2(dec, codec, NULL), 0);
	ck_assert_int_eq(dec->sample_fmt, AV_SAMPLE_FMT_S16);
	for (;;) {
		int eof = av_read_frame(fmt, pkt) < 0;
		if (!eof && pkt->stream_index != idx) {
			av_packet_unref(pkt);
			continue;
		}
		avcodec_send_packet(dec, eof ? NULL : pkt);
		av_packet_unref(pkt);
		while (avcodec_receive_frame(dec, fr) == 0) {
			size_t k = (size_t)fr->nb_samples * (size_t)dec->ch_layout.nb_channels;
			if (*n + k > cap) {
				int16_t *grown;
				cap = (*n + k) * 2;
				grown = realloc(out, cap * sizeof(*out));
				ck_assert_ptr_nonnull(grown);
				out = grown;
			}
			memcpy(out + *n, fr->data[0], k * sizeof(*out));
			*n += k;
		}
		if (eof)
			break;
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return out;
}

START_TEST(flac_stems_are_lossless_and_smaller)
{
	char *dir = lv_test_mkdtemp("ops-flac"), *wav = lv_path_join(dir, "a.wav"), *flac = lv_path_join(dir, "a.flac");
	lv_wav_writer w;
	int16_t buf[2 * 4800];
	int16_t *a, *b;
	size_t na, nb, i, k;
	int64_t wav_size, flac_size;
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(lv_wav_open(&w, wav, 2, 48000), LV_OK);
	for (k = 0; k < 30; k++) { /* 3 s of a chord with a little noise */
		for (i = 0; i < 4800; i++) {
			double t = (double)(k * 4800 + i) / 48000.0;
			buf[2 * i] = (int16_t)(8000 * sin(2 * M_PI * 220 * t) + (int)((k * 7 + i * 13) % 5) - 2);
			buf[2 * i + 1] = (int16_t)(6000 * sin(2 * M_PI * 330 * t));
		}
		ck_assert_int_eq(lv_wav_write(&w, buf, 4800), LV_OK);
	}
	ck_assert_int_eq(lv_wav_finish(&w), LV_OK);
	ck_assert_msg(lv_audio_to_flac(wav, flac) == LV_OK, "%s", lv_error_last()->message);
	{
		struct stat sa, sb;
		ck_assert_int_eq(stat(wav, &sa), 0);
		ck_assert_int_eq(stat(flac, &sb), 0);
		wav_size = (int64_t)sa.st_size;
		flac_size = (int64_t)sb.st_size;
	}
	ck_assert_msg(flac_size * 2 < wav_size, "flac %lld bytes, wav %lld", (long long)flac_size, (long long)wav_size);
	a = decode_s16(wav, &na);
	b = decode_s16(flac, &nb);
	ck_assert_uint_eq(na, 2 * 30 * 4800);
	ck_assert_uint_eq(nb, na);
	ck_assert(memcmp(a, b, na * sizeof(*a)) == 0);
	/* Not audio: an error naming the file, and nothing left behind. */
	{
		char *bad = lv_test_write_file(dir, "bad.wav", "not audio at all"), *dst = lv_path_join(dir, "bad.flac");
		ck_assert_int_ne(lv_audio_to_flac(bad, dst), LV_OK);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "bad.wav"));
		ck_assert(!lv_path_exists(dst));
		free(bad);
		free(dst);
	}
	free(a);
	free(b);
	free(wav);
	free(flac);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (de->d_name[0] != '.' && l >= s && !strcmp(de->d_name + l - s, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* <data dir>/media/<top>/<id>[/<sub>]: where local storage keeps a task's objects. */
static char *media_path(lv_pt *pt, const char *top, const char *id, const char *sub)
{
	return lv_asprintf("%s/media/%s/%s%s%s", pt->dir, top, id, sub ? "/" : "", sub ? sub : "");
}

START_TEST(a_finished_task_stores_flac_stems_and_the_film_once)
{
	lv_pt pt;
	char id[64], *audio, *out, *film;
	lv_task *t;
	lv_media_info info;
	lv_pt_open(&pt, "ops-layout", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper finds a bottle\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	audio = media_path(&pt, "tasks", id, "audio");
	ck_assert_int_eq(count_files(audio, ".wav"), 0);
	ck_assert_int_ge(count_files(audio, ".flac"), 2); /* narration and music */
	{
		char *music = lv_path_join(audio, "music.flac");
		ck_assert_int_eq(lv_media_probe(&info, music), LV_OK);
		ck_assert(info.has_audio);
		ck_assert(info.duration > 7.0);
		free(music);
	}
	/* The composed outputs moved to their published place: one copy of the film. */
	out = media_path(&pt, "tasks", id, "out/0");
	ck_assert_int_eq(count_files(out, ".mp4"), 0);
	film = lv_pt_film(&pt, id);
	ck_assert_int_eq(lv_media_probe(&info, film), LV_OK);
	ck_assert(info.has_video && info.has_audio);
	free(film);
	free(out);
	free(audio);
	lv_pt_close(&pt);
}
END_TEST

/* ---- retention -------------------------------------------------------------------------- */

START_TEST(gc_removes_by_policy_and_removed_results_are_gone)
{
	lv_pt pt;
	char done_id[64], queued_id[64], *tasks_dir, *media_dir, *url_path = NULL, *path = NULL, *redirect = NULL;
	lv_gc_options o = { -1, 0, 0 };
	lv_gc_report r;
	lv_task *t;
	lv_pt_open(&pt, "ops-gc", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour at dusk\",\"duration\":4,\"narration\":false}", done_id);
	t = lv_pt_wait(&pt, done_id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	ck_assert_ptr_nonnull(strstr(lv_task_result_url(t), "/media/"));
	url_path = lv_strdup(strstr(lv_task_result_url(t), "/media/") + 1);
	lv_task_free(t);
	lv_workers_stop(pt.workers); /* the next task stays queued: in progress for gc */
	pt.workers = NULL;
	lv_pt_create(&pt, "{\"prompt\":\"Harbour at dawn\",\"duration\":4}", queued_id);
	tasks_dir = media_path(&pt, "tasks", done_id, NULL);
	media_dir = media_path(&pt, "media", done_id, NULL);

	/* The default policy keeps everything. */
	ck_assert_int_eq(lv_engine_gc(pt.engine, NULL, &r), LV_OK);
	ck_assert_int_eq(r.tasks_scanned, 2);
	ck_assert_int_eq(r.results_removed + r.intermediates_removed, 0);
	ck_assert(lv_path_exists(tasks_dir) && lv_path_exists(media_dir));

	/* A dry run counts and removes nothing. */
	o.intermediates = 1;
	o.dry_run = 1;
	ck_assert_int_eq(lv_engine_gc(pt.engine, &o, &r), LV_OK);
	ck_assert_int_eq(r.intermediates_removed, 1);
	ck_assert(lv_path_exists(tasks_dir));

	/* Working files of delivered tasks: the film stays and still plays; re-compose is refused. */
	o.dry_run = 0;
	ck_assert_int_eq(lv_engine_gc(pt.engine, &o, &r), LV_OK);
	ck_assert_int_eq(r.intermediates_removed, 1);
	ck_assert(!lv_path_exists(tasks_dir));
	ck_assert(lv_path_exists(media_dir));
	ck_assert_int_eq(lv_media_locate(&path, &redirect, pt.engine, url_path), LV_OK);
	lv_free(path);
	path = NULL;
	ck_assert_int_eq(lv_task_compose_json(&t, pt.engine, pt.key, done_id, NULL, 0), LV_ENOTCOMPOSABLE);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "retention"));

	/* Everything finished (older than 0 days): the results go, the queued task is left alone. */
	o.older_than_days = 0;
	o.intermediates = 0;
	ck_assert_int_eq(lv_engine_gc(pt.engine, &o, &r), LV_OK);
	ck_assert_int_eq(r.results_removed, 1);
	ck_assert_int_eq(r.skipped_running, 1);
	ck_assert(!lv_path_exists(media_dir));
	ck_assert_int_eq(lv_media_locate(&path, &redirect, pt.engine, url_path), LV_EGONE);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, done_id));
	ck_assert_str_eq(lv_status_code(LV_EGONE), "result_removed");
	/* Not a removed task: still plain "not found". */
	ck_assert_int_eq(lv_media_locate(&path, &redirect, pt.engine, "media/vid_nope/tok/final.mp4"), LV_ENOTFOUND);
	/* Run again: nothing more to do. */
	ck_assert_int_eq(lv_engine_gc(pt.engine, &o, &r), LV_OK);
	ck_assert_int_eq(r.results_removed + r.intermediates_removed, 0);
	t = NULL;
	ck_assert_int_eq(lv_task_get(&t, pt.engine, pt.key, queued_id), LV_OK);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_QUEUED);
	lv_task_free(t);
	free(url_path);
	free(tasks_dir);
	free(media_dir);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(keep_intermediates_false_removes_working_files_on_delivery)
{
	lv_pt pt;
	char id[64], *tasks_dir, *film;
	lv_task *t;
	lv_pt_open(&pt, "ops-keep", "{\"storage\":{\"keep_intermediates\":false}}", 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour at noon\",\"duration\":4,\"narration\":false}", id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	lv_workers_stop(pt.workers); /* returns once the worker is done with the task, removal included */
	pt.workers = NULL;
	tasks_dir = media_path(&pt, "tasks", id, NULL);
	ck_assert(!lv_path_exists(tasks_dir));
	film = lv_pt_film(&pt, id);
	ck_assert(lv_path_exists(film));
	ck_assert_int_eq(lv_task_compose_json(&t, pt.engine, pt.key, id, NULL, 0), LV_ENOTCOMPOSABLE);
	free(film);
	free(tasks_dir);
	lv_pt_close(&pt);
}
END_TEST

/* ---- JSON-lines logs ------------------------------------------------------------------------ */

/* A line the sanitizers' runtime wrote to the same stderr ("==PID==WARNING: ..."), not the program's log.
 * (AddressSanitizer warns once that it does not fully follow swapcontext, which lvserver's request
 * stacks use; a real sanitizer error aborts the program and fails the test anyway.) */
static int sanitizer_line(const char *line)
{
	int pid = 0, n = 0;
	return sscanf(line, "==%d==%n", &pid, &n) == 1 && n > 0;
}

/* Every line of a log file parsed as one JSON object with ts, level and msg; returns them as an array. */
static cJSON *json_lines(const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	cJSON *all = cJSON_CreateArray();
	ck_assert_int_eq(lv_test_read_file(&text, &len, path), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j;
		if (sanitizer_line(line))
			continue;
		j = cJSON_Parse(line);
		ck_assert_msg(j && cJSON_IsObject(j), "not a JSON object: %s", line);
		ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(j, "ts")) && cJSON_IsString(cJSON_GetObjectItem(j, "level")) &&
		              cJSON_IsString(cJSON_GetObjectItem(j, "msg")), "ts, level, msg missing: %s", line);
		ck_assert_int_eq((int)strlen(cJSON_GetObjectItem(j, "ts")->valuestring), 20);
		cJSON_AddItemToArray(all, j);
	}
	free(text);
	return all;
}

START_TEST(library_lines_in_json)
{
	char *dir = lv_test_mkdtemp("ops-logfmt"), *path = lv_path_join(dir, "err.log");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(2);
	lv_log_format f;
	cJSON *lines, *j;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lv_log_format_parse(&f, "json"), LV_OK);
	ck_assert_int_eq(f, LV_LOG_FORMAT_JSON);
	ck_assert_int_eq(lv_log_format_parse(&f, "xml"), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "xml"));
	lv_log_set_callback(NULL, NULL);
	lv_log_set_level(LV_LOG_INFO);
	dup2(fd, 2);
	lv_log_set_format(LV_LOG_FORMAT_JSON);
	LV_INFO("task vid_Ab12: said \"hi\"\n\tand left \\ \x01");
	lv_log_write(LV_LOG_WARN, "req_1", "GET /x 200", "\"status\":200");
	lv_log_set_format(LV_LOG_FORMAT_TEXT);
	LV_INFO("plain again");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	{ /* the last line is text: parse only the JSON ones */
		char *text = NULL;
		size_t len = 0;
		char *last;
		ck_assert_int_eq(lv_test_read_file(&text, &len, path), 0);
		last = strstr(text, "info plain again\n");
		ck_assert_ptr_nonnull(last);
		ck_assert(last > text && last[-1] == ' ');
		*strrchr(text, '\n') = '\0';
		*(strrchr(text, '\n') + 1) = '\0';
		free(lv_test_write_file(dir, "json.log", text));
		free(text);
	}
	free(path);
	path = lv_path_join(dir, "json.log");
	lines = json_lines(path);
	ck_assert_int_eq(cJSON_GetArraySize(lines), 2);
	j = cJSON_GetArrayItem(lines, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "info");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "task vid_Ab12: said \"hi\"\n\tand left \\ \x01");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "task_id")->valuestring, "vid_Ab12");
	j = cJSON_GetArrayItem(lines, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "request_id")->valuestring, "req_1");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fields"), "status")->valueint, 200);
	cJSON_Delete(lines);
	free(path);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(lvserver_and_worker_log_json_lines)
{
	char *dir = lv_test_mkdtemp("ops-jsonlog"), *cfg, *log, rid[80], url[160];
	lv_test_server srv;
	lv_test_response resp;
	cJSON *lines, *j;
	int found = 0, i, status;
	pid_t w;
	setenv("LV_LOG_LEVEL", "info", 1); /* the access lines are at info (the suite runs at warn) */
	cfg = lv_test_write_file(dir, "c.json", "{\"server\":{\"log_format\":\"json\"}}");
	ck_assert_int_eq(lv_test_server_start(&srv, dir, cfg, NULL), 0);
	snprintf(url, sizeof(url), "%s/v1/videos", srv.base_url);
	ck_assert_int_eq(lv_test_http(&resp, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(resp.status, 401);
	ck_assert_ptr_nonnull(lv_test_header(&resp, "X-Request-Id", rid, sizeof(rid)));
	lv_test_response_free(&resp);
	ck_assert_int_eq(lv_test_server_stop(&srv), 0);
	log = lv_path_join(dir, "lvserver.log");
	lines = json_lines(log);
	free(log);
	ck_assert_int_gt(cJSON_GetArraySize(lines), 3);
	cJSON_ArrayForEach(j, lines)
	{
		const cJSON *id = cJSON_GetObjectItem(j, "request_id"), *f = cJSON_GetObjectItem(j, "fields");
		if (cJSON_IsString(id) && !strcmp(id->valuestring, rid)) {
			ck_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "GET /v1/videos 401");
			ck_assert_str_eq(cJSON_GetObjectItem(f, "method")->valuestring, "GET");
			ck_assert_str_eq(cJSON_GetObjectItem(f, "path")->valuestring, "/v1/videos");
			ck_assert_int_eq(cJSON_GetObjectItem(f, "status")->valueint, 401);
			ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(f, "ms")));
			ck_assert_str_eq(cJSON_GetObjectItem(f, "client")->valuestring, "127.0.0.1");
			found++;
		}
	}
	ck_assert_int_eq(found, 1);
	cJSON_Delete(lines);

	/* lvctl worker: its own lines and the library's, JSON too (the config says so). */
	w = lv_test_worker_start(dir, cfg, "1");
	ck_assert_int_gt(w, 0);
	log = lv_path_join(dir, "worker.log");
	for (i = 0; i < 200; i++) { /* until its start line is written */
		char *text = NULL;
		size_t len = 0;
		int ready = lv_test_read_file(&text, &len, log) == 0 && strstr(text, "pipeline thread") != NULL;
		free(text);
		if (ready)
			break;
		usleep(50000);
	}
	kill(w, SIGTERM);
	ck_assert_int_eq(waitpid(w, &status, 0), w);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lines = json_lines(log);
	ck_assert_int_ge(cJSON_GetArraySize(lines), 2);
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(lines, 0), "msg")->valuestring,
	                             "pipeline thread"));
	cJSON_Delete(lines);
	free(log);
	free(cfg);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, example_config_holds_every_key_with_its_default);
	tcase_add_test(tc, example_configs_load_and_equal_the_defaults);
	tcase_add_test(tc, operating_md_documents_every_key);
	tcase_add_test(tc, new_keys_are_validated_by_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("logs");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, library_lines_in_json);
	tcase_add_test(tc, lvserver_and_worker_log_json_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("storage");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, flac_stems_are_lossless_and_smaller);
	tcase_add_test(tc, a_finished_task_stores_flac_stems_and_the_film_once);
	tcase_add_test(tc, gc_removes_by_policy_and_removed_results_are_gone);
	tcase_add_test(tc, keep_intermediates_false_removes_working_files_on_delivery);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
