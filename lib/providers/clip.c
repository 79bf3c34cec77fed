/* Media conversions for provider outputs: stills to PNG, clips and frame sequences to MP4. */
#include "providers/clip.h"
#include "media/h264.h"
#include "media/image.h"
#include "media/wav.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WEBP_MAX_FRAMES 100000
#define MAX_SIDE 8192

static uint32_t le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint32_t le32(const uint8_t *p)
{
	return le24(p) | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ---- sniffing ------------------------------------------------------------------------------------ */

lv_clip_kind lv_clip_sniff(const void *data, size_t len)
{
	const unsigned char *d = data;
	if (len >= 12 && !memcmp(d + 4, "ftyp", 4))
		return LV_CLIP_MP4;
	if (len >= 4 && !memcmp(d, "\x1a\x45\xdf\xa3", 4))
		return LV_CLIP_MKV;
	if (len >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
		return LV_CLIP_GIF;
	if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
		return LV_CLIP_WEBP;
	if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return LV_CLIP_PNG;
	if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return LV_CLIP_JPEG;
	return LV_CLIP_UNKNOWN;
}

lv_clip_kind lv_clip_sniff_file(const char *path)
{
	unsigned char head[16];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (!f)
		return LV_CLIP_UNKNOWN;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return lv_clip_sniff(head, n);
}

const char *lv_clip_kind_name(lv_clip_kind k)
{
	switch (k) {
	case LV_CLIP_MP4:
		return "MP4";
	case LV_CLIP_MKV:
		return "WebM/Matroska";
	case LV_CLIP_GIF:
		return "GIF";
	case LV_CLIP_WEBP:
		return "WebP";
	case LV_CLIP_PNG:
		return "PNG";
	case LV_CLIP_JPEG:
		return "JPEG";
	default:
		return "unknown";
	}
}

/* ---- WebP: the container ---------------------------------------------------------------------------- */

typedef struct webp_chunk {
	char fourcc[5];
	const uint8_t *data;
	uint32_t size;
} webp_chunk;

/* The chunk at *pos within [base, base+len); advances *pos.  0 at the end, -1 when malformed. */
static int webp_next(webp_chunk *c, const uint8_t *base, size_t len, size_t *pos)
{
	uint32_t size;
	if (*pos + 8 > len)
		return 0;
	memcpy(c->fourcc, base + *pos, 4);
	c->fourcc[4] = '\0';
	size = le32(base + *pos + 4);
	if (size > len - *pos - 8)
		return -1;
	c->data = base + *pos + 8;
	c->size = size;
	*pos += 8 + (size_t)size + (size & 1);
	return 1;
}

/* A still WebP file around one frame's bitstream chunks (optional ALPH, then VP8 or VP8L). */
static uint8_t *webp_wrap(size_t *out_len, const webp_chunk *alph, const webp_chunk *bits, int w, int h)
{
	size_t body = 4 + (alph ? 18 + 8 + (size_t)alph->size + (alph->size & 1) : 0) + 8 + (size_t)bits->size +
	              (bits->size & 1);
	uint8_t *b = lv_calloc(1, 8 + body), *p;
	if (!b)
		return NULL;
	memcpy(b, "RIFF", 4);
	put_le32(b + 4, (uint32_t)body);
	memcpy(b + 8, "WEBP", 4);
	p = b + 12;
	if (alph) {
		memcpy(p, "VP8X", 4);
		put_le32(p + 4, 10);
		p[8] = 0x10; /* alpha */
		p[12] = (uint8_t)(w - 1);
		p[13] = (uint8_t)((w - 1) >> 8);
		p[14] = (uint8_t)((w - 1) >> 16);
		p[15] = (uint8_t)(h - 1);
		p[16] = (uint8_t)((h - 1) >> 8);
		p[17] = (uint8_t)((h - 1) >> 16);
		p += 18;
		memcpy(p, "ALPH", 4);
		put_le32(p + 4, alph->size);
		memcpy(p + 8, alph->data, alph->size);
		p += 8 + alph->size + (alph->size & 1);
	}
	memcpy(p, bits->fourcc, 4);
	put_le32(p + 4, bits->size);
	memcpy(p + 8, bits->data, bits->size);
	*out_len = 8 + body;
	return b;
}

typedef struct webp_anim {
	const uint8_t *data; /* the whole file */
	size_t len;
	int animated;
	int canvas_w, canvas_h;
	size_t pos;          /* next chunk to read */
	uint8_t *canvas;     /* RGBA, straight alpha */
	int prev_dispose;    /* the previous frame is cleared before the next is drawn */
	int prev_x, prev_y, prev_w, prev_h;
	const char *path;
} webp_anim;

static int webp_open(webp_anim *a, const uint8_t *data, size_t len, const char *path)
{
	webp_chunk c;
	size_t pos = 12;
	memset(a, 0, sizeof(*a));
	a->data = data;
	a->len = len;
	a->path = path;
	if (lv_clip_sniff(data, len) != LV_CLIP_WEBP)
		return lv_error_set(LV_EINVALID, "%s: not a WebP file", path);
	if (le32(data + 4) + 8 < len)
		a->len = len = le32(data + 4) + 8; /* trailing bytes after the RIFF are ignored */
	if (webp_next(&c, data, len, &pos) != 1)
		return lv_error_set(LV_EINVALID, "%s: a WebP file without chunks", path);
	if (!strcmp(c.fourcc, "VP8X")) {
		if (c.size < 10)
			return lv_error_set(LV_EINVALID, "%s: a short VP8X chunk", path);
		a->animated = (c.data[0] & 0x02) != 0;
		a->canvas_w = (int)le24(c.data + 4) + 1;
		a->canvas_h = (int)le24(c.data + 7) + 1;
		if (a->canvas_w > MAX_SIDE || a->canvas_h > MAX_SIDE)
			return lv_error_set(LV_EINVALID, "%s: canvas %dx%d is too large", path, a->canvas_w, a->canvas_h);
	}
	a->pos = pos;
	if (a->animated) {
		a->canvas = lv_calloc((size_t)a->canvas_w * (size_t)a->canvas_h, 4);
		if (!a->canvas)
			return LV_ENOMEM;
	}
	return LV_OK;
}

static void webp_close(webp_anim *a)
{
	free(a->canvas);
	a->canvas = NULL;
}

/* Decode one frame's bitstream chunks to RGBA. */
static int webp_decode_bits(uint8_t **rgba, int *w, int *h, const webp_chunk *alph, const webp_chunk *bits,
                            int hint_w, int hint_h, const char *path)
{
	size_t n = 0;
	uint8_t *file = webp_wrap(&n, alph, bits, hint_w, hint_h);
	AVFrame *f = NULL;
	int rc;
	*rgba = NULL;
	if (!file)
		return LV_ENOMEM;
	rc = lv_image_decode(&f, AV_CODEC_ID_WEBP, file, n, path);
	free(file);
	if (rc)
		return rc;
	if (f->width <= 0 || f->height <= 0 || f->width > MAX_SIDE || f->height > MAX_SIDE) {
		rc = lv_error_set(LV_EINVALID, "%s: unusable image size %dx%d", path, f->width, f->height);
	} else {
		*w = f->width;
		*h = f->height;
		rc = lv_image_frame_to_rgba(rgba, f, f->width, f->height, path);
	}
	av_frame_free(&f);
	return rc;
}

/* The next picture of the file: for an animation the whole canvas after the next ANMF frame,
 * with its duration in ms; for a still the image itself.  0 at the end. */
static int webp_next_frame(webp_anim *a, const uint8_t **rgba, int *w, int *h, int *duration_ms)
{
	webp_chunk c;
	int r;
	if (!a->animated) {
		/* A still: its bitstream chunks are the rest of the file. */
		webp_chunk alph = { "", NULL, 0 }, bits = { "", NULL, 0 };
		uint8_t *pic = NULL;
		int have_alph = 0, rc;
		if (a->pos == SIZE_MAX)
			return 0;
		a->pos = 12;
		while ((r = webp_next(&c, a->data, a->len, &a->pos)) == 1) {
			if (!strcmp(c.fourcc, "ALPH")) {
				alph = c;
				have_alph = 1;
			} else if (!strcmp(c.fourcc, "VP8 ") || !strcmp(c.fourcc, "VP8L")) {
				bits = c;
			}
		}
		a->pos = SIZE_MAX;
		if (r < 0 || !bits.data)
			return lv_error_set(LV_EINVALID, "%s: no image data in the WebP file", a->path);
		rc = webp_decode_bits(&pic, w, h, have_alph ? &alph : NULL, &bits, a->canvas_w ? a->canvas_w : 1,
		                      a->canvas_h ? a->canvas_h : 1, a->path);
		if (rc)
			return rc;
		free(a->canvas);
		a->canvas = pic;
		*rgba = pic;
		*duration_ms = 0;
		return 1;
	}
	while ((r = webp_next(&c, a->data, a->len, &a->pos)) == 1) {
		webp_chunk sub, alph = { "", NULL, 0 }, bits = { "", NULL, 0 };
		size_t sp = 16;
		int fx, fy, fw, fh, dur, blend, dispose, have_alph = 0, dw = 0, dh = 0, x, y, rc;
		uint8_t *pic = NULL;
		if (strcmp(c.fourcc, "ANMF") != 0)
			continue; /* ANIM, ICCP, EXIF, XMP: nothing to draw */
		if (c.size < 16)
			return lv_error_set(LV_EINVALID, "%s: a short ANMF chunk", a->path);
		fx = (int)le24(c.data) * 2;
		fy = (int)le24(c.data + 3) * 2;
		fw = (int)le24(c.data + 6) + 1;
		fh = (int)le24(c.data + 9) + 1;
		dur = (int)le24(c.data + 12);
		blend = !(c.data[15] & 0x02);
		dispose = (c.data[15] & 0x01) != 0;
		while (webp_next(&sub, c.data, c.size, &sp) == 1) {
			if (!strcmp(sub.fourcc, "ALPH")) {
				alph = sub;
				have_alph = 1;
			} else if (!strcmp(sub.fourcc, "VP8 ") || !strcmp(sub.fourcc, "VP8L")) {
				bits = sub;
			}
		}
		if (!bits.data)
			return lv_error_set(LV_EINVALID, "%s: an animation frame without image data", a->path);
		if (fx + fw > a->canvas_w || fy + fh > a->canvas_h)
			return lv_error_set(LV_EINVALID, "%s: an animation frame outside the canvas", a->path);
		rc = webp_decode_bits(&pic, &dw, &dh, have_alph ? &alph : NULL, &bits, fw, fh, a->path);
		if (rc)
			return rc;
		if (dw != fw || dh != fh) {
			free(pic);
			return lv_error_set(LV_EINVALID, "%s: an animation frame is %dx%d, its header says %dx%d", a->path, dw,
			                    dh, fw, fh);
		}
		/* Dispose of the previous frame's area, then draw this one. */
		if (a->prev_dispose)
			for (y = a->prev_y; y < a->prev_y + a->prev_h; y++)
				memset(a->canvas + ((size_t)y * (size_t)a->canvas_w + (size_t)a->prev_x) * 4, 0,
				       (size_t)a->prev_w * 4);
		for (y = 0; y < fh; y++) {
			uint8_t *d = a->canvas + ((size_t)(fy + y) * (size_t)a->canvas_w + (size_t)fx) * 4;
			const uint8_t *s = pic + (size_t)y * (size_t)fw * 4;
			if (!blend) {
				memcpy(d, s, (size_t)fw * 4);
				continue;
			}
			for (x = 0; x < fw; x++, d += 4, s += 4) {
				/* "src over dst" with straight alpha */
				unsigned sa = s[3], da = d[3], oa = sa + da * (255 - sa) / 255, k;
				if (sa == 255 || oa == 0) {
					memcpy(d, s, 4);
					if (oa == 0)
						d[3] = 0;
					continue;
				}
				for (k = 0; k < 3; k++)
					d[k] = (uint8_t)((s[k] * sa + d[k] * da * (255 - sa) / 255) / oa);
				d[3] = (uint8_t)oa;
			}
		}
		free(pic);
		a->prev_dispose = dispose;
		a->prev_x = fx;
		a->prev_y = fy;
		a->prev_w = fw;
		a->prev_h = fh;
		*rgba = a->canvas;
		*w = a->canvas_w;
		*h = a->canvas_h;
		*duration_ms = dur;
		return 1;
	}
	if (r < 0)
		return lv_error_set(LV_EINVALID, "%s: a truncated WebP chunk", a->path);
	return 0;
}

int lv_clip_webp_is_animated(const char *path)
{
	unsigned char head[32];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n >= 21 && lv_clip_sniff(head, n) == LV_CLIP_WEBP && !memcmp(head + 12, "VP8X", 4) && (head[20] & 0x02);
}

/* ---- still images ------------------------------------------------------------------------------------- */

/* A still image file as RGBA at its own size. */
static int still_rgba(uint8_t **rgba, int *w, int *h, const char *path)
{
	lv_clip_kind k = lv_clip_sniff_file(path);
	*rgba = NULL;
	if (k == LV_CLIP_PNG || k == LV_CLIP_JPEG)
		return lv_image_load(rgba, w, h, path, 0, 0);
	if (k == LV_CLIP_WEBP) {
		char *data = NULL;
		size_t len = 0;
		webp_anim a;
		const uint8_t *pic = NULL;
		int rc = lv_file_read(&data, &len, path), dur = 0, r;
		if (rc)
			return rc;
		if ((rc = webp_open(&a, (const uint8_t *)data, len, path)) == LV_OK) {
			r = webp_next_frame(&a, &pic, w, h, &dur);
			if (r == 1) {
				size_t n = (size_t)*w * (size_t)*h * 4;
				if ((*rgba = lv_malloc(n)) != NULL)
					memcpy(*rgba, pic, n);
				else
					rc = LV_ENOMEM;
			} else {
				rc = r < 0 ? lv_error_last()->status
				           : lv_error_set(LV_EINVALID, "%s: the WebP file has no picture", path);
			}
		}
		webp_close(&a);
		free(data);
		return rc;
	}
	return lv_error_set(LV_EINVALID, "%s: not a PNG, JPEG or WebP image (%s)", path, lv_clip_kind_name(k));
}

int lv_clip_image_to_png(const char *in, const char *out_png, int *width, int *height)
{
	uint8_t *rgba = NULL, *rgb = NULL;
	int w = 0, h = 0, rc;
	size_t i, n;
	lv_clip_kind k = lv_clip_sniff_file(in);
	if ((rc = still_rgba(&rgba, &w, &h, in)))
		return rc;
	if (width)
		*width = w;
	if (height)
		*height = h;
	if (k == LV_CLIP_PNG) {
		/* Decodes: keep the file as it came. */
		char *data = NULL;
		size_t len = 0;
		free(rgba);
		if ((rc = lv_file_read(&data, &len, in)) == LV_OK)
			rc = lv_file_write_atomic(out_png, data, len, 0644);
		free(data);
		return rc;
	}
	n = (size_t)w * (size_t)h;
	if (!(rgb = lv_malloc(n * 3))) {
		free(rgba);
		return LV_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		unsigned a = rgba[i * 4 + 3], c;
		for (c = 0; c < 3; c++) /* onto white */
			rgb[i * 3 + c] = (uint8_t)((rgba[i * 4 + c] * a + 255 * (255 - a)) / 255);
	}
	free(rgba);
	rc = lv_png_save_rgb24(out_png, rgb, w, h, w * 3);
	free(rgb);
	return rc;
}

/* ---- the canonical writer ------------------------------------------------------------------------------ */

typedef struct writer {
	lv_seg_writer out;
	AVFrame *pic;      /* the canonical picture */
	struct SwsContext *sws;
	int w, h;
	int fit_x, fit_y, fit_w, fit_h; /* where the last source went */
	int64_t next;      /* next output frame number */
	int have_pic;      /* pic holds a picture */
	const char *path;  /* the final name, for messages */
	const volatile int *cancel;
} writer;

static void fill_black(AVFrame *f)
{
	int y;
	for (y = 0; y < f->height; y++)
		memset(f->data[0] + (size_t)y * (size_t)f->linesize[0], 16, (size_t)f->width);
	for (y = 0; y < f->height / 2; y++) {
		memset(f->data[1] + (size_t)y * (size_t)f->linesize[1], 128, (size_t)f->width / 2);
		memset(f->data[2] + (size_t)y * (size_t)f->linesize[2], 128, (size_t)f->width / 2);
	}
}

static int writer_open(writer *wr, const char *out, int w, int h, const volatile int *cancel)
{
	int e, rc;
	memset(wr, 0, sizeof(*wr));
	wr->path = out;
	wr->w = w;
	wr->h = h;
	wr->cancel = cancel;
	if ((rc = lv_seg_writer_open(&wr->out, out, w, h)))
		return rc;
	if (!(wr->pic = av_frame_alloc()))
		return lv_error_nomem();
	wr->pic->format = LV_SEG_PIX_FMT;
	wr->pic->width = w;
	wr->pic->height = h;
	if ((e = av_frame_get_buffer(wr->pic, 0)) < 0)
		return lv_media_av_fail(e, out, "picture buffer");
	fill_black(wr->pic);
	return LV_OK;
}

/* Output frames up to (not including) the one that starts at or after `until` seconds. */
static int writer_emit(writer *wr, double until)
{
	int64_t limit = (int64_t)ceil(until * LV_SEG_FPS - 1e-6);
	int rc;
	while (wr->have_pic && wr->next < limit) {
		if (wr->cancel && *wr->cancel)
			return lv_error_set(LV_ECANCELED, "%s: canceled", wr->path);
		wr->pic->pts = wr->next++;
		if ((rc = lv_seg_writer_encode(&wr->out, wr->pic)))
			return rc;
	}
	return LV_OK;
}

static int is_rgb_format(enum AVPixelFormat f)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f);
	return d && (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL));
}

/* Show the picture `src` (any format and size) until `until` seconds into the clip. */
static int writer_put(writer *wr, const AVFrame *src, double until)
{
	int64_t limit = (int64_t)ceil(until * LV_SEG_FPS - 1e-6);
	double k;
	int fw, fh, fx, fy, e;
	uint8_t *dst[4];
	int dst_ls[4];
	if (limit <= wr->next && wr->have_pic)
		return LV_OK; /* shorter than a frame: dropped, like any frame rate conversion */
	if (src->width <= 0 || src->height <= 0)
		return lv_error_set(LV_EINVALID, "%s: a source picture has no size", wr->path);
	k = fmin((double)wr->w / src->width, (double)wr->h / src->height);
	fw = (int)(src->width * k + 0.5) & ~1;
	fh = (int)(src->height * k + 0.5) & ~1;
	fw = fw < 2 ? 2 : fw > wr->w ? wr->w : fw;
	fh = fh < 2 ? 2 : fh > wr->h ? wr->h : fh;
	fx = ((wr->w - fw) / 2) & ~1;
	fy = ((wr->h - fh) / 2) & ~1;
	if ((e = av_frame_make_writable(wr->pic)) < 0)
		return lv_media_av_fail(e, wr->path, "picture buffer");
	if (fx != wr->fit_x || fy != wr->fit_y || fw != wr->fit_w || fh != wr->fit_h) {
		fill_black(wr->pic);
		wr->fit_x = fx;
		wr->fit_y = fy;
		wr->fit_w = fw;
		wr->fit_h = fh;
	}
	wr->sws = sws_getCachedContext(wr->sws, src->width, src->height, (enum AVPixelFormat)src->format, fw, fh,
	                               LV_SEG_PIX_FMT, SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
	if (!wr->sws)
		return lv_error_set(LV_EINTERNAL, "%s: cannot scale a %dx%d %s picture", wr->path, src->width, src->height,
		                    av_get_pix_fmt_name((enum AVPixelFormat)src->format));
	{
		/* Out: BT.709 limited range, like every canonical segment.  In: RGB is full range; YUV as tagged. */
		int full = is_rgb_format((enum AVPixelFormat)src->format) || src->color_range == AVCOL_RANGE_JPEG ||
		           src->format == AV_PIX_FMT_YUVJ420P || src->format == AV_PIX_FMT_YUVJ444P;
		int cs = src->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
		sws_setColorspaceDetails(wr->sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_ITU709), 0, 0,
		                         1 << 16, 1 << 16);
	}
	dst[0] = wr->pic->data[0] + (size_t)fy * (size_t)wr->pic->linesize[0] + (size_t)fx;
	dst[1] = wr->pic->data[1] + (size_t)(fy / 2) * (size_t)wr->pic->linesize[1] + (size_t)(fx / 2);
	dst[2] = wr->pic->data[2] + (size_t)(fy / 2) * (size_t)wr->pic->linesize[2] + (size_t)(fx / 2);
	dst[3] = NULL;
	dst_ls[0] = wr->pic->linesize[0];
	dst_ls[1] = wr->pic->linesize[1];
	dst_ls[2] = wr->pic->linesize[2];
	dst_ls[3] = 0;
	sws_scale(wr->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst, dst_ls);
	wr->have_pic = 1;
	return writer_emit(wr, until);
}

/* RGBA (straight alpha) flattened onto black, shown until `until`. */
static int writer_put_rgba(writer *wr, const uint8_t *rgba, int w, int h, double until, AVFrame *scratch)
{
	int e, y, x;
	if (scratch->width != w || scratch->height != h || !scratch->data[0]) {
		av_frame_unref(scratch);
		scratch->format = AV_PIX_FMT_RGB24;
		scratch->width = w;
		scratch->height = h;
		if ((e = av_frame_get_buffer(scratch, 0)) < 0)
			return lv_media_av_fail(e, wr->path, "picture buffer");
	}
	for (y = 0; y < h; y++) {
		const uint8_t *s = rgba + (size_t)y * (size_t)w * 4;
		uint8_t *d = scratch->data[0] + (size_t)y * (size_t)scratch->linesize[0];
		for (x = 0; x < w; x++, s += 4, d += 3) {
			d[0] = (uint8_t)(s[0] * s[3] / 255);
			d[1] = (uint8_t)(s[1] * s[3] / 255);
			d[2] = (uint8_t)(s[2] * s[3] / 255);
		}
	}
	return writer_put(wr, scratch, until);
}

/* Hold the last picture until `total` seconds, flush, and move the file into place. */
static int writer_finish(writer *wr, double total)
{
	int rc;
	if (!wr->have_pic || wr->next == 0)
		return lv_error_set(LV_EINVALID, "%s: the clip has no frames", wr->path);
	if ((rc = writer_emit(wr, total)))
		return rc;
	return lv_seg_writer_finish(&wr->out);
}

static void writer_close(writer *wr)
{
	lv_seg_writer_close(&wr->out);
	av_frame_free(&wr->pic);
	sws_freeContext(wr->sws);
	memset(wr, 0, sizeof(*wr));
}

/* ---- sources --------------------------------------------------------------------------------------------- */

static int convert_webp(writer *wr, const char *in)
{
	char *data = NULL;
	size_t len = 0;
	webp_anim a;
	AVFrame *scratch = av_frame_alloc();
	double t = 0;
	int rc, r, frames = 0;
	if (!scratch)
		return LV_ENOMEM;
	if ((rc = lv_file_read(&data, &len, in))) {
		av_frame_free(&scratch);
		return rc;
	}
	if ((rc = webp_open(&a, (const uint8_t *)data, len, in)) == LV_OK) {
		for (;;) {
			const uint8_t *pic = NULL;
			int w = 0, h = 0, dur = 0;
			r = webp_next_frame(&a, &pic, &w, &h, &dur);
			if (r <= 0) {
				rc = r < 0 ? lv_error_last()->status : LV_OK;
				break;
			}
			if (++frames > WEBP_MAX_FRAMES) {
				rc = lv_error_set(LV_EINVALID, "%s: more than %d frames", in, WEBP_MAX_FRAMES);
				break;
			}
			/* A still (or a zero-length frame): one frame's time. */
			t += dur > 0 ? dur / 1000.0 : 1.0 / LV_SEG_FPS;
			if ((rc = writer_put_rgba(wr, pic, w, h, t, scratch)))
				break;
		}
	}
	if (rc == LV_OK)
		rc = writer_finish(wr, t);
	webp_close(&a);
	free(data);
	av_frame_free(&scratch);
	return rc;
}

/* Anything libavformat can read (GIF, WebM, Matroska, ...): decode the best video stream. */
static int convert_av(writer *wr, const char *in)
{
	AVFormatContext *ic = NULL;
	AVCodecContext *dec = NULL;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc(), *held = av_frame_alloc();
	AVStream *st;
	double t0 = -1, held_t = 0, last_dur = 1.0 / LV_SEG_FPS;
	int vi, e, rc = LV_OK, eof = 0;
	if (!pkt || !f || !held) {
		rc = LV_ENOMEM;
		goto out;
	}
	if ((e = avformat_open_input(&ic, in, NULL, NULL)) < 0 || (e = avformat_find_stream_info(ic, NULL)) < 0) {
		rc = lv_media_av_fail(e, in, "cannot read the clip");
		goto out;
	}
	if ((vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)) < 0 || !codec) {
		rc = lv_error_set(LV_EINVALID, "%s: no decodable video stream", in);
		goto out;
	}
	st = ic->streams[vi];
	if (!(dec = avcodec_alloc_context3(codec))) {
		rc = LV_ENOMEM;
		goto out;
	}
	if ((e = avcodec_parameters_to_context(dec, st->codecpar)) < 0 || (e = avcodec_open2(dec, codec, NULL)) < 0) {
		rc = lv_media_av_fail(e, in, "video decoder");
		goto out;
	}
	if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
		last_dur = av_q2d(av_inv_q(st->avg_frame_rate));
	while (rc == LV_OK) {
		if (!eof) {
			e = av_read_frame(ic, pkt);
			if (e == AVERROR_EOF) {
				eof = 1;
				e = avcodec_send_packet(dec, NULL);
			} else if (e < 0) {
				rc = lv_media_av_fail(e, in, "cannot read a packet");
				break;
			} else {
				e = pkt->stream_index == vi ? avcodec_send_packet(dec, pkt) : 0;
				av_packet_unref(pkt);
			}
			if (e < 0 && e != AVERROR(EAGAIN) && e != AVERROR_EOF) {
				rc = lv_media_av_fail(e, in, "cannot decode the video");
				break;
			}
		}
		for (;;) {
			double t;
			e = avcodec_receive_frame(dec, f);
			if (e == AVERROR(EAGAIN) && eof)
				goto done; /* flushed: nothing more will come */
			if (e == AVERROR(EAGAIN))
				break;
			if (e == AVERROR_EOF)
				goto done;
			if (e < 0) {
				rc = lv_media_av_fail(e, in, "cannot decode the video");
				break;
			}
			t = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp * av_q2d(st->time_base)
			                                               : (t0 < 0 ? 0 : held_t + last_dur);
			if (t0 < 0)
				t0 = t;
			t -= t0;
			if (f->pkt_duration > 0)
				last_dur = f->pkt_duration * av_q2d(st->time_base);
			/* The held picture lasts until this one starts. */
			if (held->data[0] && t > held_t && (rc = writer_put(wr, held, t)))
				break;
			av_frame_unref(held);
			av_frame_move_ref(held, f);
			held_t = t < held_t ? held_t : t;
		}
	}
done:
	if (rc == LV_OK) {
		if (!held->data[0])
			rc = lv_error_set(LV_EINVALID, "%s: the clip has no frames", in);
		else if ((rc = writer_put(wr, held, held_t + last_dur)) == LV_OK)
			rc = writer_finish(wr, held_t + last_dur);
	}
out:
	avcodec_free_context(&dec);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
	av_frame_free(&f);
	av_frame_free(&held);
	return rc;
}

/* An MP4/MOV the composer can read as it is: it must hold a video stream FFmpeg can decode. */
static int check_mp4(const char *in)
{
	AVFormatContext *ic = NULL;
	const AVCodec *codec = NULL;
	int e, vi;
	if ((e = avformat_open_input(&ic, in, NULL, NULL)) < 0 || (e = avformat_find_stream_info(ic, NULL)) < 0) {
		avformat_close_input(&ic);
		return lv_media_av_fail(e, in, "cannot read the clip");
	}
	vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	avformat_close_input(&ic);
	if (vi < 0 || !codec)
		return lv_error_set(LV_EINVALID, "%s: the MP4 has no decodable video stream", in);
	return LV_OK;
}

int lv_clip_to_mp4(const char *in, const char *out_mp4, int width, int height, const volatile int *cancel,
                   int *converted)
{
	lv_clip_kind k = lv_clip_sniff_file(in);
	writer wr;
	int rc;
	if (converted)
		*converted = 0;
	if (k == LV_CLIP_MP4) {
		if ((rc = check_mp4(in)))
			return rc;
		if (rename(in, out_mp4) != 0)
			return lv_error_set(LV_EIO, "%s: cannot move the clip into place: %s", out_mp4, strerror(errno));
		return LV_OK;
	}
	if (k != LV_CLIP_GIF && k != LV_CLIP_MKV && k != LV_CLIP_WEBP)
		return lv_error_set(LV_EINVALID, "%s: not a video clip (%s): expected MP4, WebM, GIF or animated WebP", in,
		                    lv_clip_kind_name(k));
	if ((rc = writer_open(&wr, out_mp4, width, height, cancel)) == LV_OK)
		rc = k == LV_CLIP_WEBP ? convert_webp(&wr, in) : convert_av(&wr, in);
	writer_close(&wr);
	if (rc == LV_OK && converted)
		*converted = 1;
	return rc;
}

int lv_clip_frames_to_mp4(const char *const *frames, size_t n, double fps, const char *out_mp4, int width,
                          int height, const volatile int *cancel)
{
	writer wr;
	AVFrame *scratch = av_frame_alloc();
	size_t i;
	int rc;
	if (!scratch)
		return LV_ENOMEM;
	if (n == 0 || !(fps > 0 && fps <= 240)) {
		av_frame_free(&scratch);
		return lv_error_set(LV_EINVALID, "%s: a frame sequence needs frames and a frame rate (0-240)", out_mp4);
	}
	rc = writer_open(&wr, out_mp4, width, height, cancel);
	for (i = 0; rc == LV_OK && i < n; i++) {
		uint8_t *rgba = NULL;
		int w = 0, h = 0;
		if ((rc = still_rgba(&rgba, &w, &h, frames[i])) == LV_OK)
			rc = writer_put_rgba(&wr, rgba, w, h, (double)(i + 1) / fps, scratch);
		free(rgba);
	}
	if (rc == LV_OK)
		rc = writer_finish(&wr, (double)n / fps);
	writer_close(&wr);
	av_frame_free(&scratch);
	return rc;
}

/* ---- audio --------------------------------------------------------------------------------------------- */

int lv_clip_wav_fix_sizes(const char *path)
{
	FILE *f = fopen(path, "r+b");
	unsigned char h[12], ch[8];
	long long len, pos = 12;
	int rc = LV_OK;
	if (!f)
		return lv_error_set(LV_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (fseeko(f, 0, SEEK_END) != 0 || (len = (long long)ftello(f)) < 0 || fseeko(f, 0, SEEK_SET) != 0 ||
	    fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) {
		fclose(f);
		return lv_error_set(LV_EINVALID, "%s: not a RIFF/WAVE file", path);
	}
	for (;;) {
		uint32_t size;
		if (pos + 8 > len || fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(ch, 1, 8, f) != 8) {
			rc = lv_error_set(LV_EINVALID, "%s: a WAVE file without a data chunk", path);
			break;
		}
		size = le32(ch + 4);
		if (!memcmp(ch, "data", 4)) {
			long long avail = len - pos - 8;
			if ((long long)size > avail) {
				unsigned char b[4];
				put_le32(b, (uint32_t)(avail > 0xfffffff0LL ? 0xfffffff0LL : avail));
				if (fseeko(f, (off_t)(pos + 4), SEEK_SET) != 0 || fwrite(b, 1, 4, f) != 4)
					rc = lv_error_set(LV_EIO, "%s: cannot write the data size: %s", path, strerror(errno));
			}
			if (rc == LV_OK && (long long)le32(h + 4) != len - 8) {
				unsigned char b[4];
				put_le32(b, (uint32_t)(len - 8 > 0xfffffff8LL ? 0xfffffff8LL : len - 8));
				if (fseeko(f, 4, SEEK_SET) != 0 || fwrite(b, 1, 4, f) != 4)
					rc = lv_error_set(LV_EIO, "%s: cannot write the RIFF size: %s", path, strerror(errno));
			}
			break;
		}
		pos += 8 + (long long)size + (size & 1);
	}
	if (fclose(f) != 0 && rc == LV_OK)
		rc = lv_error_set(LV_EIO, "%s: cannot finish writing: %s", path, strerror(errno));
	return rc;
}

static int link_chain(AVFilterGraph *g, AVFilterContext **last, const char *name, const char *args, const char *in)
{
	AVFilterContext *f = NULL;
	int e = avfilter_graph_create_filter(&f, avfilter_get_by_name(name), name, args, NULL, g);
	if (e < 0)
		return lv_media_av_fail(e, in, "audio filter");
	if (*last && (e = avfilter_link(*last, 0, f, 0)) < 0)
		return lv_media_av_fail(e, in, "audio filter link");
	*last = f;
	return LV_OK;
}

int lv_clip_audio_to_wav(const char *in, const char *out_wav, double tempo, double *seconds)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	AVFilterContext *src = NULL, *last = NULL, *sink = NULL;
	AVFrame *fr = av_frame_alloc();
	lv_wav_writer w;
	char args[64];
	int e, rc = LV_OK, wav_open = 0;
	memset(&w, 0, sizeof(w));
	if (seconds)
		*seconds = 0;
	if (!g || !fr) {
		rc = LV_ENOMEM;
		goto out;
	}
	if (!(tempo >= 0.5 && tempo <= 4.0)) {
		rc = lv_error_set(LV_EINVALID, "%s: tempo %.3f is outside 0.5-4", in, tempo);
		goto out;
	}
	/* amovie reads the file (any format FFmpeg knows); the name is an option, so nothing needs escaping. */
	src = avfilter_graph_alloc_filter(g, avfilter_get_by_name("amovie"), "src");
	if (!src) {
		rc = lv_error_set(LV_EINTERNAL, "this FFmpeg has no amovie filter");
		goto out;
	}
	if ((e = av_opt_set(src->priv, "filename", in, 0)) < 0 || (e = av_opt_set(src->priv, "streams", "da", 0)) < 0 ||
	    (e = avfilter_init_str(src, NULL)) < 0) {
		rc = lv_media_av_fail(e, in, "cannot read its audio");
		goto out;
	}
	last = src;
	if (fabs(tempo - 1.0) > 1e-6) {
		snprintf(args, sizeof(args), "tempo=%.6f", tempo);
		if ((rc = link_chain(g, &last, "atempo", args, in)))
			goto out;
	}
	if ((rc = link_chain(g, &last, "aformat", "sample_fmts=s16:channel_layouts=mono", in)) ||
	    (rc = link_chain(g, &last, "abuffersink", NULL, in)))
		goto out;
	sink = last;
	if ((e = avfilter_graph_config(g, NULL)) < 0) {
		rc = lv_media_av_fail(e, in, "audio filter graph");
		goto out;
	}
	if ((rc = lv_wav_open(&w, out_wav, 1, av_buffersink_get_sample_rate(sink))))
		goto out;
	wav_open = 1;
	for (;;) {
		e = av_buffersink_get_frame(sink, fr);
		if (e == AVERROR_EOF)
			break;
		if (e < 0) {
			rc = lv_media_av_fail(e, in, "cannot decode the audio");
			goto out;
		}
		rc = lv_wav_write(&w, (const int16_t *)fr->data[0], (size_t)fr->nb_samples);
		av_frame_unref(fr);
		if (rc)
			goto out;
	}
	if (w.frames == 0) {
		rc = lv_error_set(LV_EINVALID, "%s: no audio samples", in);
		goto out;
	}
	if (seconds)
		*seconds = (double)w.frames / w.rate;
	rc = lv_wav_finish(&w);
	wav_open = 0;
out:
	if (wav_open)
		lv_wav_abort(&w);
	av_frame_free(&fr);
	avfilter_graph_free(&g);
	return rc;
}

int lv_clip_fit_wav(const char *path, double seconds, double max_seconds, double max_tempo, double *fitted)
{
	double tempo = max_seconds > 0 ? fmin(seconds / max_seconds * 1.02, max_tempo) : 1.0;
	char *tmp;
	int rc;
	*fitted = seconds;
	if (max_seconds <= 0 || seconds <= max_seconds || tempo <= 1.01)
		return LV_OK;
	if (!(tmp = lv_asprintf("%s.tempo.wav", path)))
		return lv_error_nomem();
	rc = lv_clip_audio_to_wav(path, tmp, tempo, fitted);
	if (rc == LV_OK && rename(tmp, path) != 0)
		rc = lv_error_set(LV_EIO, "%s: cannot move the audio into place", path);
	unlink(tmp);
	free(tmp);
	return rc;
}
