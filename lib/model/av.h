/* Internal (model layer): opening media to read with the FFmpeg libraries. */
#ifndef LV_MODEL_AV_H
#define LV_MODEL_AV_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

/* An FFmpeg error code as text (static per call site buffer is the caller's). */
const char *lv_av_err(char buf[AV_ERROR_MAX_STRING_SIZE], int err);

/* Open a file and read its stream info.  Errors say "WHAT (PATH): cannot open: ..." (LV_ENOTFOUND for a
 * missing file, else LV_EIO) or "... cannot read stream info: ..."; *fmt is closed on failure. */
int lv_av_open_input(AVFormatContext **fmt, const char *path, const char *what);

/* Open a decoder for the best stream of `type` in fmt: *index is the stream, *dec the opened decoder
 * (threads > 0: that many threads).  Errors say "WHAT (PATH): no decodable TYPE stream" (LV_EINVALID) or
 * "... cannot open the CODEC decoder: ..." (LV_EIO).  The caller frees *dec in every case. */
int lv_av_open_decoder(AVCodecContext **dec, int *index, AVFormatContext *fmt, enum AVMediaType type, int threads,
                       const char *what, const char *path);

#endif
