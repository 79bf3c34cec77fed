#include "media/image.h"
#include "util/error.h"
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

int lv_media_av_fail(int averr, const char *path, const char *what)
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

int lv_image_decode(AVFrame **out, enum AVCodecID id, const uint8_t *data, size_t len, const char *path)
{
	const AVCodec *codec = avcodec_find_decoder(id);
	AVCodecContext *c = NULL;
	AVPacket *pkt = NULL;
	AVFrame *f = NULL;
	int e, rc = LV_OK;
	*out = NULL;
	if (!codec)
		return lv_error_set(LV_EINTERNAL, "%s: this FFmpeg has no %s decoder", path, avcodec_get_name(id));
	if (len == 0 || len > INT32_MAX)
		return lv_error_set(LV_EINVALID, "%s: empty or oversized image data", path);
	c = avcodec_alloc_context3(codec);
	pkt = av_packet_alloc();
	f = av_frame_alloc();
	if (!c || !pkt || !f) {
		rc = lv_error_nomem();
		goto out;
	}
	c->thread_count = 1;
	if ((e = avcodec_open2(c, codec, NULL)) < 0 || (e = av_new_packet(pkt, (int)len)) < 0) {
		rc = lv_media_av_fail(e, path, "image decoder");
		goto out;
	}
	memcpy(pkt->data, data, len);
	e = avcodec_send_packet(c, pkt);
	if (e >= 0)
		e = avcodec_send_packet(c, NULL);
	if (e >= 0)
		e = avcodec_receive_frame(c, f);
	if (e < 0) {
		rc = lv_media_av_fail(e, path, "cannot decode the image");
		goto out;
	}
	*out = f;
	f = NULL;
out:
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&c);
	return rc;
}

int lv_image_frame_to_rgba(uint8_t **rgba, const AVFrame *f, int dw, int dh, const char *path)
{
	struct SwsContext *sws;
	uint8_t *out;
	uint8_t *dst[4];
	int stride[4] = { dw * 4, 0, 0, 0 };
	*rgba = NULL;
	sws = sws_getContext(f->width, f->height, (enum AVPixelFormat)f->format, dw, dh, AV_PIX_FMT_RGBA,
	                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
	if (!sws)
		return lv_error_set(LV_EINTERNAL, "%s: cannot scale a %dx%d %s image", path, f->width, f->height,
		                    av_get_pix_fmt_name((enum AVPixelFormat)f->format));
	out = lv_malloc((size_t)dw * (size_t)dh * 4);
	if (!out) {
		sws_freeContext(sws);
		return LV_ENOMEM;
	}
	dst[0] = out;
	dst[1] = dst[2] = dst[3] = NULL;
	sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
	sws_freeContext(sws);
	*rgba = out;
	return LV_OK;
}

int lv_image_load(uint8_t **rgba, int *w, int *h, const char *path, int box_w, int box_h)
{
	char *data = NULL;
	size_t len = 0;
	const unsigned char *d;
	enum AVCodecID id;
	AVFrame *f = NULL;
	int err, dw, dh;
	*rgba = NULL;
	*w = *h = 0;
	err = lv_file_read(&data, &len, path);
	if (err)
		return err;
	d = (const unsigned char *)data;
	if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
		id = AV_CODEC_ID_PNG;
	} else if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
		id = AV_CODEC_ID_MJPEG;
	} else {
		free(data);
		return lv_error_set(LV_EINVALID, "%s: not a PNG or JPEG image", path);
	}
	err = lv_image_decode(&f, id, d, len, path);
	free(data);
	if (err)
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
	err = lv_image_frame_to_rgba(rgba, f, dw, dh, path);
	if (err == LV_OK) {
		*w = dw;
		*h = dh;
	}
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
		err = lv_media_av_fail(e, path, "PNG encoder");
		goto done;
	}
	f->format = AV_PIX_FMT_RGB24;
	f->width = w;
	f->height = h;
	f->pts = 0;
	e = av_frame_get_buffer(f, 0);
	if (e < 0) {
		err = lv_media_av_fail(e, path, "frame");
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
		err = lv_media_av_fail(e, path, "PNG encoding");
		goto done;
	}
	err = lv_file_write_atomic(path, pkt->data, (size_t)pkt->size, 0644);
done:
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&c);
	return err;
}
