/* Opening media to read with the FFmpeg libraries: shared by the prober, the composer and the providers. */
#include "model/av.h"
#include "util/error.h"

const char *lv_av_err(char buf[AV_ERROR_MAX_STRING_SIZE], int err)
{
	av_strerror(err, buf, AV_ERROR_MAX_STRING_SIZE);
	return buf;
}

int lv_av_open_input(AVFormatContext **fmt, const char *path, const char *what)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avformat_open_input(fmt, path, NULL, NULL);
	if (err < 0)
		return lv_error_set(err == AVERROR(ENOENT) ? LV_ENOTFOUND : LV_EIO, "%s (%s): cannot open: %s", what, path,
		                    lv_av_err(eb, err));
	err = avformat_find_stream_info(*fmt, NULL);
	if (err < 0) {
		avformat_close_input(fmt);
		return lv_error_set(LV_EIO, "%s (%s): cannot read stream info: %s", what, path, lv_av_err(eb, err));
	}
	return LV_OK;
}

int lv_av_open_decoder(AVCodecContext **dec, int *index, AVFormatContext *fmt, enum AVMediaType type, int threads,
                       const char *what, const char *path)
{
	const AVCodec *codec = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	*dec = NULL;
	*index = av_find_best_stream(fmt, type, -1, -1, &codec, 0);
	if (*index < 0 || !codec)
		return lv_error_set(LV_EINVALID, "%s (%s): no decodable %s stream", what, path,
		                    av_get_media_type_string(type));
	if (!(*dec = avcodec_alloc_context3(codec)))
		return lv_error_nomem();
	avcodec_parameters_to_context(*dec, fmt->streams[*index]->codecpar);
	(*dec)->pkt_timebase = fmt->streams[*index]->time_base;
	if (threads > 0)
		(*dec)->thread_count = threads;
	err = avcodec_open2(*dec, codec, NULL);
	if (err < 0)
		return lv_error_set(LV_EIO, "%s (%s): cannot open the %s decoder: %s", what, path, codec->name,
		                    lv_av_err(eb, err));
	return LV_OK;
}
