/* The thumbnail: one decoded frame of the finished film as a JPEG (MJPEG encoder). */
#include "compose/internal.h"
#include "util/error.h"
#include "util/fs.h"

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <string.h>

static int encode_jpeg(const AVFrame *src, const char *jpg_path)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc = NULL;
	struct SwsContext *sws = NULL;
	AVFrame *yuv = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc = LV_OK;

	if (!codec) {
		rc = lv_error_set(LV_EINTERNAL, "thumbnail: no MJPEG encoder in this FFmpeg");
		goto out;
	}
	enc = avcodec_alloc_context3(codec);
	if (!enc || !yuv || !pkt) {
		rc = lv_error_nomem();
		goto out;
	}
	enc->width = src->width;
	enc->height = src->height;
	enc->pix_fmt = AV_PIX_FMT_YUVJ420P; /* full-range 4:2:0, what JPEG viewers expect */
	enc->time_base = (AVRational){ 1, 25 };
	enc->flags |= AV_CODEC_FLAG_QSCALE;
	enc->global_quality = FF_QP2LAMBDA * 3;
	err = avcodec_open2(enc, codec, NULL);
	if (err < 0) {
		rc = lv_error_set(LV_EINTERNAL, "thumbnail: cannot open the MJPEG encoder: %s", lv_av_err(eb, err));
		goto out;
	}
	yuv->format = enc->pix_fmt;
	yuv->width = src->width;
	yuv->height = src->height;
	if (av_frame_get_buffer(yuv, 0) < 0) {
		rc = lv_error_nomem();
		goto out;
	}
	sws = sws_getContext(src->width, src->height, src->format, yuv->width, yuv->height, yuv->format, SWS_BICUBIC,
	                     NULL, NULL, NULL);
	if (!sws) {
		rc = lv_error_set(LV_EINTERNAL, "thumbnail: cannot convert %s to JPEG's colour format",
		                  av_get_pix_fmt_name(src->format));
		goto out;
	}
	sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, yuv->data, yuv->linesize);
	yuv->pts = 0;
	yuv->quality = enc->global_quality;
	err = avcodec_send_frame(enc, yuv);
	if (err >= 0)
		err = avcodec_send_frame(enc, NULL);
	if (err >= 0)
		err = avcodec_receive_packet(enc, pkt);
	if (err < 0) {
		rc = lv_error_set(LV_EINTERNAL, "thumbnail: JPEG encoding failed: %s", lv_av_err(eb, err));
		goto out;
	}
	rc = lv_file_write_atomic(jpg_path, pkt->data, (size_t)pkt->size, 0644);
	if (rc != LV_OK)
		lv_error_prefix("thumbnail");
out:
	sws_freeContext(sws);
	av_packet_free(&pkt);
	av_frame_free(&yuv);
	avcodec_free_context(&enc);
	return rc;
}

int lv_thumbnail_write(const char *mp4, double at, const char *jpg_path)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	AVPacket *pkt = NULL;
	AVFrame *frame = NULL, *best = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int vi, err, rc = LV_OK, eof = 0;
	int64_t target;

	if ((rc = lv_av_open_input(&fmt, mp4, "thumbnail")) != LV_OK)
		return rc;
	if ((rc = lv_av_open_decoder(&dec, &vi, fmt, AVMEDIA_TYPE_VIDEO, 0, "thumbnail", mp4)) != LV_OK)
		goto out;
	pkt = av_packet_alloc();
	frame = av_frame_alloc();
	best = av_frame_alloc();
	if (!pkt || !frame || !best) {
		rc = lv_error_nomem();
		goto out;
	}
	target = av_rescale_q((int64_t)(at * AV_TIME_BASE), AV_TIME_BASE_Q, fmt->streams[vi]->time_base);
	if (av_seek_frame(fmt, vi, target, AVSEEK_FLAG_BACKWARD) < 0)
		av_seek_frame(fmt, vi, 0, AVSEEK_FLAG_BACKWARD);
	while (!eof) {
		err = av_read_frame(fmt, pkt);
		if (err < 0) {
			eof = 1;
			err = avcodec_send_packet(dec, NULL);
		} else if (pkt->stream_index != vi) {
			av_packet_unref(pkt);
			continue;
		} else {
			err = avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
			rc = lv_error_set(LV_EIO, "thumbnail (%s): cannot decode: %s", mp4, lv_av_err(eb, err));
			goto out;
		}
		while (avcodec_receive_frame(dec, frame) >= 0) {
			int64_t ts = frame->best_effort_timestamp;
			av_frame_unref(best);
			av_frame_move_ref(best, frame);
			if (ts != AV_NOPTS_VALUE && ts >= target) {
				eof = 1;
				break;
			}
		}
	}
	if (!best->data[0]) {
		rc = lv_error_set(LV_EIO, "thumbnail (%s): no frame decoded near %.2f s", mp4, at);
		goto out;
	}
	rc = encode_jpeg(best, jpg_path);
out:
	av_frame_free(&best);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return rc;
}
