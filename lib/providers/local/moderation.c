/*
 * The built-in rule-based moderation: named categories of terms, matched on normalised text.
 *
 * Normalisation (both terms and texts): full-width ASCII folded to ASCII, zero-width and other
 * invisible characters removed, ASCII lower-cased, whitespace runs collapsed to one space and
 * spaces between two non-ASCII characters dropped.  A term whose end is an ASCII letter or digit
 * matches only on a word boundary there ("kill" is not found in "skill"); a term ending in '*'
 * matches any word that starts with it ("behead*" finds "beheaded"); CJK ends match as
 * substrings.  The built-in lists are deliberately short: they make the failure path real, and
 * operators extend or replace them in config.
 */
#include "providers/local/local_rules.h"
#include "providers/local/text.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERM_MAX_BYTES 256
#define NAME_MAX_BYTES 64
#define TERMS_MAX 10000
#define TEXT_FLAGS (LV_LTEXT_FOLD_WIDTH | LV_LTEXT_DROP_ZW | LV_LTEXT_LOWER | LV_LTEXT_JOIN_CJK)

typedef struct mod_term {
	char *text; /* normalised, without the trailing '*' */
	int prefix;
} mod_term;

typedef struct mod_cat {
	char *name;
	mod_term *terms;
	size_t n, cap;
} mod_cat;

struct lv_local_rules {
	mod_cat *cats;
	size_t n;
};

typedef struct builtin_cat {
	const char *name;
	const char *const *terms;
} builtin_cat;

static const char *const sexual_minors[] = { "child porn*", "child sexual abuse material", "csam", "underage porn*",
	                                     "underage sex", "lolicon", "儿童色情", "未成年人色情", "未成年色情",
	                                     "幼女色情", "恋童", NULL };
static const char *const violence[] = { "dismember*", "decapitat*", "disembowel*", "behead*", "eviscerat*",
	                                "mutilated corpse*", "肢解", "斩首", "砍头", "开膛破肚", "血肉模糊",
	                                "虐杀", NULL };
static const char *const self_harm[] = { "how to kill myself", "ways to kill myself", "suicide method*",
	                                 "how to commit suicide", "self-harm tutorial*", "how to cut myself",
	                                 "自杀方法", "如何自杀", "怎么自杀", "自残教程", "割腕教程", NULL };
static const char *const hate[] = { "ethnic cleansing", "white supremacy", "heil hitler", "race war", "nazi propaganda",
	                            "种族清洗", "种族灭绝", "白人至上", "希特勒万岁", "纳粹宣传", NULL };
static const char *const weapons[] = { "build a bomb", "make a bomb", "pipe bomb*", "homemade explosive*",
	                               "ghost gun*", "nerve agent synthesis", "制作炸弹", "自制炸弹", "自制炸药",
	                               "土制炸弹", "制造枪支", "自制枪支", NULL };
static const char *const drugs[] = { "cook meth", "make meth", "synthesize methamphetamine",
	                             "synthesise methamphetamine", "fentanyl synthesis", "heroin lab*", "制毒",
	                             "合成冰毒", "制作冰毒", "提炼海洛因", "合成芬太尼", NULL };

static const builtin_cat builtins[] = {
	{ "sexual_minors", sexual_minors }, { "violence", violence }, { "self_harm", self_harm },
	{ "hate", hate },                   { "weapons", weapons },   { "drugs", drugs },
};

void lv_local_rules_free(lv_local_rules *rules)
{
	size_t i, j;
	if (!rules)
		return;
	for (i = 0; i < rules->n; i++) {
		for (j = 0; j < rules->cats[i].n; j++)
			free(rules->cats[i].terms[j].text);
		free(rules->cats[i].terms);
		free(rules->cats[i].name);
	}
	free(rules->cats);
	free(rules);
}

static mod_cat *find_cat(lv_local_rules *r, const char *name)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->cats[i].name, name))
			return &r->cats[i];
	return NULL;
}

static int add_cat(mod_cat **out, lv_local_rules *r, const char *name)
{
	mod_cat *cats = lv_realloc(r->cats, (r->n + 1) * sizeof(*cats));
	if (!cats)
		return LV_ENOMEM;
	r->cats = cats;
	memset(&cats[r->n], 0, sizeof(cats[r->n]));
	cats[r->n].name = lv_strdup(name);
	if (!cats[r->n].name)
		return LV_ENOMEM;
	*out = &cats[r->n++];
	return LV_OK;
}

/* Normalise and add one term.  *empty is set when nothing is left of it (a config error). */
static int add_term(mod_cat *c, const char *raw, int *empty)
{
	char *t = lv_ltext_normalize(raw, TERM_MAX_BYTES, TEXT_FLAGS);
	size_t len;
	int prefix = 0;
	*empty = 0;
	if (!t)
		return LV_ENOMEM;
	len = strlen(t);
	if (len && t[len - 1] == '*') {
		prefix = 1;
		t[--len] = '\0';
		while (len && t[len - 1] == ' ')
			t[--len] = '\0';
	}
	if (!len) {
		free(t);
		*empty = 1;
		return LV_OK;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		mod_term *terms = lv_realloc(c->terms, cap * sizeof(*terms));
		if (!terms) {
			free(t);
			return LV_ENOMEM;
		}
		c->terms = terms;
		c->cap = cap;
	}
	c->terms[c->n].text = t;
	c->terms[c->n].prefix = prefix;
	c->n++;
	return LV_OK;
}

static int valid_name(const char *s)
{
	size_t n = 0;
	for (; *s; s++, n++)
		if (!lv_ltext_is_alnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return n >= 1 && n <= NAME_MAX_BYTES;
}

static int add_builtins(lv_local_rules *r)
{
	size_t i;
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		mod_cat *c;
		const char *const *t;
		int empty;
		if (add_cat(&c, r, builtins[i].name))
			return LV_ENOMEM;
		for (t = builtins[i].terms; *t; t++)
			if (add_term(c, *t, &empty))
				return LV_ENOMEM;
	}
	return LV_OK;
}

static int add_config_category(lv_local_rules *r, const cJSON *list, size_t *total)
{
	const cJSON *t;
	size_t i = 0;
	mod_cat *c = find_cat(r, list->string);
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
		return lv_error_set(LV_ECONFIG, "moderation.categories.%s: must be a non-empty list of terms", list->string);
	if (!c && add_cat(&c, r, list->string))
		return LV_ENOMEM;
	cJSON_ArrayForEach(t, list)
	{
		int empty;
		if (!cJSON_IsString(t) || strlen(t->valuestring) > TERM_MAX_BYTES)
			return lv_error_set(LV_ECONFIG, "moderation.categories.%s[%zu]: must be a string of at most %d bytes",
			                    list->string, i, TERM_MAX_BYTES);
		if (add_term(c, t->valuestring, &empty))
			return LV_ENOMEM;
		if (empty)
			return lv_error_set(LV_ECONFIG,
			                    "moderation.categories.%s[%zu]: must contain a word or phrase (\"term\" or "
			                    "\"prefix*\")",
			                    list->string, i);
		if (++*total > TERMS_MAX)
			return lv_error_set(LV_ECONFIG, "moderation.categories: at most %d terms in all", TERMS_MAX);
		i++;
	}
	return LV_OK;
}

/* Built-in categories first (unless "builtin": false), in their fixed order; config categories
 * add terms to a built-in of the same name or add new names, in config order. */
static int build(lv_local_rules *r, const cJSON *block)
{
	const cJSON *mod = NULL, *it, *cats = NULL;
	size_t total = 0;
	int builtin = 1;
	if (block && !cJSON_IsNull(block)) {
		if (!cJSON_IsObject(block))
			return lv_error_set(LV_ECONFIG, "must be an object");
		mod = cJSON_GetObjectItemCaseSensitive(block, "moderation");
	}
	if (mod && !cJSON_IsNull(mod)) {
		if (!cJSON_IsObject(mod))
			return lv_error_set(LV_ECONFIG,
			                    "moderation: must be an object like {\"builtin\": true, \"categories\": {}}");
		cJSON_ArrayForEach(it, mod)
		{
			if (strcmp(it->string, "builtin") && strcmp(it->string, "categories"))
				return lv_error_set(LV_ECONFIG, "moderation.%s: unknown key (known: builtin, categories)",
				                    it->string);
		}
		it = cJSON_GetObjectItemCaseSensitive(mod, "builtin");
		if (it && !cJSON_IsNull(it)) {
			if (!cJSON_IsBool(it))
				return lv_error_set(LV_ECONFIG, "moderation.builtin: must be true or false");
			builtin = cJSON_IsTrue(it);
		}
		cats = cJSON_GetObjectItemCaseSensitive(mod, "categories");
		if (cats && cJSON_IsNull(cats))
			cats = NULL;
		if (cats && !cJSON_IsObject(cats))
			return lv_error_set(LV_ECONFIG, "moderation.categories: must be an object mapping a category name "
			                                "to a list of terms");
	}
	if (builtin && add_builtins(r))
		return LV_ENOMEM;
	cJSON_ArrayForEach(it, cats)
	{
		const cJSON *prev;
		int rc;
		if (!valid_name(it->string))
			return lv_error_set(LV_ECONFIG,
			                    "moderation.categories.%s: a category name is 1-%d letters, digits, '_', '-' or '.'",
			                    it->string, NAME_MAX_BYTES);
		for (prev = cats->child; prev != it; prev = prev->next)
			if (!strcmp(prev->string, it->string))
				return lv_error_set(LV_ECONFIG, "moderation.categories.%s: listed twice", it->string);
		if ((rc = add_config_category(r, it, &total)) != LV_OK)
			return rc;
	}
	return LV_OK;
}

int lv_local_rules_build(lv_local_rules **out, const cJSON *provider_block)
{
	lv_local_rules *r;
	int rc;
	*out = NULL;
	r = lv_calloc(1, sizeof(*r));
	if (!r)
		return LV_ENOMEM;
	rc = build(r, provider_block);
	if (rc) {
		lv_local_rules_free(r);
		return rc;
	}
	*out = r;
	return LV_OK;
}

/* Append name to a comma-separated list in buf (cap bytes); names that do not fit are left out. */
static void list_add(char *buf, size_t cap, const char *name)
{
	size_t len = strlen(buf), need = strlen(name) + (len ? 1 : 0);
	if (len + need + 1 > cap)
		return;
	snprintf(buf + len, cap - len, "%s%s", len ? "," : "", name);
}

int lv_local_rules_check(const lv_local_rules *rules, const char *const *texts, size_t n,
                         lv_moderation_result *out)
{
	size_t i, c, t;
	memset(out, 0, sizeof(*out));
	if (!rules)
		return lv_error_set(LV_EINVALID, "moderation: no rules");
	for (i = 0; i < n; i++) {
		char *norm;
		if (!texts[i] || !texts[i][0])
			continue;
		norm = lv_ltext_normalize(texts[i], (size_t)-1, TEXT_FLAGS);
		if (!norm)
			return LV_ENOMEM;
		for (c = 0; c < rules->n; c++) {
			const mod_cat *cat = &rules->cats[c];
			for (t = 0; t < cat->n; t++) {
				if (lv_ltext_find(norm, norm, cat->terms[t].text, cat->terms[t].prefix)) {
					out->flagged = 1;
					list_add(out->categories, sizeof(out->categories), cat->name);
					break;
				}
			}
		}
		free(norm);
		if (out->flagged) {
			out->text_index = i;
			return LV_OK;
		}
	}
	return LV_OK;
}
