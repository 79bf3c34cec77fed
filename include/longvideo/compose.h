/*
 * liblongvideo — composition: clip files, narration, music and subtitle cues into one MP4.
 *
 * The composer the pipeline uses, without an engine, a store or a provider: give it the clips in order
 * (each used for `seconds` from its start), narration files at offsets, a music bed and subtitle cues,
 * and it writes a film with
 *  - video joined by stream copy where a clip already has the canonical encoding (H.264 High, yuv420p,
 *    24 fps, no B-frames, the frame size), else decoded and re-encoded to it;
 *  - one audio track (AAC 48 kHz stereo): narration placed at its offsets, the music ducked under it,
 *    the clips' own audio mixed low, normalised to `target_lufs` with true peak <= `true_peak_db`;
 *  - subtitles as a mov_text track (soft), drawn into the picture (burn), or none, and beside the film
 *    final.srt and final.vtt (soft and burn);
 *  - thumbnail.jpg, and the MP4 written with +faststart.
 * Memory stays bounded whatever the film's length: packets and frames stream through.
 *
 *     lv_compose_segment clips[] = { { "a.mp4", 5.0 }, { "b.mp4", 4.5 } };
 *     lv_compose_options opts = LV_COMPOSE_OPTIONS_INIT;
 *     opts.segments = clips;
 *     opts.n_segments = 2;
 *     opts.out_dir = "out";
 *     if (lv_compose_files(&opts, NULL) != LV_OK)
 *         fprintf(stderr, "%s\n", lv_error_last()->message);
 */
#ifndef LONGVIDEO_COMPOSE_H
#define LONGVIDEO_COMPOSE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How subtitles reach the film. */
enum { LV_SUBS_SOFT = 0, LV_SUBS_BURN = 1, LV_SUBS_NONE = 2 };

/** One clip of the film, in order. */
typedef struct lv_compose_segment {
	const char *path; /**< a video file (MP4, MOV, ...; anything FFmpeg decodes) */
	double seconds;   /**< how much of it the film uses, from its start; 0: the whole clip */
} lv_compose_segment;

/** One narration file, placed at `start`. */
typedef struct lv_compose_voice {
	const char *path; /**< audio (WAV, MP3, ...; anything FFmpeg decodes) */
	double start;     /**< seconds from the film's start (>= 0) */
} lv_compose_voice;

/** One subtitle cue. */
typedef struct lv_compose_cue {
	double start, end; /**< seconds from the film's start, start < end */
	const char *text;  /**< UTF-8; '\n' separates lines */
} lv_compose_cue;

#define LV_COMPOSE_OPTIONS_VERSION 1

/** What to compose.  Initialise with LV_COMPOSE_OPTIONS_INIT; the library copies nothing it needs later. */
typedef struct lv_compose_options {
	unsigned int version;                /**< LV_COMPOSE_OPTIONS_VERSION */
	const lv_compose_segment *segments;  /**< at least one */
	size_t n_segments;
	int width, height;                   /**< the film's size; 0 and 0: the first clip's size */
	const lv_compose_voice *voices;      /**< may be NULL with n_voices 0 */
	size_t n_voices;
	const char *music_path;              /**< music bed, looped or cut to the film's length; NULL: none */
	double segment_audio_db;             /**< gain of the clips' own audio (default -18) */
	const lv_compose_cue *cues;          /**< may be NULL with n_cues 0 */
	size_t n_cues;
	int subtitles;                       /**< LV_SUBS_SOFT (default), LV_SUBS_BURN or LV_SUBS_NONE */
	const char *language;                /**< BCP-47 primary tag of the audio and subtitle tracks ("en"); NULL: "und" */
	const char *font_file;               /**< font for burned subtitles; NULL: found through fontconfig */
	const char *out_dir;                 /**< an existing directory: final.mp4, final.srt, final.vtt,
	                                          thumbnail.jpg are written there (atomically) */
	double target_lufs;                  /**< integrated loudness of the mix (default -16) */
	double true_peak_db;                 /**< true-peak ceiling in dBTP (default -1.5) */
	/** Called now and then with the fraction done (0..1); return non-zero to cancel (LV_ECANCELED).
	 *  Called on the composing thread; may be NULL. */
	int (*progress)(void *ctx, double fraction);
	void *progress_ctx;
} lv_compose_options;

#define LV_COMPOSE_OPTIONS_INIT                                                                            \
	{ LV_COMPOSE_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0, NULL, -18.0, NULL, 0, LV_SUBS_SOFT, NULL, NULL,  \
	  NULL, -16.0, -1.5, NULL, NULL }

#define LV_COMPOSE_RESULT_VERSION 1

/** What was written.  Initialise with LV_COMPOSE_RESULT_INIT.  When a result is asked for, the film is
 *  also measured and its quality report written beside it as qc.json (the task's "qc" of the HTTP API,
 *  docs/api.md, with the default limits and these options' loudness and true-peak targets). */
typedef struct lv_compose_result {
	unsigned int version;    /**< LV_COMPOSE_RESULT_VERSION */
	double duration;         /**< seconds, of the written film */
	int copied_segments;     /**< clips joined by stream copy */
	int reencoded_segments;  /**< clips decoded and re-encoded */
	double loudness_lufs;    /**< integrated loudness measured on the written film */
	double true_peak_dbtp;   /**< true peak measured on the written film */
} lv_compose_result;

#define LV_COMPOSE_RESULT_INIT { LV_COMPOSE_RESULT_VERSION, 0, 0, 0, 0, 0 }

/**
 * Compose the film described by `opts` into opts->out_dir.  Blocks until done; safe to call from
 * several threads at once on different output directories.  `result` may be NULL.
 *
 * Returns LV_OK; LV_EINVALID naming the option ("segments[2].seconds must be more than 0");
 * LV_ECANCELED when the progress callback asked; or another status with a message naming the file and
 * the step that failed ("segment 3 (b.mp4): cannot open: No such file or directory").  On failure no
 * final.mp4 is left behind and an existing one is untouched.
 */
LV_EXTERN(int) lv_compose_files(const lv_compose_options *opts, lv_compose_result *result);

/**
 * Read a SubRip (.srt) file into cues: *cues is one allocation (texts included) freed with lv_free().
 * At most 10,000 cues and 16 MiB; LV_EINVALID names the line of a malformed entry.
 */
LV_EXTERN(int) lv_compose_read_srt(lv_compose_cue **cues, size_t *n_cues, const char *path);

#ifdef __cplusplus
}
#endif
#endif
