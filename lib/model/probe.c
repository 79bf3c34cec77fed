/* Reading media back: streams, durations, codecs, box order. */
#include "model/av.h"
#include "model/probe.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
