/*
 * The video track: plan which segments can be joined by stream copy, then
 * produce the packets in order — copied ones with their timestamps offset
 * (the concat demuxer's logic), the others decoded, scaled/padded to the
 * film's size, converted to the film's frame rate and re-encoded with the
 * canonical encoder (media/h264.h).
 */
#include "compose/internal.h"
#include "media/h264.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_isobmff(const AVFormatContext *fmt)
{
	return fmt->iformat && strstr(fmt->iformat->name, "mp4") != NULL;
}

int lv_seg_open(AVFormatContext **fmt, int *vi, const lv_seg *s)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	unsigned i;
	int err = avformat_open_input(fmt, s->path, NULL, NULL);
	*vi = -1;
	if (err < 0)
		return lv_error_set(err == AVERROR(ENOENT) ? LV_ENOTFOUND : LV_EIO, "segment %zu (%s): cannot open: %s",
		                    s->index, s->path, lv_av_err(eb, err));
	/* MP4/MOV headers describe the streams fully; other containers need a look at the packets. */
	if (!is_isobmff(*fmt)) {
		err = avformat_find_stream_info(*fmt, NULL);
		if (err < 0) {
			avformat_close_input(fmt);
			return lv_error_set(LV_EIO, "segment %zu (%s): cannot read stream info: %s", s->index, s->path,
			                    lv_av_err(eb, err));
		}
	}
	for (i = 0; i < (*fmt)->nb_streams; i++) {
		const AVStream *st = (*fmt)->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
			*vi = (int)i;
			break;
		}
	}
	if (*vi < 0) {
		avformat_close_input(fmt);
		return lv_error_set(LV_EINVALID, "segment %zu (%s): no video stream", s->index, s->path);
	}
	return LV_OK;
}

static int seg_probe(lv_seg *s)
{
	AVFormatContext *fmt = NULL;
	const AVStream *st;
	lv_h264_params p;
	unsigned i;
	int vi, rc = lv_seg_open(&fmt, &vi, s);
	if (rc != LV_OK)
		return rc;
	st = fmt->streams[vi];
	s->par = avcodec_parameters_alloc();
	if (!s->par || avcodec_parameters_copy(s->par, st->codecpar) < 0) {
		avformat_close_input(&fmt);
		return lv_error_nomem();
	}
	s->is_h264 = st->codecpar->codec_id == AV_CODEC_ID_H264;
	s->width = st->codecpar->width;
	s->height = st->codecpar->height;
	s->tb = st->time_base;
	/*
	 * The nominal frame rate: r_frame_rate (from the common frame duration) unless
	 * the average disagrees by more than 1%, which would mean variable timing.
	 * (A last frame of a different length moves the average a little.)
	 */
	s->fps = st->r_frame_rate;
	if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 &&
	    (s->fps.num <= 0 || s->fps.den <= 0 ||
	     fabs(av_q2d(st->avg_frame_rate) - av_q2d(s->fps)) > 0.01 * av_q2d(s->fps)))
		s->fps = st->avg_frame_rate;
	s->params_ok = s->is_h264 &&
	               lv_h264_params_parse(&p, st->codecpar->extradata, (size_t)st->codecpar->extradata_size) == LV_OK;
	s->avail_frames = -1;
	if (st->nb_frames > 0)
		s->avail_frames = st->nb_frames;
	else if (st->duration > 0 && s->fps.num > 0)
		s->avail_frames = llround((double)st->duration * av_q2d(st->time_base) * av_q2d(s->fps));
	else if (fmt->duration > 0 && s->fps.num > 0)
		s->avail_frames = llround((double)fmt->duration / AV_TIME_BASE * av_q2d(s->fps));
	s->first_key = 1;
	if (avformat_index_get_entries_count(st) > 0) {
		const AVIndexEntry *e = avformat_index_get_entry((AVStream *)st, 0);
		s->first_key = e && (e->flags & AVINDEX_KEYFRAME);
	}
	for (i = 0; i < fmt->nb_streams; i++)
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO &&
		    fmt->streams[i]->codecpar->codec_id != AV_CODEC_ID_NONE)
			s->has_audio = 1;
	avformat_close_input(&fmt);
	return LV_OK;
}

static int same_params(const lv_seg *a, const lv_seg *b)
{
	lv_h264_params pa, pb;
	if (lv_h264_params_parse(&pa, a->par->extradata, (size_t)a->par->extradata_size) != LV_OK ||
	    lv_h264_params_parse(&pb, b->par->extradata, (size_t)b->par->extradata_size) != LV_OK)
		return 0;
	return lv_h264_params_equal(&pa, &pb);
}

/* Frames per segment by cumulative rounding: the film lasts round(sum of seconds * fps) frames. */
static void assign_frames(lv_video_plan *plan, AVRational fps)
{
	double cum = 0;
	int64_t prev = 0;
	size_t i;
	for (i = 0; i < plan->n; i++) {
		int64_t end;
		cum += plan->segs[i].seconds;
		end = llround(cum * av_q2d(fps));
		plan->segs[i].first_frame = prev;
		plan->segs[i].frames = end - prev;
		prev = end;
	}
	plan->total_frames = prev;
	plan->fps = fps;
}

/*
 * Can the first `frames` frames of a copied segment be cut off from the rest
 * without breaking references?  Yes when the frames shown before the cut are
 * exactly a prefix of the decoding order (a frame only references frames
 * decoded before it).  Reads packet headers up to the cut.
 */
static int trim_is_safe(int *safe, const lv_seg *s, AVRational fps, int64_t frames)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt;
	int64_t start = AV_NOPTS_VALUE, cutoff;
	int vi, rc, after_cut = 0;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	*safe = 1;
	rc = lv_seg_open(&fmt, &vi, s);
	if (rc != LV_OK)
		return rc;
	pkt = av_packet_alloc();
	if (!pkt) {
		avformat_close_input(&fmt);
		return lv_error_nomem();
	}
	if (fmt->streams[vi]->start_time != AV_NOPTS_VALUE)
		start = fmt->streams[vi]->start_time;
	cutoff = av_rescale_q(frames, av_inv_q(fps), fmt->streams[vi]->time_base);
	for (;;) {
		int err = av_read_frame(fmt, pkt);
		if (err == AVERROR_EOF)
			break;
		if (err < 0) {
			rc = lv_error_set(LV_EIO, "segment %zu (%s): cannot read: %s", s->index, s->path, lv_av_err(eb, err));
			break;
		}
		if (pkt->stream_index == vi) {
			if (pkt->pts == AV_NOPTS_VALUE) {
				*safe = 0;
				av_packet_unref(pkt);
				break;
			}
			if (start == AV_NOPTS_VALUE)
				start = pkt->pts;
			if (pkt->pts - start >= cutoff) {
				after_cut = 1;
			} else if (after_cut) {
				*safe = 0; /* shown before the cut but decoded after a dropped frame */
				av_packet_unref(pkt);
				break;
			}
			if (pkt->dts != AV_NOPTS_VALUE && pkt->dts - start >= cutoff) {
				av_packet_unref(pkt);
				break; /* every later packet is shown after the cut */
			}
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return rc;
}

/*
 * Which segments need decoding whatever the target: too short to pad by copy,
 * or (when prescan is set: streams that may reorder frames) unsafe to trim.
 */
static int mark_decode(lv_video_plan *plan, AVRational fps, int burn, int prescan)
{
	size_t i;
	for (i = 0; i < plan->n; i++) {
		lv_seg *s = &plan->segs[i];
		s->need_decode = burn;
		if (burn)
			continue;
		/* Up to two frames short: the last frame is shown longer.  More: decode and repeat it. */
		if (s->avail_frames >= 0 && s->avail_frames < s->frames - 2) {
			s->need_decode = 1;
		} else if (prescan && (s->avail_frames < 0 || s->avail_frames > s->frames)) {
			int safe, rc = trim_is_safe(&safe, s, fps, s->frames);
			if (rc != LV_OK)
				return rc;
			s->need_decode = !safe;
		}
	}
	return LV_OK;
}

/*
 * The codec parameters the canonical encoder gives at the film's size, with
 * the extradata rewritten as avcC (what the MP4 muxer stores and demuxers
 * return), and its parameter sets for comparisons (pointing into par).
 */
static int canonical_params(AVCodecParameters **out, lv_h264_params *params, int w, int h)
{
	AVCodecContext *enc = NULL;
	AVCodecParameters *par;
	uint8_t *avcc = NULL;
	size_t len = 0;
	int rc = lv_h264_open(&enc, w, h);
	*out = NULL;
	if (rc != LV_OK)
		return lv_error_prefix("compose: canonical encoder");
	par = avcodec_parameters_alloc();
	if (!par || avcodec_parameters_from_context(par, enc) < 0) {
		avcodec_parameters_free(&par);
		avcodec_free_context(&enc);
		return lv_error_nomem();
	}
	avcodec_free_context(&enc);
	rc = lv_h264_params_parse(params, par->extradata, (size_t)par->extradata_size);
	if (rc == LV_OK)
		rc = lv_h264_avcc(&avcc, &len, params);
	else
		rc = lv_error_set(LV_EINTERNAL, "compose: the canonical encoder gave no SPS/PPS");
	if (rc != LV_OK) {
		avcodec_parameters_free(&par);
		return rc;
	}
	av_free(par->extradata);
	par->extradata = avcc;
	par->extradata_size = (int)len;
	rc = lv_h264_params_parse(params, par->extradata, (size_t)par->extradata_size);
	if (rc != LV_OK) {
		avcodec_parameters_free(&par);
		return lv_error_set(LV_EINTERNAL, "compose: cannot read back the canonical avcC");
	}
	*out = par;
	return LV_OK;
}

int lv_video_plan_make(lv_video_plan *plan, const lv_compose_job *job)
{
	AVCodecParameters *canon = NULL;
	lv_h264_params cp;
	size_t i;
	/* burning cues re-encodes the whole picture; with no cue there is nothing to draw */
	int rc, all_same, burn = job->subtitles == LV_SUBS_BURN && job->n_cues > 0;
	const AVRational canon_fps = { LV_SEG_FPS, 1 }, canon_tb = { 1, LV_SEG_TIMEBASE };

	memset(plan, 0, sizeof(*plan));
	if (!job->segments || job->n_segments == 0)
		return lv_error_set(LV_ENOSEGMENTS, "compose: no segments");
	if (job->width < 16 || job->height < 16 || job->width % 2 || job->height % 2 || job->width > 8192 ||
	    job->height > 8192)
		return lv_error_set(LV_EINVALID, "compose: picture size %dx%d is not even and within 16..8192",
		                    job->width, job->height);
	plan->segs = lv_calloc(job->n_segments, sizeof(*plan->segs));
	if (!plan->segs)
		return LV_ENOMEM;
	plan->n = job->n_segments;
	for (i = 0; i < plan->n; i++) {
		lv_seg *s = &plan->segs[i];
		s->path = job->segments[i].path;
		s->index = i;
		s->seconds = job->segments[i].seconds;
		if (!s->path || !*s->path) {
			rc = lv_error_set(LV_EINVALID, "segment %zu: no file", i);
			goto fail;
		}
		if (!isfinite(s->seconds) || s->seconds <= 0 || s->seconds > 3600) {
			rc = lv_error_set(LV_EINVALID, "segment %zu (%s): seconds %g is not a positive length", i, s->path,
			                  s->seconds);
			goto fail;
		}
		rc = seg_probe(s);
		if (rc != LV_OK)
			goto fail;
	}

	/* All segments alike (e.g. one external provider): copy them all as they are. */
	all_same = !burn;
	for (i = 0; i < plan->n && all_same; i++) {
		const lv_seg *s = &plan->segs[i], *s0 = &plan->segs[0];
		all_same = s->is_h264 && s->params_ok && s->first_key && s->width == job->width &&
		           s->height == job->height && s->fps.num > 0 && s->fps.den > 0 &&
		           !av_cmp_q(s->fps, s0->fps) && !av_cmp_q(s->tb, s0->tb) && s->par->codec_tag == s0->par->codec_tag &&
		           (i == 0 || same_params(s, s0));
	}
	if (all_same) {
		int any = 0;
		assign_frames(plan, plan->segs[0].fps);
		rc = mark_decode(plan, plan->fps, 0, 1);
		if (rc != LV_OK)
			goto fail;
		for (i = 0; i < plan->n; i++)
			any |= plan->segs[i].need_decode;
		all_same = !any;
	}
	if (all_same) {
		plan->canonical = 0;
		plan->tb = plan->segs[0].tb;
		plan->par = avcodec_parameters_alloc();
		if (!plan->par || avcodec_parameters_copy(plan->par, plan->segs[0].par) < 0) {
			rc = lv_error_nomem();
			goto fail;
		}
		for (i = 0; i < plan->n; i++)
			plan->segs[i].copy = 1;
		return LV_OK;
	}

	/* Otherwise the canonical encoding: copy the conforming segments, re-encode the rest. */
	rc = canonical_params(&canon, &cp, job->width, job->height);
	if (rc != LV_OK)
		goto fail;
	assign_frames(plan, canon_fps);
	/* Conforming segments have no B-frames (trimming is safe); the others are decoded anyway. */
	rc = mark_decode(plan, canon_fps, burn, 0);
	if (rc != LV_OK)
		goto fail;
	for (i = 0; i < plan->n; i++) {
		lv_seg *s = &plan->segs[i];
		lv_h264_params sp;
		int conforming = s->is_h264 && s->params_ok && s->first_key && s->width == job->width &&
		                 s->height == job->height && !av_cmp_q(s->fps, canon_fps) && !av_cmp_q(s->tb, canon_tb) &&
		                 lv_h264_params_parse(&sp, s->par->extradata, (size_t)s->par->extradata_size) == LV_OK &&
		                 lv_h264_params_equal(&sp, &cp);
		s->copy = conforming && !s->need_decode;
		if (!s->copy)
			LV_DEBUG("compose: segment %zu (%s) is re-encoded (%s)", i, s->path,
			         s->need_decode ? "must be trimmed, padded or drawn on" : "codec parameters differ");
	}
	plan->canonical = 1;
	plan->tb = canon_tb;
	plan->par = canon;
	return LV_OK;
fail:
	avcodec_parameters_free(&canon);
	lv_video_plan_free(plan);
	return rc;
}

void lv_video_plan_free(lv_video_plan *plan)
{
	size_t i;
	for (i = 0; plan->segs && i < plan->n; i++)
		avcodec_parameters_free(&plan->segs[i].par);
	free(plan->segs);
	avcodec_parameters_free(&plan->par);
	memset(plan, 0, sizeof(*plan));
}
