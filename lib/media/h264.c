#include "media/h264.h"
#include "media/image.h"
#include "util/error.h"

#include <libavutil/dict.h>
#include <libavutil/opt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lv_video_size(const char *resolution, const char *aspect_ratio, int *width, int *height)
{
	int s; /* the short side */
	if (!resolution || !strcmp(resolution, "720p"))
		s = 720;
	else if (!strcmp(resolution, "1080p"))
		s = 1080;
	else
		return lv_error_set(LV_EINVALID, "resolution: '%s' is not 720p or 1080p", resolution);
	if (!aspect_ratio || !strcmp(aspect_ratio, "16:9")) {
		*width = s * 16 / 9;
		*height = s;
	} else if (!strcmp(aspect_ratio, "9:16")) {
		*width = s;
		*height = s * 16 / 9;
	} else if (!strcmp(aspect_ratio, "1:1")) {
		*width = s;
		*height = s;
	} else {
		return lv_error_set(LV_EINVALID, "aspect_ratio: '%s' is not 16:9, 9:16 or 1:1", aspect_ratio);
	}
	return LV_OK;
}

int lv_h264_open(AVCodecContext **out, int width, int height)
{
	return lv_h264_open_threads(out, width, height, 2);
}

int lv_h264_open_threads(AVCodecContext **out, int width, int height, int threads)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVCodecContext *c;
	int err;
	*out = NULL;
	if (!codec)
		return lv_error_set(LV_EINTERNAL, "the libx264 encoder is not available in this FFmpeg");
	c = avcodec_alloc_context3(codec);
	if (!c)
		return lv_error_nomem();
	c->width = width;
	c->height = height;
	c->pix_fmt = LV_SEG_PIX_FMT;
	c->time_base = (AVRational){ 1, LV_SEG_FPS };
	c->framerate = (AVRational){ LV_SEG_FPS, 1 };
	c->gop_size = LV_SEG_GOP;
	c->keyint_min = LV_SEG_GOP;
	c->max_b_frames = 0;
	c->sample_aspect_ratio = (AVRational){ 1, 1 };
	c->color_range = AVCOL_RANGE_MPEG;
	c->colorspace = AVCOL_SPC_BT709;
	c->color_primaries = AVCOL_PRI_BT709;
	c->color_trc = AVCOL_TRC_BT709;
	c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	c->thread_count = threads < 1 ? 1 : threads > 16 ? 16 : threads; /* not left to the machine */
	/* ultrafast with the 8x8 transform and the deblocking filter back (still High profile): the
	 * animatic's flat, smoothly moving pictures gain little from CABAC, subpixel search or lookahead,
	 * which cost about half of veryfast's time */
	av_opt_set(c->priv_data, "preset", "ultrafast", 0);
	av_opt_set(c->priv_data, "profile", "high", 0);
	av_opt_set(c->priv_data, "crf", "20", 0);
	av_opt_set(c->priv_data, "x264-params", "scenecut=0:open-gop=0:8x8dct=1:deblock=1", 0);
	err = avcodec_open2(c, codec, NULL);
	if (err < 0) {
		char msg[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(err, msg, sizeof(msg));
		avcodec_free_context(&c);
		return lv_error_set(LV_EINTERNAL, "cannot open the H.264 encoder at %dx%d: %s", width, height, msg);
	}
	*out = c;
	return LV_OK;
}

int lv_seg_writer_open(lv_seg_writer *w, const char *path, int width, int height)
{
	return lv_seg_writer_open_threads(w, path, width, height, 2);
}

int lv_seg_writer_open_threads(lv_seg_writer *w, const char *path, int width, int height, int threads)
{
	AVDictionary *opts = NULL;
	int e, rc;
	memset(w, 0, sizeof(*w));
	w->path = path;
	if (width < 16 || height < 16 || width > 4096 || height > 4096 || (width & 1) || (height & 1))
		return lv_error_set(LV_EINVALID, "%s: picture size %dx%d must be even and within 16..4096", path, width,
		                    height);
	if ((rc = lv_media_tmpfile(&w->tmp, path)) || (rc = lv_h264_open_threads(&w->enc, width, height, threads)))
		return rc;
	e = avformat_alloc_output_context2(&w->oc, NULL, "mp4", w->tmp);
	if (e < 0 || !w->oc)
		return lv_media_av_fail(e < 0 ? e : AVERROR(ENOMEM), path, "cannot set up the MP4 muxer");
	w->pkt = av_packet_alloc();
	w->st = avformat_new_stream(w->oc, NULL);
	if (!w->pkt || !w->st)
		return lv_error_nomem();
	if ((e = avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0)
		return lv_media_av_fail(e, path, "codec parameters");
	w->st->time_base = (AVRational){ 1, LV_SEG_TIMEBASE };
	w->st->avg_frame_rate = (AVRational){ LV_SEG_FPS, 1 };
	if ((e = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0)
		return lv_media_av_fail(e, path, "cannot open the output");
	av_dict_set(&opts, "movflags", "+faststart", 0);
	e = avformat_write_header(w->oc, &opts);
	av_dict_free(&opts);
	if (e < 0)
		return lv_media_av_fail(e, path, "cannot write the MP4 header");
	return LV_OK;
}

/* Send a frame (NULL: flush) and write every packet the encoder has ready. */
static int seg_encode(lv_seg_writer *w, const AVFrame *frame)
{
	int e = avcodec_send_frame(w->enc, frame);
	if (e < 0)
		return lv_media_av_fail(e, w->path, "H.264 encoding");
	for (;;) {
		e = avcodec_receive_packet(w->enc, w->pkt);
		if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
			return LV_OK;
		if (e < 0)
			return lv_media_av_fail(e, w->path, "H.264 encoding");
		if (w->pkt->duration <= 0)
			w->pkt->duration = 1;
		av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
		w->pkt->stream_index = w->st->index;
		if ((e = av_interleaved_write_frame(w->oc, w->pkt)) < 0)
			return lv_media_av_fail(e, w->path, "cannot write a packet");
	}
}

int lv_seg_writer_encode(lv_seg_writer *w, const AVFrame *frame)
{
	if (!frame)
		return lv_error_set(LV_EINVALID, "%s: no picture to encode", w->path);
	return seg_encode(w, frame);
}

int lv_seg_writer_finish(lv_seg_writer *w)
{
	int e, rc;
	if ((rc = seg_encode(w, NULL)))
		return rc;
	if ((e = av_write_trailer(w->oc)) < 0)
		return lv_media_av_fail(e, w->path, "cannot finish the MP4");
	if ((e = avio_closep(&w->oc->pb)) < 0)
		return lv_media_av_fail(e, w->path, "cannot close the output");
	if (rename(w->tmp, w->path) != 0)
		return lv_error_set(LV_EIO, "%s: cannot move the clip into place: %s", w->path, strerror(errno));
	free(w->tmp);
	w->tmp = NULL;
	return LV_OK;
}

void lv_seg_writer_close(lv_seg_writer *w)
{
	if (!w)
		return;
	if (w->oc && w->oc->pb)
		avio_closep(&w->oc->pb);
	avformat_free_context(w->oc);
	avcodec_free_context(&w->enc);
	av_packet_free(&w->pkt);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	memset(w, 0, sizeof(*w));
}
