/*
 * Internal: the composer — segments, narration, music and subtitles into
 * one MP4 (H.264 + AAC + mov_text) with the FFmpeg libraries.
 *
 * Video: segments are joined in order by stream copy with timestamp
 * offsets when their codec parameters match the canonical encoding
 * (media/h264.h): codec, profile, size, pixel format, frame rate, time base
 * and avcC extradata.  Only non-conforming segments are decoded and
 * re-encoded with lv_h264_open().  Each segment contributes exactly
 * `seconds` (longer clips are trimmed), so the film lasts the sum of the
 * segments' seconds to within one frame.  With subtitles == LV_SUBS_BURN the
 * whole picture is re-encoded with the cues drawn in.
 *
 * Audio: one filter graph, encoded once to AAC 48 kHz stereo: each voice
 * placed at its start, the music bed (looped or cut to the film's length)
 * ducked under the narration with sidechaincompress, the segments' own
 * audio (when they have any) mixed low, then loudness normalised to
 * target_lufs with true peak <= true_peak_db.  A film with no narration,
 * no music and no segment audio still gets a silent AAC track.
 *
 * Subtitles: soft -> a mov_text track plus final.srt and final.vtt; burn ->
 * drawn into the picture plus final.srt and final.vtt; none -> neither.
 * Also thumbnail.jpg (a frame from about a third into the film).
 * The MP4 is written with +faststart.  Memory stays bounded: packets and
 * frames stream through; nothing holds the whole film.
 */
#ifndef LV_COMPOSE_H
#define LV_COMPOSE_H

#include <stddef.h>

/* The public building blocks: LV_SUBS_*, lv_compose_segment, lv_compose_voice, lv_compose_cue and
 * lv_compose_files() (lib/compose/public.c) over lv_compose_run() below. */
#include "longvideo/compose.h"

typedef struct lv_compose_job {
	const lv_compose_segment *segments;
	size_t n_segments;
	int width, height;           /* the film's picture size */
	const lv_compose_voice *voices; /* narration; may be empty */
	size_t n_voices;
	const char *music_path;      /* music bed, or NULL */
	double segment_audio_db;     /* gain of the segments' own audio, e.g. -18 */
	const lv_compose_cue *cues;
	size_t n_cues;
	int subtitles;               /* LV_SUBS_* */
	const char *language;        /* BCP-47 primary tag for the subtitle/audio tracks, e.g. "zh" */
	const char *font_file;       /* font for burned subtitles (may be NULL: fontconfig default) */
	const char *out_dir;         /* existing directory: final.mp4, final.srt, final.vtt, thumbnail.jpg
	                              * (hidden .final-* work files live there while composing and are removed) */
	double thumbnail_at;         /* seconds into the film of the thumbnail's frame; <= 0: a third of the way */
	double target_lufs;          /* e.g. -16 */
	double true_peak_db;         /* e.g. -1.5 */
	/* Called now and then with 0..1; a non-zero return cancels (LV_ECANCELED). May be NULL. */
	int (*progress)(void *ctx, double fraction);
	void *progress_ctx;
} lv_compose_job;

typedef struct lv_compose_stats {
	double duration;        /* seconds, of the written film */
	int copied_segments;    /* joined by stream copy */
	int reencoded_segments; /* decoded and re-encoded */
	double ducking_db;      /* music level under the narration before minus after ducking, measured on the
	                         * mix over the blocks with speech; NAN when there is no narration with music */
} lv_compose_stats;

/*
 * Compose; LV_OK, or an error naming the file and the step that failed
 * ("segment 3 (/path/seg.mp4): cannot open: ..."; segments and voices are
 * numbered by their 0-based position in the job).  On failure or
 * cancellation no final.mp4 is left behind (an existing one is untouched).
 */
int lv_compose_run(const lv_compose_job *job, lv_compose_stats *stats);

/* Write the cues as SubRip (.srt) and WebVTT (.vtt). */
int lv_subtitles_write(const lv_compose_cue *cues, size_t n, const char *srt_path, const char *vtt_path);

/* -- reading media back (used by the tests and by the composer itself) -- */

/* lv_media_info and lv_media_probe(): model/probe.h */
#include "model/probe.h"

/* Integrated loudness (LUFS) and true peak (dBTP) of the first audio stream (ebur128 filter). */
int lv_media_loudness(const char *path, double *lufs, double *true_peak_db);

/* -- the quality report (qc.c) -- */

/* What the report holds the film to (config: compose.qc and compose; see docs/operating.md). */
typedef struct lv_qc_targets {
	double loudness_lufs;             /* integrated loudness, e.g. -16 */
	double loudness_tolerance_lu;     /* |measured - target| allowed, e.g. 1 */
	double true_peak_dbtp;            /* at most, e.g. -1.5 */
	double duration_tolerance_frames; /* |film - requested| allowed, in frames, e.g. 1 */
	double ducking_min_db;            /* music brought down under narration by at least, e.g. 6 */
	double speech_coverage_min;       /* share of the film with speech at least, e.g. 0.6 */
	double black_min_s;               /* shortest black run detected (blackdetect d), e.g. 0.1 */
	double black_max_s;               /* longest black run allowed at a join, e.g. 0 */
	double freeze_noise_db;           /* freezedetect noise tolerance, e.g. -60 */
	double freeze_min_s;              /* shortest frozen run detected (freezedetect d), e.g. 1 */
	double freeze_max_s;              /* longest frozen run allowed at a join, e.g. 0 */
	int line_chars_max;               /* subtitle line width, a wide (CJK) character counting 2, e.g. 42 */
	int lines_max;                    /* lines per cue, e.g. 2 */
	double cue_min_s, cue_max_s;      /* cue duration, e.g. 0.8 and 7 */
	double cps_max;                   /* characters per second, e.g. 20 */
	double cut_slack_s;               /* a cue may overlap a cut by this much and not be "across" it, e.g. 0.04 */
} lv_qc_targets;

typedef struct lv_qc_input {
	const char *film;                 /* the produced MP4 */
	const char *srt;                  /* its subtitles (final.srt), or NULL / a missing file: none */
	int subtitle_track;               /* 1 when the MP4 should carry a subtitle track (soft subtitles) */
	double requested_seconds;         /* the film's requested length */
	const double *cuts;               /* times of the shot joins, seconds */
	size_t n_cuts;
	const lv_compose_voice *voices;   /* the narration files and where they were placed */
	size_t n_voices;
	double ducking_db;                /* measured on the mix while composing (lv_compose_stats); NAN: none */
	const lv_qc_targets *targets;
} lv_qc_input;

struct cJSON;
/* The documented defaults of config's compose.qc, with these loudness and true-peak targets. */
void lv_qc_targets_default(lv_qc_targets *t, double target_lufs, double true_peak_dbtp);
/* Write the report as JSON to path (atomically). */
int lv_qc_write(const struct cJSON *qc, const char *path);
/*
 * Measure the produced film: *out is the report object {"version", item..., "pass", "failed"}, every
 * item {"value", "target", "pass", ["unit"], ...}.  Failing items are reported, not errors; an error
 * (LV_EIO, LV_ENOTFOUND ...) means the film or a narration file could not be read.
 */
int lv_qc_measure(struct cJSON **out, const lv_qc_input *in);
/* Re-encode any decodable audio file as 16-bit FLAC at its own sample rate and channels (lossless for
 * 16-bit sources): written to a temporary file beside dst, then renamed into place. */
int lv_audio_to_flac(const char *src, const char *dst);

#endif
