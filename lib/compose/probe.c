/* Reading media back: loudness (streams, durations and box order: model/probe.c). */
#include "compose/internal.h"
#include "util/error.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* lv_av_open_input(), lv_av_open_decoder() and lv_media_probe(): model/av.c and model/probe.c. */

static void max_meta(const AVFrame *f, const char *key, double *peak)
{
	const AVDictionaryEntry *e = av_dict_get(f->metadata, key, NULL, 0);
	if (e && peak) {
		double v = strtod(e->value, NULL);
		if (v > *peak)
			*peak = v;
	}
}

void lv_r128_frame(const AVFrame *f, double *integrated, double *sample_peak, double *true_peak)
{
	const AVDictionaryEntry *e;
	if (!f->metadata)
		return;
	e = av_dict_get(f->metadata, "lavfi.r128.I", NULL, 0);
	if (e && integrated)
		*integrated = strtod(e->value, NULL);
	max_meta(f, "lavfi.r128.sample_peak", sample_peak);
	max_meta(f, "lavfi.r128.true_peak", true_peak);
}

/* Drain the sink of a loudness graph, collecting the ebur128 metadata. */
static int drain_meter(AVFilterContext *sink, AVFrame *frame, double *lufs, double *peak)
{
	for (;;) {
		int err = av_buffersink_get_frame(sink, frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return err;
		if (err < 0)
			return err;
		lv_r128_frame(frame, lufs, NULL, peak);
		av_frame_unref(frame);
	}
}

/* abuffer (the decoded frames' format) -> ebur128 (true peak, metadata) -> abuffersink */
static int meter_open(AVFilterGraph **out, AVFilterContext **src, AVFilterContext **sink, const AVFrame *f,
                      const char *path)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	AVFilterContext *meter = NULL;
	AVChannelLayout cl = { 0 };
	char args[256], layout[64], eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	if (!g)
		return lv_error_nomem();
	g->nb_threads = 1;
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&cl, f->ch_layout.nb_channels);
	else
		av_channel_layout_copy(&cl, &f->ch_layout);
	av_channel_layout_describe(&cl, layout, sizeof(layout));
	av_channel_layout_uninit(&cl);
	snprintf(args, sizeof(args), "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s", f->sample_rate,
	         f->sample_rate, av_get_sample_fmt_name(f->format), layout);
	err = avfilter_graph_create_filter(src, avfilter_get_by_name("abuffer"), "in", args, NULL, g);
	if (err >= 0)
		err = avfilter_graph_create_filter(&meter, avfilter_get_by_name("ebur128"), "meter",
		                                   "peak=true:metadata=1", NULL, g);
	if (err >= 0)
		err = avfilter_graph_create_filter(sink, avfilter_get_by_name("abuffersink"), "out", NULL, NULL, g);
	if (err >= 0)
		err = avfilter_link(*src, 0, meter, 0);
	if (err >= 0)
		err = avfilter_link(meter, 0, *sink, 0);
	if (err >= 0)
		err = avfilter_graph_config(g, NULL);
	if (err < 0) {
		avfilter_graph_free(&g);
		return lv_error_set(LV_EINTERNAL, "loudness (%s): cannot set up the ebur128 filter: %s", path,
		                    lv_av_err(eb, err));
	}
	*out = g;
	return LV_OK;
}

static int media_loudness(const char *path, double *lufs, double *true_peak_db)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	AVFilterGraph *g = NULL;
	AVFilterContext *src = NULL, *sink = NULL;
	AVPacket *pkt = NULL;
	AVFrame *frame = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	double I = -70.0, peak = 0.0;
	int ai, err, rc = LV_OK, eof = 0;

	rc = lv_av_open_input(&fmt, path, "loudness");
	if (rc != LV_OK)
		return rc;
	if ((rc = lv_av_open_decoder(&dec, &ai, fmt, AVMEDIA_TYPE_AUDIO, 0, "loudness", path)) != LV_OK)
		goto out;
	pkt = av_packet_alloc();
	frame = av_frame_alloc();
	if (!pkt || !frame) {
		rc = lv_error_nomem();
		goto out;
	}
	while (!eof) {
		err = av_read_frame(fmt, pkt);
		if (err == AVERROR_EOF) {
			eof = 1;
			err = avcodec_send_packet(dec, NULL);
		} else if (err < 0) {
			rc = lv_error_set(LV_EIO, "loudness (%s): cannot read: %s", path, lv_av_err(eb, err));
			goto out;
		} else if (pkt->stream_index != ai) {
			av_packet_unref(pkt);
			continue;
		} else {
			err = avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
			rc = lv_error_set(LV_EIO, "loudness (%s): cannot decode: %s", path, lv_av_err(eb, err));
			goto out;
		}
		while ((err = avcodec_receive_frame(dec, frame)) >= 0) {
			if (!g) {
				rc = meter_open(&g, &src, &sink, frame, path);
				if (rc != LV_OK) {
					av_frame_unref(frame);
					goto out;
				}
			}
			err = av_buffersrc_add_frame(src, frame);
			av_frame_unref(frame);
			if (err < 0)
				break;
			err = drain_meter(sink, frame, &I, &peak);
			if (err != AVERROR(EAGAIN) && err != AVERROR_EOF)
				break;
		}
		if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
			rc = lv_error_set(LV_EIO, "loudness (%s): cannot decode or measure: %s", path, lv_av_err(eb, err));
			goto out;
		}
	}
	if (g) {
		err = av_buffersrc_add_frame(src, NULL);
		if (err >= 0)
			err = drain_meter(sink, frame, &I, &peak);
		if (err < 0 && err != AVERROR_EOF && err != AVERROR(EAGAIN)) {
			rc = lv_error_set(LV_EIO, "loudness (%s): cannot measure: %s", path, lv_av_err(eb, err));
			goto out;
		}
	}
	*lufs = I;
	*true_peak_db = peak > 0 ? 20.0 * log10(peak) : -HUGE_VAL;
out:
	avfilter_graph_free(&g);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return rc;
}

int lv_media_loudness(const char *path, double *lufs, double *true_peak_db)
{
	unsigned fpu = lv_fpu_flush_denormals();
	int rc = media_loudness(path, lufs, true_peak_db);
	lv_fpu_restore(fpu);
	return rc;
}
