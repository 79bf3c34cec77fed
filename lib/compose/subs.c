/* Subtitles: SubRip and WebVTT files, mov_text samples, and cues drawn into the picture. */
#include "compose/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- SRT / VTT ---- */

static void fmt_time(char out[16], double t, char sep)
{
	int64_t ms = (int64_t)llround(t * 1000.0);
	if (ms < 0)
		ms = 0;
	snprintf(out, 16, "%02d:%02d:%02d%c%03d", (int)(ms / 3600000), (int)(ms / 60000 % 60),
	         (int)(ms / 1000 % 60), sep, (int)(ms % 1000));
}

static int check_cue(const lv_compose_cue *c, size_t i)
{
	if (!c->text)
		return lv_error_set(LV_EINVALID, "cue %zu: no text", i);
	if (!isfinite(c->start) || !isfinite(c->end) || c->start < 0 || c->end <= c->start)
		return lv_error_set(LV_EINVALID, "cue %zu: times %.3f..%.3f are not an interval from 0 on", i, c->start,
		                    c->end);
	return LV_OK;
}

/* Cue text for a file: no CR, no empty lines (a blank line ends a cue), trimmed. */
static int put_text(lv_buf *b, const char *text, int vtt)
{
	const char *p = text;
	int at_line_start = 1, pending_nl = 0, rc = LV_OK;
	while (*p == '\n' || *p == '\r' || *p == ' ')
		p++;
	for (; *p && rc == LV_OK; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			if (!at_line_start)
				pending_nl = 1;
			at_line_start = 1;
			continue;
		}
		if (pending_nl) {
			rc = lv_buf_puts(b, "\n");
			pending_nl = 0;
		}
		at_line_start = 0;
		if (vtt && *p == '&')
			rc = lv_buf_puts(b, "&amp;");
		else if (vtt && *p == '<')
			rc = lv_buf_puts(b, "&lt;");
		else if (vtt && *p == '>')
			rc = lv_buf_puts(b, "&gt;");
		else
			rc = lv_buf_put(b, p, 1);
	}
	if (rc == LV_OK)
		rc = lv_buf_puts(b, "\n\n");
	return rc;
}

int lv_subtitles_write(const lv_compose_cue *cues, size_t n, const char *srt_path, const char *vtt_path)
{
	lv_buf srt = LV_BUF_INIT, vtt = LV_BUF_INIT;
	size_t i;
	int rc = lv_buf_puts(&vtt, "WEBVTT\n\n");
	for (i = 0; i < n && rc == LV_OK; i++) {
		char a[16], b[16];
		rc = check_cue(&cues[i], i);
		if (rc != LV_OK)
			break;
		fmt_time(a, cues[i].start, ',');
		fmt_time(b, cues[i].end, ',');
		rc = lv_buf_printf(&srt, "%zu\n%s --> %s\n", i + 1, a, b);
		if (rc == LV_OK)
			rc = put_text(&srt, cues[i].text, 0);
		fmt_time(a, cues[i].start, '.');
		fmt_time(b, cues[i].end, '.');
		if (rc == LV_OK)
			rc = lv_buf_printf(&vtt, "%s --> %s\n", a, b);
		if (rc == LV_OK)
			rc = put_text(&vtt, cues[i].text, 1);
	}
	if (rc == LV_OK && srt_path) {
		rc = lv_file_write_atomic(srt_path, srt.data ? srt.data : "", srt.len, 0644);
		if (rc != LV_OK)
			lv_error_prefix("subtitles: %s", srt_path);
	}
	if (rc == LV_OK && vtt_path) {
		rc = lv_file_write_atomic(vtt_path, vtt.data, vtt.len, 0644);
		if (rc != LV_OK)
			lv_error_prefix("subtitles: %s", vtt_path);
	}
	lv_buf_free(&srt);
	lv_buf_free(&vtt);
	return rc;
}

/* ---- cues for the film ---- */

static int cmp_cue(const void *a, const void *b)
{
	const lv_compose_cue *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

int lv_cues_prepare(lv_cue_list *out, const lv_compose_cue *cues, size_t n, double film_seconds)
{
	size_t i, k = 0;
	out->cues = NULL;
	out->n = 0;
	for (i = 0; i < n; i++) {
		int rc = check_cue(&cues[i], i);
		if (rc != LV_OK)
			return rc;
	}
	if (n == 0)
		return LV_OK;
	out->cues = lv_calloc(n, sizeof(*out->cues));
	if (!out->cues)
		return LV_ENOMEM;
	for (i = 0; i < n; i++) {
		if (cues[i].start >= film_seconds)
			continue;
		out->cues[k] = cues[i];
		if (out->cues[k].end > film_seconds)
			out->cues[k].end = film_seconds;
		k++;
	}
	qsort(out->cues, k, sizeof(*out->cues), cmp_cue);
	/* One cue at a time in a text track: an overlapped cue ends where the next begins. */
	for (i = 0; i + 1 < k; i++)
		if (out->cues[i].end > out->cues[i + 1].start)
			out->cues[i].end = out->cues[i + 1].start;
	out->n = k;
	return LV_OK;
}

void lv_cues_free(lv_cue_list *l)
{
	free(l->cues);
	l->cues = NULL;
	l->n = 0;
}

/* ---- mov_text (3GPP timed text, TS 26.245) ---- */

int lv_movtext_extradata(AVCodecParameters *par)
{
	static const uint8_t desc[] = {
		0x00, 0x00, 0x00, 0x00, /* display flags */
		0x01,                   /* horizontal justification: center */
		0xff,                   /* vertical justification: bottom */
		0x00, 0x00, 0x00, 0x00, /* background colour RGBA */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* default text box */
		/* default style: chars 0..0, font 1, plain, size 16, white (the ASS defaults decoders assume) */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0xff, 0xff, 0xff, 0xff,
		/* font table: one font, id 1, "Arial" (players substitute what they have) */
		0x00, 0x00, 0x00, 0x12, 'f', 't', 'a', 'b', 0x00, 0x01, 0x00, 0x01, 0x05, 'A', 'r', 'i', 'a', 'l',
	};
	par->extradata = av_mallocz(sizeof(desc) + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!par->extradata)
		return lv_error_nomem();
	memcpy(par->extradata, desc, sizeof(desc));
	par->extradata_size = (int)sizeof(desc);
	return LV_OK;
}

int lv_movtext_sample(AVPacket *pkt, const char *text)
{
	lv_buf b = LV_BUF_INIT;
	size_t len;
	int rc = put_text(&b, text, 0);
	if (rc != LV_OK) {
		lv_buf_free(&b);
		return rc;
	}
	len = b.len >= 2 ? b.len - 2 : 0; /* without the cue-ending blank line */
	if (len > 0xffff)
		len = 0xffff;
	if (av_new_packet(pkt, (int)(len + 2)) < 0) {
		lv_buf_free(&b);
		return lv_error_nomem();
	}
	pkt->data[0] = (uint8_t)(len >> 8);
	pkt->data[1] = (uint8_t)(len & 0xff);
	memcpy(pkt->data + 2, b.data, len);
	lv_buf_free(&b);
	return LV_OK;
}

const char *lv_lang_iso639_2(const char *tag)
{
	static const char *const map[][2] = {
		{ "ar", "ara" }, { "bn", "ben" }, { "cs", "ces" }, { "da", "dan" }, { "de", "deu" }, { "el", "ell" },
		{ "en", "eng" }, { "es", "spa" }, { "fa", "fas" }, { "fi", "fin" }, { "fr", "fra" }, { "he", "heb" },
		{ "hi", "hin" }, { "hu", "hun" }, { "id", "ind" }, { "it", "ita" }, { "ja", "jpn" }, { "ko", "kor" },
		{ "ms", "msa" }, { "nl", "nld" }, { "no", "nor" }, { "pl", "pol" }, { "pt", "por" }, { "ro", "ron" },
		{ "ru", "rus" }, { "sv", "swe" }, { "th", "tha" }, { "tr", "tur" }, { "uk", "ukr" }, { "vi", "vie" },
		{ "yue", "yue" }, { "zh", "zho" },
	};
	char primary[8];
	size_t i, n = 0;
	if (!tag)
		return "und";
	while (tag[n] && tag[n] != '-' && tag[n] != '_' && n < sizeof(primary) - 1) {
		char c = tag[n];
		primary[n] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		n++;
	}
	primary[n] = '\0';
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(primary, map[i][0]) || !strcmp(primary, map[i][1]))
			return map[i][1];
	return "und";
}

/* ---- burned-in cues ---- */

/* Length of the UTF-8 sequence at s and its code point. */
static size_t utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
		return 2;
	}
	if ((u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
		return 3;
	}
	if ((u[0] & 0xf8) == 0xf0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80 && (u[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) | ((uint32_t)(u[2] & 0x3f) << 6) |
		      (u[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

static int is_wide(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	       (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd);
}

/* Approximate advance in em: wide (CJK) characters are square, others about half. */
static double char_em(uint32_t c)
{
	if (is_wide(c))
		return 1.0;
	if (c == ' ')
		return 0.3;
	return 0.56;
}

/*
 * Break text into lines no wider than max_em: at explicit newlines, at spaces, and between
 * wide characters (CJK has no spaces).  Lines are appended to `lines`, separated by '\n'.
 */
static int wrap_text(lv_buf *lines, const char *text, double max_em)
{
	const char *p = text;
	while (*p) {
		/* One explicit line: [p, eol). */
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		while (p < eol) {
			const char *q = p, *brk = NULL;
			double w = 0;
			while (q < eol) {
				uint32_t c;
				size_t n = utf8_next(q, &c);
				if (c == ' ')
					brk = q;
				else if (is_wide(c) && q > p)
					brk = q;
				w += char_em(c);
				if (w > max_em && q > p)
					break;
				q += n;
			}
			if (q < eol && brk && brk > p)
				q = brk;
			{
				const char *end = q;
				while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
					end--;
				if (end > p) {
					if (lines->len && lv_buf_puts(lines, "\n") != LV_OK)
						return LV_ENOMEM;
					if (lv_buf_put(lines, p, (size_t)(end - p)) != LV_OK)
						return LV_ENOMEM;
				}
			}
			p = q;
			while (p < eol && *p == ' ')
				p++;
		}
		p = *eol ? eol + 1 : eol;
	}
	return LV_OK;
}

static int link_new(AVFilterGraph *g, AVFilterContext **prev, const char *name, const char *inst, const char *args)
{
	AVFilterContext *f = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avfilter_graph_create_filter(&f, avfilter_get_by_name(name), inst, args, NULL, g);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "subtitles: cannot create the %s filter: %s", name, lv_av_err(eb, err));
	err = avfilter_link(*prev, 0, f, 0);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "subtitles: cannot link the %s filter: %s", name, lv_av_err(eb, err));
	*prev = f;
	return LV_OK;
}

/* One drawtext filter for one line of one cue, its text set as an option (no escaping involved). */
static int add_line(AVFilterGraph *g, AVFilterContext **prev, const char *line, const lv_compose_cue *c, int h,
                    int line_no, int n_lines, const char *font_file)
{
	const AVFilter *dt = avfilter_get_by_name("drawtext");
	AVFilterContext *f;
	char eb[AV_ERROR_MAX_STRING_SIZE], buf[160];
	int fs = h / 16 > 12 ? h / 16 : 12, lh = fs * 13 / 10, margin = h / 14;
	int err;
	if (!dt)
		return lv_error_set(LV_EINTERNAL, "subtitles: this FFmpeg has no drawtext filter");
	f = avfilter_graph_alloc_filter(g, dt, NULL);
	if (!f)
		return lv_error_nomem();
	err = av_opt_set(f->priv, "text", line, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "expansion", "none", 0);
	if (err >= 0 && font_file && *font_file)
		err = av_opt_set(f->priv, "fontfile", font_file, 0);
	else if (err >= 0)
		err = av_opt_set(f->priv, "font", "Sans", 0);
	snprintf(buf, sizeof(buf), "%d", fs);
	if (err >= 0)
		err = av_opt_set(f->priv, "fontsize", buf, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "fontcolor", "white", 0);
	if (err >= 0)
		err = av_opt_set_int(f->priv, "borderw", fs / 14 > 1 ? fs / 14 : 1, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "bordercolor", "black@0.8", 0);
	if (err >= 0)
		err = av_opt_set_int(f->priv, "box", 1, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "boxcolor", "black@0.45", 0);
	if (err >= 0)
		err = av_opt_set_int(f->priv, "boxborderw", fs / 5, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "x", "(w-text_w)/2", 0);
	if (err >= 0) {
		snprintf(buf, sizeof(buf), "%d", h - margin - (n_lines - line_no) * lh);
		err = av_opt_set(f->priv, "y", buf, 0);
	}
	if (err >= 0) {
		snprintf(buf, sizeof(buf), "gte(t,%.4f)*lt(t,%.4f)", c->start, c->end);
		err = av_opt_set(f, "enable", buf, 0);
	}
	if (err >= 0)
		err = avfilter_init_str(f, NULL);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "subtitles: cannot set up drawtext for cue at %.3f s (font %s): %s",
		                    c->start, font_file ? font_file : "Sans", lv_av_err(eb, err));
	err = avfilter_link(*prev, 0, f, 0);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "subtitles: cannot link drawtext: %s", lv_av_err(eb, err));
	*prev = f;
	return LV_OK;
}

static int add_cue(AVFilterGraph *g, AVFilterContext **prev, const lv_compose_cue *c, int w, int h,
                   const char *font_file)
{
	lv_buf lines = LV_BUF_INIT;
	int fs = h / 16 > 12 ? h / 16 : 12, n_lines = 0, i = 0, rc;
	const char *p;
	rc = wrap_text(&lines, c->text, (w * 0.88) / fs);
	if (rc != LV_OK || !lines.data) {
		lv_buf_free(&lines);
		return rc;
	}
	n_lines = 1;
	for (p = lines.data; *p; p++)
		n_lines += *p == '\n';
	for (p = lines.data; rc == LV_OK && *p; i++) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *line = lv_strndup(p, n);
		if (!line) {
			rc = LV_ENOMEM;
			break;
		}
		rc = add_line(g, prev, line, c, h, i, n_lines, font_file);
		free(line);
		p += n;
		if (*p == '\n')
			p++;
	}
	lv_buf_free(&lines);
	return rc;
}

int lv_burn_open(lv_burn *out, const lv_cue_list *cues, double t0, double t1, int w, int h, AVRational fps,
                 const char *font_file)
{
	AVFilterContext *prev;
	char args[256], eb[AV_ERROR_MAX_STRING_SIZE];
	size_t i;
	int rc = LV_OK, any = 0, err;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < cues->n; i++)
		if (cues->cues[i].end > t0 && cues->cues[i].start < t1)
			any = 1;
	if (!any)
		return LV_OK;
	out->graph = avfilter_graph_alloc();
	if (!out->graph)
		return lv_error_nomem();
	out->graph->nb_threads = 1;
	snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=1/1:frame_rate=%d/%d",
	         w, h, AV_PIX_FMT_YUV420P, fps.den, fps.num, fps.num, fps.den);
	err = avfilter_graph_create_filter(&out->src, avfilter_get_by_name("buffer"), "in", args, NULL, out->graph);
	if (err < 0) {
		rc = lv_error_set(LV_EINTERNAL, "subtitles: cannot create the video source: %s", lv_av_err(eb, err));
		goto fail;
	}
	prev = out->src;
	for (i = 0; i < cues->n && rc == LV_OK; i++)
		if (cues->cues[i].end > t0 && cues->cues[i].start < t1)
			rc = add_cue(out->graph, &prev, &cues->cues[i], w, h, font_file);
	if (rc == LV_OK)
		rc = link_new(out->graph, &prev, "format", "fmt", "pix_fmts=yuv420p");
	if (rc == LV_OK)
		rc = link_new(out->graph, &prev, "buffersink", "out", NULL);
	if (rc != LV_OK)
		goto fail;
	out->sink = prev;
	err = avfilter_graph_config(out->graph, NULL);
	if (err < 0) {
		rc = lv_error_set(LV_EINTERNAL, "subtitles: cannot configure the drawing graph: %s", lv_av_err(eb, err));
		goto fail;
	}
	return LV_OK;
fail:
	lv_burn_close(out);
	return rc;
}

void lv_burn_close(lv_burn *b)
{
	avfilter_graph_free(&b->graph);
	b->src = b->sink = NULL;
}
