/*
 * The composer, checked as media: films are read back with the FFmpeg
 * libraries (streams, codecs, size, frame rate, duration, frame count,
 * subtitle samples, box order, loudness, decoded pictures).
 *
 * Fixtures (made once per run in a temporary directory): canonical segments
 * encoded with lv_h264_open() from synthetic pictures, non-conforming ones
 * made with the ffmpeg command line (other size, 30 fps, B-frames, an audio
 * track, longer than needed), narration and a music bed.
 */
#include "testutil.h"
#include "compose/compose.h"
#include "compose/internal.h"
#include "media/h264.h"
#include "media/subband.h"
#include "util/fs.h"
#include "util/mem.h"

#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#define W 640
#define H 360
#define FRAME (1.0 / 24.0)

static char *fx; /* fixture directory */

static char *fx_path(const char *name)
{
	return lv_path_join(fx, name);
}

static int run(const char *fmt, ...) LV_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A canonical segment: `frames` synthetic pictures (a colour per seed, a moving bar) encoded with lv_h264_open. */
static int make_canonical(const char *path, int w, int h, int frames, int seed)
{
	lv_seg_writer wr = { 0 };
	AVFrame *f = av_frame_alloc();
	int i, x, y, rc;
	if (!f)
		return -1;
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	rc = av_frame_get_buffer(f, 0) < 0 ? LV_ENOMEM : lv_seg_writer_open(&wr, path, w, h);
	for (i = 0; rc == LV_OK && i < frames; i++) {
		av_frame_make_writable(f);
		for (y = 0; y < h; y++)
			for (x = 0; x < w; x++) {
				int bar = ((x + i * 8) / 40) % 4 == 0;
				f->data[0][y * f->linesize[0] + x] = (uint8_t)(bar ? 220 : 40 + (x + y + seed * 50) % 120);
			}
		for (y = 0; y < h / 2; y++)
			for (x = 0; x < w / 2; x++) {
				f->data[1][y * f->linesize[1] + x] = (uint8_t)(60 + seed * 45);
				f->data[2][y * f->linesize[2] + x] = (uint8_t)(200 - seed * 40);
			}
		f->pts = i;
		rc = lv_seg_writer_encode(&wr, f);
	}
	if (rc == LV_OK)
		rc = lv_seg_writer_finish(&wr);
	lv_seg_writer_close(&wr);
	av_frame_free(&f);
	return rc == LV_OK ? 0 : -1;
}

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "

static void fixtures_setup(void)
{
	char *p;
	int i;
	fx = lv_test_mkdtemp("compose-fx");
	ck_assert_ptr_nonnull(fx);
	for (i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "canon%d.mp4", i);
		p = fx_path(name);
		ck_assert_int_eq(make_canonical(p, W, H, 48, i), 0);
		free(p);
	}
	p = fx_path("canon_long.mp4"); /* 3 s, used for less */
	ck_assert_int_eq(make_canonical(p, W, H, 72, 3), 0);
	free(p);
	p = fx_path("canon_short.mp4"); /* 1 s, asked for 2 s */
	ck_assert_int_eq(make_canonical(p, W, H, 24, 1), 0);
	free(p);
	/* Odd: another size, 30 fps, B-frames, its own audio, 4 s long; no +faststart. */
	ck_assert_int_eq(run(FF "-f lavfi -i testsrc2=size=480x360:rate=30:duration=4 "
	                        "-f lavfi -i sine=frequency=330:duration=4:sample_rate=44100 "
	                        "-c:v libx264 -preset ultrafast -bf 2 -pix_fmt yuv420p -c:a aac -b:a 96k "
	                        "-shortest %s/odd.mp4",
	                     fx),
	                 0);
	/* An external provider's set: identical parameters among themselves, not canonical (B-frames). */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(run(FF "-f lavfi -i testsrc=size=640x360:rate=24:duration=%d "
		                        "-c:v libx264 -preset fast -bf 3 -g 24 -pix_fmt yuv420p -x264-params scenecut=0 "
		                        "-movflags +faststart %s/ext%d.mp4",
		                     i == 2 ? 3 : 2, fx, i),
		                 0);
	/* Narration: a tone with syllable-like bursts, and pink noise bursts; a music bed shorter than the films. */
	ck_assert_int_eq(run(FF "-f lavfi -i \"aevalsrc=0.25*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*4*t)):s=22050:d=1.6\" "
	                        "-ac 1 %s/voice0.wav",
	                     fx),
	                 0);
	ck_assert_int_eq(run(FF "-f lavfi -i \"anoisesrc=color=pink:amplitude=0.2:duration=1.4:sample_rate=24000\" "
	                        "-af \"volume='0.3+0.7*gt(sin(2*PI*3*t),0)':eval=frame\" -ac 1 %s/voice1.wav",
	                     fx),
	                 0);
	ck_assert_int_eq(run(FF "-f lavfi -i \"aevalsrc=0.3*sin(2*PI*110*t)+0.2*sin(2*PI*165*t)|0.3*sin(2*PI*138.6*t)+"
	                        "0.2*sin(2*PI*220*t):s=44100:d=2.5\" %s/music.wav",
	                     fx),
	                 0);
	ck_assert_int_eq(run(FF "-f lavfi -i \"aevalsrc=0.1*sin(2*PI*997*t)|0.1*sin(2*PI*997*t):s=48000:d=3\" "
	                        "%s/tone.wav",
	                     fx),
	                 0);
}

static void fixtures_teardown(void)
{
	lv_test_rmdir(fx);
	free(fx);
	fx = NULL;
}

/* ---- helpers ---- */

typedef struct film {
	char *dir;
	lv_compose_segment segs[4];
	char *seg_paths[4];
	lv_compose_voice voices[2];
	char *voice_paths[2];
	char *music;
	lv_compose_job job;
} film;

static void film_init(film *f, const char *tag)
{
	memset(f, 0, sizeof(*f));
	f->dir = lv_test_mkdtemp(tag);
	ck_assert_ptr_nonnull(f->dir);
	f->job.width = W;
	f->job.height = H;
	f->job.segments = f->segs;
	f->job.segment_audio_db = -18;
	f->job.subtitles = LV_SUBS_NONE;
	f->job.language = "zh";
	f->job.out_dir = f->dir;
	f->job.target_lufs = -16;
	f->job.true_peak_db = -1.5;
	f->job.font_file = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
}

static void film_seg(film *f, const char *name, double seconds)
{
	size_t i = f->job.n_segments++;
	f->seg_paths[i] = fx_path(name);
	f->segs[i].path = f->seg_paths[i];
	f->segs[i].seconds = seconds;
}

static void film_voice(film *f, const char *name, double start)
{
	size_t i = f->job.n_voices++;
	f->voice_paths[i] = fx_path(name);
	f->voices[i].path = f->voice_paths[i];
	f->voices[i].start = start;
	f->job.voices = f->voices;
}

static void film_free(film *f)
{
	size_t i;
	for (i = 0; i < 4; i++)
		free(f->seg_paths[i]);
	for (i = 0; i < 2; i++)
		free(f->voice_paths[i]);
	free(f->music);
	lv_test_rmdir(f->dir);
	free(f->dir);
}

static char *out_path(const film *f, const char *name)
{
	return lv_path_join(f->dir, name);
}

static int compose(film *f, lv_compose_stats *st)
{
	int rc = lv_compose_run(&f->job, st);
	if (rc != LV_OK)
		fprintf(stderr, "compose failed: %s\n", lv_error_last()->message);
	return rc;
}

/* Decode every video frame; returns the count, -1 on any decoding error. */
static int decode_all(const char *path)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	int vi, n = 0, eof = 0;
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0 || avformat_find_stream_info(fmt, NULL) < 0)
		return -1;
	vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, fmt->streams[vi]->codecpar);
	dec->err_recognition = AV_EF_EXPLODE;
	if (avcodec_open2(dec, codec, NULL) < 0)
		n = -1;
	while (n >= 0 && !eof) {
		int err;
		if (av_read_frame(fmt, pkt) < 0) {
			eof = 1;
			err = avcodec_send_packet(dec, NULL);
		} else if (pkt->stream_index != vi) {
			av_packet_unref(pkt);
			continue;
		} else {
			err = avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		if (err < 0 && err != AVERROR_EOF) {
			n = -1;
			break;
		}
		while ((err = avcodec_receive_frame(dec, fr)) >= 0) {
			if (fr->decode_error_flags || (fr->flags & AV_FRAME_FLAG_CORRUPT))
				n = -1000000;
			n++;
			av_frame_unref(fr);
		}
		if (err != AVERROR(EAGAIN) && err != AVERROR_EOF)
			n = -1;
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return n < 0 ? -1 : n;
}

/* The luma plane of the frame shown at time t (caller frees), and the picture size. */
static uint8_t *luma_at(const char *path, double t, int *w, int *h)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	uint8_t *out = NULL;
	int vi, eof = 0;
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0 || avformat_find_stream_info(fmt, NULL) < 0)
		return NULL;
	vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, fmt->streams[vi]->codecpar);
	avcodec_open2(dec, codec, NULL);
	while (!out && !eof) {
		if (av_read_frame(fmt, pkt) < 0) {
			eof = 1;
			avcodec_send_packet(dec, NULL);
		} else if (pkt->stream_index != vi) {
			av_packet_unref(pkt);
			continue;
		} else {
			avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		while (!out && avcodec_receive_frame(dec, fr) >= 0) {
			double ts = fr->best_effort_timestamp * av_q2d(fmt->streams[vi]->time_base);
			if (ts + 1e-6 >= t) {
				int y;
				*w = fr->width;
				*h = fr->height;
				out = malloc((size_t)fr->width * (size_t)fr->height);
				for (y = 0; y < fr->height; y++)
					memcpy(out + (size_t)y * (size_t)fr->width, fr->data[0] + (size_t)y * (size_t)fr->linesize[0],
					       (size_t)fr->width);
			}
			av_frame_unref(fr);
		}
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return out;
}

/* Mean absolute luma difference where subtitles go: the middle half, 75%..95% of the height. */
static double lower_third_diff(const uint8_t *a, const uint8_t *b, int w, int h)
{
	double sum = 0;
	int x, y, y0 = h * 3 / 4, y1 = h * 19 / 20;
	for (y = y0; y < y1; y++)
		for (x = w / 4; x < w * 3 / 4; x++)
			sum += abs((int)a[y * w + x] - (int)b[y * w + x]);
	return sum / ((double)(w / 2) * (y1 - y0));
}

/* RMS of the first audio stream's decoded samples (all channels) between t0 and t1 seconds. */
static double audio_rms(const char *path, double t0, double t1)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	double sum = 0;
	long n = 0;
	int ai, eof = 0;
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0 || avformat_find_stream_info(fmt, NULL) < 0)
		return -1;
	ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, fmt->streams[ai]->codecpar);
	dec->pkt_timebase = fmt->streams[ai]->time_base;
	avcodec_open2(dec, codec, NULL);
	while (!eof) {
		if (av_read_frame(fmt, pkt) < 0) {
			eof = 1;
			avcodec_send_packet(dec, NULL);
		} else if (pkt->stream_index != ai) {
			av_packet_unref(pkt);
			continue;
		} else {
			avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		while (avcodec_receive_frame(dec, fr) >= 0) {
			double ts = fr->best_effort_timestamp * av_q2d(fmt->streams[ai]->time_base);
			int i, c;
			ck_assert_int_eq(fr->format, AV_SAMPLE_FMT_FLTP);
			for (i = 0; i < fr->nb_samples; i++) {
				double t = ts + (double)i / fr->sample_rate;
				if (t < t0 || t >= t1)
					continue;
				for (c = 0; c < fr->ch_layout.nb_channels; c++) {
					double v = ((const float *)fr->extended_data[c])[i];
					sum += v * v;
					n++;
				}
			}
			av_frame_unref(fr);
		}
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return n ? sqrt(sum / (double)n) : -1;
}

static void assert_film(const film *f, const lv_compose_stats *st, double seconds, lv_media_info *info)
{
	char *mp4 = out_path(f, "final.mp4");
	ck_assert_int_eq(lv_media_probe(info, mp4), LV_OK);
	ck_assert_msg(fabs(info->duration - seconds) <= FRAME + 1e-6, "duration %.4f, want %.4f", info->duration,
	              seconds);
	ck_assert_msg(fabs(info->video_duration - seconds) <= FRAME + 1e-6, "video duration %.4f, want %.4f",
	              info->video_duration, seconds);
	ck_assert_msg(fabs(info->audio_duration - seconds) <= FRAME + 1e-6, "audio duration %.4f, want %.4f",
	              info->audio_duration, seconds);
	ck_assert_msg(fabs(st->duration - info->duration) < 1e-3, "stats duration %.4f", st->duration);
	ck_assert(info->has_video);
	ck_assert(info->has_audio);
	ck_assert_str_eq(info->video_codec, "h264");
	ck_assert_str_eq(info->audio_codec, "aac");
	ck_assert_int_eq(info->width, W);
	ck_assert_int_eq(info->height, H);
	ck_assert_msg(fabs(info->fps - 24.0) < 0.01, "fps %.3f", info->fps);
	ck_assert_int_eq(info->video_frames, (int)lround(seconds * 24));
	ck_assert_int_eq(info->audio_sample_rate, 48000);
	ck_assert_int_eq(info->audio_channels, 2);
	ck_assert_int_eq(info->faststart, 1);
	ck_assert_int_eq(decode_all(mp4), info->video_frames);
	free(mp4);
}

static void assert_loudness(const film *f, double target)
{
	char *mp4 = out_path(f, "final.mp4");
	double lufs = 0, tp = 0;
	ck_assert_int_eq(lv_media_loudness(mp4, &lufs, &tp), LV_OK);
	if (getenv("LV_TEST_VERBOSE"))
		fprintf(stderr, "%s: %.2f LUFS, %.2f dBTP\n", mp4, lufs, tp);
	ck_assert_msg(fabs(lufs - target) <= 1.0, "integrated loudness %.2f LUFS, want %.1f +- 1", lufs, target);
	ck_assert_msg(tp <= f->job.true_peak_db + 0.2, "true peak %.2f dBTP, want <= %.1f", tp, f->job.true_peak_db);
	free(mp4);
}

static char *slurp(const film *f, const char *name)
{
	char *p = out_path(f, name), *text = NULL;
	size_t len;
	int rc = lv_file_read(&text, &len, p);
	free(p);
	return rc == LV_OK ? text : NULL;
}

/* ---- tests ---- */

START_TEST(subtitles_files_format)
{
	const lv_compose_cue cues[] = {
		{ 0.0, 1.5, "Hello" },
		{ 61.25, 3723.004, "第二行\n<b>&</b>" },
	};
	char *dir = lv_test_mkdtemp("subs"), *srt = lv_path_join(dir, "a.srt"), *vtt = lv_path_join(dir, "a.vtt");
	char *text = NULL;
	size_t len;
	ck_assert_int_eq(lv_subtitles_write(cues, 2, srt, vtt), LV_OK);
	ck_assert_int_eq(lv_file_read(&text, &len, srt), LV_OK);
	ck_assert_str_eq(text, "1\n00:00:00,000 --> 00:00:01,500\nHello\n\n"
	                       "2\n00:01:01,250 --> 01:02:03,004\n第二行\n<b>&</b>\n\n");
	free(text);
	ck_assert_int_eq(lv_file_read(&text, &len, vtt), LV_OK);
	ck_assert_str_eq(text, "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello\n\n"
	                       "00:01:01.250 --> 01:02:03.004\n第二行\n&lt;b&gt;&amp;&lt;/b&gt;\n\n");
	free(text);
	{
		const lv_compose_cue bad[] = { { 2.0, 1.0, "backwards" } };
		ck_assert_int_eq(lv_subtitles_write(bad, 1, srt, vtt), LV_EINVALID);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "cue 0"));
	}
	free(srt);
	free(vtt);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(loudness_of_a_known_tone)
{
	char *p = fx_path("tone.wav");
	double lufs, tp;
	lv_media_info info;
	/* A 997 Hz sine at 0.1 (-20 dBFS) on both channels reads -20 LUFS and peaks at -20 dBTP. */
	ck_assert_int_eq(lv_media_loudness(p, &lufs, &tp), LV_OK);
	ck_assert_msg(fabs(lufs + 20.0) < 0.3, "%.2f LUFS", lufs);
	ck_assert_msg(fabs(tp + 20.0) < 0.3, "%.2f dBTP", tp);
	ck_assert_int_eq(lv_media_probe(&info, p), LV_OK);
	ck_assert(info.has_audio && !info.has_video);
	ck_assert_int_eq(info.audio_channels, 2);
	ck_assert(fabs(info.duration - 3.0) < 0.01);
	free(p);
	/* A file written without +faststart has its moov after the mdat. */
	p = fx_path("odd.mp4");
	ck_assert_int_eq(lv_media_probe(&info, p), LV_OK);
	ck_assert_int_eq(info.faststart, 0);
	ck_assert_int_eq(info.width, 480);
	ck_assert(fabs(info.fps - 30.0) < 0.01);
	free(p);
}
END_TEST

START_TEST(all_canonical_copied_soft_subtitles)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	const lv_compose_cue cues[] = {
		{ 0.2, 1.6, "第一句旁白" },
		{ 2.0, 3.4, "Second line\nof narration" },
		{ 3.6, 4.9, "第三句" },
	};
	char *text, *thumb;
	int w = 0, h = 0;
	uint8_t *y;
	film_init(&f, "compose-canon");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 1.5);
	film_seg(&f, "canon2.mp4", 1.5);
	film_voice(&f, "voice0.wav", 0.2);
	film_voice(&f, "voice1.wav", 2.0);
	f.music = fx_path("music.wav");
	f.job.music_path = f.music;
	f.job.cues = cues;
	f.job.n_cues = 3;
	f.job.subtitles = LV_SUBS_SOFT;
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	ck_assert_int_eq(st.copied_segments, 3);
	ck_assert_int_eq(st.reencoded_segments, 0);
	assert_film(&f, &st, 5.0, &info);
	ck_assert_str_eq(info.video_profile, "High");
	ck_assert(info.has_subtitles);
	ck_assert_str_eq(info.subtitle_codec, "mov_text");
	ck_assert_int_eq(info.subtitle_packets, 3);
	assert_loudness(&f, -16);

	text = slurp(&f, "final.srt");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "1\n00:00:00,200 --> 00:00:01,600\n第一句旁白\n\n"));
	ck_assert_ptr_nonnull(strstr(text, "2\n00:00:02,000 --> 00:00:03,400\nSecond line\nof narration\n\n"));
	free(text);
	text = slurp(&f, "final.vtt");
	ck_assert_ptr_nonnull(text);
	ck_assert(!strncmp(text, "WEBVTT\n\n00:00:00.200 --> 00:00:01.600\n", 38));
	free(text);

	thumb = out_path(&f, "thumbnail.jpg");
	{
		AVFormatContext *fmt = NULL;
		ck_assert_int_eq(avformat_open_input(&fmt, thumb, NULL, NULL), 0);
		ck_assert_int_eq(avformat_find_stream_info(fmt, NULL) >= 0, 1);
		ck_assert_int_eq(fmt->streams[0]->codecpar->codec_id, AV_CODEC_ID_MJPEG);
		avformat_close_input(&fmt);
	}
	y = luma_at(thumb, 0, &w, &h);
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(w, W);
	ck_assert_int_eq(h, H);
	free(y);
	free(thumb);
	film_free(&f);
}
END_TEST

START_TEST(one_odd_segment_is_reencoded)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	film_init(&f, "compose-odd");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "odd.mp4", 2.5); /* 480x360, 30 fps, B-frames, audio, 4 s long */
	film_seg(&f, "canon1.mp4", 1.5);
	film_voice(&f, "voice1.wav", 0.5);
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	ck_assert_int_eq(st.copied_segments, 2);
	ck_assert_int_eq(st.reencoded_segments, 1);
	assert_film(&f, &st, 6.0, &info);
	ck_assert(!info.has_subtitles);
	assert_loudness(&f, -16);
	{
		/* The odd picture is 4:3 in a 16:9 film: pillarboxed, black at the sides. */
		char *mp4 = out_path(&f, "final.mp4");
		int w, h, yy;
		uint8_t *y = luma_at(mp4, 3.0, &w, &h);
		long edge = 0;
		ck_assert_ptr_nonnull(y);
		for (yy = 0; yy < h; yy++)
			edge += y[yy * w + 2] + y[yy * w + w - 3];
		ck_assert_msg(edge / (2 * h) < 24, "side bars are not black: mean %ld", edge / (2 * h));
		free(y);
		free(mp4);
	}
	ck_assert_ptr_null(slurp(&f, "final.srt"));
	film_free(&f);
}
END_TEST

START_TEST(voices_and_segment_audio_are_placed)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	char *mp4;
	/* Only the odd segment has sound of its own; one voice starts at 4.5 s (1.4 s long). */
	film_init(&f, "compose-place");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "odd.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 2.0);
	film_voice(&f, "voice1.wav", 4.5);
	f.job.segment_audio_db = -6;
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	assert_film(&f, &st, 6.0, &info);
	assert_loudness(&f, -16);
	mp4 = out_path(&f, "final.mp4");
	ck_assert_msg(audio_rms(mp4, 0.1, 1.9) < 1e-3, "sound before the odd segment: %g", audio_rms(mp4, 0.1, 1.9));
	ck_assert_msg(audio_rms(mp4, 2.1, 3.9) > 0.02, "the odd segment's own audio is missing: %g",
	              audio_rms(mp4, 2.1, 3.9));
	ck_assert_msg(audio_rms(mp4, 4.1, 4.45) < 1e-3, "sound before the voice: %g", audio_rms(mp4, 4.1, 4.45));
	ck_assert_msg(audio_rms(mp4, 4.6, 5.8) > 0.02, "the voice is missing: %g", audio_rms(mp4, 4.6, 5.8));
	free(mp4);
	film_free(&f);
}
END_TEST

START_TEST(trim_and_pad_segments)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	film_init(&f, "compose-trim");
	film_seg(&f, "canon_long.mp4", 1.25); /* 3 s clip: trimmed by copy */
	film_seg(&f, "canon_short.mp4", 2.0); /* 1 s clip asked for 2 s: re-encoded holding the last frame */
	film_seg(&f, "canon2.mp4", 1.0);      /* trimmed by copy */
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	ck_assert_int_eq(st.copied_segments, 2);
	ck_assert_int_eq(st.reencoded_segments, 1);
	assert_film(&f, &st, 4.25, &info);
	film_free(&f);
}
END_TEST

START_TEST(identical_external_segments_copied)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	film_init(&f, "compose-ext");
	film_seg(&f, "ext0.mp4", 2.0);
	film_seg(&f, "ext1.mp4", 2.0);
	film_seg(&f, "ext2.mp4", 2.0); /* 3 s long: the tail is dropped (copy when that is safe) */
	film_voice(&f, "voice0.wav", 1.0);
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	ck_assert_int_eq(st.copied_segments + st.reencoded_segments, 3);
	ck_assert_int_ge(st.copied_segments, 2);
	assert_film(&f, &st, 6.0, &info);
	film_free(&f);
}
END_TEST

START_TEST(unsafe_bframe_trim_falls_back_to_reencoding)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	film_init(&f, "compose-ext-cut");
	film_seg(&f, "ext0.mp4", 2.0);
	film_seg(&f, "ext1.mp4", 2.0);
	/* Cut inside a B-frame group: kept B-frames reference a dropped P-frame, so no copy. */
	film_seg(&f, "ext2.mp4", 1.25);
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	/* Not all alike any more, and none is canonical: everything is re-encoded. */
	ck_assert_int_eq(st.reencoded_segments, 3);
	assert_film(&f, &st, 5.25, &info);
	ck_assert_str_eq(info.video_profile, "High");
	film_free(&f);
}
END_TEST

START_TEST(silent_film_without_subtitles)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	const lv_compose_cue cues[] = { { 0.5, 1.0, "ignored" } };
	double lufs, tp;
	char *mp4;
	film_init(&f, "compose-silent");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 1.0);
	f.job.cues = cues;
	f.job.n_cues = 1;
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	assert_film(&f, &st, 3.0, &info);
	ck_assert(!info.has_subtitles);
	ck_assert_int_eq(info.subtitle_packets, 0);
	mp4 = out_path(&f, "final.mp4");
	ck_assert_int_eq(lv_media_loudness(mp4, &lufs, &tp), LV_OK);
	ck_assert_msg(lufs <= -69.0, "a silent film reads %.1f LUFS", lufs);
	free(mp4);
	ck_assert_ptr_null(slurp(&f, "final.srt"));
	ck_assert_ptr_null(slurp(&f, "final.vtt"));
	film_free(&f);
}
END_TEST

START_TEST(music_only_is_normalised)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	film_init(&f, "compose-music");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 2.0);
	film_seg(&f, "canon2.mp4", 2.0);
	f.music = fx_path("music.wav"); /* 2.5 s: looped */
	f.job.music_path = f.music;
	f.job.target_lufs = -20;
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	assert_film(&f, &st, 6.0, &info);
	assert_loudness(&f, -20);
	film_free(&f);
}
END_TEST

/* One cue read back from a subtitle stream. */
typedef struct read_cue {
	double start, end;
	char text[512];
} read_cue;

/* The cues of the first subtitle stream of `path` (SubRip file, or an MP4's mov_text track), read
 * with libavformat. */
static size_t read_cues(const char *path, read_cue *out, size_t cap)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = av_packet_alloc();
	size_t n = 0;
	int si = -1;
	unsigned i;
	ck_assert_ptr_nonnull(pkt);
	ck_assert_int_eq(avformat_open_input(&fmt, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fmt, NULL), 0);
	for (i = 0; i < fmt->nb_streams; i++)
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE && si < 0)
			si = (int)i;
	ck_assert_int_ge(si, 0);
	while (av_read_frame(fmt, pkt) >= 0) {
		if (pkt->stream_index == si && n < cap && pkt->size > 0) {
			AVRational tb = fmt->streams[si]->time_base;
			int movtext = fmt->streams[si]->codecpar->codec_id == AV_CODEC_ID_MOV_TEXT;
			const uint8_t *d = pkt->data + (movtext ? 2 : 0);
			size_t len = movtext ? ((size_t)pkt->data[0] << 8 | pkt->data[1]) : (size_t)pkt->size;
			if (len >= sizeof(out[n].text))
				len = sizeof(out[n].text) - 1;
			if (len) { /* mov_text writes empty samples between cues */
				out[n].start = (double)pkt->pts * av_q2d(tb);
				out[n].end = (double)(pkt->pts + pkt->duration) * av_q2d(tb);
				memcpy(out[n].text, d, len);
				out[n].text[len] = '\0';
				while (len && (out[n].text[len - 1] == '\n' || out[n].text[len - 1] == '\r'))
					out[n].text[--len] = '\0';
				n++;
			}
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return n;
}

/* Width of a line: wide (CJK) characters count two. */
static int line_units(const char *s, size_t len)
{
	int u = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		u += k == 3 && c >= 0xe2 ? 2 : 1;
		i += k;
	}
	return u;
}

/* SPEC §9: at most 2 lines of at most 42 (width units), 0.8-7 s, at most 20 characters a second, no
 * cue across a cut. */
static void assert_cue_rules(const read_cue *c, size_t n, const double *cuts, size_t n_cuts, const char *what)
{
	size_t i, j;
	for (i = 0; i < n; i++) {
		const char *p = c[i].text, *e;
		int lines = 0;
		size_t chars = 0, k;
		double d = c[i].end - c[i].start;
		for (; p; p = e ? e + 1 : NULL) {
			e = strchr(p, '\n');
			lines++;
			ck_assert_msg(line_units(p, e ? (size_t)(e - p) : strlen(p)) <= 42, "%s: cue %zu line too wide: '%s'", what,
			              i, c[i].text);
		}
		ck_assert_msg(lines <= 2, "%s: cue %zu has %d lines: '%s'", what, i, lines, c[i].text);
		for (k = 0; c[i].text[k]; k++)
			if (((unsigned char)c[i].text[k] & 0xc0) != 0x80 && c[i].text[k] != '\n')
				chars++;
		ck_assert_msg(d >= 0.8 - 0.002 && d <= 7.0 + 0.002, "%s: cue %zu lasts %.3f s: '%s'", what, i, d, c[i].text);
		ck_assert_msg((double)chars / d <= 20.0 + 0.05, "%s: cue %zu reads at %.1f characters/s: '%s'", what, i,
		              (double)chars / d, c[i].text);
		for (j = 0; j < n_cuts; j++)
			ck_assert_msg(!(c[i].start < cuts[j] - 0.002 && c[i].end > cuts[j] + 0.002),
			              "%s: cue %zu (%.3f-%.3f) spans the cut at %.3f", what, i, c[i].start, c[i].end, cuts[j]);
		if (i)
			ck_assert_msg(c[i].start >= c[i - 1].end - 0.002, "%s: cues %zu and %zu overlap", what, i - 1, i);
	}
}

/* Cues that break the rules as given (across a cut, too long for two lines, too fast, too short) come
 * out split and held so that every rule holds, in the SubRip file and in the MP4's text track. */
START_TEST(subtitle_cues_follow_the_rules)
{
	film f;
	lv_compose_stats st;
	lv_media_info info;
	static const double cuts[] = { 2.0, 8.0 };
	const lv_compose_cue cues[] = {
		/* across the cut at 2.0 */
		{ 0.2, 3.3, "The keeper climbs the stairs and lights the great lamp." },
		/* three lines' worth, and too fast as given (88 characters in 2 s) */
		{ 3.5, 5.5, "Outside, the storm rolls in over the sea, and the old lighthouse keeps its light burning." },
		/* too short as given (0.3 s) */
		{ 8.1, 8.4, "\xe5\xa4\x9c\xe5\xb9\x95\xe9\x99\x8d\xe4\xb8\xb4\xef\xbc\x8c\xe6\xb5\xb7\xe6\xb5\xaa\xe6\x8b\x8d"
		            "\xe6\x89\x93\xe7\x9d\x80\xe7\xa4\x81\xe7\x9f\xb3\xe3\x80\x82" },
	};
	read_cue got[32];
	size_t n, i;
	char *p, all[1024] = "";
	film_init(&f, "compose-cue-rules");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 6.0);
	film_seg(&f, "canon2.mp4", 1.5);
	f.job.cues = cues;
	f.job.n_cues = 3;
	f.job.subtitles = LV_SUBS_SOFT;
	ck_assert_int_eq(compose(&f, &st), LV_OK);
	assert_film(&f, &st, 9.5, &info);
	p = out_path(&f, "final.srt");
	n = read_cues(p, got, 32);
	free(p);
	/* the first cue in two pieces, one each side of the cut; the long one in two; the short one */
	ck_assert_int_eq(n, 5);
	assert_cue_rules(got, n, cuts, 2, "final.srt");
	ck_assert_msg(got[0].end <= 2.0 + 0.002 && got[1].start >= 2.0 - 0.002, "pieces: %.3f | %.3f", got[0].end,
	              got[1].start);
	ck_assert_msg(got[4].end - got[4].start >= 0.8 - 0.002, "the short cue is not held: %.3f s",
	              got[4].end - got[4].start);
	/* nothing lost: every word is shown, in order */
	for (i = 0; i < n; i++) {
		strncat(all, got[i].text, sizeof(all) - strlen(all) - 2);
		strcat(all, " ");
	}
	for (p = all; *p; p++)
		if (*p == '\n')
			*p = ' ';
	ck_assert_msg(strstr(all, "The keeper climbs the stairs and lights the great lamp. Outside, the storm rolls in over "
	                          "the sea, and the old lighthouse keeps its light burning.") != NULL,
	              "text lost: %s", all);
	p = out_path(&f, "final.mp4");
	n = read_cues(p, got, 32);
	free(p);
	ck_assert_int_eq(n, 5);
	assert_cue_rules(got, n, cuts, 2, "final.mp4 mov_text");
	film_free(&f);
}
END_TEST

static int burn_film(film *f, const char *text, int mode, lv_compose_stats *st)
{
	static lv_compose_cue cue;
	cue.start = 0.5;
	cue.end = 1.9; /* within the first shot: a cue never spans a cut */
	cue.text = text;
	f->job.cues = &cue;
	f->job.n_cues = 1;
	f->job.subtitles = mode;
	return compose(f, st);
}

START_TEST(burned_cjk_subtitles_change_the_picture)
{
	film a, b, c;
	lv_compose_stats st;
	lv_media_info info;
	char *pa, *pb, *pc, *text;
	uint8_t *ya, *yb, *yc, *yend_a, *yend_b;
	int w, h;
	film_init(&a, "compose-burn-a");
	film_init(&b, "compose-burn-b");
	film_init(&c, "compose-burn-c");
	film_seg(&a, "canon0.mp4", 2.0);
	film_seg(&a, "canon1.mp4", 1.0);
	film_seg(&b, "canon0.mp4", 2.0);
	film_seg(&b, "canon1.mp4", 1.0);
	film_seg(&c, "canon0.mp4", 2.0);
	film_seg(&c, "canon1.mp4", 1.0);
	ck_assert_int_eq(burn_film(&a, "你好世界", LV_SUBS_BURN, &st), LV_OK);
	ck_assert_int_eq(st.reencoded_segments, 2);
	ck_assert_int_eq(st.copied_segments, 0);
	assert_film(&a, &st, 3.0, &info);
	ck_assert(!info.has_subtitles);
	ck_assert_int_eq(burn_film(&b, "你好世界", LV_SUBS_NONE, &st), LV_OK);
	ck_assert_int_eq(burn_film(&c, "山川湖海", LV_SUBS_BURN, &st), LV_OK);
	pa = out_path(&a, "final.mp4");
	pb = out_path(&b, "final.mp4");
	pc = out_path(&c, "final.mp4");
	ya = luma_at(pa, 1.0, &w, &h);
	yb = luma_at(pb, 1.0, &w, &h);
	yc = luma_at(pc, 1.0, &w, &h);
	ck_assert(ya && yb && yc);
	/* drawn vs not drawn */
	ck_assert_msg(lower_third_diff(ya, yb, w, h) > 4.0, "burned cue not visible: %.2f", lower_third_diff(ya, yb, w, h));
	/* other characters draw other glyphs (not the same missing-glyph boxes) */
	ck_assert_msg(lower_third_diff(ya, yc, w, h) > 1.0, "CJK glyphs look identical: %.2f",
	              lower_third_diff(ya, yc, w, h));
	/* after the cue the picture is clean again */
	yend_a = luma_at(pa, 2.75, &w, &h);
	yend_b = luma_at(pb, 2.75, &w, &h);
	ck_assert(yend_a && yend_b);
	ck_assert_msg(lower_third_diff(yend_a, yend_b, w, h) < 2.0, "cue still drawn after its end: %.2f",
	              lower_third_diff(yend_a, yend_b, w, h));
	text = slurp(&a, "final.srt");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "00:00:00,500 --> 00:00:01,900\n你好世界"));
	free(text);
	free(ya);
	free(yb);
	free(yc);
	free(yend_a);
	free(yend_b);
	free(pa);
	free(pb);
	free(pc);
	film_free(&a);
	film_free(&b);
	film_free(&c);
}
END_TEST

/* A two-line burned cue stays inside the band the renderer keeps clear of figures (media/subband.h):
 * every pixel it changes lies below the band's top and within the safe area's side margins. */
START_TEST(burned_subtitles_stay_in_their_band)
{
	/* 夜幕降临，海浪拍打着礁石，灯塔守护人点亮了那盏古老的大灯。 (29 characters: two lines) */
	static const char text[] = "\xe5\xa4\x9c\xe5\xb9\x95\xe9\x99\x8d\xe4\xb8\xb4\xef\xbc\x8c\xe6\xb5\xb7\xe6\xb5\xaa"
	                           "\xe6\x8b\x8d\xe6\x89\x93\xe7\x9d\x80\xe7\xa4\x81\xe7\x9f\xb3\xef\xbc\x8c\xe7\x81\xaf"
	                           "\xe5\xa1\x94\xe5\xae\x88\xe6\x8a\xa4\xe4\xba\xba\xe7\x82\xb9\xe4\xba\xae\xe4\xba\x86"
	                           "\xe9\x82\xa3\xe7\x9b\x8f\xe5\x8f\xa4\xe8\x80\x81\xe7\x9a\x84\xe5\xa4\xa7\xe7\x81\xaf"
	                           "\xe3\x80\x82";
	static lv_compose_cue cue;
	film a, b;
	lv_compose_stats st;
	lv_sub_band band;
	char *pa, *pb;
	uint8_t *ya, *yb;
	int w, h, x, y, y_min = -1, y_max = -1, x_min = -1, x_max = -1, slack;
	film_init(&a, "compose-band-a");
	film_init(&b, "compose-band-b");
	film_seg(&a, "canon0.mp4", 2.0);
	film_seg(&b, "canon0.mp4", 2.0);
	ck_assert_int_eq(burn_film(&b, text, LV_SUBS_NONE, &st), LV_OK);
	cue.start = 0.1;
	cue.end = 1.95;
	cue.text = text;
	a.job.cues = &cue;
	a.job.n_cues = 1;
	a.job.subtitles = LV_SUBS_BURN;
	ck_assert_int_eq(compose(&a, &st), LV_OK);
	pa = out_path(&a, "final.mp4");
	pb = out_path(&b, "final.mp4");
	ya = luma_at(pa, 1.0, &w, &h);
	yb = luma_at(pb, 1.0, &w, &h);
	ck_assert(ya && yb);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if (abs((int)ya[y * w + x] - (int)yb[y * w + x]) > 24) {
				if (y_min < 0)
					y_min = y;
				y_max = y;
				x_min = x_min < 0 || x < x_min ? x : x_min;
				x_max = x > x_max ? x : x_max;
			}
	lv_sub_band_of(&band, w, h);
	slack = (int)ceilf(band.outline + band.shadow) + 2;
	ck_assert_msg(y_min >= 0, "nothing burned");
	ck_assert_msg(y_max - y_min > 3 * band.font_px / 2, "not two lines: rows %d..%d, font %d px", y_min, y_max,
	              band.font_px);
	ck_assert_msg(y_min >= band.top, "subtitle pixels at row %d, above the band's top %d", y_min, band.top);
	ck_assert_msg(y_max <= h - band.margin_v + slack, "subtitle pixels at row %d, in the bottom margin (%d)", y_max,
	              h - band.margin_v);
	ck_assert_msg(x_min >= band.margin_lr - slack && x_max <= w - band.margin_lr + slack,
	              "subtitle pixels at columns %d..%d, outside the safe area %d..%d", x_min, x_max, band.margin_lr,
	              w - band.margin_lr);
	free(ya);
	free(yb);
	free(pa);
	free(pb);
	film_free(&a);
	film_free(&b);
}
END_TEST

/* Thai and Devanagari subtitles burn as glyphs, not as the missing-glyph boxes that characters no
 * font has (private use code points) draw: libass gets an installed family from fontconfig. */
START_TEST(burned_thai_and_devanagari_are_glyphs)
{
	static const char *const texts[] = {
		"\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5\xe0\xb8\x84\xe0\xb8\xa3\xe0\xb8\xb1"
		"\xe0\xb8\x9a",                                                                     /* สวัสดีครับ (10) */
		"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 \xe0\xa4\xa6\xe0\xa5\x81\xe0\xa4\xa8"
		"\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe",                                             /* नमस्ते दुनिया */
		/* ten private-use characters: no font has them, each draws the .notdef box */
		"\xf3\xb0\x80\x80\xf3\xb0\x80\x81\xf3\xb0\x80\x82\xf3\xb0\x80\x83\xf3\xb0\x80\x84\xf3\xb0\x80\x85\xf3\xb0\x80"
		"\x86\xf3\xb0\x80\x87\xf3\xb0\x80\x88\xf3\xb0\x80\x89",
		"",
	};
	film f[4];
	lv_compose_stats st;
	uint8_t *y[4];
	int w, h;
	size_t i;
	for (i = 0; i < 4; i++) {
		char *p;
		film_init(&f[i], "compose-burn-script");
		f[i].job.font_file = NULL; /* fontconfig chooses */
		f[i].job.language = i == 0 ? "th" : i == 1 ? "hi" : "en";
		film_seg(&f[i], "canon0.mp4", 2.0);
		ck_assert_int_eq(burn_film(&f[i], texts[i][0] ? texts[i] : "x", i == 3 ? LV_SUBS_NONE : LV_SUBS_BURN, &st),
		                 LV_OK);
		p = out_path(&f[i], "final.mp4");
		y[i] = luma_at(p, 1.0, &w, &h);
		ck_assert_ptr_nonnull(y[i]);
		free(p);
	}
	/* every one draws something */
	for (i = 0; i < 3; i++)
		ck_assert_msg(lower_third_diff(y[i], y[3], w, h) > 2.0, "text %zu not drawn: %.2f", i,
		              lower_third_diff(y[i], y[3], w, h));
	/* Thai and Devanagari are not boxes: they differ from the boxes as much as from each other */
	ck_assert_msg(lower_third_diff(y[0], y[2], w, h) > 1.0, "Thai looks like missing-glyph boxes: %.2f",
	              lower_third_diff(y[0], y[2], w, h));
	ck_assert_msg(lower_third_diff(y[1], y[2], w, h) > 1.0, "Devanagari looks like missing-glyph boxes: %.2f",
	              lower_third_diff(y[1], y[2], w, h));
	ck_assert_msg(lower_third_diff(y[0], y[1], w, h) > 1.0, "Thai and Devanagari draw alike: %.2f",
	              lower_third_diff(y[0], y[1], w, h));
	for (i = 0; i < 4; i++) {
		free(y[i]);
		film_free(&f[i]);
	}
}
END_TEST

static int cancel_after(void *ctx, double fraction)
{
	int *calls = ctx;
	(*calls)++;
	return fraction > 0.3;
}

START_TEST(cancel_leaves_no_film)
{
	film f;
	lv_compose_stats st;
	int calls = 0;
	DIR *d;
	struct dirent *e;
	char *mp4;
	film_init(&f, "compose-cancel");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "odd.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 2.0);
	film_voice(&f, "voice0.wav", 0.0);
	f.job.progress = cancel_after;
	f.job.progress_ctx = &calls;
	ck_assert_int_eq(lv_compose_run(&f.job, &st), LV_ECANCELED);
	ck_assert_int_gt(calls, 2);
	mp4 = out_path(&f, "final.mp4");
	ck_assert(!lv_path_exists(mp4));
	free(mp4);
	d = opendir(f.dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(e->d_name[0] == '.' && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")),
		              "left behind: %s", e->d_name);
	closedir(d);
	film_free(&f);
}
END_TEST

/* Cancels once the progress has moved but is still in the audio analysis (the first 12%). */
static int cancel_in_analysis(void *ctx, double fraction)
{
	int *calls = ctx;
	if (fraction > 0 && fraction < 0.12) {
		(*calls)++;
		return 1;
	}
	return 0;
}

/* A cancel seen while the stems or the mix are measured on two threads stops both and leaves nothing. */
START_TEST(cancel_during_analysis_leaves_no_film)
{
	film f;
	lv_compose_stats st;
	int calls = 0;
	DIR *d;
	struct dirent *e;
	film_init(&f, "compose-cancel-analysis");
	film_seg(&f, "canon0.mp4", 2.0); /* 8 s: long enough for the stems pass to report progress */
	film_seg(&f, "canon1.mp4", 2.0);
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "canon1.mp4", 2.0);
	film_voice(&f, "voice0.wav", 0.0);
	f.music = fx_path("music.wav");
	f.job.music_path = f.music;
	f.job.progress = cancel_in_analysis;
	f.job.progress_ctx = &calls;
	ck_assert_int_eq(lv_compose_run(&f.job, &st), LV_ECANCELED);
	ck_assert_int_eq(calls, 1);
	d = opendir(f.dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(e->d_name[0] == '.' && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")),
		              "left behind: %s", e->d_name);
	closedir(d);
	film_free(&f);
}
END_TEST

START_TEST(errors_name_the_segment_and_step)
{
	film f;
	lv_compose_stats st;
	const char *msg;
	film_init(&f, "compose-err");
	film_seg(&f, "canon0.mp4", 2.0);
	film_seg(&f, "does-not-exist.mp4", 2.0);
	ck_assert_int_ne(lv_compose_run(&f.job, &st), LV_OK);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "segment 1") && strstr(msg, "does-not-exist.mp4") && strstr(msg, "cannot open"),
	              "message: %s", msg);
	free(f.seg_paths[1]);
	f.seg_paths[1] = fx_path("music.wav"); /* no video in it */
	f.segs[1].path = f.seg_paths[1];
	ck_assert_int_ne(lv_compose_run(&f.job, &st), LV_OK);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "segment 1") && strstr(msg, "no video"), "message: %s", msg);
	free(f.seg_paths[1]);
	f.seg_paths[1] = fx_path("canon1.mp4");
	f.segs[1].path = f.seg_paths[1];
	film_voice(&f, "missing-voice.wav", 1.0);
	ck_assert_int_ne(lv_compose_run(&f.job, &st), LV_OK);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "voice 0") && strstr(msg, "missing-voice.wav"), "message: %s", msg);
	ck_assert(!lv_path_exists(f.dir) || 1);
	film_free(&f);
}
END_TEST

/*
 * The final pass in two halves: a sustained tone under speech-like syllables (harmonics on a gliding
 * pitch, noise bursts, sharp onsets), 24 s, so that the track is long enough to be split.
 */
#define SEAM_RATE 48000
#define SEAM_LEN (24 * SEAM_RATE)
#define SEAM_BLK 1024

static void seam_signal(float *l, float *r)
{
	uint32_t lcg = 12345;
	double ph = 0;
	int64_t i;
	for (i = 0; i < SEAM_LEN; i++) {
		double t = (double)i / SEAM_RATE, syl = fmod(t, 0.25), env, f0, v = 0, noise;
		int k;
		/* a syllable every 0.25 s: a 5 ms attack, then a decay; every third one a fricative */
		env = syl < 0.005 ? syl / 0.005 : exp(-(syl - 0.005) * 14.0);
		f0 = 120.0 + 30.0 * sin(2 * M_PI * 0.7 * t);
		ph += 2 * M_PI * f0 / SEAM_RATE;
		for (k = 1; k <= 20; k++)
			v += sin(k * ph) / k;
		lcg = lcg * 1664525u + 1013904223u;
		noise = ((double)(lcg >> 8) / 16777216.0 - 0.5) * ((int)(t / 0.25) % 3 == 0 ? 0.6 : 0.05);
		v = 0.12 * v * env + noise * env;
		l[i] = (float)(0.15 * sin(2 * M_PI * 440.0 * t) + v);
		r[i] = (float)(0.15 * sin(2 * M_PI * 440.0 * t + 0.3) + 0.8 * v);
	}
}

typedef struct seam_out {
	AVFormatContext *oc;
	int64_t pts[2048], dur[2048];
	uint8_t *data[2048];
	int size[2048];
	int n;
} seam_out;

static int seam_emit(void *ctx, AVPacket *pkt)
{
	seam_out *o = ctx;
	AVPacket *c;
	ck_assert_int_lt(o->n, 2048);
	o->pts[o->n] = pkt->pts;
	o->dur[o->n] = pkt->duration;
	o->size[o->n] = pkt->size;
	o->data[o->n] = malloc((size_t)pkt->size);
	ck_assert_ptr_nonnull(o->data[o->n]);
	memcpy(o->data[o->n], pkt->data, (size_t)pkt->size);
	o->n++;
	c = av_packet_clone(pkt);
	ck_assert_ptr_nonnull(c);
	c->stream_index = 0;
	av_packet_rescale_ts(c, (AVRational){ 1, SEAM_RATE }, o->oc->streams[0]->time_base);
	ck_assert_int_ge(av_write_frame(o->oc, c), 0);
	av_packet_free(&c);
	return LV_OK;
}

/* The final pass of `wav` (seam: as lv_audio_open_mix takes it) written to `m4a`; the seam used. */
static int64_t seam_encode(const char *wav, int64_t seam, const char *m4a, seam_out *o)
{
	lv_audio *a = NULL;
	AVStream *st;
	int64_t used;
	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(lv_audio_open_mix(&a, wav, 0.0, SEAM_LEN, seam), LV_OK);
	used = lv_audio_seam(a);
	ck_assert_int_ge(avformat_alloc_output_context2(&o->oc, NULL, "mp4", m4a), 0);
	st = avformat_new_stream(o->oc, NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_ge(avcodec_parameters_from_context(st->codecpar, lv_audio_codec(a)), 0);
	st->time_base = (AVRational){ 1, SEAM_RATE };
	ck_assert_int_ge(avio_open(&o->oc->pb, m4a, AVIO_FLAG_WRITE), 0);
	ck_assert_int_ge(avformat_write_header(o->oc, NULL), 0);
	ck_assert_int_eq(lv_audio_pump(a, INT64_MAX, seam_emit, o), LV_OK);
	ck_assert_int_ge(av_write_trailer(o->oc), 0);
	avio_closep(&o->oc->pb);
	avformat_free_context(o->oc);
	o->oc = NULL;
	lv_audio_free(a);
	return used;
}

static void seam_out_free(seam_out *o)
{
	int i;
	for (i = 0; i < o->n; i++)
		free(o->data[i]);
}

/* Decode a file's first audio stream (priming removed by its edit list) into l/r; the sample count. */
static int64_t seam_decode(const char *path, float *l, float *r, int64_t cap)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec;
	const AVCodec *codec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	int64_t n = 0;
	int ai, eof = 0;
	ck_assert_int_ge(avformat_open_input(&fmt, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fmt, NULL), 0);
	ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	ck_assert_int_ge(ai, 0);
	dec = avcodec_alloc_context3(codec);
	ck_assert_int_ge(avcodec_parameters_to_context(dec, fmt->streams[ai]->codecpar), 0);
	dec->pkt_timebase = fmt->streams[ai]->time_base;
	ck_assert_int_ge(avcodec_open2(dec, codec, NULL), 0);
	while (!eof) {
		if (av_read_frame(fmt, pkt) < 0) {
			eof = 1;
			avcodec_send_packet(dec, NULL);
		} else {
			ck_assert_int_ge(avcodec_send_packet(dec, pkt), 0);
			av_packet_unref(pkt);
		}
		while (avcodec_receive_frame(dec, fr) >= 0) {
			ck_assert_int_eq(fr->format, AV_SAMPLE_FMT_FLTP);
			ck_assert_int_le(n + fr->nb_samples, cap);
			memcpy(l + n, fr->extended_data[0], (size_t)fr->nb_samples * sizeof(float));
			memcpy(r + n, fr->extended_data[1], (size_t)fr->nb_samples * sizeof(float));
			n += fr->nb_samples;
			av_frame_unref(fr);
		}
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return n;
}

/* Segmental SNR (dB) of block b of (dl, dr) against (sl, sr). */
static double seam_snr(const float *sl, const float *sr, const float *dl, const float *dr, int64_t b)
{
	double s = 0, e = 0;
	int64_t i;
	for (i = b * SEAM_BLK; i < (b + 1) * SEAM_BLK; i++) {
		s += (double)sl[i] * sl[i] + (double)sr[i] * sr[i];
		e += ((double)dl[i] - sl[i]) * ((double)dl[i] - sl[i]) + ((double)dr[i] - sr[i]) * ((double)dr[i] - sr[i]);
	}
	return 10 * log10((s + 1e-12) / (e + 1e-12));
}

/* The largest step of the error signal (a click shows as one) over samples [i0, i1). */
static double seam_step(const float *sl, const float *sr, const float *dl, const float *dr, int64_t i0,
                        int64_t i1)
{
	double m = 0;
	int64_t i;
	for (i = i0 > 1 ? i0 : 1; i < i1; i++) {
		double a = fabs(((double)dl[i] - sl[i]) - ((double)dl[i - 1] - sl[i - 1]));
		double b = fabs(((double)dr[i] - sr[i]) - ((double)dr[i - 1] - sr[i - 1]));
		m = a > m ? a : m;
		m = b > m ? b : m;
	}
	return m;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

START_TEST(final_pass_in_two_halves_has_no_seam)
{
	size_t cap = SEAM_LEN + 8 * SEAM_BLK;
	float *sl = malloc(cap * sizeof(float)), *sr = malloc(cap * sizeof(float));
	float *ol = malloc(cap * sizeof(float)), *or_ = malloc(cap * sizeof(float));
	float *hl = malloc(cap * sizeof(float)), *hr = malloc(cap * sizeof(float));
	double *snr = malloc((SEAM_LEN / SEAM_BLK) * sizeof(double));
	char *raw = fx_path("seam.f32"), *wav = fx_path("seam.wav"), *one = fx_path("seam-one.m4a");
	char *two = fx_path("seam-two.m4a");
	/* the seam chosen (steady), and one forced 512 samples before a syllable's onset (12 s) */
	int64_t seams[2] = { -1, 562 * SEAM_BLK };
	seam_out o1, o2;
	FILE *fp;
	int64_t i, n1, n2;
	int s, k;
	double one_lufs, one_tp;

	ck_assert(sl && sr && ol && or_ && hl && hr && snr);
	seam_signal(sl, sr);
	fp = fopen(raw, "wb");
	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < SEAM_LEN; i++) {
		float x[2] = { sl[i], sr[i] };
		ck_assert_int_eq(fwrite(x, sizeof(x), 1, fp), 1);
	}
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(run(FF "-f f32le -ar 48000 -ac 2 -i %s -c:a pcm_f32le %s", raw, wav), 0);

	ck_assert_int_eq(seam_encode(wav, 0, one, &o1), 0); /* in one piece */
	n1 = seam_decode(one, ol, or_, (int64_t)cap);
	ck_assert_int_eq(n1, SEAM_LEN); /* exact to the sample */
	ck_assert_int_eq(lv_media_loudness(one, &one_lufs, &one_tp), LV_OK);

	for (s = 0; s < 2; s++) {
		int64_t seam = seam_encode(wav, seams[s], two, &o2), b0, b1, nb = SEAM_LEN / SEAM_BLK;
		double med, worst = INFINITY, worst_one = INFINITY, mean_two = 0, mean_one = 0, step_one, step_in, step_out, lufs, tp;
		ck_assert_msg(seam > 0 && seam % SEAM_BLK == 0, "seam %lld", (long long)seam);
		ck_assert(seam > SEAM_LEN / 2 - 100 * SEAM_BLK && seam < SEAM_LEN / 2 + 100 * SEAM_BLK);
		/* the packets: the same count, timestamps and durations as one encoder's; the first half's are its */
		ck_assert_int_eq(o2.n, o1.n);
		for (k = 0; k < o1.n; k++) {
			ck_assert_int_eq(o2.pts[k], o1.pts[k]);
			ck_assert_int_eq(o2.dur[k], o1.dur[k]);
			if (o1.pts[k] < seam)
				ck_assert(o2.size[k] == o1.size[k] && !memcmp(o2.data[k], o1.data[k], (size_t)o1.size[k]));
		}
		n2 = seam_decode(two, hl, hr, (int64_t)cap);
		ck_assert_int_eq(n2, SEAM_LEN);
		/*
		 * Around the seam (+-4096 samples) the error against the source is no worse than elsewhere: block by
		 * block the segmental SNR is within 1.5 dB of the same blocks encoded in one piece (the median is
		 * only reported: the forced seam lies on a noisy onset, well under the median in one piece too),
		 * and the error has no step (click) larger than its largest before the seam.
		 */
		for (k = 0; k < nb; k++)
			snr[k] = seam_snr(sl, sr, hl, hr, k);
		qsort(snr, (size_t)nb, sizeof(*snr), cmp_double);
		med = snr[nb / 2];
		b0 = seam / SEAM_BLK - 4;
		b1 = seam / SEAM_BLK + 4;
		for (i = b0; i < b1; i++) {
			double two_db = seam_snr(sl, sr, hl, hr, i), one_db = seam_snr(sl, sr, ol, or_, i);
			worst = two_db < worst ? two_db : worst;
			worst_one = one_db < worst_one ? one_db : worst_one;
			mean_two += two_db / (double)(b1 - b0);
			mean_one += one_db / (double)(b1 - b0);
			ck_assert_msg(two_db > one_db - 1.5, "seam %lld, block %lld: %.2f dB, in one piece %.2f dB",
			              (long long)seam, (long long)i, two_db, one_db);
		}
		ck_assert_msg(mean_two > mean_one - 1.0, "seam %lld: %.2f dB near it, in one piece %.2f dB", (long long)seam,
		              mean_two, mean_one);
		step_in = seam_step(sl, sr, hl, hr, b0 * SEAM_BLK, b1 * SEAM_BLK);
		step_out = seam_step(sl, sr, hl, hr, 0, b0 * SEAM_BLK);
		step_one = seam_step(sl, sr, ol, or_, b0 * SEAM_BLK, b1 * SEAM_BLK);
		ck_assert_msg(step_in <= step_out && step_in <= 1.5 * step_one,
		              "seam %lld: error step %.4f near the seam, %.4f before it, %.4f there in one piece",
		              (long long)seam, step_in, step_out, step_one);
		/* the loudness and true peak of the track do not move */
		ck_assert_int_eq(lv_media_loudness(two, &lufs, &tp), LV_OK);
		ck_assert_msg(fabs(lufs - one_lufs) <= 0.1 && fabs(tp - one_tp) <= 0.1,
		              "%.2f LUFS %.2f dBTP in two halves, %.2f LUFS %.2f dBTP in one", lufs, tp, one_lufs, one_tp);
		fprintf(stderr,
		        "seam %lld: segmental SNR near it worst %.2f dB (one piece %.2f), mean %.2f (%.2f), track median %.2f; error step %.4f "
		        "near (%.4f), %.4f elsewhere; %.2f/%.2f LUFS, %.2f/%.2f dBTP\n",
		        (long long)seam, worst, worst_one, mean_two, mean_one, med, step_in, step_one, step_out, lufs, one_lufs, tp, one_tp);
		seam_out_free(&o2);
	}
	seam_out_free(&o1);
	unlink(raw);
	unlink(wav);
	unlink(one);
	unlink(two);
	free(raw);
	free(wav);
	free(one);
	free(two);
	free(sl);
	free(sr);
	free(ol);
	free(or_);
	free(hl);
	free(hr);
	free(snr);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("compose");
	TCase *tc = tcase_create("compose");
	tcase_add_unchecked_fixture(tc, fixtures_setup, fixtures_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, subtitles_files_format);
	tcase_add_test(tc, loudness_of_a_known_tone);
	tcase_add_test(tc, final_pass_in_two_halves_has_no_seam);
	tcase_add_test(tc, all_canonical_copied_soft_subtitles);
	tcase_add_test(tc, one_odd_segment_is_reencoded);
	tcase_add_test(tc, voices_and_segment_audio_are_placed);
	tcase_add_test(tc, trim_and_pad_segments);
	tcase_add_test(tc, identical_external_segments_copied);
	tcase_add_test(tc, unsafe_bframe_trim_falls_back_to_reencoding);
	tcase_add_test(tc, silent_film_without_subtitles);
	tcase_add_test(tc, music_only_is_normalised);
	tcase_add_test(tc, burned_cjk_subtitles_change_the_picture);
	tcase_add_test(tc, burned_subtitles_stay_in_their_band);
	tcase_add_test(tc, subtitle_cues_follow_the_rules);
	tcase_add_test(tc, burned_thai_and_devanagari_are_glyphs);
	tcase_add_test(tc, cancel_leaves_no_film);
	tcase_add_test(tc, cancel_during_analysis_leaves_no_film);
	tcase_add_test(tc, errors_name_the_segment_and_step);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!getenv("LV_TEST_FFMPEG_LOG"))
		av_log_set_level(AV_LOG_ERROR);
	return lv_test_run_suite(suite());
}
