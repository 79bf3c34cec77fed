#include "media/draw.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The pixel loops below are written to be vectorised; on x86-64 they are built twice, for AVX2 (twice
 * the width of the baseline's SSE2) and for the baseline, and the loader picks the one the processor runs.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(LV_NO_TARGET_CLONES)
#define PIXEL_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define PIXEL_LOOP
#endif

/* ---- random numbers, hashes ------------------------------------------------ */

void lv_rng_seed(lv_rng *r, uint32_t seed)
{
	r->s = lv_hash_mix(seed, 0x9e3779b9u);
	if (!r->s)
		r->s = 0x6d2b79f5u;
}

uint32_t lv_rng_next(lv_rng *r)
{
	uint32_t x = r->s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->s = x;
	return x;
}

float lv_rng_range(lv_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * (float)(lv_rng_next(r) >> 8) * (1.0f / 16777216.0f);
}

uint32_t lv_hash_str(const char *s, uint32_t h)
{
	if (!h)
		h = 2166136261u;
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

uint32_t lv_hash_mix(uint32_t a, uint32_t b)
{
	uint32_t h = a ^ (b * 0x85ebca6bu);
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/* ---- colours ---------------------------------------------------------------- */

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* fminf and fmaxf are library calls unless NaNs are ruled out; no NaN reaches the span loops */
static inline float minf(float a, float b)
{
	return a < b ? a : b;
}

static inline float maxf(float a, float b)
{
	return a > b ? a : b;
}

lv_rgb lv_rgb_make(float r, float g, float b)
{
	lv_rgb c = { r, g, b };
	return c;
}

lv_rgb lv_rgb_mix(lv_rgb a, lv_rgb b, float t)
{
	lv_rgb c = { a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t };
	return c;
}

lv_rgb lv_rgb_scale(lv_rgb a, float k)
{
	lv_rgb c = { clampf(a.r * k, 0, 255), clampf(a.g * k, 0, 255), clampf(a.b * k, 0, 255) };
	return c;
}

lv_rgb lv_rgb_hsv(float h, float s, float v)
{
	float c, x, m, hp;
	lv_rgb o = { 0, 0, 0 };
	h = fmodf(h, 360.0f);
	if (h < 0)
		h += 360.0f;
	s = clampf(s, 0, 1);
	v = clampf(v, 0, 1);
	c = v * s;
	hp = h / 60.0f;
	x = c * (1.0f - fabsf(fmodf(hp, 2.0f) - 1.0f));
	m = v - c;
	if (hp < 1)
		o = lv_rgb_make(c, x, 0);
	else if (hp < 2)
		o = lv_rgb_make(x, c, 0);
	else if (hp < 3)
		o = lv_rgb_make(0, c, x);
	else if (hp < 4)
		o = lv_rgb_make(0, x, c);
	else if (hp < 5)
		o = lv_rgb_make(x, 0, c);
	else
		o = lv_rgb_make(c, 0, x);
	return lv_rgb_make((o.r + m) * 255.0f, (o.g + m) * 255.0f, (o.b + m) * 255.0f);
}

lv_rgb lv_rgb_shift(lv_rgb a, float deg, float sat)
{
	float r = a.r / 255.0f, g = a.g / 255.0f, b = a.b / 255.0f;
	float mx = fmaxf(r, fmaxf(g, b)), mn = fminf(r, fminf(g, b)), d = mx - mn;
	float h = 0, s = mx > 0 ? d / mx : 0;
	if (d > 1e-6f) {
		if (mx == r)
			h = 60.0f * fmodf((g - b) / d, 6.0f);
		else if (mx == g)
			h = 60.0f * ((b - r) / d + 2.0f);
		else
			h = 60.0f * ((r - g) / d + 4.0f);
	}
	return lv_rgb_hsv(h + deg, s * sat, mx);
}

static uint8_t u8f(float v)
{
	return (uint8_t)lrintf(clampf(v, 0, 255));
}

lv_px lv_canvas_color(const lv_canvas *cv, lv_rgb c)
{
	lv_px p;
	if (cv->yuv) {
		/* BT.709, limited range */
		float y = 0.2126f * c.r + 0.7152f * c.g + 0.0722f * c.b;
		p.c[0] = u8f(16.0f + y * (219.0f / 255.0f));
		p.c[1] = u8f(128.0f + (c.b - y) / 1.8556f * (224.0f / 255.0f));
		p.c[2] = u8f(128.0f + (c.r - y) / 1.5748f * (224.0f / 255.0f));
	} else {
		p.c[0] = u8f(c.r);
		p.c[1] = u8f(c.g);
		p.c[2] = u8f(c.b);
	}
	return p;
}

/* ---- canvas ----------------------------------------------------------------- */

int lv_canvas_init(lv_canvas *cv, int w, int h, int yuv)
{
	size_t n = (size_t)w * (size_t)h;
	memset(cv, 0, sizeof(*cv));
	if (w <= 0 || h <= 0)
		return lv_error_set(LV_EINVALID, "canvas: bad size %dx%d", w, h);
	cv->w = w;
	cv->h = h;
	cv->yuv = yuv;
	cv->plane[0] = lv_calloc(n, 3);
	cv->acc_diff = lv_calloc((size_t)w + 2, sizeof(int32_t));
	cv->acc_direct = lv_calloc((size_t)w + 2, sizeof(int32_t));
	cv->img_cols = lv_calloc((size_t)w * 2, sizeof(int32_t));
	cv->weight = lv_calloc((size_t)w, sizeof(uint16_t));
	if (!cv->plane[0] || !cv->acc_diff || !cv->acc_direct || !cv->img_cols || !cv->weight) {
		lv_canvas_free(cv);
		return LV_ENOMEM;
	}
	cv->plane[1] = cv->plane[0] + n;
	cv->plane[2] = cv->plane[1] + n;
	return LV_OK;
}

void lv_canvas_free(lv_canvas *cv)
{
	if (!cv)
		return;
	free(cv->plane[0]);
	free(cv->acc_diff);
	free(cv->acc_direct);
	free(cv->img_cols);
	free(cv->weight);
	memset(cv, 0, sizeof(*cv));
}

static inline uint8_t mix8(uint8_t d, uint8_t c, int a)
{
	return (uint8_t)(((int)d * (256 - a) + (int)c * a + 128) >> 8);
}

/* Blend colour c at weight a (0-256) into pixel x of a row, given by its three planes. */
static inline void blend3(uint8_t *d0, uint8_t *d1, uint8_t *d2, int x, lv_px c, int a)
{
	d0[x] = mix8(d0[x], c.c[0], a);
	d1[x] = mix8(d1[x], c.c[1], a);
	d2[x] = mix8(d2[x], c.c[2], a);
}

/*
 * Blend colour c into the pixels [xa, xb) of a row at the weights wt[x] (0-256), one plane at a time:
 * the same arithmetic as mix8, in loops the compiler turns into vector code (a weight of 0 leaves the
 * pixel as it is, 256 replaces it).
 */
static void blend_row(uint8_t *const d[3], const uint16_t *wt, int xa, int xb, lv_px c)
{
	int p, x;
	for (p = 0; p < 3; p++) {
		uint8_t *restrict dp = d[p];
		const uint16_t *restrict w = wt;
		uint16_t cc = c.c[p];
		for (x = xa; x < xb; x++)
			dp[x] = (uint8_t)((uint16_t)(dp[x] * (uint16_t)(256 - w[x]) + cc * w[x] + 128) >> 8);
	}
}

/* Cut the box [*xa, *xb) x [*ya, *yb) to the canvas. */
static void clip_box(const lv_canvas *cv, int *xa, int *ya, int *xb, int *yb)
{
	if (*xa < 0)
		*xa = 0;
	if (*ya < 0)
		*ya = 0;
	if (*xb > cv->w)
		*xb = cv->w;
	if (*yb > cv->h)
		*yb = cv->h;
}

/* The part [*xa, *xb) x [*ya, *yb), in its own pixels, of a w x h picture placed at (x0, y0) that lies on
 * the canvas. */
static void clip_placed(const lv_canvas *cv, int x0, int y0, int w, int h, int *xa, int *ya, int *xb, int *yb)
{
	*xa = x0 < 0 ? -x0 : 0;
	*ya = y0 < 0 ? -y0 : 0;
	*xb = x0 + w > cv->w ? cv->w - x0 : w;
	*yb = y0 + h > cv->h ? cv->h - y0 : h;
}

void lv_draw_rows(lv_canvas *cv, const lv_px *rows)
{
	int y, p;
	for (p = 0; p < 3; p++)
		for (y = 0; y < cv->h; y++)
			memset(cv->plane[p] + (size_t)y * cv->w, rows[y].c[p], (size_t)cv->w);
}

/* ---- silhouette layers ------------------------------------------------------ */

/* (the clones are static: their resolvers stay out of the library's exports) */
PIXEL_LOOP static void draw_layer(lv_canvas *cv, const int32_t *top, const lv_px *rows, lv_px col, int alpha,
                                  int y_end)
{
	int w = cv->w, h = y_end < cv->h ? y_end : cv->h, x, y, p;
	int32_t tmin = INT32_MAX, tmax = INT32_MIN;
	int y0, yfull;
	if (alpha <= 0)
		return;
	if (alpha > 256)
		alpha = 256;
	for (x = 0; x < w; x++) {
		if (top[x] < tmin)
			tmin = top[x];
		if (top[x] > tmax)
			tmax = top[x];
	}
	if (tmin >= h * 256)
		return;
	y0 = tmin < 0 ? 0 : tmin >> 8;
	yfull = tmax < 0 ? 0 : (tmax + 255) >> 8; /* from here on every column is covered */
	for (y = y0; y < h; y++) {
		lv_px c = rows ? rows[y] : col;
		size_t off = (size_t)y * w;
		if (y >= yfull) {
			if (alpha >= 256) {
				for (p = 0; p < 3; p++)
					memset(cv->plane[p] + off, c.c[p], (size_t)w);
			} else {
				for (p = 0; p < 3; p++) {
					uint8_t *d = cv->plane[p] + off;
					for (x = 0; x < w; x++)
						d[x] = mix8(d[x], c.c[p], alpha);
				}
			}
			continue;
		}
		{
			int32_t yb = (y + 1) * 256;
			uint8_t *d[3] = { cv->plane[0] + off, cv->plane[1] + off, cv->plane[2] + off };
			uint16_t *restrict wt = cv->weight;
			for (x = 0; x < w; x++) {
				int32_t a = yb - top[x];
				a = a < 0 ? 0 : a > 256 ? 256 : a;
				wt[x] = (uint16_t)((a * alpha) >> 8);
			}
			blend_row(d, wt, 0, w, c);
		}
	}
}

void lv_draw_layer(lv_canvas *cv, const int32_t *top, const lv_px *rows, lv_px col, int alpha, int y_end)
{
	draw_layer(cv, top, rows, col, alpha, y_end);
}

/* ---- glows ------------------------------------------------------------------ */

PIXEL_LOOP static void draw_glow(lv_canvas *cv, float cx, float cy, float rx, float ry, lv_px col, int alpha)
{
	int x, y, ya, yb;
	float kx, fa, qmax;
	if (rx < 0.5f || ry < 0.5f || alpha <= 0)
		return;
	if (alpha > 256)
		alpha = 256;
	ya = (int)floorf(cy - ry);
	yb = (int)ceilf(cy + ry);
	if (ya < 0)
		ya = 0;
	if (yb > cv->h)
		yb = cv->h;
	kx = 1.0f / (rx * rx);
	fa = (float)alpha;
	qmax = 1.0f - 1.0f / sqrtf(fa); /* from here outwards the weight is below 1: nothing is drawn */
	for (y = ya; y < yb; y++) {
		float fy = ((float)y + 0.5f - cy) / ry, qy = fy * fy, hw, x0 = cx - 0.5f;
		int xa, xb;
		size_t off = (size_t)y * cv->w;
		uint8_t *d[3] = { cv->plane[0] + off, cv->plane[1] + off, cv->plane[2] + off };
		uint16_t *restrict wt = cv->weight;
		if (qy >= qmax)
			continue;
		/* only the span of this row inside the visible part; the weight in float, which vectorises */
		hw = rx * sqrtf(qmax - qy);
		xa = (int)floorf(cx - hw);
		xb = (int)ceilf(cx + hw);
		if (xa < 0)
			xa = 0;
		if (xb > cv->w)
			xb = cv->w;
		for (x = xa; x < xb; x++) {
			float dx = (float)x - x0;
			int32_t f = (int32_t)(256.0f - 256.0f * (qy + dx * dx * kx)); /* 256 (1 - d^2) */
			f = f < 0 ? 0 : f;
			wt[x] = (uint16_t)((f * f * alpha) >> 16);
		}
		blend_row(d, wt, xa, xb, col);
	}
}

void lv_draw_glow(lv_canvas *cv, float cx, float cy, float rx, float ry, lv_px col, int alpha)
{
	draw_glow(cv, cx, cy, rx, ry, col, alpha);
}

/* ---- anti-aliased shapes by coverage ---------------------------------------- */

/* Spans of a shape on the sub-scanline y: up to `max` [l, r) pairs written to lr; returns how many. */
typedef int (*span_fn)(const void *shape, float y, float *lr, int max);

#define MAX_SPANS 16

/* Add the horizontal coverage of [l, r) with weight wgt (64 = one sub-scanline). */
static void acc_add(lv_canvas *cv, float l, float r, int wgt)
{
	int il = (int)l, ir = (int)r;
	if (il == ir) {
		cv->acc_direct[il] += (int)((r - l) * (float)wgt + 0.5f);
		return;
	}
	cv->acc_direct[il] += (int)(((float)il + 1.0f - l) * (float)wgt + 0.5f);
	cv->acc_diff[il + 1] += wgt;
	cv->acc_diff[ir] -= wgt;
	cv->acc_direct[ir] += (int)((r - (float)ir) * (float)wgt + 0.5f);
}

PIXEL_LOOP static void fill_spans(lv_canvas *cv, const void *shape, span_fn fn, float bx0, float by0, float bx1,
                                  float by1, lv_px col, int alpha)
{
	int xa = (int)floorf(bx0), xb = (int)ceilf(bx1), ya = (int)floorf(by0), yb = (int)ceilf(by1);
	int x, y, s, k, n;
	float lr[2 * MAX_SPANS];
	if (alpha <= 0)
		return;
	if (alpha > 256)
		alpha = 256;
	clip_box(cv, &xa, &ya, &xb, &yb);
	if (xa >= xb || ya >= yb)
		return;
	for (y = ya; y < yb; y++) {
		int lo = xb, hi = xa - 1; /* the columns whose coverage the spans touched */
		int single = 1, ia, ib;    /* every sub-scanline one span: [L, R) is covered by all four */
		float L = -1e30f, R = 1e30f;
		int32_t run = 0;
		size_t off = (size_t)y * cv->w;
		uint8_t *d[3] = { cv->plane[0] + off, cv->plane[1] + off, cv->plane[2] + off };
		uint16_t *wt = cv->weight;
		for (s = 0; s < 4; s++) {
			int m = 0;
			n = fn(shape, (float)y + ((float)s + 0.5f) * 0.25f, lr, MAX_SPANS);
			for (k = 0; k < n; k++) {
				float l = clampf(lr[2 * k], (float)xa, (float)xb), r = clampf(lr[2 * k + 1], (float)xa, (float)xb);
				if (r <= l)
					continue;
				m++;
				L = maxf(L, l);
				R = minf(R, r);
				acc_add(cv, l, r, 64);
				if ((int)l < lo)
					lo = (int)l;
				if ((int)r > hi)
					hi = (int)r;
			}
			single &= m == 1;
		}
		if (hi < lo)
			continue;
		/* Inside [ia, ib) the coverage is whole and the sums hold nothing (acc_add writes at (int)l, (int)l + 1
		 * and (int)r only): those columns take the full weight and the running sum goes on unchanged. */
		ia = single ? (int)L + 2 : hi + 1;
		ib = single ? (int)R : hi + 1;
		if (ib > xb)
			ib = xb;
		if (ia >= ib)
			ia = ib = hi + 1;
		for (x = ia; x < ib; x++)
			wt[x] = (uint16_t)alpha;
		for (x = lo; x <= hi; x++) {
			int32_t cov;
			if (x == ia)
				x = ib;
			if (x > hi)
				break;
			run += cv->acc_diff[x];
			cov = run + cv->acc_direct[x];
			cv->acc_diff[x] = 0;
			cv->acc_direct[x] = 0;
			cov = cov < 0 ? 0 : cov > 256 ? 256 : cov;
			if (x < xb)
				wt[x] = (uint16_t)((cov * alpha) >> 8);
		}
		blend_row(d, wt, lo, hi < xb ? hi + 1 : xb, col);
	}
}

typedef struct ellipse_shape {
	float cx, cy, rx, ry;
} ellipse_shape;

static int ellipse_span1(const ellipse_shape *e, float y, float *l, float *r)
{
	float dy = (y - e->cy) / e->ry, hw;
	if (dy <= -1.0f || dy >= 1.0f)
		return 0;
	hw = e->rx * sqrtf(1.0f - dy * dy);
	*l = e->cx - hw;
	*r = e->cx + hw;
	return 1;
}

static int ellipse_span(const void *shape, float y, float *lr, int max)
{
	(void)max;
	return ellipse_span1(shape, y, &lr[0], &lr[1]);
}

typedef struct blob_shape {
	const ellipse_shape *e;
	int n;
} blob_shape;

/* The union of the ellipses' spans: sorted and merged so that overlaps count once. */
static int blob_span(const void *shape, float y, float *lr, int max)
{
	const blob_shape *b = shape;
	int i, j, n = 0;
	for (i = 0; i < b->n && n < max; i++) {
		float l, r;
		if (!ellipse_span1(&b->e[i], y, &l, &r))
			continue;
		/* insertion by left edge */
		for (j = n; j > 0 && lr[2 * (j - 1)] > l; j--) {
			lr[2 * j] = lr[2 * (j - 1)];
			lr[2 * j + 1] = lr[2 * (j - 1) + 1];
		}
		lr[2 * j] = l;
		lr[2 * j + 1] = r;
		n++;
	}
	for (i = 1, j = 0; i < n; i++) {
		if (lr[2 * i] <= lr[2 * j + 1]) {
			lr[2 * j + 1] = maxf(lr[2 * j + 1], lr[2 * i + 1]);
		} else {
			j++;
			lr[2 * j] = lr[2 * i];
			lr[2 * j + 1] = lr[2 * i + 1];
		}
	}
	return n ? j + 1 : 0;
}

void lv_draw_ellipse(lv_canvas *cv, float cx, float cy, float rx, float ry, lv_px col, int alpha)
{
	ellipse_shape e = { cx, cy, rx, ry };
	if (rx <= 0 || ry <= 0)
		return;
	fill_spans(cv, &e, ellipse_span, cx - rx, cy - ry, cx + rx, cy + ry, col, alpha);
}

void lv_draw_blob(lv_canvas *cv, const float *ellipses, int n, lv_px col, int alpha)
{
	ellipse_shape e[MAX_SPANS];
	blob_shape b = { e, 0 };
	float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
	int i;
	for (i = 0; i < n && b.n < MAX_SPANS; i++) {
		const float *q = ellipses + 4 * i;
		if (q[2] <= 0 || q[3] <= 0)
			continue;
		e[b.n].cx = q[0];
		e[b.n].cy = q[1];
		e[b.n].rx = q[2];
		e[b.n].ry = q[3];
		x0 = fminf(x0, q[0] - q[2]);
		x1 = fmaxf(x1, q[0] + q[2]);
		y0 = fminf(y0, q[1] - q[3]);
		y1 = fmaxf(y1, q[1] + q[3]);
		b.n++;
	}
	if (b.n)
		fill_spans(cv, &b, blob_span, x0, y0, x1, y1, col, alpha);
}

typedef struct rrect_shape {
	float x0, y0, x1, y1, rad;
} rrect_shape;

static int rrect_span(const void *shape, float y, float *lr, int max)
{
	const rrect_shape *q = shape;
	float inset = 0, dy = 0, *l = &lr[0], *r = &lr[1];
	(void)max;
	if (y < q->y0 || y >= q->y1)
		return 0;
	if (y < q->y0 + q->rad)
		dy = q->y0 + q->rad - y;
	else if (y > q->y1 - q->rad)
		dy = y - (q->y1 - q->rad);
	if (dy > 0)
		inset = q->rad - sqrtf(maxf(q->rad * q->rad - dy * dy, 0.0f));
	*l = q->x0 + inset;
	*r = q->x1 - inset;
	return *r > *l;
}

/* A rectangle with square corners: its exact area coverage, row by row (edge columns and rows partly). */
PIXEL_LOOP static void fill_rect(lv_canvas *cv, float x0, float y0, float x1, float y1, lv_px col, int alpha)
{
	int xa = (int)floorf(x0), xb = (int)ceilf(x1), ya = (int)floorf(y0), yb = (int)ceilf(y1), x, y;
	uint16_t *restrict wt = cv->weight;
	if (alpha <= 0)
		return;
	if (alpha > 256)
		alpha = 256;
	clip_box(cv, &xa, &ya, &xb, &yb);
	if (xa >= xb || ya >= yb)
		return;
	for (y = ya; y < yb; y++) {
		float cy = minf((float)y + 1.0f, y1) - maxf((float)y, y0);
		int a = (int)(cy * (float)alpha + 0.5f);
		size_t off = (size_t)y * cv->w;
		uint8_t *d[3] = { cv->plane[0] + off, cv->plane[1] + off, cv->plane[2] + off };
		if (a <= 0)
			continue;
		for (x = xa; x < xb; x++)
			wt[x] = (uint16_t)a;
		/* the edge columns (one pixel may hold both edges) */
		wt[xa] = (uint16_t)(int)((minf((float)xa + 1.0f, x1) - maxf((float)xa, x0)) * (float)a + 0.5f);
		if (xb - 1 > xa)
			wt[xb - 1] = (uint16_t)(int)((minf((float)xb, x1) - maxf((float)(xb - 1), x0)) * (float)a + 0.5f);
		blend_row(d, wt, xa, xb, col);
	}
}

void lv_draw_rrect(lv_canvas *cv, float x0, float y0, float x1, float y1, float radius, lv_px col, int alpha)
{
	rrect_shape q = { x0, y0, x1, y1, radius };
	float m = fminf(x1 - x0, y1 - y0) * 0.5f;
	if (m <= 0)
		return;
	if (radius <= 0) {
		fill_rect(cv, x0, y0, x1, y1, col, alpha);
		return;
	}
	if (q.rad > m)
		q.rad = m;
	if (q.rad < 0)
		q.rad = 0;
	fill_spans(cv, &q, rrect_span, x0, y0, x1, y1, col, alpha);
}

typedef struct poly_shape {
	const float *xy;
	int n;
} poly_shape;

static int poly_span(const void *shape, float y, float *lr, int max)
{
	const poly_shape *p = shape;
	float lo = 1e30f, hi = -1e30f;
	int i, hits = 0;
	for (i = 0; i < p->n; i++) {
		int j = (i + 1) % p->n;
		float xa = p->xy[2 * i], ya = p->xy[2 * i + 1], xb = p->xy[2 * j], yb = p->xy[2 * j + 1];
		float x;
		if ((y < ya && y < yb) || (y >= ya && y >= yb))
			continue;
		x = xa + (xb - xa) * (y - ya) / (yb - ya);
		lo = minf(lo, x);
		hi = maxf(hi, x);
		hits++;
	}
	(void)max;
	if (hits < 2)
		return 0;
	lr[0] = lo;
	lr[1] = hi;
	return hi > lo;
}

void lv_draw_poly(lv_canvas *cv, const float *xy, int n, lv_px col, int alpha)
{
	lv_draw_poly_above(cv, xy, n, col, alpha, cv->h);
}

void lv_draw_poly_above(lv_canvas *cv, const float *xy, int n, lv_px col, int alpha, int y_end)
{
	poly_shape p = { xy, n };
	float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
	int i;
	if (n < 3 || n > 16)
		return;
	for (i = 0; i < n; i++) {
		x0 = fminf(x0, xy[2 * i]);
		x1 = fmaxf(x1, xy[2 * i]);
		y0 = fminf(y0, xy[2 * i + 1]);
		y1 = fmaxf(y1, xy[2 * i + 1]);
	}
	fill_spans(cv, &p, poly_span, x0, y0, x1, fminf(y1, (float)y_end), col, alpha);
}

/* ---- masks and images ------------------------------------------------------- */

void lv_draw_mask(lv_canvas *cv, int x0, int y0, const uint8_t *mask, int mw, int mh, int mstride, lv_px col,
                  int alpha)
{
	int x, y, xa, ya, xb, yb;
	if (alpha <= 0)
		return;
	clip_placed(cv, x0, y0, mw, mh, &xa, &ya, &xb, &yb);
	for (y = ya; y < yb; y++) {
		const uint8_t *m = mask + (size_t)y * mstride;
		size_t off = (size_t)(y0 + y) * cv->w;
		uint8_t *d0 = cv->plane[0] + off, *d1 = cv->plane[1] + off, *d2 = cv->plane[2] + off;
		for (x = xa; x < xb; x++)
			if (m[x])
				blend3(d0, d1, d2, x0 + x, col, ((m[x] + (m[x] >> 7)) * alpha) >> 8);
	}
}

int lv_image_from_rgba(lv_image *out, const lv_canvas *cv, const uint8_t *rgba, int w, int h, int stride)
{
	/* one transparent pixel of padding all round so that bilinear sampling needs no bounds checks */
	int pw = w + 2, ph = h + 2, x, y, p;
	size_t n = (size_t)pw * (size_t)ph;
	memset(out, 0, sizeof(*out));
	out->plane[0] = lv_calloc(n, 4);
	if (!out->plane[0])
		return LV_ENOMEM;
	for (p = 1; p < 4; p++)
		out->plane[p] = out->plane[0] + n * (size_t)p;
	out->w = w;
	out->h = h;
	for (y = 0; y < h; y++) {
		const uint8_t *s = rgba + (size_t)y * stride;
		for (x = 0; x < w; x++, s += 4) {
			size_t o = (size_t)(y + 1) * pw + (size_t)(x + 1);
			lv_px c = lv_canvas_color(cv, lv_rgb_make(s[0], s[1], s[2]));
			int a = s[3];
			for (p = 0; p < 3; p++)
				out->plane[p][o] = (uint8_t)((c.c[p] * a + 127) / 255);
			out->plane[3][o] = (uint8_t)a;
		}
	}
	return LV_OK;
}

int lv_image_from_planes(lv_image *out, const lv_canvas *col, const lv_canvas *alpha)
{
	int w = col->w, h = col->h, pw = w + 2, y, p;
	size_t n = (size_t)pw * (size_t)(h + 2);
	memset(out, 0, sizeof(*out));
	if (alpha->w != w || alpha->h != h)
		return lv_error_set(LV_EINTERNAL, "image: colour and alpha planes differ in size");
	out->plane[0] = lv_calloc(n, 4);
	if (!out->plane[0])
		return LV_ENOMEM;
	for (p = 1; p < 4; p++)
		out->plane[p] = out->plane[0] + n * (size_t)p;
	out->w = w;
	out->h = h;
	for (p = 0; p < 4; p++) {
		const uint8_t *src = p < 3 ? col->plane[p] : alpha->plane[0];
		for (y = 0; y < h; y++)
			memcpy(out->plane[p] + (size_t)(y + 1) * pw + 1, src + (size_t)y * w, (size_t)w);
	}
	return LV_OK;
}

void lv_draw_image_at(lv_canvas *cv, const lv_image *img, int x0, int y0, int alpha)
{
	int pw = img->w + 2, x, y, p, xa, ya, xb, yb;
	if (alpha <= 0)
		return;
	clip_placed(cv, x0, y0, img->w, img->h, &xa, &ya, &xb, &yb);
	for (y = ya; y < yb; y++) {
		size_t so = (size_t)(y + 1) * pw + 1, doff = (size_t)(y0 + y) * cv->w;
		const uint8_t *sa = img->plane[3] + so;
		for (x = xa; x < xb; x++) {
			int a = (sa[x] * alpha) >> 8;
			if (a <= 0)
				continue;
			for (p = 0; p < 3; p++) {
				uint8_t *d = cv->plane[p] + doff + (size_t)(x0 + x);
				int c = (img->plane[p][so + x] * alpha) >> 8;
				int r = c + ((*d * (255 - a) * 257 + 32768) >> 16);
				*d = (uint8_t)(r > 255 ? 255 : r);
			}
		}
	}
}

void lv_image_free(lv_image *img)
{
	if (!img)
		return;
	free(img->plane[0]);
	memset(img, 0, sizeof(*img));
}

void lv_draw_image(lv_canvas *cv, const lv_image *img, float x0, float y0, float scale, int alpha)
{
	int pw = img->w + 2, x, y, p;
	int xa = (int)floorf(x0), ya = (int)floorf(y0);
	int xb = (int)ceilf(x0 + (float)img->w * scale), yb = (int)ceilf(y0 + (float)img->h * scale);
	int32_t *col_i = cv->img_cols, *col_f = cv->img_cols + cv->w;
	float inv;
	if (scale <= 0 || alpha <= 0)
		return;
	inv = 1.0f / scale;
	clip_box(cv, &xa, &ya, &xb, &yb);
	/* the source column and weight of every destination column, in padded pixels, clamped into the padding */
	for (x = xa; x < xb; x++) {
		float sx = clampf(((float)x + 0.5f - x0) * inv - 0.5f + 1.0f, 0.0f, (float)img->w + 0.999f);
		int32_t f16 = (int32_t)(sx * 65536.0f);
		col_i[x] = f16 >> 16;
		col_f[x] = (f16 >> 8) & 255;
	}
	for (y = ya; y < yb; y++) {
		float sy = clampf(((float)y + 0.5f - y0) * inv - 0.5f + 1.0f, 0.0f, (float)img->h + 0.999f);
		int32_t fy16 = (int32_t)(sy * 65536.0f), fy = (fy16 >> 8) & 255;
		size_t row = (size_t)(fy16 >> 16) * pw, off = (size_t)y * cv->w;
		const uint8_t *ap = img->plane[3] + row;
		for (x = xa; x < xb; x++) {
			int32_t fx = col_f[x], a, top, bot;
			size_t o = (size_t)col_i[x];
			int a00 = ap[o], a01 = ap[o + 1], a10 = ap[o + pw], a11 = ap[o + pw + 1];
			if ((a00 | a01 | a10 | a11) == 0)
				continue;
			top = a00 * (256 - fx) + a01 * fx;
			bot = a10 * (256 - fx) + a11 * fx;
			a = (((top * (256 - fy) + bot * fy) >> 16) * alpha) >> 8;
			if (a <= 0)
				continue;
			for (p = 0; p < 3; p++) {
				const uint8_t *sp = img->plane[p] + row + o;
				uint8_t *d = cv->plane[p] + off + x;
				int c, r;
				top = sp[0] * (256 - fx) + sp[1] * fx;
				bot = sp[pw] * (256 - fx) + sp[pw + 1] * fx;
				c = (((top * (256 - fy) + bot * fy) >> 16) * alpha) >> 8;
				r = c + ((*d * (255 - a) * 257 + 32768) >> 16);
				*d = (uint8_t)(r > 255 ? 255 : r);
			}
		}
	}
}

/* ---- output ----------------------------------------------------------------- */

PIXEL_LOOP static void to_yuv420(const lv_canvas *cv, uint8_t *const dst[3], const int dst_stride[3],
                                 const uint16_t *vig, const uint16_t *vig_c)
{
	int w = cv->w, h = cv->h, x, y, p;
	/* 16-bit arithmetic throughout (the high half of a 16 x 16 product): vector code of twice the width */
	for (y = 0; y < h; y++) {
		const uint8_t *restrict s = cv->plane[0] + (size_t)y * w;
		uint8_t *restrict d = dst[0] + (size_t)y * dst_stride[0];
		const uint16_t *restrict m = vig ? vig + (size_t)y * w : NULL;
		if (!m) {
			memcpy(d, s, (size_t)w);
			continue;
		}
		for (x = 0; x < w; x++) {
			uint16_t a = (uint16_t)(s[x] > 16 ? s[x] - 16 : 0); /* a canvas holds no luma below 16 */
			d[x] = (uint8_t)((uint16_t)(((uint32_t)a * m[x]) >> 16) + 16);
		}
	}
	for (p = 1; p < 3; p++) {
		for (y = 0; y < h / 2; y++) {
			const uint8_t *restrict s0 = cv->plane[p] + (size_t)(2 * y) * w, *restrict s1 = s0 + w;
			uint8_t *restrict d = dst[p] + (size_t)y * dst_stride[p];
			const uint16_t *restrict m = vig_c ? vig_c + (size_t)y * (size_t)(w / 2) : NULL;
			if (!m) {
				for (x = 0; x < w / 2; x++)
					d[x] = (uint8_t)((s0[2 * x] + s0[2 * x + 1] + s1[2 * x] + s1[2 * x + 1] + 2) >> 2);
				continue;
			}
			for (x = 0; x < w / 2; x++) {
				uint16_t c = (uint16_t)((s0[2 * x] + s0[2 * x + 1] + s1[2 * x] + s1[2 * x + 1] + 2) >> 2);
				/* c * m + 128 * (1 - m): the distance from grey scaled (m is above 0) */
				uint16_t g = (uint16_t)(((uint32_t)128 * (uint16_t)(0x10000u - m[x])) >> 16);
				d[x] = (uint8_t)((uint16_t)(((uint32_t)c * m[x]) >> 16) + g);
			}
		}
	}
}

void lv_canvas_to_yuv420(const lv_canvas *cv, uint8_t *const dst[3], const int dst_stride[3],
                         const uint16_t *vig, const uint16_t *vig_c)
{
	to_yuv420(cv, dst, dst_stride, vig, vig_c);
}

void lv_canvas_to_rgb24(const lv_canvas *cv, uint8_t *dst, int stride)
{
	int x, y;
	for (y = 0; y < cv->h; y++) {
		size_t o = (size_t)y * cv->w;
		uint8_t *d = dst + (size_t)y * stride;
		for (x = 0; x < cv->w; x++) {
			d[3 * x] = cv->plane[0][o + x];
			d[3 * x + 1] = cv->plane[1][o + x];
			d[3 * x + 2] = cv->plane[2][o + x];
		}
	}
}
