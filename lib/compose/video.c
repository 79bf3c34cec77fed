/*
 * Producing the video track from the plan (join.c): copied segments keep
 * their packets and get their timestamps offset; the others are decoded,
 * fitted to the film's picture (scale keeping aspect, letterbox/pillarbox),
 * converted to the film's frame rate, optionally drawn on (burned cues) and
 * encoded with the canonical encoder.  One encoder serves a run of
 * consecutive re-encoded segments; it is drained before a copied segment.
 */
#include "compose/internal.h"
#include "media/h264.h"
#include "util/error.h"
#include "util/mem.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <stdio.h>
#include <string.h>

typedef struct vstate {
	const lv_video_run *run;
	const lv_video_plan *plan;
	AVCodecContext *enc; /* open during a run of re-encoded segments */
	AVPacket *pkt;
	int64_t frames_done;
	lv_cue_list cues;
} vstate;

static int tick(vstate *v)
{
	if (v->run->tick && v->run->tick(v->run->ctx, v->frames_done))
		return lv_error_set(LV_ECANCELED, "compose: canceled");
	return LV_OK;
}

static int emit(vstate *v, AVPacket *pkt)
{
	int rc = v->run->emit(v->run->ctx, pkt);
	av_packet_unref(pkt);
	return rc;
}

/* ---- copy ---- */

static int copy_segment(vstate *v, const lv_seg *s)
{
	const lv_video_plan *plan = v->plan;
	AVFormatContext *fmt = NULL;
	AVPacket *held = NULL, *pkt = v->pkt;
	AVRational in_tb, frame_q = av_inv_q(plan->fps);
	int64_t start = AV_NOPTS_VALUE, cutoff, offset, seg_end, frame_ticks, max_pts = INT64_MIN;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int vi, rc;
	unsigned i;

	if ((rc = lv_seg_open(&fmt, &vi, s)) != LV_OK)
		return rc;
	for (i = 0; i < fmt->nb_streams; i++)
		if ((int)i != vi)
			fmt->streams[i]->discard = AVDISCARD_ALL;
	in_tb = fmt->streams[vi]->time_base;
	if (fmt->streams[vi]->start_time != AV_NOPTS_VALUE)
		start = fmt->streams[vi]->start_time;
	cutoff = av_rescale_q(s->frames, frame_q, in_tb);
	offset = av_rescale_q(s->first_frame, frame_q, plan->tb);
	seg_end = av_rescale_q(s->first_frame + s->frames, frame_q, plan->tb);
	frame_ticks = av_rescale_q(1, frame_q, plan->tb);
	held = av_packet_alloc();
	if (!held) {
		avformat_close_input(&fmt);
		return lv_error_nomem();
	}
	rc = LV_OK;
	for (;;) {
		int err = av_read_frame(fmt, pkt);
		int64_t rel;
		if (err == AVERROR_EOF)
			break;
		if (err < 0) {
			rc = lv_error_set(LV_EIO, "segment %zu (%s): cannot read: %s", s->index, s->path, lv_av_err(eb, err));
			break;
		}
		if (pkt->stream_index != vi) {
			av_packet_unref(pkt);
			continue;
		}
		if (pkt->pts == AV_NOPTS_VALUE) {
			av_packet_unref(pkt);
			rc = lv_error_set(LV_EINVALID, "segment %zu (%s): copy: a packet has no timestamp", s->index, s->path);
			break;
		}
		if (start == AV_NOPTS_VALUE)
			start = pkt->pts;
		rel = pkt->pts - start;
		if (rel >= cutoff) {
			int done = pkt->dts == AV_NOPTS_VALUE || pkt->dts - start >= cutoff;
			av_packet_unref(pkt);
			if (done)
				break;
			continue;
		}
		pkt->pts = av_rescale_q(rel, in_tb, plan->tb) + offset;
		pkt->dts = pkt->dts == AV_NOPTS_VALUE ? pkt->pts : av_rescale_q(pkt->dts - start, in_tb, plan->tb) + offset;
		pkt->duration = pkt->duration > 0 ? av_rescale_q(pkt->duration, in_tb, plan->tb) : frame_ticks;
		pkt->stream_index = 0;
		pkt->pos = -1;
		if (pkt->pts > max_pts)
			max_pts = pkt->pts;
		if (held->data) {
			rc = emit(v, held);
			if (rc != LV_OK) {
				av_packet_unref(pkt);
				break;
			}
			v->frames_done++;
			if (v->frames_done % 12 == 0 && (rc = tick(v)) != LV_OK) {
				av_packet_unref(pkt);
				break;
			}
		}
		av_packet_move_ref(held, pkt);
	}
	if (rc == LV_OK && !held->data)
		rc = lv_error_set(LV_EINVALID, "segment %zu (%s): copy: no video packets", s->index, s->path);
	if (rc == LV_OK) {
		/* A segment slightly shorter than its share: its last frame stays up until the next one. */
		if (held->pts == max_pts && held->pts + held->duration < seg_end)
			held->duration = seg_end - held->pts;
		rc = emit(v, held);
		v->frames_done++;
	}
	/* frames_done counts packets; align it to the plan for progress. */
	if (rc == LV_OK)
		v->frames_done = s->first_frame + s->frames;
	av_packet_free(&held);
	avformat_close_input(&fmt);
	return rc == LV_OK ? tick(v) : rc;
}

/* ---- re-encode ---- */

static int encoder_write(vstate *v, AVFrame *frame)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	AVRational frame_q = av_inv_q(v->plan->fps);
	int err = avcodec_send_frame(v->enc, frame);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "compose: H.264 encoder: %s", lv_av_err(eb, err));
	for (;;) {
		int rc;
		err = avcodec_receive_packet(v->enc, v->pkt);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return LV_OK;
		if (err < 0)
			return lv_error_set(LV_EINTERNAL, "compose: H.264 encoder: %s", lv_av_err(eb, err));
		rc = lv_h264_annexb_to_mp4(v->pkt);
		if (rc != LV_OK) {
			av_packet_unref(v->pkt);
			return rc;
		}
		v->pkt->pts = av_rescale_q(v->pkt->pts, v->enc->time_base, v->plan->tb);
		v->pkt->dts = av_rescale_q(v->pkt->dts, v->enc->time_base, v->plan->tb);
		v->pkt->duration = av_rescale_q(1, frame_q, v->plan->tb);
		v->pkt->stream_index = 0;
		rc = emit(v, v->pkt);
		if (rc != LV_OK)
			return rc;
	}
}

static int encoder_finish(vstate *v)
{
	int rc;
	if (!v->enc)
		return LV_OK;
	rc = encoder_write(v, NULL);
	avcodec_free_context(&v->enc);
	return rc;
}

/* A decoded frame, fitted and timed, at film frame index `index`: draw cues, encode. */
static int put_frame(vstate *v, const lv_seg *s, lv_burn *burn, AVFrame *frame, int64_t index, AVFrame *tmp)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc;
	frame->pts = index;
	frame->pict_type = AV_PICTURE_TYPE_NONE; /* let the encoder choose; it would honour I/P/B */
	frame->key_frame = 0;
	if (burn->graph) {
		err = av_buffersrc_write_frame(burn->src, frame);
		if (err >= 0)
			err = av_buffersink_get_frame(burn->sink, tmp);
		if (err < 0)
			return lv_error_set(LV_EINTERNAL, "segment %zu (%s): drawing subtitles: %s", s->index, s->path,
			                    lv_av_err(eb, err));
		tmp->pts = index;
		tmp->pict_type = AV_PICTURE_TYPE_NONE;
		rc = encoder_write(v, tmp);
		av_frame_unref(tmp);
	} else {
		rc = encoder_write(v, frame);
	}
	if (rc == LV_OK) {
		v->frames_done = index + 1;
		if (v->frames_done % 12 == 0)
			rc = tick(v);
	}
	return rc;
}

/* buffer -> [square pixels] -> scale (fit) -> pad (centre) -> fps -> yuv420p -> buffersink */
static int fit_graph(AVFilterGraph **out, AVFilterContext **src, AVFilterContext **sink, const AVFrame *first,
                     AVRational in_tb, const lv_seg *s, int w, int h, AVRational fps)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	AVFilterInOut *gin = NULL, *gout = NULL;
	AVRational sar = first->sample_aspect_ratio;
	char args[512], desc[768], eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	if (!g)
		return lv_error_nomem();
	g->nb_threads = 1;
	if (sar.num <= 0 || sar.den <= 0)
		sar = (AVRational){ 1, 1 };
	snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", first->width,
	         first->height, first->format, in_tb.num, in_tb.den, sar.num, sar.den);
	err = avfilter_graph_create_filter(src, avfilter_get_by_name("buffer"), "in", args, NULL, g);
	if (err >= 0)
		err = avfilter_graph_create_filter(sink, avfilter_get_by_name("buffersink"), "out", NULL, NULL, g);
	if (err < 0)
		goto fail;
	snprintf(desc, sizeof(desc),
	         "%sscale=w=%d:h=%d:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic,"
	         "pad=w=%d:h=%d:x=(ow-iw)/2:y=(oh-ih)/2:color=black,setsar=1,fps=fps=%d/%d:start_time=0,"
	         "format=pix_fmts=yuv420p",
	         av_cmp_q(sar, (AVRational){ 1, 1 }) ? "scale=w=trunc(iw*sar/2)*2:h=ih,setsar=1," : "", w, h, w, h,
	         fps.num, fps.den);
	gout = avfilter_inout_alloc();
	gin = avfilter_inout_alloc();
	if (!gout || !gin) {
		err = AVERROR(ENOMEM);
		goto fail;
	}
	gout->name = av_strdup("in");
	gout->filter_ctx = *src;
	gin->name = av_strdup("out");
	gin->filter_ctx = *sink;
	err = avfilter_graph_parse_ptr(g, desc, &gin, &gout, NULL);
	if (err >= 0)
		err = avfilter_graph_config(g, NULL);
	if (err < 0)
		goto fail;
	avfilter_inout_free(&gin);
	avfilter_inout_free(&gout);
	*out = g;
	return LV_OK;
fail:
	avfilter_inout_free(&gin);
	avfilter_inout_free(&gout);
	avfilter_graph_free(&g);
	return lv_error_set(LV_EINTERNAL, "segment %zu (%s): cannot set up scaling to %dx%d: %s", s->index, s->path, w,
	                    h, lv_av_err(eb, err));
}

typedef struct recode {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	lv_burn burn;
	AVFrame *frame, *last, *tmp;
	int vi;
	int64_t start, produced;
} recode;

static void recode_free(recode *r)
{
	lv_burn_close(&r->burn);
	avfilter_graph_free(&r->graph);
	av_frame_free(&r->frame);
	av_frame_free(&r->last);
	av_frame_free(&r->tmp);
	avcodec_free_context(&r->dec);
	avformat_close_input(&r->fmt);
}

/* Pull fitted frames out of the graph and encode them until the segment has its frames. */
static int drain_fit(vstate *v, const lv_seg *s, recode *r)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	while (r->produced < s->frames) {
		int rc, err = av_buffersink_get_frame(r->sink, r->frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return LV_OK;
		if (err < 0)
			return lv_error_set(LV_EINTERNAL, "segment %zu (%s): scaling: %s", s->index, s->path,
			                    lv_av_err(eb, err));
		av_frame_unref(r->last);
		if (av_frame_ref(r->last, r->frame) < 0) {
			av_frame_unref(r->frame);
			return lv_error_nomem();
		}
		rc = put_frame(v, s, &r->burn, r->frame, s->first_frame + r->produced, r->tmp);
		av_frame_unref(r->frame);
		if (rc != LV_OK)
			return rc;
		r->produced++;
	}
	return LV_OK;
}

static int feed_decoded(vstate *v, const lv_seg *s, recode *r)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	for (;;) {
		int rc, err = avcodec_receive_frame(r->dec, r->frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return LV_OK;
		if (err < 0)
			return lv_error_set(LV_EIO, "segment %zu (%s): cannot decode: %s", s->index, s->path,
			                    lv_av_err(eb, err));
		if (!r->graph) {
			rc = fit_graph(&r->graph, &r->src, &r->sink, r->frame, r->fmt->streams[r->vi]->time_base, s,
			               v->run->job->width, v->run->job->height, v->plan->fps);
			if (rc != LV_OK) {
				av_frame_unref(r->frame);
				return rc;
			}
		}
		if (r->frame->best_effort_timestamp != AV_NOPTS_VALUE)
			r->frame->pts = r->frame->best_effort_timestamp;
		if (r->start == AV_NOPTS_VALUE)
			r->start = r->frame->pts == AV_NOPTS_VALUE ? 0 : r->frame->pts;
		if (r->frame->pts != AV_NOPTS_VALUE)
			r->frame->pts -= r->start;
		err = av_buffersrc_add_frame_flags(r->src, r->frame, AV_BUFFERSRC_FLAG_KEEP_REF);
		av_frame_unref(r->frame);
		if (err < 0)
			return lv_error_set(LV_EINTERNAL, "segment %zu (%s): scaling: %s", s->index, s->path,
			                    lv_av_err(eb, err));
		rc = drain_fit(v, s, r);
		if (rc != LV_OK || r->produced >= s->frames)
			return rc;
	}
}

static int recode_segment(vstate *v, const lv_seg *s)
{
	recode r;
	char eb[AV_ERROR_MAX_STRING_SIZE], name[48];
	int rc = LV_OK, err, eof = 0;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.start = AV_NOPTS_VALUE;
	snprintf(name, sizeof(name), "segment %zu", s->index);
	if ((rc = lv_av_open_input(&r.fmt, s->path, name)) != LV_OK)
		return rc;
	if ((rc = lv_av_open_decoder(&r.dec, &r.vi, r.fmt, AVMEDIA_TYPE_VIDEO, 2, name, s->path)) != LV_OK)
		goto out;
	for (i = 0; i < r.fmt->nb_streams; i++)
		if ((int)i != r.vi)
			r.fmt->streams[i]->discard = AVDISCARD_ALL;
	r.frame = av_frame_alloc();
	r.last = av_frame_alloc();
	r.tmp = av_frame_alloc();
	if (!r.frame || !r.last || !r.tmp) {
		rc = lv_error_nomem();
		goto out;
	}
	if (v->run->job->subtitles == LV_SUBS_BURN) {
		double t0 = (double)s->first_frame / av_q2d(v->plan->fps);
		double t1 = (double)(s->first_frame + s->frames) / av_q2d(v->plan->fps);
		rc = lv_burn_open(&r.burn, &v->cues, t0, t1, v->run->job->width, v->run->job->height, v->plan->fps,
		                  v->run->job->font_file);
		if (rc != LV_OK) {
			lv_error_prefix("segment %zu (%s)", s->index, s->path);
			goto out;
		}
	}
	if (!v->enc) {
		rc = lv_h264_open(&v->enc, v->run->job->width, v->run->job->height);
		if (rc != LV_OK)
			goto out;
	}
	while (!eof && r.produced < s->frames) {
		err = av_read_frame(r.fmt, v->pkt);
		if (err == AVERROR_EOF) {
			eof = 1;
			err = avcodec_send_packet(r.dec, NULL);
		} else if (err < 0) {
			rc = lv_error_set(LV_EIO, "segment %zu (%s): cannot read: %s", s->index, s->path, lv_av_err(eb, err));
			goto out;
		} else if (v->pkt->stream_index != r.vi) {
			av_packet_unref(v->pkt);
			continue;
		} else {
			err = avcodec_send_packet(r.dec, v->pkt);
			av_packet_unref(v->pkt);
		}
		if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
			rc = lv_error_set(LV_EIO, "segment %zu (%s): cannot decode: %s", s->index, s->path, lv_av_err(eb, err));
			goto out;
		}
		rc = feed_decoded(v, s, &r);
		if (rc != LV_OK)
			goto out;
	}
	if (r.produced < s->frames && r.graph) {
		/* End of the file: flush the fitting graph (the fps filter holds a frame). */
		err = av_buffersrc_add_frame(r.src, NULL);
		if (err < 0) {
			rc = lv_error_set(LV_EINTERNAL, "segment %zu (%s): scaling: %s", s->index, s->path, lv_av_err(eb, err));
			goto out;
		}
		rc = drain_fit(v, s, &r);
		if (rc != LV_OK)
			goto out;
	}
	if (r.produced == 0) {
		rc = lv_error_set(LV_EINVALID, "segment %zu (%s): no video frames could be decoded", s->index, s->path);
		goto out;
	}
	/* Shorter than its share: hold the last picture. */
	while (r.produced < s->frames) {
		if (av_frame_ref(r.frame, r.last) < 0) {
			rc = lv_error_nomem();
			goto out;
		}
		rc = put_frame(v, s, &r.burn, r.frame, s->first_frame + r.produced, r.tmp);
		av_frame_unref(r.frame);
		if (rc != LV_OK)
			goto out;
		r.produced++;
	}
out:
	recode_free(&r);
	return rc;
}

int lv_video_produce(const lv_video_run *run)
{
	vstate v;
	size_t i;
	int rc = LV_OK;
	memset(&v, 0, sizeof(v));
	v.run = run;
	v.plan = run->plan;
	v.pkt = av_packet_alloc();
	if (!v.pkt)
		return lv_error_nomem();
	if (run->job->subtitles == LV_SUBS_BURN) {
		rc = lv_cues_for_plan(&v.cues, run->job, run->plan, lv_burn_line_units(run->job->width, run->job->height));
	}
	for (i = 0; rc == LV_OK && i < run->plan->n; i++) {
		const lv_seg *s = &run->plan->segs[i];
		if (s->frames <= 0)
			continue; /* shorter than a frame: rounded away */
		if (s->copy) {
			rc = encoder_finish(&v);
			if (rc == LV_OK)
				rc = copy_segment(&v, s);
		} else {
			rc = recode_segment(&v, s);
		}
	}
	if (rc == LV_OK)
		rc = encoder_finish(&v);
	avcodec_free_context(&v.enc);
	av_packet_free(&v.pkt);
	lv_cues_free(&v.cues);
	return rc;
}
