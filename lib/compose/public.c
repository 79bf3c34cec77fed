/*
 * The public composition call (<longvideo/compose.h>): checks the caller's options, naming the one that
 * is wrong, and runs the composer the pipeline uses.  Also a bounded SubRip reader for callers whose
 * cues come as an .srt file.
 */
#include "compose/compose.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SRT_MAX_BYTES (16u << 20)
#define SRT_MAX_CUES 10000

static int is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_options(const lv_compose_options *o)
{
	size_t i;
	if (!o)
		return lv_error_set(LV_EINVALID, "compose options are NULL");
	if (o->version != LV_COMPOSE_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "compose options version %u is not %d (initialise with LV_COMPOSE_OPTIONS_INIT)",
		                    o->version, LV_COMPOSE_OPTIONS_VERSION);
	if (!o->segments || o->n_segments == 0)
		return lv_error_set(LV_EINVALID, "segments: at least one clip is needed");
	for (i = 0; i < o->n_segments; i++) {
		if (!o->segments[i].path || !*o->segments[i].path)
			return lv_error_set(LV_EINVALID, "segments[%zu].path is empty", i);
		if (!(o->segments[i].seconds >= 0) || !isfinite(o->segments[i].seconds))
			return lv_error_set(LV_EINVALID, "segments[%zu].seconds must be 0 (the whole clip) or more", i);
	}
	if (o->n_voices && !o->voices)
		return lv_error_set(LV_EINVALID, "voices is NULL but n_voices is %zu", o->n_voices);
	for (i = 0; i < o->n_voices; i++) {
		if (!o->voices[i].path || !*o->voices[i].path)
			return lv_error_set(LV_EINVALID, "voices[%zu].path is empty", i);
		if (!(o->voices[i].start >= 0) || !isfinite(o->voices[i].start))
			return lv_error_set(LV_EINVALID, "voices[%zu].start must be 0 or more", i);
	}
	if (o->n_cues && !o->cues)
		return lv_error_set(LV_EINVALID, "cues is NULL but n_cues is %zu", o->n_cues);
	for (i = 0; i < o->n_cues; i++) {
		if (!o->cues[i].text)
			return lv_error_set(LV_EINVALID, "cues[%zu].text is NULL", i);
		if (!(o->cues[i].start >= 0) || !(o->cues[i].end > o->cues[i].start) || !isfinite(o->cues[i].end))
			return lv_error_set(LV_EINVALID, "cues[%zu]: start must be 0 or more and end after start", i);
	}
	if (o->subtitles != LV_SUBS_SOFT && o->subtitles != LV_SUBS_BURN && o->subtitles != LV_SUBS_NONE)
		return lv_error_set(LV_EINVALID, "subtitles must be LV_SUBS_SOFT, LV_SUBS_BURN or LV_SUBS_NONE");
	if ((o->width == 0) != (o->height == 0) || o->width < 0 || o->height < 0 || o->width % 2 || o->height % 2 ||
	    o->width > 4096 || o->height > 4096)
		return lv_error_set(LV_EINVALID, "width and height must both be 0 (the first clip's size) or even sizes up to 4096");
	if (!(o->target_lufs <= -5 && o->target_lufs >= -40))
		return lv_error_set(LV_EINVALID, "target_lufs must be between -40 and -5");
	if (!(o->true_peak_db <= 0 && o->true_peak_db >= -9))
		return lv_error_set(LV_EINVALID, "true_peak_db must be between -9 and 0");
	if (!(o->segment_audio_db <= 0 && o->segment_audio_db >= -90))
		return lv_error_set(LV_EINVALID, "segment_audio_db must be between -90 and 0");
	if (!is_dir(o->out_dir))
		return lv_error_set(LV_EINVALID, "out_dir '%s' is not an existing directory", o->out_dir ? o->out_dir : "(null)");
	return LV_OK;
}

static double report_value(const cJSON *qc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, key), "value");
	return cJSON_IsNumber(v) ? v->valuedouble : -HUGE_VAL;
}

/* The film's quality report (lib/compose/qc.c) with the default limits, written to out_dir/qc.json; its
 * loudness and true peak fill the result. */
static int film_report(const lv_compose_options *opts, const lv_compose_job *job, const lv_compose_stats *stats,
                       lv_compose_result *result)
{
	lv_qc_targets tg;
	lv_qc_input in;
	cJSON *qc = NULL;
	double *cuts = opts->n_segments > 1 ? lv_calloc(opts->n_segments - 1, sizeof(*cuts)) : NULL, t = 0;
	char *film = lv_path_join(opts->out_dir, "final.mp4"), *srt = lv_path_join(opts->out_dir, "final.srt"),
	     *path = lv_path_join(opts->out_dir, "qc.json");
	size_t i;
	int rc = film && srt && path && (opts->n_segments < 2 || cuts) ? LV_OK : lv_error_nomem();
	lv_qc_targets_default(&tg, opts->target_lufs, opts->true_peak_db);
	memset(&in, 0, sizeof(in));
	in.film = film;
	in.srt = opts->subtitles == LV_SUBS_NONE ? NULL : srt;
	in.subtitle_track = opts->subtitles == LV_SUBS_SOFT && opts->n_cues > 0;
	for (i = 0; i < job->n_segments; i++) {
		if (i > 0 && cuts)
			cuts[in.n_cuts++] = t;
		t += job->segments[i].seconds;
	}
	in.requested_seconds = t;
	in.cuts = cuts;
	in.voices = job->voices;
	in.n_voices = job->n_voices;
	in.ducking_db = stats->ducking_db;
	in.targets = &tg;
	if (rc == LV_OK)
		rc = lv_qc_measure(&qc, &in);
	if (rc == LV_OK)
		rc = lv_qc_write(qc, path);
	if (rc == LV_OK) {
		result->loudness_lufs = report_value(qc, "loudness_lufs");
		result->true_peak_dbtp = report_value(qc, "true_peak_dbtp");
	}
	cJSON_Delete(qc);
	free(cuts);
	free(film);
	free(srt);
	free(path);
	return rc;
}

int lv_compose_files(const lv_compose_options *opts, lv_compose_result *result)
{
	lv_compose_job job;
	lv_compose_stats stats;
	lv_compose_segment *own = NULL;
	size_t i;
	int rc;
	if (result && result->version != LV_COMPOSE_RESULT_VERSION)
		return lv_error_set(LV_EINVALID, "compose result version %u is not %d (initialise with LV_COMPOSE_RESULT_INIT)",
		                    result->version, LV_COMPOSE_RESULT_VERSION);
	if ((rc = check_options(opts)) != LV_OK)
		return rc;
	/* Clips given as 0 seconds are used whole: their length is read from the file. */
	for (i = 0; i < opts->n_segments && opts->segments[i].seconds > 0; i++)
		;
	if (i < opts->n_segments) {
		if (!(own = lv_calloc(opts->n_segments, sizeof(*own))))
			return LV_ENOMEM;
		for (i = 0; i < opts->n_segments; i++) {
			lv_media_info info;
			own[i] = opts->segments[i];
			if (own[i].seconds > 0)
				continue;
			if ((rc = lv_media_probe(&info, own[i].path)) != LV_OK) {
				lv_error_prefix("segment %zu (%s)", i, own[i].path);
				free(own);
				return rc;
			}
			own[i].seconds = info.video_duration > 0 ? info.video_duration : info.duration;
			if (!(own[i].seconds > 0)) {
				rc = lv_error_set(LV_EINVALID, "segment %zu (%s) has no video to use", i, own[i].path);
				free(own);
				return rc;
			}
		}
	}
	memset(&job, 0, sizeof(job));
	job.segments = own ? own : opts->segments;
	job.n_segments = opts->n_segments;
	job.width = opts->width;
	job.height = opts->height;
	if (job.width == 0) {
		lv_media_info info;
		if ((rc = lv_media_probe(&info, opts->segments[0].path)) != LV_OK) {
			free(own);
			return lv_error_prefix("segment 0 (%s)", opts->segments[0].path);
		}
		if (!info.has_video || info.width <= 0 || info.height <= 0) {
			free(own);
			return lv_error_set(LV_EINVALID, "segment 0 (%s) has no video stream", opts->segments[0].path);
		}
		job.width = info.width & ~1;
		job.height = info.height & ~1;
	}
	job.voices = opts->voices;
	job.n_voices = opts->n_voices;
	job.music_path = opts->music_path;
	job.segment_audio_db = opts->segment_audio_db;
	job.cues = opts->cues;
	job.n_cues = opts->n_cues;
	job.subtitles = opts->subtitles;
	job.language = opts->language ? opts->language : "und";
	job.font_file = opts->font_file;
	job.out_dir = opts->out_dir;
	job.target_lufs = opts->target_lufs;
	job.true_peak_db = opts->true_peak_db;
	job.progress = opts->progress;
	job.progress_ctx = opts->progress_ctx;
	memset(&stats, 0, sizeof(stats));
	rc = lv_compose_run(&job, &stats);
	if (rc == LV_OK && result) {
		result->duration = stats.duration;
		result->copied_segments = stats.copied_segments;
		result->reencoded_segments = stats.reencoded_segments;
		rc = film_report(opts, &job, &stats, result);
	}
	free(own);
	return rc;
}

/* ---- SubRip ------------------------------------------------------------------------------------------ */

/* "00:01:02,345" (',' or '.' before the milliseconds); returns the end of the timestamp or NULL. */
static const char *srt_time(const char *p, double *out)
{
	unsigned h, m, s, ms;
	int n = 0;
	if (sscanf(p, "%2u:%2u:%2u%*[,.]%3u%n", &h, &m, &s, &ms, &n) != 4 || n == 0 || m > 59 || s > 59)
		return NULL;
	*out = h * 3600.0 + m * 60.0 + s + ms / 1000.0;
	return p + n;
}

static const char *next_line(const char *p, const char *end, size_t *len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *stop = nl ? nl : end;
	*len = (size_t)(stop - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : end;
}

int lv_compose_read_srt(lv_compose_cue **cues, size_t *n_cues, const char *path)
{
	char *data = NULL, *texts;
	size_t len = 0, n = 0, cap_text, line_no = 0;
	const char *p, *end;
	lv_compose_cue *out = NULL;
	char *wp;
	int rc;
	*cues = NULL;
	*n_cues = 0;
	if ((rc = lv_file_read(&data, &len, path)) != LV_OK)
		return rc;
	if (len > SRT_MAX_BYTES) {
		free(data);
		return lv_error_set(LV_EINVALID, "%s: more than %u bytes of subtitles", path, SRT_MAX_BYTES);
	}
	if (memchr(data, '\0', len)) {
		free(data);
		return lv_error_set(LV_EINVALID, "%s: not a text file (NUL byte)", path);
	}
	/* One block: the cue array, then every text (each at most the file's length in total). */
	cap_text = len + 1;
	out = lv_calloc(1, SRT_MAX_CUES * sizeof(*out) + cap_text);
	if (!out) {
		free(data);
		return LV_ENOMEM;
	}
	texts = (char *)(out + SRT_MAX_CUES);
	wp = texts;
	p = data;
	end = data + len;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (p < end) {
		size_t l;
		const char *line = p, *t;
		double a, b;
		p = next_line(p, end, &l);
		line_no++;
		if (l == 0)
			continue; /* blank lines between entries */
		/* The counter line is optional in practice; a timing line may come first. */
		if (!memchr(line, '>', l)) {
			line = p;
			p = next_line(p, end, &l);
			line_no++;
		}
		if (line >= end || !(t = srt_time(line, &a)) || strncmp(t, " --> ", 5) || !srt_time(t + 5, &b) || !(b > a)) {
			free(data);
			free(out);
			return lv_error_set(LV_EINVALID, "%s:%zu: expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm' with the end after the start",
			                    path, line_no);
		}
		if (n == SRT_MAX_CUES) {
			free(data);
			free(out);
			return lv_error_set(LV_EINVALID, "%s: more than %d cues", path, SRT_MAX_CUES);
		}
		out[n].start = a;
		out[n].end = b;
		out[n].text = wp;
		/* Text: every line up to a blank one, joined with '\n'. */
		while (p < end) {
			const char *tl = p;
			p = next_line(p, end, &l);
			line_no++;
			if (l == 0)
				break;
			if (wp != out[n].text)
				*wp++ = '\n';
			memcpy(wp, tl, l);
			wp += l;
		}
		*wp++ = '\0';
		n++;
	}
	free(data);
	if (n == 0) {
		free(out);
		return lv_error_set(LV_EINVALID, "%s: no subtitle cue", path);
	}
	*cues = out;
	*n_cues = n;
	return LV_OK;
}
