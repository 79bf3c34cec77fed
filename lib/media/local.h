/*
 * Internal: the built-in `local` providers' media makers.  No network, no
 * keys: pictures are rendered procedurally, speech comes from the
 * espeak-ng library, music is synthesised.
 *
 * Every maker writes to a temporary name beside its output and renames it into
 * place when done, so a failed or canceled call leaves no output file.  All are
 * safe to call from several threads at once; lv_tts_speak() serialises its
 * calls internally because espeak-ng keeps global state.
 */
#ifndef LV_MEDIA_LOCAL_H
#define LV_MEDIA_LOCAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fonts through fontconfig: the first of fontconfig's sans-serif fonts for `language` (NULL: any) that
 * has a glyph for every character of `text` (NULL: none needed), else the one that lacks fewest.  The
 * file, or the family name; NULL when no font is installed.  Caller frees.
 */
char *lv_font_file(const char *language, const char *text);
char *lv_font_family(const char *language, const char *text);
/* How many characters of `text` font_file has no glyph for (fontconfig's charset of the file), or -1
 * when the file cannot be read. */
int lv_font_missing(const char *font_file, const char *text);
/* The family name of a font file (caller frees), or NULL. */
char *lv_font_file_family(const char *font_file);

typedef struct lv_render_params {
	int width, height;              /* picture size (see lv_video_size) */
	double seconds;                 /* clip length; frames = round(seconds * LV_SEG_FPS) */
	uint32_t seed;                  /* palette and motion; differs from shot to shot */
	const char *text;               /* the shot's description: chooses the scene (never drawn) */
	const char *camera;             /* camera move: "push in", "pull out", "pan left", "pan right",
	                                   "tilt up", "tilt down", "orbit", "static" (others: a drift) */
	const char *const *references;  /* reference images (PNG) shown in the shot, may be empty */
	size_t n_references;
	const char *font_file;          /* unused by the renderer (no text in the picture); kept for the ABI */
	const char *language;
	const volatile int *cancel;     /* checked every frame; non-zero stops with LV_ECANCELED */
} lv_render_params;

/* Render one segment: H.264 (lv_h264_open parameters) in MP4, no audio track, +faststart. */
int lv_render_segment(const lv_render_params *params, const char *out_mp4);

typedef struct lv_card_params {
	int width, height;       /* e.g. 512x512 for a character, the film's size for the style frame */
	uint32_t seed;
	const char *title;       /* character name (or the film's title for a style frame) */
	const char *description; /* what it looks like */
	const char *font_file;   /* NULL: chosen by fontconfig for the language and the title */
	const char *language;
	int style_frame;         /* 0: a character card (a stylised bust in colours from the description);
	                            1: a style frame (the film's scenery and palette with the title) */
} lv_card_params;

/* What a character card draws for a description: "robot", "cat" (cats, foxes, wolves: pointed ears),
 * "rabbit", "dog" (dogs, bears: floppy ears) or "person".  Species words match whole words only. */
const char *lv_card_kind(const char *description);

/* Render a reference image as PNG: a character card, or a style frame. */
int lv_render_card(const lv_card_params *params, const char *out_png);

/* Speak `text` in `language` ("zh", "en", ... : voice chosen by language) to a mono 16-bit WAV.
 * `*seconds` receives the length.  `rate_wpm` 0 = the voice's default speed. */
int lv_tts_speak(const char *text, const char *language, int rate_wpm, const char *out_wav, double *seconds,
                 const volatile int *cancel);

/* Speak as lv_tts_speak at a narrator's pace.  With rate_wpm 0 the pace is the one the storyboard's
 * speaking-time estimate assumes (lv_speech_estimate_seconds): a voice that reads the line much faster
 * (espeak-ng's French and German, for instance) is slowed down, at most to 2/3 of its default speed.
 * A line longer than max_seconds (> 0) is sped up to fit, at most to 280 words a minute. */
int lv_tts_speak_paced(const char *text, const char *language, int rate_wpm, double max_seconds,
                       const char *out_wav, double *seconds, const volatile int *cancel);

/* Compose a music bed of `seconds` (stereo 48 kHz 16-bit WAV): a chord progression with pad, bass and
 * a soft arpeggio, chosen by `seed` and `mood` ("calm", "bright", "tense", ...; NULL: calm). */
int lv_music_generate(double seconds, uint32_t seed, const char *mood, const char *out_wav,
                      const volatile int *cancel);

#endif
