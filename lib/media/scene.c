#include "media/scene.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265f
#define MAX_LAYERS 4
#define MAX_CLOUDS 6
#define MAX_STARS 180
#define MAX_PARTS 150
#define MAX_WINDOWS 700
#define MAX_BEAMS 4

enum { K_MOUNTAINS, K_FOREST, K_CITY, K_SEA, K_DUNES, K_STAGE, K_COUNT };
enum { P_DAWN, P_DAY, P_DUSK, P_NIGHT, P_MISTY, P_AUTUMN, P_SNOW, P_NEON, P_COUNT };
enum { PART_MOTES, PART_SNOW, PART_FIREFLIES, PART_SPARKS, PART_BOKEH };

/* sky top, sky middle, horizon, light, far layer, near layer */
static const float palettes[P_COUNT][6][3] = {
	[P_DAWN] = { { 38, 52, 110 }, { 150, 120, 170 }, { 255, 178, 140 }, { 255, 226, 180 }, { 128, 112, 160 },
	             { 34, 30, 60 } },
	[P_DAY] = { { 60, 128, 214 }, { 130, 185, 235 }, { 205, 230, 245 }, { 255, 251, 230 }, { 110, 150, 185 },
	            { 38, 84, 72 } },
	[P_DUSK] = { { 48, 34, 96 }, { 170, 80, 120 }, { 255, 150, 90 }, { 255, 214, 130 }, { 140, 72, 110 },
	             { 32, 18, 44 } },
	[P_NIGHT] = { { 6, 10, 32 }, { 18, 28, 70 }, { 44, 58, 110 }, { 232, 236, 255 }, { 30, 40, 82 },
	              { 8, 10, 26 } },
	[P_MISTY] = { { 58, 96, 108 }, { 130, 170, 170 }, { 200, 222, 210 }, { 245, 248, 235 }, { 120, 156, 156 },
	              { 24, 56, 62 } },
	[P_AUTUMN] = { { 84, 118, 170 }, { 190, 180, 170 }, { 246, 206, 150 }, { 255, 236, 190 }, { 176, 116, 84 },
	               { 70, 34, 30 } },
	[P_SNOW] = { { 120, 150, 200 }, { 180, 200, 228 }, { 236, 242, 250 }, { 255, 255, 245 }, { 178, 192, 218 },
	             { 96, 112, 148 } },
	[P_NEON] = { { 16, 8, 40 }, { 70, 20, 100 }, { 200, 50, 150 }, { 255, 130, 210 }, { 70, 26, 100 },
	             { 14, 6, 32 } },
};

typedef struct keyword {
	const char *word;
	int value;
} keyword;

static const keyword kind_words[] = {
	{ "city", K_CITY }, { "street", K_CITY }, { "town", K_CITY }, { "building", K_CITY }, { "skyline", K_CITY },
	{ "urban", K_CITY }, { "downtown", K_CITY }, { "rooftop", K_CITY }, { "\xe5\x9f\x8e", K_CITY } /* 城 */,
	{ "\xe8\xa1\x97", K_CITY } /* 街 */, { "\xe6\xa5\xbc", K_CITY } /* 楼 */,
	{ "ocean", K_SEA }, { "sea", K_SEA }, { "beach", K_SEA }, { "shore", K_SEA }, { "coast", K_SEA },
	{ "harbor", K_SEA }, { "harbour", K_SEA }, { "lake", K_SEA }, { "river", K_SEA }, { "wave", K_SEA },
	{ "boat", K_SEA }, { "ship", K_SEA }, { "island", K_SEA }, { "\xe6\xb5\xb7", K_SEA } /* 海 */,
	{ "\xe6\xb9\x96", K_SEA } /* 湖 */, { "\xe6\xb2\xb3", K_SEA } /* 河 */, { "\xe8\x88\xb9", K_SEA } /* 船 */,
	{ "forest", K_FOREST }, { "tree", K_FOREST }, { "woods", K_FOREST }, { "garden", K_FOREST },
	{ "park", K_FOREST }, { "jungle", K_FOREST }, { "village", K_FOREST }, { "meadow", K_FOREST },
	{ "field", K_FOREST }, { "farm", K_FOREST }, { "\xe6\x9e\x97", K_FOREST } /* 林 */,
	{ "\xe6\xa0\x91", K_FOREST } /* 树 */, { "\xe8\x8a\xb1\xe5\x9b\xad", K_FOREST } /* 花园 */,
	{ "\xe6\x9d\x91", K_FOREST } /* 村 */,
	{ "mountain", K_MOUNTAINS }, { "peak", K_MOUNTAINS }, { "cliff", K_MOUNTAINS }, { "valley", K_MOUNTAINS },
	{ "hill", K_MOUNTAINS }, { "summit", K_MOUNTAINS }, { "\xe5\xb1\xb1", K_MOUNTAINS } /* 山 */,
	{ "\xe5\xb3\xb0", K_MOUNTAINS } /* 峰 */, { "\xe8\xb0\xb7", K_MOUNTAINS } /* 谷 */,
	{ "desert", K_DUNES }, { "dune", K_DUNES }, { "sand", K_DUNES }, { "\xe6\xb2\x99", K_DUNES } /* 沙 */,
	{ "room", K_STAGE }, { "kitchen", K_STAGE }, { "office", K_STAGE }, { "indoor", K_STAGE },
	{ "inside", K_STAGE }, { "house", K_STAGE }, { "home", K_STAGE }, { "lab", K_STAGE }, { "space", K_STAGE },
	{ "galaxy", K_STAGE }, { "stage", K_STAGE }, { "dream", K_STAGE }, { "\xe5\xae\xa4", K_STAGE } /* 室 */,
	{ "\xe5\xb1\x8b", K_STAGE } /* 屋 */, { "\xe6\x88\xbf", K_STAGE } /* 房 */,
	{ "\xe5\xa4\xaa\xe7\xa9\xba", K_STAGE } /* 太空 */, { "\xe5\xae\x87\xe5\xae\x99", K_STAGE } /* 宇宙 */,
	{ "\xe6\xa2\xa6", K_STAGE } /* 梦 */,
};

static const keyword palette_words[] = {
	{ "night", P_NIGHT }, { "midnight", P_NIGHT }, { "moon", P_NIGHT }, { "stars", P_NIGHT },
	{ "starry", P_NIGHT }, { "dark", P_NIGHT }, { "space", P_NIGHT }, { "galaxy", P_NIGHT },
	{ "\xe5\xa4\x9c", P_NIGHT } /* 夜 */, { "\xe6\x9c\x88", P_NIGHT } /* 月 */, { "\xe6\x98\x9f", P_NIGHT } /* 星 */,
	{ "dawn", P_DAWN }, { "sunrise", P_DAWN }, { "morning", P_DAWN }, { "\xe9\xbb\x8e\xe6\x98\x8e", P_DAWN },
	{ "\xe6\x97\xa5\xe5\x87\xba", P_DAWN }, { "\xe6\xb8\x85\xe6\x99\xa8", P_DAWN }, /* 黎明 日出 清晨 */
	{ "sunset", P_DUSK }, { "dusk", P_DUSK }, { "evening", P_DUSK }, { "twilight", P_DUSK },
	{ "golden", P_DUSK }, { "\xe9\xbb\x84\xe6\x98\x8f", P_DUSK }, { "\xe5\xa4\x95\xe9\x98\xb3", P_DUSK },
	{ "\xe5\x82\x8d\xe6\x99\x9a", P_DUSK }, /* 黄昏 夕阳 傍晚 */
	{ "noon", P_DAY }, { "sunny", P_DAY }, { "daylight", P_DAY }, { "afternoon", P_DAY }, { "summer", P_DAY },
	{ "\xe9\x98\xb3\xe5\x85\x89", P_DAY }, { "\xe7\x99\xbd\xe5\xa4\xa9", P_DAY }, /* 阳光 白天 */
	{ "snow", P_SNOW }, { "winter", P_SNOW }, { "ice", P_SNOW }, { "frozen", P_SNOW },
	{ "\xe9\x9b\xaa", P_SNOW } /* 雪 */, { "\xe5\x86\xac", P_SNOW } /* 冬 */, { "\xe5\x86\xb0", P_SNOW } /* 冰 */,
	{ "autumn", P_AUTUMN }, { "leaves", P_AUTUMN }, { "\xe7\xa7\x8b", P_AUTUMN } /* 秋 */,
	{ "neon", P_NEON }, { "cyber", P_NEON }, { "future", P_NEON }, { "futuristic", P_NEON },
	{ "\xe9\x9c\x93\xe8\x99\xb9", P_NEON }, { "\xe6\x9c\xaa\xe6\x9d\xa5", P_NEON }, /* 霓虹 未来 */
	{ "fog", P_MISTY }, { "mist", P_MISTY }, { "misty", P_MISTY }, { "rain", P_MISTY }, { "storm", P_MISTY },
	{ "\xe9\x9b\xbe", P_MISTY } /* 雾 */, { "\xe9\x9b\xa8", P_MISTY } /* 雨 */,
};

typedef struct layer {
	float depth;
	float *hmap;     /* world y of the top edge per world x (sample 0 is x = -w/2) */
	float base, amp; /* mean top and relief, for the colour gradient */
	lv_rgb top, bottom;
	int wave;        /* animated water: base + waves moving with t */
	float wk, wspeed, wphase;
	int win0, win1;  /* its lit windows in the window list */
} layer;

typedef struct cloud {
	float x, y, s, vx, flip;
	lv_rgb col, shade;
	int alpha;
} cloud;

typedef struct particle {
	float x, y, r, depth, vx, vy, phase, freq;
	lv_rgb col;
	int alpha;
} particle;

typedef struct window {
	float x, y, w, h;
	lv_rgb col;
	int alpha;
} window;

struct lv_scene {
	int w, h;
	float U;       /* sqrt(w * h): the unit of horizontal sizes */
	float cx, cy;  /* centre of the camera's zoom */
	int kind, pal;
	lv_rgb sky_top, sky_mid, horizon, sun, far, near;
	float horizon_y;
	layer layers[MAX_LAYERS];
	int n_layers;
	int nsamp;
	/* the light */
	int has_sun, moon, n_beams;
	float sun_x, sun_y, sun_r, sun_alpha;
	float beam_ang[MAX_BEAMS], beam_half[MAX_BEAMS], beam_phase[MAX_BEAMS];
	int beam_alpha;
	cloud clouds[MAX_CLOUDS];
	int n_clouds;
	particle stars[MAX_STARS];
	int n_stars;
	particle back[MAX_PARTS / 4];
	int n_back;
	particle parts[MAX_PARTS];
	int n_parts, part_mode;
	window wins[MAX_WINDOWS];
	int n_wins;
	int haze_alpha;
	/* per-frame scratch */
	int32_t *top;
	lv_px *rows;
};

/* ---- keywords ---------------------------------------------------------------- */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Position of the first whole-word (ASCII) or substring (UTF-8) match of kw in the lower-cased text, or -1. */
static long find_word(const char *text, const char *kw)
{
	size_t n = strlen(kw);
	const char *p = text;
	int ascii = (unsigned char)kw[0] < 0x80;
	while ((p = strstr(p, kw)) != NULL) {
		char after = p[n];
		if (!ascii)
			return (long)(p - text);
		if ((p == text || !is_alpha(p[-1])) &&
		    (!is_alpha(after) || (after == 's' && !is_alpha(p[n + 1]))))
			return (long)(p - text);
		p++;
	}
	return -1;
}

static int first_keyword(const char *lower, const keyword *list, size_t n)
{
	long best = -1;
	int value = -1;
	size_t i;
	for (i = 0; i < n; i++) {
		long at = find_word(lower, list[i].word);
		if (at >= 0 && (best < 0 || at < best)) {
			best = at;
			value = list[i].value;
		}
	}
	return value;
}

/* ---- construction ------------------------------------------------------------- */

static lv_rgb pal_color(int pal, int i)
{
	return lv_rgb_make(palettes[pal][i][0], palettes[pal][i][1], palettes[pal][i][2]);
}

static float smoothstep(float a, float b, float x)
{
	float t = (x - a) / (b - a);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return t * t * (3 - 2 * t);
}

/* Relief in [-1, 1]: a few sines at incommensurate frequencies; ridged gives sharp peaks. */
static void relief(float *out, int n, float x0, float U, lv_rng *r, float freq, int ridged)
{
	float f[4], ph[4], a[4], sum = 0;
	int o, i;
	for (o = 0; o < 4; o++) {
		f[o] = freq * powf(2.07f, (float)o) * lv_rng_range(r, 0.85f, 1.2f) * 2.0f * PI_F / U;
		ph[o] = lv_rng_range(r, 0, 2 * PI_F);
		a[o] = powf(0.48f, (float)o);
		sum += a[o];
	}
	for (i = 0; i < n; i++) {
		float x = x0 + (float)i, v = 0;
		for (o = 0; o < 4; o++) {
			float s = sinf(x * f[o] + ph[o]);
			v += a[o] * (ridged ? 1.0f - 2.0f * fabsf(s) : s);
		}
		out[i] = v / sum;
	}
}

/* Pines (three stacked tiers) and round bushes standing on the relief. */
static void add_trees(float *hm, int n, float x0, lv_rng *r, float h_min, float h_max, float gap_min, float gap_max,
                      int bush_share)
{
	float x = x0 + lv_rng_range(r, 0, gap_max);
	while (x < x0 + (float)n) {
		float th = lv_rng_range(r, h_min, h_max);
		int bush = (int)(lv_rng_next(r) % 100) < bush_share;
		float hw = bush ? th * 0.5f : th * 0.3f;
		int i, k, i0 = (int)floorf(x - hw - x0), i1 = (int)ceilf(x + hw - x0);
		float ground = hm[(int)fminf(fmaxf(x - x0, 0), (float)(n - 1))];
		if (bush)
			th *= 0.5f;
		for (i = i0 < 0 ? 0 : i0; i <= i1 && i < n; i++) {
			float dx = fabsf(x0 + (float)i - x), y = 1e30f;
			if (bush) {
				if (dx < hw)
					y = ground + th * 0.15f - (th * 1.15f) * sqrtf(1.0f - (dx / hw) * (dx / hw));
			} else {
				for (k = 0; k < 3; k++) {
					/* tier k: apex lower and wider the further down the tree */
					float apex = ground - th * (1.0f - 0.26f * (float)k);
					float half = hw * (0.55f + 0.225f * (float)k), slope = th * 0.42f / half;
					if (dx < half)
						y = fminf(y, apex + dx * slope);
				}
			}
			if (y < hm[i])
				hm[i] = y;
		}
		x += lv_rng_range(r, gap_min, gap_max);
	}
}

static void add_buildings(lv_scene *s, layer *L, lv_rng *r, float wmin, float wmax, float hmin, float hmax,
                          int lit, lv_rgb wcol)
{
	int n = s->nsamp, i;
	float x0 = -(float)s->w * 0.5f, x = x0;
	L->win0 = s->n_wins;
	while (x < x0 + (float)n) {
		float bw = lv_rng_range(r, wmin, wmax) * s->U, bh = lv_rng_range(r, hmin, hmax) * (float)s->h;
		float top = L->base - bh, gap = lv_rng_range(r, 0, 0.006f) * s->U;
		int tier = lv_rng_next(r) % 3 == 0, antenna = lv_rng_next(r) % 5 == 0;
		int a = (int)(x - x0), b = (int)(x + bw - x0);
		for (i = a < 0 ? 0 : a; i < b && i < n; i++) {
			float y = top;
			float rel = ((float)i + x0 - x) / bw;
			if (tier && (rel < 0.2f || rel > 0.8f))
				y = top + bh * 0.12f;
			if (antenna && fabsf(rel - 0.5f) * bw < 1.2f)
				y = top - bh * 0.18f;
			L->hmap[i] = y;
		}
		for (i = b < 0 ? 0 : b; i < (int)(x + bw + gap - x0) && i < n; i++)
			L->hmap[i] = L->base - bh * 0.25f;
		if (lit) {
			float ww = 0.0045f * s->U, wh = 0.011f * (float)s->h, sx = 0.011f * s->U, sy = 0.022f * (float)s->h;
			float wx, wy;
			for (wy = top + (tier ? bh * 0.12f : 0) + sy * 0.7f; wy + wh < L->base - sy * 0.3f; wy += sy)
				for (wx = x + sx * 0.6f; wx + ww < x + bw - sx * 0.4f; wx += sx) {
					window *w;
					if (lv_rng_next(r) % 100 > 32 || s->n_wins >= MAX_WINDOWS)
						continue;
					w = &s->wins[s->n_wins++];
					w->x = wx;
					w->y = wy;
					w->w = ww;
					w->h = wh;
					w->col = lv_rgb_shift(wcol, lv_rng_range(r, -12, 12), lv_rng_range(r, 0.7f, 1.1f));
					w->alpha = (int)lv_rng_range(r, 120, 230);
				}
		}
		x += bw + gap;
	}
	L->win1 = s->n_wins;
}

static int new_layer(lv_scene *s, float depth, float base, float amp)
{
	layer *L = &s->layers[s->n_layers];
	L->hmap = lv_malloc(sizeof(float) * (size_t)s->nsamp);
	if (!L->hmap)
		return LV_ENOMEM;
	L->depth = depth;
	L->base = base * (float)s->h;
	L->amp = amp * (float)s->h;
	s->n_layers++;
	return LV_OK;
}

/* A relief layer: top = base - amp * relief. */
static int relief_layer(lv_scene *s, lv_rng *r, float depth, float base, float amp, float freq, int ridged)
{
	layer *L;
	int i, err = new_layer(s, depth, base, amp);
	if (err)
		return err;
	L = &s->layers[s->n_layers - 1];
	relief(L->hmap, s->nsamp, -(float)s->w * 0.5f, s->U, r, freq, ridged);
	for (i = 0; i < s->nsamp; i++)
		L->hmap[i] = L->base - L->amp * L->hmap[i];
	return LV_OK;
}

static void color_layers(lv_scene *s)
{
	int i;
	for (i = 0; i < s->n_layers; i++) {
		layer *L = &s->layers[i];
		float d = L->depth;
		lv_rgb c = lv_rgb_mix(s->far, s->near, powf(d, 0.8f));
		c = lv_rgb_mix(c, s->horizon, 0.45f * powf(1.0f - d, 1.5f));
		if (s->kind == K_SEA && (L->wave || i == 1)) {
			lv_rgb sea = lv_rgb_mix(lv_rgb_mix(s->sky_top, s->horizon, 0.45f), s->near, 0.25f);
			c = lv_rgb_mix(sea, s->near, d * 0.7f);
		}
		if (s->kind == K_DUNES)
			c = lv_rgb_mix(c, lv_rgb_mix(s->sun, s->horizon, 0.5f), 0.35f * (1.0f - d * 0.6f));
		L->top = c;
		L->bottom = lv_rgb_mix(c, lv_rgb_scale(s->near, 0.7f), 0.35f + 0.3f * d);
	}
}

static void make_particles(lv_scene *s, lv_rng *r)
{
	int i, n;
	float k = s->U / 720.0f;
	switch (s->pal) {
	case P_SNOW:
		s->part_mode = PART_SNOW;
		n = 140;
		break;
	case P_NIGHT:
		s->part_mode = PART_FIREFLIES;
		n = 45;
		break;
	case P_NEON:
		s->part_mode = PART_SPARKS;
		n = 50;
		break;
	default:
		s->part_mode = PART_MOTES;
		n = 48;
	}
	if (s->kind == K_STAGE) {
		s->part_mode = PART_BOKEH;
		n = 26;
	}
	for (i = 0; i < n && i < MAX_PARTS; i++) {
		particle *p = &s->parts[i];
		p->x = lv_rng_range(r, 0, (float)s->w);
		p->y = lv_rng_range(r, 0, (float)s->h);
		p->depth = lv_rng_range(r, 0.6f, 1.4f);
		p->phase = lv_rng_range(r, 0, 2 * PI_F);
		p->freq = lv_rng_range(r, 0.4f, 1.6f);
		switch (s->part_mode) {
		case PART_SNOW:
			p->r = lv_rng_range(r, 1.2f, 3.6f) * k * p->depth;
			p->vy = lv_rng_range(r, 0.05f, 0.12f) * (float)s->h * p->depth;
			p->vx = lv_rng_range(r, -0.01f, 0.02f) * s->U;
			p->col = lv_rgb_make(250, 252, 255);
			p->alpha = (int)lv_rng_range(r, 150, 230);
			break;
		case PART_FIREFLIES:
			p->r = lv_rng_range(r, 1.5f, 3.2f) * k;
			p->vy = lv_rng_range(r, -0.015f, 0.01f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.015f, 0.015f) * s->U;
			p->y = lv_rng_range(r, 0.45f, 1.0f) * (float)s->h;
			p->col = lv_rgb_make(235, 250, 150);
			p->alpha = (int)lv_rng_range(r, 150, 250);
			break;
		case PART_SPARKS:
			p->r = lv_rng_range(r, 1.2f, 3.0f) * k;
			p->vy = lv_rng_range(r, -0.04f, -0.01f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->col = (lv_rng_next(r) & 1) ? lv_rgb_make(120, 240, 255) : lv_rgb_make(255, 120, 220);
			p->alpha = (int)lv_rng_range(r, 120, 220);
			break;
		case PART_BOKEH:
			p->r = lv_rng_range(r, 10.0f, 40.0f) * k;
			p->vy = lv_rng_range(r, -0.02f, -0.004f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.008f, 0.008f) * s->U;
			p->col = lv_rgb_mix(s->sun, lv_rgb_hsv(lv_rng_range(r, 0, 360), 0.5f, 1.0f), 0.45f);
			p->alpha = (int)lv_rng_range(r, 30, 80);
			break;
		default:
			p->r = lv_rng_range(r, 1.2f, 3.0f) * k;
			p->vy = lv_rng_range(r, -0.025f, -0.006f) * (float)s->h;
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->col = lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.4f);
			p->alpha = (int)lv_rng_range(r, 50, 120);
		}
	}
	s->n_parts = i;
}

static int build(lv_scene *s, lv_rng *r)
{
	int err = LV_OK, i;
	float H = (float)s->h;
	s->nsamp = 2 * s->w + 2;
	switch (s->kind) {
	case K_MOUNTAINS:
		err = relief_layer(s, r, 0.10f, 0.47f, 0.13f, 1.6f, 1);
		if (!err)
			err = relief_layer(s, r, 0.32f, 0.57f, 0.09f, 2.3f, 1);
		if (!err)
			err = relief_layer(s, r, 0.62f, 0.70f, 0.05f, 1.9f, 0);
		if (!err) {
			err = relief_layer(s, r, 1.0f, 0.87f, 0.03f, 1.1f, 0);
			if (!err && lv_rng_next(r) % 2)
				add_trees(s->layers[3].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.08f * H, 0.22f * H,
				          0.05f * s->U, 0.5f * s->U, 0);
		}
		break;
	case K_FOREST:
		err = relief_layer(s, r, 0.12f, 0.56f, 0.04f, 1.4f, 0);
		if (!err) {
			err = relief_layer(s, r, 0.35f, 0.64f, 0.03f, 1.8f, 0);
			if (!err)
				add_trees(s->layers[1].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.03f * H, 0.06f * H,
				          0.012f * s->U, 0.03f * s->U, 10);
		}
		if (!err) {
			err = relief_layer(s, r, 0.65f, 0.74f, 0.02f, 1.5f, 0);
			if (!err)
				add_trees(s->layers[2].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.08f * H, 0.15f * H,
				          0.03f * s->U, 0.09f * s->U, 35);
		}
		if (!err) {
			err = relief_layer(s, r, 1.0f, 0.89f, 0.015f, 1.0f, 0);
			if (!err)
				add_trees(s->layers[3].hmap, s->nsamp, -(float)s->w * 0.5f, r, 0.22f * H, 0.38f * H,
				          0.3f * s->U, 0.7f * s->U, 50);
		}
		break;
	case K_CITY: {
		lv_rgb warm = lv_rgb_make(255, 214, 140);
		int lit = s->pal == P_NIGHT || s->pal == P_DUSK || s->pal == P_NEON || s->pal == P_MISTY;
		if (s->pal == P_NEON)
			warm = lv_rgb_make(140, 230, 255);
		err = new_layer(s, 0.10f, 0.62f, 0.15f);
		if (!err)
			add_buildings(s, &s->layers[0], r, 0.02f, 0.05f, 0.05f, 0.2f, 0, warm);
		if (!err)
			err = new_layer(s, 0.35f, 0.66f, 0.2f);
		if (!err)
			add_buildings(s, &s->layers[1], r, 0.03f, 0.07f, 0.08f, 0.3f, lit, warm);
		if (!err)
			err = new_layer(s, 0.70f, 0.74f, 0.15f);
		if (!err)
			add_buildings(s, &s->layers[2], r, 0.05f, 0.1f, 0.04f, 0.2f, lit, warm);
		if (!err)
			err = relief_layer(s, r, 1.0f, 0.9f, 0.004f, 0.5f, 0);
		break;
	}
	case K_SEA:
		err = relief_layer(s, r, 0.08f, 0.565f, 0.035f, 2.2f, 0);
		if (!err) {
			/* a coast or islands on part of the horizon only */
			float f = lv_rng_range(r, 0.8f, 1.6f) * 2.0f * PI_F / s->U, ph = lv_rng_range(r, 0, 2 * PI_F);
			layer *L = &s->layers[0];
			for (i = 0; i < s->nsamp; i++) {
				float rel = (L->base - L->hmap[i]) / L->amp;
				float env = powf(fmaxf(0.0f, sinf((float)i * f + ph)), 0.6f);
				L->hmap[i] = 0.607f * H - env * (0.035f * H + 0.02f * H * rel);
			}
			err = relief_layer(s, r, 0.2f, 0.605f, 0.0f, 1.0f, 0);
		}
		for (i = 0; !err && i < 2; i++) {
			layer *L;
			err = relief_layer(s, r, i ? 1.0f : 0.55f, i ? 0.86f : 0.72f, i ? 0.01f : 0.005f, i ? 1.2f : 2.5f, 0);
			if (err)
				break;
			L = &s->layers[s->n_layers - 1];
			L->wave = 1;
			L->wk = (i ? 5.0f : 9.0f) * 2.0f * PI_F / s->U;
			L->wspeed = lv_rng_range(r, 0.6f, 1.1f) * (lv_rng_next(r) & 1 ? 1.0f : -1.0f);
			L->wphase = lv_rng_range(r, 0, 2 * PI_F);
		}
		break;
	case K_DUNES:
		err = relief_layer(s, r, 0.10f, 0.60f, 0.035f, 1.3f, 0);
		if (!err)
			err = relief_layer(s, r, 0.35f, 0.68f, 0.05f, 1.5f, 0);
		if (!err)
			err = relief_layer(s, r, 0.65f, 0.78f, 0.05f, 1.1f, 0);
		if (!err)
			err = relief_layer(s, r, 1.0f, 0.9f, 0.04f, 0.8f, 0);
		break;
	default: /* K_STAGE: a floor under a soft backdrop */
		err = relief_layer(s, r, 0.9f, 0.8f, 0.0f, 1.0f, 0);
		for (i = 0; i < MAX_PARTS / 4; i++) {
			particle *p = &s->back[i];
			p->x = lv_rng_range(r, -0.1f, 1.1f) * (float)s->w;
			p->y = lv_rng_range(r, 0.05f, 0.75f) * H;
			p->r = lv_rng_range(r, 0.03f, 0.09f) * s->U;
			p->depth = lv_rng_range(r, 0.15f, 0.5f);
			p->vx = lv_rng_range(r, -0.01f, 0.01f) * s->U;
			p->vy = lv_rng_range(r, -0.006f, 0.006f) * H;
			p->phase = lv_rng_range(r, 0, 2 * PI_F);
			p->freq = lv_rng_range(r, 0.3f, 0.9f);
			p->col = lv_rgb_mix(s->sun, lv_rgb_hsv(lv_rng_range(r, 0, 360), 0.55f, 1.0f), 0.5f);
			p->alpha = (int)lv_rng_range(r, 20, 60);
		}
		s->n_back = MAX_PARTS / 4;
	}
	if (err)
		return err;
	color_layers(s);

	/* the light */
	s->has_sun = 1;
	s->moon = s->pal == P_NIGHT;
	s->sun_x = lv_rng_range(r, 0.2f, 0.8f) * (float)s->w;
	if (s->pal == P_DAWN || s->pal == P_DUSK)
		s->sun_y = lv_rng_range(r, 0.38f, 0.5f) * H;
	else
		s->sun_y = lv_rng_range(r, 0.14f, 0.36f) * H;
	s->sun_r = (s->moon ? 0.038f : 0.048f) * s->U;
	s->sun_alpha = s->pal == P_MISTY ? 0.55f : 1.0f;
	if (s->kind == K_STAGE) {
		s->sun_x = lv_rng_range(r, 0.3f, 0.7f) * (float)s->w;
		s->sun_y = -0.05f * H;
	}
	s->n_beams = 0;
	if (s->pal != P_NIGHT && s->pal != P_NEON) {
		s->n_beams = 2 + (int)(lv_rng_next(r) % 3);
		s->beam_alpha = s->pal == P_MISTY ? 26 : 17;
		for (i = 0; i < s->n_beams; i++) {
			s->beam_ang[i] = lv_rng_range(r, 0.3f, 0.7f) * PI_F;
			s->beam_half[i] = lv_rng_range(r, 0.02f, 0.06f);
			s->beam_phase[i] = lv_rng_range(r, 0, 2 * PI_F);
		}
	}
	/* clouds */
	s->n_clouds = s->kind == K_STAGE ? 0 : 2 + (int)(lv_rng_next(r) % 4);
	for (i = 0; i < s->n_clouds; i++) {
		cloud *c = &s->clouds[i];
		c->x = lv_rng_range(r, -0.1f, 1.1f) * (float)s->w;
		c->y = lv_rng_range(r, 0.1f, 0.38f) * H;
		c->s = lv_rng_range(r, 0.045f, 0.085f) * s->U;
		c->vx = lv_rng_range(r, 0.006f, 0.02f) * s->U * (lv_rng_next(r) & 1 ? 1.0f : -1.0f);
		if (s->pal == P_DAWN || s->pal == P_DUSK || s->pal == P_NEON)
			c->col = lv_rgb_mix(s->sun, s->sky_mid, 0.45f);
		else if (s->pal == P_NIGHT)
			c->col = lv_rgb_mix(s->sky_mid, s->horizon, 0.6f);
		else
			c->col = lv_rgb_mix(s->horizon, lv_rgb_make(255, 255, 255), 0.45f);
		c->shade = lv_rgb_mix(c->col, s->sky_top, 0.35f);
		c->alpha = (int)lv_rng_range(r, 170, 230);
		if (s->pal == P_NIGHT)
			c->alpha /= 2;
		c->flip = (lv_rng_next(r) & 1) ? 1.0f : -1.0f;
	}
	/* stars */
	s->n_stars = 0;
	if (s->pal == P_NIGHT || s->pal == P_NEON || (s->kind == K_STAGE && s->pal == P_DUSK)) {
		s->n_stars = s->pal == P_NEON ? 60 : MAX_STARS;
		for (i = 0; i < s->n_stars; i++) {
			particle *p = &s->stars[i];
			p->x = lv_rng_range(r, -0.2f, 1.2f) * (float)s->w;
			p->y = lv_rng_range(r, 0.0f, 0.62f) * H;
			p->r = lv_rng_range(r, 0.7f, 2.0f) * s->U / 720.0f;
			p->phase = lv_rng_range(r, 0, 2 * PI_F);
			p->freq = lv_rng_range(r, 0.8f, 3.0f);
			p->col = lv_rgb_mix(lv_rgb_make(255, 255, 255), s->sun, lv_rng_range(r, 0, 0.6f));
			p->alpha = (int)lv_rng_range(r, 120, 255);
		}
	}
	s->haze_alpha = s->pal == P_MISTY ? 130 : s->kind == K_STAGE ? 0 : 55;
	make_particles(s, r);
	return LV_OK;
}

int lv_scene_new(lv_scene **out, uint32_t seed, const char *text, int w, int h)
{
	lv_scene *s;
	lv_rng r;
	char *lower;
	int kind, pal, err, i;
	float hue, sat;
	*out = NULL;
	if (w < 16 || h < 16)
		return lv_error_set(LV_EINVALID, "scene: bad size %dx%d", w, h);
	lower = lv_strdup(text ? text : "");
	if (!lower)
		return LV_ENOMEM;
	for (i = 0; lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	kind = first_keyword(lower, kind_words, sizeof(kind_words) / sizeof(kind_words[0]));
	pal = first_keyword(lower, palette_words, sizeof(palette_words) / sizeof(palette_words[0]));
	free(lower);
	lv_rng_seed(&r, seed);
	if (kind < 0) {
		static const int kinds[] = { K_MOUNTAINS, K_FOREST, K_SEA, K_CITY, K_DUNES, K_MOUNTAINS, K_FOREST,
			                     K_SEA, K_STAGE };
		kind = kinds[lv_rng_next(&r) % (sizeof(kinds) / sizeof(kinds[0]))];
	}
	if (pal < 0) {
		static const int pals[] = { P_DAWN, P_DAY, P_DUSK, P_NIGHT, P_MISTY, P_AUTUMN, P_DAY, P_DUSK };
		pal = pals[lv_rng_next(&r) % (sizeof(pals) / sizeof(pals[0]))];
		if (kind == K_CITY && lv_rng_next(&r) % 4 == 0)
			pal = P_NEON;
		if (kind == K_MOUNTAINS && lv_rng_next(&r) % 5 == 0)
			pal = P_SNOW;
		if (kind == K_STAGE) {
			/* interiors and abstract stages: lamplight and dusk tones, not a daytime sky */
			static const int inside[] = { P_DUSK, P_NIGHT, P_AUTUMN, P_NEON, P_DAWN };
			pal = inside[lv_rng_next(&r) % (sizeof(inside) / sizeof(inside[0]))];
		}
	}
	s = lv_calloc(1, sizeof(*s));
	if (!s)
		return LV_ENOMEM;
	s->w = w;
	s->h = h;
	s->U = sqrtf((float)w * (float)h);
	s->cx = (float)w * 0.5f;
	s->cy = (float)h * 0.55f;
	s->kind = kind;
	s->pal = pal;
	hue = lv_rng_range(&r, -16.0f, 16.0f);
	sat = lv_rng_range(&r, 0.85f, 1.15f);
	s->sky_top = lv_rgb_shift(pal_color(pal, 0), hue, sat);
	s->sky_mid = lv_rgb_shift(pal_color(pal, 1), hue, sat);
	s->horizon = lv_rgb_shift(pal_color(pal, 2), hue * 0.6f, sat);
	s->sun = lv_rgb_shift(pal_color(pal, 3), hue * 0.4f, sat);
	s->far = lv_rgb_shift(pal_color(pal, 4), hue, sat);
	s->near = lv_rgb_shift(pal_color(pal, 5), hue, sat);
	s->horizon_y = 0.62f * (float)h;
	s->top = lv_malloc(sizeof(int32_t) * (size_t)w);
	s->rows = lv_malloc(sizeof(lv_px) * (size_t)h);
	if (!s->top || !s->rows) {
		lv_scene_free(s);
		return LV_ENOMEM;
	}
	err = build(s, &r);
	if (err) {
		lv_scene_free(s);
		return err;
	}
	*out = s;
	return LV_OK;
}

void lv_scene_free(lv_scene *s)
{
	int i;
	if (!s)
		return;
	for (i = 0; i < s->n_layers; i++)
		free(s->layers[i].hmap);
	free(s->top);
	free(s->rows);
	free(s);
}

void lv_scene_palette(const lv_scene *s, lv_rgb out[5])
{
	out[0] = s->sky_top;
	out[1] = s->horizon;
	out[2] = s->sun;
	out[3] = s->far;
	out[4] = s->near;
}

/* ---- drawing ---------------------------------------------------------------------- */

void lv_scene_project(const lv_scene *s, const lv_view *v, float depth, float *zoom, float *par)
{
	(void)s;
	*zoom = 1.0f + (v->zoom - 1.0f) * (0.25f + 0.75f * depth);
	*par = 0.08f + 0.92f * depth;
}

static float sx_of(const lv_scene *s, const lv_view *v, float depth, float wx)
{
	float z, par;
	lv_scene_project(s, v, depth, &z, &par);
	return (wx - s->cx - v->pan_x * par) * z + s->cx;
}

static float sy_of(const lv_scene *s, const lv_view *v, float depth, float wy)
{
	float z, par;
	lv_scene_project(s, v, depth, &z, &par);
	return (wy - s->cy - v->pan_y * par) * z + s->cy;
}

static lv_rgb sky_at(const lv_scene *s, float wy)
{
	float u = wy / s->horizon_y;
	if (u < 0.55f)
		return lv_rgb_mix(s->sky_top, s->sky_mid, smoothstep(-0.15f, 0.55f, u));
	return lv_rgb_mix(s->sky_mid, s->horizon, smoothstep(0.55f, 1.0f, u));
}

static void draw_sky(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float z, par;
	int y;
	lv_scene_project(s, v, 0.02f, &z, &par);
	for (y = 0; y < s->h; y++) {
		float wy = ((float)y + 0.5f - s->cy) / z + s->cy + v->pan_y * par;
		s->rows[y] = lv_canvas_color(cv, sky_at(s, wy));
	}
	lv_draw_rows(cv, s->rows);
}

static void draw_stars(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int i;
	for (i = 0; i < s->n_stars; i++) {
		const particle *p = &s->stars[i];
		float x = sx_of(s, v, 0.02f, p->x), y = sy_of(s, v, 0.02f, p->y);
		float tw = 0.6f + 0.4f * sinf(v->t * p->freq + p->phase);
		if (x < -8 || y < -8 || x > (float)s->w + 8 || y > (float)s->h + 8)
			continue;
		lv_draw_glow(cv, x, y, p->r * 2.6f, p->r * 2.6f, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
	}
}

static void draw_light(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float z, par, x, y, r, pulse = 1.0f + 0.03f * sinf(v->t * 1.3f);
	lv_px sun = lv_canvas_color(cv, s->sun);
	int a = (int)(256.0f * s->sun_alpha);
	lv_scene_project(s, v, 0.03f, &z, &par);
	x = sx_of(s, v, 0.03f, s->sun_x);
	y = sy_of(s, v, 0.03f, s->sun_y);
	r = s->sun_r * z;
	if (s->kind == K_STAGE) {
		lv_draw_glow(cv, x, y, 0.7f * s->U * pulse, 0.55f * s->U * pulse, sun, 110);
		return;
	}
	lv_draw_glow(cv, x, y, 9.0f * r * pulse, 9.0f * r * pulse, sun, a * (s->moon ? 60 : 100) / 256);
	lv_draw_glow(cv, x, y, 3.2f * r * pulse, 3.2f * r * pulse, sun, a * (s->moon ? 90 : 150) / 256);
	lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.55f)),
	                a * 250 / 256);
	if (s->moon) {
		/* a crescent: cover part of the disc with the glowing sky just beside it */
		int sx = (int)(x + 1.45f * r), sy = (int)(y - 0.15f * r);
		if (sx >= 0 && sy >= 0 && sx < s->w && sy < s->h) {
			size_t o = (size_t)sy * s->w + (size_t)sx;
			lv_px sky = { { cv->plane[0][o], cv->plane[1][o], cv->plane[2][o] } };
			lv_draw_ellipse(cv, x + 0.4f * r, y - 0.15f * r, r * 0.86f, r * 0.86f, sky, 240);
		}
	}
}

static void draw_clouds(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	static const float puffs[5][4] = {
		{ -1.2f, 0.10f, 0.75f, 0.42f }, { -0.45f, -0.22f, 0.85f, 0.6f }, { 0.35f, -0.3f, 0.9f, 0.68f },
		{ 1.1f, 0.02f, 0.7f, 0.42f },   { 0.0f, 0.18f, 1.75f, 0.38f },
	};
	float z, par, span = (float)s->w * 1.6f;
	int i, k;
	lv_scene_project(s, v, 0.06f, &z, &par);
	for (i = 0; i < s->n_clouds; i++) {
		const cloud *c = &s->clouds[i];
		float wx = fmodf(c->x + c->vx * v->t + (float)s->w * 0.3f, span);
		float x, y, sc = c->s * z, e[4 * 5];
		lv_px col = lv_canvas_color(cv, c->col), shade = lv_canvas_color(cv, c->shade);
		if (wx < 0)
			wx += span;
		wx -= (float)s->w * 0.3f;
		x = sx_of(s, v, 0.06f, wx);
		y = sy_of(s, v, 0.06f, c->y);
		for (k = 0; k < 5; k++) {
			e[4 * k] = x + puffs[k][0] * sc * c->flip;
			e[4 * k + 1] = y + puffs[k][1] * sc;
			e[4 * k + 2] = puffs[k][2] * sc;
			e[4 * k + 3] = puffs[k][3] * sc;
		}
		/* the shaded underside shows below the lit body */
		for (k = 0; k < 5; k++)
			e[4 * k + 1] += 0.12f * sc;
		lv_draw_blob(cv, e, 5, shade, c->alpha);
		for (k = 0; k < 5; k++)
			e[4 * k + 1] -= 0.12f * sc;
		lv_draw_blob(cv, e, 5, col, c->alpha);
	}
}

static void draw_beams(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	float x = sx_of(s, v, 0.03f, s->sun_x), y = sy_of(s, v, 0.03f, s->sun_y), len = 1.6f * (float)s->h;
	lv_px col = lv_canvas_color(cv, lv_rgb_mix(s->sun, lv_rgb_make(255, 255, 255), 0.3f));
	int i;
	for (i = 0; i < s->n_beams; i++) {
		float a = s->beam_ang[i] + 0.04f * sinf(0.35f * v->t + s->beam_phase[i]);
		float hw = s->beam_half[i] * (1.0f + 0.15f * sinf(0.5f * v->t + s->beam_phase[i]));
		float xy[6] = { x, y, x + len * cosf(a - hw), y + len * sinf(a - hw), x + len * cosf(a + hw),
			        y + len * sinf(a + hw) };
		lv_draw_poly(cv, xy, 3, col, s->beam_alpha);
	}
}

static void draw_layer(lv_scene *s, lv_canvas *cv, const lv_view *v, const layer *L)
{
	float z, par, x0 = -(float)s->w * 0.5f, ytop, ybot;
	int x, y;
	lv_scene_project(s, v, L->depth, &z, &par);
	for (x = 0; x < s->w; x++) {
		float wx = ((float)x + 0.5f - s->cx) / z + s->cx + v->pan_x * par;
		float fi = wx - x0, wy;
		int i;
		if (fi < 0)
			fi = 0;
		if (fi > (float)(s->nsamp - 2))
			fi = (float)(s->nsamp - 2);
		i = (int)fi;
		wy = L->hmap[i] + (L->hmap[i + 1] - L->hmap[i]) * (fi - (float)i);
		if (L->wave) {
			float ph = L->wk * wx + L->wspeed * v->t * 2.0f + L->wphase;
			wy += L->amp * (sinf(ph) + 0.45f * sinf(2.3f * ph - 1.7f * v->t + 1.0f));
		}
		s->top[x] = (int32_t)lrintf(((wy - s->cy - v->pan_y * par) * z + s->cy) * 256.0f);
	}
	ytop = ((L->base - L->amp * 1.5f - s->cy - v->pan_y * par) * z + s->cy);
	ybot = (float)s->h;
	for (y = 0; y < s->h; y++) {
		float u = ((float)y - ytop) / (ybot - ytop);
		s->rows[y] = lv_canvas_color(cv, lv_rgb_mix(L->top, L->bottom, u < 0 ? 0 : u > 1 ? 1 : u));
	}
	lv_draw_layer(cv, s->top, s->rows, s->rows[0], 256);
	/* lit windows */
	for (x = L->win0; x < L->win1; x++) {
		const window *w = &s->wins[x];
		float ax = sx_of(s, v, L->depth, w->x), ay = sy_of(s, v, L->depth, w->y);
		float bx = sx_of(s, v, L->depth, w->x + w->w), by = sy_of(s, v, L->depth, w->y + w->h);
		if (bx < 0 || ax > (float)s->w || by < 0 || ay > (float)s->h)
			continue;
		lv_draw_rrect(cv, ax, ay, bx, by, 0.0f, lv_canvas_color(cv, w->col), w->alpha);
	}
}

static void draw_particles(lv_scene *s, lv_canvas *cv, const lv_view *v, const particle *ps, int n, int mode)
{
	int i;
	float m = 0.06f * s->U, spanx = (float)s->w + 2 * m, spany = (float)s->h + 2 * m;
	for (i = 0; i < n; i++) {
		const particle *p = &ps[i];
		float z, par, x, y, tw, r;
		lv_scene_project(s, v, p->depth, &z, &par);
		x = p->x + p->vx * v->t - v->pan_x * par + m;
		y = p->y + p->vy * v->t - v->pan_y * par + m;
		if (mode == PART_SNOW || mode == PART_FIREFLIES)
			x += 0.02f * s->U * sinf(v->t * p->freq + p->phase);
		if (mode == PART_FIREFLIES)
			y += 0.015f * s->U * sinf(v->t * p->freq * 0.7f + p->phase * 1.3f);
		x = fmodf(x, spanx);
		y = fmodf(y, spany);
		if (x < 0)
			x += spanx;
		if (y < 0)
			y += spany;
		x = (x - m - s->cx) * z + s->cx;
		y = (y - m - s->cy) * z + s->cy;
		r = p->r * z;
		tw = 0.65f + 0.35f * sinf(v->t * p->freq * 2.0f + p->phase);
		switch (mode) {
		case PART_SNOW:
			lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, p->col), p->alpha);
			break;
		case PART_BOKEH:
			lv_draw_ellipse(cv, x, y, r, r, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
			lv_draw_glow(cv, x, y, r * 1.6f, r * 1.6f, lv_canvas_color(cv, p->col), (int)((float)p->alpha * tw));
			break;
		default:
			lv_draw_glow(cv, x, y, r * 3.0f, r * 3.0f, lv_canvas_color(cv, p->col),
			             (int)((float)p->alpha * (mode == PART_MOTES ? 1.0f : tw)));
		}
	}
}

void lv_scene_draw_back(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	int i;
	draw_sky(s, cv, v);
	draw_stars(s, cv, v);
	if (s->has_sun)
		draw_light(s, cv, v);
	if (s->kind == K_STAGE)
		draw_particles(s, cv, v, s->back, s->n_back, PART_BOKEH);
	draw_clouds(s, cv, v);
	for (i = 0; i < s->n_layers; i++) {
		const layer *L = &s->layers[i];
		if (i == s->n_layers / 2 && s->n_beams)
			draw_beams(s, cv, v);
		if (i == s->n_layers / 2 && s->haze_alpha) {
			float y = sy_of(s, v, 0.4f, s->layers[i - 1 < 0 ? 0 : i - 1].base + 0.02f * (float)s->h);
			lv_draw_glow(cv, (float)s->w * 0.5f, y, (float)s->w * 0.9f, 0.09f * (float)s->h,
			             lv_canvas_color(cv, s->horizon), s->haze_alpha);
		}
		draw_layer(s, cv, v, L);
		if (s->kind == K_SEA && i == 1 && !s->moon) {
			/* the sun's path on the water */
			float x = sx_of(s, v, 0.2f, s->sun_x), y = sy_of(s, v, 0.2f, 0.69f * (float)s->h);
			lv_draw_glow(cv, x, y, 0.05f * s->U, 0.1f * (float)s->h, lv_canvas_color(cv, s->sun), 120);
		} else if (s->kind == K_SEA && i == 1) {
			float x = sx_of(s, v, 0.2f, s->sun_x), y = sy_of(s, v, 0.2f, 0.69f * (float)s->h);
			lv_draw_glow(cv, x, y, 0.03f * s->U, 0.09f * (float)s->h, lv_canvas_color(cv, s->sun), 70);
		}
	}
	if (s->kind == K_STAGE) {
		/* a pool of light on the floor */
		float y = sy_of(s, v, 0.9f, 0.86f * (float)s->h);
		lv_draw_glow(cv, sx_of(s, v, 0.9f, s->sun_x), y, 0.45f * s->U, 0.07f * (float)s->h,
		             lv_canvas_color(cv, s->sun), 70);
	}
}

void lv_scene_draw_front(lv_scene *s, lv_canvas *cv, const lv_view *v)
{
	draw_particles(s, cv, v, s->parts, s->n_parts, s->part_mode);
}
