/* Reading media back: streams, durations, box order, loudness. */
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

int lv_av_open_input(AVFormatContext **fmt, const char *path, const char *what)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avformat_open_input(fmt, path, NULL, NULL);
	if (err < 0)
		return lv_error_set(err == AVERROR(ENOENT) ? LV_ENOTFOUND : LV_EIO, "%s (%s): cannot open: %s", what, path,
		                    lv_av_err(eb, err));
	err = avformat_find_stream_info(*fmt, NULL);
	if (err < 0) {
		avformat_close_input(fmt);
		return lv_error_set(LV_EIO, "%s (%s): cannot read stream info: %s", what, path, lv_av_err(eb, err));
	}
	return LV_OK;
}

int lv_av_open_decoder(AVCodecContext **dec, int *index, AVFormatContext *fmt, enum AVMediaType type, int threads,
                       const char *what, const char *path)
{
	const AVCodec *codec = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	*dec = NULL;
	*index = av_find_best_stream(fmt, type, -1, -1, &codec, 0);
	if (*index < 0 || !codec)
		return lv_error_set(LV_EINVALID, "%s (%s): no decodable %s stream", what, path,
		                    av_get_media_type_string(type));
	if (!(*dec = avcodec_alloc_context3(codec)))
		return lv_error_nomem();
	avcodec_parameters_to_context(*dec, fmt->streams[*index]->codecpar);
	(*dec)->pkt_timebase = fmt->streams[*index]->time_base;
	if (threads > 0)
		(*dec)->thread_count = threads;
	err = avcodec_open2(*dec, codec, NULL);
	if (err < 0)
		return lv_error_set(LV_EIO, "%s (%s): cannot open the %s decoder: %s", what, path, codec->name,
		                    lv_av_err(eb, err));
	return LV_OK;
}

/* 1 when the top-level 'moov' box precedes 'mdat'; 0 otherwise (or not an ISO BMFF file). */
static int moov_first(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char h[16];
	long long pos = 0;
	int result = 0;
	if (!f)
		return 0;
	while (fread(h, 1, 8, f) == 8) {
		unsigned long long size = ((unsigned long long)h[0] << 24) | ((unsigned long long)h[1] << 16) |
		                          ((unsigned long long)h[2] << 8) | h[3];
		unsigned hdr = 8;
		if (!memcmp(h + 4, "moov", 4)) {
			result = 1;
			break;
		}
		if (!memcmp(h + 4, "mdat", 4))
			break;
		if (size == 1) {
			int i;
			if (fread(h + 8, 1, 8, f) != 8)
				break;
			size = 0;
			for (i = 8; i < 16; i++)
				size = (size << 8) | h[i];
			hdr = 16;
		} else if (size == 0) {
			break; /* extends to the end of the file */
		}
		if (size < hdr || size > (unsigned long long)INT64_MAX - (unsigned long long)pos)
			break;
		pos += (long long)size;
		if (fseeko(f, (off_t)pos, SEEK_SET) != 0)
			break;
	}
	fclose(f);
	return result;
}

int lv_media_probe(lv_media_info *out, const char *path)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = NULL;
	int vi = -1, ai = -1, si = -1, rc;
	unsigned i;
	int64_t vmin = INT64_MAX, vmax = INT64_MIN, amin = INT64_MAX, amax = INT64_MIN;
	char eb[AV_ERROR_MAX_STRING_SIZE];

	memset(out, 0, sizeof(*out));
	rc = lv_av_open_input(&fmt, path, "probe");
	if (rc != LV_OK)
		return rc;
	for (i = 0; i < fmt->nb_streams; i++) {
		enum AVMediaType t = fmt->streams[i]->codecpar->codec_type;
		if (t == AVMEDIA_TYPE_VIDEO && vi < 0 && !(fmt->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC))
			vi = (int)i;
		else if (t == AVMEDIA_TYPE_AUDIO && ai < 0)
			ai = (int)i;
		else if (t == AVMEDIA_TYPE_SUBTITLE && si < 0)
			si = (int)i;
	}
	if (fmt->duration > 0)
		out->duration = (double)fmt->duration / AV_TIME_BASE;
	if (vi >= 0) {
		const AVStream *st = fmt->streams[vi];
		const char *prof = avcodec_profile_name(st->codecpar->codec_id, st->codecpar->profile);
		out->has_video = 1;
		snprintf(out->video_codec, sizeof(out->video_codec), "%s", avcodec_get_name(st->codecpar->codec_id));
		snprintf(out->video_profile, sizeof(out->video_profile), "%s", prof ? prof : "");
		out->width = st->codecpar->width;
		out->height = st->codecpar->height;
		if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
			out->fps = av_q2d(st->avg_frame_rate);
		else if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0)
			out->fps = av_q2d(st->r_frame_rate);
	}
	if (ai >= 0) {
		const AVStream *st = fmt->streams[ai];
		out->has_audio = 1;
		snprintf(out->audio_codec, sizeof(out->audio_codec), "%s", avcodec_get_name(st->codecpar->codec_id));
		out->audio_sample_rate = st->codecpar->sample_rate;
		out->audio_channels = st->codecpar->ch_layout.nb_channels;
	}
	if (si >= 0) {
		out->has_subtitles = 1;
		snprintf(out->subtitle_codec, sizeof(out->subtitle_codec), "%s",
		         avcodec_get_name(fmt->streams[si]->codecpar->codec_id));
	}

	pkt = av_packet_alloc();
	if (!pkt) {
		avformat_close_input(&fmt);
		return lv_error_nomem();
	}
	for (;;) {
		int err = av_read_frame(fmt, pkt);
		if (err == AVERROR_EOF)
			break;
		if (err < 0) {
			av_packet_free(&pkt);
			avformat_close_input(&fmt);
			return lv_error_set(LV_EIO, "probe (%s): cannot read packets: %s", path, lv_av_err(eb, err));
		}
		if (pkt->pts != AV_NOPTS_VALUE) {
			int64_t end = pkt->pts + (pkt->duration > 0 ? pkt->duration : 0);
			if (pkt->stream_index == vi) {
				vmin = FFMIN(vmin, pkt->pts);
				vmax = FFMAX(vmax, end);
			} else if (pkt->stream_index == ai) {
				amin = FFMIN(amin, pkt->pts);
				amax = FFMAX(amax, end);
			}
		}
		if (pkt->stream_index == vi)
			out->video_frames++;
		else if (pkt->stream_index == si) {
			/* mov_text: an empty sample (just its 2-byte length) fills a gap between cues */
			int empty = fmt->streams[si]->codecpar->codec_id == AV_CODEC_ID_MOV_TEXT ? pkt->size <= 2 : pkt->size <= 0;
			if (!empty)
				out->subtitle_packets++;
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	if (vi >= 0 && vmax > vmin)
		out->video_duration = (double)(vmax - FFMAX(vmin, 0)) * av_q2d(fmt->streams[vi]->time_base);
	if (ai >= 0 && amax > amin)
		out->audio_duration = (double)(amax - FFMAX(amin, 0)) * av_q2d(fmt->streams[ai]->time_base);
	out->faststart = moov_first(path);
	avformat_close_input(&fmt);
	return LV_OK;
}

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
