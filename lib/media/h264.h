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
#include <libavformat/avformat.h>

#define LV_SEG_FPS 24              /* frames per second */
#define LV_SEG_TIMEBASE 12288      /* MP4 track time base denominator at 24 fps */
#define LV_SEG_GOP 48              /* one IDR every 2 s */
#define LV_SEG_PIX_FMT AV_PIX_FMT_YUV420P

/* Picture size for a resolution ("720p"/"1080p") and aspect ratio ("16:9"/"9:16"/"1:1"). */
int lv_video_size(const char *resolution, const char *aspect_ratio, int *width, int *height);

/*
 * Open a libx264 encoder with the canonical parameters for width x height:
 * High profile, yuv420p, 24 fps, time base 1/LV_SEG_FPS, GOP 48, no
 * B-frames, CRF 20, preset ultrafast with the 8x8 transform and deblocking
 * (High profile, CAVLC), a fixed thread count, global headers.
 * `*out` is freed with avcodec_free_context().
 */
int lv_h264_open(AVCodecContext **out, int width, int height);
/*
 * The same with `threads` x264 frame threads (lv_h264_open: 2).  The thread count does not change the
 * parameter sets, so the clips join by packet copy whatever it was; one thread costs about 12 % less
 * CPU, which is what a caller running one encoder per core wants.
 */
int lv_h264_open_threads(AVCodecContext **out, int width, int height, int threads);

/*
 * A canonical segment being written: an MP4 (+faststart) with one H.264 track
 * from lv_h264_open(), written to a temporary file beside `path` and renamed
 * into place by lv_seg_writer_finish(), so that `path` never holds half a clip.
 *
 *     lv_seg_writer w;
 *     rc = lv_seg_writer_open(&w, path, width, height);
 *     ... lv_seg_writer_encode(&w, frame) with frame->pts counting frames from 0 ...
 *     if (rc == LV_OK) rc = lv_seg_writer_finish(&w);
 *     lv_seg_writer_close(&w);     (always; removes the temporary file unless finished)
 */
typedef struct lv_seg_writer {
	AVFormatContext *oc;
	AVCodecContext *enc;
	AVStream *st;
	AVPacket *pkt;
	char *tmp;        /* the temporary file; NULL once renamed into place */
	const char *path; /* the final name, also for messages; borrowed */
} lv_seg_writer;

/* Open the encoder and the muxer and write the header.  After a failure too, `w` is for
 * lv_seg_writer_close(). */
int lv_seg_writer_open(lv_seg_writer *w, const char *path, int width, int height);
/* The same with `threads` encoder threads (see lv_h264_open_threads). */
int lv_seg_writer_open_threads(lv_seg_writer *w, const char *path, int width, int height, int threads);

/* Encode one picture (yuv420p at the writer's size; pts in frames) and write the packets ready. */
int lv_seg_writer_encode(lv_seg_writer *w, const AVFrame *frame);

/* Flush the encoder, write the trailer, close the file and rename it to `path`. */
int lv_seg_writer_finish(lv_seg_writer *w);

/* Free everything; the temporary file is removed unless finished.  Safe on a zeroed or failed writer. */
void lv_seg_writer_close(lv_seg_writer *w);

#endif
