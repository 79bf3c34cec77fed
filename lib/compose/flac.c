/* Audio stems stored losslessly compressed: any decodable audio file to 16-bit FLAC at its own rate and
 * channel layout (lv_audio_to_flac in compose/compose.h). */
#include "compose/internal.h"
#include "util/error.h"
#include "util/mem.h"

#include <libavutil/audio_fifo.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct flac_job {
	AVFormatContext *in, *out;
	AVCodecContext *dec, *enc;
	SwrContext *swr;
	AVAudioFifo *fifo;
	AVFrame *frame, *chunk;
	AVPacket *pkt;
	int64_t pts;
	const char *dst;
} flac_job;

/* Send one frame (NULL: flush) to the encoder and write what comes out. */
static int encode(flac_job *j, AVFrame *f)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avcodec_send_frame(j->enc, f);
	while (err >= 0) {
		err = avcodec_receive_packet(j->enc, j->pkt);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return LV_OK;
		if (err < 0)
			break;
		av_packet_rescale_ts(j->pkt, j->enc->time_base, j->out->streams[0]->time_base);
		j->pkt->stream_index = 0;
		err = av_interleaved_write_frame(j->out, j->pkt);
	}
	return lv_error_set(LV_EIO, "flac (%s): cannot encode: %s", j->dst, lv_av_err(eb, err));
}

/* Encode whole frames of the fifo (all of it when flushing). */
static int drain(flac_job *j, int flush)
{
	int rc = LV_OK;
	while (rc == LV_OK && (av_audio_fifo_size(j->fifo) >= j->enc->frame_size ||
	                       (flush && av_audio_fifo_size(j->fifo) > 0))) {
		int n = FFMIN(av_audio_fifo_size(j->fifo), j->enc->frame_size);
		av_frame_unref(j->chunk);
		j->chunk->nb_samples = n;
		j->chunk->format = j->enc->sample_fmt;
		j->chunk->sample_rate = j->enc->sample_rate;
		if (av_channel_layout_copy(&j->chunk->ch_layout, &j->enc->ch_layout) < 0 ||
		    av_frame_get_buffer(j->chunk, 0) < 0 || av_audio_fifo_read(j->fifo, (void **)j->chunk->data, n) != n)
			return lv_error_nomem();
		j->chunk->pts = j->pts;
		j->pts += n;
		rc = encode(j, j->chunk);
	}
	return rc;
}

/* Convert a decoded frame (NULL: flush the resampler) into the fifo. */
static int convert(flac_job *j, const AVFrame *f)
{
	int max = swr_get_out_samples(j->swr, f ? f->nb_samples : 0), got;
	uint8_t **buf = NULL;
	if (max <= 0)
		return LV_OK;
	if (av_samples_alloc_array_and_samples(&buf, NULL, j->enc->ch_layout.nb_channels, max, j->enc->sample_fmt, 0) < 0)
		return lv_error_nomem();
	got = swr_convert(j->swr, buf, max, f ? (const uint8_t **)f->extended_data : NULL, f ? f->nb_samples : 0);
	if (got > 0 && av_audio_fifo_write(j->fifo, (void **)buf, got) < got)
		got = -1;
	av_freep(&buf[0]);
	av_freep(&buf);
	return got < 0 ? lv_error_set(LV_EIO, "flac (%s): cannot convert the samples", j->dst) : LV_OK;
}

static int decode(flac_job *j, const AVPacket *p)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avcodec_send_packet(j->dec, p), rc = LV_OK;
	while (err >= 0 && rc == LV_OK) {
		err = avcodec_receive_frame(j->dec, j->frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return LV_OK;
		if (err >= 0 && (rc = convert(j, j->frame)) == LV_OK)
			rc = drain(j, 0);
		av_frame_unref(j->frame);
	}
	return err < 0 ? lv_error_set(LV_EIO, "flac (%s): cannot decode: %s", j->dst, lv_av_err(eb, err)) : rc;
}

int lv_audio_to_flac(const char *src, const char *dst)
{
	flac_job j;
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_FLAC);
	char eb[AV_ERROR_MAX_STRING_SIZE], *tmp = lv_asprintf("%s.tmp.%ld", dst, (long)getpid());
	int idx = -1, rc, err = 0;
	AVStream *st;
	memset(&j, 0, sizeof(j));
	j.dst = dst;
	if (!tmp)
		return LV_ENOMEM;
	if (!codec) {
		free(tmp);
		return lv_error_set(LV_EIO, "flac: this FFmpeg has no FLAC encoder");
	}
	if ((rc = lv_av_open_input(&j.in, src, "flac source")) != LV_OK ||
	    (rc = lv_av_open_decoder(&j.dec, &idx, j.in, AVMEDIA_TYPE_AUDIO, 1, "flac source", src)) != LV_OK)
		goto out;
	if (!(j.enc = avcodec_alloc_context3(codec)) || !(j.frame = av_frame_alloc()) || !(j.chunk = av_frame_alloc()) ||
	    !(j.pkt = av_packet_alloc())) {
		rc = lv_error_nomem();
		goto out;
	}
	j.enc->sample_fmt = AV_SAMPLE_FMT_S16;
	j.enc->sample_rate = j.dec->sample_rate;
	j.enc->time_base = (AVRational){ 1, j.dec->sample_rate };
	if (j.dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&j.enc->ch_layout, j.dec->ch_layout.nb_channels);
	else
		err = av_channel_layout_copy(&j.enc->ch_layout, &j.dec->ch_layout);
	if (err >= 0)
		err = avformat_alloc_output_context2(&j.out, NULL, "flac", tmp);
	if (err >= 0 && !(j.out->oformat->flags & AVFMT_NOFILE))
		err = avio_open(&j.out->pb, tmp, AVIO_FLAG_WRITE);
	if (err >= 0)
		err = avcodec_open2(j.enc, codec, NULL);
	if (err >= 0 && !(st = avformat_new_stream(j.out, NULL)))
		err = AVERROR(ENOMEM);
	if (err >= 0) {
		st->time_base = j.enc->time_base;
		err = avcodec_parameters_from_context(st->codecpar, j.enc);
	}
	if (err >= 0)
		err = swr_alloc_set_opts2(&j.swr, &j.enc->ch_layout, j.enc->sample_fmt, j.enc->sample_rate,
		                          &j.dec->ch_layout, j.dec->sample_fmt, j.dec->sample_rate, 0, NULL);
	if (err >= 0)
		err = swr_init(j.swr);
	if (err >= 0 && !(j.fifo = av_audio_fifo_alloc(j.enc->sample_fmt, j.enc->ch_layout.nb_channels,
	                                                j.enc->frame_size > 0 ? j.enc->frame_size : 4608)))
		err = AVERROR(ENOMEM);
	if (err >= 0 && j.enc->frame_size <= 0)
		j.enc->frame_size = 4608;
	if (err >= 0)
		err = avformat_write_header(j.out, NULL);
	if (err < 0) {
		rc = lv_error_set(LV_EIO, "flac (%s): cannot set up the encoder: %s", dst, lv_av_err(eb, err));
		goto out;
	}
	while (rc == LV_OK && (err = av_read_frame(j.in, j.pkt)) >= 0) {
		if (j.pkt->stream_index == idx)
			rc = decode(&j, j.pkt);
		av_packet_unref(j.pkt);
	}
	if (rc == LV_OK && err != AVERROR_EOF)
		rc = lv_error_set(LV_EIO, "flac source (%s): cannot read: %s", src, lv_av_err(eb, err));
	if (rc == LV_OK)
		rc = decode(&j, NULL);
	if (rc == LV_OK)
		rc = convert(&j, NULL);
	if (rc == LV_OK)
		rc = drain(&j, 1);
	if (rc == LV_OK)
		rc = encode(&j, NULL);
	if (rc == LV_OK && (err = av_write_trailer(j.out)) < 0)
		rc = lv_error_set(LV_EIO, "flac (%s): cannot finish the file: %s", dst, lv_av_err(eb, err));
out:
	if (j.out && j.out->pb)
		avio_closep(&j.out->pb);
	avformat_free_context(j.out);
	avformat_close_input(&j.in);
	avcodec_free_context(&j.dec);
	avcodec_free_context(&j.enc);
	swr_free(&j.swr);
	if (j.fifo)
		av_audio_fifo_free(j.fifo);
	av_frame_free(&j.frame);
	av_frame_free(&j.chunk);
	av_packet_free(&j.pkt);
	if (rc == LV_OK && rename(tmp, dst) != 0)
		rc = lv_error_set(LV_EIO, "flac: cannot rename %s into place", tmp);
	if (rc != LV_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}
