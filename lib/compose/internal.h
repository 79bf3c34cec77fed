/*
 * Internal to the composer: the pieces compose.c wires together.
 *
 *   h264util.c  SPS/PPS extraction and comparison, avcC, Annex B -> length prefixed
 *   join.c      segment planning (conformance) and the video: copy or re-encode
 *   audio.c     the audio graph (analysis passes, then the encoding pass)
 *   subs.c      SRT/WebVTT, mov_text samples, burned-in cues (drawtext)
 *   probe.c     lv_media_loudness (lv_media_probe: model/probe.c)
 *   thumb.c     the thumbnail
 */
#ifndef LV_COMPOSE_INTERNAL_H
#define LV_COMPOSE_INTERNAL_H

#include "compose/compose.h"

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <stdint.h>

#define LV_AUDIO_RATE 48000

/* lv_av_err(), lv_av_open_input(), lv_av_open_decoder(): model/av.h */
#include "model/av.h"

/*
 * Denormal floats: filters with feedback (the K-weighting of ebur128, the
 * compressor, the limiter) slow down by orders of magnitude on the silence
 * between narration lines once their state decays into the subnormal range.
 * These set the calling thread's SSE flush-to-zero / denormals-are-zero
 * modes for the duration of a composition and restore them after (a
 * per-thread CPU register, not shared state).  No-ops elsewhere.
 */
unsigned lv_fpu_flush_denormals(void);
void lv_fpu_restore(unsigned saved);

/* ---- h264util.c ---- */

/* The parameter sets (SPS and PPS NAL units) of H.264 extradata, avcC or Annex B. */
typedef struct lv_h264_params {
	size_t n_sps, n_pps;
	const uint8_t *sps[4], *pps[8];
	size_t sps_len[4], pps_len[8];
} lv_h264_params;

/* Parse extradata (avcC or Annex B); LV_EINVALID when it holds no SPS or no PPS. */
int lv_h264_params_parse(lv_h264_params *out, const uint8_t *data, size_t len);
/* 1 when both hold byte-identical SPS and PPS lists. */
int lv_h264_params_equal(const lv_h264_params *a, const lv_h264_params *b);
/* Build an avcC record from the parameter sets (caller av_free()s *out). */
int lv_h264_avcc(uint8_t **out, size_t *out_len, const lv_h264_params *p);
/* Rewrite an Annex B packet into 4-byte length-prefixed NAL units, in place of pkt's data. */
int lv_h264_annexb_to_mp4(AVPacket *pkt);

/* ---- join.c: the plan for each segment ---- */

typedef struct lv_seg {
	const char *path;
	size_t index;          /* position in the job, for messages */
	double seconds;
	int64_t first_frame;   /* film frame index of the segment's first frame */
	int64_t frames;        /* frames it contributes */
	int copy;              /* 1: packets copied; 0: decoded and re-encoded */
	int has_audio;
	/* from probing */
	int is_h264, width, height;
	AVRational tb, fps;
	int64_t avail_frames;  /* frames in the file, -1 when unknown */
	int params_ok;         /* extradata parsed */
	int first_key;         /* first packet is a keyframe (or unknown) */
	int need_decode;       /* trimming/padding cannot be done by copy */
	AVCodecParameters *par;
} lv_seg;

/* The video half of the composition, owned by compose.c. */
typedef struct lv_video_plan {
	lv_seg *segs;
	size_t n;
	AVRational fps;        /* film frame rate */
	AVRational tb;         /* output video time base */
	int64_t total_frames;
	int canonical;         /* target is the canonical encoding (else: the segments' own) */
	AVCodecParameters *par; /* output video codec parameters */
} lv_video_plan;

/* Open a segment and find its video stream (stream info is read unless the file is MP4/MOV, whose header
 * describes the streams).  Messages name the segment, its file and the step; *fmt is closed on failure. */
int lv_seg_open(AVFormatContext **fmt, int *vi, const lv_seg *s);

/* Probe the segments and decide copy / re-encode for each. */
int lv_video_plan_make(lv_video_plan *plan, const lv_compose_job *job);
void lv_video_plan_free(lv_video_plan *plan);

/* Sink for produced video packets (timestamps in plan->tb); compose.c interleaves and writes. */
typedef int (*lv_video_emit_fn)(void *ctx, AVPacket *pkt);
/* Called with the fraction of the film's frames produced; non-zero cancels. */
typedef int (*lv_video_tick_fn)(void *ctx, int64_t frames_done);

typedef struct lv_video_run {
	const lv_compose_job *job;
	const lv_video_plan *plan;
	lv_video_emit_fn emit;
	lv_video_tick_fn tick;
	void *ctx;
} lv_video_run;

/* Produce the whole video track, segment after segment. */
int lv_video_produce(const lv_video_run *run);

/* ---- audio.c ---- */

typedef struct lv_audio lv_audio;
typedef int (*lv_audio_tick_fn)(void *ctx, double fraction_of_analysis);

/*
 * Measure the inputs and build the final graph and the AAC encoder;
 * total_samples is the film's length at LV_AUDIO_RATE.  Intermediate files
 * are named stem_prefix + "-voices.wav" etc. and removed by lv_audio_free().
 */
int lv_audio_open(lv_audio **out, const lv_compose_job *job, const lv_video_plan *plan, int64_t total_samples,
                  const char *stem_prefix, lv_audio_tick_fn tick, void *tick_ctx);
/*
 * The final pass alone, for a 48 kHz stereo float WAV `mix` of total_samples times gain_db: seam -1 as
 * lv_audio_open chooses (two halves from 20 s on), 0 one encoder, else two halves joined at that sample
 * (a multiple of 1024).
 */
int lv_audio_open_mix(lv_audio **out, const char *mix, double gain_db, int64_t total_samples, int64_t seam);
/* The first sample the second half's packets carry; 0 when the track is encoded in one piece. */
int64_t lv_audio_seam(const lv_audio *a);
const AVCodecContext *lv_audio_codec(const lv_audio *a);
/* How far the music was brought down under the narration (dB, measured in the mix pass); NAN: no narration
 * with music. */
double lv_audio_ducking_db(const lv_audio *a);
/*
 * Encode and hand to emit every audio packet whose pts (in 1/LV_AUDIO_RATE) is below `until`
 * (INT64_MAX: to the end).
 */
int lv_audio_pump(lv_audio *a, int64_t until, int (*emit)(void *ctx, AVPacket *pkt), void *ctx);
void lv_audio_free(lv_audio *a);

/* ---- subs.c ---- */

/*
 * Validated, time-ordered cues clipped to the film, for mov_text, the .srt/.vtt and drawing, split
 * into readable pieces: at most 2 lines of at most `line_units` (0: 42) units, a Latin character
 * counting 1 and a wide (CJK) one 2, lines broken where UAX #14 allows (libunibreak); a long cue
 * becomes several in sequence, its time shared by length, each at least 0.8 s where the cue
 * allows and at most 7 s.
 */
typedef struct lv_cue_list {
	lv_compose_cue *cues; /* texts owned by the list */
	size_t n;
} lv_cue_list;

/* SPEC §9's subtitle rules. */
#define LV_CUE_MAX_CPS 20.0
#define LV_CUE_MIN_SECONDS 0.8
#define LV_CUE_MAX_SECONDS 7.0
/*
 * The film's cues as shown: sorted, clipped to the film, overlaps resolved, each split into pieces of
 * at most two lines of `line_units` (libunibreak breaks; wide characters count two), then held to the
 * cue rules: no piece across a cut (`cuts`, seconds), 0.8-7 s on screen, at most 20 characters a second
 * (held longer up to the next cue or cut when it reads too fast).
 */
int lv_cues_prepare(lv_cue_list *out, const lv_compose_cue *cues, size_t n, double film_seconds, int line_units,
                    const double *cuts, size_t n_cuts);
/* lv_cues_prepare for a job, with the cuts and the length of its plan. */
int lv_cues_for_plan(lv_cue_list *out, const lv_compose_job *job, const lv_video_plan *plan, int line_units);
void lv_cues_free(lv_cue_list *l);
/* mov_text (tx3g) sample description and one sample. */
int lv_movtext_extradata(AVCodecParameters *par);
int lv_movtext_sample(AVPacket *pkt, const char *text);
/* ISO 639-2/T code for a BCP-47 tag ("zh-CN" -> "zho"); "und" when unknown. */
const char *lv_lang_iso639_2(const char *bcp47);

/*
 * A filter graph drawing the cues that overlap [t0, t1) seconds onto frames of w x h yuv420p
 * with pts in 1/fps film time.  *out is NULL when no cue overlaps.
 */
typedef struct lv_burn {
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	char *ass_path; /* the generated .ass drawn by libass (removed by lv_burn_close) */
} lv_burn;
/* Units per subtitle line that fit a w x h frame at the burned style's size (<= 42). */
int lv_burn_line_units(int w, int h);
int lv_burn_open(lv_burn *out, const lv_cue_list *cues, double t0, double t1, int w, int h, AVRational fps,
                 const char *font_file);
void lv_burn_close(lv_burn *b);

/* Width of text[0, len) in subtitle line units (a wide (CJK) character 2, others 1), and its characters. */
int lv_text_units(const char *text, size_t len);
int lv_text_chars(const char *text, size_t len);

/* ---- thumb.c ---- */

/* Decode the frame at about `at` seconds of the video in `mp4` and write it as JPEG. */
int lv_thumbnail_write(const char *mp4, double at, const char *jpg_path);

/* ---- probe.c ---- */

/*
 * Read the EBU R128 metadata an ebur128 filter (metadata=1) attached to a
 * frame: the integrated loudness so far, and the frame's sample and true
 * peaks (linear) raised into *sample_peak / *true_peak.  Any may be NULL.
 */
void lv_r128_frame(const AVFrame *f, double *integrated, double *sample_peak, double *true_peak);

#endif
