/*
 * The built-in `local` script writer: one sentence in, a storyboard (SPEC §4) out, by rules.
 *
 * The prompt is analysed with the lexicon (places, time of day, weather, season, technique, mood,
 * characters).  The shots follow an arc — establishing, details and character moments,
 * development, a high point, resolution — each with its own camera move, a visual built from a
 * distinct detail of the scene (and, for time-lapse prompts, its own point in the day), and a
 * narration line chosen to fit the shot by lv_speech_estimate_seconds().
 *
 * Language: narration, titles and visuals are written in Chinese for "zh" (and "zh-*") and in
 * English for every other language (English phrasing is the fallback; the film still works, the
 * speech engine reads it with that language's voice).  Camera strings and the style line are
 * English for every language: they start with a move the local renderer parses and they are
 * written for image and video models.
 *
 * Determinism: every choice comes from a generator seeded with a hash of the prompt, the
 * language, the aspect ratio and the plan, so the same request gives byte-identical JSON.  A
 * retry (attempt > 0) is more conservative: narration is held to a smaller share of each shot
 * (85% of the budget first, then 65%, then 45%; less again when the feedback was about
 * narration), and from the third attempt at most three characters are kept.
 *
 * Plans longer than the 23 shots of a local 180 s film work too: details, camera pairs and
 * narration templates are finite, so very long plans number a reused detail ("beat 30"), a reused
 * camera pair ("take 121") and may leave a shot without narration rather than repeat a line.
 */
#include "longvideo/errors.h"
#include "model/storyboard.h"
#include "providers/local/lexicon.h"
#include "providers/local/local_rules.h"
#include "providers/local/text.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EN LV_LEX_EN
#define ZH LV_LEX_ZH
#define MAX_SHOTS 512
#define PROMPT_MAX_BYTES 16384
#define TOPIC_MAX_WORDS 16
#define TOPIC_MAX_CJK 40

/* ---- deterministic choices ----------------------------------------------------------------------------- */

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rng_below(rng *r, size_t n)
{
	return n ? (size_t)(rng_next(r) % n) : 0;
}

/* ---- the film being written ------------------------------------------------------------------------------ */

enum { R_ESTABLISH, R_DETAIL, R_INTRO, R_DEVELOP, R_CLIMAX, R_RESOLVE };

typedef struct fchar {
	char id[8];
	const char *name;  /* characters[].name */
	const char *ref;   /* narration, mid-sentence: "Lily", "the fisherman", "小红" */
	const char *vis;   /* visuals: "Lily in a red raincoat", "穿红色雨衣的小红" */
	const char *desc;
	const char *pron;  /* en object pronoun: her, him, them, it */
} fchar;

typedef struct shot_plan {
	int role;
	int phase;           /* day-cycle phase, or -1 */
	const lv_lex_detail *detail;
	size_t who[3];       /* indices into chars */
	size_t n_who;
	int intro;           /* R_INTRO: which character */
	int beat;            /* the detail is reused: number the visual */
	char camera[96];
} shot_plan;

typedef struct film {
	const lv_script_request *req;
	const char *language; /* as given, or the detected one */
	int L;
	lv_lex_facts f;
	rng r;
	double factor;        /* share of the narration budget a line may use */
	int oom;
	char **owned;
	size_t n_owned, cap_owned;

	char *text, *lower;   /* the normalised prompt */
	const char *topic;    /* the prompt's first clause, or NULL when not in the film's language */
	const char *subject;  /* who or what the narration talks about (never NULL) */
	const char *place;    /* the main place in L, or NULL */
	const char *where;    /* where things happen there: "by the sea" / "海边" */
	fchar chars[LV_LEX_MAX_CHARS];
	size_t n_chars;
	shot_plan *shots;
	size_t n;
	unsigned more_used;   /* second sentences used so far (each once) */
	uint32_t tmpl_used[6]; /* narration templates used so far, per shot role (LINES_MAX bits) */
	char **lines;         /* narration chosen so far */
	size_t n_lines;
} film;

static const char *keep(film *fm, char *s)
{
	if (!s) {
		fm->oom = 1;
		return NULL;
	}
	if (fm->n_owned == fm->cap_owned) {
		size_t cap = fm->cap_owned ? fm->cap_owned * 2 : 32;
		char **o = lv_realloc(fm->owned, cap * sizeof(*o));
		if (!o) {
			free(s);
			fm->oom = 1;
			return NULL;
		}
		fm->owned = o;
		fm->cap_owned = cap;
	}
	fm->owned[fm->n_owned++] = s;
	return s;
}

static const char *keep_buf(film *fm, lv_buf *b)
{
	if (!b->data && lv_buf_puts(b, ""))
		fm->oom = 1;
	return keep(fm, lv_buf_detach(b));
}

static void film_free(film *fm)
{
	size_t i;
	for (i = 0; i < fm->n_owned; i++)
		free(fm->owned[i]);
	free(fm->owned);
	free(fm->lines);
	free(fm->shots);
	free(fm->text);
	free(fm->lower);
}

/* ---- small text helpers -------------------------------------------------------------------------------------- */

/* Substitute {c} in a template. */
static char *subst_colour(const char *tmpl, const char *colour)
{
	lv_buf b = LV_BUF_INIT;
	const char *p = tmpl, *q;
	while ((q = strstr(p, "{c}")) != NULL) {
		if (lv_buf_put(&b, p, (size_t)(q - p)) || lv_buf_puts(&b, colour))
			goto fail;
		p = q + 3;
	}
	if (lv_buf_puts(&b, p))
		goto fail;
	/* "a orange" -> "an orange" */
	if (b.len > 2 && !strncmp(b.data, "a ", 2) && strchr("aeiou", b.data[2])) {
		char *s = lv_asprintf("an %s", b.data + 2);
		lv_buf_free(&b);
		return s;
	}
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* Append s with its first ASCII letter upper-cased. */
static int put_cap(lv_buf *b, const char *s)
{
	if (s[0] >= 'a' && s[0] <= 'z') {
		char c = (char)(s[0] - 'a' + 'A');
		return lv_buf_put(b, &c, 1) || lv_buf_puts(b, s + 1);
	}
	return lv_buf_puts(b, s);
}

static int has_cjk(const char *s)
{
	size_t cjk, latin;
	lv_ltext_scripts(s, &cjk, &latin);
	return cjk > 0;
}

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- topic, subject and title ------------------------------------------------------------------------------ */

/* Skip an instruction before the subject of an English prompt: "(please) make (me) a short
 * time-lapse video of ..." -> "...".  Only when the words really name a video. */
static size_t skip_en_instructions(const char *lower)
{
	static const char *const verbs[] = { "please ", "make ", "create ", "generate ", "film ", "shoot ", "render ",
		                             "show ", "give ", "me ", "i want ", "i'd like ", NULL };
	static const char *const openers[] = { "once upon a time, ", "once upon a time ", "long ago, ", NULL };
	const char *const *o;
	for (o = openers; *o; o++)
		if (starts_with(lower, *o))
			return strlen(*o);
	static const char *const media[] = { "video", "film", "clip", "movie", "animation", "footage", "short", NULL };
	static const char *const links[] = { " of ", " about ", " showing ", " where ", " in which ", " that shows ", ": ",
		                             NULL };
	size_t at = 0, words, k;
	int progressed = 1;
	while (progressed) {
		const char *const *v;
		progressed = 0;
		for (v = verbs; *v; v++)
			if (starts_with(lower + at, *v)) {
				at += strlen(*v);
				progressed = 1;
			}
	}
	if (starts_with(lower + at, "a "))
		at += 2;
	else if (starts_with(lower + at, "an "))
		at += 3;
	/* up to three words before the media noun ("short", "cinematic", "time-lapse") */
	for (words = 0; words <= 3; words++) {
		const char *const *m;
		for (m = media; *m; m++) {
			size_t ml = strlen(*m);
			if (starts_with(lower + at, *m)) {
				const char *const *l;
				size_t end = at + ml + (lower[at + ml] == 's');
				for (l = links; *l; l++)
					if (starts_with(lower + end, *l))
						return end + strlen(*l);
			}
		}
		for (k = at; lower[k] && lower[k] != ' '; k++)
			;
		if (!lower[k])
			break;
		at = k + 1;
	}
	return starts_with(lower, "please ") ? 7 : 0;
}

static size_t skip_zh_instructions(const char *s)
{
	static const char *const lead[] = { "请", "帮我", "给我", "生成", "制作", "拍摄", "创作", "一段", "一部", "一支",
		                            "一条", "关于", "很久很久以前，", "很久以前，", "从前，", "从前", NULL };
	size_t at = 0;
	int progressed = 1;
	while (progressed) {
		const char *const *p;
		progressed = 0;
		for (p = lead; *p; p++)
			if (starts_with(s + at, *p)) {
				at += strlen(*p);
				progressed = 1;
				break;
			}
		if (!progressed && (starts_with(s + at, "拍") || starts_with(s + at, "做")) &&
		    (starts_with(s + at + 3, "一段") || starts_with(s + at + 3, "一部") || starts_with(s + at + 3, "一个")))
			at += 3, progressed = 1;
	}
	return at;
}

/* The prompt's first clause without instructions, shortened: the topic a visual can quote. */
static char *make_topic(const film *fm)
{
	const char *s = fm->text;
	size_t start = fm->f.prompt_zh ? skip_zh_instructions(s) : skip_en_instructions(fm->lower);
	size_t i = start, words = 0, cjk = 0, end, last_comma = 0;
	int in_word = 0, at_limit = 0;
	unsigned cp;
	size_t k;
	while ((k = lv_ltext_decode(s + i, &cp)) > 0) {
		if (cp == '!' || cp == '?' || cp == ';' || cp == '\n' || cp == 0x3002 || cp == 0xff01 || cp == 0xff1f ||
		    cp == 0xff1b || (cp == '.' && (s[i + 1] == ' ' || !s[i + 1])))
			break;
		if (cp == ',' || cp == 0xff0c)
			last_comma = i;
		if (lv_ltext_is_cjk(cp)) {
			if (++cjk > TOPIC_MAX_CJK) {
				at_limit = 1;
				break;
			}
			in_word = 0;
		} else if (cp == ' ') {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			if (++words > TOPIC_MAX_WORDS) {
				at_limit = 1;
				break;
			}
		}
		i += k;
	}
	end = i;
	/* a clause too long for a topic ends at its last comma rather than mid-phrase */
	if (at_limit && last_comma > start)
		end = last_comma;
	/* trim trailing spaces, punctuation and Chinese "的视频"-style endings */
	for (;;) {
		static const char *const tails[] = { "的短视频", "的视频", "的短片", "的影片", "视频", "短片", "，", "、", "：",
			                             ",", ":", " ", "-", NULL };
		const char *const *t;
		int cut = 0;
		for (t = tails; *t; t++) {
			size_t tl = strlen(*t);
			if (end - start > tl && !strncmp(s + end - tl, *t, tl)) {
				end -= tl;
				cut = 1;
				break;
			}
		}
		if (!cut)
			break;
	}
	/* an English clause cut at the word limit should not end on "of", "the", "and"... (a whole
	 * clause keeps its last word: "a storm rolls in") */
	if (!fm->f.prompt_zh && at_limit) {
		static const char *const weak[] = { " of", " the", " a", " an", " and", " in", " on", " at", " with", " to",
			                            " for", " by", " from", " as", " or", " named", " called", " who",
			                            " that", " which", NULL };
		int cut = 1;
		while (cut) {
			const char *const *w;
			cut = 0;
			for (w = weak; *w; w++) {
				size_t wl = strlen(*w);
				if (end - start > wl && !strncmp(fm->lower + end - wl, *w, wl)) {
					end -= wl;
					cut = 1;
				}
			}
		}
	}
	return end > start ? lv_strndup(s + start, end - start) : NULL;
}

/* A short English noun phrase from the topic: "A cup of coffee being poured" -> "the cup". */
static char *en_short_subject(const char *topic)
{
	static const char *const stops[] = { "of", "in", "on", "at", "with", "and", "by", "under", "over", "through",
		                             "from", "into", "for", "to", "is", "are", "was", "while", "as", "that",
		                             "who", "which", "near", "across", "during", "being", "named", "called",
		                             NULL };
	static const char *const articles[] = { "a", "an", "the", "some", "one", NULL };
	lv_buf b = LV_BUF_INIT;
	const char *p = topic;
	int n = 0;
	if (lv_buf_puts(&b, "the"))
		goto fail;
	while (*p && n < 3) {
		const char *e = p;
		const char *const *w;
		size_t len;
		int stop = 0, art = 0;
		while (*e && *e != ' ')
			e++;
		len = (size_t)(e - p);
		for (w = stops; *w; w++)
			if (strlen(*w) == len && !strncasecmp(p, *w, len))
				stop = 1;
		for (w = articles; *w; w++)
			if (strlen(*w) == len && !strncasecmp(p, *w, len))
				art = 1;
		/* a capitalised word after the first is a name: the noun phrase ended before it */
		if (stop || (n && len > 4 && !strncmp(e - 3, "ing", 3)) || (n && *p >= 'A' && *p <= 'Z'))
			break;
		if (!(art && n == 0)) {
			size_t i;
			if (lv_buf_put(&b, " ", 1))
				goto fail;
			for (i = 0; i < len; i++) {
				char c = p[i];
				/* letters of any script (UTF-8 bytes >= 0x80) belong to the word: "pêcheur" */
				if (!lv_ltext_is_alnum((unsigned char)c) && c != '-' && c != '\'' && (unsigned char)c < 0x80)
					break;
				if (c >= 'A' && c <= 'Z' && n == 0 && i == 0 && p == topic)
					c = (char)(c - 'A' + 'a');
				if (lv_buf_put(&b, &c, 1))
					goto fail;
			}
			n++;
		}
		p = *e ? e + 1 : e;
	}
	if (!n) {
		lv_buf_free(&b);
		return NULL;
	}
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

/* A short Chinese subject from the topic: "樱花飘落的慢镜头" -> "樱花飘落". */
static char *zh_short_subject(const char *topic)
{
	static const char stop[] = "的在里中上和与，、。：";
	const char *p = topic;
	size_t n = 0, k;
	unsigned cp;
	static const char *const skip[] = { "一个", "一只", "一位", "一座", "一片", "一条", "一群", "在", NULL };
	const char *const *s;
	for (s = skip; *s; s++)
		if (starts_with(p, *s)) {
			p += strlen(*s);
			break;
		}
	topic = p;
	while ((k = lv_ltext_decode(p, &cp)) > 0 && n < 6) {
		char one[5] = { 0 };
		if (!lv_ltext_is_cjk(cp))
			break;
		memcpy(one, p, k);
		if (strstr(stop, one))
			break;
		p += k;
		n++;
	}
	return n >= 2 ? lv_strndup(topic, (size_t)(p - topic)) : NULL;
}

/* ---- characters ---------------------------------------------------------------------------------------- */

static const char *const colours[][2] = {
	{ "red", "红色" },          { "mustard-yellow", "芥末黄色" }, { "navy-blue", "藏青色" }, { "forest-green", "墨绿色" },
	{ "white", "白色" },        { "orange", "橙色" },             { "teal", "青绿色" },      { "burgundy", "酒红色" },
	{ "sky-blue", "天蓝色" },   { "charcoal-grey", "炭灰色" },
};
#define N_COLOURS (sizeof(colours) / sizeof(colours[0]))

static const char *const hair_f[][2] = { { "long brown hair tied back", "扎在脑后的棕色长发" },
	                                 { "a neat black bob", "整齐的黑色短发" },
	                                 { "a long black braid", "乌黑的长辫子" },
	                                 { "shoulder-length auburn hair", "及肩的红棕色头发" } };
static const char *const hair_m[][2] = { { "short black hair", "黑色短发" },
	                                 { "curly dark hair", "深色卷发" },
	                                 { "cropped sandy hair", "浅棕色的寸头" },
	                                 { "tousled brown hair", "蓬松的棕色头发" } };
static const char *const hair_u[][2] = { { "short black hair", "黑色短发" },
	                                 { "curly dark hair", "深色卷发" },
	                                 { "shoulder-length auburn hair", "及肩的红棕色头发" } };
static const char *const hair_old_f[][2] = { { "silver hair in a bun", "盘成发髻的银发" },
	                                     { "short white curls", "白色的短卷发" } };
static const char *const hair_old_m[][2] = { { "a short grey beard and thinning hair", "灰白的短胡子和稀疏的头发" },
	                                     { "neat silver hair", "整齐的银发" } };
static const char *const hair_old_u[][2] = { { "silver hair", "银白的头发" }, { "short white hair", "白色短发" } };
static const char *const accessories[][2] = { { "a knitted scarf", "围着一条针织围巾" },
	                                      { "a canvas backpack", "背着帆布双肩包" },
	                                      { "round glasses", "戴着圆框眼镜" },
	                                      { "a wool cap", "戴着毛线帽" },
	                                      { "a leather satchel", "挎着皮质挎包" },
	                                      { "a silver pendant", "戴着银色吊坠" } };
static const char *const furs[][2] = { { "golden", "金色" },       { "black-and-white", "黑白相间" },
	                               { "chestnut-brown", "栗色" }, { "silver-grey", "银灰色" },
	                               { "ginger", "橘色" },         { "snow-white", "雪白色" } };
static const char *const marks[][2] = { { "bright amber eyes", "一双明亮的琥珀色眼睛" },
	                                { "a white-tipped tail", "白色的尾巴尖" },
	                                { "a small notch in one ear", "一只耳朵上有个小缺口" },
	                                { "a star-shaped mark on its forehead", "额头上有一块星形斑纹" } };
static const char *const metals[][2] = { { "silver", "银色" },
	                                 { "brushed-copper", "拉丝铜色" },
	                                 { "matte-white", "哑光白色" },
	                                 { "sky-blue", "天蓝色" } };
static const char *const eyes[][2] = { { "cyan", "青色" }, { "amber", "琥珀色" }, { "soft green", "柔和绿色" } };

#define PICK(fm, table) (table)[rng_below(&(fm)->r, sizeof(table) / sizeof((table)[0]))]

static const char *human_noun(film *fm, const lv_lex_char *c, int L)
{
	static const char *const nouns[4][3][2] = {
		/* unknown, male, female */
		{ { "child", "孩子" }, { "boy", "男孩" }, { "girl", "女孩" } },
		{ { "young person", "年轻人" }, { "young man", "年轻男子" }, { "young woman", "年轻女子" } },
		{ { "person", "人" }, { "man", "男子" }, { "woman", "女子" } },
		{ { "elderly person", "老人" }, { "old man", "老爷爷" }, { "old woman", "老奶奶" } },
	};
	if (c->role && c->role->kind == LV_KIND_HUMAN) {
		if (c->age == LV_AGE_OLD && c->role->age != LV_AGE_OLD) /* "an old fisherman", "老渔夫" */
			return keep(fm, lv_asprintf(L == EN ? "old %s" : "老%s", c->role->noun[L]));
		if (c->age == LV_AGE_YOUNG && c->role->age != LV_AGE_YOUNG && c->role->age != LV_AGE_CHILD)
			return keep(fm, lv_asprintf(L == EN ? "young %s" : "年轻的%s", c->role->noun[L]));
		return c->role->noun[L];
	}
	return nouns[c->age][c->gender][L];
}

/* Narration reference for a CJK name in English, which must not carry CJK text. */
static const char *en_stand_in(const lv_lex_char *c)
{
	static const char *const refs[4][3] = {
		{ "the child", "the boy", "the girl" },
		{ "our friend", "the young man", "the young woman" },
		{ "our friend", "the man", "the woman" },
		{ "the elder", "the old man", "the old woman" },
	};
	if (c->role)
		return c->role->label[EN];
	if (c->kind == LV_KIND_ANIMAL)
		return "the animal";
	return refs[c->age][c->gender];
}

static void make_character(film *fm, const lv_lex_char *c, size_t index)
{
	fchar *fc = &fm->chars[fm->n_chars];
	int L = fm->L;
	lv_buf d = LV_BUF_INIT, v = LV_BUF_INIT;
	const char *given = c->name[0] ? c->name : NULL;
	const char *const *colour = PICK(fm, colours);
	memset(fc, 0, sizeof(*fc));
	snprintf(fc->id, sizeof(fc->id), "c%zu", index + 1);
	/* name: the given one, or the role ("The fisherman", "渔夫") */
	if (given) {
		fc->name = keep(fm, lv_strdup(given));
	} else {
		lv_buf nb = LV_BUF_INIT;
		if (put_cap(&nb, c->role->label[L]))
			fm->oom = 1;
		fc->name = keep_buf(fm, &nb);
	}
	if (given && (L == ZH || !has_cjk(given)))
		fc->ref = fc->name;
	else if (given)
		fc->ref = en_stand_in(c);
	else
		fc->ref = c->role->label[L];
	fc->pron = c->kind != LV_KIND_HUMAN ? "it" : c->gender == LV_GENDER_FEMALE ? "her"
	                                         : c->gender == LV_GENDER_MALE   ? "him"
	                                                                         : "them";
	if (c->kind == LV_KIND_HUMAN) {
		const char *const *hair, *const *acc = PICK(fm, accessories);
		const char *noun = human_noun(fm, c, L);
		const char *pp = c->gender == LV_GENDER_FEMALE ? "her" : c->gender == LV_GENDER_MALE ? "his" : "their";
		const char *gt;
		char *garment;
		int child_years = 6 + (int)rng_below(&fm->r, 5);
		if (c->age == LV_AGE_OLD)
			hair = c->gender == LV_GENDER_FEMALE ? PICK(fm, hair_old_f)
			       : c->gender == LV_GENDER_MALE ? PICK(fm, hair_old_m)
			                                     : PICK(fm, hair_old_u);
		else
			hair = c->gender == LV_GENDER_FEMALE ? PICK(fm, hair_f)
			       : c->gender == LV_GENDER_MALE ? PICK(fm, hair_m)
			                                     : PICK(fm, hair_u);
		gt = c->role && c->role->garment[L] ? c->role->garment[L]
		     : c->age == LV_AGE_CHILD       ? (L == EN ? "a {c} hoodie" : "{c}连帽衫")
		     : c->gender == LV_GENDER_FEMALE ? (L == EN ? "a {c} dress" : "{c}连衣裙")
		     : c->gender == LV_GENDER_MALE   ? (L == EN ? "a {c} jacket" : "{c}夹克")
		                                     : (L == EN ? "a {c} coat" : "{c}外套");
		garment = subst_colour(gt, colour[L]);
		if (!garment || !noun) {
			free(garment);
			fm->oom = 1;
			return;
		}
		if (L == EN) {
			static const char *const ages[4] = { NULL, "twenties", "forties", "seventies" };
			static const char *const years[] = { "six", "seven", "eight", "nine", "ten" };
			if (c->age == LV_AGE_CHILD)
				lv_buf_printf(&d, "%s %s of about %s", article(noun), noun, years[child_years - 6]);
			else
				lv_buf_printf(&d, "%s %s in %s %s", article(noun), noun, pp, ages[c->age]);
			if (d.data && d.data[0])
				d.data[0] = (char)(d.data[0] - 'a' + 'A');
			lv_buf_printf(&d, " with %s. Wears %s, plus %s. Same face, hair and clothes in every shot.", hair[EN],
			              garment, acc[EN]);
			lv_buf_printf(&v, "%s in %s", fc->ref, garment);
		} else {
			static const char *const ages[4] = { NULL, "二十多岁", "四十多岁", "七十多岁" };
			static const char *const digits[] = { "六", "七", "八", "九", "十" };
			if (c->age == LV_AGE_CHILD)
				lv_buf_printf(&d, "约%s岁的%s", digits[child_years - 6], noun);
			else
				lv_buf_printf(&d, "%s的%s", ages[c->age], noun);
			lv_buf_printf(&d, "，留着%s，身穿%s，%s。每个镜头中的样貌、发型和服装保持一致。", hair[ZH], garment,
			              acc[ZH]);
			lv_buf_printf(&v, "穿%s的%s", garment, fc->ref);
		}
		free(garment);
	} else if (c->kind == LV_KIND_ANIMAL) {
		const char *const *fur = PICK(fm, furs);
		const char *noun = c->role ? c->role->noun[L] : (L == EN ? "animal" : "动物");
		int pet = c->role && c->role->needs_context && strcmp(c->role->noun[EN], "bird") &&
		          strcmp(c->role->noun[EN], "dragon") && strcmp(c->role->noun[EN], "bear");
		const char *const *mark = PICK(fm, marks);
		if (L == EN) {
			char feature[96];
			if (pet)
				snprintf(feature, sizeof(feature), "%s %s collar", article(colour[EN]), colour[EN]);
			else
				snprintf(feature, sizeof(feature), "%s", mark[EN]);
			lv_buf_printf(&d, "A %s %s with %s. Same markings in every shot.", fur[EN], noun, feature);
			if (given && fc->ref == fc->name)
				lv_buf_printf(&v, "%s, the %s %s", fc->ref, fur[EN], noun);
			else
				lv_buf_printf(&v, "the %s %s", fur[EN], noun);
		} else {
			if (pet)
				lv_buf_printf(&d, "%s的%s，戴着%s项圈。每个镜头中的毛色和特征保持一致。", fur[ZH], noun, colour[ZH]);
			else
				lv_buf_printf(&d, "%s的%s，%s。每个镜头中的毛色和特征保持一致。", fur[ZH], noun, mark[ZH]);
			lv_buf_printf(&v, "%s的%s", fur[ZH], fc->ref);
		}
	} else {
		const char *const *metal = PICK(fm, metals), *const *eye = PICK(fm, eyes);
		if (L == EN) {
			lv_buf_printf(&d, "A compact robot with a %s body and round eyes glowing %s. Same shape and colours in "
			                  "every shot.",
			              metal[EN], eye[EN]);
			if (given && fc->ref == fc->name)
				lv_buf_printf(&v, "%s, the %s robot", fc->ref, metal[EN]);
			else
				lv_buf_printf(&v, "the %s robot", metal[EN]);
		} else {
			lv_buf_printf(&d, "%s外壳的小型机器人，圆圆的眼睛发出%s的光。每个镜头中的外形和颜色保持一致。", metal[ZH],
			              eye[ZH]);
			lv_buf_printf(&v, "%s外壳的%s", metal[ZH], fc->ref);
		}
	}
	fc->desc = keep_buf(fm, &d);
	fc->vis = keep_buf(fm, &v);
	if (!fm->oom)
		fm->n_chars++;
}

/* ---- the shot plan --------------------------------------------------------------------------------------- */

static const char *const moves[] = { "wide establishing", "slow push in", "pan left", "pan right", "tilt up",
	                             "tilt down", "orbit", "close-up", "pull out", "static" };
enum { M_WIDE, M_PUSH, M_PAN_L, M_PAN_R, M_TILT_U, M_TILT_D, M_ORBIT, M_CLOSE, M_PULL, M_STATIC, M_COUNT };
static const char *const framings[] = { "eye level",     "high angle",   "low angle",   "wide lens",
	                                "long lens",     "shallow focus", "handheld feel", "ground level",
	                                "drone height",  "macro lens",   "over-the-shoulder", "top-down" };
enum { F_EYE, F_HIGH, F_LOW, F_WIDE, F_LONG, F_SHALLOW, F_HANDHELD, F_GROUND, F_DRONE, F_MACRO, F_OTS, F_TOP, F_COUNT };

static void plan_roles(film *fm)
{
	size_t n = fm->n, i, climax = (size_t)-1, nc = fm->n_chars, introduced = 0, mid = 0;
	if (n >= 4)
		climax = n <= 6 ? n - 2 : (size_t)((double)(n - 1) * 0.75 + 0.5);
	for (i = 0; i < n; i++) {
		shot_plan *s = &fm->shots[i];
		s->intro = -1;
		if (i == 0)
			s->role = R_ESTABLISH;
		else if (i == n - 1)
			s->role = R_RESOLVE;
		else if (i == climax)
			s->role = R_CLIMAX;
		else if (introduced < nc) { /* the characters are introduced first, one shot each */
			s->role = R_INTRO;
			s->intro = (int)introduced++;
			mid++;
		} else {
			/* with characters: mostly their moments, a detail now and then; without: alternate */
			s->role = nc ? ((mid % 3 == 1) ? R_DETAIL : R_DEVELOP) : ((mid % 2 == 0) ? R_DETAIL : R_DEVELOP);
			mid++;
		}
	}
}

static void plan_cast(film *fm)
{
	size_t i, nc = fm->n_chars, dev = 0, k;
	for (i = 0; i < fm->n; i++) {
		shot_plan *s = &fm->shots[i];
		s->n_who = 0;
		if (!nc)
			continue;
		switch (s->role) {
		case R_ESTABLISH:
		case R_CLIMAX:
		case R_RESOLVE:
			for (k = 0; k < nc && k < 3; k++)
				s->who[s->n_who++] = k;
			break;
		case R_INTRO:
			s->who[s->n_who++] = (size_t)s->intro;
			break;
		case R_DEVELOP:
			s->who[s->n_who++] = dev % nc;
			if (nc >= 2 && dev % 3 == 2)
				s->who[s->n_who++] = (dev + 1) % nc;
			dev++;
			break;
		default:
			break;
		}
	}
}

static void plan_details(film *fm)
{
	const lv_lex_detail *spec[64], *gen[32];
	size_t ns = 0, ng, i, j, nd, rot, s_used = 0, g_used = 0;
	const lv_lex_detail *d;
	size_t s_take;
#define ADD(arr, cnt, ptr) \
	do { \
		if ((cnt) < sizeof(arr) / sizeof((arr)[0])) \
			(arr)[(cnt)++] = (ptr); \
	} while (0)
	if (fm->f.n_places) {
		const lv_lex_entry *e = fm->f.places[0];
		rot = rng_below(&fm->r, e->n_details);
		for (j = 0; j < e->n_details; j++)
			ADD(spec, ns, &e->details[(j + rot) % e->n_details]);
	}
	d = lv_lex_weather_details(fm->f.weather, &nd);
	for (j = 0; j < nd; j++)
		ADD(spec, ns, &d[j]);
	d = lv_lex_time_details(fm->f.time, &nd);
	for (j = 0; j < nd; j++)
		ADD(spec, ns, &d[j]);
	for (i = 1; i < fm->f.n_places; i++)
		for (j = 0; j < fm->f.places[i]->n_details; j++)
			ADD(spec, ns, &fm->f.places[i]->details[j]);
	d = lv_lex_season_details(fm->f.season, &nd);
	for (j = 0; j < nd; j++)
		ADD(spec, ns, &d[j]);
	d = lv_lex_generic_details(&nd);
	rot = rng_below(&fm->r, nd);
	for (ng = 0; ng < nd && ng < sizeof(gen) / sizeof(gen[0]); ng++)
		gen[ng] = &d[(ng + rot) % nd];
#undef ADD
	/* Specific details spread evenly over the film (the first shot gets one), generic ones fill in. */
	s_take = ns < fm->n ? ns : fm->n;
	for (i = 0; i < fm->n; i++) {
		int use_spec = s_take && (i == 0 || (i * s_take) / fm->n != ((i - 1) * s_take) / fm->n);
		if (use_spec && s_used < ns)
			fm->shots[i].detail = spec[s_used++];
		else if (g_used < ng)
			fm->shots[i].detail = gen[g_used++];
		else if (s_used < ns)
			fm->shots[i].detail = spec[s_used++];
		else /* a very long plan: details come round again, the visual is numbered */
			fm->shots[i].detail = gen[i % ng], fm->shots[i].beat = 1;
	}
}

/*
 * Light through the film: a time-lapse climbs through the day to the moment its time of day is
 * about (dawn: sunrise, at the high point) and goes on a little after it; a film with a time of
 * day moves one step towards that moment; a film without one has no phase.
 */
static void plan_light(film *fm)
{
	size_t i, n = fm->n, climax = n;
	int timelapse = (fm->f.tech & (1u << LV_TECH_TIMELAPSE)) != 0;
	int key = lv_lex_time_key_phase(fm->f.time), before, after;
	for (i = 0; i < n; i++)
		if (fm->shots[i].role == R_CLIMAX)
			climax = i;
	if (climax == n) /* no high point (short films): the key moment is at the end */
		climax = n - 1;
	if (timelapse) {
		/* a time of day named in the prompt stays that time of day: the light builds up to it and
		 * moves one step on (before dawn -> sunrise -> morning), never on to another part of the day */
		int named = key >= 0;
		before = named ? 2 : 4;
		if (!named)
			key = 6; /* day into night: the sunset at the high point */
		after = named ? (key + 1 <= LV_LEX_PHASES - 1 ? 1 : 0)
		              : (key + 2 <= LV_LEX_PHASES - 1 ? 2 : LV_LEX_PHASES - 1 - key);
	} else if (key >= 0) {
		before = 1;
		after = 0;
	} else {
		for (i = 0; i < n; i++)
			fm->shots[i].phase = -1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (i <= climax)
			fm->shots[i].phase = key - before + (climax ? (int)((i * (size_t)before + climax / 2) / climax) : before);
		else
			fm->shots[i].phase = key + (int)(((i - climax) * (size_t)after + (n - 1 - climax) / 2) / (n - 1 - climax));
	}
}

static void plan_cameras(film *fm)
{
	static const int prefs[6][6] = {
		[R_ESTABLISH] = { M_WIDE, M_PAN_R, M_TILT_D, -1 },
		[R_DETAIL] = { M_CLOSE, M_TILT_D, M_PUSH, M_STATIC, M_PAN_R, -1 },
		[R_INTRO] = { M_PUSH, M_CLOSE, M_PAN_L, M_STATIC, -1 },
		[R_DEVELOP] = { M_PAN_L, M_PAN_R, M_TILT_U, M_ORBIT, M_STATIC, M_TILT_D },
		[R_CLIMAX] = { M_ORBIT, M_TILT_U, M_PUSH, -1 },
		[R_RESOLVE] = { M_PULL, M_TILT_U, M_PAN_L, -1 },
	};
	static const int fprefs[6][4] = {
		[R_ESTABLISH] = { F_HIGH, F_WIDE, F_DRONE, -1 }, [R_DETAIL] = { F_SHALLOW, F_LONG, F_MACRO, -1 },
		[R_INTRO] = { F_EYE, F_LONG, F_OTS, -1 },         [R_DEVELOP] = { F_EYE, F_HANDHELD, F_GROUND, F_WIDE },
		[R_CLIMAX] = { F_LOW, F_WIDE, F_EYE, -1 },        [R_RESOLVE] = { F_HIGH, F_DRONE, F_WIDE, -1 },
	};
	unsigned char used[M_COUNT][F_COUNT];
	size_t count[6] = { 0 }, i;
	int prev = -1;
	int aerial = (fm->f.tech & (1u << LV_TECH_AERIAL)) != 0, macro = (fm->f.tech & (1u << LV_TECH_MACRO)) != 0;
	memset(used, 0, sizeof(used));
	for (i = 0; i < fm->n; i++) {
		shot_plan *s = &fm->shots[i];
		const int *mp = prefs[s->role];
		size_t np = 0, k, j;
		int move = -1, fr = -1;
		while (np < 6 && mp[np] >= 0)
			np++;
		/* the role's moves, rotated so repeated roles vary, then every move */
		for (k = 0; k < np + M_COUNT && move < 0; k++) {
			int m = k < np ? mp[(k + count[s->role]) % np] : (int)(k - np);
			if (m == prev || (m == M_WIDE && i != 0 && k < np + M_COUNT - 1 && s->role != R_ESTABLISH))
				continue;
			for (j = 0; j < F_COUNT; j++)
				if (!used[m][j])
					break;
			if (j < F_COUNT)
				move = m;
		}
		if (move < 0)
			move = M_STATIC;
		/* framing: the technique's, the role's, then any unused with this move */
		{
			int cand[2 + 4 + 2 * F_COUNT];
			size_t nc = 0;
			if (aerial && (s->role == R_ESTABLISH || s->role == R_RESOLVE || s->role == R_DEVELOP))
				cand[nc++] = F_DRONE;
			if (macro && s->role == R_DETAIL)
				cand[nc++] = F_MACRO;
			for (k = 0; k < 4 && fprefs[s->role][k] >= 0; k++)
				if ((fprefs[s->role][k] != F_DRONE || aerial || s->role == R_ESTABLISH) &&
				    (fprefs[s->role][k] != F_MACRO || macro))
					cand[nc++] = fprefs[s->role][k];
			for (k = 0; k < F_COUNT; k++)
				if ((k != F_DRONE || aerial) && (k != F_MACRO || macro) && (k != F_OTS || s->n_who))
					cand[nc++] = (int)k;
			for (k = 0; k < F_COUNT; k++)
				cand[nc++] = (int)k;
			for (k = 0; k < nc && fr < 0; k++)
				if (!used[move][cand[k]])
					fr = cand[k];
		}
		count[s->role]++;
		prev = move;
		if (fr < 0) /* every pair is taken (over a hundred shots): number the take */
			snprintf(s->camera, sizeof(s->camera), "%s, %s, take %zu", moves[move],
			         framings[i % F_COUNT], i + 1);
		else
			snprintf(s->camera, sizeof(s->camera), "%s, %s", moves[move], framings[fr]);
		if (fr >= 0)
			used[move][fr] = 1;
	}
}

/* The moment the high point shows: dramatic weather, else the light of its phase, else the time's. */
static const char *film_peak(const film *fm, const shot_plan *s, int L)
{
	int w = fm->f.weather;
	if (w >= 0 && w != LV_WEATHER_CLOUDY && w != LV_WEATHER_SUNNY)
		return lv_lex_peak(-1, w, L);
	if (s->phase >= 0)
		return lv_lex_phase_peak(s->phase, L);
	return lv_lex_peak(fm->f.time, w, L);
}

/* ---- visuals --------------------------------------------------------------------------------------------- */

static void put_refs(lv_buf *b, const film *fm, const shot_plan *s, int L, int vis, int cap)
{
	size_t k;
	for (k = 0; k < s->n_who; k++) {
		const fchar *c = &fm->chars[s->who[k]];
		const char *r = vis ? c->vis : c->ref;
		if (k)
			lv_buf_puts(b, k + 1 == s->n_who ? (L == EN ? " and " : "和") : (L == EN ? ", " : "、"));
		if (cap && k == 0 && L == EN)
			put_cap(b, r);
		else
			lv_buf_puts(b, r);
	}
}

static void visual_en(film *fm, lv_buf *b, const shot_plan *s, size_t i)
{
	const char *lead = s->phase >= 0 ? lv_lex_phase(s->phase, EN) : NULL;
	const char *P = fm->place ? fm->place : "the scene";
	const char *W = lv_lex_weather_phrase(fm->f.weather, EN);
	const char *D = s->detail->vis[EN];
	int plural = s->n_who > 1;
	switch (s->role) {
	case R_ESTABLISH:
		if (lead) {
			put_cap(b, lead);
			lv_buf_printf(b, ", a wide view of %s%s%s: %s.", P, W ? " " : "", W ? W : "", D);
		} else {
			lv_buf_printf(b, "A wide view of %s%s%s: %s.", P, W ? " " : "", W ? W : "", D);
		}
		if (s->n_who) {
			lv_buf_puts(b, " ");
			put_refs(b, fm, s, EN, 1, 1);
			lv_buf_printf(b, " %s small in the frame.", plural ? "are" : "is");
		}
		break;
	case R_DETAIL:
		if (lead)
			lv_buf_printf(b, "Close detail %s: %s%s%s.", lead, D, W ? ", " : "", W ? W : "");
		else
			lv_buf_printf(b, "Close detail %s: %s%s%s.", fm->where, D, W ? ", " : "", W ? W : "");
		break;
	case R_INTRO: {
		static const char *const acts[] = { "steps into view", "looks around", "pauses to take it all in",
			                            "walks slowly forward" };
		static const char *const animal_acts[] = { "comes into view", "looks around", "stops and sniffs the air",
			                                   "moves slowly forward" };
		const fchar *c = &fm->chars[s->who[0]];
		int animal = !strcmp(c->pron, "it");
		if (lead) {
			put_cap(b, lead);
			lv_buf_printf(b, ", %s", c->vis);
		} else {
			put_cap(b, c->vis);
		}
		lv_buf_printf(b, " %s %s, %s behind %s.", animal ? animal_acts[i % 4] : acts[i % 4], fm->where, D, c->pron);
		break;
	}
	case R_DEVELOP:
		if (s->n_who) {
			static const char *const one[] = { "moves past", "watches", "stops beside", "looks toward",
				                           "passes through" };
			static const char *const many[] = { "move past", "watch", "stop beside", "look toward", "pass through" };
			if (lead) {
				put_cap(b, lead);
				lv_buf_puts(b, ", ");
				put_refs(b, fm, s, EN, 1, 0);
			} else {
				put_refs(b, fm, s, EN, 1, 1);
			}
			lv_buf_printf(b, " %s %s %s.", plural ? many[i % 5] : one[i % 5], D, fm->where);
		} else {
			static const char *const then[] = { "Elsewhere", "Further on", "Meanwhile", "Nearby" };
			if (lead) {
				put_cap(b, lead);
				lv_buf_printf(b, ", %s %s%s%s.", D, fm->where, W ? ", " : "", W ? W : "");
			} else {
				lv_buf_printf(b, "%s %s: %s%s%s.", then[i % 4], fm->where, D, W ? ", " : "", W ? W : "");
			}
		}
		break;
	case R_CLIMAX: {
		const char *peak = film_peak(fm, s, EN);
		lv_buf_printf(b, "The high point%s%s: ", lead ? ", " : "", lead ? lead : "");
		if (peak)
			lv_buf_printf(b, "%s, with %s", peak, D);
		else
			lv_buf_puts(b, D);
		lv_buf_printf(b, "; %s at its most %s.", P, lv_lex_mood_adjective(fm->f.mood, EN));
		if (s->n_who) {
			lv_buf_puts(b, " ");
			put_refs(b, fm, s, EN, 0, 1);
			lv_buf_printf(b, " at the centre of it all.");
		}
		break;
	}
	default: /* R_RESOLVE */
		if (lead) {
			put_cap(b, lead);
			lv_buf_puts(b, ", the");
		} else {
			lv_buf_puts(b, "Finally, the");
		}
		lv_buf_printf(b, " view pulls back from %s%s%s: %s", P, W ? " " : "", W ? W : "", D);
		if (s->n_who) {
			lv_buf_puts(b, "; ");
			put_refs(b, fm, s, EN, 0, 0);
			lv_buf_printf(b, " small against it all");
		}
		lv_buf_puts(b, ".");
		break;
	}
}

static void visual_zh(film *fm, lv_buf *b, const shot_plan *s, size_t i)
{
	const char *lead = s->phase >= 0 ? lv_lex_phase(s->phase, ZH) : NULL;
	const char *P = fm->place;
	const char *W = lv_lex_weather_phrase(fm->f.weather, ZH);
	const char *D = s->detail->vis[ZH];
	switch (s->role) {
	case R_ESTABLISH:
		if (lead)
			lv_buf_printf(b, "%s，", lead);
		if (P)
			lv_buf_printf(b, "%s%s全景：%s。", W ? W : "", P, D);
		else
			lv_buf_printf(b, "远景：%s。", D);
		if (s->n_who) {
			lv_buf_puts(b, "画面中");
			put_refs(b, fm, s, ZH, 1, 0);
			lv_buf_puts(b, "的身影还很小。");
		}
		break;
	case R_DETAIL:
		if (lead)
			lv_buf_printf(b, "%s的特写：%s。", lead, D);
		else
			lv_buf_printf(b, "%s的细节特写：%s。", P ? P : "场景", D);
		break;
	case R_INTRO: {
		static const char *const acts[] = { "走进画面", "环顾四周", "停下脚步，静静看着", "慢慢向前走" };
		static const char *const animal_acts[] = { "走进画面", "四处张望", "停下来嗅了嗅", "慢慢向前走" };
		const fchar *c = &fm->chars[s->who[0]];
		int animal = !strcmp(c->pron, "it");
		if (lead)
			lv_buf_printf(b, "%s，", lead);
		lv_buf_printf(b, "%s出现在%s，%s，身后是%s。", c->vis, fm->where, animal ? animal_acts[i % 4] : acts[i % 4], D);
		break;
	}
	case R_DEVELOP:
		if (s->n_who) {
			static const char *const pre[] = { "经过", "注视着", "在", "望向", "穿过" };
			static const char *const post[] = { "", "", "旁停下脚步", "", "" };
			if (lead)
				lv_buf_printf(b, "%s，", lead);
			put_refs(b, fm, s, ZH, 1, 0);
			lv_buf_printf(b, "%s%s%s。", pre[i % 5], D, post[i % 5]);
		} else {
			static const char *const before[] = { "", "穿过", "", "" };
			static const char *const after[] = { "的另一处：", "：", "深处：", "的边缘：" };
			static const char *const then[] = { "画面一角：", "另一处：", "不远处：", "与此同时：" };
			if (lead)
				lv_buf_printf(b, "%s，", lead);
			if (P)
				lv_buf_printf(b, "%s%s%s", before[i % 4], P, after[i % 4]);
			else
				lv_buf_puts(b, then[i % 4]);
			lv_buf_printf(b, "%s%s。", W && !P ? W : "", D);
		}
		break;
	case R_CLIMAX: {
		const char *peak = film_peak(fm, s, ZH);
		lv_buf_puts(b, "高潮");
		if (lead)
			lv_buf_printf(b, "（%s）", lead);
		lv_buf_puts(b, "：");
		if (peak)
			lv_buf_printf(b, "%s，%s", peak, D);
		else
			lv_buf_puts(b, D);
		if (P)
			lv_buf_printf(b, "，此刻的%s最为%s。", P, lv_lex_mood_adjective(fm->f.mood, ZH));
		else
			lv_buf_printf(b, "，此刻最为%s。", lv_lex_mood_adjective(fm->f.mood, ZH));
		if (s->n_who) {
			put_refs(b, fm, s, ZH, 0, 0);
			lv_buf_puts(b, "置身其中。");
		}
		break;
	}
	default: /* R_RESOLVE */
		if (lead)
			lv_buf_printf(b, "%s，", lead);
		lv_buf_printf(b, "镜头从%s%s缓缓拉远：%s", W ? W : "", P ? P : "画面中", D);
		if (s->n_who) {
			lv_buf_puts(b, "，");
			put_refs(b, fm, s, ZH, 0, 0);
			lv_buf_puts(b, "的身影渐渐变小");
		}
		lv_buf_puts(b, "，画面归于平静。");
		break;
	}
}

static const char *make_visual(film *fm, size_t i)
{
	lv_buf b = LV_BUF_INIT;
	const shot_plan *s = &fm->shots[i];
	int quote = fm->topic && (s->role == R_ESTABLISH || s->role == R_CLIMAX || !fm->f.n_places);
	if (fm->L == ZH)
		visual_zh(fm, &b, s, i);
	else
		visual_en(fm, &b, s, i);
	if (quote)
		lv_buf_printf(&b, fm->L == ZH ? "场景：%s。" : " Scene: %s.", fm->topic);
	if (s->beat)
		lv_buf_printf(&b, fm->L == ZH ? "（第%zu拍）" : " (beat %zu)", i + 1);
	return keep_buf(fm, &b);
}

/* ---- narration ---------------------------------------------------------------------------------------------- */

/*
 * Templates: {S} subject, {N} first character in the shot (or the main one), {M} a second one,
 * {d} the shot's detail, {T} time of day, {p} the peak moment, {a} the mood adjective.  A '^'
 * after the letter capitalises it ("{S^}").  A template whose slot is missing is skipped.
 */
#define LINES_MAX 24

typedef struct tmpl {
	const char *text;
	unsigned when; /* W_* conditions */
} tmpl;

#define W_ANY 0u
#define W_TIMELAPSE 1u
#define W_MORNING 2u
#define W_EVENING 4u
#define W_NO_PLACE 8u

static const tmpl en_lines[6][LINES_MAX] = {
	[R_ESTABLISH] = { { "{T^}, {S} waits in silence.", 0 }, { "This is {S}, {T}.", 0 },
	                  { "This is the story of {N}.", W_NO_PLACE }, { "Our story begins in {S}.", 0 },
	                  { "Look closely at {S}.", 0 }, { "{S^}, as few have seen it.", 0 }, { "Here is {S}.", 0 },
	                  { "{S^}.", 0 } },
	[R_INTRO] = { { "And this is {N}, right where the story starts.", 0 }, { "{N^} has waited a long time for this.", 0 },
	              { "Meet {N}.", 0 }, { "This is {N}.", 0 }, { "{N^} is here.", 0 }, { "{N^}.", 0 } },
	[R_DETAIL] = { { "Look closer: {d}, and a rhythm all of its own.", 0 }, { "Small things matter here, like {d}.", 0 },
	               { "In the details: {d}.", 0 }, { "Notice {d}.", 0 }, { "Then, {d}.", 0 }, { "{d^}.", 0 } },
	[R_DEVELOP] = { { "Hours pass in seconds, and {S} keeps changing.", W_TIMELAPSE },
	                { "{N^} moves on, past {d}.", 0 },
	                { "{N^} and {M} share a glance.", 0 },
	                { "{N^} watches {d}.", 0 },
	                { "Minute by minute: {d}, then gone.", 0 },
	                { "Slowly, {S} changes.", 0 },
	                { "{N^} keeps going.", 0 },
	                { "Light and shadow trade places.", 0 },
	                { "Nothing here stays the same for long.", 0 },
	                { "Hours pass in seconds.", W_TIMELAPSE },
	                { "{d^}, again and again.", 0 },
	                { "Little by little, the scene shifts.", 0 },
	                { "The world keeps turning.", 0 },
	                { "{T^}, {S} goes on.", 0 },
	                { "On and on.", 0 },
	                { "{d^}.", 0 },
	                { "Still changing.", 0 },
	                { "Slowly.", 0 },
	                { "Onward.", 0 },
	                { "Look.", 0 } },
	[R_CLIMAX] = { { "This is the moment {S} was waiting for.", 0 }, { "And then, {p}.", 0 },
	               { "Now {S} is at its most {a}.", 0 }, { "{N^} finally sees it.", 0 },
	               { "Everything comes together.", 0 }, { "Here it is.", 0 }, { "Now.", 0 } },
	[R_RESOLVE] = { { "And so {S} wakes to a new day.", W_MORNING }, { "And so {S} settles into the night.", W_EVENING },
	                { "For {N}, this is only the beginning.", 0 }, { "{S^} will still be here tomorrow.", 0 },
	                { "And the story goes on.", 0 }, { "This was {S}.", 0 }, { "Until next time.", 0 },
	                { "The end.", 0 } },
};

static const tmpl zh_lines[6][LINES_MAX] = {
	[R_ESTABLISH] = { { "{T}，{S}静静地等待着。", 0 }, { "这是{T}的{S}。", 0 }, { "这是{N}的故事。", W_NO_PLACE },
	                  { "故事从{S}开始。", 0 }, { "仔细看看{S}。", 0 }, { "{S}，少有人见过的样子。", 0 },
	                  { "这里是{S}。", 0 }, { "{S}。", 0 } },
	[R_INTRO] = { { "这就是{N}，故事从这里开始。", 0 }, { "{N}已经等这一刻很久了。", 0 }, { "来认识一下{N}。", 0 },
	              { "这是{N}。", 0 }, { "{N}来了。", 0 }, { "{N}。", 0 } },
	[R_DETAIL] = { { "走近些，{d}各有各的节奏。", 0 }, { "细节里藏着故事，比如{d}。", 0 }, { "留意{d}。", 0 },
	               { "再看{d}。", 0 }, { "看那{d}。", 0 }, { "{d}。", 0 } },
	[R_DEVELOP] = { { "几个小时在几秒钟里流过，{S}不停变化。", W_TIMELAPSE },
	                { "{N}继续向前，经过{d}。", 0 },
	                { "{N}和{M}相视一笑。", 0 },
	                { "{N}静静看着{d}。", 0 },
	                { "一分一秒，{d}悄悄变化。", 0 },
	                { "{S}在慢慢改变。", 0 },
	                { "{N}没有停下脚步。", 0 },
	                { "光与影悄悄交换了位置。", 0 },
	                { "这里没有什么会一成不变。", 0 },
	                { "时光飞逝。", W_TIMELAPSE },
	                { "{d}，一遍又一遍。", 0 },
	                { "一点一点，画面在变化。", 0 },
	                { "世界依旧在转动。", 0 },
	                { "{T}的{S}，一切照常。", 0 },
	                { "继续。", 0 },
	                { "{d}。", 0 },
	                { "还在变。", 0 },
	                { "慢慢地。", 0 },
	                { "向前。", 0 },
	                { "看。", 0 } },
	[R_CLIMAX] = { { "这正是{S}等待的时刻。", 0 }, { "终于到了{p}。", 0 }, { "此刻的{S}最为{a}。", 0 },
	               { "{N}终于看到了。", 0 }, { "一切都汇聚在一起。", 0 }, { "就是现在。", 0 } },
	[R_RESOLVE] = { { "就这样，{S}迎来了新的一天。", W_MORNING }, { "就这样，{S}沉入了夜色。", W_EVENING },
	                { "对{N}来说，这只是开始。", 0 }, { "明天，{S}依然会在这里。", 0 }, { "故事还在继续。", 0 },
	                { "这就是{S}。", 0 }, { "下次再见。", 0 }, { "剧终。", 0 } },
};

/* A second sentence for a long shot whose line leaves most of it silent. */
static const char *const en_more[] = { "Everything here has its own rhythm.", "And everywhere, {d}.",
	                               "The light keeps changing.", "It all feels {a}.", "Time moves differently here.",
	                               "Listen closely.", "Take a breath.", NULL };
static const char *const zh_more[] = { "这里的一切都有自己的节奏。", "到处都是{d}。", "光线一直在变化。",
	                               "一切显得如此{a}。", "时间在这里走得不一样。", "仔细听。", "深呼吸。", NULL };

typedef struct slots {
	const char *v[128];
} slots;

/* Fill a template; NULL when a slot it needs is empty. */
static char *fill(const char *t, const slots *sl)
{
	lv_buf b = LV_BUF_INIT;
	const char *p = t;
	while (*p) {
		if (p[0] == '{' && p[1] && (p[2] == '}' || (p[2] == '^' && p[3] == '}'))) {
			const char *v = sl->v[(unsigned char)p[1] & 0x7f];
			int cap = p[2] == '^';
			if (!v || !*v) {
				lv_buf_free(&b);
				return NULL;
			}
			if (cap ? put_cap(&b, v) : lv_buf_puts(&b, v))
				goto fail;
			p += cap ? 4 : 3;
			continue;
		}
		if (lv_buf_put(&b, p, 1))
			goto fail;
		p++;
	}
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

/* Whether b repeats a word of a: an English word of five letters or more, or two Chinese
 * characters in a row ("节奏" in both lines reads as a stutter). */
static int shares_words(const char *a, const char *b)
{
	const char *p = b;
	while (*p) {
		unsigned cp, cp2;
		size_t k = lv_ltext_decode(p, &cp), k2;
		if (lv_ltext_is_cjk(cp) && (k2 = lv_ltext_decode(p + k, &cp2)) > 0 && lv_ltext_is_cjk(cp2)) {
			char two[9] = { 0 };
			memcpy(two, p, k + k2);
			if (strstr(a, two))
				return 1;
		} else if (lv_ltext_is_alnum((unsigned char)*p) && (p == b || !lv_ltext_is_alnum((unsigned char)p[-1]))) {
			size_t len = 0;
			while (lv_ltext_is_alnum((unsigned char)p[len]))
				len++;
			if (len >= 5) {
				const char *q;
				for (q = a; *q; q++)
					if (!strncasecmp(q, p, len) && (q == a || !lv_ltext_is_alnum((unsigned char)q[-1])) &&
					    !lv_ltext_is_alnum((unsigned char)q[len]))
						return 1;
			}
		}
		p += k;
	}
	return 0;
}

static int line_used(const film *fm, const char *s)
{
	size_t i;
	for (i = 0; i < fm->n_lines; i++)
		if (!strcmp(fm->lines[i], s))
			return 1;
	return 0;
}

static const char *make_narration(film *fm, size_t i, int seconds)
{
	const shot_plan *s = &fm->shots[i];
	const tmpl *list = fm->L == ZH ? zh_lines[s->role] : en_lines[s->role];
	unsigned have = 0;
	slots sl;
	double budget = lv_narration_budget(seconds), target = budget * fm->factor;
	char *cand[LINES_MAX];
	double est[LINES_MAX] = { 0 };
	size_t from[LINES_MAX] = { 0 };
	size_t nc = 0, k, pick = (size_t)-1;
	size_t good[LINES_MAX], ng = 0;
	int fresh, round;
	memset(&sl, 0, sizeof(sl));
	sl.v['S'] = fm->subject;
	sl.v['d'] = s->detail->noun[fm->L];
	sl.v['T'] = lv_lex_time_at(fm->f.time, fm->L);
	sl.v['p'] = film_peak(fm, s, fm->L);
	sl.v['a'] = lv_lex_mood_adjective(fm->f.mood, fm->L);
	if (s->n_who) {
		sl.v['N'] = fm->chars[s->who[0]].ref;
		if (s->n_who > 1)
			sl.v['M'] = fm->chars[s->who[1]].ref;
	} else if (fm->n_chars && (s->role == R_RESOLVE || s->role == R_CLIMAX)) {
		sl.v['N'] = fm->chars[0].ref;
	}
	if (fm->f.tech & (1u << LV_TECH_TIMELAPSE))
		have |= W_TIMELAPSE;
	if (fm->f.time == LV_TIME_DAWN || fm->f.time == LV_TIME_MORNING)
		have |= W_MORNING;
	if (fm->f.time == LV_TIME_DUSK || fm->f.time == LV_TIME_NIGHT)
		have |= W_EVENING;
	if (!fm->place && fm->n_chars)
		have |= W_NO_PLACE;
	for (k = 0; k < LINES_MAX && list[k].text; k++) {
		char *line;
		if ((list[k].when & have) != list[k].when)
			continue;
		line = fill(list[k].text, &sl);
		if (!line)
			continue;
		if (line_used(fm, line)) {
			free(line);
			continue;
		}
		est[nc] = lv_speech_estimate_seconds(line, fm->language);
		from[nc] = k;
		cand[nc++] = line;
	}
	/* From templates not used yet in this film, then from any: a substantial line (at least half
	 * the target) chosen by the seed, else the longest that fits the target. */
	for (fresh = 1; fresh >= 0 && pick == (size_t)-1; fresh--) {
		ng = 0;
		for (k = 0; k < nc; k++)
			if (est[k] <= target && (!fresh || !(fm->tmpl_used[s->role] & (1u << from[k])))) {
				if (est[k] >= target * 0.5)
					good[ng++] = k;
				else if (!ng && (pick == (size_t)-1 || est[k] > est[pick]))
					pick = k;
			}
		if (ng)
			pick = good[rng_below(&fm->r, ng)];
	}
	if (pick == (size_t)-1) /* nothing within the target share: the shortest that fits the budget */
		for (k = 0; k < nc; k++)
			if (est[k] <= budget && (pick == (size_t)-1 || est[k] < est[pick]))
				pick = k;
	for (k = 0; k < nc; k++)
		if (k != pick)
			free(cand[k]);
	if (pick == (size_t)-1)
		return "";
	for (round = 0; round < 2 && est[pick] < target * 0.7 && s->role != R_CLIMAX; round++) {
		/* room for another sentence (narration should fill most of the shot): the first
		 * supplement (from a seeded start) that fits */
		const char *const *more = fm->L == ZH ? zh_more : en_more;
		size_t nm = 0, start, before = strlen(cand[pick]);
		while (more[nm])
			nm++;
		start = rng_below(&fm->r, nm);
		for (k = 0; k < nm; k++) {
			char *extra, *both;
			if (strstr(more[(start + k) % nm], "{d") && strstr(cand[pick], sl.v['d']))
				continue; /* the detail is named already */
			extra = fill(more[(start + k) % nm], &sl);
			if (!extra)
				continue;
			both = lv_asprintf("%s%s%s", cand[pick], fm->L == ZH ? "" : " ", extra);
			if (!both) {
				free(extra);
				free(cand[pick]);
				fm->oom = 1;
				return NULL;
			}
			if (lv_speech_estimate_seconds(both, fm->language) <= target && !line_used(fm, both) &&
			    !shares_words(cand[pick], extra) &&
			    !(fm->more_used & (1u << ((start + k) % nm)))) {
				fm->more_used |= 1u << ((start + k) % nm);
				free(extra);
				free(cand[pick]);
				cand[pick] = both;
				est[pick] = lv_speech_estimate_seconds(both, fm->language);
				break;
			}
			free(extra);
			free(both);
		}
		if (strlen(cand[pick]) == before)
			break; /* nothing more fits */
	}
	fm->tmpl_used[s->role] |= 1u << from[pick];
	if (!keep(fm, cand[pick]))
		return NULL;
	fm->lines[fm->n_lines++] = cand[pick];
	return cand[pick];
}

/* ---- style, title -------------------------------------------------------------------------------------- */

static void add_part(lv_buf *b, const char *s)
{
	if (s)
		lv_buf_printf(b, "%s%s", b->len ? ", " : "", s);
}

static const char *make_style(film *fm)
{
	lv_buf b = LV_BUF_INIT;
	int t;
	const char *aspect = fm->req->aspect_ratio ? fm->req->aspect_ratio : "16:9";
	for (t = 0; t < LV_TECH_COUNT; t++)
		if (fm->f.tech & (1u << t))
			add_part(&b, lv_lex_tech_style(t));
	if (fm->f.tech & (1u << LV_TECH_TIMELAPSE))
		add_part(&b, fm->f.time >= 0 ? lv_lex_time_light(fm->f.time) : "light moving from day into night");
	else
		add_part(&b, lv_lex_time_light(fm->f.time));
	add_part(&b, lv_lex_weather_style(fm->f.weather));
	add_part(&b, lv_lex_season_style(fm->f.season));
	if (!(fm->f.tech & ((1u << LV_TECH_BW) | (1u << LV_TECH_INK))))
		add_part(&b, lv_lex_mood_palette(fm->f.mood));
	if (!(fm->f.tech & (1u << LV_TECH_CINEMATIC)))
		add_part(&b, "cinematic composition");
	if (!strcmp(aspect, "9:16"))
		add_part(&b, "vertical 9:16 framing");
	else if (!strcmp(aspect, "1:1"))
		add_part(&b, "square 1:1 framing");
	else
		add_part(&b, "widescreen 16:9 framing");
	return keep_buf(fm, &b);
}

/* The topic up to its first comma, if that is short enough for a title (8 words, 16 CJK characters). */
static char *short_clause(const char *topic)
{
	const char *p = topic;
	size_t words = 0, cjk = 0, k;
	unsigned cp;
	int in_word = 0;
	while ((k = lv_ltext_decode(p, &cp)) > 0) {
		if ((cp == ':' || cp == 0xff1a) && p[k] && words <= 3 && cjk <= 6) {
			/* "延时摄影：城市的夜晚", "Time-lapse: a city at night": the title is what follows */
			topic = p + k;
			while (*topic == ' ')
				topic++;
			p = topic;
			words = cjk = 0;
			in_word = 0;
			continue;
		}
		if ((cp == ',' || cp == 0xff0c || cp == 0x3001 || cp == ':' || cp == 0xff1a) && p > topic)
			break;
		if (lv_ltext_is_cjk(cp)) {
			if (++cjk > 16)
				return NULL;
		} else if (cp == ' ') {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			if (++words > 8)
				return NULL;
		}
		p += k;
	}
	while (p > topic && p[-1] == ' ')
		p--;
	if (words + cjk / 2 < 2) /* "Emma": too little for a title */
		return NULL;
	return p > topic ? lv_strndup(topic, (size_t)(p - topic)) : NULL;
}

static const char *make_title(film *fm)
{
	lv_buf b = LV_BUF_INIT;
	const char *T = lv_lex_time_label(fm->f.time, fm->L), *Tat = lv_lex_time_at(fm->f.time, fm->L);
	char *clause = fm->topic ? short_clause(fm->topic) : NULL;
	if (clause) {
		put_cap(&b, clause);
		free(clause);
	} else if (fm->n_chars) {
		size_t k, n = fm->n_chars < 2 ? fm->n_chars : 2;
		for (k = 0; k < n; k++) {
			if (k)
				lv_buf_puts(&b, fm->L == ZH ? "和" : " and ");
			if (k == 0)
				put_cap(&b, fm->chars[k].ref);
			else
				lv_buf_puts(&b, fm->chars[k].ref);
		}
		if (fm->place)
			lv_buf_printf(&b, fm->L == ZH ? "在%s" : " %s", fm->where);
	} else if (fm->place) {
		if (fm->L == ZH) {
			lv_buf_printf(&b, "%s%s%s", T ? T : "", T ? "的" : "", fm->place);
		} else {
			put_cap(&b, fm->place);
			if (Tat)
				lv_buf_printf(&b, " %s", Tat);
		}
	} else if (fm->topic) {
		/* a long topic, cut to 8 words or 16 CJK characters */
		const char *p = fm->topic;
		size_t words = 0, cjk = 0, k;
		unsigned cp;
		int in_word = 0;
		char *t;
		while ((k = lv_ltext_decode(p, &cp)) > 0) {
			if (lv_ltext_is_cjk(cp)) {
				if (++cjk > 16)
					break;
			} else if (cp == ' ') {
				in_word = 0;
				if (words >= 8)
					break;
			} else if (!in_word) {
				in_word = 1;
				words++;
			}
			p += k;
		}
		while (p > fm->topic && (p[-1] == ' ' || p[-1] == ','))
			p--;
		t = lv_strndup(fm->topic, (size_t)(p - fm->topic));
		if (t)
			put_cap(&b, t);
		else
			fm->oom = 1;
		free(t);
	}
	if (!b.len)
		lv_buf_puts(&b, fm->L == ZH ? "短片" : "A short film");
	return keep_buf(fm, &b);
}

/* ---- the storyboard ---------------------------------------------------------------------------------------- */

static int is_zh(const char *lang)
{
	return lang && (lang[0] == 'z' || lang[0] == 'Z') && (lang[1] == 'h' || lang[1] == 'H') &&
	       (!lang[2] || lang[2] == '-' || lang[2] == '_');
}

static uint64_t seed_of(const lv_script_request *req)
{
	lv_buf b = LV_BUF_INIT;
	unsigned char h[32];
	uint64_t s = 0;
	size_t i;
	lv_buf_printf(&b, "%s%c%s%c%s%c%d", req->prompt, 0, req->language ? req->language : "", 0,
	              req->aspect_ratio ? req->aspect_ratio : "", 0, req->duration);
	for (i = 0; i < req->n_shots; i++)
		lv_buf_printf(&b, ",%d", req->shot_seconds[i]);
	lv_sha256(h, b.data ? b.data : "", b.len);
	lv_buf_free(&b);
	for (i = 0; i < 8; i++)
		s = (s << 8) | h[i];
	return s;
}

static int analyse(film *fm, const lv_script_request *req)
{
	size_t i, max_chars;
	const unsigned flags = LV_LTEXT_FOLD_WIDTH | LV_LTEXT_KEEP_PUNCT | LV_LTEXT_DROP_ZW;
	fm->text = lv_ltext_normalize(req->prompt, PROMPT_MAX_BYTES, flags);
	fm->lower = lv_ltext_normalize(req->prompt, PROMPT_MAX_BYTES, flags | LV_LTEXT_LOWER);
	if (!fm->text || !fm->lower)
		return LV_ENOMEM;
	if (!fm->text[0])
		return lv_error_set(LV_EINVALID, "script: the prompt is empty");
	if (lv_lex_analyze(&fm->f, fm->text, fm->lower))
		return LV_ENOMEM;
	fm->language = req->language && req->language[0] ? req->language : (fm->f.prompt_zh ? "zh" : "en");
	fm->L = is_zh(fm->language) ? ZH : EN;
	fm->r.s = seed_of(req);
	fm->factor = req->attempt <= 0 ? 0.85 : req->attempt == 1 ? 0.65 : 0.45;
	if (req->attempt > 0 && req->feedback && strstr(req->feedback, "narration"))
		fm->factor *= 0.8; /* the last attempt's narration did not fit: leave more room */
	/* the topic is quoted only when it is written in the film's language */
	if (fm->f.prompt_zh == (fm->L == ZH)) {
		char *t = make_topic(fm);
		if (t && has_cjk(t) == (fm->L == ZH))
			fm->topic = keep(fm, t);
		else
			free(t);
	}
	fm->place = fm->f.n_places ? fm->f.places[0]->label[fm->L] : NULL;
	fm->where = lv_lex_where(fm->f.n_places ? fm->f.places[0] : NULL, fm->L);
	max_chars = req->attempt >= 2 ? 3 : LV_LEX_MAX_CHARS;
	for (i = 0; i < fm->f.n_chars && i < max_chars; i++)
		make_character(fm, &fm->f.chars[i], i);
	if (fm->place) {
		fm->subject = fm->place;
	} else if (fm->topic) {
		char *s = fm->L == ZH ? zh_short_subject(fm->topic) : en_short_subject(fm->topic);
		if (s)
			fm->subject = keep(fm, s);
	}
	if (!fm->subject && fm->n_chars)
		fm->subject = fm->chars[0].ref;
	if (!fm->subject)
		fm->subject = fm->L == ZH ? "这一幕" : "this scene";
	return fm->oom ? lv_error_nomem() : LV_OK;
}

static int check_request(const lv_script_request *req)
{
	size_t i;
	if (!req || !req->prompt)
		return lv_error_set(LV_EINVALID, "script: no prompt");
	if (!req->n_shots || req->n_shots > MAX_SHOTS || !req->shot_seconds)
		return lv_error_set(LV_EINVALID, "script: the plan must have 1 to %d shots", MAX_SHOTS);
	for (i = 0; i < req->n_shots; i++)
		if (req->shot_seconds[i] <= 0 || req->shot_seconds[i] > 3600)
			return lv_error_set(LV_EINVALID, "script: shot %zu has an invalid length (%d s)", i,
			                    req->shot_seconds[i]);
	return LV_OK;
}

static int build_json(film *fm, char **out)
{
	cJSON *root = cJSON_CreateObject(), *chars = NULL, *shots = NULL;
	const char *title = make_title(fm), *style = make_style(fm);
	size_t i, k;
	int ok = root != NULL && title && style;
	if (!ok) {
		cJSON_Delete(root);
		return lv_error_nomem();
	}
	ok &= cJSON_AddStringToObject(root, "title", title) != NULL;
	ok &= cJSON_AddStringToObject(root, "language", fm->language) != NULL;
	ok &= cJSON_AddStringToObject(root, "style", style) != NULL;
	ok &= cJSON_AddStringToObject(root, "mood", lv_lex_mood_name(fm->f.mood)) != NULL;
	ok &= (chars = cJSON_AddArrayToObject(root, "characters")) != NULL;
	for (i = 0; ok && i < fm->n_chars; i++) {
		cJSON *c = cJSON_CreateObject();
		ok &= c != NULL && cJSON_AddItemToArray(chars, c);
		ok &= ok && cJSON_AddStringToObject(c, "id", fm->chars[i].id) != NULL;
		ok &= ok && cJSON_AddStringToObject(c, "name", fm->chars[i].name) != NULL;
		ok &= ok && cJSON_AddStringToObject(c, "description", fm->chars[i].desc) != NULL;
	}
	ok &= ok && (shots = cJSON_AddArrayToObject(root, "shots")) != NULL;
	for (i = 0; ok && i < fm->n; i++) {
		const shot_plan *s = &fm->shots[i];
		cJSON *o = cJSON_CreateObject(), *who;
		const char *visual = make_visual(fm, i), *narration;
		ok &= o != NULL && cJSON_AddItemToArray(shots, o);
		ok &= ok && visual != NULL;
		narration = ok ? make_narration(fm, i, fm->req->shot_seconds[i]) : NULL;
		ok &= ok && narration != NULL && !fm->oom;
		ok &= ok && cJSON_AddNumberToObject(o, "index", (double)i) != NULL;
		ok &= ok && cJSON_AddNumberToObject(o, "duration", fm->req->shot_seconds[i]) != NULL;
		ok &= ok && cJSON_AddStringToObject(o, "camera", s->camera) != NULL;
		ok &= ok && cJSON_AddStringToObject(o, "visual", visual) != NULL;
		ok &= ok && (who = cJSON_AddArrayToObject(o, "characters")) != NULL;
		for (k = 0; ok && k < s->n_who; k++) {
			cJSON *id = cJSON_CreateString(fm->chars[s->who[k]].id);
			ok &= id != NULL && cJSON_AddItemToArray(who, id);
		}
		ok &= ok && cJSON_AddStringToObject(o, "narration", narration) != NULL;
	}
	if (ok && !fm->oom)
		*out = lv_json_print(root);
	cJSON_Delete(root);
	return ok && !fm->oom && *out ? LV_OK : lv_error_nomem();
}

int lv_local_storyboard(const lv_script_request *req, char **out)
{
	film fm;
	int rc;
	*out = NULL;
	if ((rc = check_request(req)) != LV_OK)
		return rc;
	/* Text is built with lv_buf calls whose failures are recorded as the thread's last error: start
	 * clean, and treat a recorded LV_ENOMEM at the end as the failure it is. */
	lv_error_clear();
	memset(&fm, 0, sizeof(fm));
	fm.req = req;
	fm.n = req->n_shots;
	fm.lines = lv_calloc(fm.n, sizeof(*fm.lines));
	fm.shots = lv_calloc(fm.n, sizeof(*fm.shots));
	if (!fm.lines || !fm.shots) {
		film_free(&fm);
		return LV_ENOMEM;
	}
	rc = analyse(&fm, req);
	if (rc == LV_OK) {
		plan_roles(&fm);
		plan_cast(&fm);
		plan_details(&fm);
		plan_light(&fm);
		plan_cameras(&fm);
		rc = build_json(&fm, out);
	}
	film_free(&fm);
	if (rc == LV_OK && lv_error_last()->status == LV_ENOMEM) {
		free(*out);
		*out = NULL;
		rc = LV_ENOMEM;
	}
	return rc;
}
