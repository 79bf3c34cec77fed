/*
 * lv_compose_run: plan the video (join.c), measure and build the audio
 * (audio.c), then stream everything into one MP4: video packets as they are
 * produced, audio packets pumped up to each video timestamp, subtitle
 * samples at their start, so the muxer never buffers more than a packet or
 * two.  The MP4 is written under a temporary name and renamed at the end;
 * the thumbnail and the .srt/.vtt are written atomically beside it.
 */
#include "compose/internal.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"

#include <errno.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Share of the progress bar: audio analysis, then the mux, then the finishing steps. */
#define P_AUDIO 0.12
#define P_MUX 0.95

typedef struct comp {
	const lv_compose_job *job;
	lv_video_plan plan;
	lv_audio *audio;
	lv_cue_list cues; /* soft subtitles */
	AVFormatContext *out;
	AVStream *vst, *ast, *sst;
	const char *tmp_path; /* the MP4 being written */
	const char *prefix;   /* work files: prefix + suffix */
	size_t next_cue;
	AVPacket *spkt;
	double last_fraction;
} comp;

static int report(comp *c, double fraction)
{
	if (!c->job->progress)
		return LV_OK;
	if (fraction < 1.0 && fraction - c->last_fraction < 0.002)
		return LV_OK;
	c->last_fraction = fraction;
	if (c->job->progress(c->job->progress_ctx, fraction))
		return lv_error_set(LV_ECANCELED, "compose: canceled at %.0f%%", fraction * 100.0);
	return LV_OK;
}

static int audio_tick(void *ctx, double f)
{
	return report(ctx, f * P_AUDIO) != LV_OK;
}

static int video_tick(void *ctx, int64_t frames_done)
{
	comp *c = ctx;
	double f = c->plan.total_frames > 0 ? (double)frames_done / (double)c->plan.total_frames : 1.0;
	return report(c, P_AUDIO + (P_MUX - P_AUDIO) * f) != LV_OK;
}

static int write_packet(comp *c, AVPacket *pkt, const AVStream *st, AVRational src_tb)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	pkt->stream_index = st->index;
	av_packet_rescale_ts(pkt, src_tb, st->time_base);
	err = av_write_frame(c->out, pkt);
	av_packet_unref(pkt);
	if (err < 0)
		return lv_error_set(LV_EIO, "compose (%s): cannot write the %s track: %s", c->tmp_path,
		                    av_get_media_type_string(st->codecpar->codec_type), lv_av_err(eb, err));
	return LV_OK;
}

static int emit_audio(void *ctx, AVPacket *pkt)
{
	comp *c = ctx;
	return write_packet(c, pkt, c->ast, (AVRational){ 1, LV_AUDIO_RATE });
}

/* Subtitle samples whose start is at or before t seconds. */
static int subs_until(comp *c, double t)
{
	while (c->sst && c->next_cue < c->cues.n && c->cues.cues[c->next_cue].start <= t) {
		const lv_compose_cue *q = &c->cues.cues[c->next_cue++];
		int rc = lv_movtext_sample(c->spkt, q->text);
		if (rc != LV_OK)
			return rc;
		c->spkt->pts = c->spkt->dts = llround(q->start * 1000.0);
		c->spkt->duration = llround(q->end * 1000.0) - c->spkt->pts;
		if (c->spkt->duration <= 0)
			c->spkt->duration = 1;
		c->spkt->flags |= AV_PKT_FLAG_KEY;
		rc = write_packet(c, c->spkt, c->sst, (AVRational){ 1, 1000 });
		if (rc != LV_OK)
			return rc;
	}
	return LV_OK;
}

static int emit_video(void *ctx, AVPacket *pkt)
{
	comp *c = ctx;
	int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	int rc = subs_until(c, (double)dts * av_q2d(c->plan.tb));
	if (rc == LV_OK)
		rc = lv_audio_pump(c->audio, av_rescale_q(dts, c->plan.tb, (AVRational){ 1, LV_AUDIO_RATE }) + 1,
		                   emit_audio, c);
	if (rc == LV_OK)
		rc = write_packet(c, pkt, c->vst, c->plan.tb);
	return rc;
}

static int open_output(comp *c)
{
	const lv_compose_job *job = c->job;
	const char *lang = lv_lang_iso639_2(job->language);
	AVDictionary *opts = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avformat_alloc_output_context2(&c->out, NULL, "mp4", c->tmp_path);
	if (err < 0 || !c->out)
		return lv_error_set(LV_EINTERNAL, "compose: no MP4 muxer: %s", lv_av_err(eb, err));
	c->vst = avformat_new_stream(c->out, NULL);
	c->ast = avformat_new_stream(c->out, NULL);
	if (!c->vst || !c->ast)
		return lv_error_nomem();
	if (avcodec_parameters_copy(c->vst->codecpar, c->plan.par) < 0)
		return lv_error_nomem();
	c->vst->codecpar->codec_tag = 0;
	c->vst->time_base = c->plan.tb;
	c->vst->avg_frame_rate = c->plan.fps;
	c->vst->r_frame_rate = c->plan.fps;
	if (avcodec_parameters_from_context(c->ast->codecpar, lv_audio_codec(c->audio)) < 0)
		return lv_error_nomem();
	c->ast->time_base = (AVRational){ 1, LV_AUDIO_RATE };
	av_dict_set(&c->ast->metadata, "language", lang, 0);
	if (job->subtitles == LV_SUBS_SOFT && c->cues.n > 0) {
		int rc;
		c->sst = avformat_new_stream(c->out, NULL);
		if (!c->sst)
			return lv_error_nomem();
		c->sst->codecpar->codec_type = AVMEDIA_TYPE_SUBTITLE;
		c->sst->codecpar->codec_id = AV_CODEC_ID_MOV_TEXT;
		c->sst->time_base = (AVRational){ 1, 1000 };
		c->sst->disposition = AV_DISPOSITION_DEFAULT;
		rc = lv_movtext_extradata(c->sst->codecpar);
		if (rc != LV_OK)
			return rc;
		av_dict_set(&c->sst->metadata, "language", lang, 0);
	}
	err = avio_open(&c->out->pb, c->tmp_path, AVIO_FLAG_WRITE);
	if (err < 0)
		return lv_error_set(LV_EIO, "compose (%s): cannot create: %s", c->tmp_path, lv_av_err(eb, err));
	av_dict_set(&opts, "movflags", "+faststart", 0);
	err = avformat_write_header(c->out, &opts);
	av_dict_free(&opts);
	if (err < 0)
		return lv_error_set(LV_EIO, "compose (%s): cannot write the MP4 header: %s", c->tmp_path,
		                    lv_av_err(eb, err));
	return LV_OK;
}

static void close_output(comp *c)
{
	if (!c->out)
		return;
	if (c->out->pb)
		avio_closep(&c->out->pb);
	avformat_free_context(c->out);
	c->out = NULL;
}

static int mux(comp *c)
{
	lv_video_run run = { c->job, &c->plan, emit_video, video_tick, c };
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc = open_output(c);
	if (rc == LV_OK)
		rc = lv_video_produce(&run);
	if (rc == LV_OK)
		rc = lv_audio_pump(c->audio, INT64_MAX, emit_audio, c);
	if (rc == LV_OK)
		rc = subs_until(c, 1e300);
	if (rc == LV_OK && (rc = report(c, P_MUX)) == LV_OK) {
		err = av_write_trailer(c->out); /* with +faststart: moves the moov box to the front */
		if (err < 0)
			rc = lv_error_set(LV_EIO, "compose (%s): cannot finish the MP4: %s", c->tmp_path,
			                  lv_av_err(eb, err));
		if (rc == LV_OK && (err = avio_closep(&c->out->pb)) < 0)
			rc = lv_error_set(LV_EIO, "compose (%s): cannot close: %s", c->tmp_path, lv_av_err(eb, err));
	}
	close_output(c);
	return rc;
}

static int check_job(const lv_compose_job *job)
{
	struct stat st;
	if (!job)
		return lv_error_set(LV_EINVALID, "compose: no job");
	if (!job->out_dir || stat(job->out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return lv_error_set(LV_EINVALID, "compose: output directory %s does not exist",
		                    job->out_dir ? job->out_dir : "(none)");
	if (job->subtitles != LV_SUBS_SOFT && job->subtitles != LV_SUBS_BURN && job->subtitles != LV_SUBS_NONE)
		return lv_error_set(LV_EINVALID, "compose: subtitles mode %d is not soft, burn or none", job->subtitles);
	if (job->n_voices > 0 && !job->voices)
		return lv_error_set(LV_EINVALID, "compose: %zu voices but no list", job->n_voices);
	if (job->n_cues > 0 && !job->cues)
		return lv_error_set(LV_EINVALID, "compose: %zu cues but no list", job->n_cues);
	return LV_OK;
}

/* The written film's duration from its header (no need to read the packets). */
static int film_duration(double *out, const char *path)
{
	AVFormatContext *fmt = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avformat_open_input(&fmt, path, NULL, NULL);
	if (err < 0)
		return lv_error_set(LV_EIO, "compose (%s): cannot read back: %s", path, lv_av_err(eb, err));
	*out = fmt->duration > 0 ? (double)fmt->duration / AV_TIME_BASE : 0;
	avformat_close_input(&fmt);
	if (*out <= 0)
		return lv_error_set(LV_EIO, "compose (%s): the written film has no duration", path);
	return LV_OK;
}

/* Move src to dst; LV_EIO naming both. */
static int move(const char *src, const char *dst)
{
	if (rename(src, dst) != 0)
		return lv_error_set(LV_EIO, "compose: cannot rename %s to %s: %s", src, dst, strerror(errno));
	return LV_OK;
}

/*
 * The finishing steps: the thumbnail and the subtitle files are made under
 * work names beside the film, then everything takes its final name at once,
 * so a failed or canceled composition leaves the previous outputs as they were.
 */
static int finish(comp *c, lv_compose_stats *stats)
{
	const lv_compose_job *job = c->job;
	double duration = 0;
	int subs = job->subtitles != LV_SUBS_NONE;
	char *thumb = lv_path_join(job->out_dir, "thumbnail.jpg");
	char *srt = lv_path_join(job->out_dir, "final.srt");
	char *vtt = lv_path_join(job->out_dir, "final.vtt");
	char *mp4 = lv_path_join(job->out_dir, "final.mp4");
	char *thumb_tmp = lv_asprintf("%s-thumbnail.jpg", c->prefix);
	char *srt_tmp = lv_asprintf("%s.srt", c->prefix);
	char *vtt_tmp = lv_asprintf("%s.vtt", c->prefix);
	int rc = thumb && srt && vtt && mp4 && thumb_tmp && srt_tmp && vtt_tmp ? LV_OK : LV_ENOMEM;
	if (rc == LV_OK)
		rc = film_duration(&duration, c->tmp_path);
	if (rc == LV_OK)
		rc = lv_thumbnail_write(c->tmp_path,
		                        job->thumbnail_at > 0 && job->thumbnail_at < duration ? job->thumbnail_at
		                                                                             : duration / 3.0,
		                        thumb_tmp);
	if (rc == LV_OK)
		rc = report(c, 0.98);
	if (rc == LV_OK && subs)
		rc = lv_subtitles_write(c->cues.cues, c->cues.n, srt_tmp, vtt_tmp);
	if (rc == LV_OK)
		rc = report(c, 0.99); /* the last chance to cancel */
	if (rc == LV_OK)
		rc = move(c->tmp_path, mp4);
	if (rc == LV_OK)
		rc = move(thumb_tmp, thumb);
	if (rc == LV_OK && subs) {
		rc = move(srt_tmp, srt);
		if (rc == LV_OK)
			rc = move(vtt_tmp, vtt);
	} else if (rc == LV_OK) {
		/* a previous composition's subtitles must not outlive this one */
		unlink(srt);
		unlink(vtt);
	}
	if (rc != LV_OK) {
		if (thumb_tmp)
			unlink(thumb_tmp);
		if (srt_tmp)
			unlink(srt_tmp);
		if (vtt_tmp)
			unlink(vtt_tmp);
	}
	if (rc == LV_OK && stats) {
		size_t i;
		memset(stats, 0, sizeof(*stats));
		stats->duration = duration;
		stats->ducking_db = c->audio ? lv_audio_ducking_db(c->audio) : NAN;
		for (i = 0; i < c->plan.n; i++) {
			if (c->plan.segs[i].copy)
				stats->copied_segments++;
			else
				stats->reencoded_segments++;
		}
	}
	free(thumb_tmp);
	free(srt_tmp);
	free(vtt_tmp);
	free(thumb);
	free(srt);
	free(vtt);
	free(mp4);
	return rc;
}

static int compose_run(const lv_compose_job *job, lv_compose_stats *stats)
{
	comp c;
	char rnd[13], *name = NULL, *prefix = NULL, *tmp = NULL;
	int rc, i;
	int64_t t0 = av_gettime_relative();

	if (stats)
		memset(stats, 0, sizeof(*stats));
	rc = check_job(job);
	if (rc != LV_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.job = job;
	c.last_fraction = -1;
	rc = report(&c, 0.0);
	if (rc == LV_OK)
		rc = lv_video_plan_make(&c.plan, job);
	if (rc == LV_OK && job->subtitles != LV_SUBS_NONE)
		rc = lv_cues_for_plan(&c.cues, job, &c.plan,
		                      job->subtitles == LV_SUBS_BURN ? lv_burn_line_units(job->width, job->height) : 42);
	LV_DEBUG("compose: planned in %.2f s", (double)(av_gettime_relative() - t0) / 1e6);
	if (rc == LV_OK)
		rc = lv_random_base62(rnd, 12);
	if (rc == LV_OK) {
		name = lv_asprintf(".final-%s", rnd);
		prefix = name ? lv_path_join(job->out_dir, name) : NULL;
		tmp = prefix ? lv_asprintf("%s.mp4.part", prefix) : NULL;
		if (!tmp)
			rc = LV_ENOMEM;
	}
	if (rc == LV_OK) {
		int64_t samples = av_rescale(c.plan.total_frames, (int64_t)LV_AUDIO_RATE * c.plan.fps.den, c.plan.fps.num);
		rc = lv_audio_open(&c.audio, job, &c.plan, samples, prefix, audio_tick, &c);
	}
	c.tmp_path = tmp;
	c.prefix = prefix;
	c.spkt = av_packet_alloc();
	if (rc == LV_OK && !c.spkt)
		rc = lv_error_nomem();
	if (rc == LV_OK) {
		LV_DEBUG("compose: planned and measured in %.2f s", (double)(av_gettime_relative() - t0) / 1e6);
		rc = mux(&c);
		LV_DEBUG("compose: muxed at %.2f s", (double)(av_gettime_relative() - t0) / 1e6);
	}
	if (rc == LV_OK)
		rc = finish(&c, stats);
	if (rc == LV_OK && job->progress)
		(void)job->progress(job->progress_ctx, 1.0); /* done: too late to cancel */
	if (rc != LV_OK && tmp)
		unlink(tmp);
	if (rc == LV_OK) {
		int copied = 0;
		for (i = 0; i < (int)c.plan.n; i++)
			copied += c.plan.segs[i].copy;
		LV_INFO("compose: %s/final.mp4: %lld frames, %d of %zu segments copied, %.1f s", job->out_dir,
		        (long long)c.plan.total_frames, copied, c.plan.n, (double)(av_gettime_relative() - t0) / 1e6);
	}
	av_packet_free(&c.spkt);
	lv_audio_free(c.audio);
	lv_cues_free(&c.cues);
	lv_video_plan_free(&c.plan);
	free(tmp);
	free(prefix);
	free(name);
	return rc;
}

int lv_compose_run(const lv_compose_job *job, lv_compose_stats *stats)
{
	unsigned fpu = lv_fpu_flush_denormals();
	int rc = compose_run(job, stats);
	lv_fpu_restore(fpu);
	return rc;
}
