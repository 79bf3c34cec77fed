#include "media/image.h"
#include "util/fs.h"
#include "util/mem.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int av_fail(int averr, const char *path, const char *what)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, msg, sizeof(msg));
	return lv_error_set(LV_EIO, "%s: %s: %s", path, what, msg);
}

int lv_media_tmpfile(char **tmp_path, const char *path)
{
	char *t = lv_asprintf("%s.tmp-XXXXXX", path);
	int fd;
	*tmp_path = NULL;
	if (!t)
		return LV_ENOMEM;
	fd = mkstemp(t);
	if (fd < 0) {
		int e = errno;
		free(t);
		return lv_error_set(LV_EIO, "%s: cannot create a temporary file: %s", path, strerror(e));
	}
	if (fchmod(fd, 0644) != 0) {
		int e = errno;
		close(fd);
		unlink(t);
		free(t);
		return lv_error_set(LV_EIO, "%s: cannot set the mode of a temporary file: %s", path, strerror(e));
	}
	close(fd);
	*tmp_path = t;
	return LV_OK;
}

static AVFrame *decode_still(const char *path, const unsigned char *data, size_t len, int *err)
{
	enum AVCodecID id;
	const AVCodec *codec;
	AVCodecContext *c = NULL;
	AVPacket *pkt = NULL;
	AVFrame *f = NULL;
	int e;
	*err = LV_OK;
	if (len >= 8 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8)) {
		id = AV_CODEC_ID_PNG;
	} else if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
		id = AV_CODEC_ID_MJPEG;
	} else {
		*err = lv_error_set(LV_EINVALID, "%s: not a PNG or JPEG image", path);
		return NULL;
	}
	codec = avcodec_find_decoder(id);
	c = codec ? avcodec_alloc_context3(codec) : NULL;
	pkt = av_packet_alloc();
	f = av_frame_alloc();
	if (!codec || !c || !pkt || !f || len > INT32_MAX) {
		*err = codec ? lv_error_nomem() : lv_error_set(LV_EINTERNAL, "%s: no decoder for this image", path);
		goto fail;
	}
	c->thread_count = 1;
	e = avcodec_open2(c, codec, NULL);
	if (e >= 0)
		e = av_new_packet(pkt, (int)len);
	if (e < 0) {
		*err = av_fail(e, path, "decoder");
		goto fail;
	}
	memcpy(pkt->data, data, len);
	e = avcodec_send_packet(c, pkt);
	if (e >= 0)
		e = avcodec_send_packet(c, NULL);
	if (e >= 0)
		e = avcodec_receive_frame(c, f);
	if (e < 0) {
		*err = av_fail(e, path, "cannot decode the image");
		goto fail;
	}
	av_packet_free(&pkt);
	avcodec_free_context(&c);
	return f;
fail:
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&c);
	return NULL;
}

int lv_image_load(uint8_t **rgba, int *w, int *h, const char *path, int box_w, int box_h)
{
	char *data = NULL;
	size_t len = 0;
	AVFrame *f = NULL;
	struct SwsContext *sws = NULL;
	uint8_t *out = NULL;
	int err, dw, dh;
	*rgba = NULL;
	*w = *h = 0;
	err = lv_file_read(&data, &len, path);
	if (err)
		return err;
	f = decode_still(path, (const unsigned char *)data, len, &err);
	free(data);
	if (!f)
		return err;
	dw = f->width;
	dh = f->height;
	if (box_w > 0 && box_h > 0) {
		double k = (double)box_w / dw < (double)box_h / dh ? (double)box_w / dw : (double)box_h / dh;
		dw = (int)(dw * k + 0.5);
		dh = (int)(dh * k + 0.5);
		if (dw < 1)
			dw = 1;
		if (dh < 1)
			dh = 1;
	}
	sws = sws_getContext(f->width, f->height, (enum AVPixelFormat)f->format, dw, dh, AV_PIX_FMT_RGBA,
	                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
	out = lv_malloc((size_t)dw * (size_t)dh * 4);
	if (!sws || !out) {
		err = sws ? LV_ENOMEM : lv_error_set(LV_EINTERNAL, "%s: cannot scale a %dx%d %s image", path, f->width,
		                                     f->height, av_get_pix_fmt_name((enum AVPixelFormat)f->format));
		free(out);
		out = NULL;
	} else {
		uint8_t *dst[4] = { out, NULL, NULL, NULL };
		int dst_stride[4] = { dw * 4, 0, 0, 0 };
		sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
		*rgba = out;
		*w = dw;
		*h = dh;
	}
	sws_freeContext(sws);
	av_frame_free(&f);
	return err;
}

int lv_png_save_rgb24(const char *path, const uint8_t *rgb, int w, int h, int stride)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *c = NULL;
	AVFrame *f = NULL;
	AVPacket *pkt = NULL;
	int err = LV_OK, e, y;
	if (!codec)
		return lv_error_set(LV_EINTERNAL, "%s: no PNG encoder in this FFmpeg", path);
	c = avcodec_alloc_context3(codec);
	f = av_frame_alloc();
	pkt = av_packet_alloc();
	if (!c || !f || !pkt) {
		err = lv_error_nomem();
		goto done;
	}
	c->width = w;
	c->height = h;
	c->pix_fmt = AV_PIX_FMT_RGB24;
	c->time_base = (AVRational){ 1, 1 };
	c->thread_count = 1;
	e = avcodec_open2(c, codec, NULL);
	if (e < 0) {
		err = av_fail(e, path, "PNG encoder");
		goto done;
	}
	f->format = AV_PIX_FMT_RGB24;
	f->width = w;
	f->height = h;
	f->pts = 0;
	e = av_frame_get_buffer(f, 0);
	if (e < 0) {
		err = av_fail(e, path, "frame");
		goto done;
	}
	for (y = 0; y < h; y++)
		memcpy(f->data[0] + (size_t)y * f->linesize[0], rgb + (size_t)y * stride, (size_t)w * 3);
	e = avcodec_send_frame(c, f);
	if (e >= 0)
		e = avcodec_send_frame(c, NULL);
	if (e >= 0)
		e = avcodec_receive_packet(c, pkt);
	if (e < 0) {
		err = av_fail(e, path, "PNG encoding");
		goto done;
	}
	err = lv_file_write_atomic(path, pkt->data, (size_t)pkt->size, 0644);
done:
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&c);
	return err;
}
