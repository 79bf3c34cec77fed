/*
 * Internal: a small software canvas shared by the segment renderer and the
 * reference cards.
 *
 * A canvas has three full-resolution 8-bit planes.  They hold either R', G',
 * B' (cards, written as PNG) or Y', Cb, Cr in BT.709 limited range (segments,
 * subsampled to 4:2:0 for the encoder).  Both are linear in R'G'B', so every
 * blend below works the same way in either space: callers describe colours
 * in R'G'B' and the canvas converts them once with lv_canvas_color().
 *
 * Alphas are integers in 0..256.  Shapes are anti-aliased by coverage
 * (four sub-scanlines, exact horizontal coverage); the inner loops are
 * integer-only.
 */
#ifndef LV_MEDIA_DRAW_H
#define LV_MEDIA_DRAW_H

#include <stddef.h>
#include <stdint.h>

typedef struct lv_rgb {
	float r, g, b; /* R'G'B', 0..255 */
} lv_rgb;

typedef struct lv_px {
	uint8_t c[3]; /* a colour in the canvas's own space */
} lv_px;

typedef struct lv_canvas {
	int w, h;
	int yuv;            /* planes are Y', Cb, Cr (BT.709, limited range), else R', G', B' */
	uint8_t *plane[3];  /* w * h bytes each, stride w */
	int32_t *acc_diff;  /* coverage scratch, w + 2 each */
	int32_t *acc_direct;
	int32_t *img_cols;  /* image sampling scratch, 2 * w */
	uint16_t *weight;   /* blending weights of one row (0..256), w */
} lv_canvas;

/* An image with straight alpha converted to a canvas's space, colour premultiplied by alpha. */
typedef struct lv_image {
	int w, h;
	uint8_t *plane[4]; /* three colour planes (premultiplied) and alpha, w * h each */
} lv_image;

/* A deterministic random sequence (xorshift32) seeded from a value; never zero. */
typedef struct lv_rng {
	uint32_t s;
} lv_rng;

void lv_rng_seed(lv_rng *r, uint32_t seed);
uint32_t lv_rng_next(lv_rng *r);
/* Uniform in [lo, hi). */
float lv_rng_range(lv_rng *r, float lo, float hi);
/* FNV-1a of a string (NULL hashes like ""). */
uint32_t lv_hash_str(const char *s, uint32_t h);
/* Mix two 32-bit values into one. */
uint32_t lv_hash_mix(uint32_t a, uint32_t b);

lv_rgb lv_rgb_make(float r, float g, float b);
lv_rgb lv_rgb_mix(lv_rgb a, lv_rgb b, float t);
lv_rgb lv_rgb_scale(lv_rgb a, float k);
/* Rotate the hue by `deg` degrees and scale the saturation by `sat`. */
lv_rgb lv_rgb_shift(lv_rgb a, float deg, float sat);
/* Colour from hue (degrees), saturation and value (0..1). */
lv_rgb lv_rgb_hsv(float h, float s, float v);

/* A canvas; its planes start zeroed. */
int lv_canvas_init(lv_canvas *cv, int w, int h, int yuv);
void lv_canvas_free(lv_canvas *cv);
lv_px lv_canvas_color(const lv_canvas *cv, lv_rgb c);

/* Paint every row y with rows[y] (a vertical gradient). */
void lv_draw_rows(lv_canvas *cv, const lv_px *rows);

/*
 * A silhouette layer: column x is covered from top[x] (in 1/256 pixel, the
 * edge anti-aliased) down to the bottom.  Row y gets colour rows[y] (or
 * `col` when rows is NULL), mixed with alpha.  Rows from y_end down are left
 * alone (something opaque will cover them).
 */
void lv_draw_layer(lv_canvas *cv, const int32_t *top, const lv_px *rows, lv_px col, int alpha, int y_end);

/* A soft elliptical glow: alpha * (1 - d^2)^2 where d is the normalised distance to the centre. */
void lv_draw_glow(lv_canvas *cv, float cx, float cy, float rx, float ry, lv_px col, int alpha);

/* Anti-aliased filled shapes. */
void lv_draw_ellipse(lv_canvas *cv, float cx, float cy, float rx, float ry, lv_px col, int alpha);
/* The union of n (<= 16) ellipses given as cx, cy, rx, ry, ... (overlaps are covered once). */
void lv_draw_blob(lv_canvas *cv, const float *ellipses, int n, lv_px col, int alpha);
void lv_draw_rrect(lv_canvas *cv, float x0, float y0, float x1, float y1, float radius, lv_px col, int alpha);
/* A convex polygon of n (<= 16) points given as x0, y0, x1, y1, ... */
void lv_draw_poly(lv_canvas *cv, const float *xy, int n, lv_px col, int alpha);
/* The same, only in the rows above y_end (what something opaque will cover below need not be drawn). */
void lv_draw_poly_above(lv_canvas *cv, const float *xy, int n, lv_px col, int alpha, int y_end);

/* Colour `col` through an 8-bit coverage mask placed with its top-left corner at (x0, y0). */
void lv_draw_mask(lv_canvas *cv, int x0, int y0, const uint8_t *mask, int mw, int mh, int mstride, lv_px col,
                  int alpha);

/* Draw an image scaled by `scale` with its top-left corner at (x0, y0), bilinear, with extra alpha. */
void lv_draw_image(lv_canvas *cv, const lv_image *img, float x0, float y0, float scale, int alpha);

/*
 * Composite an image 1:1 at an integer position.  Cheaper than lv_draw_image for overlays
 * (captions) that never scale.
 */
void lv_draw_image_at(lv_canvas *cv, const lv_image *img, int x0, int y0, int alpha);

/*
 * Premultiplied image from two canvases of one size: `col` holds colours
 * already premultiplied (drawn over all-zero planes), `alpha` the coverage in
 * its first plane (drawn in white over zero on an RGB canvas).  Drawing with
 * the ordinary blends onto zeroed canvases gives exactly "over" compositing.
 */
int lv_image_from_planes(lv_image *out, const lv_canvas *col, const lv_canvas *alpha);

/* Premultiplied image from packed RGBA (straight alpha) in the space of `cv`. */
int lv_image_from_rgba(lv_image *out, const lv_canvas *cv, const uint8_t *rgba, int w, int h, int stride);
void lv_image_free(lv_image *img);

/*
 * 4:2:0 output: luma copied, chroma averaged over 2x2, with a vignette:
 * every luma sample's distance from black is scaled by vig[y * w + x] / 65536,
 * every chroma sample's distance from grey by vig_c[y * (w / 2) + x] / 65536
 * (maps computed once per clip; NULL: no vignette).  The canvas must be YUV;
 * w and h even.
 */
void lv_canvas_to_yuv420(const lv_canvas *cv, uint8_t *const dst[3], const int dst_stride[3],
                         const uint16_t *vig, const uint16_t *vig_c);
/* Packed RGB24 output of an RGB canvas. */
void lv_canvas_to_rgb24(const lv_canvas *cv, uint8_t *dst, int stride);

#endif
