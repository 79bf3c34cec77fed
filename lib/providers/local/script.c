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
#include "model/language.h"
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
#define TOPIC_MAX_WORDS 40
#define TOPIC_MAX_CJK 80

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
/* How a part of the story follows the one before: and, then, before, until. */
enum { C_FIRST, C_AND, C_THEN, C_BEFORE, C_UNTIL };

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
	size_t part;         /* the prompt's part (story beat) this shot shows */
	const lv_lex_entry *place_e; /* the shot's place, or NULL */
	const char *place;   /* its label ("the harbour"), or NULL */
	const char *where;   /* where things happen there ("at the harbour") */
	int weather;         /* LV_WEATHER_*, WX_CALM, WX_GATHER, or -1 */
} shot_plan;

/* Shot weather beyond the lexicon's: calm before the weather comes, clouds gathering as it does. */
#define WX_CALM LV_WEATHER_COUNT
#define WX_GATHER (LV_WEATHER_COUNT + 1)
#define MAX_PARTS 4

/*
 * A part of the prompt's story: "part en mer à l'aube" | "rentre au port le soir"; "sails out at dawn
 * for one last catch" | "before the winter storms".  Each has its own place and weather, and its
 * shots quote it rather than the whole prompt.
 */
typedef struct story_part {
	size_t from, to;          /* byte range in the normalised prompt */
	int kind;                 /* how it is joined to the part before (C_*) */
	const char *quote;        /* what its shots quote ("Tomas rentre au port le soir") */
	const char *action;       /* {P} while it is told ("rentre au port le soir"), or NULL: the film's */
	const lv_lex_entry *place; /* its own place, or NULL */
	int weather;              /* its own weather, or -1 */
	int arrives;              /* its weather comes during it ("watches a storm roll in") */
} story_part;

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
	const struct nlang *nl; /* narration templates for the language, or NULL (the prompt's own sentences) */
	int prompt_native;    /* the prompt is written in the narration's language: its words may be spoken */
	const char *names;    /* the named subject as written ("Bolt and Pixel"), or NULL */
	const char *action;   /* what it does, as written after the names ("repair a satellite"), or NULL */
	uint64_t more_used;   /* supplements used so far (each once until all are) */
	size_t beat_turn[6];  /* where the next beat template search starts, per shot role */
	int progress;         /* the light goes from one time of day to another over the shots */
	int sought;           /* the character the story looks for (lost, searched for), found at the end; or -1 */
	int action_beats;     /* middle shots that have retold the prompt's action ("Slowly, Tomas sails out...") */
	char **lines;         /* narration chosen so far */
	size_t n_lines;
	story_part parts[MAX_PARTS]; /* the prompt's story beats, in order (at least one) */
	size_t n_parts;
	const char *subject_np; /* the prompt's subject as written before its action ("A lighthouse keeper named Ada") */
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
	if (given) /* a name is kept exactly as written, whatever the script */
		fc->ref = fc->name;
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
		if ((int)introduced == fm->sought) /* the character looked for is not introduced: it is found at the end */
			introduced++;
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

/*
 * A character the story looks for: named after the first one with a word of losing or searching
 * near it ("sucht im Wald ihren verlorenen Hund", "looks for her lost dog", "找她走丢的小狗").  The
 * index, or -1.
 */
static int find_sought(const film *fm)
{
	/* Latin-script words come before the one looked for and are whole words, or stems where marked
	 * with '*'; CJK words may also come just after it ("小狗丢了") */
	static const char *const words[] = { "lost", "missing", "search*", "looking for", "looks for", "look for",
		                             "seek*", "cherch*", "perdu*", "disparu*", "sucht", "suchen", "suchte",
		                             "verlor*", "vermisst*", "busca*", "perdid*", "desaparecid*", "cercando",
		                             "perso", "persa", "procura*",
		                             "\xe6\x89\xbe" /* 找 */, "\xe4\xb8\xa2" /* 丢 */,
		                             "\xe8\xb5\xb0\xe5\xa4\xb1" /* 走失 */, "\xe5\xa4\xb1\xe8\xb8\xaa" /* 失踪 */,
		                             "\xe6\x8e\xa2\xe3\x81\x97" /* 探し */, "\xe6\x8e\xa2\xe3\x81\x99" /* 探す */,
		                             "\xe8\xbf\xb7\xe5\xad\x90" /* 迷子 */, NULL };
	size_t k, w, len = strlen(fm->lower);
	for (k = 1; k < fm->n_chars && k < fm->f.n_chars; k++) {
		size_t pos = fm->f.chars[k].pos, prev = fm->f.chars[k - 1].pos + 1;
		size_t from = pos > 40 && pos - 40 > prev ? pos - 40 : prev;
		for (w = 0; words[w]; w++) {
			size_t n = strlen(words[w]), at;
			int cjk = (unsigned char)words[w][0] >= 0x80, stem = words[w][n - 1] == '*';
			size_t to = cjk ? (pos + 16 < len ? pos + 16 : len) : pos;
			if (stem)
				n--;
			for (at = from; at + n <= to; at++)
				if (!memcmp(fm->lower + at, words[w], n) &&
				    (cjk || ((at == 0 || !lv_ltext_is_alnum((unsigned char)fm->lower[at - 1])) &&
				             (stem || !lv_ltext_is_alnum((unsigned char)fm->lower[at + n])))))
					return (int)k;
		}
	}
	return -1;
}

/* Who is in each shot.  The character looked for is absent until the last shot, where it is found. */
static void plan_cast(film *fm)
{
	size_t i, nc = fm->n_chars, dev = 0, k, q = fm->sought >= 0 ? (size_t)fm->sought : nc;
	size_t present = q < nc ? nc - 1 : nc;
	for (i = 0; i < fm->n; i++) {
		shot_plan *s = &fm->shots[i];
		s->n_who = 0;
		if (!nc)
			continue;
		switch (s->role) {
		case R_RESOLVE: /* everyone, and the one looked for is found */
			for (k = 0; k < nc && s->n_who < (q < nc ? 2u : 3u); k++)
				if (k != q)
					s->who[s->n_who++] = k;
			if (q < nc)
				s->who[s->n_who++] = q;
			break;
		case R_ESTABLISH:
		case R_CLIMAX:
			for (k = 0; k < nc && s->n_who < 3; k++)
				if (k != q)
					s->who[s->n_who++] = k;
			break;
		case R_INTRO:
			s->who[s->n_who++] = (size_t)s->intro;
			break;
		case R_DEVELOP:
			if (!present)
				break;
			k = dev % present;
			s->who[s->n_who++] = k >= q ? k + 1 : k;
			if (present >= 2 && dev % 3 == 2) {
				k = (dev + 1) % present;
				s->who[s->n_who++] = k >= q ? k + 1 : k;
			}
			dev++;
			break;
		default:
			break;
		}
	}
}

static int dramatic(int w)
{
	return w == LV_WEATHER_RAIN || w == LV_WEATHER_STORM || w == LV_WEATHER_SNOW || w == LV_WEATHER_FOG ||
	       w == LV_WEATHER_WIND;
}

/*
 * The story's parts over the shots, in order: the first from the beginning, the last from the high
 * point (the last shot when there is none), those between spread over the middle.  Each shot takes
 * its part's place and weather (a part that names none keeps the one before's; the first keeps the
 * prompt's unless a later part brings its own).  Weather that comes during a part ("watches a storm
 * roll in") is calm at first, then gathering, and there from the high point; weather a part comes
 * before ("before the winter storms") is still gathering.
 */
static void plan_parts(film *fm)
{
	size_t n = fm->n, m = fm->n_parts, i, k, climax = n - 1, start[MAX_PARTS] = { 0 }, first[MAX_PARTS] = { 0 },
	       last[MAX_PARTS] = { 0 };
	const lv_lex_entry *place[MAX_PARTS] = { NULL };
	int weather[MAX_PARTS] = { -1, -1, -1, -1 }, later_own = 0;
	for (i = 0; i < n; i++)
		if (fm->shots[i].role == R_CLIMAX)
			climax = i;
	if (n < 2)
		m = 1;
	start[0] = 0;
	for (k = 1; k < m; k++) {
		start[k] = k + 1 == m ? climax : climax * k / (m - 1);
		if (start[k] <= start[k - 1])
			start[k] = start[k - 1] + 1;
		if (start[k] > n - 1)
			start[k] = n - 1;
	}
	for (k = 1; k < fm->n_parts; k++)
		later_own |= fm->parts[k].weather >= 0;
	for (k = 0; k < fm->n_parts; k++) {
		const story_part *p = &fm->parts[k];
		if (k == 0) {
			place[k] = p->place ? p->place : fm->f.n_places ? fm->f.places[0] : NULL;
			weather[k] = p->weather >= 0 ? p->weather : later_own ? -1 : fm->f.weather;
		} else {
			place[k] = p->place ? p->place : place[k - 1];
			weather[k] = p->weather >= 0 ? p->weather : weather[k - 1];
		}
		first[k] = n;
		last[k] = 0;
	}
	for (i = 0; i < n; i++) {
		shot_plan *s = &fm->shots[i];
		for (k = 0; k + 1 < m && start[k + 1] <= i; k++)
			;
		s->part = k;
		if (i < first[k])
			first[k] = i;
		last[k] = i;
	}
	for (i = 0; i < n; i++) {
		shot_plan *s = &fm->shots[i];
		const story_part *p = &fm->parts[s->part];
		int w = weather[s->part];
		s->place_e = place[s->part];
		s->place = place[s->part] ? place[s->part]->label[fm->L] : NULL;
		s->where = lv_lex_where(place[s->part], fm->L);
		s->weather = w;
		if (dramatic(w) && p->kind == C_BEFORE) {
			s->weather = WX_GATHER;
		} else if (dramatic(w) && p->arrives) {
			size_t a = first[s->part], b = last[s->part];
			size_t from = climax >= a && climax <= b && climax > a ? climax : a + (2 * (b - a + 1)) / 3;
			size_t calm_to = a + (from - a) / 2;
			if (from > a && i < calm_to + (calm_to == a))
				s->weather = WX_CALM;
			else if (i < from)
				s->weather = WX_GATHER;
		}
	}
}

/* A shot's weather as a phrase: "under a stormy sky", calm, gathering clouds; NULL for none. */
static const char *shot_weather(const shot_plan *s, int L)
{
	if (s->weather == WX_CALM)
		return L == EN ? "calm under a clear sky" : "\xe9\xa3\x8e\xe5\xb9\xb3\xe6\xb5\xaa\xe9\x9d\x99\xe7\x9a\x84" /* 风平浪静的 */;
	if (s->weather == WX_GATHER)
		return L == EN ? "under gathering dark clouds" : "\xe4\xb9\x8c\xe4\xba\x91\xe8\x81\x9a\xe6\x8b\xa2\xe7\x9a\x84" /* 乌云聚拢的 */;
	return lv_lex_weather_phrase(s->weather, L);
}

/* The search and the finding, said in the visual: who looks for whom until the last shot. */
static void put_search(film *fm, lv_buf *b, const shot_plan *s)
{
	const fchar *seeker, *sought;
	if (fm->sought < 0 || !s->n_who || s->role == R_DETAIL)
		return;
	seeker = &fm->chars[s->who[0] == (size_t)fm->sought ? 0 : s->who[0]];
	sought = &fm->chars[fm->sought];
	if (s->role == R_RESOLVE) {
		if (fm->L == ZH)
			lv_buf_printf(b, "终于，%s找到了%s。", seeker->ref, sought->vis);
		else {
			lv_buf_puts(b, " At last, ");
			lv_buf_printf(b, "%s finds %s.", seeker->ref, sought->vis);
		}
	} else if (fm->L == ZH) {
		lv_buf_printf(b, "%s四处寻找%s，却不见它的踪影。", seeker->ref, sought->ref);
	} else {
		lv_buf_puts(b, " ");
		put_cap(b, seeker->ref);
		lv_buf_printf(b, " searches for %s, still nowhere to be seen.", sought->ref);
	}
}

/* A detail that the film's conditions contradict: blossoms and bees in snow, sunbeams at night,
 * rooftops and windows at sea, trees and leaves on open water. */
static int detail_contradicts(const film *fm, const lv_lex_detail *d)
{
	static const char *const cold[] = { "petal", "bee", "blossom", "flower", "dew", "butterfl", NULL };
	static const char *const dark[] = { "sunbeam", "sunlight", "first rays", "bee", "dew", "dust motes", NULL };
	static const char *const built[] = { "rooftop", "window", "door", "street", "glass", "wall", "traffic", NULL };
	static const char *const land[] = { "tree", "leaves", "trunk", "grass", "footsteps", "puddle", NULL };
	static const char *const outdoors[] = { "the sea", "the harbour", "the forest", "the mountains", "the desert",
		                                "the river", "the lake", "the countryside", "the island", "the ice fields",
		                                "the deep sea", "the sky", "the night sky", "the open road", NULL };
	const char *v = d->vis[LV_LEX_EN], *place = fm->f.n_places ? fm->f.places[0]->label[LV_LEX_EN] : NULL;
	const char *const *w;
	int out = 0;
	if (!v)
		return 0;
	if (fm->f.weather == LV_WEATHER_SNOW || fm->f.season == LV_SEASON_WINTER)
		for (w = cold; *w; w++)
			if (strstr(v, *w))
				return 1;
	if (fm->f.time == LV_TIME_NIGHT)
		for (w = dark; *w; w++)
			if (strstr(v, *w))
				return 1;
	for (w = outdoors; place && *w; w++)
		out |= !strcmp(place, *w);
	if (out)
		for (w = built; *w; w++)
			if (strstr(v, *w))
				return 1;
	if (place && (!strcmp(place, "the sea") || !strcmp(place, "the deep sea") || !strcmp(place, "the sky")))
		for (w = land; *w; w++)
			if (strstr(v, *w))
				return 1;
	return 0;
}

static void plan_details(film *fm)
{
	const lv_lex_detail *spec[64], *gen[32];
	size_t ns = 0, ng, i, j, nd, rot, s_used = 0, g_used = 0;
	const lv_lex_detail *d;
	size_t s_take;
	int varies = 0;
	for (i = 0; i < fm->n; i++)
		varies |= fm->shots[i].weather != fm->f.weather;
#define ADD(arr, cnt, ptr) \
	do { \
		if ((cnt) < sizeof(arr) / sizeof((arr)[0])) \
			(arr)[(cnt)++] = (ptr); \
	} while (0)
	if (fm->f.n_places) {
		const lv_lex_entry *e = fm->f.places[0];
		rot = rng_below(&fm->r, e->n_details);
		for (j = 0; j < e->n_details; j++)
			if (!detail_contradicts(fm, &e->details[(j + rot) % e->n_details]))
				ADD(spec, ns, &e->details[(j + rot) % e->n_details]);
	}
	/* a film whose weather changes over its parts leaves weather details to the shots' own words */
	d = lv_lex_weather_details(varies ? -1 : fm->f.weather, &nd);
	for (j = 0; d && j < nd; j++)
		if (!detail_contradicts(fm, &d[j]))
			ADD(spec, ns, &d[j]);
	d = lv_lex_time_details(fm->f.time, &nd);
	for (j = 0; j < nd; j++)
		if (!detail_contradicts(fm, &d[j]))
			ADD(spec, ns, &d[j]);
	for (i = 1; fm->n_parts == 1 && i < fm->f.n_places; i++) /* (other places are their parts') */
		for (j = 0; j < fm->f.places[i]->n_details; j++)
			if (!detail_contradicts(fm, &fm->f.places[i]->details[j]))
				ADD(spec, ns, &fm->f.places[i]->details[j]);
	d = lv_lex_season_details(fm->f.season, &nd);
	for (j = 0; j < nd; j++)
		if (!detail_contradicts(fm, &d[j]))
			ADD(spec, ns, &d[j]);
	d = lv_lex_generic_details(&nd);
	rot = rng_below(&fm->r, nd);
	for (ng = 0, j = 0; j < nd && ng < sizeof(gen) / sizeof(gen[0]); j++)
		if (!detail_contradicts(fm, &d[(j + rot) % nd]))
			gen[ng++] = &d[(j + rot) % nd];
	for (j = 0; !ng && j < nd && j < sizeof(gen) / sizeof(gen[0]); j++) /* (never none) */
		gen[ng++] = &d[(j + rot) % nd];
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
	/* a part set elsewhere shows its own place's details ("nets piled on the quay" back at the harbour) */
	for (i = 0; i < fm->n; i++) {
		shot_plan *s = &fm->shots[i];
		const lv_lex_entry *e = s->place_e;
		if (!e || (fm->f.n_places && e == fm->f.places[0]) || !e->n_details)
			continue;
		for (j = 0; j < e->n_details; j++) { /* (all shown already: the shot keeps its own) */
			size_t o;
			int used = 0;
			d = &e->details[(i + j) % e->n_details];
			for (o = 0; o < fm->n; o++)
				used |= fm->shots[o].detail == d;
			if (!used && !detail_contradicts(fm, d)) {
				s->detail = d;
				s->beat = 0;
				break;
			}
		}
	}
}

/* Whether the time of day at byte `pos` of the lower-cased prompt is where something lasts until:
 * "until sunset", "bis die Sonne untergeht", "jusqu'au soir", "hasta el anochecer", "直到黄昏". */
static int until_before(const char *lower, size_t pos)
{
	static const char *const words[] = { "until", "till", "bis", "jusqu", "hasta", "fino", "at\xc3\xa9",
		                             "\xe7\x9b\xb4\xe5\x88\xb0" /* 直到 */, NULL };
	size_t from = pos > 28 ? pos - 28 : 0, k, n;
	for (k = 0; words[k]; k++) {
		const char *p = lower + from;
		n = strlen(words[k]);
		while ((p = strstr(p, words[k])) != NULL && (size_t)(p - lower) + n <= pos) {
			int ascii = (unsigned char)words[k][0] < 0x80;
			if (!ascii || ((p == lower || !lv_ltext_is_alnum((unsigned char)p[-1])) &&
			               (words[k][n - 1] == 'u' || !lv_ltext_is_alnum((unsigned char)p[n]))))
				return 1;
			p += n;
		}
	}
	return 0;
}

/*
 * Light through the film: a time-lapse climbs through the day to the moment its time of day is
 * about (dawn: sunrise, at the high point) and goes on a little after it; a film whose prompt names
 * two times of day ("sails out at dawn and comes home in the evening") goes from the first to the
 * last, in order, over its shots; one that lasts until a time ("until the sun goes down") comes to
 * it from the light before; a film with one time of day holds it; a film without one has no phase.
 */
static void plan_light(film *fm)
{
	size_t i, n = fm->n, climax = n;
	int timelapse = (fm->f.tech & (1u << LV_TECH_TIMELAPSE)) != 0;
	int key = lv_lex_time_key_phase(fm->f.time), before, after;
	int from = -1, to = -1;
	if (fm->f.time_last >= 0) {
		from = key;
		to = lv_lex_time_key_phase(fm->f.time_last);
		if (to < from) /* "from dusk until dawn": through the night */
			to += LV_LEX_PHASES;
	} else if (key >= 0 && until_before(fm->lower, fm->f.time_pos)) {
		from = key - 1;
		to = key;
	}
	if (from >= 0 && to > from) {
		fm->progress = 1;
		/* in order over the shots: the first shot at the first time, the last at the last */
		for (i = 0; i < n; i++)
			fm->shots[i].phase =
			        (from + (n > 1 ? (int)((i * (size_t)(to - from) + (n - 1) / 2) / (n - 1)) : 0)) % LV_LEX_PHASES;
		return;
	}
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
		/* the time of day the prompt names holds in every shot */
		before = 0;
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
	int w = s->weather;
	if (w == WX_GATHER)
		return L == EN ? "dark clouds closing in"
		               : "ä¹äºåé¡¶çä¸å»" /* 乌云压顶的一刻 */;
	if (w >= 0 && w < LV_WEATHER_COUNT && w != LV_WEATHER_CLOUDY && w != LV_WEATHER_SUNNY)
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
	const char *P = s->place ? s->place : "the scene";
	const char *W = shot_weather(s, EN);
	const char *SW = s->weather >= WX_CALM ? W : NULL; /* the weather's stage, said also in character shots */
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
			lv_buf_printf(b, "Close detail %s: %s%s%s.", s->where, D, W ? ", " : "", W ? W : "");
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
		lv_buf_printf(b, " %s %s%s%s, %s behind %s.", animal ? animal_acts[i % 4] : acts[i % 4], s->where, SW ? " " : "",
		              SW ? SW : "", D, c->pron);
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
			lv_buf_printf(b, " %s %s %s%s%s.", plural ? many[i % 5] : one[i % 5], D, s->where, SW ? " " : "",
			              SW ? SW : "");
		} else {
			static const char *const then[] = { "Elsewhere", "Further on", "Meanwhile", "Nearby" };
			if (lead) {
				put_cap(b, lead);
				lv_buf_printf(b, ", %s %s%s%s.", D, s->where, W ? ", " : "", W ? W : "");
			} else {
				lv_buf_printf(b, "%s %s: %s%s%s.", then[i % 4], s->where, D, W ? ", " : "", W ? W : "");
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
	const char *P = s->place;
	const char *W = shot_weather(s, ZH);
	const char *SW = s->weather >= WX_CALM ? W : ""; /* the weather's stage, said also in character shots */
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
			lv_buf_printf(b, "%s的特写：%s%s%s。", lead, D, SW[0] ? "，" : "", SW[0] ? (s->weather == WX_CALM ? "风平浪静" : "乌云聚拢") : "");
		else
			lv_buf_printf(b, "%s%s的细节特写：%s。", SW, P ? P : "场景", D);
		break;
	case R_INTRO: {
		static const char *const acts[] = { "走进画面", "环顾四周", "停下脚步，静静看着", "慢慢向前走" };
		static const char *const animal_acts[] = { "走进画面", "四处张望", "停下来嗅了嗅", "慢慢向前走" };
		const fchar *c = &fm->chars[s->who[0]];
		int animal = !strcmp(c->pron, "it");
		if (lead)
			lv_buf_printf(b, "%s，", lead);
		lv_buf_printf(b, "%s出现在%s%s，%s，身后是%s。", c->vis, SW, s->where, animal ? animal_acts[i % 4] : acts[i % 4], D);
		break;
	}
	case R_DEVELOP:
		if (s->n_who) {
			static const char *const pre[] = { "经过", "注视着", "在", "望向", "穿过" };
			static const char *const post[] = { "", "", "旁停下脚步", "", "" };
			if (lead)
				lv_buf_printf(b, "%s，", lead);
			lv_buf_puts(b, SW);
			put_refs(b, fm, s, ZH, 1, 0);
			lv_buf_printf(b, "%s%s%s。", pre[i % 5], D, post[i % 5]);
		} else {
			static const char *const before[] = { "", "穿过", "", "" };
			static const char *const after[] = { "的另一处：", "：", "深处：", "的边缘：" };
			static const char *const then[] = { "画面一角：", "另一处：", "不远处：", "与此同时：" };
			if (lead)
				lv_buf_printf(b, "%s，", lead);
			if (P)
				lv_buf_printf(b, "%s%s%s%s", before[i % 4], SW, P, after[i % 4]);
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
	/* every shot carries its part of the prompt (subject, setting, time, action, names); calm before the
	 * weather comes, the subject alone */
	const char *quote = fm->topic ? fm->parts[s->part].quote : NULL;
	if (quote && s->weather == WX_CALM)
		quote = fm->subject_np;
	if (fm->L == ZH)
		visual_zh(fm, &b, s, i);
	else
		visual_en(fm, &b, s, i);
	put_search(fm, &b, s);
	if (quote)
		lv_buf_printf(&b, fm->L == ZH ? "场景：%s。" : " Scene: %s.", quote);
	if (s->beat)
		lv_buf_printf(&b, fm->L == ZH ? "（第%zu拍）" : " (beat %zu)", i + 1);
	return keep_buf(fm, &b);
}

/* ---- narration ---------------------------------------------------------------------------------------------- */

/*
 * Narration tells the prompt's story from beginning to end in the task's language: the first shot
 * speaks the prompt's own first sentence when it is written in that language (subject, setting,
 * time of day, action and names as given), the middle carries the action on ({N} {P}: "Ada watches
 * a storm roll in"), the high point and the ending close it.  A shot's line is one beat sentence and
 * then supplements until it fills most of the shot.
 *
 * Slots: {Q} the prompt's first sentence, {N} the named characters ("Bolt and Pixel") or the
 * subject, {P} the action after the names ("repair a broken satellite"), {K} the shot's own
 * character, {T} time of day, {S} the place, {W} where ("by the sea"), {d} the shot's detail, {p} the
 * high point's moment, {a} the mood adjective.  {S}, {W}, {d}, {p} and {a} come from the lexicon (English
 * and Chinese only).  A '^' after the letter capitalises it ("{T^}").  A template whose slot is empty
 * is skipped.  Languages without templates speak the prompt's own sentences, in order, and nothing
 * else: an honest fallback rather than English words read by another language's voice.
 */
#define MORE_MAX 64

typedef struct nlang {
	const char *tag;
	int lex;                         /* the lexicon's words exist in this language (EN, ZH), or -1 */
	const char *sep;                 /* between sentences */
	const char *and_w;               /* between two names */
	const char *times[LV_TIME_COUNT];
	const char *const *lines[6];     /* beat sentences per shot role (R_*) */
	const char *const *more;         /* supplements, each used once per film while others remain */
} nlang;

static const char *const en_begin[] = { "{Q}.", "{T^}, {W}: this is where the story of {N} begins.",
	                                "{T^}, {W}, our story begins.", "Our story begins {W}.",
	                                "This is where our story begins.", NULL };
static const char *const en_intro[] = { "Meet {K}. Everything that follows begins with {K}.",
	                                "This is {K}, right where the story starts.",
	                                "Here is {K}, ready for whatever comes next.", "And this is {K}.", NULL };
static const char *const en_develop[] = { "{N} {P}.", "Slowly, {N} {P}.", "Step by step, {N} {P}.",
	                                  "Even now, {N} {P}.", "Moment by moment, {N} {P}.",
	                                  "{K^} keeps going, {W}.", "{K^} stops for a moment and looks around.",
	                                  "{K^} takes a deep breath and carries on.", "Around {K}, {d}.",
	                                  "{T^}, {W}, nothing stands still.", "Little by little, the scene changes.",
	                                  NULL };
static const char *const en_detail[] = { "Look closer: {d}.", "Small things matter here, like {d}.",
	                                 "In the details: {d}.", "Every detail tells part of the story.", NULL };
static const char *const en_climax[] = { "And then the moment comes: {N} {P}.", "And then, {p}.",
	                                 "Now everything comes together, and {N} is at the heart of it.",
	                                 "Now {S} is at its most {a}.", "Everything comes together.", NULL };
static const char *const en_resolve[] = { "In the end, {N} {P}, and {S} grows quiet again.",
	                                  "In the end, {N} {P}, and everything grows quiet again.",
	                                  "And so the story of {N} comes to a close, {W}.",
	                                  "In the end, {N} {P}.", "And so the story of {N} comes to a close.",
	                                  "And so the story ends, {W}.", "This is where our story ends.", NULL };
static const char *const en_more[] = {
	"Every moment here has its own rhythm.", "The light keeps changing, little by little.",
	"Take a breath and look around.", "Listen closely: even the silence has a sound.",
	"Time moves differently here.", "Nothing here stays the same for long.", "It all feels {a}.",
	"All around, {d}.", "This is {S}, {T}.", "{K^} does not look away.", "{N} will remember this.",
	"For {N}, this matters more than anything.", "There is no need to hurry.",
	"Somewhere close, the world goes on as usual.", "Each second feels longer than the last.",
	"Shapes and colours shift as we watch.", "The whole scene seems to hold its breath.",
	"Everything happens at its own pace.", "It is a sight worth waiting for.", "Every step brings something new.",
	"Quietly, the scene unfolds.", "Nobody here is in a hurry.", "The air is full of small sounds.",
	"It is the kind of moment people remember.", "Nothing is quite what it was a minute ago.",
	"There is more here than meets the eye.", "Everything seems to lead to this.", "A moment passes.", "The light shifts.", "The wind turns.", "{K^} keeps watching.", "Far off, {d}.", NULL
};

static const char *const zh_begin[] = { "{Q}。", "{T}，{W}，{N}的故事从这里开始。", "{T}，{W}，故事从这里开始。",
	                                "故事从{W}开始。", "我们的故事从这里开始。", NULL };
static const char *const zh_intro[] = { "这就是{K}，接下来的一切都从{K}开始。", "这是{K}，故事从这里开始。",
	                                "{K}来了，准备迎接接下来的一切。", "这就是{K}。", NULL };
static const char *const zh_develop[] = { "{N}{P}。", "慢慢地，{N}{P}。", "一步一步，{N}{P}。", "此刻，{N}依然{P}。",
	                                  "{K}继续向前，{W}的一切都在变化。", "{K}停下来，环顾四周。",
	                                  "{K}深吸一口气，继续前行。", "{K}身边，{d}。", "{T}，{W}，一切都在流动。",
	                                  "一点一点，画面在变化。", NULL };
static const char *const zh_detail[] = { "走近些看：{d}。", "细节里藏着故事，比如{d}。", "留意{d}。",
	                                 "每一个细节都在讲述故事。", NULL };
static const char *const zh_climax[] = { "就在这一刻，{N}{P}。", "终于到了{p}。", "一切汇聚在一起，{N}就在其中。",
	                                 "此刻的{S}最为{a}。", "一切都汇聚在一起。", NULL };
static const char *const zh_resolve[] = { "最后，{N}{P}，{S}又恢复了平静。", "最后，{N}{P}，一切又恢复了平静。", "最后，{N}{P}。", "就这样，{N}的故事落下帷幕。", "就这样，{N}的故事在{W}落下帷幕。",
	                                  "就这样，故事在{W}结束了。", "我们的故事到这里结束了。", NULL };
static const char *const zh_more[] = {
	"这里的每一刻都有自己的节奏。", "光线一点一点地变化着。", "深吸一口气，看看四周。", "仔细听，连寂静都有声音。",
	"时间在这里走得不一样。", "这里没有什么会一成不变。", "一切显得如此{a}。", "四处都是{d}。", "这是{T}的{S}。",
	"{K}没有移开目光。", "{N}会记住这一刻。", "对{N}来说，这比什么都重要。", "不必着急。",
	"不远处，世界照常运转。", "每一秒都比上一秒更漫长。", "形状和色彩在眼前变幻。", "整个画面仿佛屏住了呼吸。",
	"一切都按自己的节奏发生。", "这一幕值得等待。", "每一步都有新的发现。", "画面静静地展开。",
	"这里没有人匆忙。", "空气里满是细小的声音。", "这是让人难忘的时刻。", "一切都和一分钟前不一样了。",
	"这里藏着比眼睛看到的更多的东西。", "一切似乎都指向这一刻。", "片刻过去了。", "光线变了。", "风转了方向。", "{K}静静地看着。", "远处，{d}。", NULL
};

static const char *const fr_begin[] = { "{Q}.", "{T^}, l'histoire de {N} commence.", "Notre histoire commence ici.",
	                                NULL };
static const char *const fr_intro[] = { "Voici {K}. Tout ce qui suit commence avec {K}.",
	                                "Voici {K}, au tout d\xc3\xa9" "but de l'histoire.", "Et voici {K}.", NULL };
static const char *const fr_develop[] = { "{N} {P}.", "Lentement, {N} {P}.", "Pas \xc3\xa0 pas, {N} {P}.",
	                                  "Encore maintenant, {N} {P}.", "{K} poursuit son chemin, {T}.",
	                                  "{K} s'arr\xc3\xaa" "te un instant pour regarder autour.",
	                                  "{K} respire profond\xc3\xa9" "ment et continue.",
	                                  "Peu \xc3\xa0 peu, la sc\xc3\xa8" "ne change.", NULL };
static const char *const fr_detail[] = { "Regardez de plus pr\xc3\xa8s : chaque d\xc3\xa9" "tail compte.",
	                                 "Ici, les petites choses ont leur importance.", NULL };
static const char *const fr_climax[] = { "Et voici le moment tant attendu : {N} {P}.",
	                                 "Maintenant, tout se rejoint, et {N} est au c\xc5\x93ur de tout.",
	                                 "Maintenant, tout se rejoint.", NULL };
static const char *const fr_resolve[] = { "\xc3\x80 la fin, {N} {P}, et tout redevient calme.",
	                                  "Ainsi s'ach\xc3\xa8ve l'histoire de {N}.", "Ainsi s'ach\xc3\xa8ve notre histoire.",
	                                  NULL };
static const char *const fr_more[] = {
	"Chaque instant a ici son propre rythme.", "La lumi\xc3\xa8re change, petit \xc3\xa0 petit.",
	"Prenez le temps de regarder autour de vous.", "\xc3\x89" "coutez bien : m\xc3\xaa" "me le silence a un son.",
	"Ici, le temps passe autrement.", "Rien ne reste longtemps pareil.", "{N} s'en souviendra longtemps.",
	"Pour {N}, cela compte plus que tout.", "Rien ne presse.", "Tout pr\xc3\xa8s, le monde suit son cours.",
	"Chaque seconde semble plus longue que la pr\xc3\xa9" "c\xc3\xa9" "dente.",
	"Les formes et les couleurs changent sous nos yeux.", "Toute la sc\xc3\xa8" "ne semble retenir son souffle.",
	"Tout arrive \xc3\xa0 son propre rythme.", "C'est un spectacle qui vaut l'attente.",
	"Chaque pas apporte quelque chose de nouveau.", "Doucement, la sc\xc3\xa8" "ne se d\xc3\xa9" "voile.",
	"Personne ici n'est press\xc3\xa9.", "L'air est plein de petits bruits.",
	"C'est le genre de moment qu'on n'oublie pas.", "Il y a ici plus qu'il n'y para\xc3\xae" "t.", "Un instant passe.", "La lumi\xc3\xa8re change.", "Le vent tourne.", "{K} regarde encore.", NULL
};

static const char *const es_begin[] = { "{Q}.", "{T^}, comienza la historia de {N}.", "Nuestra historia comienza aqu\xc3\xad.",
	                                NULL };
static const char *const es_intro[] = { "Este es {K}. Todo lo que sigue empieza con {K}.",
	                                "Aqu\xc3\xad est\xc3\xa1 {K}, justo donde empieza la historia.", "Y aqu\xc3\xad est\xc3\xa1 {K}.",
	                                NULL };
static const char *const es_develop[] = { "{N} {P}.", "Poco a poco, {N} {P}.", "Paso a paso, {N} {P}.",
	                                  "Incluso ahora, {N} {P}.", "{K} sigue adelante, {T}.",
	                                  "{K} se detiene un momento y mira a su alrededor.",
	                                  "{K} respira hondo y contin\xc3\xba" "a.", "Poco a poco, la escena cambia.", NULL };
static const char *const es_detail[] = { "Mira m\xc3\xa1s de cerca: cada detalle cuenta.",
	                                 "Aqu\xc3\xad las cosas peque\xc3\xb1" "as importan.", NULL };
static const char *const es_climax[] = { "Y llega el momento: {N} {P}.",
	                                 "Ahora todo se une, y {N} est\xc3\xa1 en el centro de todo.",
	                                 "Ahora todo se une.", NULL };
static const char *const es_resolve[] = { "Al final, {N} {P}, y todo vuelve a la calma.",
	                                  "Y as\xc3\xad termina la historia de {N}.", "Y as\xc3\xad termina nuestra historia.",
	                                  NULL };
static const char *const es_more[] = {
	"Aqu\xc3\xad cada momento tiene su propio ritmo.", "La luz cambia, poco a poco.",
	"T\xc3\xb3" "mate un momento para mirar alrededor.", "Escucha bien: hasta el silencio tiene sonido.",
	"Aqu\xc3\xad el tiempo pasa de otra manera.", "Nada se queda igual por mucho tiempo.",
	"{N} lo recordar\xc3\xa1 siempre.", "Para {N}, esto importa m\xc3\xa1s que nada.", "No hay prisa.",
	"Muy cerca, el mundo sigue su curso.", "Cada segundo parece m\xc3\xa1s largo que el anterior.",
	"Las formas y los colores cambian ante nuestros ojos.", "Toda la escena parece contener el aliento.",
	"Todo sucede a su propio ritmo.", "Es un espect\xc3\xa1" "culo que vale la espera.",
	"Cada paso trae algo nuevo.", "En silencio, la escena se despliega.", "Aqu\xc3\xad nadie tiene prisa.",
	"El aire est\xc3\xa1 lleno de peque\xc3\xb1os sonidos.", "Es uno de esos momentos que no se olvidan.",
	"Aqu\xc3\xad hay m\xc3\xa1s de lo que parece.", "Pasa un instante.", "La luz cambia.", "El viento gira.", "{K} sigue mirando.", NULL
};

static const char *const de_begin[] = { "{Q}.", "{T^} beginnt die Geschichte von {N}.", "Hier beginnt unsere Geschichte.",
	                                NULL };
static const char *const de_intro[] = { "Das ist {K}. Alles, was folgt, beginnt mit {K}.",
	                                "Hier ist {K}, genau dort, wo die Geschichte beginnt.", "Und das ist {K}.", NULL };
static const char *const de_develop[] = { "{N} {P}.", "Langsam: {N} {P}.", "Schritt f\xc3\xbc" "r Schritt: {N} {P}.",
	                                  "Noch immer: {N} {P}.", "{K} geht weiter, {T}.",
	                                  "{K} h\xc3\xa4lt einen Moment inne und schaut sich um.",
	                                  "{K} atmet tief durch und macht weiter.",
	                                  "Nach und nach ver\xc3\xa4ndert sich die Szene.", NULL };
static const char *const de_detail[] = { "Schau genauer hin: Jedes Detail z\xc3\xa4hlt.",
	                                 "Hier sind es die kleinen Dinge, die z\xc3\xa4hlen.", NULL };
static const char *const de_climax[] = { "Und dann kommt der Moment: {N} {P}.",
	                                 "Jetzt kommt alles zusammen, und {N} ist mittendrin.", "Jetzt kommt alles zusammen.",
	                                 NULL };
static const char *const de_resolve[] = { "Am Ende: {N} {P}, und alles wird wieder still.",
	                                  "So endet die Geschichte von {N}.", "So endet unsere Geschichte.", NULL };
static const char *const de_more[] = {
	"Jeder Moment hat hier seinen eigenen Rhythmus.", "Das Licht ver\xc3\xa4ndert sich, ganz langsam.",
	"Nimm dir Zeit und schau dich um.", "H\xc3\xb6r genau hin: Sogar die Stille hat einen Klang.",
	"Hier vergeht die Zeit anders.", "Nichts bleibt hier lange gleich.", "{N} wird sich daran erinnern.",
	"F\xc3\xbc" "r {N} z\xc3\xa4hlt das mehr als alles andere.", "Es gibt keinen Grund zur Eile.",
	"Ganz in der N\xc3\xa4he geht die Welt ihren Gang.", "Jede Sekunde scheint l\xc3\xa4nger als die letzte.",
	"Formen und Farben ver\xc3\xa4ndern sich vor unseren Augen.", "Die ganze Szene scheint den Atem anzuhalten.",
	"Alles geschieht in seinem eigenen Tempo.", "Es ist ein Anblick, der das Warten lohnt.",
	"Jeder Schritt bringt etwas Neues.", "Leise entfaltet sich die Szene.", "Niemand hat es hier eilig.",
	"Die Luft ist voller kleiner Ger\xc3\xa4usche.", "Es ist einer dieser Momente, die man nicht vergisst.",
	"Hier gibt es mehr, als man auf den ersten Blick sieht.", "Ein Moment vergeht.", "Das Licht wechselt.", "Der Wind dreht sich.", "{K} schaut weiter zu.", NULL
};

static const char *const ja_begin[] = { "{Q}。", "{T}、{N}のものがたりがはじまります。", "ここから、ものがたりがはじまります。", NULL };
static const char *const ja_intro[] = { "こちらが{K}です。ここから、すべてがはじまります。", "{K}が、すがたをあらわします。",
	                                "そして、{K}です。", NULL };
static const char *const ja_develop[] = { "ゆっくりと、じかんがながれていきます。", "{K}は、まえへすすみます。",
	                                  "{K}は、すこしたちどまって、まわりをみわたします。",
	                                  "{K}は、ふかくいきをすって、またあるきだします。", "すこしずつ、けしきがかわっていきます。",
	                                  "{T}、なにもかもがうごいています。", NULL };
static const char *const ja_detail[] = { "ちかくでみると、ひとつひとつに、いみがあります。", "ちいさなものが、ここではたいせつです。",
	                                 NULL };
static const char *const ja_climax[] = { "そして、そのしゅんかんがやってきます。",
	                                 "いま、すべてがひとつになり、{N}はそのまんなかにいます。", "いま、すべてがひとつになります。",
	                                 NULL };
static const char *const ja_resolve[] = { "こうして、{N}のものがたりは、おわりをむかえます。", "こうして、ものがたりはおわります。",
	                                  NULL };
static const char *const ja_more[] = {
	"ここでは、いっしゅんいっしゅんに、じぶんのリズムがあります。", "ひかりが、すこしずつかわっていきます。",
	"ひといきついて、まわりをみてみましょう。", "よくきいてください。しずけさにも、おとがあります。",
	"ここでは、じかんのながれがちがいます。", "ここでは、なにもおなじままではいられません。",
	"{N}は、このことをずっとおぼえているでしょう。", "いそぐひつようはありません。",
	"すぐちかくで、せかいはいつもどおりにうごいています。", "いちびょうごとに、じかんがながくかんじられます。",
	"かたちといろが、めのまえでかわっていきます。", "けしきぜんたいが、いきをひそめているようです。",
	"すべてが、じぶんのペースですすみます。", "まつかいのある、ながめです。", "ひとあしごとに、あたらしいはっけんがあります。",
	"しずかに、けしきがひろがっていきます。", "ここには、いそいでいるひとはいません。",
	"わすれられない、ひとときです。", "ここには、めにみえるいじょうのものがあります。", "いっしゅんが、すぎていきます。", "ひかりが、かわります。", "かぜのむきが、かわります。", NULL
};

static const nlang nlangs[] = {
	{ "en", EN, " ", " and ", { "at dawn", "in the morning", "at noon", "in the afternoon", "at dusk", "at night" },
	  { en_begin, en_detail, en_intro, en_develop, en_climax, en_resolve }, en_more },
	{ "zh", ZH, "", "和", { "清晨", "上午", "正午", "午后", "黄昏", "夜晚" },
	  { zh_begin, zh_detail, zh_intro, zh_develop, zh_climax, zh_resolve }, zh_more },
	{ "fr", -1, " ", " et ",
	  { "\xc3\xa0 l'aube", "le matin", "\xc3\xa0 midi", "l'apr\xc3\xa8s-midi", "au cr\xc3\xa9puscule", "la nuit" },
	  { fr_begin, fr_detail, fr_intro, fr_develop, fr_climax, fr_resolve }, fr_more },
	{ "es", -1, " ", " y ",
	  { "al amanecer", "por la ma\xc3\xb1" "ana", "al mediod\xc3\xad" "a", "por la tarde", "al atardecer", "de noche" },
	  { es_begin, es_detail, es_intro, es_develop, es_climax, es_resolve }, es_more },
	{ "de", -1, " ", " und ",
	  { "im Morgengrauen", "am Morgen", "am Mittag", "am Nachmittag", "in der Abendd\xc3\xa4mmerung", "in der Nacht" },
	  { de_begin, de_detail, de_intro, de_develop, de_climax, de_resolve }, de_more },
	{ "ja", -1, "", "と", { "よあけに", "あさに", "ひるに", "ごごに", "ゆうぐれに", "よるに" },
	  { ja_begin, ja_detail, ja_intro, ja_develop, ja_climax, ja_resolve }, ja_more },
};

/* The templates for a language tag's primary subtag, or NULL. */
static const nlang *nlang_for(const char *tag)
{
	size_t i, n = 0;
	while (tag && tag[n] && tag[n] != '-' && tag[n] != '_')
		n++;
	for (i = 0; tag && i < sizeof(nlangs) / sizeof(nlangs[0]); i++)
		if (strlen(nlangs[i].tag) == n && !strncasecmp(tag, nlangs[i].tag, n))
			return &nlangs[i];
	return NULL;
}

typedef struct slots {
	const char *v[128];
} slots;

/* Append s with its first letter upper-cased: ASCII, and the Latin-1 letters written as 0xC3 xx. */
static int put_cap_utf8(lv_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] == 0xc3 && u[1] >= 0xa0 && u[1] <= 0xbe && u[1] != 0xb7) {
		char two[2] = { (char)0xc3, (char)(u[1] - 0x20) };
		return lv_buf_put(b, two, 2) || lv_buf_puts(b, s + 2);
	}
	return put_cap(b, s);
}

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
			if (cap ? put_cap_utf8(&b, v) : lv_buf_puts(&b, v))
				goto fail;
			p += cap ? 4 : 3;
			continue;
		}
		if (lv_buf_put(&b, p, 1))
			goto fail;
		p++;
	}
	if (b.len && b.data[0] >= 'a' && b.data[0] <= 'z') /* a line starting with a slot: "{N} {P}." */
		b.data[0] = (char)(b.data[0] - 'a' + 'A');
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

static int line_used(const film *fm, const char *s)
{
	size_t i;
	for (i = 0; i < fm->n_lines; i++)
		if (fm->lines[i] && strstr(fm->lines[i], s))
			return 1;
	return 0;
}

/* Whether the prompt is written in the narration's language (then its words may be spoken). */
static int prompt_in(const film *fm, const nlang *nl)
{
	const char *d = lv_language_detect(fm->text);
	if (!strcmp(nl->tag, "zh"))
		return fm->f.prompt_zh && strcmp(d, "ja");
	return !strcmp(d, nl->tag);
}

static void set_slots(film *fm, const nlang *nl, const shot_plan *s, slots *sl)
{
	memset(sl, 0, sizeof(*sl));
	if (fm->prompt_native) {
		sl->v['Q'] = fm->topic;
		sl->v['P'] = fm->parts[s->part].action ? fm->parts[s->part].action : fm->action;
	}
	/* who the story is about: the names as written, or (English, Chinese) the unnamed character's role */
	sl->v['N'] = fm->names;
	if (!sl->v['N'] && nl->lex >= 0 && fm->n_chars)
		sl->v['N'] = fm->chars[0].ref;
	{
		const size_t who = s->n_who ? s->who[0] : 0;
		if (who < fm->n_chars)
			sl->v['K'] = fm->f.chars[who].name[0] ? fm->chars[who].name : nl->lex >= 0 ? fm->chars[who].ref : NULL;
	}
	sl->v['T'] = fm->f.time >= 0 ? nl->times[fm->f.time] : NULL;
	if (fm->progress && s->phase >= 0) {
		/* the shot's own time of day: before dawn .. sunrise, morning, noon, afternoon, sunset, dusk, night */
		static const int time_of[LV_LEX_PHASES] = { LV_TIME_DAWN,      LV_TIME_DAWN, LV_TIME_DAWN, LV_TIME_MORNING,
			                                    LV_TIME_NOON,      LV_TIME_AFTERNOON, LV_TIME_DUSK, LV_TIME_DUSK,
			                                    LV_TIME_NIGHT,     LV_TIME_NIGHT };
		sl->v['T'] = nl->times[time_of[s->phase % LV_LEX_PHASES]];
	}
	if (nl->lex >= 0) {
		sl->v['S'] = s->place;
		sl->v['W'] = s->place ? s->where : NULL;
		sl->v['d'] = s->detail->noun[nl->lex];
		sl->v['p'] = film_peak(fm, s, nl->lex);
		sl->v['a'] = lv_lex_mood_adjective(fm->f.mood, nl->lex);
	}
}

/* The prompt's sentences for a language without templates, shared out over the shots in order. */
static const char *fallback_narration(film *fm, size_t i, int seconds)
{
	const char *p = fm->text;
	size_t count = 0, k, want_from, want_to;
	lv_buf b = LV_BUF_INIT;
	const char *starts[64];
	size_t lens[64];
	while (*p && count < 64) {
		const char *q = p;
		unsigned cp;
		size_t len;
		while (*p == ' ')
			p++;
		q = p;
		while ((len = lv_ltext_decode(q, &cp)) > 0) {
			q += len;
			if (cp == '.' || cp == '!' || cp == '?' || cp == 0x3002 || cp == 0xff01 || cp == 0xff1f || cp == 0x0964 ||
			    cp == 0x061f || cp == '\n')
				break;
		}
		if (q > p) {
			starts[count] = p;
			lens[count++] = (size_t)(q - p);
		}
		p = q;
	}
	if (!count)
		return "";
	/* sentence k goes to shot k * n / count (more sentences than shots: several to a shot) */
	want_from = (i * count + fm->n - 1) / fm->n;
	want_to = ((i + 1) * count + fm->n - 1) / fm->n;
	if (count <= fm->n) {
		want_from = want_to = (size_t)-1;
		for (k = 0; k < count; k++)
			if (k * fm->n / count == i)
				want_from = want_to = k;
		if (want_from == (size_t)-1)
			return "";
		want_to++;
	}
	for (k = want_from; k < want_to && k < count; k++) {
		size_t before = b.len;
		if (b.len)
			lv_buf_puts(&b, " ");
		lv_buf_put(&b, starts[k], lens[k]);
		if (lv_speech_estimate_seconds(b.data, fm->language) > lv_narration_budget(seconds)) {
			b.len = before; /* what does not fit is left out whole, never cut */
			b.data[b.len] = '\0';
			break;
		}
	}
	if (!b.len) {
		lv_buf_free(&b);
		return "";
	}
	return keep_buf(fm, &b);
}

/* The beat followed by supplements until the line fills most of the target; NULL if it repeats a line. */
static char *build_line(film *fm, const nlang *nl, const slots *sl, const char *beat, double target)
{
	lv_buf b = LV_BUF_INIT;
	size_t k, nmore = 0, start;
	uint64_t used = fm->more_used;
	double est = 0;
	while (nmore < MORE_MAX && nl->more[nmore])
		nmore++;
	if (beat) {
		lv_buf_puts(&b, beat);
		est = lv_speech_estimate_seconds(b.data ? b.data : "", fm->language);
	}
	/* every supplement spoken once: they may come round again */
	for (k = 0; k < nmore && (used & (1ull << k)); k++)
		;
	if (k == nmore)
		used = 0;
	start = rng_below(&fm->r, nmore);
	for (k = 0; k < 2 * nmore && est < target * 0.97; k++) {
		size_t m = (start + k) % nmore, before = b.len;
		char *extra;
		if (k == nmore) {
			if (b.len > (beat ? strlen(beat) : 0))
				break;
			used = 0; /* none of those not spoken yet fits this shot: they all may come round again */
		}
		if (used & (1ull << m))
			continue;
		extra = fill(nl->more[m], sl);
		if (extra && (!b.len || !strstr(b.data, extra))) {
			double e;
			if (b.len)
				lv_buf_puts(&b, nl->sep);
			lv_buf_puts(&b, extra);
			e = lv_speech_estimate_seconds(b.data ? b.data : "", fm->language);
			if (e <= target) {
				est = e;
				used |= 1ull << m;
			} else {
				b.len = before;
				if (b.data)
					b.data[b.len] = '\0';
			}
		}
		free(extra);
	}
	if (!b.len || line_used(fm, b.data)) {
		lv_buf_free(&b);
		return NULL;
	}
	fm->more_used = used;
	return lv_buf_detach(&b);
}

static const char *make_narration(film *fm, size_t i, int seconds)
{
	const shot_plan *s = &fm->shots[i];
	const nlang *nl = fm->nl;
	const char *const *list;
	double budget = lv_narration_budget(seconds), target = budget * fm->factor;
	slots sl;
	size_t k, nlist = 0, start;
	int pass;
	char *line = NULL;
	if (!nl)
		return fallback_narration(fm, i, seconds);
	list = nl->lines[s->role];
	set_slots(fm, nl, s, &sl);
	while (list[nlist])
		nlist++;
	/* the beat: the first template (from a start that moves through the film) that fills, is not
	 * spoken yet, and fits the target; the establishing shot, the high point and the ending always try
	 * their first (the prompt, its action) first.  A long film that has spoken every template of a
	 * role speaks one again, made new by the supplements after it. */
	start = s->role == R_ESTABLISH || s->role == R_CLIMAX || s->role == R_RESOLVE ? 0 : fm->beat_turn[s->role];
	for (pass = 0; pass < 2 && !line; pass++)
		for (k = 0; k < nlist && !line; k++) {
			char *beat;
			/* the middle retells the action twice at most: more reads as repetition */
			if (s->role == R_DEVELOP && fm->action_beats >= 2 && strstr(list[(start + k) % nlist], "{P}"))
				continue;
			beat = fill(list[(start + k) % nlist], &sl);
			if (beat && (pass || !line_used(fm, beat)) && lv_speech_estimate_seconds(beat, fm->language) <= target) {
				line = build_line(fm, nl, &sl, beat, target);
				if (line && s->role == R_DEVELOP && strstr(list[(start + k) % nlist], "{P}"))
					fm->action_beats++;
				if (line && start == fm->beat_turn[s->role])
					fm->beat_turn[s->role] = start + k + 1; /* the next shot of this role starts after it */
			}
			free(beat);
		}
	if (!line) /* no beat fits (a very short shot): supplements alone */
		line = build_line(fm, nl, &sl, NULL, target);
	if (!line)
		return "";
	if (!keep(fm, line))
		return NULL;
	fm->lines[fm->n_lines++] = line;
	return line;
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

/* ---- the prompt's subject and action --------------------------------------------------------------------- */

static int is_lower_start(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (u[0] >= 'a' && u[0] <= 'z') || (u[0] == 0xc3 && u[1] >= 0xa0 && u[1] <= 0xbf);
}

/* Words that join names in a list ("Bolt and Pixel", "Tom et Léa"). */
static size_t joiner_at(const char *p)
{
	static const char *const joins[] = { "and ", "et ", "y ", "und ", "e ", "en ", "和", "与", "跟", "、", NULL };
	const char *const *j;
	for (j = joins; *j; j++)
		if (starts_with(p, *j))
			return strlen(*j);
	return 0;
}

/*
 * The named subject and what it does, as the prompt writes them: "Two robots, Bolt and Pixel, repair
 * a broken satellite" -> "Bolt and Pixel" + "repair a broken satellite"; "一只叫花花的小猫在院子里追蝴蝶"
 * -> "花花" + "在院子里追蝴蝶".  The action is the rest of the prompt's first sentence after the names,
 * when it starts with a verb-like word (lower case; in Chinese a verb or 在/正/从...); otherwise there
 * is none and the narration does without it.
 */
static void find_action(film *fm)
{
	const char *t = fm->topic;
	size_t k, first_at = (size_t)-1; /* where the first name is: no name in the prompt, no action */
	int cjk;
	if (!t || !fm->n_chars)
		return;
	cjk = has_cjk(t);
	for (k = 0; k < fm->n_chars; k++) {
		const char *at = fm->f.chars[k].name[0] ? strstr(t, fm->chars[k].name) : NULL;
		if (at && (size_t)(at - t) < first_at)
			first_at = (size_t)(at - t);
	}
	if (first_at == (size_t)-1)
		return;
	for (k = fm->n_chars; k-- > 0;) {
		const char *name = fm->chars[k].name, *at, *p, *q;
		int list;
		if (!fm->f.chars[k].name[0] || !(at = strstr(t, name)))
			continue;
		p = at + strlen(name);
		if (cjk) {
			if (starts_with(p, "的")) {
				/* "叫花花的小猫在院子里...": the action starts at 在/正/从... within a few characters */
				static const char *const starts[] = { "在", "正", "从", "向", "去", "来", "把", "独自", "又", "每",
					                             "终于", "便", "就", "一边", NULL };
				const char *r = p;
				unsigned cp;
				size_t n = 0, len;
				const char *found = NULL;
				while (!found && n < 8 && (len = lv_ltext_decode(r, &cp)) > 0 && lv_ltext_is_cjk(cp)) {
					const char *const *m;
					for (m = starts; *m; m++)
						if (starts_with(r, *m)) {
							found = r;
							break;
						}
					r += len;
					n++;
				}
				if (!found)
					continue;
				p = found;
			} else {
				unsigned cp;
				if (!lv_ltext_decode(p, &cp) || !lv_ltext_is_cjk(cp) || joiner_at(p))
					continue;
			}
		} else {
			while (*p == ' ' || *p == ',')
				p++;
			if (!is_lower_start(p) || joiner_at(p) || !strchr(p, ' '))
				continue;
		}
		/* the subject: from the earliest name from which only names and joiners lie up to this one
		 * ("Ben, Cleo, Hana and Ivo"), else this name alone */
		{
			const char *from = at;
			size_t c0;
			for (c0 = 0; c0 < fm->n_chars; c0++) {
				const char *s0 = fm->f.chars[c0].name[0] ? strstr(t, fm->chars[c0].name) : NULL;
				if (!s0 || s0 >= from)
					continue;
				list = 1;
				for (q = s0; q < at && list;) {
					size_t j, skip = joiner_at(q);
					if (*q == ' ' || *q == ',') {
						q++;
						continue;
					}
					if (skip) {
						q += skip;
						continue;
					}
					for (j = 0; j < fm->n_chars; j++)
						if (fm->f.chars[j].name[0] && starts_with(q, fm->chars[j].name)) {
							q += strlen(fm->chars[j].name);
							break;
						}
					if (j == fm->n_chars)
						list = 0;
				}
				if (list)
					from = s0;
			}
			fm->names = keep(fm, lv_strndup(from, (size_t)(at - from) + strlen(name)));
		}
		fm->action = keep(fm, lv_strdup(p));
		return;
	}
	/* no action found: the names alone, in prompt order */
	{
		lv_buf b = LV_BUF_INIT;
		size_t n = 0;
		const char *and_w = fm->nl ? fm->nl->and_w : " and ";
		for (k = 0; k < fm->n_chars && n < 3; k++) {
			if (!fm->f.chars[k].name[0])
				continue;
			if (n)
				lv_buf_puts(&b, k + 1 == fm->n_chars || n == 2 ? and_w : (cjk || !strcmp(and_w, "と") ? "、" : ", "));
			lv_buf_puts(&b, fm->chars[k].name);
			n++;
		}
		if (n)
			fm->names = keep_buf(fm, &b);
		else
			lv_buf_free(&b);
	}
}

/* ---- the story's parts --------------------------------------------------------------------------------------- */

/*
 * Connectives that join the prompt's actions into a story: "sails out at dawn and comes home in the
 * evening", "part en mer à l'aube et rentre au port le soir", "for one last catch before the winter
 * storms", "bis die Sonne untergeht", "清晨出门，黄昏时回到村子".  At one place the first listed that
 * matches is taken (longer ones first).  `verb`: 1, a word that starts a clause must follow (not an
 * article, possessive or name: "Lily and her dog", "Bolt and Pixel"); 2, a Chinese verb must follow
 * (和 mostly joins nouns); 3, a Chinese comma between two clauses (not before a short tag: "，航拍").
 */
static const struct connective {
	const char *w;
	int kind, verb;
} connectives[] = {
	{ " and then ", C_THEN, 0 },       { ", then ", C_THEN, 0 },         { " then ", C_THEN, 0 },
	{ " et puis ", C_THEN, 0 },        { ", puis ", C_THEN, 0 },         { " puis ", C_THEN, 0 },
	{ " und dann ", C_THEN, 0 },       { ", dann ", C_THEN, 0 },         { " y luego ", C_THEN, 0 },
	{ ", luego ", C_THEN, 0 },         { " y despu\xc3\xa9s ", C_THEN, 0 }, { " e poi ", C_THEN, 0 },
	{ " and ", C_AND, 1 },             { " et ", C_AND, 1 },             { " und ", C_AND, 1 },
	{ " y ", C_AND, 1 },               { " e ", C_AND, 1 },              { " before ", C_BEFORE, 0 },
	{ " avant ", C_BEFORE, 0 },        { " bevor ", C_BEFORE, 0 },       { " antes de", C_BEFORE, 0 },
	{ " prima d", C_BEFORE, 0 },       { " until ", C_UNTIL, 0 },        { " till ", C_UNTIL, 0 },
	{ " jusqu'", C_UNTIL, 0 },         { " jusqu\xe2\x80\x99", C_UNTIL, 0 }, { " bis ", C_UNTIL, 0 },
	{ " hasta ", C_UNTIL, 0 },         { " fino a", C_UNTIL, 0 },
	{ "\xef\xbc\x8c\xe7\x84\xb6\xe5\x90\x8e", C_THEN, 0 } /* ，然后 */, { "\xe7\x84\xb6\xe5\x90\x8e", C_THEN, 0 } /* 然后 */,
	{ "\xef\xbc\x8c\xe6\x8e\xa5\xe7\x9d\x80", C_THEN, 0 } /* ，接着 */, { "\xef\xbc\x8c\xe9\x9a\x8f\xe5\x90\x8e", C_THEN, 0 } /* ，随后 */,
	{ "\xef\xbc\x8c\xe5\x86\x8d", C_THEN, 0 } /* ，再 */,             { "\xef\xbc\x8c\xe5\x8f\x88", C_THEN, 0 } /* ，又 */,
	{ "\xe7\x9b\xb4\xe5\x88\xb0", C_UNTIL, 0 } /* 直到 */,          { "\xe5\x92\x8c", C_AND, 2 } /* 和 */,
	{ "\xef\xbc\x8c", C_AND, 3 } /* ， */,                           { "\xe3\x80\x81\xe3\x81\x9d\xe3\x81\x97\xe3\x81\xa6", C_THEN, 0 } /* 、そして */,
	{ "\xe3\x81\x9d\xe3\x81\x97\xe3\x81\xa6", C_THEN, 0 } /* そして */, { "\xe3\x81\x9d\xe3\x82\x8c\xe3\x81\x8b\xe3\x82\x89", C_THEN, 0 } /* それから */,
};

/* Whether the word at p can start a clause after "and" (Latin scripts): lower case, not an article,
 * determiner, possessive or number; in English also a verb's form ("comes", "returned", "go"). */
static int starts_clause(const char *p, int english)
{
	static const char *const not_verbs[] = {
		"a", "an", "the", "his", "her", "their", "its", "my", "your", "our", "some", "two", "three", "four", "many",
		"other", "all", "one", "le", "la", "les", "l'", "un", "une", "des", "du", "de", "son", "sa", "ses", "leur",
		"leurs", "mon", "ma", "mes", "deux", "trois", "el", "los", "las", "unos", "unas", "su", "sus", "mi", "dos",
		"tres", "del", "al", "der", "die", "das", "den", "dem", "ein", "eine", "einen", "einem", "sein", "seine",
		"ihr", "ihre", "zwei", "drei", "il", "lo", "i", "gli", "uno", "suo", "sua", "o", "os", "as", "um", "uma", NULL
	};
	static const char *const en_verbs[] = { "go", "come", "return", "fly", "swim", "run", "walk", "watch", "sail",
		                                "head", "set", "turn", "find", "meet", "build", "play", "sing", "dance",
		                                "look", "wait", "sleep", "leave", "drift", "climb", "ride", "fall", "rise",
		                                "take", "make", "bring", "catch", NULL };
	const char *const *w;
	size_t n = 0;
	if (!is_lower_start(p))
		return 0;
	while (p[n] && p[n] != ' ' && p[n] != ',' && p[n] != '.')
		n++;
	for (w = not_verbs; *w; w++)
		if (strlen(*w) == n && !strncmp(p, *w, n))
			return 0;
	if (!strncmp(p, "l'", 2) || !strncmp(p, "d'", 2))
		return 0;
	if (!english)
		return 1;
	if (n > 3 && ((p[n - 1] == 's' && p[n - 2] != 's') || !strncmp(p + n - 2, "ed", 2)))
		return 1;
	for (w = en_verbs; *w; w++)
		if (strlen(*w) == n && !strncmp(p, *w, n))
			return 1;
	return 0;
}

static size_t count_words(const char *s, size_t from, size_t to)
{
	size_t n = 0, i;
	for (i = from; i < to; i++)
		if (s[i] != ' ' && (i == from || s[i - 1] == ' '))
			n++;
	return n;
}

static size_t count_cjk(const char *s, size_t from, size_t to)
{
	size_t n = 0, k;
	unsigned cp;
	while (from < to && (k = lv_ltext_decode(s + from, &cp)) > 0) {
		n += lv_ltext_is_cjk(cp) != 0;
		from += k;
	}
	return n;
}

/* The connective joining a new part at byte i of the text (within [from, to)), or NULL. */
static const struct connective *connective_at(const film *fm, size_t from, size_t i, size_t to)
{
	static const char *const zh_verbs = "\xe5\x9b\x9e\xe5\x8e\xbb\xe6\x9d\xa5\xe8\xb5\xb0\xe7\x9c\x8b\xe6\x89\xbe"
	                                    "\xe7\xad\x89\xe8\xb7\x91\xe8\xbf\x94\xe5\x87\xba\xe9\xa3\x9e\xe5\x94\xb1"
	                                    "\xe8\xb7\xb3\xe7\x8e\xa9"; /* 回去来走看找等跑返出飞唱跳玩 */
	size_t c;
	for (c = 0; c < sizeof(connectives) / sizeof(connectives[0]); c++) {
		const struct connective *k = &connectives[c];
		size_t n = strlen(k->w), after = i + n;
		if (after > to || memcmp(fm->lower + i, k->w, n))
			continue;
		while (after < to && fm->text[after] == ' ')
			after++;
		if (after >= to)
			continue;
		if (k->verb == 1 && (!starts_clause(fm->text + after, !strcmp(k->w, " and ")) ||
		                     count_words(fm->text, from, i) < 3 || count_words(fm->text, after, to) < 2))
			continue;
		if (k->verb == 2) {
			unsigned cp;
			char one[5] = { 0 };
			size_t len = lv_ltext_decode(fm->text + after, &cp);
			if (!len || len > 4)
				continue;
			memcpy(one, fm->text + after, len);
			if (!strstr(zh_verbs, one))
				continue;
		}
		if (k->verb == 3 && (!fm->f.prompt_zh || count_cjk(fm->text, from, i) < 2 || count_cjk(fm->text, after, to) < 3))
			continue;
		return k;
	}
	return NULL;
}

/* The weather in a part comes during it: "watches a storm roll in", "un orage approche", "暴风雨来临". */
static int weather_arrives(const char *lower)
{
	static const char *const words[] = { "roll in", "rolls in", "rolling in", "approach", "gather", "brew",
		                             "coming", "comes in", "moves in", "moving in", "arriv", "draws near",
		                             "closing in", "approche", "se l\xc3\xa8ve", "menace", "zieht auf",
		                             "aufzieht", "naht", "n\xc3\xa4hert", "se acerca", "llega", "se avecina",
		                             "si avvicina", "\xe6\x9d\xa5\xe4\xb8\xb4" /* 来临 */,
		                             "\xe9\x80\xbc\xe8\xbf\x91" /* 逼近 */, "\xe8\xa2\xad\xe6\x9d\xa5" /* 袭来 */,
		                             "\xe5\xb0\x86\xe8\x87\xb3" /* 将至 */, "\xe8\xa6\x81\xe6\x9d\xa5" /* 要来 */,
		                             "\xe8\xbf\x91\xe3\x81\xa5" /* 近づ */, NULL };
	const char *const *w;
	for (w = words; *w; w++)
		if (strstr(lower, *w))
			return 1;
	return 0;
}

/* The trimmed copy of text[from, to): no spaces or commas at either end. */
static char *trimmed(const film *fm, size_t from, size_t to)
{
	const char *t = fm->text;
	while (from < to && (t[from] == ' ' || t[from] == ','))
		from++;
	for (;;) {
		if (to > from && (t[to - 1] == ' ' || t[to - 1] == ','))
			to--;
		else if (to >= from + 3 && (!memcmp(t + to - 3, "\xef\xbc\x8c", 3) || !memcmp(t + to - 3, "\xe3\x80\x81", 3)))
			to -= 3; /* ，、 */
		else
			break;
	}
	return to > from ? lv_strndup(t + from, to - from) : NULL;
}

/*
 * The prompt's story beats: its first sentence (the topic) cut at the connectives between its actions,
 * each part analysed on its own (place, weather), with what its shots quote and the action they tell.
 * One part when the topic is not quoted or joins no actions.
 */
static void split_parts(film *fm)
{
	/* (a topic not quoted, as a Japanese prompt's in English visuals, still gives the parts' places) */
	char *own = fm->topic ? NULL : make_topic(fm);
	const char *topic = fm->topic ? fm->topic : own ? keep(fm, own) : NULL;
	const char *at = topic ? strstr(fm->text, topic) : NULL;
	size_t from, to, i, k, act_from = (size_t)-1;
	const struct connective *cut[MAX_PARTS];
	size_t qfrom[MAX_PARTS] = { (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1 }; /* where a quote starts in the text */
	fm->n_parts = 1;
	memset(fm->parts, 0, sizeof(fm->parts));
	fm->parts[0].weather = -1;
	fm->parts[0].kind = C_FIRST;
	if (!at)
		return;
	from = (size_t)(at - fm->text);
	to = from + strlen(topic);
	fm->parts[0].from = from;
	fm->parts[0].to = to;
	cut[0] = NULL;
	if (fm->action) {
		const char *a = strstr(at, fm->action);
		if (a)
			act_from = (size_t)(a - fm->text);
	}
	for (i = from + 1; i < to && fm->n_parts < MAX_PARTS; i++) {
		const struct connective *c;
		size_t start = fm->parts[fm->n_parts - 1].from;
		if (act_from != (size_t)-1 && i < act_from)
			continue; /* between the names ("Bolt and Pixel"), never a new part */
		if ((unsigned char)fm->text[i] >= 0x80 && (unsigned char)fm->text[i] < 0xc0)
			continue; /* inside a character */
		if (!(c = connective_at(fm, start, i, to)))
			continue;
		fm->parts[fm->n_parts - 1].to = i;
		k = fm->n_parts++;
		fm->parts[k].kind = c->kind;
		fm->parts[k].weather = -1;
		cut[k] = c;
		/* "before"/"until" parts keep their word ("before the winter storms"); others start after it */
		fm->parts[k].from = c->kind == C_BEFORE || c->kind == C_UNTIL ? i + (fm->text[i] == ' ') : i + strlen(c->w);
		fm->parts[k].to = to;
		i += strlen(c->w) - 1;
	}
	if (act_from != (size_t)-1 && act_from < fm->parts[0].to)
		fm->subject_np = keep(fm, trimmed(fm, from, act_from));
	for (k = 0; k < fm->n_parts; k++) {
		story_part *p = &fm->parts[k];
		char *txt = lv_strndup(fm->text + p->from, p->to - p->from);
		char *low = lv_strndup(fm->lower + p->from, p->to - p->from);
		lv_lex_facts pf;
		if (!txt || !low || lv_lex_analyze(&pf, txt, low)) {
			free(txt);
			free(low);
			fm->oom = 1;
			return;
		}
		p->place = pf.n_places ? pf.places[0] : NULL;
		p->weather = pf.weather;
		p->arrives = dramatic(pf.weather) && weather_arrives(low);
		free(txt);
		free(low);
		if (fm->n_parts == 1) {
			p->quote = topic;
			break;
		}
		if (k > 0 && (p->kind == C_AND || p->kind == C_THEN) && fm->names && !strstr(fm->text + p->from, fm->names)) {
			/* "Tomas rentre au port le soir": the names before a clause that has none */
			char *clause = trimmed(fm, p->from, p->to);
			p->quote = clause ? keep(fm, lv_asprintf("%s%s%s", fm->names, has_cjk(clause) ? "" : " ", clause)) : NULL;
			free(clause);
		} else if (k > 0 && (p->kind == C_AND || p->kind == C_THEN)) {
			/* its own clause, not what it follows; an unnamed subject before a verb ("The old man comes
			 * back to port") */
			char *clause = trimmed(fm, p->from, p->to);
			if (clause && fm->n_chars && is_lower_start(clause) && fm->prompt_native && fm->nl && fm->nl->lex == EN) {
				lv_buf b = LV_BUF_INIT;
				put_cap(&b, fm->chars[0].ref);
				lv_buf_printf(&b, " %s", clause);
				p->quote = keep_buf(fm, &b);
				free(clause);
			} else {
				p->quote = clause ? keep(fm, clause) : NULL;
			}
		} else if (k > 0 && fm->parts[k - 1].quote && qfrom[k - 1] != (size_t)-1) {
			/* "… for one last catch before the winter storms": what comes before or until is said with
			 * what it follows, so its shots still show who does what */
			qfrom[k] = qfrom[k - 1];
			p->quote = keep(fm, trimmed(fm, qfrom[k], p->to));
		} else if (k > 0 && fm->parts[k - 1].quote) {
			char *clause = trimmed(fm, p->from, p->to);
			p->quote = clause ? keep(fm, lv_asprintf("%s%s%s", fm->parts[k - 1].quote, has_cjk(clause) ? "" : " ",
			                                         clause))
			                  : NULL;
			free(clause);
		} else {
			qfrom[k] = p->from;
			p->quote = keep(fm, trimmed(fm, p->from, p->to));
		}
		/* the action told while this part is shown: from its start (the first part: after the names) to
		 * the next part that is an action of its own */
		if (fm->action && (k == 0 || p->kind == C_AND || p->kind == C_THEN)) {
			size_t a = k == 0 ? act_from : p->from, e = to, j;
			for (j = k + 1; j < fm->n_parts; j++)
				if (fm->parts[j].kind == C_AND || fm->parts[j].kind == C_THEN) {
					e = fm->parts[j].from - strlen(cut[j]->w);
					break;
				}
			if (a != (size_t)-1 && a < e && (k > 0 || e < to))
				p->action = keep(fm, trimmed(fm, a, e));
		}
	}
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
	fm->factor = req->attempt <= 0 ? 0.95 : req->attempt == 1 ? 0.7 : 0.45;
	if (req->attempt > 0 && req->feedback && strstr(req->feedback, "narration"))
		fm->factor *= 0.8; /* the last attempt's narration did not fit: leave more room */
	fm->nl = nlang_for(fm->language);
	fm->prompt_native = fm->nl && prompt_in(fm, fm->nl);
	/* the topic is quoted only when it is written in the film's language */
	if (fm->prompt_native || fm->f.prompt_zh == (fm->L == ZH)) {
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
	find_action(fm);
	split_parts(fm);
	fm->sought = find_sought(fm);
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
		cJSON *o = cJSON_CreateObject(), *who = NULL;
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
	fm.sought = -1;
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
		plan_parts(&fm);
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
