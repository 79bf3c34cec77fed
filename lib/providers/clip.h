/*
 * Internal: media conversions for the adapters whose vendors hand back files in
 * whatever format their tools chose.
 *
 *  - Still images (PNG, JPEG, WebP) become PNG files (anchor images).
 *  - Clips become MP4 the composer can use.  MP4/MOV files are kept as they are
 *    (the composer re-encodes non-canonical clips itself); GIF, WebM/Matroska and
 *    animated WebP are decoded and encoded once with the canonical segment
 *    parameters (media/h264.h) at the film's picture size, so the composer can
 *    join them by stream copy.  A frame sequence (one still image per frame) is
 *    assembled the same way at a given frame rate.
 *
 * FFmpeg 5.1 has no decoder for animated WebP, so its container (RIFF chunks
 * VP8X/ANIM/ANMF) is read here: each frame's bitstream is wrapped as a still
 * WebP, decoded with libavcodec, and composited onto the canvas following the
 * frame's offset, blending and disposal flags.
 *
 * Every writer works on a temporary name beside its output and renames it into
 * place at the end, so a failed or canceled conversion leaves no output.
 * Thread-safe (no shared state).
 */
#ifndef LV_PROVIDERS_CLIP_H
#define LV_PROVIDERS_CLIP_H

#include <stddef.h>

typedef enum lv_clip_kind {
	LV_CLIP_UNKNOWN = 0,
	LV_CLIP_MP4,   /* ISO BMFF: MP4, MOV, M4V */
	LV_CLIP_MKV,   /* Matroska / WebM */
	LV_CLIP_GIF,
	LV_CLIP_WEBP,  /* still or animated */
	LV_CLIP_PNG,   /* still (or APNG) */
	LV_CLIP_JPEG
} lv_clip_kind;

/* What the first bytes of a buffer say it is. */
lv_clip_kind lv_clip_sniff(const void *data, size_t len);
/* The same for a file (LV_CLIP_UNKNOWN when it cannot be read). */
lv_clip_kind lv_clip_sniff_file(const char *path);
/* A short name for messages: "MP4", "GIF", ... */
const char *lv_clip_kind_name(lv_clip_kind k);

/* 1 if a WebP file's first frame is part of an animation (VP8X with the animation flag). */
int lv_clip_webp_is_animated(const char *path);

/*
 * Write a still image (PNG, JPEG or WebP; an animated WebP gives its first frame) as a PNG file
 * at out_png.  A PNG is checked by decoding it and copied unchanged; the others are decoded and
 * encoded (alpha is flattened onto white).  *width and *height (may be NULL) get the size.
 */
int lv_clip_image_to_png(const char *in, const char *out_png, int *width, int *height);

/*
 * Make out_mp4 from a downloaded clip.  MP4/MOV: checked to hold a decodable video stream and
 * moved (renamed) into place as it is.  GIF, WebM/Matroska, animated WebP: decoded, fitted into
 * width x height (aspect kept, black bars) and encoded with the canonical parameters, timed by the
 * source's own frame timestamps.  *converted (may be NULL) is set to 1 when it was re-encoded.
 * The input file is consumed (renamed or left for the caller to remove).
 */
int lv_clip_to_mp4(const char *in, const char *out_mp4, int width, int height, const volatile int *cancel,
                   int *converted);

/* Assemble still images (PNG, JPEG or WebP), one per frame at `fps`, into a canonical MP4. */
int lv_clip_frames_to_mp4(const char *const *frames, size_t n, double fps, const char *out_mp4, int width,
                          int height, const volatile int *cancel);

/*
 * A WAV file whose RIFF and data chunk sizes are placeholders (streamed WAV, e.g. 0xFFFFFFFF) gets the
 * real sizes written in place.  LV_OK and nothing changed for a consistent file; LV_EINVALID if it is
 * not a RIFF/WAVE file with a data chunk.
 */
int lv_clip_wav_fix_sizes(const char *path);

/*
 * Decode any audio file FFmpeg reads and write it as 16-bit PCM WAV at out_wav, played `tempo` times
 * faster (the atempo filter: pitch kept; 1.0 = only convert; 0.5 to 4.0).  *seconds (may be NULL) gets
 * the length written.
 */
int lv_clip_audio_to_wav(const char *in, const char *out_wav, double tempo, double *seconds);

/*
 * Fit a spoken line (a WAV file of `seconds`) into max_seconds by playing it faster, in place, at most
 * `max_tempo` times (pitch kept).  Nothing is done when it fits or would gain under 1%.  *fitted gets the
 * length it has now.
 */
int lv_clip_fit_wav(const char *path, double seconds, double max_seconds, double max_tempo, double *fitted);

#endif
