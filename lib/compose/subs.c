/* Subtitles: SubRip and WebVTT files, mov_text samples, and cues drawn into the picture. */
#include "compose/internal.h"
#include "media/local.h"
#include "media/subband.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <linebreak.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Length of the UTF-8 sequence at s and its code point. */
static size_t utf8_next(const char *s, uint32_t *cp);
static int is_wide(uint32_t c);

static pthread_once_t unibreak_once = PTHREAD_ONCE_INIT;

static void unibreak_init(void)
{
	init_linebreak();
}

/* Width units of text[a, b): wide characters 2, others 1. */
static int units_of(const char *text, size_t a, size_t b)
{
	int u = 0;
	while (a < b) {
		uint32_t c;
		a += utf8_next(text + a, &c);
		u += is_wide(c) ? 2 : 1;
	}
	return u;
}

/* 1 if text[a, e) ends (before spaces) on punctuation: ", . ; : ! ?" or the CJK ones. */
static int after_punct(const char *t, size_t a, size_t e)
{
	static const char *const cjk[] = { "\xef\xbc\x8c", "\xe3\x80\x82", "\xe3\x80\x81", "\xef\xbc\x81",
		                           "\xef\xbc\x9f", "\xef\xbc\x9b", "\xef\xbc\x9a", NULL }; /* ，。、！？；： */
	const char *const *c;
	while (e > a && t[e - 1] == ' ')
		e--;
	if (e > a && strchr(",.;:!?", t[e - 1]))
		return 1;
	for (c = cjk; *c; c++)
		if (e >= a + 3 && !strncmp(t + e - 3, *c, 3))
			return 1;
	return 0;
}

/* Append text[a, b) trimmed of spaces. */
static int put_trimmed(lv_buf *b, const char *text, size_t a, size_t e)
{
	while (a < e && (text[a] == ' ' || text[a] == '\n'))
		a++;
	while (e > a && (text[e - 1] == ' ' || text[e - 1] == '\n'))
		e--;
	return lv_buf_put(b, text + a, e - a);
}

/* Whether s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 9;
		size_t k;
		if (n == 9 || (size_t)(end - p) <= n)
			return n == 0;
		for (k = 1; k <= n; k++)
			if ((p[k] & 0xC0) != 0x80)
				return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
		    (c == 0xF4 && p[1] > 0x8F))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* Split one cue into pieces of at most two lines of `units` each, appended to out (capacity grows). */
static int split_cue(lv_cue_list *out, size_t *cap, const lv_compose_cue *c, int units_arg, int max_lines)
{
	int units = units_arg & 0xffff, balanced = units_arg & 0x10000; /* balanced: lines already evened */
	const char *t = c->text;
	size_t len = strlen(t), pos = 0, i, first = out->n, total = 0;
	char *brks = lv_malloc(len + 1);
	int rc = LV_OK;
	if (!brks)
		return LV_ENOMEM;
	pthread_once(&unibreak_once, unibreak_init);
	if (utf8_ok(t, len)) {
		set_linebreaks_utf8((const utf8_t *)t, len, NULL, brks);
	} else {
		/* libunibreak asserts on malformed UTF-8: such text may break after spaces only. */
		for (i = 0; i < len; i++)
			brks[i] = t[i] == ' ' ? LINEBREAK_ALLOWBREAK : t[i] == '\n' ? LINEBREAK_MUSTBREAK : LINEBREAK_NOBREAK;
		if (len)
			brks[len - 1] = LINEBREAK_MUSTBREAK;
	}
	if (units_of(t, 0, len) * 5 < (int)len * 4 && units > 32)
		units = 32; /* mostly wide (CJK) text: at most 16 characters a line */
	while (pos < len && rc == LV_OK) {
		lv_buf piece = LV_BUF_INIT;
		int line;
		while (pos < len && (t[pos] == ' ' || t[pos] == '\n'))
			pos++;
		if (pos >= len)
			break;
		for (line = 0; line < max_lines && pos < len && rc == LV_OK; line++) {
			/* the longest run from pos ending at an allowed break that fits */
			size_t end = pos, q, last_ok = 0, punct_ok = 0;
			int must = 0, sentence_end;
			for (q = pos; q < len; q++) {
				int u;
				if (brks[q] != LINEBREAK_ALLOWBREAK && brks[q] != LINEBREAK_MUSTBREAK)
					continue;
				u = units_of(t, pos, q + 1) - (t[q] == ' ' ? 1 : 0);
				if (u > units)
					break;
				last_ok = q + 1;
				/* a break after punctuation past the line's middle is kept over a later one */
				if (u * 2 >= units && after_punct(t, pos, q + 1))
					punct_ok = q + 1;
				if (brks[q] == LINEBREAK_MUSTBREAK && q + 1 < len) {
					must = 1;
					break;
				}
			}
			end = punct_ok && last_ok < len ? punct_ok : last_ok;
			if (!end) {
				/* one unbreakable run longer than a line: cut it by width */
				uint32_t cp;
				for (end = pos; end < len;) {
					size_t k = utf8_next(t + end, &cp);
					if (units_of(t, pos, end + k) > units)
						break;
					end += k;
				}
				if (end == pos)
					end += utf8_next(t + pos, &cp);
			}
			if (line && rc == LV_OK)
				rc = lv_buf_puts(&piece, "\n");
			if (rc == LV_OK)
				rc = put_trimmed(&piece, t, pos, end);
			pos = end;
			(void)must; /* a mandatory break ends the line; the piece may take one more */
			/* a sentence that ends here ends the piece too, when the next would not fit beside it */
			{
				size_t le = end;
				while (le > pos && t[le - 1] == ' ')
					le--;
				sentence_end = le > pos && (strchr(".!?", t[le - 1]) ||
				                            (le >= pos + 3 && (!strncmp(t + le - 3, "\xe3\x80\x82", 3) ||
				                                               !strncmp(t + le - 3, "\xef\xbc\x81", 3) ||
				                                               !strncmp(t + le - 3, "\xef\xbc\x9f", 3))));
			}
			if (sentence_end && line == 0) {
				size_t nx = end;
				while (nx < len && brks[nx] != LINEBREAK_ALLOWBREAK && brks[nx] != LINEBREAK_MUSTBREAK)
					nx++;
				if (units_of(t, end, nx < len ? nx + 1 : len) > units / 2)
					break;
			}
		}
		if (rc == LV_OK && out->n >= *cap) {
			size_t nc = *cap * 2 + 8;
			lv_compose_cue *g = realloc(out->cues, nc * sizeof(*g));
			if (!g)
				rc = LV_ENOMEM;
			else {
				out->cues = g;
				*cap = nc;
			}
		}
		if (rc == LV_OK && piece.len) {
			out->cues[out->n].text = lv_buf_detach(&piece);
			out->cues[out->n].start = out->cues[out->n].end = 0;
			out->n++;
		}
		lv_buf_free(&piece);
	}
	free(brks);
	if (rc != LV_OK)
		return rc;
	if (out->n - first > 1 && units > 8 && !balanced) {
		/* several pieces: lines of even width instead of full ones and a short last one ("burning.") */
		size_t pieces = out->n - first;
		int even = (int)((size_t)units_of(t, 0, len) / (pieces * (size_t)max_lines)) + 6;
		if (even < units) {
			size_t again;
			lv_cue_list trial = { NULL, 0 };
			size_t tcap = 0;
			rc = split_cue(&trial, &tcap, c, even | 0x10000, max_lines);
			again = trial.n;
			if (rc == LV_OK && again == pieces) {
				for (i = first; i < out->n; i++)
					free((char *)out->cues[i].text);
				for (i = 0; i < again; i++)
					out->cues[first + i] = trial.cues[i];
				free(trial.cues);
				return LV_OK;
			}
			lv_cues_free(&trial);
			if (rc != LV_OK)
				return rc;
		}
	}
	if (max_lines > 1 && out->n > first && (c->end - c->start) / (double)(out->n - first) > 7.0) {
		/* pieces on screen longer than 7 s: one line each instead */
		for (i = first; i < out->n; i++)
			free((char *)out->cues[i].text);
		out->n = first;
		return split_cue(out, cap, c, units | balanced, 1);
	}
	/* share the cue's time by length */
	for (i = first; i < out->n; i++)
		total += (size_t)units_of(out->cues[i].text, 0, strlen(out->cues[i].text)) + 2;
	{
		double t0 = c->start, span = c->end - c->start;
		for (i = first; i < out->n; i++) {
			double share = (double)((size_t)units_of(out->cues[i].text, 0, strlen(out->cues[i].text)) + 2) /
			               (double)(total ? total : 1);
			out->cues[i].start = t0;
			t0 += span * share;
			out->cues[i].end = i + 1 == out->n ? c->end : t0;
		}
	}
	return LV_OK;
}

/* Characters shown (code points, line breaks not counted): what a viewer reads. */
static size_t cue_chars(const char *t)
{
	size_t n = 0;
	for (; *t; t++)
		if (((unsigned char)*t & 0xc0) != 0x80 && *t != '\n')
			n++;
	return n;
}

/* The first cut strictly inside (a, b), or -1. */
static double cut_inside(const double *cuts, size_t n_cuts, double a, double b)
{
	size_t i;
	for (i = 0; i < n_cuts; i++)
		if (cuts[i] > a + 1e-6 && cuts[i] < b - 1e-6)
			return cuts[i];
	return -1;
}

/* The first cut at or after t, else `film`. */
static double next_cut(const double *cuts, size_t n_cuts, double t, double film)
{
	size_t i;
	double best = film;
	for (i = 0; i < n_cuts; i++)
		if (cuts[i] > t + 1e-6 && cuts[i] < best)
			best = cuts[i];
	return best;
}

/*
 * SPEC §9's cue rules on the split pieces: no cue across a cut (a piece that crosses one keeps the
 * side holding most of it), each on screen 0.8 to 7 s, at most 20 characters a second.  A piece too
 * short or too fast is held longer, up to the next cue or the next cut; one longer than 7 s ends
 * sooner.  Text is never dropped: a cue that cannot be held long enough keeps what room there is.
 */
static void apply_rules(lv_cue_list *l, const double *cuts, size_t n_cuts, double film)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		lv_compose_cue *c = &l->cues[i];
		double cut = cut_inside(cuts, n_cuts, c->start, c->end);
		while (cut >= 0) {
			if (cut - c->start >= c->end - cut)
				c->end = cut;
			else
				c->start = cut;
			cut = cut_inside(cuts, n_cuts, c->start, c->end);
		}
		if (i > 0 && c->start < l->cues[i - 1].end)
			c->start = l->cues[i - 1].end;
	}
	for (i = 0; i < l->n; i++) {
		lv_compose_cue *c = &l->cues[i];
		double need = (double)cue_chars(c->text) / LV_CUE_MAX_CPS, limit;
		if (need < LV_CUE_MIN_SECONDS)
			need = LV_CUE_MIN_SECONDS;
		if (need > LV_CUE_MAX_SECONDS)
			need = LV_CUE_MAX_SECONDS;
		limit = next_cut(cuts, n_cuts, c->start, film);
		if (i + 1 < l->n && l->cues[i + 1].start < limit)
			limit = l->cues[i + 1].start;
		if (c->end - c->start < need)
			c->end = c->start + need < limit ? c->start + need : limit;
		if (c->end - c->start > LV_CUE_MAX_SECONDS)
			c->end = c->start + LV_CUE_MAX_SECONDS;
		if (c->end - c->start < need) {
			/* still short: start earlier, into the silence after the previous cue (same shot) */
			double floor_t = i > 0 ? l->cues[i - 1].end : 0.0, k;
			size_t j;
			for (j = 0; j < n_cuts; j++)
				if (cuts[j] <= c->start + 1e-6 && cuts[j] > floor_t)
					floor_t = cuts[j];
			k = c->end - need;
			c->start = k > floor_t ? k : floor_t < c->start ? floor_t : c->start;
			if (c->end - c->start < need && i > 0 && floor_t <= l->cues[i - 1].end) {
				/* and from the previous cue in the same shot, as much as it can spare */
				lv_compose_cue *pc = &l->cues[i - 1];
				double pneed = (double)cue_chars(pc->text) / LV_CUE_MAX_CPS, at;
				if (pneed < LV_CUE_MIN_SECONDS)
					pneed = LV_CUE_MIN_SECONDS;
				at = c->end - need > pc->start + pneed ? c->end - need : pc->start + pneed;
				if (at < c->start) {
					pc->end = at;
					c->start = at;
				}
			}
		}
	}
}

/* Where to cut `t` so that about `share` of its width comes first: at a space (text with spaces) or
 * between two characters (CJK), the nearest to the share, preferring one after punctuation near it.
 * Returns the byte offset (0 < off < len), or 0 when the text cannot be cut. */
static size_t share_point(const char *t, double share)
{
	size_t len = strlen(t), i, best = 0, best_punct = 0;
	int total = units_of(t, 0, len), spaces = strchr(t, ' ') != NULL;
	double want = share * total, best_d = 1e9, punct_d = 1e9;
	for (i = 1; i < len; i++) {
		double d;
		if (((unsigned char)t[i] & 0xc0) == 0x80)
			continue;
		if (spaces ? t[i] != ' ' : t[i] == ' ')
			continue;
		d = fabs(units_of(t, 0, i) - want);
		if (d < best_d) {
			best_d = d;
			best = i;
		}
		if (after_punct(t, 0, i) && d < punct_d) {
			punct_d = d;
			best_punct = i;
		}
	}
	if (best_punct && punct_d <= 0.25 * total)
		return best_punct;
	return best;
}

/* Cues divided at the cuts they span, their text shared by time on each side (owned copies). */
static int divide_at_cuts(lv_cue_list *l, const lv_compose_cue *c, const double *cuts, size_t n_cuts, size_t *cap)
{
	double a = c->start, cut;
	char *rest = lv_strdup(c->text);
	int rc = LV_OK;
	if (!rest)
		return LV_ENOMEM;
	while (rc == LV_OK) { /* ends when the rest is placed whole (rest handed over) */
		size_t at = 0;
		char *head;
		cut = cut_inside(cuts, n_cuts, a, c->end);
		if (cut >= 0)
			at = share_point(rest, (cut - a) / (c->end - a));
		if (l->n >= *cap) {
			size_t nc = *cap * 2 + 8;
			lv_compose_cue *g = realloc(l->cues, nc * sizeof(*g));
			if (!g) {
				rc = LV_ENOMEM;
				break;
			}
			l->cues = g;
			*cap = nc;
		}
		if (cut < 0 || !at) {
			/* the rest stays whole up to the end (a cue that cannot be cut keeps the side where most of it is) */
			l->cues[l->n].start = a;
			l->cues[l->n].end = c->end;
			l->cues[l->n++].text = rest;
			rest = NULL;
			break;
		}
		head = lv_strndup(rest, at);
		if (!head) {
			rc = LV_ENOMEM;
			break;
		}
		l->cues[l->n].start = a;
		l->cues[l->n].end = cut;
		l->cues[l->n++].text = head;
		at += rest[at] == ' ';
		memmove(rest, rest + at, strlen(rest + at) + 1);
		a = cut;
	}
	free(rest);
	return rc;
}

int lv_cues_prepare(lv_cue_list *out, const lv_compose_cue *cues, size_t n, double film_seconds, int line_units,
                    const double *cuts, size_t n_cuts)
{
	lv_cue_list whole = { NULL, 0 };
	size_t whole_cap = 0;
	size_t i, k = 0, cap = 0;
	lv_compose_cue *sorted;
	int rc = LV_OK;
	out->cues = NULL;
	out->n = 0;
	if (line_units <= 0 || line_units > 42)
		line_units = 42;
	for (i = 0; i < n; i++) {
		rc = check_cue(&cues[i], i);
		if (rc != LV_OK)
			return rc;
	}
	if (n == 0)
		return LV_OK;
	sorted = lv_calloc(n, sizeof(*sorted));
	if (!sorted)
		return LV_ENOMEM;
	for (i = 0; i < n; i++) {
		if (cues[i].start >= film_seconds)
			continue;
		sorted[k] = cues[i];
		if (sorted[k].end > film_seconds)
			sorted[k].end = film_seconds;
		k++;
	}
	qsort(sorted, k, sizeof(*sorted), cmp_cue);
	/* One cue at a time in a text track: an overlapped cue ends where the next begins. */
	for (i = 0; i + 1 < k; i++)
		if (sorted[i].end > sorted[i + 1].start)
			sorted[i].end = sorted[i + 1].start;
	/* divided at the cuts first, so that each part's text is what is said in its shot */
	for (i = 0; i < k && rc == LV_OK; i++)
		if (sorted[i].end > sorted[i].start)
			rc = divide_at_cuts(&whole, &sorted[i], cuts, n_cuts, &whole_cap);
	for (i = 0; i < whole.n && rc == LV_OK; i++) {
		/* too fast to read as timed: held longer first (up to the next cue or cut), so that its pieces
		 * share the longer time */
		lv_compose_cue *c = &whole.cues[i];
		double need = (double)cue_chars(c->text) / LV_CUE_MAX_CPS, limit = next_cut(cuts, n_cuts, c->start, film_seconds);
		if (i + 1 < whole.n && whole.cues[i + 1].start < limit)
			limit = whole.cues[i + 1].start;
		if (c->end - c->start < need)
			c->end = c->start + need < limit ? c->start + need : limit;
		rc = split_cue(out, &cap, c, line_units, 2);
	}
	lv_cues_free(&whole);
	free(sorted);
	if (rc == LV_OK)
		apply_rules(out, cuts, n_cuts, film_seconds);
	if (rc != LV_OK)
		lv_cues_free(out);
	return rc;
}

int lv_cues_for_plan(lv_cue_list *out, const lv_compose_job *job, const lv_video_plan *plan, int line_units)
{
	double fps = av_q2d(plan->fps), *cuts = NULL;
	size_t i, n = 0;
	int rc;
	if (plan->n > 1) {
		cuts = lv_calloc(plan->n - 1, sizeof(*cuts));
		if (!cuts)
			return LV_ENOMEM;
		for (i = 1; i < plan->n; i++)
			if (plan->segs[i].frames > 0 && plan->segs[i].first_frame > 0)
				cuts[n++] = (double)plan->segs[i].first_frame / fps;
	}
	rc = lv_cues_prepare(out, job->cues, job->n_cues, (double)plan->total_frames / fps, line_units, cuts, n);
	free(cuts);
	return rc;
}

void lv_cues_free(lv_cue_list *l)
{
	size_t i;
	for (i = 0; l->cues && i < l->n; i++)
		free((char *)l->cues[i].text);
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

int lv_burn_line_units(int w, int h)
{
	/* the safe area is the middle 80 % of the width; a Latin character is about 0.5 em */
	lv_sub_band band;
	int u;
	lv_sub_band_of(&band, w, h);
	u = (int)(0.8 * w / (0.52 * band.font_px));
	return u > 42 ? 42 : u < 8 ? 8 : u;
}

static void ass_time(char out[16], double t)
{
	int64_t cs = (int64_t)llround(t * 100.0);
	if (cs < 0)
		cs = 0;
	snprintf(out, 16, "%d:%02d:%02d.%02d", (int)(cs / 360000), (int)(cs / 6000 % 60), (int)(cs / 100 % 60),
	         (int)(cs % 100));
}

/* An .ass script for the cues overlapping [t0, t1): a style sized to the frame (bottom centre,
 * inside the safe area, white with a dark outline and shadow), lines broken as prepared. */
static int write_ass(const char *path, const lv_cue_list *cues, double t0, double t1, int w, int h,
                     const char *font_file)
{
	lv_buf b = LV_BUF_INIT, all = LV_BUF_INIT;
	lv_sub_band band;
	int rc = LV_OK;
	size_t i;
	char *family;
	lv_sub_band_of(&band, w, h); /* the renderer keeps its figures above band.top */
	/* The style names a family that is installed: the font file's, else fontconfig's choice for the
	 * text shown (a font with glyphs for all of it when one exists: CJK, Thai, Arabic, Devanagari...);
	 * libass falls back per glyph through fontconfig for anything that family lacks. */
	for (i = 0; i < cues->n && rc == LV_OK; i++)
		if (cues->cues[i].end > t0 && cues->cues[i].start < t1)
			rc = lv_buf_printf(&all, "%s ", cues->cues[i].text);
	family = font_file && *font_file ? lv_font_file_family(font_file) : NULL;
	if (!family)
		family = lv_font_family(NULL, all.data ? all.data : "");
	lv_buf_free(&all);
	if (rc == LV_OK)
		rc = lv_buf_printf(&b,
	                   "[Script Info]\nScriptType: v4.00+\nPlayResX: %d\nPlayResY: %d\nWrapStyle: 0\n"
	                   "ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n"
	                   "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
	                   "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
	                   "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
	                   "Style: Default,%s,%d,&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,0,0,0,0,100,100,0,0,1,"
	                   "%.1f,%.1f,2,%d,%d,%d,1\n\n[Events]\n"
	                   "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
	                   w, h, family ? family : "sans-serif", band.font_px, (double)band.outline, (double)band.shadow,
	                   band.margin_lr, band.margin_lr, band.margin_v);
	for (i = 0; rc == LV_OK && i < cues->n; i++) {
		const lv_compose_cue *c = &cues->cues[i];
		char a[16], e[16];
		const char *p;
		if (!(c->end > t0 && c->start < t1))
			continue;
		ass_time(a, c->start);
		ass_time(e, c->end);
		rc = lv_buf_printf(&b, "Dialogue: 0,%s,%s,Default,,0,0,0,,", a, e);
		for (p = c->text; rc == LV_OK && *p; p++) {
			if (*p == '\n')
				rc = lv_buf_puts(&b, "\\N");
			else if (*p == '{' || *p == '}' || *p == '\\' || *p == '\r')
				rc = lv_buf_puts(&b, *p == '\r' ? "" : *p == '{' ? "(" : *p == '}' ? ")" : "/");
			else
				rc = lv_buf_put(&b, p, 1);
		}
		if (rc == LV_OK)
			rc = lv_buf_puts(&b, "\n");
	}
	if (rc == LV_OK)
		rc = lv_file_write_atomic(path, b.data ? b.data : "", b.len, 0600);
	lv_buf_free(&b);
	free(family);
	return rc;
}

int lv_burn_open(lv_burn *out, const lv_cue_list *cues, double t0, double t1, int w, int h, AVRational fps,
                 const char *font_file)
{
	AVFilterContext *prev;
	char args[256], eb[AV_ERROR_MAX_STRING_SIZE], *ass_args = NULL;
	const char *tmpdir = getenv("TMPDIR");
	size_t i;
	int rc = LV_OK, any = 0, err, fd;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < cues->n; i++)
		if (cues->cues[i].end > t0 && cues->cues[i].start < t1)
			any = 1;
	if (!any)
		return LV_OK;
	out->ass_path = lv_asprintf("%s/lv-subs-XXXXXX.ass", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!out->ass_path)
		return LV_ENOMEM;
	fd = mkstemps(out->ass_path, 4);
	if (fd < 0) {
		rc = lv_error_set(LV_EIO, "subtitles: cannot create %s", out->ass_path);
		free(out->ass_path);
		out->ass_path = NULL;
		return rc;
	}
	close(fd);
	rc = write_ass(out->ass_path, cues, t0, t1, w, h, font_file);
	if (rc != LV_OK)
		goto fail;
	out->graph = avfilter_graph_alloc();
	if (!out->graph) {
		rc = lv_error_nomem();
		goto fail;
	}
	out->graph->nb_threads = 1;
	snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=1/1:frame_rate=%d/%d",
	         w, h, AV_PIX_FMT_YUV420P, fps.den, fps.num, fps.num, fps.den);
	err = avfilter_graph_create_filter(&out->src, avfilter_get_by_name("buffer"), "in", args, NULL, out->graph);
	if (err < 0) {
		rc = lv_error_set(LV_EINTERNAL, "subtitles: cannot create the video source: %s", lv_av_err(eb, err));
		goto fail;
	}
	prev = out->src;
	if (!avfilter_get_by_name("ass")) {
		rc = lv_error_set(LV_EINTERNAL, "subtitles: this FFmpeg has no libass ('ass' filter)");
		goto fail;
	}
	ass_args = lv_asprintf("filename=%s", out->ass_path);
	rc = ass_args ? link_new(out->graph, &prev, "ass", "subs", ass_args) : LV_ENOMEM;
	free(ass_args);
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
	if (b->ass_path) {
		remove(b->ass_path);
		free(b->ass_path);
		b->ass_path = NULL;
	}
}

int lv_text_units(const char *text, size_t len)
{
	return units_of(text, 0, len);
}

int lv_text_chars(const char *text, size_t len)
{
	size_t a = 0;
	int n = 0;
	while (a < len) {
		uint32_t c;
		a += utf8_next(text + a, &c);
		n++;
	}
	return n;
}
