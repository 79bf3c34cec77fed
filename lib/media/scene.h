/*
 * Internal: procedural scenery for the local renderer and the style frame.
 *
 * A scene is a landscape-like stack of parallax layers (mountains, forest,
 * skyline, sea, dunes, or an abstract stage of bokeh light) under a sky with a
 * sun or moon, clouds, light beams and drifting particles.  Its kind and
 * palette follow keywords of the shot's text ("city", "sea", "night",
 * "森林", "夜"...) and otherwise the seed; the seed also shapes every layer.
 * A view (camera zoom and pan at time t) is drawn onto a canvas of the scene's
 * size; nearer layers move more than far ones.
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

int lv_scene_new(lv_scene **out, uint32_t seed, const char *text, int w, int h);
void lv_scene_free(lv_scene *s);

/* Sky, sun, clouds and the landscape layers.  The canvas must have the scene's size. */
void lv_scene_draw_back(lv_scene *s, lv_canvas *cv, const lv_view *v);
/* Particles in front of everything drawn so far (motes, snow, fireflies, bokeh). */
void lv_scene_draw_front(lv_scene *s, lv_canvas *cv, const lv_view *v);

/* Five representative colours: sky top, horizon, light, far layer, near layer. */
void lv_scene_palette(const lv_scene *s, lv_rgb out[5]);
/* The screen x/y factor of a layer at `depth` in view v: screen = (world - c - pan * par) * zoom + c. */
void lv_scene_project(const lv_scene *s, const lv_view *v, float depth, float *zoom, float *par);

#endif
