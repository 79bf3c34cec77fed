/*
 * Internal: the built-in script writer's lexicon (Chinese and English keywords for places, things,
 * time of day, weather, seasons, techniques, moods and character roles) and the prompt analysis
 * built on it.  All tables are constant; the analysis writes only into the caller's struct.
 */
#ifndef LV_PROVIDERS_LOCAL_LEXICON_H
#define LV_PROVIDERS_LOCAL_LEXICON_H

#include <stddef.h>

/* Output languages of the tables: index 0 English, 1 Chinese. */
enum { LV_LEX_EN = 0, LV_LEX_ZH = 1 };

enum { LV_LEX_PLACE, LV_LEX_THING, LV_LEX_TIME, LV_LEX_WEATHER, LV_LEX_SEASON, LV_LEX_TECH, LV_LEX_MOOD };

enum { LV_TIME_DAWN, LV_TIME_MORNING, LV_TIME_NOON, LV_TIME_AFTERNOON, LV_TIME_DUSK, LV_TIME_NIGHT, LV_TIME_COUNT };
enum { LV_WEATHER_RAIN, LV_WEATHER_STORM, LV_WEATHER_SNOW, LV_WEATHER_FOG, LV_WEATHER_WIND, LV_WEATHER_SUNNY,
       LV_WEATHER_CLOUDY, LV_WEATHER_COUNT };
enum { LV_SEASON_SPRING, LV_SEASON_SUMMER, LV_SEASON_AUTUMN, LV_SEASON_WINTER, LV_SEASON_COUNT };
enum { LV_TECH_TIMELAPSE, LV_TECH_SLOWMO, LV_TECH_AERIAL, LV_TECH_MACRO, LV_TECH_DOCUMENTARY, LV_TECH_ANIME,
       LV_TECH_3D, LV_TECH_BW, LV_TECH_WATERCOLOR, LV_TECH_INK, LV_TECH_CYBERPUNK, LV_TECH_VINTAGE,
       LV_TECH_CINEMATIC, LV_TECH_COUNT };
enum { LV_MOOD_CALM, LV_MOOD_BRIGHT, LV_MOOD_TENSE, LV_MOOD_MELANCHOLIC, LV_MOOD_EPIC, LV_MOOD_COUNT };

enum { LV_KIND_HUMAN, LV_KIND_ANIMAL, LV_KIND_ROBOT };
enum { LV_GENDER_UNKNOWN, LV_GENDER_MALE, LV_GENDER_FEMALE };
enum { LV_AGE_CHILD, LV_AGE_YOUNG, LV_AGE_ADULT, LV_AGE_OLD };

/* A detail of a place or condition: a visual phrase and a short noun for narration. */
typedef struct lv_lex_detail {
	const char *vis[2];
	const char *noun[2];
} lv_lex_detail;

typedef struct lv_lex_entry {
	int kind;             /* LV_LEX_* */
	int id;               /* TIME/WEATHER/SEASON/TECH/MOOD: which one */
	const char *en_terms; /* '|'-separated, lower case, matched on word boundaries (plural s/es allowed) */
	const char *zh_terms; /* '|'-separated, matched as substrings (longest first) */
	const char *label[2]; /* "the city" / "城市" */
	int mood;             /* a mood the word suggests, or -1 */
	const lv_lex_detail *details;
	size_t n_details;
} lv_lex_entry;

typedef struct lv_lex_role {
	const char *en_terms, *zh_terms;
	const char *label[2];   /* "the fisherman" / "渔夫" */
	const char *noun[2];    /* for descriptions: "fisherman" / "渔夫" */
	int kind, gender, age;
	const char *garment[2]; /* clothing with a {c} colour slot (humans), or NULL */
	int needs_context;      /* zh: only with a measure word or possessive before it (animals) */
} lv_lex_role;

#define LV_LEX_MAX_PLACES 4
#define LV_LEX_MAX_CHARS 9
#define LV_LEX_NAME_MAX 64

typedef struct lv_lex_char {
	char name[LV_LEX_NAME_MAX]; /* the given name, or "" */
	const lv_lex_role *role;    /* or NULL */
	int kind, gender, age;
	size_t pos;                 /* byte offset in the prompt (order of appearance) */
} lv_lex_char;

typedef struct lv_lex_facts {
	const lv_lex_entry *places[LV_LEX_MAX_PLACES]; /* places and things, in prompt order */
	size_t n_places;
	int time, weather, season; /* -1: none (time: the first time of day named) */
	int time_last;             /* the last time of day named, when it differs from the first; else -1 */
	size_t time_pos, time_last_pos; /* byte offsets of those two in the prompt */
	unsigned tech;             /* 1u << LV_TECH_* */
	int mood;                  /* LV_MOOD_* (calm when nothing suggests one) */
	lv_lex_char chars[LV_LEX_MAX_CHARS];
	size_t n_chars;
	int prompt_zh;             /* the prompt is written mostly in CJK */
} lv_lex_facts;

/* The tables (constant data). */
extern const lv_lex_entry *const lv_lex_entries;
extern const size_t lv_lex_n_entries;
extern const lv_lex_role *const lv_lex_roles;
extern const size_t lv_lex_n_roles;

/* Analyse a normalised prompt (lv_ltext_normalize output) given also as an ASCII-lower-cased copy
 * of the same length.  LV_OK or LV_ENOMEM. */
int lv_lex_analyze(lv_lex_facts *f, const char *text, const char *lower);

/* Tables for the writer. */
const char *lv_lex_mood_name(int mood);
const char *lv_lex_tech_style(int tech);
const char *lv_lex_time_light(int time);
const char *lv_lex_time_label(int time, int lang);
const char *lv_lex_time_at(int time, int lang); /* "at dawn", "in the afternoon" / "清晨" */
/* Where things happen at a place or thing: "by the sea" / "海边". */
const char *lv_lex_where(const lv_lex_entry *e, int lang);
const char *lv_lex_weather_style(int weather);
const char *lv_lex_weather_phrase(int weather, int lang); /* en "in the rain", zh "雨中的" */
const char *lv_lex_season_style(int season);
const char *lv_lex_mood_palette(int mood);
const char *lv_lex_mood_adjective(int mood, int lang);

/* The day cycle used for light progression: 10 phases from the blue hour before dawn to deep night. */
#define LV_LEX_PHASES 10
const char *lv_lex_phase(int phase, int lang); /* en "at first light", zh "天刚破晓时" */
/* The moment of a phase ("the sun breaking over the horizon") and the phase a time of day builds
 * to (dawn: sunrise; dusk: sunset). */
const char *lv_lex_phase_peak(int phase, int lang);
int lv_lex_time_key_phase(int time);
/* The moment a film with this time/weather builds to ("the sun breaking over the horizon"), or NULL. */
const char *lv_lex_peak(int time, int weather, int lang);

/* Details contributed by conditions: weather, season, time, and the generic pool (any scene). */
const lv_lex_detail *lv_lex_weather_details(int weather, size_t *n);
const lv_lex_detail *lv_lex_season_details(int season, size_t *n);
const lv_lex_detail *lv_lex_time_details(int time, size_t *n);
const lv_lex_detail *lv_lex_generic_details(size_t *n);

/* Find the longest '|'-separated term of `terms` at `at` (zh: substring; en: word with optional
 * plural s/es when plural_ok).  Returns its length in bytes, 0 when none. */
size_t lv_lex_match(const char *terms, const char *at, int en, int plural_ok);

#endif
