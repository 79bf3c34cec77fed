/*
 * Internal: the canonical segment encoding.
 *
 * Every segment the built-in renderer makes, and every segment the composer
 * has to re-encode, uses exactly these parameters, so that their codec
 * parameters (profile, size, pixel format, frame rate, time base and the
 * SPS/PPS in the avcC extradata) are identical and composition can join
 * them by stream copy.
 */
#ifndef LV_MEDIA_H264_H
#define LV_MEDIA_H264_H

#include <libavcodec/avcodec.h>

#define LV_SEG_FPS 24              /* frames per second */
#define LV_SEG_TIMEBASE 12288      /* MP4 track time base denominator at 24 fps */
#define LV_SEG_GOP 48              /* one IDR every 2 s */
#define LV_SEG_PIX_FMT AV_PIX_FMT_YUV420P

/* Picture size for a resolution ("720p"/"1080p") and aspect ratio ("16:9"/"9:16"/"1:1"). */
int lv_video_size(const char *resolution, const char *aspect_ratio, int *width, int *height);

/*
 * Open a libx264 encoder with the canonical parameters for width x height:
 * High profile, yuv420p, 24 fps, time base 1/LV_SEG_FPS, GOP 48, no
 * B-frames, CRF 20, preset veryfast, a fixed thread count, global headers.
 * `*out` is freed with avcodec_free_context().
 */
int lv_h264_open(AVCodecContext **out, int width, int height);

#endif
