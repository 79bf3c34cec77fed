/*
 * The local reference cards.  A character card is a stylised bust whose
 * colours follow the description, each colour given to the noun it describes
 * ("red coat", "black bob", "silver pendant", "蓝色外套"), or failing that the
 * seed; animals get ears and, without clothes, a furry body; robots a visor.
 * A character card carries no text (it appears inside the shots).
 * A style frame is the film's scenery at rest with its palette and title.
 * Both are deterministic for the same parameters.
 */
#include "media/local.h"
#include "media/draw.h"
#include "media/image.h"
#include "media/scene.h"
#include "media/text.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct named_color {
	const char *word;
	unsigned char r, g, b;
} named_color;

static const named_color colors[] = {
	{ "crimson", 170, 30, 50 },   { "scarlet", 220, 40, 40 },    { "burgundy", 120, 28, 48 },
	{ "maroon", 110, 30, 40 },    { "mustard", 205, 160, 40 },   { "beige", 220, 200, 165 },
	{ "\xe8\x97\x8f\xe9\x9d\x92", 30, 40, 90 } /* 藏青 (navy) */, { "red", 200, 50, 50 },
	{ "orange", 235, 130, 40 },   { "yellow", 240, 200, 60 },    { "golden", 220, 175, 70 },
	{ "gold", 220, 175, 70 },     { "blonde", 236, 206, 130 },   { "green", 60, 150, 80 },
	{ "teal", 40, 140, 140 },     { "cyan", 60, 190, 210 },      { "navy", 30, 40, 90 },
	{ "blue", 50, 90, 190 },      { "purple", 130, 60, 160 },    { "violet", 140, 90, 200 },
	{ "pink", 235, 130, 170 },    { "brown", 120, 75, 45 },      { "black", 30, 30, 35 },
	{ "white", 235, 235, 230 },   { "grey", 130, 130, 135 },     { "gray", 130, 130, 135 },
	{ "silver", 185, 190, 200 },  { "amber", 245, 170, 50 },    { "\xe7\xba\xa2", 200, 50, 50 } /* 红 */,
	{ "\xe6\xa9\x99", 235, 130, 40 } /* 橙 */, { "\xe6\xa9\x98", 235, 130, 40 } /* 橘 */, { "\xe9\xbb\x84", 240, 200, 60 } /* 黄 */,
	{ "\xe9\x87\x91", 220, 175, 70 } /* 金 */, { "\xe7\xbb\xbf", 60, 150, 80 } /* 绿 */,
	{ "\xe9\x9d\x92", 40, 140, 140 } /* 青 */, { "\xe8\x93\x9d", 50, 90, 190 } /* 蓝 */,
	{ "\xe7\xb4\xab", 130, 60, 160 } /* 紫 */, { "\xe7\xb2\x89", 235, 130, 170 } /* 粉 */,
	{ "\xe6\xa3\x95", 120, 75, 45 } /* 棕 */,  { "\xe8\xa4\x90", 120, 75, 45 } /* 褐 */,
	{ "\xe9\xbb\x91", 30, 30, 35 } /* 黑 */,   { "\xe7\x99\xbd", 235, 235, 230 } /* 白 */,
	{ "\xe7\x81\xb0", 130, 130, 135 } /* 灰 */, { "\xe9\x93\xb6", 185, 190, 200 } /* 银 */,
};

enum { EARS_NONE, EARS_POINTY, EARS_FLOPPY, EARS_LONG };
enum { HAIR_SHORT, HAIR_LONG, HAIR_BUN, HAIR_PONYTAIL, HAIR_NONE };

typedef struct look {
	lv_rgb bg_top, bg_bottom, glow;
	lv_rgb skin, hair, outfit, accent;
	int hair_style, ears, robot, hat, glasses, collar, beard;
	int animal, clothed; /* an animal; wearing clothes (else its body is fur) */
} look;

static int has_word(const char *lower, const char *w)
{
	const char *p = lower;
	size_t n = strlen(w);
	while ((p = strstr(p, w)) != NULL) {
		/* ASCII words must be whole words ("cat" in "scatter", "bear" in "beard", "bun" in "bunny" do not
		 * count, nor the first part of a compound, "hare-brained"), a plural "s" allowed */
		const char *e = p + n;
		if (*e == 's')
			e++;
		if ((unsigned char)w[0] >= 0x80 ||
		    ((p == lower || !(p[-1] >= 'a' && p[-1] <= 'z')) && !(*e >= 'a' && *e <= 'z') &&
		     !(*e == '-' && e[1] >= 'a' && e[1] <= 'z')))
			return 1;
		p += n;
	}
	return 0;
}

static int any_word(const char *lower, const char *const *words)
{
	for (; *words; words++)
		if (has_word(lower, *words))
			return 1;
	return 0;
}

/* What a colour word describes: the noun it stands before (a few words on, within its phrase). */
enum { PART_NONE, PART_HAIR, PART_FUR, PART_CLOTHES, PART_OTHER };

static int part_of(const char *after)
{
	static const char *const hair[] = { "hair", "bob", "braid", "ponytail", "curls", "locks", "mane", "bun",
		                            "beard", "\xe5\x8f\x91", "\xe9\xab\xae", NULL }; /* 发 髮 */
	static const char *const fur[] = { "fur", "pelt", "feathers", "\xe6\xaf\x9b", NULL }; /* 毛 */
	static const char *const clothes[] = { "coat", "jacket", "dress", "shirt", "sweater", "hoodie", "cloak",
		                               "robe", "scarf", "uniform", "overalls", "suit", "vest", "jumper",
		                               "raincoat", "gown", "skirt", "apron", "tunic", "kimono", "cape",
		                               "\xe5\xa4\x96\xe5\xa5\x97", "\xe8\xa1\xa3", "\xe8\xa3\x99", "\xe8\xa1\xab",
		                               "\xe8\xa2\x8d", NULL }; /* 外套 衣 裙 衫 袍 */
	static const char *const other[] = { "pendant", "necklace", "collar", "ring", "earring", "eyes", "eye", "glasses",
		                             "boots", "shoes", "hat", "cap", "bag", "umbrella", "lantern", "scarf",
		                             "\xe7\x9c\xbc", "\xe5\xb8\xbd", "\xe9\x9e\x8b", "\xe9\xa1\xb9\xe5\x9c\x88",
		                             NULL }; /* 眼 帽 鞋 项圈 */
	const char *const *lists[4] = { hair, fur, clothes, other };
	const char *p = after;
	int words = 0, k;
	/* look at up to three words (or six bytes of CJK) after the colour, stopping at the phrase's end */
	while (*p && words < 3) {
		if (*p == ',' || *p == '.' || *p == ';' || *p == ':' || !strncmp(p, "\xef\xbc\x8c", 3) ||
		    !strncmp(p, "\xe3\x80\x82", 3) || !strncmp(p, " and ", 5) || !strncmp(p, " with ", 6))
			return PART_NONE;
		while (*p == ' ' || *p == '-')
			p++;
		for (k = 0; k < 4; k++) {
			const char *const *w;
			for (w = lists[k]; *w; w++) {
				size_t n = strlen(*w);
				if (!strncmp(p, *w, n) && ((unsigned char)(*w)[0] >= 0x80 || !((p[n] >= 'a' && p[n] <= 'z') && p[n] != 's')))
					return PART_HAIR + k;
			}
		}
		if ((unsigned char)*p >= 0x80) {
			/* CJK: the noun follows within two characters (的 and the like) */
			if (p - after >= 9)
				return PART_NONE;
			p += 3;
			continue;
		}
		while (*p && *p != ' ' && *p != ',' && *p != '.' && *p != ';' && *p != '-' && (unsigned char)*p < 0x80)
			p++;
		words++;
	}
	return PART_NONE;
}

/* Colours named in the description, each given to what it describes: hair, fur, clothes (the first
 * is the outfit, the second the accent), accessories (the accent at most), or nothing named (used
 * only when the clothes have no colour). */
static void named_colors(const char *lower, lv_rgb *hair, int *have_hair, lv_rgb *fur, int *have_fur,
                         lv_rgb *found, int *n_found)
{
	lv_rgb loose[2], other = { 0, 0, 0 };
	int n_loose = 0, have_other = 0;
	size_t i, k;
	*have_hair = *have_fur = 0;
	*n_found = 0;
	for (i = 0; lower[i]; i++) {
		for (k = 0; k < sizeof(colors) / sizeof(colors[0]); k++) {
			size_t n = strlen(colors[k].word);
			lv_rgb c;
			int part;
			if (strncmp(lower + i, colors[k].word, n))
				continue;
			if ((unsigned char)colors[k].word[0] < 0x80 &&
			    ((i > 0 && lower[i - 1] >= 'a' && lower[i - 1] <= 'z') ||
			     (lower[i + n] >= 'a' && lower[i + n] <= 'z' && lower[i + n] != 'i')))
				continue;
			c = lv_rgb_make(colors[k].r, colors[k].g, colors[k].b);
			part = !strcmp(colors[k].word, "blonde") ? PART_HAIR : part_of(lower + i + n);
			if (part == PART_HAIR && !*have_hair) {
				*hair = c;
				*have_hair = 1;
			} else if (part == PART_FUR && !*have_fur) {
				*fur = c;
				*have_fur = 1;
			} else if (part == PART_CLOTHES && *n_found < 2) {
				found[(*n_found)++] = c;
			} else if (part == PART_OTHER && !have_other) {
				other = c;
				have_other = 1;
			} else if (part == PART_NONE && n_loose < 2) {
				loose[n_loose++] = c;
			}
			i += n - 1;
			break;
		}
	}
	for (k = 0; (int)k < n_loose && *n_found < 2; k++)
		found[(*n_found)++] = loose[k];
	if (have_other && *n_found == 1)
		found[(*n_found)++] = other;
}

/* Species words (whole words: "a grey beard" is no bear, "a bun" no bunny). */
static const char *const robot_w[] = { "robot", "android", "cyborg", "droid", "\xe6\x9c\xba\xe5\x99\xa8", NULL };
static const char *const cat_w[] = { "cat", "kitten", "fox", "wolf", "\xe7\x8c\xab", "\xe7\x8b\x90", "\xe7\x8b\xbc",
                                     NULL };
static const char *const dog_w[] = { "dog", "puppy", "bear", "\xe7\x8b\x97", "\xe7\x86\x8a", NULL };
static const char *const rabbit_w[] = { "rabbit", "bunny", "hare", "\xe5\x85\x94", NULL };

const char *lv_card_kind(const char *description)
{
	char *lower = lv_strdup(description ? description : "");
	const char *kind = "person";
	size_t i;
	if (!lower)
		return kind;
	for (i = 0; lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	if (any_word(lower, robot_w))
		kind = "robot";
	else if (any_word(lower, cat_w))
		kind = "cat";
	else if (any_word(lower, rabbit_w))
		kind = "rabbit";
	else if (any_word(lower, dog_w))
		kind = "dog";
	free(lower);
	return kind;
}

static void make_look(look *L, uint32_t seed, const char *description)
{
	static const float skins[6][3] = { { 250, 222, 200 }, { 236, 196, 160 }, { 214, 166, 124 },
		                           { 176, 124, 88 },  { 130, 88, 60 },   { 245, 210, 185 } };
	static const float hairs[6][3] = { { 40, 30, 28 },  { 90, 58, 36 },   { 24, 22, 30 },
		                           { 170, 110, 60 }, { 220, 190, 120 }, { 60, 40, 36 } };
	static const char *const hat_w[] = { "hat", "cap", "helmet", "\xe5\xb8\xbd", NULL };
	static const char *const beard_w[] = { "beard", "bearded", "\xe8\x83\xa1\xe5\xad\x90", "\xe8\x83\xa1\xe9\xa1\xbb",
		                               NULL }; /* 胡子 胡须 */
	static const char *const collar_w[] = { "collar", "\xe9\xa1\xb9\xe5\x9c\x88", NULL }; /* 项圈 */
	static const char *const glasses_w[] = { "glasses", "spectacles", "goggles", "\xe7\x9c\xbc\xe9\x95\x9c", NULL };
	static const char *const long_w[] = { "long hair", "braid", "\xe9\x95\xbf\xe5\x8f\x91", NULL };
	static const char *const short_w[] = { "short hair", "\xe7\x9f\xad\xe5\x8f\x91", NULL };
	static const char *const bald_w[] = { "bald", "shaved head", "\xe5\x85\x89\xe5\xa4\xb4", NULL };
	static const char *const pony_w[] = { "ponytail", "\xe9\xa9\xac\xe5\xb0\xbe", NULL };
	static const char *const bun_w[] = { "bun", "\xe5\x8f\x91\xe9\xab\xbb", NULL };
	static const char *const clothes_w[] = { "coat", "jacket", "dress", "shirt", "sweater", "hoodie", "cloak",
		                                 "robe", "scarf", "uniform", "overalls", "suit", "vest", "raincoat",
		                                 "\xe5\xa4\x96\xe5\xa5\x97", "\xe8\xa1\xa3", "\xe8\xa3\x99", NULL }; /* 外套 衣 裙 */
	static const char *const fem_w[] = { "she", "her", "woman", "girl", "lady", "queen", "princess", "mother",
		                             "\xe5\xa5\xb3", "\xe5\xa6\x88", NULL };
	char *lower = lv_strdup(description ? description : "");
	uint32_t h = lv_hash_mix(seed, lv_hash_str(description, 0));
	lv_rng r;
	lv_rgb found[2] = { { 0, 0, 0 }, { 0, 0, 0 } }, hair = { 0, 0, 0 }, fur = { 0, 0, 0 };
	int n_found = 0, have_hair = 0, have_fur = 0, i;
	float hue;
	lv_rng_seed(&r, h);
	for (i = 0; lower && lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	if (lower)
		named_colors(lower, &hair, &have_hair, &fur, &have_fur, found, &n_found);
	hue = lv_rng_range(&r, 0, 360);
	L->skin = lv_rgb_make(skins[h % 6][0], skins[h % 6][1], skins[h % 6][2]);
	L->hair = have_hair ? hair
	                    : lv_rgb_make(hairs[(h >> 8) % 6][0], hairs[(h >> 8) % 6][1], hairs[(h >> 8) % 6][2]);
	L->outfit = n_found > 0 ? found[0] : lv_rgb_hsv(hue, lv_rng_range(&r, 0.45f, 0.7f), lv_rng_range(&r, 0.55f, 0.8f));
	L->accent = n_found > 1 ? found[1] : lv_rgb_hsv(hue + 150.0f, 0.5f, 0.9f);
	/* the background complements the outfit */
	{
		float bh = hue + 180.0f + lv_rng_range(&r, -30, 30);
		L->bg_top = lv_rgb_hsv(bh, 0.35f, 0.42f);
		L->bg_bottom = lv_rgb_hsv(bh + 25.0f, 0.5f, 0.14f);
		L->glow = lv_rgb_hsv(bh - 10.0f, 0.25f, 0.95f);
	}
	L->robot = lower && any_word(lower, robot_w);
	L->ears = EARS_NONE;
	if (lower && any_word(lower, cat_w))
		L->ears = EARS_POINTY;
	else if (lower && any_word(lower, rabbit_w))
		L->ears = EARS_LONG;
	else if (lower && any_word(lower, dog_w))
		L->ears = EARS_FLOPPY;
	L->animal = L->ears != EARS_NONE;
	L->clothed = !L->animal || (lower && any_word(lower, clothes_w));
	if (L->animal && have_fur) {
		have_hair = 1;
		hair = fur;
	} else if (L->animal && !L->clothed && n_found > 0 && !have_hair) {
		/* an animal without clothes: the colour named is its fur's */
		have_hair = 1;
		hair = found[0];
	}
	if (L->ears != EARS_NONE) {
		/* fur instead of skin */
		L->skin = have_hair ? hair : lv_rgb_make(hairs[(h >> 8) % 6][0] * 0.5f + 110.0f,
		                                         hairs[(h >> 8) % 6][1] * 0.5f + 90.0f,
		                                         hairs[(h >> 8) % 6][2] * 0.5f + 70.0f);
		L->hair = lv_rgb_scale(L->skin, 0.8f);
	}
	if (L->robot) {
		/* the head in the body's colour (a silver or a white robot), else brushed metal */
		L->skin = n_found > 0 ? lv_rgb_mix(found[0], lv_rgb_make(178, 186, 198), 0.1f) : lv_rgb_make(178, 186, 198);
		L->hair = lv_rgb_scale(L->skin, 0.7f);
	}
	L->collar = lower && any_word(lower, collar_w);
	L->beard = lower && !L->robot && L->ears == EARS_NONE && any_word(lower, beard_w);
	L->hat = lower && any_word(lower, hat_w);
	L->glasses = lower && any_word(lower, glasses_w);
	if (lower && any_word(lower, bald_w))
		L->hair_style = HAIR_NONE;
	else if (lower && any_word(lower, pony_w))
		L->hair_style = HAIR_PONYTAIL;
	else if (lower && any_word(lower, bun_w))
		L->hair_style = HAIR_BUN;
	else if (lower && (any_word(lower, long_w) || (has_word(lower, "long") && has_word(lower, "hair"))))
		L->hair_style = HAIR_LONG;
	else if (lower && (any_word(lower, short_w) || (has_word(lower, "short") && has_word(lower, "hair"))))
		L->hair_style = HAIR_SHORT;
	else if (lower && any_word(lower, fem_w))
		L->hair_style = (h >> 16) % 3 ? HAIR_LONG : HAIR_BUN;
	else
		L->hair_style = (h >> 16) % 4 ? HAIR_SHORT : HAIR_PONYTAIL;
	free(lower);
}

static void draw_character(lv_canvas *cv, const look *L, float band_top)
{
	float W = (float)cv->w, H = (float)cv->h, S = fminf(W, H), cx = W * 0.5f;
	float hc = band_top * 0.47f, hrx = 0.125f * S, hry = 0.15f * S;
	lv_px skin = lv_canvas_color(cv, L->skin), skin_dark = lv_canvas_color(cv, lv_rgb_scale(L->skin, 0.8f));
	lv_px hair = lv_canvas_color(cv, L->hair), outfit = lv_canvas_color(cv, L->outfit);
	lv_px accent = lv_canvas_color(cv, L->accent), rim = lv_canvas_color(cv, L->glow);
	lv_px dark = lv_canvas_color(cv, lv_rgb_make(28, 24, 30)), white = lv_canvas_color(cv, lv_rgb_make(255, 255, 255));
	float torso_y = hc + 0.36f * S;
	float body[3 * 4] = { cx, torso_y + 0.12f * S, 0.34f * S, 0.26f * S,  /* shoulders */
		              cx, torso_y + 0.4f * S, 0.37f * S, 0.3f * S,    /* chest */
		              cx, torso_y - 0.02f * S, 0.16f * S, 0.09f * S }; /* upper chest */
	float rimmed[3 * 4];
	int i;

	/* hair that falls behind the shoulders */
	if (L->hair_style == HAIR_LONG && !L->robot && L->ears == EARS_NONE)
		lv_draw_rrect(cv, cx - hrx * 1.22f, hc - hry * 0.6f, cx + hrx * 1.22f, hc + 0.3f * S, 0.1f * S, hair, 256);
	if (L->hair_style == HAIR_PONYTAIL && !L->robot && L->ears == EARS_NONE)
		lv_draw_ellipse(cv, cx + hrx * 1.05f, hc + 0.02f * S, 0.05f * S, 0.13f * S, hair, 256);

	/* the body with a rim of light */
	for (i = 0; i < 12; i++)
		rimmed[i] = body[i] * ((i % 4) >= 2 ? 1.04f : 1.0f);
	for (i = 0; i < 3; i++)
		rimmed[4 * i + 1] -= 0.01f * S;
	lv_draw_blob(cv, rimmed, 3, rim, 110);
	if (L->animal && !L->clothed) {
		/* a furry body with a lighter chest, and a tail */
		float tail[8] = { cx + 0.3f * S, torso_y + 0.2f * S, 0.05f * S, 0.16f * S,
			          cx + 0.34f * S, torso_y + 0.05f * S, 0.04f * S, 0.06f * S };
		lv_draw_blob(cv, tail, 2, skin_dark, 256);
		lv_draw_blob(cv, body, 3, skin, 256);
		lv_draw_ellipse(cv, cx, torso_y + 0.2f * S, 0.12f * S, 0.16f * S,
		                lv_canvas_color(cv, lv_rgb_mix(L->skin, lv_rgb_make(255, 255, 255), 0.45f)), 256);
		lv_draw_rrect(cv, cx - 0.06f * S, hc + hry * 0.5f, cx + 0.06f * S, torso_y + 0.02f * S, 0.03f * S, skin, 256);
	} else {
		lv_draw_blob(cv, body, 3, outfit, 256);
	}
	/* collar and neck */
	if (!(L->animal && !L->clothed)) {
		float v[6] = { cx - 0.085f * S, torso_y - 0.1f * S, cx + 0.085f * S, torso_y - 0.1f * S, cx, torso_y + 0.06f * S };
		float v2[6] = { cx - 0.12f * S, torso_y - 0.1f * S, cx + 0.12f * S, torso_y - 0.1f * S, cx, torso_y + 0.1f * S };
		lv_draw_poly(cv, v2, 3, accent, 256);
		lv_draw_poly(cv, v, 3, skin_dark, 256);
	}
	if (!(L->animal && !L->clothed)) /* (a furry body has its neck already) */
		lv_draw_rrect(cv, cx - 0.05f * S, hc + hry * 0.6f, cx + 0.05f * S, torso_y - 0.05f * S, 0.02f * S, skin_dark,
		              256);
	if (L->collar) {
		/* a collar in its colour (the accent), with a round tag */
		lv_draw_rrect(cv, cx - 0.075f * S, torso_y - 0.085f * S, cx + 0.075f * S, torso_y - 0.045f * S, 0.02f * S,
		              accent, 256);
		lv_draw_ellipse(cv, cx, torso_y - 0.025f * S, 0.022f * S, 0.022f * S,
		                lv_canvas_color(cv, lv_rgb_make(230, 200, 90)), 256);
	}

	/* ears behind the head */
	if (L->ears == EARS_POINTY) {
		for (i = -1; i <= 1; i += 2) {
			float e[6] = { cx + (float)i * 0.03f * S, hc - hry * 0.8f, cx + (float)i * 0.135f * S, hc - hry * 1.55f,
				       cx + (float)i * 0.125f * S, hc - hry * 0.35f };
			lv_draw_poly(cv, e, 3, skin_dark, 256);
		}
	} else if (L->ears == EARS_LONG) {
		for (i = -1; i <= 1; i += 2)
			lv_draw_ellipse(cv, cx + (float)i * 0.055f * S, hc - hry * 1.55f, 0.035f * S, 0.13f * S, skin_dark, 256);
	} else if (L->ears == EARS_NONE && !L->robot) {
		for (i = -1; i <= 1; i += 2)
			lv_draw_ellipse(cv, cx + (float)i * hrx, hc + 0.01f * S, 0.022f * S, 0.032f * S, skin_dark, 256);
	}

	/* the head */
	if (L->robot) {
		lv_draw_rrect(cv, cx - hrx * 1.1f, hc - hry, cx + hrx * 1.1f, hc + hry, 0.05f * S, skin, 256);
		lv_draw_rrect(cv, cx - hrx * 0.85f, hc - 0.035f * S, cx + hrx * 0.85f, hc + 0.045f * S, 0.03f * S, dark,
		              256);
		for (i = -1; i <= 1; i += 2) {
			lv_draw_glow(cv, cx + (float)i * 0.045f * S, hc + 0.005f * S, 0.04f * S, 0.03f * S, accent, 220);
			lv_draw_ellipse(cv, cx + (float)i * 0.045f * S, hc + 0.005f * S, 0.017f * S, 0.012f * S, white, 230);
		}
		lv_draw_rrect(cv, cx - 0.006f * S, hc - hry - 0.07f * S, cx + 0.006f * S, hc - hry, 0.003f * S, hair, 256);
		lv_draw_ellipse(cv, cx, hc - hry - 0.075f * S, 0.018f * S, 0.018f * S, accent, 256);
		return;
	}
	lv_draw_ellipse(cv, cx, hc, hrx, hry, skin, 256);
	if (L->ears == EARS_FLOPPY) {
		for (i = -1; i <= 1; i += 2)
			lv_draw_ellipse(cv, cx + (float)i * hrx * 0.98f, hc - 0.005f * S, 0.045f * S, 0.11f * S, hair, 256);
	}
	/* face */
	for (i = -1; i <= 1; i += 2) {
		float ex = cx + (float)i * 0.047f * S, ey = hc + 0.025f * S;
		lv_draw_ellipse(cv, ex, ey, 0.014f * S, 0.019f * S, dark, 250);
		lv_draw_ellipse(cv, ex + 0.004f * S, ey - 0.006f * S, 0.0045f * S, 0.0045f * S, white, 240);
		lv_draw_glow(cv, cx + (float)i * 0.075f * S, hc + 0.075f * S, 0.035f * S, 0.022f * S,
		             lv_canvas_color(cv, lv_rgb_make(240, 120, 130)), 70);
		if (L->glasses) {
			lv_draw_ellipse(cv, ex, ey, 0.034f * S, 0.03f * S, dark, 230);
			lv_draw_ellipse(cv, ex, ey, 0.027f * S, 0.023f * S, skin, 256);
			lv_draw_ellipse(cv, ex, ey, 0.014f * S, 0.019f * S, dark, 250);
		}
	}
	if (L->glasses)
		lv_draw_rrect(cv, cx - 0.015f * S, hc + 0.017f * S, cx + 0.015f * S, hc + 0.023f * S, 0, dark, 230);
	lv_draw_ellipse(cv, cx, hc + 0.095f * S, 0.02f * S, 0.007f * S, skin_dark, 220);
	if (L->beard) {
		/* a beard in the hair's colour round the chin, the mouth a line in it */
		float b[4 * 3] = { cx, hc + 0.135f * S, 0.075f * S, 0.05f * S, cx - 0.085f * S, hc + 0.1f * S, 0.03f * S,
			           0.04f * S, cx + 0.085f * S, hc + 0.1f * S, 0.03f * S, 0.04f * S };
		lv_draw_blob(cv, b, 3, hair, 256);
		lv_draw_ellipse(cv, cx, hc + 0.1f * S, 0.03f * S, 0.008f * S, hair, 256);
		lv_draw_ellipse(cv, cx, hc + 0.115f * S, 0.018f * S, 0.005f * S, dark, 150);
	}
	if (L->ears == EARS_POINTY || L->ears == EARS_FLOPPY || L->ears == EARS_LONG)
		lv_draw_ellipse(cv, cx, hc + 0.06f * S, 0.014f * S, 0.01f * S, dark, 240); /* a nose */

	/* hair on top */
	if (L->ears == EARS_NONE && L->hair_style != HAIR_NONE) {
		float top[4 * 4] = { cx, hc - hry * 0.5f, hrx * 1.1f, hry * 0.58f,
			             cx - hrx * 0.88f, hc - hry * 0.05f, hrx * 0.26f, hry * 0.5f,
			             cx + hrx * 0.88f, hc - hry * 0.05f, hrx * 0.26f, hry * 0.5f,
			             cx - hrx * 0.3f, hc - hry * 0.3f, hrx * 0.55f, hry * 0.32f };
		lv_draw_blob(cv, top, 4, hair, 256);
		if (L->hair_style == HAIR_BUN)
			lv_draw_ellipse(cv, cx, hc - hry * 1.12f, 0.065f * S, 0.055f * S, hair, 256);
	}
	if (L->hat) {
		lv_draw_ellipse(cv, cx, hc - hry * 0.55f, hrx * 1.75f, 0.03f * S, accent, 256);
		lv_draw_rrect(cv, cx - hrx * 0.95f, hc - hry * 1.35f, cx + hrx * 0.95f, hc - hry * 0.55f, 0.04f * S, accent,
		              256);
		lv_draw_rrect(cv, cx - hrx * 0.95f, hc - hry * 0.78f, cx + hrx * 0.95f, hc - hry * 0.62f, 0,
		              lv_canvas_color(cv, lv_rgb_scale(L->accent, 0.6f)), 256);
	}
}

static void gradient(lv_canvas *cv, lv_rgb top, lv_rgb bottom, lv_px *rows)
{
	int y;
	for (y = 0; y < cv->h; y++)
		rows[y] = lv_canvas_color(cv, lv_rgb_mix(top, bottom, (float)y / (float)(cv->h - 1)));
	lv_draw_rows(cv, rows);
}

/* A band at the bottom with the text centred; returns the band's top. */
static int title_band(lv_canvas *cv, const char *text, const char *font, float size_k, int max_lines, int *band_top)
{
	float S = fminf((float)cv->w, (float)cv->h);
	int fpx = (int)lrintf(size_k * S), err, bh, y0;
	lv_text_mask m = { 0 };
	*band_top = cv->h;
	if (fpx < 10)
		fpx = 10;
	if (!text || !*text)
		return LV_OK;
	err = lv_text_render(&m, text, font, fpx, fpx * 2 / 3, (int)(0.86f * (float)cv->w), max_lines);
	if (err || !m.w) {
		lv_text_mask_free(&m);
		return err;
	}
	bh = m.h + (int)(1.2f * (float)m.font_px);
	y0 = cv->h - bh;
	lv_draw_rrect(cv, 0, (float)y0, (float)cv->w, (float)cv->h, 0, lv_canvas_color(cv, lv_rgb_make(8, 8, 14)), 150);
	lv_draw_mask(cv, (cv->w - m.w) / 2 + 1, y0 + (bh - m.h) / 2 + 1, m.data, m.w, m.h, m.w,
	             lv_canvas_color(cv, lv_rgb_make(0, 0, 0)), 160);
	lv_draw_mask(cv, (cv->w - m.w) / 2, y0 + (bh - m.h) / 2, m.data, m.w, m.h, m.w,
	             lv_canvas_color(cv, lv_rgb_make(250, 248, 242)), 256);
	*band_top = y0;
	lv_text_mask_free(&m);
	return LV_OK;
}

static int character_card(lv_canvas *cv, const lv_card_params *p, const char *font, lv_px *rows)
{
	look L;
	lv_rng r;
	float S = fminf((float)cv->w, (float)cv->h);
	int i, band_top;
	make_look(&L, p->seed, p->description);
	lv_rng_seed(&r, lv_hash_mix(p->seed, lv_hash_str(p->title, 0)));
	gradient(cv, L.bg_top, L.bg_bottom, rows);
	for (i = 0; i < 7; i++) {
		float x = lv_rng_range(&r, 0, (float)cv->w), y = lv_rng_range(&r, 0, (float)cv->h * 0.8f);
		float rad = lv_rng_range(&r, 0.04f, 0.14f) * S;
		lv_draw_ellipse(cv, x, y, rad, rad, lv_canvas_color(cv, L.glow), (int)lv_rng_range(&r, 10, 28));
	}
	/* measure the band first so that the figure fits above it, then draw it on top */
	band_top = (int)((float)cv->h * 0.86f);
	lv_draw_glow(cv, (float)cv->w * 0.5f, (float)cv->h * 0.4f, 0.55f * S, 0.55f * S, lv_canvas_color(cv, L.glow), 95);
	draw_character(cv, &L, (float)band_top * 1.08f);
	/* no name on the card: it stands in the shots, where no text is drawn */
	(void)font;
	return LV_OK;
}

static int style_frame(lv_canvas *cv, const lv_card_params *p, const char *font)
{
	lv_scene *scene = NULL;
	lv_view v = { 1.5f, 1.0f, 0.0f, 0.0f };
	lv_rgb pal[5];
	char *text;
	float S = fminf((float)cv->w, (float)cv->h), sw = 0.07f * S, gap = 0.02f * S, x;
	int err, i, band_top;
	text = lv_asprintf("%s %s", p->description ? p->description : "", p->title ? p->title : "");
	if (!text)
		return LV_ENOMEM;
	err = lv_scene_new(&scene, p->seed, text, cv->w, cv->h);
	free(text);
	if (err)
		return err;
	lv_scene_draw_back(scene, cv, &v);
	lv_scene_draw_front(scene, cv, &v);
	lv_scene_palette(scene, pal);
	lv_scene_free(scene);
	err = title_band(cv, p->title, font, 0.06f, 2, &band_top);
	if (err)
		return err;
	/* the palette as swatches above the band */
	x = ((float)cv->w - 5.0f * sw - 4.0f * gap) * 0.5f;
	for (i = 0; i < 5; i++, x += sw + gap) {
		float y = (float)band_top - sw - 0.04f * S;
		lv_draw_rrect(cv, x - 0.006f * S, y - 0.006f * S, x + sw + 0.006f * S, y + sw + 0.006f * S, 0.018f * S,
		              lv_canvas_color(cv, lv_rgb_make(250, 248, 242)), 220);
		lv_draw_rrect(cv, x, y, x + sw, y + sw, 0.013f * S, lv_canvas_color(cv, pal[i]), 256);
	}
	return LV_OK;
}

int lv_render_card(const lv_card_params *params, const char *out_png)
{
	lv_canvas cv = { 0 };
	lv_px *rows = NULL;
	uint8_t *rgb = NULL;
	char *font = NULL;
	int err;
	if (!params || !out_png || !*out_png)
		return lv_error_set(LV_EINVALID, "card: parameters and an output path are required");
	if (params->width < 32 || params->height < 32 || params->width > 4096 || params->height > 4096)
		return lv_error_set(LV_EINVALID, "%s: card size %dx%d is out of range", out_png, params->width,
		                    params->height);
	err = lv_canvas_init(&cv, params->width, params->height, 0);
	if (err)
		return err;
	if (params->style_frame) /* only the style frame draws text (its title) */
		font = lv_text_font(params->font_file, params->language, params->title);
	rows = lv_malloc(sizeof(lv_px) * (size_t)params->height);
	rgb = lv_malloc((size_t)params->width * (size_t)params->height * 3);
	if (!rows || !rgb) {
		err = LV_ENOMEM;
		goto done;
	}
	err = params->style_frame ? style_frame(&cv, params, font) : character_card(&cv, params, font, rows);
	if (err) {
		lv_error_prefix("%s", out_png);
		goto done;
	}
	lv_canvas_to_rgb24(&cv, rgb, params->width * 3);
	err = lv_png_save_rgb24(out_png, rgb, params->width, params->height, params->width * 3);
done:
	free(font);
	free(rgb);
	free(rows);
	lv_canvas_free(&cv);
	return err;
}
