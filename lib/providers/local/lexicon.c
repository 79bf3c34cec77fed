/*
 * Prompt analysis for the built-in script writer: keywords from the lexicon, a mood from their
 * votes, and characters (named or by role) found with a few English and Chinese patterns:
 *   "a girl named Lily", "Lily and her dog", "Lily's cat", "Tom walks", "an old fisherman",
 *   "一个叫小红的女孩", "小明和他的狗", "老人", "一只猫".
 * It is heuristic by nature; it prefers missing a character to inventing one.
 */
#include "providers/local/lexicon.h"
#include "providers/local/text.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

size_t lv_lex_match(const char *terms, const char *at, int en, int plural_ok)
{
	size_t best = 0;
	const char *seg = terms;
	while (seg && *seg) {
		const char *bar = strchr(seg, '|');
		size_t len = bar ? (size_t)(bar - seg) : strlen(seg);
		if (len && !strncmp(at, seg, len)) {
			size_t got = 0;
			if (!en || !lv_ltext_is_alnum((unsigned char)at[len]))
				got = len;
			else if (plural_ok && at[len] == 's' && !lv_ltext_is_alnum((unsigned char)at[len + 1]))
				got = len + 1;
			else if (plural_ok && at[len] == 'e' && at[len + 1] == 's' &&
			         !lv_ltext_is_alnum((unsigned char)at[len + 2]))
				got = len + 2;
			if (got > best)
				best = got;
		}
		seg = bar ? bar + 1 : NULL;
	}
	return best;
}

/* ---- keywords ---------------------------------------------------------------------------------------- */

/* Weather that dominates when a prompt names several: a storm over rain over fog... */
static int weather_rank(int w)
{
	static const int rank[LV_WEATHER_COUNT] = { 4, 6, 5, 3, 2, 0, 1 };
	return w >= 0 && w < LV_WEATHER_COUNT ? rank[w] : -1;
}

typedef struct votes {
	int score[LV_MOOD_COUNT];
	size_t first[LV_MOOD_COUNT];
} votes;

static void vote(votes *v, int mood, int weight, size_t pos)
{
	if (mood < 0 || mood >= LV_MOOD_COUNT)
		return;
	if (!v->score[mood] || pos < v->first[mood])
		v->first[mood] = pos;
	v->score[mood] += weight;
}

static void record(lv_lex_facts *f, votes *v, const lv_lex_entry *e, size_t pos)
{
	size_t i;
	switch (e->kind) {
	case LV_LEX_PLACE:
	case LV_LEX_THING:
		for (i = 0; i < f->n_places; i++)
			if (f->places[i] == e)
				return;
		if (f->n_places < LV_LEX_MAX_PLACES)
			f->places[f->n_places++] = e;
		break;
	case LV_LEX_TIME:
		if (f->time < 0) {
			f->time = e->id;
			f->time_pos = pos;
		} else if (e->id != f->time) {
			f->time_last = e->id;
			f->time_last_pos = pos;
		}
		break;
	case LV_LEX_WEATHER:
		if (weather_rank(e->id) > weather_rank(f->weather))
			f->weather = e->id;
		break;
	case LV_LEX_SEASON:
		if (f->season < 0)
			f->season = e->id;
		break;
	case LV_LEX_TECH:
		f->tech |= 1u << e->id;
		break;
	default:
		break;
	}
	vote(v, e->mood, e->kind == LV_LEX_MOOD ? 3 : 1, pos);
}

static void scan_keywords(lv_lex_facts *f, const char *lower)
{
	votes v;
	size_t p = 0, i;
	int m;
	memset(&v, 0, sizeof(v));
	while (lower[p]) {
		unsigned char c = (unsigned char)lower[p];
		int en = lv_ltext_is_alnum(c);
		const lv_lex_entry *best = NULL;
		size_t best_len = 0;
		if ((en && (p == 0 || !lv_ltext_is_alnum((unsigned char)lower[p - 1]))) || c >= 0x80) {
			for (i = 0; i < lv_lex_n_entries; i++) {
				const lv_lex_entry *e = &lv_lex_entries[i];
				size_t len = lv_lex_match(en ? e->en_terms : e->zh_terms, lower + p, en, en);
				if (len > best_len) {
					best_len = len;
					best = e;
				}
			}
		}
		if (best) {
			record(f, &v, best, p);
			p += best_len;
		} else if (en) {
			while (lv_ltext_is_alnum((unsigned char)lower[p]))
				p++;
		} else {
			unsigned cp;
			p += lv_ltext_decode(lower + p, &cp);
		}
	}
	f->mood = LV_MOOD_CALM;
	for (m = 0; m < LV_MOOD_COUNT; m++) {
		if (v.score[m] > v.score[f->mood] ||
		    (v.score[m] && v.score[m] == v.score[f->mood] && v.first[m] < v.first[f->mood]))
			f->mood = m;
	}
}

/* ---- characters ---------------------------------------------------------------------------------------- */

static int role_taken(const lv_lex_facts *f, const lv_lex_role *r)
{
	size_t i;
	for (i = 0; i < f->n_chars; i++)
		if (f->chars[i].role == r)
			return 1;
	return 0;
}

static lv_lex_char *add_char(lv_lex_facts *f, const char *name, size_t name_len, const lv_lex_role *r, size_t pos)
{
	lv_lex_char *c;
	size_t i;
	if (name_len >= LV_LEX_NAME_MAX) {
		name_len = LV_LEX_NAME_MAX - 1;
		while (name_len && ((unsigned char)name[name_len] & 0xc0) == 0x80) /* whole characters only */
			name_len--;
	}
	for (i = 0; i < f->n_chars; i++) {
		c = &f->chars[i];
		if (name_len && strlen(c->name) == name_len && !strncmp(c->name, name, name_len))
			return NULL;
	}
	if (!name_len && role_taken(f, r))
		return NULL;
	if (f->n_chars >= LV_LEX_MAX_CHARS)
		return NULL;
	c = &f->chars[f->n_chars++];
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, name_len);
	c->name[name_len] = '\0';
	c->role = r;
	c->kind = r ? r->kind : LV_KIND_HUMAN;
	c->gender = r ? r->gender : LV_GENDER_UNKNOWN;
	c->age = r ? r->age : LV_AGE_YOUNG;
	c->pos = pos;
	return c;
}

/* English: tokens of ASCII letters and digits (with inner apostrophes). */
typedef struct tok {
	size_t start, end;
	int sent_start; /* first word of a sentence */
	int comma_after;
} tok;

/* ASCII letters and digits, and the letters of Latin-1 Supplement and Latin Extended-A/B ("Tomás",
 * "nommé", "Łucja"): their lead bytes are 0xC3..0xC9, followed by a continuation byte. */
static int is_word_byte(const char *s, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	if (lv_ltext_is_alnum(c))
		return 1;
	if (c >= 0xc3 && c <= 0xc9)
		return ((unsigned char)s[i + 1] & 0xc0) == 0x80;
	return (c & 0xc0) == 0x80 && i > 0 && (unsigned char)s[i - 1] >= 0xc3 && (unsigned char)s[i - 1] <= 0xc9;
}

static size_t tokenize(tok *t, size_t cap, const char *s)
{
	size_t n = 0, i = 0;
	int sent = 1;
	while (s[i] && n < cap) {
		if (is_word_byte(s, i)) {
			t[n].start = i;
			while (is_word_byte(s, i) || (s[i] == '\'' && is_word_byte(s, i + 1)) ||
			       (!strncmp(s + i, "\xe2\x80\x99", 3) && is_word_byte(s, i + 3)))
				i += (s[i] == '\'' || is_word_byte(s, i)) ? 1 : 3;
			t[n].end = i;
			t[n].sent_start = sent;
			t[n].comma_after = 0;
			{
				size_t j = i;
				while (s[j] == ' ')
					j++;
				t[n].comma_after = s[j] == ',' || !strncmp(s + j, "\xef\xbc\x8c", 3);
			}
			sent = 0;
			n++;
			continue;
		}
		if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == '\n' || !strncmp(s + i, "\xe3\x80\x82", 3))
			sent = 1;
		i++;
	}
	return n;
}

static int tok_is(const char *lower, const tok *t, const char *word)
{
	size_t len = strlen(word);
	return t->end - t->start == len && !strncmp(lower + t->start, word, len);
}

static int tok_in(const char *lower, const tok *t, const char *const *words)
{
	for (; *words; words++)
		if (tok_is(lower, t, *words))
			return 1;
	return 0;
}

static int tok_possessive(const char *s, const tok *t)
{
	size_t len = t->end - t->start;
	return (len > 2 && !strncmp(s + t->end - 2, "'s", 2)) || (len > 4 && !strncmp(s + t->end - 4, "\xe2\x80\x99s", 4));
}

static const char *const determiners[] = { "a",    "an",   "the",  "one", "his", "her",    "their", "my",
	                                   "our",  "its",  "this", "that", "lone", "single", "your",
	                                   /* French, Spanish, German */
	                                   "un", "une", "le", "la", "les", "sa", "son", "el", "una", "los", "las", "su",
	                                   "ein", "eine", "einen", "einem", "der", "das", "sein", "seine", "seinen", "ihr",
	                                   "ihre", "ihren", NULL };
static const char *const old_w[] = { "old", "elderly", "aged", "vieux", "vieil", "vieille", "viejo", "vieja", "anciano",
	                             "anciana", "alt", "alte", "alter", "alten", NULL };
static const char *const young_w[] = { "young", "teenage", "jeune", "joven", "junge", "jungen", NULL };
static const char *const small_w[] = { "little", "small", "tiny", "petit", "petite", "peque\xc3\xb1o",
	                               "peque\xc3\xb1" "a", "kleine", "kleiner", "kleines", NULL };
static const char *const breakers[] = { "and",  "or",   "with", "of",    "in",     "on",   "at",  "to",
	                                "by",   "for",  "from", "is",    "are",    "was",  "were", "named",
	                                "called", "as", "than", "into", "through", NULL };
static const char *const stop_caps[] = {
	"the", "a", "an", "this", "that", "these", "those", "it", "its", "in", "on", "at", "as", "and", "but", "or",
	"when", "while", "after", "before", "then", "there", "here", "every", "each", "one", "some", "our", "my", "his",
	"her", "their", "we", "you", "he", "she", "they", "i", "what", "where", "why", "how", "make", "create", "show",
	"generate", "film", "video", "please", "let", "lets", "once", "now", "today", "tonight", "tomorrow", "meanwhile",
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
	"april", "may", "june", "july", "august", "september", "october", "november", "december", "chapter", "scene",
	"part", "story", "from", "with", "under", "over", "through", "across", "inside", "outside", "behind", "beyond",
	"during", "all", "no", "not", "yes", "mr", "mrs", "ms", "dr", "st", "god", "christmas", "easter", NULL
};
/* Verbs a person or animal does; a capitalised word followed by one is taken for a name. */
static const char *const verbs[] = {
	"walk", "run", "ran", "play", "look", "find", "found", "discover", "meet", "met", "go", "went", "sit", "sat",
	"wait", "dance", "sing", "sang", "explore", "travel", "return", "ride", "rode", "swim", "swam", "climb", "chase",
	"fight", "fought", "cook", "paint", "read", "write", "wrote", "watch", "smile", "cry", "sleep", "slept", "wake",
	"woke", "learn", "build", "built", "fish", "search", "feed", "fed", "hold", "held", "carry", "open", "stand",
	"stood", "jump", "fly", "flew", "sail", "drive", "drove", "visit", "leave", "left", "arrive", "dream", "hug",
	"laugh", "wander", "hike", "save", "help", "love", "loves", "lose", "lost", "get", "gets", "got", "take", "took",
	"make", "made", "see", "saw", "hear", "heard", "try", "tries", "become", "became", "sets", "set", "begin",
	"began", "grow", "grew", "plant", "catch", "caught", "bring", "brought", "follow", "escape", "race", "come",
	"came", "turn", "stare", "gaze", "listen", NULL
};

/* Words that introduce a name: "a girl named Lily", "un p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas", "ein Fischer namens Tomas". */
static const char *const name_cues[] = { "named", "called", "nomm\xc3\xa9", "nomm\xc3\xa9" "e", "appel\xc3\xa9",
	                                 "appel\xc3\xa9" "e", "llamado", "llamada", "namens", "genannt", "chiamato",
	                                 "chiamata", "chamado", "chamada", "genaamd", NULL };

/* A verb form: the word itself or with -s/-es/-ed/-ing (or -ies/-ied for -y verbs). */
static int is_verb(const char *lower, const tok *t)
{
	const char *const *v;
	size_t len = t->end - t->start;
	const char *w = lower + t->start;
	static const char *const suffix[] = { "", "s", "es", "ed", "d", "ing", NULL };
	for (v = verbs; *v; v++) {
		size_t vl = strlen(*v);
		const char *const *sx;
		if (len < vl || strncmp(w, *v, vl))
			continue;
		for (sx = suffix; *sx; sx++)
			if (len == vl + strlen(*sx) && !strncmp(w + vl, *sx, len - vl))
				return 1;
		if ((*v)[vl - 1] == 'y' && len == vl + 2 && (!strncmp(w + vl - 1, "ies", 3) || !strncmp(w + vl - 1, "ied", 3)))
			return 1;
	}
	return 0;
}

static int is_capitalized(const char *s, const tok *t)
{
	size_t i;
	const unsigned char *u = (const unsigned char *)s + t->start;
	int upper = (u[0] >= 'A' && u[0] <= 'Z') || (u[0] == 0xc3 && u[1] >= 0x80 && u[1] <= 0x9e && u[1] != 0x97);
	if (t->end - t->start < 2 || !upper)
		return 0;
	for (i = t->start + 1; i < t->end; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return 0;
	return 1;
}

/* The role whose English term starts at token i (whole words, singular only); *last gets its last token. */
static const lv_lex_role *role_at(const char *lower, const tok *t, size_t n, size_t i, size_t *last)
{
	const lv_lex_role *best = NULL;
	size_t best_len = 0, r, j;
	for (r = 0; r < lv_lex_n_roles; r++) {
		size_t len = lv_lex_match(lv_lex_roles[r].en_terms, lower + t[i].start, 1, 0);
		if (len > best_len) {
			best_len = len;
			best = &lv_lex_roles[r];
		}
	}
	if (!best)
		return NULL;
	for (j = i; j < n && t[j].start < t[i].start + best_len; j++)
		*last = j;
	/* whole words only, or a possessive ("the girl's kite") */
	if (t[*last].end == t[i].start + best_len || lower[t[i].start + best_len] == '\'' ||
	    !strncmp(lower + t[i].start + best_len, "\xe2\x80\x99", 3))
		return best;
	return NULL;
}

static int is_lexicon_word(const char *lower, const tok *t)
{
	size_t i;
	for (i = 0; i < lv_lex_n_entries; i++)
		if (lv_lex_match(lv_lex_entries[i].en_terms, lower + t->start, 1, 1) == t->end - t->start)
			return 1;
	for (i = 0; i < lv_lex_n_roles; i++)
		if (lv_lex_match(lv_lex_roles[i].en_terms, lower + t->start, 1, 1) == t->end - t->start)
			return 1;
	return 0;
}

/* A determiner (possibly past adjectives) before token i, or the start of a sentence.  Adjectives
 * on the way can set the age. */
static int det_context(const char *s, const char *lower, const tok *t, size_t i, int *age)
{
	size_t k, back;
	*age = -1;
	if (t[i].sent_start)
		return 1;
	for (back = 1; back <= 3 && back <= i; back++) {
		k = i - back;
		if (tok_in(lower, &t[k], determiners) || tok_possessive(s, &t[k]))
			return 1;
		if (tok_in(lower, &t[k], breakers) || t[k].comma_after)
			return 0;
		if (tok_in(lower, &t[k], old_w))
			*age = LV_AGE_OLD;
		else if (tok_in(lower, &t[k], young_w))
			*age = LV_AGE_YOUNG;
		else if (tok_in(lower, &t[k], small_w))
			*age = LV_AGE_CHILD;
		if (t[k].sent_start)
			return 1;
	}
	return 0;
}

/* A run of up to three capitalised, non-stop words from token i; returns the last token. */
static size_t name_run(const char *s, const char *lower, const tok *t, size_t n, size_t i)
{
	size_t k = i;
	while (k + 1 < n && k < i + 2 && !t[k].comma_after && !tok_possessive(s, &t[k]) && t[k + 1].start == t[k].end + 1 &&
	       is_capitalized(s, &t[k + 1]) && !tok_in(lower, &t[k + 1], stop_caps) && !is_lexicon_word(lower, &t[k + 1]))
		k++;
	return k;
}

static void gender_from_pronouns(lv_lex_char *c, const char *lower, const tok *t, size_t n, size_t from)
{
	size_t k;
	if (!c || c->gender != LV_GENDER_UNKNOWN || c->kind != LV_KIND_HUMAN)
		return;
	for (k = from; k < n && k < from + 8; k++) {
		if (tok_is(lower, &t[k], "she") || tok_is(lower, &t[k], "her") || tok_is(lower, &t[k], "hers")) {
			c->gender = LV_GENDER_FEMALE;
			return;
		}
		if (tok_is(lower, &t[k], "he") || tok_is(lower, &t[k], "his") || tok_is(lower, &t[k], "him")) {
			c->gender = LV_GENDER_MALE;
			return;
		}
	}
}

static void add_named(lv_lex_facts *f, const char *s, const tok *t, size_t first, size_t last, const lv_lex_role *r,
                      int age, const char *lower, size_t n)
{
	size_t end = t[last].end;
	lv_lex_char *c;
	if (tok_possessive(s, &t[last]))
		end -= s[end - 2] == '\'' ? 2 : 4;
	c = add_char(f, s + t[first].start, end - t[first].start, r, t[first].start);
	if (c && age >= 0 && c->kind == LV_KIND_HUMAN)
		c->age = age;
	gender_from_pronouns(c, lower, t, n, last + 1);
}

static int scan_english(lv_lex_facts *f, const char *s, const char *lower)
{
	size_t cap = strlen(s) / 2 + 2, n, i;
	tok *t = lv_malloc(cap * sizeof(*t));
	if (!t)
		return LV_ENOMEM;
	n = tokenize(t, cap, s);
	for (i = 0; i < n; i++) {
		size_t last = i, k;
		int age;
		const lv_lex_role *r = role_at(lower, t, n, i, &last);
		if (r) {
			if (!det_context(s, lower, t, i, &age))
				continue;
			/* "a girl named Lily", "a dog called Max" */
			if (last + 2 < n && tok_in(lower, &t[last + 1], name_cues) && is_capitalized(s, &t[last + 2])) {
				k = name_run(s, lower, t, n, last + 2);
				add_named(f, s, t, last + 2, k, r, age, lower, n);
				i = k;
				continue;
			}
			{
				lv_lex_char *c = add_char(f, "", 0, r, t[i].start);
				if (c && age >= 0 && c->kind == LV_KIND_HUMAN)
					c->age = age;
			}
			i = last;
			continue;
		}
		if (!is_capitalized(s, &t[i]) || tok_in(lower, &t[i], stop_caps) || is_lexicon_word(lower, &t[i]))
			continue;
		k = name_run(s, lower, t, n, i);
		{
			int cue = 0;
			const lv_lex_role *app = NULL;
			size_t app_last = k;
			if (i > 0 && tok_in(lower, &t[i - 1], name_cues))
				cue = 1;
			else if (i > 0 && !t[i].sent_start && t[i - 1].comma_after &&
			         (t[k].comma_after || (k + 2 < n && tok_is(lower, &t[k + 1], "and") && is_capitalized(s, &t[k + 2]))))
				cue = 1; /* an apposition: "two robots, Bolt and Pixel, ..." */
			else if (!t[i].sent_start && t[k].comma_after && k + 1 < n && is_capitalized(s, &t[k + 1]) &&
			         !tok_in(lower, &t[k + 1], stop_caps) && !is_lexicon_word(lower, &t[k + 1]))
				cue = 1; /* the first of a list: "her friends Ben, Cleo and Dan" */
			else if (i > 1 && tok_is(lower, &t[i - 1], "and") && f->n_chars && f->chars[f->n_chars - 1].name[0] &&
			         f->chars[f->n_chars - 1].pos + strlen(f->chars[f->n_chars - 1].name) == t[i - 2].end)
				cue = 1; /* the second of "Bolt and Pixel" */
			else if (tok_possessive(s, &t[k]))
				cue = 1;
			else if (k + 1 < n && !t[k].comma_after && is_verb(lower, &t[k + 1]))
				cue = 1;
			else if (k + 2 < n && tok_is(lower, &t[k + 1], "and") &&
			         (tok_in(lower, &t[k + 2], determiners) ||
			          (is_capitalized(s, &t[k + 2]) && !tok_in(lower, &t[k + 2], stop_caps) && k + 3 < n &&
			           is_verb(lower, &t[k + 3]))))
				cue = 1;
			if (t[k].comma_after && k + 2 < n && tok_in(lower, &t[k + 1], determiners)) {
				/* "Lily, a young painter, ..." */
				size_t j;
				for (j = k + 2; j < n && j <= k + 4 && !app; j++) {
					size_t l2 = j;
					app = role_at(lower, t, n, j, &l2);
					if (app)
						app_last = l2;
				}
				if (app)
					cue = 1;
			}
			if (!cue)
				continue;
			if (!app && i > 0 && t[i - 1].comma_after) {
				/* "two robots, Bolt and Pixel": the plural role before the apposition */
				size_t ri;
				for (ri = 0; ri < lv_lex_n_roles && !app; ri++)
					if (lv_lex_match(lv_lex_roles[ri].en_terms, lower + t[i - 1].start, 1, 1) ==
					    t[i - 1].end - t[i - 1].start)
						app = &lv_lex_roles[ri];
			}
			if (!app && i > 1 && tok_is(lower, &t[i - 1], "and") && f->n_chars && f->chars[f->n_chars - 1].name[0] &&
			    f->chars[f->n_chars - 1].pos + strlen(f->chars[f->n_chars - 1].name) == t[i - 2].end)
				app = f->chars[f->n_chars - 1].role; /* "Bolt and Pixel": the same kind */
			if (!app && i > 0 && !t[i].sent_start) {
				/* a name standing for a role just mentioned ("two robots, Bolt and Pixel") is that role;
				 * the unnamed role character it stands for goes */
				size_t j;
				for (j = f->n_chars; j-- > 0;)
					if (f->chars[j].pos < t[i].start && f->chars[j].role) {
						if (t[i - 1].comma_after || tok_is(lower, &t[i - 1], "and")) {
							app = f->chars[j].role;
							if (!f->chars[j].name[0]) {
								memmove(&f->chars[j], &f->chars[j + 1], (f->n_chars - j - 1) * sizeof(f->chars[0]));
								f->n_chars--;
							}
						}
						break;
					}
			}
			add_named(f, s, t, i, k, app, -1, lower, n);
			i = app ? app_last : k;
		}
	}
	free(t);
	return LV_OK;
}

/* ---- Chinese ---------------------------------------------------------------------------------------------- */

typedef struct cps {
	unsigned *cp;
	size_t *off; /* byte offset of each code point; off[n] = length */
	size_t n;
	unsigned char *used; /* part of a found character already */
} cps;

static int cp_in(unsigned cp, const char *set)
{
	const char *p = set;
	unsigned c;
	size_t k;
	while ((k = lv_ltext_decode(p, &c)) > 0) {
		if (c == cp)
			return 1;
		p += k;
	}
	return 0;
}

static unsigned at(const cps *c, size_t i)
{
	return i < c->n ? c->cp[i] : 0;
}

static unsigned before(const cps *c, size_t i, size_t back)
{
	return i >= back ? c->cp[i - back] : 0;
}

/* Characters that never belong to a name; a name starts after one of them (or after non-CJK). */
static const char zh_stop[] = "的在是了着和与跟个位只名一这那里上中有我你他她它们叫把被给让见到从向对";
/* After 小/阿 these make ordinary words (小镇, 小狗, 阿姨...), not names. */
static const char xiao_not[] = "镇河狗猫船雨路巷屋孩鸟溪山岛店街村院桥草花树雪时姑伙朋学吃摊城男女贩提号麦熊兔鱼虫"
                               "马羊猪鸡鸭心说巧小型区车径丑子姐弟妹品道楼舟园蜜家人刻事声手脚脸床桌门窗灯米块片组"
                               "的了一些点会儿看写";
static const char a_not[] = "姨婆公爸妈哥姐弟妹拉尔根富里联伯嬷";
static const char surnames[] = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏"
                               "卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾"
                               "侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文";
/* What may follow a name: a conjunction, a verb, a possessive... */
static const char name_cue[] = "和与跟带在正走跑坐站看骑来去的说喜想拿抱牵独一每终又也还是把被给向对从突便就用要会";
static const char measure[] = "只条匹头隻羽";
static const char numerals[] = "两三四五六七八九十几多些群";
static const char zh_punct[] = "，。！？、；：,.!?;: “”\"'（）()《》";

static int is_name_char(unsigned cp)
{
	return lv_ltext_is_cjk(cp) && !cp_in(cp, zh_stop);
}

static int zh_boundary(unsigned cp)
{
	return cp == 0 || !lv_ltext_is_cjk(cp) || cp_in(cp, zh_stop);
}

/* The longest Chinese role term at code point i; *len gets its length in code points. */
static const lv_lex_role *zh_role_at(const char *text, const cps *c, size_t i, size_t *len)
{
	const lv_lex_role *best = NULL;
	size_t best_bytes = 0, r, k;
	if (i >= c->n)
		return NULL;
	for (r = 0; r < lv_lex_n_roles; r++) {
		size_t b = lv_lex_match(lv_lex_roles[r].zh_terms, text + c->off[i], 0, 0);
		if (b > best_bytes) {
			best_bytes = b;
			best = &lv_lex_roles[r];
		}
	}
	if (!best)
		return NULL;
	for (k = i; k < c->n && c->off[k] < c->off[i] + best_bytes; k++)
		;
	*len = k - i;
	return best;
}

static void mark(cps *c, size_t from, size_t to)
{
	size_t k;
	for (k = from; k < to && k < c->n; k++)
		c->used[k] = 1;
}

/* A character found at code points [from, to): named by that span, or by its role when unnamed. */
static lv_lex_char *zh_add(lv_lex_facts *f, const char *text, cps *c, size_t from, size_t to, const lv_lex_role *r,
                           int named)
{
	size_t k;
	lv_lex_char *ch = add_char(f, text + c->off[from], named ? c->off[to] - c->off[from] : 0, r, c->off[from]);
	mark(c, from, to);
	if (ch && ch->kind == LV_KIND_HUMAN && ch->gender == LV_GENDER_UNKNOWN) {
		for (k = to; k < c->n && k < to + 8; k++) {
			if (c->cp[k] == 0x5979) { /* 她 */
				ch->gender = LV_GENDER_FEMALE;
				break;
			}
			if (c->cp[k] == 0x4ed6) { /* 他 */
				ch->gender = LV_GENDER_MALE;
				break;
			}
		}
	}
	return ch;
}

/* "一个叫小红的女孩", "一只名叫旺财的狗", "有个男孩叫小明。" */
static void zh_called(lv_lex_facts *f, const char *text, cps *c)
{
	size_t i;
	for (i = 0; i < c->n; i++) {
		size_t start, j, rl = 0;
		const lv_lex_role *r = NULL;
		if (c->cp[i] == 0x53eb) /* 叫 */
			start = at(c, i + 1) == 0x505a ? i + 2 : i + 1; /* 叫做 */
		else if (c->cp[i] == 0x4e3a && before(c, i, 1) == 0x540d) /* 名为 */
			start = i + 1;
		else
			continue;
		if (start >= c->n || cp_in(c->cp[start], "声喊卖醒好嚷唤着了起来作住道人我他她它的"))
			continue;
		for (j = start; j < c->n && j < start + 12; j++) {
			unsigned cp = c->cp[j];
			int latin = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
			if (!(lv_ltext_is_cjk(cp) && cp != 0x7684) && !latin)
				break;
			if (!latin && j >= start + 4)
				break;
		}
		if (j == start || (j < c->n && c->cp[j] != 0x7684 && !cp_in(c->cp[j], zh_punct)))
			continue;
		if (j < c->n && c->cp[j] == 0x7684) { /* 的 + role */
			r = zh_role_at(text, c, j + 1, &rl);
			if (r)
				mark(c, j + 1, j + 1 + rl);
		} else {
			/* the role just before 叫 ("有个男孩叫小明") */
			size_t b, l2;
			for (b = 1; b <= 4 && b <= i; b++) {
				const lv_lex_role *cand = zh_role_at(text, c, i - b, &l2);
				if (cand && i - b + l2 == i && !c->used[i - b]) {
					r = cand;
					mark(c, i - b, i);
					break;
				}
			}
		}
		zh_add(f, text, c, start, j, r, 1);
		i = j;
	}
}

/* 小明, 阿福, 老王 followed by something a person does or has. */
static void zh_prefixed(lv_lex_facts *f, const char *text, cps *c)
{
	size_t i;
	for (i = 0; i + 2 < c->n; i++) {
		unsigned p = c->cp[i], x = c->cp[i + 1];
		int ok;
		if (c->used[i] || c->used[i + 1] || !zh_boundary(before(c, i, 1)) || !lv_ltext_is_cjk(x))
			continue;
		if (p == 0x5c0f) /* 小 */
			ok = !cp_in(x, xiao_not);
		else if (p == 0x963f) /* 阿 */
			ok = !cp_in(x, a_not);
		else if (p == 0x8001) /* 老 */
			ok = cp_in(x, surnames);
		else
			continue;
		if (!ok || !cp_in(c->cp[i + 2], name_cue))
			continue;
		{
			lv_lex_char *ch = zh_add(f, text, c, i, i + 2, NULL, 1);
			if (ch)
				ch->age = p == 0x5c0f ? LV_AGE_CHILD : p == 0x8001 ? LV_AGE_OLD : LV_AGE_YOUNG;
		}
		i++;
	}
}

static int zh_is_word(const char *text, const cps *c, size_t from, size_t to)
{
	size_t i, bytes = c->off[to] - c->off[from];
	for (i = 0; i < lv_lex_n_entries; i++)
		if (lv_lex_match(lv_lex_entries[i].zh_terms, text + c->off[from], 0, 0) >= bytes)
			return 1;
	for (i = 0; i < lv_lex_n_roles; i++)
		if (lv_lex_match(lv_lex_roles[i].zh_terms, text + c->off[from], 0, 0) >= bytes)
			return 1;
	return 0;
}

/* "王小明和他的狗", "李雷跟她的猫": a name before 和/与/跟 + 他的/她的. */
static void zh_with_companion(lv_lex_facts *f, const char *text, cps *c)
{
	size_t i;
	for (i = 2; i + 2 < c->n; i++) {
		size_t from;
		if (!cp_in(c->cp[i], "和与跟") || !cp_in(c->cp[i + 1], "他她") || c->cp[i + 2] != 0x7684 || c->used[i - 1])
			continue;
		if (i >= 3 && is_name_char(c->cp[i - 3]) && is_name_char(c->cp[i - 2]) && is_name_char(c->cp[i - 1]) &&
		    zh_boundary(before(c, i, 4)) && !c->used[i - 3])
			from = i - 3;
		else if (is_name_char(c->cp[i - 2]) && is_name_char(c->cp[i - 1]) && zh_boundary(before(c, i, 3)))
			from = i - 2;
		else
			continue;
		if (zh_is_word(text, c, from, i))
			continue;
		zh_add(f, text, c, from, i, NULL, 1);
	}
}

/* "Lily和她的狗", "Tom在海边": a capitalised Latin word followed by what a person does or has. */
static void zh_latin_names(lv_lex_facts *f, const char *text, cps *c)
{
	size_t i = 0;
	while (i < c->n) {
		size_t j = i, k, next;
		char low[LV_LEX_NAME_MAX];
		int stop = 0;
		if (!(c->cp[i] >= 'A' && c->cp[i] <= 'Z') || (i > 0 && c->cp[i - 1] < 0x80 &&
		                                              lv_ltext_is_alnum((unsigned char)c->cp[i - 1]))) {
			i++;
			continue;
		}
		while (j < c->n && c->cp[j] < 0x80 && lv_ltext_is_alnum((unsigned char)c->cp[j]))
			j++;
		next = j < c->n && c->cp[j] == ' ' ? j + 1 : j;
		if (j - i < 2 || j - i >= sizeof(low) || next >= c->n || !lv_ltext_is_cjk(c->cp[next]) ||
		    !cp_in(c->cp[next], name_cue)) {
			i = j;
			continue;
		}
		for (k = i; k < j; k++)
			low[k - i] = (char)(c->cp[k] | 0x20);
		low[j - i] = '\0';
		for (k = 0; stop_caps[k] && !stop; k++)
			stop = !strcmp(stop_caps[k], low);
		for (k = 0; k < lv_lex_n_entries && !stop; k++)
			stop = lv_lex_match(lv_lex_entries[k].en_terms, low, 1, 1) == j - i;
		for (k = 0; k < lv_lex_n_roles && !stop; k++)
			stop = lv_lex_match(lv_lex_roles[k].en_terms, low, 1, 1) == j - i;
		if (!stop)
			zh_add(f, text, c, i, j, NULL, 1);
		i = j;
	}
}

static int possessed(const lv_lex_facts *f, const cps *c, size_t i)
{
	size_t k;
	if (before(c, i, 1) != 0x7684) /* 的 */
		return 0;
	if (cp_in(before(c, i, 2), "他她它我你"))
		return 1;
	for (k = 0; k < f->n_chars; k++)
		if (i >= 1 && f->chars[k].name[0] && c->off[i - 1] == f->chars[k].pos + strlen(f->chars[k].name))
			return 1;
	return 0;
}

static void zh_roles(lv_lex_facts *f, const char *text, cps *c)
{
	size_t i, len;
	for (i = 0; i < c->n; i++) {
		const lv_lex_role *r;
		lv_lex_char *ch;
		unsigned prev = before(c, i, 1);
		if (c->used[i] || !lv_ltext_is_cjk(c->cp[i]) || !(r = zh_role_at(text, c, i, &len)))
			continue;
		if (at(c, i + len) == 0x4eec /* 们 */ || cp_in(prev, "群些") ||
		    (cp_in(prev, "个只位名条匹头") && cp_in(before(c, i, 2), numerals))) {
			i += len - 1;
			continue;
		}
		/* a one-character animal (狗, 猫, 马) is a character only when counted or owned ("一只猫",
		 * "他的狗"); 小狗, 猫咪, 巨龙 are characters by themselves */
		if (r->needs_context && len == 1 && !cp_in(prev, measure) && !possessed(f, c, i)) {
			i += len - 1;
			continue;
		}
		ch = zh_add(f, text, c, i, i + len, r, 0);
		if (ch && ch->kind == LV_KIND_HUMAN) {
			if (prev == 0x8001 && r->age != LV_AGE_OLD) /* 老 */
				ch->age = LV_AGE_OLD;
			else if ((prev == 0x8f7b && before(c, i, 2) == 0x5e74) ||
			         (prev == 0x7684 && before(c, i, 2) == 0x8f7b && before(c, i, 3) == 0x5e74)) /* 年轻(的) */
				ch->age = LV_AGE_YOUNG;
		}
		i += len - 1;
	}
}

static int scan_chinese(lv_lex_facts *f, const char *text)
{
	cps c;
	size_t len = strlen(text), i = 0, k;
	unsigned cp;
	memset(&c, 0, sizeof(c));
	c.cp = lv_calloc(len + 1, sizeof(*c.cp));
	c.off = lv_calloc(len + 1, sizeof(*c.off));
	c.used = lv_calloc(len + 1, 1);
	if (!c.cp || !c.off || !c.used) {
		free(c.cp);
		free(c.off);
		free(c.used);
		return LV_ENOMEM;
	}
	while ((k = lv_ltext_decode(text + i, &cp)) > 0) {
		c.off[c.n] = i;
		c.cp[c.n++] = cp;
		i += k;
	}
	c.off[c.n] = i;
	zh_called(f, text, &c);
	zh_latin_names(f, text, &c);
	zh_prefixed(f, text, &c);
	zh_with_companion(f, text, &c);
	zh_roles(f, text, &c);
	free(c.cp);
	free(c.off);
	free(c.used);
	return LV_OK;
}

static int by_pos(const void *a, const void *b)
{
	const lv_lex_char *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A prompt that names no place but a character whose work has one ("an old fisherman sails out at
 * dawn": the sea) is set there. */
static void implied_place(lv_lex_facts *f)
{
	static const char *const roles_places[][2] = { { "fisherman", "the sea" },      { "farmer", "the countryside" },
		                                       { "astronaut", "space" },        { "chef", "the kitchen" },
		                                       { "knight", "the castle" },      { "student", "the school" } };
	size_t i, k, e;
	if (f->n_places)
		return;
	for (i = 0; i < f->n_chars; i++) {
		if (!f->chars[i].role)
			continue;
		for (k = 0; k < sizeof(roles_places) / sizeof(roles_places[0]); k++) {
			if (strcmp(f->chars[i].role->noun[LV_LEX_EN], roles_places[k][0]))
				continue;
			for (e = 0; e < lv_lex_n_entries; e++)
				if (lv_lex_entries[e].kind == LV_LEX_PLACE && lv_lex_entries[e].label[LV_LEX_EN] &&
				    !strcmp(lv_lex_entries[e].label[LV_LEX_EN], roles_places[k][1])) {
					f->places[f->n_places++] = &lv_lex_entries[e];
					return;
				}
		}
	}
}

int lv_lex_analyze(lv_lex_facts *f, const char *text, const char *lower)
{
	size_t cjk, latin;
	int rc;
	memset(f, 0, sizeof(*f));
	f->time = f->time_last = f->weather = f->season = -1;
	scan_keywords(f, lower);
	lv_ltext_scripts(text, &cjk, &latin);
	f->prompt_zh = cjk > 0 && cjk * 3 >= latin;
	if ((rc = scan_english(f, text, lower)) != LV_OK)
		return rc;
	if (cjk && (rc = scan_chinese(f, text)) != LV_OK)
		return rc;
	qsort(f->chars, f->n_chars, sizeof(f->chars[0]), by_pos);
	implied_place(f);
	return LV_OK;
}
