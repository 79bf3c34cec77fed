#include "media/h264.h"
#include "util/error.h"

#include <libavutil/opt.h>
#include <string.h>

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
	c->thread_count = 2; /* fixed: x264 writes its options into the stream */
	av_opt_set(c->priv_data, "preset", "veryfast", 0);
	av_opt_set(c->priv_data, "profile", "high", 0);
	av_opt_set(c->priv_data, "crf", "20", 0);
	av_opt_set(c->priv_data, "x264-params", "scenecut=0:open-gop=0", 0);
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
