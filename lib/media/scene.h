/*
 * Internal: procedural scenery for the local renderer and the style frame.
 *
 * A scene is a landscape-like stack of parallax layers (mountains, forest,
 * skyline, coast, dunes, open country, or an interior stage of soft light)
 * under a sky with a sun or moon, clouds, light beams and weather (rain,
 * snow, mist).  What it shows is chosen from the whole shot text by
 * lv_scene_choose(); the seed only shapes the layers.  A view (camera zoom and
 * pan at time t) is drawn onto a canvas of the scene's size; nearer layers
 * move more than far ones.  The sky, sun and stars are drawn once per scene
 * and resampled for every view.
 */
#ifndef LV_MEDIA_SCENE_H
#define LV_MEDIA_SCENE_H

#include "media/draw.h"

typedef struct lv_scene lv_scene;

typedef struct lv_view {
	float t;     /* seconds since the shot started */
	float zoom;  /* 1: as built; > 1 closer (nearer layers zoom more) */
	float pan_x; /* camera offset in pixels at the nearest depth; > 0: the camera moved right */
	float pan_y; /* > 0: the camera moved down */
} lv_view;

/*
 * What a shot text asks for, by meaning: every setting word found in the text
 * votes for its setting (nouns such as "street", "lighthouse", "大道" count
 * three times as much as adjectives such as "urban"; a word used as a
 * modifier, as in "forest-green coat", does not vote); the time of day and the
 * weather are read the same way.  Nothing found gives the neutral "open"
 * setting in daylight, never a random one.  Strings are static.
 */
/* Props a shot text can name (lv_scene_choice.props is a mask of 1u << LV_PROP_*). */
enum { LV_PROP_SNOWMAN, LV_PROP_WINDOW, LV_PROP_UMBRELLA, LV_PROP_BIRDS, LV_PROP_BENCH, LV_PROP_LAMP, LV_PROP_FLOWERS,
       LV_PROP_COUNT };

typedef struct lv_scene_choice {
	const char *setting; /* "city", "coast", "forest", "mountains", "desert", "country", "interior", "open" */
	const char *time;    /* "dawn", "day", "dusk", "night" */
	const char *weather; /* "clear", "mist", "rain", "storm", "snow", "gathering" (storm clouds, no rain yet) */
	const char *light;   /* the time as named: "dawn", "morning", "midday", "afternoon", "day" (daylight at no
	                        named hour), "dusk", "night"; its sky has its own colours */
	int lighthouse;      /* a lighthouse stands on the coast */
	int boat;            /* a boat on the water (coast: boats, sails, fishing) */
	int harbour;         /* a pier with boats moored at it (coast: harbour, port, pier, quay) */
	unsigned props;      /* 1u << LV_PROP_*: snowman, window (the shot is at a window in a wall), umbrella,
	                        birds, bench, street lamp, flowers; named in any of en, zh, fr, de, es, it, ja */
} lv_scene_choice;

void lv_scene_choose(const char *text, lv_scene_choice *out);
/* "snowman", "window", "umbrella", "birds", "bench", "lamp", "flowers"; NULL for another number. */
const char *lv_scene_prop_name(int prop);

/*
 * How large the characters stand in a shot, from its framing: the camera text first, then the shot
 * text ("close-up", "macro", "特写": close; "wide", "establishing", "pull out", "small in the frame",
 * "远景": wide; else medium).  The value is the characters' height as a share of the frame's.
 */
#define LV_FRAMING_CLOSE 0.5f
#define LV_FRAMING_MEDIUM 0.38f
#define LV_FRAMING_WIDE 0.26f
float lv_scene_framing(const char *camera, const char *text);

int lv_scene_new(lv_scene **out, uint32_t seed, const char *text, int w, int h);
void lv_scene_free(lv_scene *s);

/* Sky, sun, clouds and the landscape layers.  The canvas must have the scene's size. */
void lv_scene_draw_back(lv_scene *s, lv_canvas *cv, const lv_view *v);
/* Particles in front of everything drawn so far (motes, snow, fireflies, bokeh). */
void lv_scene_draw_front(lv_scene *s, lv_canvas *cv, const lv_view *v);

/* Where the characters may stand in this scene (screen x at zoom 1): beside, not over, the props on
 * the ground; *ground > 0 when the scene gives them a floor line (a window's sill), else -1. */
void lv_scene_stage(const lv_scene *s, float *x0, float *x1, float *ground);

/* Five representative colours: sky top, horizon, light, far layer, near layer. */
void lv_scene_palette(const lv_scene *s, lv_rgb out[5]);
/* The screen x/y factor of a layer at `depth` in view v: screen = (world - c - pan * par) * zoom + c. */
void lv_scene_project(const lv_scene *s, const lv_view *v, float depth, float *zoom, float *par);

#endif
