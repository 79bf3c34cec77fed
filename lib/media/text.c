#include "media/text.h"
#include "util/log.h"
#include "util/mem.h"

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libavutil/pixfmt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 and character classes ---------------------------------------- */

/* Decode one code point at s (n bytes left); returns its length (>= 1).  Malformed bytes give U+FFFD. */
static size_t utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i;
	uint32_t c;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		len = 2;
		c = u[0] & 0x1f;
	} else if ((u[0] & 0xf0) == 0xe0) {
		len = 3;
		c = u[0] & 0x0f;
	} else if ((u[0] & 0xf8) == 0xf0) {
		len = 4;
		c = u[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (len > n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3f);
	}
	*cp = c;
	return len;
}

static int is_cjk(uint32_t c)
{
	return (c >= 0x2e80 && c <= 0x2fdf) || (c >= 0x3000 && c <= 0x30ff) || (c >= 0x3100 && c <= 0x31ff) ||
	       (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xffef) ||
	       (c >= 0x20000 && c <= 0x2fa1f);
}

static int is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x3000 ||
	       c == 0xa0;
}

/* Punctuation that must not start a line. */
static int no_break_before(uint32_t c)
{
	static const uint32_t list[] = { 0x3001, 0x3002, 0xff0c, 0xff0e, 0xff01, 0xff1f, 0xff1b, 0xff1a, 0x300d,
		                         0x300f, 0xff09, 0x300b, 0x3009, 0x3011, 0x2019, 0x201d, 0x2026, 0x30fc,
		                         ',', '.', '!', '?', ';', ':', ')', ']', '}', '%' };
	size_t i;
	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (list[i] == c)
			return 1;
	return 0;
}

int lv_text_has_cjk(const char *s)
{
	size_t n = s ? strlen(s) : 0, i = 0;
	while (i < n) {
		uint32_t c;
		i += utf8_next(s + i, n - i, &c);
		if (is_cjk(c) && c != 0x3000)
			return 1;
	}
	return 0;
}

/* Approximate advance in em, on the wide side, for a sans-serif face. */
static float advance_em(uint32_t c)
{
	if (is_cjk(c))
		return 1.0f;
	if (c == ' ')
		return 0.32f;
	if (c >= 'A' && c <= 'Z')
		return (c == 'M' || c == 'W') ? 0.88f : c == 'I' ? 0.32f : 0.70f;
	if (c >= 'a' && c <= 'z') {
		if (c == 'i' || c == 'j' || c == 'l')
			return 0.28f;
		if (c == 'f' || c == 't' || c == 'r')
			return 0.40f;
		if (c == 'm' || c == 'w')
			return 0.88f;
		return 0.60f;
	}
	if (c >= '0' && c <= '9')
		return 0.64f;
	if (c == '.' || c == ',' || c == ':' || c == ';' || c == '\'' || c == '!' || c == '|')
		return 0.34f;
	if (c < 0x80)
		return 0.56f;
	return 0.66f;
}

static float width_em(const char *s, size_t n)
{
	float w = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t c;
		i += utf8_next(s + i, n - i, &c);
		w += advance_em(c);
	}
	return w;
}

/* ---- tokens and line breaking ---------------------------------------------- */

typedef struct tok {
	size_t start, end; /* bytes of the normalised text */
	int space_before;
} tok;

typedef struct lines {
	char **v;
	int n, cap;
} lines;

static void lines_free(lines *l)
{
	int i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int lines_push(lines *l, lv_buf *b)
{
	char *s;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 8;
		char **v = lv_realloc(l->v, sizeof(char *) * (size_t)cap);
		if (!v)
			return LV_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	s = b->data ? lv_buf_detach(b) : lv_strdup("");
	if (!s)
		return LV_ENOMEM;
	l->v[l->n++] = s;
	return LV_OK;
}

/* Split text into break opportunities. */
static int tokenize(tok **out, size_t *nout, const char *s)
{
	size_t n = strlen(s), i = 0, nt = 0, cap = 0;
	tok *t = NULL;
	int space = 0, in_word = 0;
	while (i < n) {
		uint32_t c;
		size_t len = utf8_next(s + i, n - i, &c);
		if (is_space(c)) {
			space = 1;
			in_word = 0;
			i += len;
			continue;
		}
		/* extend the current token: a word continues, closing punctuation sticks */
		if (nt && !space && ((in_word && !is_cjk(c)) || no_break_before(c))) {
			t[nt - 1].end = i + len;
			in_word = !is_cjk(c) && in_word;
			i += len;
			continue;
		}
		if (nt == cap) {
			size_t nc = cap ? cap * 2 : 32;
			tok *nv = lv_realloc(t, nc * sizeof(tok));
			if (!nv) {
				free(t);
				return LV_ENOMEM;
			}
			t = nv;
			cap = nc;
		}
		t[nt].start = i;
		t[nt].end = i + len;
		t[nt].space_before = space && nt > 0;
		nt++;
		space = 0;
		in_word = !is_cjk(c);
		i += len;
	}
	*out = t;
	*nout = nt;
	return LV_OK;
}

/* Greedy wrap at em_px pixels per em into lines no wider than max_w (estimated). */
static int wrap(lines *out, float *widest, const char *s, const tok *t, size_t nt, float em_px, float max_w)
{
	lv_buf cur = LV_BUF_INIT;
	float cw = 0, sp = advance_em(' ') * em_px;
	size_t k;
	int err = LV_OK;
	*widest = 0;
	for (k = 0; k < nt && !err; k++) {
		size_t len = t[k].end - t[k].start;
		float tw = width_em(s + t[k].start, len) * em_px;
		float gap = (cur.len && t[k].space_before) ? sp : 0;
		if (cw + gap + tw <= max_w || !cur.len) {
			if (tw > max_w) {
				/* a word longer than a line: break it between characters */
				size_t i = 0;
				if (cur.len) {
					*widest = fmaxf(*widest, cw);
					err = lines_push(out, &cur);
					cw = 0;
				}
				while (!err && i < len) {
					uint32_t c;
					size_t cl = utf8_next(s + t[k].start + i, len - i, &c);
					float aw = advance_em(c) * em_px;
					if (cur.len && cw + aw > max_w) {
						*widest = fmaxf(*widest, cw);
						err = lines_push(out, &cur);
						cw = 0;
					}
					if (!err)
						err = lv_buf_put(&cur, s + t[k].start + i, cl);
					cw += aw;
					i += cl;
				}
				continue;
			}
			if (gap > 0)
				err = lv_buf_put(&cur, " ", 1);
			if (!err)
				err = lv_buf_put(&cur, s + t[k].start, len);
			cw += gap + tw;
			continue;
		}
		*widest = fmaxf(*widest, cw);
		err = lines_push(out, &cur);
		cw = 0;
		k--; /* place this token on the new line */
	}
	if (!err && cur.len) {
		*widest = fmaxf(*widest, cw);
		err = lines_push(out, &cur);
	}
	lv_buf_free(&cur);
	return err;
}

/* Keep max_lines lines and end the last with an ellipsis that fits max_w. */
static int truncate_lines(lines *l, int max_lines, float em_px, float max_w)
{
	static const char ell[] = "\xe2\x80\xa6";
	char *last, *joined;
	size_t n;
	while (l->n > max_lines)
		free(l->v[--l->n]);
	last = l->v[l->n - 1];
	n = strlen(last);
	while (n > 0 && (width_em(last, n) + 1.0f) * em_px > max_w) {
		/* drop the last code point */
		do
			n--;
		while (n > 0 && ((unsigned char)last[n] & 0xc0) == 0x80);
	}
	while (n > 0 && last[n - 1] == ' ')
		n--;
	joined = lv_asprintf("%.*s%s", (int)n, last, ell);
	if (!joined)
		return LV_ENOMEM;
	free(last);
	l->v[l->n - 1] = joined;
	return LV_OK;
}

/* ---- rasterisation through drawtext ------------------------------------------ */

static int av_fail(int averr, const char *what)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, msg, sizeof(msg));
	return lv_error_set(LV_EINTERNAL, "text: %s: %s", what, msg);
}

static int set_opt(AVFilterContext *f, const char *key, const char *val)
{
	int e = av_opt_set(f, key, val, AV_OPT_SEARCH_CHILDREN);
	return e < 0 ? av_fail(e, key) : LV_OK;
}

/* Draw the lines centred on a gray canvas of cw x ch; *out receives the frame. */
static int raster(AVFrame **out, const lines *l, const char *font, int font_px, int line_h, int top, int cw, int ch)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	AVFilterContext *src = NULL, *sink = NULL, *prev;
	AVFrame *in = av_frame_alloc(), *res = av_frame_alloc();
	const AVFilter *drawtext = avfilter_get_by_name("drawtext");
	char args[160], val[64], name[32];
	int err = LV_OK, e, i, y;
	*out = NULL;
	if (!g || !in || !res) {
		err = lv_error_nomem();
		goto done;
	}
	if (!drawtext) {
		err = lv_error_set(LV_EINTERNAL, "text: this FFmpeg has no drawtext filter (FreeType)");
		goto done;
	}
	g->nb_threads = 1;
	snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=1/24:pixel_aspect=1/1", cw, ch,
	         (int)AV_PIX_FMT_GRAY8);
	e = avfilter_graph_create_filter(&src, avfilter_get_by_name("buffer"), "src", args, NULL, g);
	if (e < 0) {
		err = av_fail(e, "buffer source");
		goto done;
	}
	e = avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "sink", NULL, NULL, g);
	if (e < 0) {
		err = av_fail(e, "buffer sink");
		goto done;
	}
	prev = src;
	for (i = 0; i < l->n; i++) {
		AVFilterContext *dt;
		if (!l->v[i][0])
			continue;
		snprintf(name, sizeof(name), "line%d", i);
		dt = avfilter_graph_alloc_filter(g, drawtext, name);
		if (!dt) {
			err = lv_error_nomem();
			goto done;
		}
		snprintf(val, sizeof(val), "%d", font_px);
		err = set_opt(dt, "fontfile", font);
		if (!err)
			err = set_opt(dt, "text", l->v[i]);
		if (!err)
			err = set_opt(dt, "expansion", "none");
		if (!err)
			err = set_opt(dt, "fontsize", val);
		if (!err)
			err = set_opt(dt, "fontcolor", "white");
		if (!err)
			err = set_opt(dt, "x", "(w-text_w)/2");
		snprintf(val, sizeof(val), "%d-ascent", top + font_px + i * line_h);
		if (!err)
			err = set_opt(dt, "y", val);
		if (err)
			goto done;
		e = avfilter_init_str(dt, NULL);
		if (e < 0) {
			err = lv_error_set(LV_EINTERNAL, "text: cannot set up drawtext with font '%s'", font);
			goto done;
		}
		e = avfilter_link(prev, 0, dt, 0);
		if (e < 0) {
			err = av_fail(e, "link");
			goto done;
		}
		prev = dt;
	}
	e = avfilter_link(prev, 0, sink, 0);
	if (e >= 0)
		e = avfilter_graph_config(g, NULL);
	if (e < 0) {
		err = av_fail(e, "filter graph");
		goto done;
	}
	in->format = AV_PIX_FMT_GRAY8;
	in->width = cw;
	in->height = ch;
	in->pts = 0;
	e = av_frame_get_buffer(in, 0);
	if (e < 0) {
		err = av_fail(e, "frame");
		goto done;
	}
	for (y = 0; y < ch; y++)
		memset(in->data[0] + (size_t)y * in->linesize[0], 0, (size_t)cw);
	e = av_buffersrc_add_frame(src, in);
	if (e >= 0)
		e = av_buffersrc_add_frame(src, NULL);
	if (e >= 0)
		e = av_buffersink_get_frame(sink, res);
	if (e < 0) {
		err = av_fail(e, "drawing");
		goto done;
	}
	if (res->format != AV_PIX_FMT_GRAY8 || res->width != cw || res->height != ch) {
		err = lv_error_set(LV_EINTERNAL, "text: drawtext returned an unexpected frame");
		goto done;
	}
	*out = res;
	res = NULL;
done:
	av_frame_free(&in);
	av_frame_free(&res);
	avfilter_graph_free(&g);
	return err;
}

void lv_text_mask_free(lv_text_mask *m)
{
	if (!m)
		return;
	free(m->data);
	memset(m, 0, sizeof(*m));
}

/* Normalise whitespace: trim, and every run of blanks becomes one space. */
static char *normalise(const char *text)
{
	size_t n = strlen(text), i = 0;
	lv_buf b = LV_BUF_INIT;
	int pending = 0;
	while (i < n) {
		uint32_t c;
		size_t len = utf8_next(text + i, n - i, &c);
		if (is_space(c) || c < 0x20) {
			pending = b.len > 0;
		} else {
			if (pending && lv_buf_put(&b, " ", 1))
				goto fail;
			pending = 0;
			if (c == 0xfffd && len == 1) {
				if (lv_buf_put(&b, "\xef\xbf\xbd", 3))
					goto fail;
			} else if (lv_buf_put(&b, text + i, len)) {
				goto fail;
			}
		}
		i += len;
	}
	if (!b.data && lv_buf_put(&b, "", 0))
		goto fail;
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

int lv_text_render(lv_text_mask *out, const char *text, const char *font_file, int font_px, int min_px, int max_w,
                   int max_lines)
{
	char *s = NULL;
	tok *t = NULL;
	size_t nt = 0;
	lines l = { NULL, 0, 0 };
	AVFrame *fr = NULL;
	float calib = 1.0f;
	int err, attempt, f = font_px;
	memset(out, 0, sizeof(*out));
	if (!font_file)
		return lv_error_set(LV_EINTERNAL, "text: no font file found (install fonts-dejavu or fonts-wqy-microhei)");
	if (font_px < 4 || max_w < 8 || max_lines < 1)
		return lv_error_set(LV_EINVALID, "text: bad layout (font %d px, width %d, %d lines)", font_px, max_w,
		                    max_lines);
	if (min_px < 4 || min_px > font_px)
		min_px = font_px;
	s = normalise(text ? text : "");
	if (!s)
		return LV_ENOMEM;
	if (!*s) {
		free(s);
		return LV_OK;
	}
	err = tokenize(&t, &nt, s);
	for (attempt = 0; !err && attempt < 24; attempt++) {
		float widest, em = (float)f * calib;
		int line_h = (int)lrintf((float)f * 1.32f), top = f / 4, pad = f, cw, ch, x, y;
		int x0 = -1, x1 = -1, y0 = -1, y1 = -1, fg = 0;
		lines_free(&l);
		err = wrap(&l, &widest, s, t, nt, em, (float)max_w);
		if (err)
			break;
		if (l.n > max_lines && f > min_px) {
			f = (int)fmaxf((float)min_px, floorf((float)f * 0.9f));
			continue;
		}
		if (l.n > max_lines) {
			err = truncate_lines(&l, max_lines, em, (float)max_w);
			if (err)
				break;
			widest = (float)max_w;
		}
		cw = max_w + 2 * pad;
		ch = top + l.n * line_h + f / 3;
		err = raster(&fr, &l, font_file, f, line_h, top, cw, ch);
		if (err)
			break;
		/* the ink's bounding box and the drawn intensity of full coverage */
		for (y = 0; y < ch; y++) {
			const uint8_t *r = fr->data[0] + (size_t)y * fr->linesize[0];
			for (x = 0; x < cw; x++) {
				if (!r[x])
					continue;
				if (r[x] > fg)
					fg = r[x];
				if (x0 < 0 || x < x0)
					x0 = x;
				if (x > x1)
					x1 = x;
				if (y0 < 0)
					y0 = y;
				y1 = y;
			}
		}
		if (x0 < 0) {
			/* nothing visible (e.g. only characters the font lacks) */
			av_frame_free(&fr);
			break;
		}
		if (x1 - x0 + 1 > max_w && attempt < 23 && widest > 0) {
			/* the estimate was short: calibrate it against the ink and lay out again */
			calib *= fmaxf(1.02f, (float)(x1 - x0 + 1) / widest * 1.01f);
			av_frame_free(&fr);
			continue;
		}
		if (x1 - x0 + 1 > max_w) {
			int c = (x0 + x1) / 2;
			x0 = c - max_w / 2;
			x1 = x0 + max_w - 1;
		}
		out->w = x1 - x0 + 1;
		out->h = y1 - y0 + 1;
		out->lines = l.n;
		out->font_px = f;
		out->data = lv_malloc((size_t)out->w * (size_t)out->h);
		if (!out->data) {
			err = LV_ENOMEM;
			break;
		}
		if (fg < 128)
			fg = 255;
		for (y = 0; y < out->h; y++) {
			const uint8_t *r = fr->data[0] + (size_t)(y0 + y) * fr->linesize[0] + x0;
			uint8_t *d = out->data + (size_t)y * out->w;
			for (x = 0; x < out->w; x++) {
				int v = r[x] * 255 / fg;
				d[x] = (uint8_t)(v > 255 ? 255 : v);
			}
		}
		break;
	}
	av_frame_free(&fr);
	lines_free(&l);
	free(t);
	free(s);
	if (err)
		lv_text_mask_free(out);
	return err;
}
