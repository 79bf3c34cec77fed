/*
 * The local segment renderer, an animatic: a procedural scene (media/scene.h)
 * chosen from the shot text, seen through the shot's camera move, the shot's
 * characters (their reference images: cut-outs stand in the scene, other
 * pictures as framed prints), a vignette.  No text is drawn on the picture
 * (subtitles are the composer's).  Encoded with the canonical
 * H.264 parameters (media/h264.h) into an MP4 with +faststart.
 */
#include "media/local.h"
#include "media/draw.h"
#include "media/h264.h"
#include "media/image.h"
#include "media/scene.h"
#include "media/subband.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPRITES 4
#define SPRITE_DEPTH 0.75f
#define SPRITE_BOB 0.006f /* the figures' bob, a share of the height */

/* ---- camera ---------------------------------------------------------------------- */

typedef struct camera {
	float z0, z1;   /* zoom at the start and the end */
	float px0, px1; /* pan x */
	float py0, py1; /* pan y */
	int orbit;      /* swing round: pan along a sine with a zoom bump */
} camera;

static int has(const char *s, const char *word)
{
	return strstr(s, word) != NULL;
}

/* The camera move named in the shot's `camera` ("push in", "pan left", "tilt up", "orbit", "close-up",
 * "wide establishing"...).  Every move is large enough to be seen: the nearest layers travel about a
 * sixth of the frame in a pan, and a push-in closes in by a third. */
static void parse_camera(camera *c, const char *move, float U, float H)
{
	char m[96];
	float A = 0.28f * U, B = 0.15f * H;
	size_t i;
	memset(c, 0, sizeof(*c));
	c->z0 = c->z1 = 1.0f;
	for (i = 0; move && i < sizeof(m) - 1 && move[i]; i++)
		m[i] = (char)(move[i] >= 'A' && move[i] <= 'Z' ? move[i] - 'A' + 'a' : move[i]);
	m[i] = '\0';
	if (has(m, "pull") || has(m, "zoom out") || has(m, "dolly out") || has(m, "back")) {
		c->z0 = 1.35f;
		c->px0 = -0.15f * A;
		c->px1 = 0.15f * A;
	} else if (has(m, "push") || has(m, "zoom") || has(m, "dolly") || has(m, " in") || !strcmp(m, "in") ||
	           has(m, "close")) {
		c->z0 = has(m, "close") ? 1.12f : 1.0f;
		c->z1 = c->z0 + 0.32f;
		c->px0 = 0.1f * A;
		c->px1 = -0.1f * A;
	} else if (has(m, "left")) {
		c->px0 = A;
		c->px1 = -A;
		c->z0 = c->z1 = 1.08f;
	} else if (has(m, "right") || has(m, "pan") || has(m, "track") || has(m, "truck")) {
		c->px0 = -A;
		c->px1 = A;
		c->z0 = c->z1 = 1.08f;
	} else if (has(m, "down")) {
		c->py0 = -B;
		c->py1 = B;
		c->z0 = c->z1 = 1.12f;
	} else if (has(m, "up") || has(m, "tilt") || has(m, "crane") || has(m, "rise") || has(m, "pedestal")) {
		c->py0 = B;
		c->py1 = -B;
		c->z0 = c->z1 = 1.12f;
	} else if (has(m, "orbit") || has(m, "arc") || has(m, "around") || has(m, "circle")) {
		c->orbit = 1;
		c->px0 = -1.6f * A;
		c->px1 = 1.6f * A;
		c->z0 = c->z1 = 1.1f;
	} else if (has(m, "wide") || has(m, "establish")) {
		/* a slow lateral move that shows the depth of the place */
		c->px0 = -0.8f * A;
		c->px1 = 0.8f * A;
		c->z0 = 1.04f;
		c->z1 = 1.14f;
	} else if (has(m, "static") || has(m, "still") || has(m, "fixed") || has(m, "lock")) {
		c->z0 = 1.0f;
		c->z1 = 1.1f;
	} else {
		/* a drift */
		c->px0 = -0.6f * A;
		c->px1 = 0.6f * A;
		c->py0 = 0.2f * B;
		c->py1 = -0.2f * B;
		c->z0 = 1.04f;
		c->z1 = 1.16f;
	}
}

static void view_at(lv_view *v, const camera *c, float u, float t)
{
	float e = u * u * (3.0f - 2.0f * u); /* ease in and out */
	v->t = t;
	v->zoom = c->z0 + (c->z1 - c->z0) * e;
	if (c->orbit) {
		float s = sinf((u - 0.5f) * 3.14159265f);
		v->pan_x = c->px1 * s;
		v->zoom += 0.05f * cosf((u - 0.5f) * 3.14159265f);
	} else {
		v->pan_x = c->px0 + (c->px1 - c->px0) * e;
	}
	v->pan_y = c->py0 + (c->py1 - c->py0) * e;
}

/* ---- reference cards in the scene -------------------------------------------------- */

typedef struct sprite {
	lv_image img;
	float scale;  /* drawn size / built size at zoom 1 */
	float wx, wy; /* world position of the top-left corner at zoom 1 */
	float phase;
} sprite;

/* Load a reference image into a sprite: a cut-out if it has transparency, else a framed print with a shadow. */
static int build_sprite(lv_image *out, const lv_canvas *like, const char *path, int box)
{
	uint8_t *rgba = NULL;
	lv_image photo = { 0 };
	lv_canvas col = { 0 }, alpha = { 0 };
	int w, h, err, k, border, m, sw, sh;
	size_t i, clear = 0;
	float fx0, fy0, fx1, fy1;
	memset(out, 0, sizeof(*out));
	err = lv_image_load(&rgba, &w, &h, path, box, box);
	if (err)
		return err;
	for (i = 0; i < (size_t)w * (size_t)h; i++)
		clear += rgba[4 * i + 3] < 250;
	if (clear * 50 > (size_t)w * (size_t)h) {
		err = lv_image_from_rgba(out, like, rgba, w, h, 4 * w);
		free(rgba);
		return err;
	}
	border = (int)fmaxf(2.0f, 0.035f * (float)(w > h ? w : h));
	m = (int)fmaxf(4.0f, 0.07f * (float)h);
	sw = w + 2 * border + 2 * m;
	sh = h + 2 * border + 2 * m;
	err = lv_canvas_init(&col, sw, sh, like->yuv);
	if (!err)
		err = lv_canvas_init(&alpha, sw, sh, 0);
	if (!err)
		err = lv_image_from_rgba(&photo, like, rgba, w, h, 4 * w);
	if (!err) {
		lv_px black = lv_canvas_color(&col, lv_rgb_make(0, 0, 0));
		lv_px white = lv_canvas_color(&alpha, lv_rgb_make(255, 255, 255));
		fx0 = (float)m;
		fy0 = (float)m;
		fx1 = (float)(m + w + 2 * border);
		fy1 = (float)(m + h + 2 * border);
		/* a soft shadow below and to the right: stacked rounded rectangles */
		for (k = 8; k >= 1; k--) {
			float g = (float)m * 0.8f * (float)k / 8.0f, dx = 0.25f * (float)m, dy = 0.45f * (float)m;
			lv_draw_rrect(&col, fx0 + dx - g, fy0 + dy - g, fx1 + dx + g, fy1 + dy + g, (float)border + g, black,
			              18);
			lv_draw_rrect(&alpha, fx0 + dx - g, fy0 + dy - g, fx1 + dx + g, fy1 + dy + g, (float)border + g,
			              white, 18);
		}
		lv_draw_rrect(&col, fx0, fy0, fx1, fy1, (float)border * 0.8f,
		              lv_canvas_color(&col, lv_rgb_make(244, 240, 230)), 256);
		lv_draw_rrect(&alpha, fx0, fy0, fx1, fy1, (float)border * 0.8f, white, 256);
		lv_draw_image(&col, &photo, (float)(m + border), (float)(m + border), 1.0f, 256);
		err = lv_image_from_planes(out, &col, &alpha);
	}
	lv_image_free(&photo);
	lv_canvas_free(&col);
	lv_canvas_free(&alpha);
	free(rgba);
	return err;
}

/* The world rows a figure may take (at zoom 1) so that in every view of the shot it stays on the
 * screen and above the subtitle band: screen y = (world y - cy - pan_y * par) * zoom + cy at the
 * sprites' depth, with the bob on top.  Returns the highest allowed top and the lowest allowed bottom. */
static void sprite_room(const lv_scene *scene, const camera *cam, int nframes, float H, float band_top, float *top,
                        float *bottom)
{
	float cy = 0.55f * H, bob = SPRITE_BOB * H, lo = 0.04f * H, hi = band_top - 1.0f;
	int i;
	*top = -1e9f;
	*bottom = 1e9f;
	for (i = 0; i < nframes; i++) {
		lv_view v;
		float z, par;
		view_at(&v, cam, nframes > 1 ? (float)i / (float)(nframes - 1) : 0.0f, 0.0f);
		lv_scene_project(scene, &v, SPRITE_DEPTH, &z, &par);
		*top = fmaxf(*top, cy + (lo - cy) / z + v.pan_y * par + bob);
		*bottom = fminf(*bottom, cy + (hi - cy) / z + v.pan_y * par - bob);
	}
}

/* Lay the sprites out side by side, standing on `ground` (screen y at zoom 1), no higher than `top`, `size` of
 * the height tall (the shot's framing), between x0 and x1 (beside the scene's props). */
static void place_sprites(sprite *sp, int n, int W, int H, float ground, float top_limit, float size, float x0,
                          float x1)
{
	float target = fminf(fminf(size * (float)H, 0.6f * (float)W), (ground - top_limit) * 0.92f), gap = 0.035f * (float)W, total = 0, k, x;
	int i;
	if (target < 0.05f * (float)H) /* no camera move leaves this little room; keep the figures visible */
		target = 0.05f * (float)H;
	for (i = 0; i < n; i++) {
		sp[i].scale = target / (float)sp[i].img.h;
		total += (float)sp[i].img.w * sp[i].scale;
	}
	total += gap * (float)(n - 1);
	k = total > x1 - x0 ? (x1 - x0) / total : 1.0f;
	x = 0.5f * (x0 + x1 - total * k);
	for (i = 0; i < n; i++) {
		float sw, shh;
		sp[i].scale *= k;
		sw = (float)sp[i].img.w * sp[i].scale;
		shh = (float)sp[i].img.h * sp[i].scale;
		sp[i].wx = x;
		sp[i].wy = ground - shh;
		sp[i].phase = (float)i * 1.7f;
		x += sw + gap * k;
	}
}

static void draw_sprites(lv_canvas *cv, const lv_scene *scene, const sprite *sp, int n, const lv_view *v)
{
	float z, par, cx = (float)cv->w * 0.5f, cy = (float)cv->h * 0.55f;
	int i;
	lv_scene_project(scene, v, SPRITE_DEPTH, &z, &par);
	for (i = 0; i < n; i++) {
		float bob = SPRITE_BOB * (float)cv->h * sinf(v->t * 1.1f + sp[i].phase);
		float x = (sp[i].wx - cx - v->pan_x * par) * z + cx;
		float y = (sp[i].wy + bob - cy - v->pan_y * par) * z + cy;
		lv_draw_image(cv, &sp[i].img, x, y, sp[i].scale * z, 256);
	}
}

/* ---- encoding ------------------------------------------------------------------------ */

/* ---- the segment ------------------------------------------------------------------------ */

static int check_params(const lv_render_params *p, const char *out)
{
	if (!p || !out || !*out)
		return lv_error_set(LV_EINVALID, "render: parameters and an output path are required");
	if (p->width < 16 || p->height < 16 || p->width > 4096 || p->height > 4096 || (p->width & 1) ||
	    (p->height & 1))
		return lv_error_set(LV_EINVALID, "render: picture size %dx%d must be even and within 16..4096",
		                    p->width, p->height);
	if (!(p->seconds > 0) || p->seconds > 600 || lround(p->seconds * LV_SEG_FPS) < 1)
		return lv_error_set(LV_EINVALID, "render: length %.3f s is out of range", p->seconds);
	if (p->n_references && !p->references)
		return lv_error_set(LV_EINVALID, "render: %zu references but no list", p->n_references);
	return LV_OK;
}

int lv_render_segment(const lv_render_params *params, const char *out_mp4)
{
	lv_canvas cv = { 0 };
	lv_scene *scene = NULL;
	sprite sp[MAX_SPRITES];
	lv_seg_writer o = { 0 };
	AVFrame *frame = NULL;
	uint16_t *vx = NULL, *vy = NULL;
	camera cam;
	int W, H, err, i, n_sp = 0, nframes;
	err = check_params(params, out_mp4);
	if (err)
		return err;
	W = params->width;
	H = params->height;
	nframes = (int)lround(params->seconds * LV_SEG_FPS);
	memset(sp, 0, sizeof(sp));

	err = lv_canvas_init(&cv, W, H, 1);
	if (!err)
		err = lv_scene_new(&scene, params->seed, params->text, W, H);
	if (err)
		goto done;
	parse_camera(&cam, params->camera, sqrtf((float)W * (float)H), (float)H);

	for (i = 0; i < (int)params->n_references && n_sp < MAX_SPRITES; i++) {
		const char *ref = params->references[i];
		if (!ref || !*ref)
			continue;
		/* build large enough for the closest zoom, so the camera never enlarges the pixels */
		err = build_sprite(&sp[n_sp].img, &cv, ref, (int)(0.62f * (float)H));
		if (err) {
			lv_error_prefix("%s: reference %d", out_mp4, i + 1);
			goto done;
		}
		n_sp++;
	}
	if ((int)params->n_references > MAX_SPRITES)
		LV_DEBUG("%s: showing %d of %zu references", out_mp4, MAX_SPRITES, params->n_references);
	if (n_sp) {
		/* The figures stand on the near ground (higher in portrait), but never come down into the band
		 * that two lines of subtitles can cover (media/subband.h) nor leave the frame, whatever the
		 * camera does: they are moved up and made smaller rather than cropped. */
		lv_sub_band band;
		float top, ground, x0, x1, floor;
		lv_sub_band_of(&band, W, H);
		sprite_room(scene, &cam, nframes, (float)H, (float)band.top, &top, &ground);
		ground = fminf(ground, (H > W ? 0.72f : 0.84f) * (float)H);
		/* small in a wide shot, large in a close-up; beside the props, on a sill when there is one */
		lv_scene_stage(scene, &x0, &x1, &floor);
		if (floor > 0)
			ground = fminf(ground, floor);
		place_sprites(sp, n_sp, W, H, ground, top, lv_scene_framing(params->camera, params->text), x0, x1);
	}

	/* the vignette: about 0.62 of the brightness left in the corners */
	vx = lv_malloc(sizeof(uint16_t) * (size_t)W * (size_t)H);         /* the vignette for luma */
	vy = lv_malloc(sizeof(uint16_t) * (size_t)(W / 2) * (size_t)(H / 2)); /* and for chroma */
	frame = av_frame_alloc();
	if (!vx || !vy || !frame) {
		err = lv_error_nomem();
		goto done;
	}
	for (i = 0; i < H; i++) {
		float dy = ((float)i + 0.5f) / (float)H * 2.0f - 1.0f, fy = 1.0f - 0.22f * dy * dy;
		int x;
		for (x = 0; x < W; x++) {
			float dx = ((float)x + 0.5f) / (float)W * 2.0f - 1.0f;
			vx[(size_t)i * (size_t)W + (size_t)x] = (uint16_t)(65535.0f * fy * (1.0f - 0.2f * dx * dx));
		}
	}
	for (i = 0; i < H / 2; i++) {
		int x;
		for (x = 0; x < W / 2; x++)
			vy[(size_t)i * (size_t)(W / 2) + (size_t)x] = vx[(size_t)(2 * i) * (size_t)W + (size_t)(2 * x)];
	}
	frame->format = LV_SEG_PIX_FMT;
	frame->width = W;
	frame->height = H;
	if (av_frame_get_buffer(frame, 0) < 0) {
		err = lv_error_nomem();
		goto done;
	}

	/* one encoder thread: the pipeline runs a render per core (CPU-bound providers take a CPU slot each),
	 * where x264's frame threads only add their overhead */
	err = lv_seg_writer_open_threads(&o, out_mp4, W, H, 1);
	for (i = 0; !err && i < nframes; i++) {
		lv_view v;
		float u = nframes > 1 ? (float)i / (float)(nframes - 1) : 0.0f;
		if (params->cancel && *params->cancel) {
			err = lv_error_set(LV_ECANCELED, "%s: rendering canceled at frame %d of %d", out_mp4, i, nframes);
			break;
		}
		view_at(&v, &cam, u, (float)i / (float)LV_SEG_FPS);
		lv_scene_draw_back(scene, &cv, &v);
		draw_sprites(&cv, scene, sp, n_sp, &v);
		lv_scene_draw_front(scene, &cv, &v);
		if (av_frame_make_writable(frame) < 0) {
			err = lv_error_nomem();
			break;
		}
		lv_canvas_to_yuv420(&cv, frame->data, frame->linesize, vx, vy);
		frame->pts = i;
		err = lv_seg_writer_encode(&o, frame);
	}
	if (!err)
		err = lv_seg_writer_finish(&o);
done:
	lv_seg_writer_close(&o);
	av_frame_free(&frame);
	free(vx);
	free(vy);
	for (i = 0; i < n_sp; i++)
		lv_image_free(&sp[i].img);
	lv_scene_free(scene);
	lv_canvas_free(&cv);
	return err;
}
