/*
 * The local media makers, checked as media: every output is read back with
 * the FFmpeg libraries (stream parameters, frame counts, decoded pictures and
 * samples), never just "the file exists".
 */
#include "testutil.h"
#include "longvideo.h"
#include "media/h264.h"
#include "media/image.h"
#include "media/local.h"
#include "media/scene.h"
#include "media/subband.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
	dir = lv_test_mkdtemp("media");
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	lv_test_rmdir(dir);
	free(dir);
	dir = NULL;
}

static char *path_in(const char *name)
{
	char *p = lv_path_join(dir, name);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- reading video back --------------------------------------------------------- */

typedef struct video_info {
	int nb_streams;
	int width, height;
	enum AVCodecID codec;
	int profile;
	int pix_fmt;
	AVRational fps;
	int packets;
	double duration;
	uint8_t extradata[512];
	int extradata_size;
} video_info;

static void probe_video(video_info *vi, const char *path)
{
	AVFormatContext *fc = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVStream *st;
	int64_t end = 0;
	memset(vi, 0, sizeof(*vi));
	ck_assert_int_eq(avformat_open_input(&fc, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	vi->nb_streams = (int)fc->nb_streams;
	ck_assert_int_ge(vi->nb_streams, 1);
	st = fc->streams[0];
	vi->width = st->codecpar->width;
	vi->height = st->codecpar->height;
	vi->codec = st->codecpar->codec_id;
	vi->profile = st->codecpar->profile;
	vi->pix_fmt = st->codecpar->format;
	vi->fps = st->avg_frame_rate;
	ck_assert_int_le(st->codecpar->extradata_size, (int)sizeof(vi->extradata));
	vi->extradata_size = st->codecpar->extradata_size;
	memcpy(vi->extradata, st->codecpar->extradata, (size_t)vi->extradata_size);
	while (av_read_frame(fc, pkt) >= 0) {
		if (pkt->stream_index == 0) {
			vi->packets++;
			if (pkt->pts + pkt->duration > end)
				end = pkt->pts + pkt->duration;
		}
		av_packet_unref(pkt);
	}
	vi->duration = (double)end * av_q2d(st->time_base);
	av_packet_free(&pkt);
	avformat_close_input(&fc);
}

/* Decode the luma of frames `idx[0..n-1]` into out[i] (w * h bytes, caller frees). */
static void decode_luma(const char *path, const int *idx, int n, uint8_t **out, int *w, int *h)
{
	AVFormatContext *fc = NULL;
	AVCodecContext *dc;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	int frame_no = 0, i, e, flushing = 0;
	ck_assert_int_eq(avformat_open_input(&fc, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	dc = avcodec_alloc_context3(avcodec_find_decoder(fc->streams[0]->codecpar->codec_id));
	ck_assert_ptr_nonnull(dc);
	ck_assert_int_ge(avcodec_parameters_to_context(dc, fc->streams[0]->codecpar), 0);
	ck_assert_int_eq(avcodec_open2(dc, dc->codec, NULL), 0);
	for (i = 0; i < n; i++)
		out[i] = NULL;
	for (;;) {
		if (!flushing) {
			if (av_read_frame(fc, pkt) < 0) {
				flushing = 1;
				avcodec_send_packet(dc, NULL);
			} else {
				if (pkt->stream_index == 0)
					ck_assert_int_ge(avcodec_send_packet(dc, pkt), 0);
				av_packet_unref(pkt);
			}
		}
		while ((e = avcodec_receive_frame(dc, f)) == 0) {
			for (i = 0; i < n; i++) {
				if (idx[i] == frame_no) {
					int y;
					*w = f->width;
					*h = f->height;
					out[i] = malloc((size_t)f->width * (size_t)f->height);
					for (y = 0; y < f->height; y++)
						memcpy(out[i] + (size_t)y * f->width, f->data[0] + (size_t)y * f->linesize[0],
						       (size_t)f->width);
				}
			}
			frame_no++;
			av_frame_unref(f);
		}
		if (e == AVERROR_EOF || (flushing && e != 0))
			break;
	}
	for (i = 0; i < n; i++)
		ck_assert_msg(out[i] != NULL, "frame %d of %s was not decoded (%d frames)", idx[i], path, frame_no);
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&dc);
	avformat_close_input(&fc);
}

static double mad(const uint8_t *a, const uint8_t *b, size_t n)
{
	double s = 0;
	size_t i;
	for (i = 0; i < n; i++)
		s += abs((int)a[i] - (int)b[i]);
	return s / (double)n;
}

/* Share of samples whose value differs by more than 24 (a local change such as text). */
static double changed_share(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i, c = 0;
	for (i = 0; i < n; i++)
		c += abs((int)a[i] - (int)b[i]) > 24;
	return (double)c / (double)n;
}


static long find_box(const char *path, const char *type)
{
	char *data = NULL;
	size_t len = 0, i;
	long at = -1;
	ck_assert_int_eq(lv_file_read(&data, &len, path), LV_OK);
	for (i = 4; i + 4 <= len; i++)
		if (!memcmp(data + i, type, 4)) {
			at = (long)i;
			break;
		}
	free(data);
	return at;
}

static lv_render_params base_params(int w, int h, double seconds, uint32_t seed)
{
	lv_render_params p;
	memset(&p, 0, sizeof(p));
	p.width = w;
	p.height = h;
	p.seconds = seconds;
	p.seed = seed;
	p.camera = "push in";
	p.language = "en";
	return p;
}

static void render_ok(const lv_render_params *p, const char *out)
{
	int err = lv_render_segment(p, out);
	ck_assert_msg(err == LV_OK, "render %s: %s", out, lv_error_last()->message);
}

/* Number of directory entries whose name starts with `prefix`. */
static int count_files(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* ---- segments ------------------------------------------------------------------------ */

START_TEST(segment_stream_parameters)
{
	char *out = path_in("seg.mp4");
	lv_render_params p = base_params(1280, 720, 1.5, 7);
	video_info vi;
	p.text = "A lighthouse keeper climbs the stairs as the storm rolls in.";
	render_ok(&p, out);
	probe_video(&vi, out);
	ck_assert_int_eq(vi.nb_streams, 1); /* no audio track */
	ck_assert_int_eq(vi.codec, AV_CODEC_ID_H264);
	ck_assert_int_eq(vi.profile, FF_PROFILE_H264_HIGH);
	ck_assert_int_eq(vi.pix_fmt, AV_PIX_FMT_YUV420P);
	ck_assert_int_eq(vi.width, 1280);
	ck_assert_int_eq(vi.height, 720);
	ck_assert_int_eq(vi.fps.num, 24 * vi.fps.den);
	ck_assert_int_eq(vi.packets, 36);
	ck_assert_double_eq_tol(vi.duration, 1.5, 1.0 / 24);
	/* +faststart: the index comes before the media data */
	ck_assert_int_ge(find_box(out, "moov"), 0);
	ck_assert_int_lt(find_box(out, "moov"), find_box(out, "mdat"));
	/* an avcC record for H.264 High */
	ck_assert_int_gt(vi.extradata_size, 8);
	ck_assert_int_eq(vi.extradata[0], 1);
	ck_assert_int_eq(vi.extradata[1], 100);
	ck_assert_int_eq(count_files("seg.mp4.tmp"), 0);
	free(out);
}
END_TEST

START_TEST(segment_frame_count_rounds)
{
	char *out = path_in("r.mp4");
	lv_render_params p = base_params(640, 360, 1.03, 3); /* 24.72 frames -> 25 */
	video_info vi;
	render_ok(&p, out);
	probe_video(&vi, out);
	ck_assert_int_eq(vi.packets, 25);
	ck_assert_double_eq_tol(vi.duration, 25.0 / 24, 0.5 / 24);
	p.seconds = 0.98; /* 23.52 -> 24 */
	render_ok(&p, out);
	probe_video(&vi, out);
	ck_assert_int_eq(vi.packets, 24);
	free(out);
}
END_TEST

START_TEST(segment_extradata_matches_across_renders)
{
	char *a = path_in("a.mp4"), *b = path_in("b.mp4");
	lv_render_params p = base_params(1280, 720, 0.5, 11), q = base_params(1280, 720, 0.5, 987654);
	video_info va, vb;
	q.camera = "pan left";
	q.text = "Different shot, different picture.";
	render_ok(&p, a);
	render_ok(&q, b);
	probe_video(&va, a);
	probe_video(&vb, b);
	ck_assert_int_gt(va.extradata_size, 8);
	ck_assert_int_eq(va.extradata_size, vb.extradata_size);
	ck_assert_mem_eq(va.extradata, vb.extradata, (size_t)va.extradata_size);
	free(a);
	free(b);
}
END_TEST

START_TEST(segment_seeds_give_different_pictures)
{
	char *a = path_in("s1.mp4"), *b = path_in("s2.mp4");
	lv_render_params p = base_params(640, 360, 0.5, 1001), q = base_params(640, 360, 0.5, 2002);
	int idx[1] = { 6 }, w, h;
	uint8_t *fa[1], *fb[1];
	double d;
	p.text = q.text = "The same words on two shots.";
	render_ok(&p, a);
	render_ok(&q, b);
	decode_luma(a, idx, 1, fa, &w, &h);
	decode_luma(b, idx, 1, fb, &w, &h);
	d = mad(fa[0], fb[0], (size_t)w * h);
	ck_assert_msg(d > 8.0, "seeds 1001 and 2002 differ by only %.2f", d);
	free(fa[0]);
	free(fb[0]);
	free(a);
	free(b);
}
END_TEST

START_TEST(segment_moves_between_first_and_last_frame)
{
	static const char *const cams[] = { "push in", "pan right", "tilt up", "orbit", "static" };
	char *out = path_in("m.mp4");
	size_t c;
	for (c = 0; c < sizeof(cams) / sizeof(cams[0]); c++) {
		lv_render_params p = base_params(640, 360, 1.0, 42);
		int idx[2] = { 0, 23 }, w = 0, h = 0;
		uint8_t *f[2] = { NULL, NULL };
		double d;
		p.camera = cams[c];
		render_ok(&p, out);
		decode_luma(out, idx, 2, f, &w, &h);
		d = mad(f[0], f[1], (size_t)w * h);
		ck_assert_msg(d > (strcmp(cams[c], "static") ? 1.5 : 0.3), "camera '%s' moved only %.2f", cams[c], d);
		free(f[0]);
		free(f[1]);
	}
	free(out);
}
END_TEST

START_TEST(segment_references_change_the_picture_and_text_is_never_drawn)
{
	char *plain = path_in("plain.mp4"), *texted = path_in("text.mp4"), *refd = path_in("refs.mp4");
	char *card1 = path_in("c1.png"), *card2 = path_in("c2.png");
	const char *refs[2];
	lv_card_params cp;
	lv_render_params p = base_params(1280, 720, 0.5, 77);
	int idx[1] = { 10 }, w, h;
	uint8_t *f0[1], *ft[1], *fr[1];
	double st, sr;
	memset(&cp, 0, sizeof(cp));
	cp.width = cp.height = 384;
	cp.seed = 5;
	cp.title = "Mira";
	cp.description = "a girl with a red scarf";
	ck_assert_int_eq(lv_render_card(&cp, card1), LV_OK);
	cp.title = "Bolt";
	cp.description = "a small robot";
	ck_assert_int_eq(lv_render_card(&cp, card2), LV_OK);
	refs[0] = card1;
	refs[1] = card2;

	render_ok(&p, plain);
	/* words that name no place, time or weather: the picture is the neutral scene, with no caption */
	p.text = "Mira and Bolt look up together, quietly amazed by what they see.";
	render_ok(&p, texted);
	p.text = NULL;
	p.references = refs;
	p.n_references = 2;
	render_ok(&p, refd);
	decode_luma(plain, idx, 1, f0, &w, &h);
	decode_luma(texted, idx, 1, ft, &w, &h);
	decode_luma(refd, idx, 1, fr, &w, &h);
	st = changed_share(f0[0], ft[0], (size_t)w * h);
	ck_assert_msg(st < 0.001, "the shot text changed %.4f of the picture (text drawn?)", st);
	sr = changed_share(f0[0], fr[0], (size_t)w * h);
	ck_assert_msg(sr > 0.05, "the references changed only %.4f of the picture", sr);
	free(f0[0]);
	free(ft[0]);
	free(fr[0]);
	free(plain);
	free(texted);
	free(refd);
	free(card1);
	free(card2);
}
END_TEST

/* Whatever the camera does, no card comes down into the band that two lines of subtitles can cover
 * (media/subband.h): rendered with and without characters, the band is the same picture, while the
 * characters do show above it.  The cameras that bring the cards lowest: a push-in, a tilt, a pull-out. */
START_TEST(segment_figures_stay_clear_of_the_subtitle_band)
{
	static const struct {
		int w, h;
		const char *camera;
	} cases[] = { { 640, 360, "push in" }, { 360, 640, "tilt up" }, { 480, 480, "pull out" }, { 640, 360, "tilt up" } };
	char *bare = path_in("bare.mp4"), *with = path_in("with.mp4"), *card1 = path_in("c1.png"), *card2 = path_in("c2.png");
	const char *refs[2];
	lv_card_params cp;
	size_t c;
	memset(&cp, 0, sizeof(cp));
	cp.width = cp.height = 384;
	cp.seed = 5;
	cp.title = "Ada";
	cp.description = "a lighthouse keeper with grey hair and a yellow raincoat";
	ck_assert_int_eq(lv_render_card(&cp, card1), LV_OK);
	cp.title = "Bolt";
	cp.description = "a small robot";
	ck_assert_int_eq(lv_render_card(&cp, card2), LV_OK);
	refs[0] = card1;
	refs[1] = card2;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		lv_render_params p = base_params(cases[c].w, cases[c].h, 1.0, 31 + (uint32_t)c);
		lv_sub_band band;
		int idx[3] = { 0, 12, 23 }, w, h, k;
		uint8_t *fb[3], *fw[3];
		p.camera = cases[c].camera;
		p.text = "Ada watches the storm roll in from the shore at dusk.";
		render_ok(&p, bare);
		p.references = refs;
		p.n_references = 2;
		render_ok(&p, with);
		decode_luma(bare, idx, 3, fb, &w, &h);
		decode_luma(with, idx, 3, fw, &w, &h);
		lv_sub_band_of(&band, w, h);
		/* the band holds the two lines of the style above its bottom margin */
		ck_assert_int_gt(band.top, h / 2);
		ck_assert_int_le(band.top, h - band.margin_v - 2 * band.font_px);
		for (k = 0; k < 3; k++) {
			/* the encoder may round a few samples differently next to a changed block, never by a card's worth */
			size_t off = (size_t)band.top * (size_t)w, n = (size_t)(h - band.top) * (size_t)w;
			double in_band = changed_share(fb[k] + off, fw[k] + off, n), above = changed_share(fb[k], fw[k], off);
			ck_assert_msg(in_band < 0.002 && mad(fb[k] + off, fw[k] + off, n) < 1.0,
			              "%dx%d %s frame %d: the characters changed %.4f of the subtitle band (rows %d..%d)", w, h,
			              cases[c].camera, idx[k], in_band, band.top, h - 1);
			ck_assert_msg(above > 0.05, "%dx%d %s frame %d: the characters changed only %.4f above the band", w, h,
			              cases[c].camera, idx[k], above);
			free(fb[k]);
			free(fw[k]);
		}
	}
	free(bare);
	free(with);
	free(card1);
	free(card2);
}
END_TEST

START_TEST(segment_portrait_and_square_sizes)
{
	static const int sizes[][2] = { { 720, 1280 }, { 720, 720 } };
	char *out = path_in("sz.mp4");
	size_t i;
	for (i = 0; i < 2; i++) {
		lv_render_params p = base_params(sizes[i][0], sizes[i][1], 0.5, 9 + (uint32_t)i);
		video_info vi;
		p.text = "A long description that will need to wrap onto several lines in a narrow vertical frame, "
		         "because the frame is not wide at all.";
		render_ok(&p, out);
		probe_video(&vi, out);
		ck_assert_int_eq(vi.width, sizes[i][0]);
		ck_assert_int_eq(vi.height, sizes[i][1]);
		ck_assert_int_eq(vi.packets, 12);
	}
	free(out);
}
END_TEST

/* The scene a shot text asks for, by meaning. */
START_TEST(scene_chosen_by_meaning)
{
	static const struct {
		const char *text, *setting, *time, *weather;
	} table[] = {
		/* daybreak traffic close-up: a city road at dawn */
		{ "\xe5\xa4\xa9\xe5\x88\x9a\xe7\xa0\xb4\xe6\x99\x93\xe6\x97\xb6\xe7\x9a\x84\xe7\x89\xb9\xe5\x86\x99\xef\xbc\x9a"
		  "\xe5\xa4\xa7\xe9\x81\x93\xe4\xb8\x8a\xe5\xb7\x9d\xe6\xb5\x81\xe4\xb8\x8d\xe6\x81\xaf\xe7\x9a\x84\xe8\xbd\xa6"
		  "\xe6\xb5\x81\xe3\x80\x82",
		  "city", "dawn", "clear" },
		{ "A woman in a forest-green coat waits at the bus station.", "city", "day", "clear" },
		{ "A man in a forest green coat crosses the street at night.", "city", "night", "clear" },
		{ "A lighthouse keeper named Ada watches a storm roll in.", "coast", "day", "storm" },
		{ "The old fisherman Tomas mends his nets on the pier at dusk.", "coast", "dusk", "clear" },
		{ "Mira and Bolt look up together, quietly amazed.", "open", "day", "clear" },
		{ "Snow falls softly on the mountain village at night.", "mountains", "night", "snow" },
		{ "Rain drums on the kitchen window.", "interior", "dusk", "rain" },
		{ "\xe6\xa3\xae\xe6\x9e\x97\xe9\x87\x8c\xe7\x9a\x84\xe6\xb8\x85\xe6\x99\xa8\xef\xbc\x8c\xe9\x9b\xbe\xe6\xb0"
		  "\x94\xe5\xbc\xa5\xe6\xbc\xab", /* 森林里的清晨，雾气弥漫 */
		  "forest", "dawn", "mist" },
		{ "Un phare sur la c\xc3\xb4te, la nuit.", "coast", "night", "clear" },
		{ "Camels cross the desert dunes at sunset.", "desert", "dusk", "clear" },
		{ "Urban cyclists ride through a green park at noon.", "forest", "day", "clear" },
		/* a time-lapse's late-morning shot under a prompt that says dawn (上午明亮的光线中…场景：城市清晨的延时风光) */
		{ "\xe4\xb8\x8a\xe5\x8d\x88\xe6\x98\x8e\xe4\xba\xae\xe7\x9a\x84\xe5\x85\x89\xe7\xba\xbf\xe4\xb8\xad\xef\xbc\x8c"
		  "\xe5\x9f\x8e\xe5\xb8\x82\xe3\x80\x82\xe5\x9c\xba\xe6\x99\xaf\xef\xbc\x9a\xe5\x9f\x8e\xe5\xb8\x82\xe6\xb8\x85"
		  "\xe6\x99\xa8\xe7\x9a\x84\xe5\xbb\xb6\xe6\x97\xb6\xe9\xa3\x8e\xe5\x85\x89\xe3\x80\x82",
		  "city", "day", "clear" },
		{ "In the clear morning light, the view pulls back from the city.", "city", "day", "clear" },
	};
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		lv_scene_choice c;
		lv_scene_choose(table[i].text, &c);
		ck_assert_msg(!strcmp(c.setting, table[i].setting) && !strcmp(c.time, table[i].time) &&
		                  !strcmp(c.weather, table[i].weather),
		              "'%s': %s/%s/%s, expected %s/%s/%s", table[i].text, c.setting, c.time, c.weather,
		              table[i].setting, table[i].time, table[i].weather);
	}
	{
		lv_scene_choice c;
		lv_scene_choose("A lighthouse keeper named Ada watches a storm roll in.", &c);
		ck_assert_int_eq(c.lighthouse, 1);
		lv_scene_choose(NULL, &c);
		ck_assert_str_eq(c.setting, "open");
	}
	{
		/* the props a coast shows: a boat out on the water, a pier with boats moored at it */
		static const struct {
			const char *text, *setting, *time, *weather;
			int boat, harbour;
		} props[] = {
			{ "An old fisherman named Tomas sails out at dawn for one last catch.", "coast", "dawn", "clear", 1, 0 },
			{ "Fishing boats rock at their moorings in the harbour at dusk.", "coast", "dusk", "clear", 1, 1 },
			{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube.", "coast", "dawn", "clear", 1, 0 },
			{ "Nets piled on the quay, gulls circling overhead.", "coast", "day", "clear", 1, 1 },
			{ "Waves roll onto the sand under a stormy sky.", "coast", "day", "storm", 0, 0 },
			{ "Tomas in a raincoat and rubber boots walks down the street.", "city", "day", "clear", 0, 0 },
			{ "A boat made of paper floats in the garden pond.", "forest", "day", "clear", 0, 0 },
			{ "Two robots build a snowman in a quiet park at night.", "forest", "night", "snow", 0, 0 },
		};
		for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
			lv_scene_choice c;
			lv_scene_choose(props[i].text, &c);
			ck_assert_msg(!strcmp(c.setting, props[i].setting) && !strcmp(c.time, props[i].time) &&
			                  !strcmp(c.weather, props[i].weather) && c.boat == props[i].boat &&
			                  c.harbour == props[i].harbour,
			              "'%s': %s/%s/%s boat %d harbour %d, expected %s/%s/%s boat %d harbour %d", props[i].text,
			              c.setting, c.time, c.weather, c.boat, c.harbour, props[i].setting, props[i].time,
			              props[i].weather, props[i].boat, props[i].harbour);
		}
	}
}
END_TEST

/* The props a shot text names, by meaning, in several languages; a word that only looks like one
 * names nothing. */
START_TEST(props_chosen_by_meaning)
{
	static const struct {
		const char *text;
		const char *props; /* names, '|'-separated, in LV_PROP_* order; "" for none */
	} table[] = {
		{ "Two robots, Bolt and Pixel, build a snowman in a quiet park at night", "snowman" },
		{ "\xe4\xb8\x80\xe5\x8f\xaa\xe5\x8f\xab\xe8\x8a\xb1\xe8\x8a\xb1\xe7\x9a\x84\xe5\xb0\x8f\xe7\x8c\xab\xe5\x9c\xa8"
		  "\xe9\x9b\xa8\xe5\xa4\xa9\xe7\x9a\x84\xe7\xaa\x97\xe5\x8f\xb0\xe4\xb8\x8a\xe7\xad\x89\xe4\xb8\xbb\xe4\xba\xba"
		  "\xe5\x9b\x9e\xe5\xae\xb6", /* 一只叫花花的小猫在雨天的窗台上等主人回家 */
		  "window" },
		{ "A girl with a red umbrella waits under the street lamp in the rain", "umbrella|lamp" },
		{ "Seabirds glide low over the water.", "birds" },
		{ "Un bonhomme de neige dans le jardin, des oiseaux dans le ciel", "snowman|birds" },
		{ "Ein Schneemann neben der Parkbank", "snowman|bench" },
		{ "Una ni\xc3\xb1" "a con un paraguas junto a la ventana", "window|umbrella" },
		{ "\xe5\x85\xac\xe5\x9c\x92\xe3\x81\xae\xe3\x83\x99\xe3\x83\xb3\xe3\x83\x81\xe3\x81\xa8\xe9\x9b\xaa\xe3\x81\xa0"
		  "\xe3\x82\x8b\xe3\x81\xbe", /* 公園のベンチと雪だるま */
		  "snowman|bench" },
		{ "\xe8\x8a\xb1\xe5\x9b\xad\xe9\x87\x8c\xe5\xbc\x80\xe6\xbb\xa1\xe4\xba\x86\xe9\xb2\x9c\xe8\x8a\xb1\xef\xbc\x8c"
		  "\xe9\xb8\x9f\xe5\x84\xbf\xe5\x9c\xa8\xe6\xad\x8c\xe5\x94\xb1", /* 花园里开满了鲜花，鸟儿在歌唱 */
		  "birds|flowers" },
		{ "The sun rose over the windless bay; a birdlike kite, a snowmobile.", "" },
		{ "A lighthouse keeper named Ada watches a storm roll in", "" },
		{ "Birds chirp in the kitchen.", "" }, /* indoors: no sky to fly in */
		/* a street's lit windows, a bird's-eye view: no window to sit at, no birds */
		{ "Office windows lighting up one by one, a bird's-eye view of the city.", "" },
		{ "\xe4\xb8\x80\xe6\x89\x87\xe6\x89\x87\xe4\xbe\x9d\xe6\xac\xa1\xe4\xba\xae\xe8\xb5\xb7\xe7\x9a\x84"
		  "\xe7\xaa\x97\xe6\x88\xb7\xef\xbc\x8c\xe9\xb8\x9f\xe7\x9e\xb0\xe5\x9f\x8e\xe5\xb8\x82", /* 一扇扇依次亮起的窗户，鸟瞰城市 */
		  "" },
		{ "A cat naps by the window.", "window" },
	};
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		lv_scene_choice c;
		char got[128] = "";
		int p;
		lv_scene_choose(table[i].text, &c);
		for (p = 0; p < LV_PROP_COUNT; p++)
			if (c.props & (1u << p)) {
				if (got[0])
					strcat(got, "|");
				strcat(got, lv_scene_prop_name(p));
			}
		ck_assert_msg(!strcmp(got, table[i].props), "'%s': props '%s', expected '%s'", table[i].text, got,
		              table[i].props);
	}
	ck_assert_ptr_null(lv_scene_prop_name(LV_PROP_COUNT));
}
END_TEST

/* The characters' size follows the shot's framing: the camera text first, then the shot text. */
START_TEST(card_scale_follows_framing)
{
	static const struct {
		const char *camera, *text;
		float size;
	} table[] = {
		{ "wide establishing, high angle", "A wide view of the forest. Greta is small in the frame.", LV_FRAMING_WIDE },
		{ "pull out, high angle", "Finally, the view pulls back from the sea.", LV_FRAMING_WIDE },
		{ "close-up, shallow focus", "Close detail at first light: dew on a leaf.", LV_FRAMING_CLOSE },
		{ "slow push in, eye level", "Ada looks around by the sea.", LV_FRAMING_MEDIUM },
		{ "orbit, low angle", "The high point: the storm at its height.", LV_FRAMING_MEDIUM },
		{ "static", "Extreme close-up of the robot's eyes.", LV_FRAMING_CLOSE },
		{ "pan left", "\xe8\xbf\x9c\xe6\x99\xaf\xef\xbc\x9a\xe5\x9c\xb0\xe9\x9d\xa2", LV_FRAMING_WIDE }, /* 远景：地面 */
		{ "tilt up", "\xe7\x89\xb9\xe5\x86\x99\xef\xbc\x9a\xe7\x8c\xab", LV_FRAMING_CLOSE },           /* 特写：猫 */
		{ "close-up, wide lens", "A wide view.", LV_FRAMING_CLOSE }, /* the camera's word first */
		{ NULL, NULL, LV_FRAMING_MEDIUM },
	};
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		ck_assert_msg(fabsf(lv_scene_framing(table[i].camera, table[i].text) - table[i].size) < 1e-6f,
		              "'%s' / '%s': %.2f, expected %.2f", table[i].camera, table[i].text,
		              lv_scene_framing(table[i].camera, table[i].text), table[i].size);
	ck_assert(LV_FRAMING_WIDE < LV_FRAMING_MEDIUM && LV_FRAMING_MEDIUM < LV_FRAMING_CLOSE);
	{
		/* the characters stand beside a prop, not over it; a window gives them its sill */
		lv_scene *sc = NULL;
		float x0, x1, g;
		ck_assert_int_eq(lv_scene_new(&sc, 3, "Two robots build a snowman in the park at night", 320, 180), LV_OK);
		lv_scene_stage(sc, &x0, &x1, &g);
		ck_assert(x1 - x0 < 0.8f * 320 && x1 - x0 > 0.5f * 320 && g < 0);
		lv_scene_free(sc);
		ck_assert_int_eq(lv_scene_new(&sc, 3, "A cat waits on the windowsill in the rain", 320, 180), LV_OK);
		lv_scene_stage(sc, &x0, &x1, &g);
		ck_assert(g > 0.5f * 180 && g < 180);
		lv_scene_free(sc);
		ck_assert_int_eq(lv_scene_new(&sc, 3, "A quiet meadow", 320, 180), LV_OK);
		lv_scene_stage(sc, &x0, &x1, &g);
		ck_assert(x1 - x0 > 0.85f * 320);
		lv_scene_free(sc);
	}
}
END_TEST

/* A prop is drawn: the same scene with and without a snowman differs where the snowman stands. */
START_TEST(props_are_drawn)
{
	static const char *const texts[][2] = {
		{ "A quiet park at night in the snow.", "A snowman in a quiet park at night in the snow." },
		{ "Rain in the city at dusk.", "A window in the city, rain at dusk." },
		{ "The sea under a clear sky at noon.", "Birds over the sea under a clear sky at noon." },
	};
	size_t i;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		lv_canvas a = { 0 }, b = { 0 };
		lv_scene *sa = NULL, *sb = NULL;
		lv_view v = { 1.0f, 1.0f, 0.0f, 0.0f };
		size_t k, n = 320 * 180, diff = 0;
		ck_assert_int_eq(lv_canvas_init(&a, 320, 180, 0), LV_OK);
		ck_assert_int_eq(lv_canvas_init(&b, 320, 180, 0), LV_OK);
		ck_assert_int_eq(lv_scene_new(&sa, 5, texts[i][0], 320, 180), LV_OK);
		ck_assert_int_eq(lv_scene_new(&sb, 5, texts[i][1], 320, 180), LV_OK);
		lv_scene_draw_back(sa, &a, &v);
		lv_scene_draw_back(sb, &b, &v);
		for (k = 0; k < n; k++)
			diff += abs((int)a.plane[0][k] - (int)b.plane[0][k]) > 24;
		/* (five small birds at this size: a few dozen pixels) */
		ck_assert_msg(diff > (i == 2 ? 20 : n / 400), "'%s': the prop changed %zu pixels", texts[i][1], diff);
		lv_scene_free(sa);
		lv_scene_free(sb);
		lv_canvas_free(&a);
		lv_canvas_free(&b);
	}
}
END_TEST

/* Mean R', G', B' of the sky (the top fifth of the frame) of a scene for a shot text. */
static void sky_mean(const char *text, uint32_t seed, double rgb[3])
{
	lv_canvas cv = { 0 };
	lv_scene *sc = NULL;
	lv_view v = { 1.0f, 1.0f, 0.0f, 0.0f };
	int c, k, n = 320 * 36;
	ck_assert_int_eq(lv_canvas_init(&cv, 320, 180, 0), LV_OK);
	ck_assert_int_eq(lv_scene_new(&sc, seed, text, 320, 180), LV_OK);
	lv_scene_draw_back(sc, &cv, &v);
	for (c = 0; c < 3; c++) {
		double sum = 0;
		for (k = 0; k < n; k++)
			sum += cv.plane[c][k];
		rgb[c] = sum / n;
	}
	lv_scene_free(sc);
	lv_canvas_free(&cv);
}

/* The sky follows the time of day: morning, midday and afternoon light (the writer's phases) are
 * read as such and drawn in measurably different colours, the afternoon warmer than midday, the
 * midday sky the deepest blue; golden hour, dusk and night stay their own.  Over several seeds. */
START_TEST(sky_differs_by_time_of_day)
{
	static const struct {
		const char *text, *light;
	} table[] = {
		{ "In the clear morning light, a wide view of the sea.", "morning" },
		{ "Under the midday sun, a wide view of the sea.", "midday" },
		{ "In the warm afternoon light, a wide view of the sea.", "afternoon" },
		{ "In the golden hour, a wide view of the sea.", "dusk" },
		{ "At night, under glowing lights, a wide view of the sea.", "night" },
		{ "A wide view of the sea at dawn.", "dawn" },
		{ "A wide view of the sea in the daytime.", "day" },
		{ "\xe4\xb8\x8a\xe5\x8d\x88\xe6\x98\x8e\xe4\xba\xae\xe7\x9a\x84\xe5\x85\x89\xe7\xba\xbf\xe4\xb8\xad", "morning" }, /* 上午明亮的光线中 */
		{ "\xe6\xad\xa3\xe5\x8d\x88\xe7\x9a\x84\xe9\x98\xb3\xe5\x85\x89\xe4\xb8\x8b", "midday" }, /* 正午的阳光下 */
		{ "\xe5\x8d\x88\xe5\x90\x8e\xe6\xb8\xa9\xe6\x9a\x96\xe7\x9a\x84\xe5\x85\x89\xe7\xba\xbf\xe9\x87\x8c", "afternoon" }, /* 午后温暖的光线里 */
		{ "Une fille sur la plage l'apr\xc3\xa8s-midi.", "afternoon" },
		{ "Ein Hafen am Mittag.", "midday" },
	};
	size_t i;
	uint32_t seed;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		lv_scene_choice c;
		lv_scene_choose(table[i].text, &c);
		ck_assert_msg(!strcmp(c.light, table[i].light), "'%s': light %s, expected %s", table[i].text, c.light,
		              table[i].light);
	}
	for (seed = 1; seed <= 6; seed++) {
		double m[5][3];
		size_t a, b;
		for (i = 0; i < 5; i++)
			sky_mean(table[i].text, seed, m[i]);
		for (a = 0; a < 5; a++)
			for (b = a + 1; b < 5; b++) {
				double d = fabs(m[a][0] - m[b][0]) + fabs(m[a][1] - m[b][1]) + fabs(m[a][2] - m[b][2]);
				ck_assert_msg(d > 36, "seed %u: the %s and %s skies differ by %.1f (%.0f,%.0f,%.0f / %.0f,%.0f,%.0f)",
				              seed, table[a].light, table[b].light, d, m[a][0], m[a][1], m[a][2], m[b][0], m[b][1],
				              m[b][2]);
			}
		/* warmth (red over blue): afternoon above midday; midday the bluest of the three */
		ck_assert_msg(m[2][0] - m[2][2] > m[1][0] - m[1][2] + 10, "seed %u: the afternoon is not warmer than midday",
		              seed);
		ck_assert_msg(m[1][2] - m[1][0] > m[0][2] - m[0][0] && m[1][2] - m[1][0] > m[2][2] - m[2][0],
		              "seed %u: the midday sky is not the bluest", seed);
	}
}
END_TEST

/* A storm on its way is drawn gathering (slate clouds, no rain or lightning yet); once there, a storm. */
START_TEST(storm_gathers_before_it_breaks)
{
	static const struct {
		const char *text, *weather;
	} table[] = {
		{ "Ada looks around by the sea under gathering dark clouds. Scene: A lighthouse keeper named Ada watches a "
		  "storm roll in.",
		  "gathering" },
		{ "The high point: dark clouds closing in. Scene: An old fisherman named Tomas sails out at dawn for one last "
		  "catch before the winter storms.",
		  "gathering" },
		{ "The high point: the storm at its height. Scene: A lighthouse keeper named Ada watches a storm roll in.",
		  "storm" },
		{ "A lighthouse keeper named Ada watches a storm roll in.", "storm" },
		{ "A wide view of the sea calm under a clear sky. Scene: A lighthouse keeper named Ada.", "clear" },
		{ "\xe4\xb9\x8c\xe4\xba\x91\xe8\x81\x9a\xe6\x8b\xa2\xe7\x9a\x84\xe5\xa4\xa7\xe6\xb5\xb7", "gathering" }, /* 乌云聚拢的大海 */
	};
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		lv_scene_choice c;
		lv_scene_choose(table[i].text, &c);
		ck_assert_msg(!strcmp(c.weather, table[i].weather), "'%s': %s, expected %s", table[i].text, c.weather,
		              table[i].weather);
	}
	{
		/* gathering is lighter than the storm's sky and has no rain: the frame changes less over time */
		double g[3], st[3];
		sky_mean(table[0].text, 2, g);
		sky_mean(table[2].text, 2, st);
		ck_assert_msg(g[0] + g[1] + g[2] > st[0] + st[1] + st[2] + 30, "gathering %.0f, storm %.0f",
		              g[0] + g[1] + g[2], st[0] + st[1] + st[2]);
	}
}
END_TEST

/* Mean absolute luma change between consecutive frames of a clip (0..255), read back with libavcodec. */
static double mean_motion(const char *path, int frames)
{
	int *idx = malloc(sizeof(int) * (size_t)frames), i, w = 0, h = 0;
	uint8_t **f = malloc(sizeof(uint8_t *) * (size_t)frames);
	double sum = 0;
	ck_assert_ptr_nonnull(idx);
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < frames; i++)
		idx[i] = i;
	decode_luma(path, idx, frames, f, &w, &h);
	for (i = 1; i < frames; i++) {
		size_t k, n = (size_t)w * (size_t)h;
		long d = 0;
		ck_assert_ptr_nonnull(f[i]);
		for (k = 0; k < n; k++)
			d += labs((long)f[i][k] - (long)f[i - 1][k]);
		sum += (double)d / (double)n;
	}
	for (i = 0; i < frames; i++)
		free(f[i]);
	free(f);
	free(idx);
	return sum / (double)(frames - 1);
}

/* Every camera move is visible: the mean frame-to-frame luma change of each shot stays above a
 * floor (a still picture gives about 0.05); the figures are printed. */
START_TEST(segment_every_camera_moves)
{
	static const char *const cams[] = { "push in",     "pull out", "pan left", "tilt up",
		                            "orbit",       "static",   "close-up, shallow focus",
		                            "wide establishing, high angle", NULL };
	static const char *const texts[] = { "A city street at dawn.", "A quiet meadow at noon.",
		                             "A lighthouse on the coast in a storm.", "A room with a lamp." };
	char *out = path_in("mv.mp4");
	size_t i;
	for (i = 0; i < sizeof(cams) / sizeof(cams[0]); i++) {
		lv_render_params p = base_params(320, 180, 4.0, 40 + (uint32_t)i);
		double m;
		p.camera = cams[i];
		p.text = texts[i % 4];
		render_ok(&p, out);
		m = mean_motion(out, 96);
		printf("camera %-30s %-40s mean |dY| %.3f\n", cams[i] ? cams[i] : "(none)", texts[i % 4], m);
		ck_assert_msg(m > 0.18, "camera '%s' on '%s': mean frame-to-frame luma change %.3f",
		              cams[i] ? cams[i] : "(none)", texts[i % 4], m);
	}
	free(out);
}
END_TEST

START_TEST(segment_rejects_bad_parameters)
{
	char *out = path_in("bad.mp4");
	lv_render_params p = base_params(641, 360, 1.0, 1);
	ck_assert_int_eq(lv_render_segment(&p, out), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "641x360"));
	p = base_params(640, 360, 0.0, 1);
	ck_assert_int_eq(lv_render_segment(&p, out), LV_EINVALID);
	p = base_params(640, 360, 1.0, 1);
	{
		const char *refs[1] = { "/nonexistent/ref.png" };
		p.references = refs;
		p.n_references = 1;
		ck_assert_int_ne(lv_render_segment(&p, out), LV_OK);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "reference 1"));
	}
	ck_assert_int_eq(lv_path_exists(out), 0);
	ck_assert_int_eq(count_files("bad.mp4"), 0);
	free(out);
}
END_TEST

typedef struct canceler {
	volatile int *flag;
	int delay_ms;
} canceler;

static void *cancel_later(void *arg)
{
	canceler *c = arg;
	usleep((useconds_t)c->delay_ms * 1000);
	*c->flag = 1;
	return NULL;
}

START_TEST(segment_cancel_leaves_no_file)
{
	char *out = path_in("cancel.mp4");
	volatile int flag = 1;
	lv_render_params p = base_params(640, 360, 60.0, 5);
	pthread_t th;
	canceler c = { &flag, 150 };
	p.cancel = &flag;
	/* canceled before the first frame */
	ck_assert_int_eq(lv_render_segment(&p, out), LV_ECANCELED);
	ck_assert_int_eq(lv_path_exists(out), 0);
	/* canceled while rendering a minute of video */
	flag = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, cancel_later, &c), 0);
	ck_assert_int_eq(lv_render_segment(&p, out), LV_ECANCELED);
	pthread_join(th, NULL);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "canceled"));
	ck_assert_int_eq(lv_path_exists(out), 0);
	ck_assert_int_eq(count_files("cancel.mp4"), 0);
	free(out);
}
END_TEST

/* ---- cards ------------------------------------------------------------------------------ */

/* Decode a PNG with libavcodec: its size and pixel format. */
static void decode_png(const char *path, int *w, int *h, int *fmt)
{
	AVFormatContext *fc = NULL;
	AVCodecContext *dc;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	ck_assert_int_eq(avformat_open_input(&fc, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	ck_assert_int_eq(fc->streams[0]->codecpar->codec_id, AV_CODEC_ID_PNG);
	dc = avcodec_alloc_context3(avcodec_find_decoder(AV_CODEC_ID_PNG));
	ck_assert_int_ge(avcodec_parameters_to_context(dc, fc->streams[0]->codecpar), 0);
	ck_assert_int_eq(avcodec_open2(dc, dc->codec, NULL), 0);
	ck_assert_int_ge(av_read_frame(fc, pkt), 0);
	ck_assert_int_ge(avcodec_send_packet(dc, pkt), 0);
	ck_assert_int_eq(avcodec_receive_frame(dc, f), 0);
	*w = f->width;
	*h = f->height;
	*fmt = f->format;
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&dc);
	avformat_close_input(&fc);
}

START_TEST(card_decodes_and_is_deterministic)
{
	char *a = path_in("card_a.png"), *b = path_in("card_b.png"), *c = path_in("card_c.png");
	char *s = path_in("style.png"), *da = NULL, *db = NULL, *dc = NULL;
	size_t la, lb, lc;
	int w, h, fmt;
	lv_card_params p;
	memset(&p, 0, sizeof(p));
	p.width = 512;
	p.height = 512;
	p.seed = 99;
	p.title = "Old Tom";
	p.description = "an old fisherman with a grey beard, a blue sweater and a hat";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	ck_assert_int_eq(lv_render_card(&p, b), LV_OK);
	p.description = "a young woman with long red hair and a green coat";
	ck_assert_int_eq(lv_render_card(&p, c), LV_OK);
	decode_png(a, &w, &h, &fmt);
	ck_assert_int_eq(w, 512);
	ck_assert_int_eq(h, 512);
	ck_assert_int_eq(fmt, AV_PIX_FMT_RGB24);
	ck_assert_int_eq(lv_file_read(&da, &la, a), LV_OK);
	ck_assert_int_eq(lv_file_read(&db, &lb, b), LV_OK);
	ck_assert_int_eq(lv_file_read(&dc, &lc, c), LV_OK);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(da, db, la);
	ck_assert(la != lc || memcmp(da, dc, la) != 0);
	/* a style frame at the film's size, with a CJK title */
	p.width = 1280;
	p.height = 720;
	p.style_frame = 1;
	p.title = "最后的灯塔";
	p.language = "zh";
	p.description = "a stormy sea at dusk";
	ck_assert_int_eq(lv_render_card(&p, s), LV_OK);
	decode_png(s, &w, &h, &fmt);
	ck_assert_int_eq(w, 1280);
	ck_assert_int_eq(h, 720);
	free(da);
	free(db);
	free(dc);
	free(a);
	free(b);
	free(c);
	free(s);
}
END_TEST

/* The colour of a card's pixel at (x, y), decoded with libavcodec. */
static void card_pixel(const char *path, int x, int y, int rgb[3])
{
	uint8_t *rgba = NULL;
	int w, h, k;
	ck_assert_int_eq(lv_image_load(&rgba, &w, &h, path, 0, 0), LV_OK);
	ck_assert_int_lt(x, w);
	ck_assert_int_lt(y, h);
	for (k = 0; k < 3; k++)
		rgb[k] = rgba[4 * ((size_t)y * (size_t)w + (size_t)x) + (size_t)k];
	free(rgba);
}

/* Cards draw what the description says: colours go to what they describe, animals are animals. */
START_TEST(card_respects_colours_and_species)
{
	char *a = path_in("look.png");
	int hair[3], body[3];
	lv_card_params p;
	memset(&p, 0, sizeof(p));
	p.width = p.height = 512;
	p.seed = 7;
	p.title = "Lena";
	/* (the hair is sampled on the top of the head, the clothes on the shoulder, above the name band) */
	p.description = "a young woman with a black bob and a white dress, wearing a silver pendant";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	card_pixel(a, 256, 150, hair);
	card_pixel(a, 356, 420, body);
	ck_assert_msg(hair[0] + hair[1] + hair[2] < 150, "black bob drawn as %d,%d,%d", hair[0], hair[1], hair[2]);
	ck_assert_msg(body[0] > 190 && body[1] > 190 && body[2] > 190, "white dress drawn as %d,%d,%d", body[0],
	              body[1], body[2]);
	p.description = "an old man with a silver pendant and a red coat";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	card_pixel(a, 256, 150, hair);
	card_pixel(a, 356, 420, body);
	ck_assert_msg(!(abs(hair[0] - 185) < 12 && abs(hair[2] - 200) < 12), "the pendant's silver went to the hair");
	ck_assert_msg(body[0] > 150 && body[1] < 90 && body[2] < 90, "red coat drawn as %d,%d,%d", body[0], body[1],
	              body[2]);
	/* an animal without clothes: its body is its fur, not a shirt */
	p.title = "\xe8\x8a\xb1\xe8\x8a\xb1"; /* 花花 */
	p.description = "a small orange cat";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	card_pixel(a, 356, 420, body);
	ck_assert_msg(body[0] > 180 && body[1] > 90 && body[1] < 170 && body[2] < 90,
	              "orange cat's body drawn as %d,%d,%d", body[0], body[1], body[2]);
	/* a grey beard is drawn as a beard on a man's chin, not as a bear */
	p.description = "an old man with a grey beard and a blue coat";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	card_pixel(a, 256, 292, body);
	ck_assert_msg(abs(body[0] - 130) < 16 && abs(body[1] - 130) < 16 && abs(body[2] - 135) < 16,
	              "grey beard drawn as %d,%d,%d", body[0], body[1], body[2]);
	/* a collar in its named colour on a white cat (雪白色的猫，戴着橙色项圈) */
	p.description = "\xe9\x9b\xaa\xe7\x99\xbd\xe8\x89\xb2\xe7\x9a\x84\xe7\x8c\xab\xef\xbc\x8c\xe6\x88\xb4\xe7\x9d\x80"
	                "\xe6\xa9\x99\xe8\x89\xb2\xe9\xa1\xb9\xe5\x9c\x88\xe3\x80\x82";
	ck_assert_int_eq(lv_render_card(&p, a), LV_OK);
	card_pixel(a, 280, 374, body);
	ck_assert_msg(body[0] > 200 && body[1] > 100 && body[1] < 160 && body[2] < 80, "orange collar drawn as %d,%d,%d",
	              body[0], body[1], body[2]);
	card_pixel(a, 356, 420, body);
	ck_assert_msg(body[0] > 200 && body[1] > 200 && body[2] > 200, "white cat's body drawn as %d,%d,%d", body[0],
	              body[1], body[2]);
	free(a);
	{
		/* species words are whole words: a beard is no bear, a bun no bunny, a scatter of leaves no cat */
		static const struct {
			const char *description, *kind;
		} kinds[] = {
			{ "an old man with a grey beard", "person" },
			{ "a girl with a bun", "person" },
			{ "a woman in a dress with a scatter of leaves", "person" },
			{ "a man with a hare-brained plan and a cape", "person" },
			{ "a bearded sailor in a catsuit", "person" },
			{ "a brown bear", "dog" },
			{ "a white bunny", "rabbit" },
			{ "two cats", "cat" },
			{ "a compact robot with a silver body", "robot" },
			{ "\xe9\x9b\xaa\xe7\x99\xbd\xe8\x89\xb2\xe7\x9a\x84\xe7\x8c\xab", "cat" }, /* 雪白色的猫 */
		};
		size_t i;
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			ck_assert_msg(!strcmp(lv_card_kind(kinds[i].description), kinds[i].kind), "'%s' drawn as a %s",
			              kinds[i].description, lv_card_kind(kinds[i].description));
	}
}
END_TEST

/* ---- audio --------------------------------------------------------------------------------- */

typedef struct pcm {
	int rate, channels;
	enum AVCodecID codec;
	int16_t *s; /* interleaved */
	size_t frames;
} pcm;

static void read_wav(pcm *out, const char *path)
{
	AVFormatContext *fc = NULL;
	AVCodecContext *dc;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	size_t cap = 0;
	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(avformat_open_input(&fc, path, NULL, NULL), 0);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	ck_assert_int_eq(fc->nb_streams, 1);
	out->codec = fc->streams[0]->codecpar->codec_id;
	out->rate = fc->streams[0]->codecpar->sample_rate;
	out->channels = fc->streams[0]->codecpar->ch_layout.nb_channels;
	ck_assert_int_eq(out->codec, AV_CODEC_ID_PCM_S16LE);
	dc = avcodec_alloc_context3(avcodec_find_decoder(out->codec));
	ck_assert_int_ge(avcodec_parameters_to_context(dc, fc->streams[0]->codecpar), 0);
	ck_assert_int_eq(avcodec_open2(dc, dc->codec, NULL), 0);
	while (av_read_frame(fc, pkt) >= 0) {
		ck_assert_int_ge(avcodec_send_packet(dc, pkt), 0);
		av_packet_unref(pkt);
		while (avcodec_receive_frame(dc, f) == 0) {
			size_t n = (size_t)f->nb_samples * (size_t)out->channels;
			ck_assert_int_eq(f->format, AV_SAMPLE_FMT_S16);
			if ((out->frames * out->channels) + n > cap) {
				cap = (out->frames * out->channels + n) * 2;
				out->s = realloc(out->s, cap * sizeof(int16_t));
			}
			memcpy(out->s + out->frames * out->channels, f->data[0], n * sizeof(int16_t));
			out->frames += (size_t)f->nb_samples;
			av_frame_unref(f);
		}
	}
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&dc);
	avformat_close_input(&fc);
}

static double rms(const pcm *p, size_t from, size_t to)
{
	double s = 0;
	size_t i, n = 0;
	for (i = from * p->channels; i < to * p->channels && i < p->frames * p->channels; i++, n++)
		s += (double)p->s[i] * p->s[i];
	return n ? sqrt(s / (double)n) : 0;
}

static void speak_ok(const char *text, const char *lang, int rate, const char *out, double *sec)
{
	int err = lv_tts_speak(text, lang, rate, out, sec, NULL);
	ck_assert_msg(err == LV_OK, "speech %s: %s", out, lv_error_last()->message);
}

START_TEST(tts_speaks_english_and_chinese)
{
	char *en1 = path_in("en1.wav"), *en2 = path_in("en2.wav"), *zh1 = path_in("zh1.wav"), *zh2 = path_in("zh2.wav");
	double s_en1, s_en2, s_zh1, s_zh2;
	pcm a;
	speak_ok("The storm is coming.", "en", 0, en1, &s_en1);
	speak_ok("The storm is coming. The keeper lights the lamp and waits by the window until morning.", "en", 0,
	         en2, &s_en2);
	speak_ok("暴风雨要来了。", "zh", 0, zh1, &s_zh1);
	speak_ok("暴风雨要来了。看守人点亮了灯，在窗边一直等到天亮。", "zh", 0, zh2, &s_zh2);
	ck_assert_double_gt(s_en2, s_en1 * 1.8);
	ck_assert_double_gt(s_zh2, s_zh1 * 1.8);
	read_wav(&a, en2);
	ck_assert_int_eq(a.channels, 1);
	ck_assert_int_eq(a.rate, 22050);
	ck_assert_double_eq_tol((double)a.frames / a.rate, s_en2, 0.001);
	ck_assert_double_gt(rms(&a, 0, a.frames), 600.0);
	free(a.s);
	read_wav(&a, zh2);
	ck_assert_int_eq(a.channels, 1);
	ck_assert_double_eq_tol((double)a.frames / a.rate, s_zh2, 0.001);
	ck_assert_double_gt(rms(&a, 0, a.frames), 600.0);
	free(a.s);
	free(en1);
	free(en2);
	free(zh1);
	free(zh2);
}
END_TEST

START_TEST(tts_rate_changes_length)
{
	char *slow = path_in("slow.wav"), *fast = path_in("fast.wav"), *other = path_in("other.wav");
	const char *text = "Every evening the keeper climbs one hundred and twelve steps to light the lamp.";
	double s_slow, s_fast, s_other;
	speak_ok(text, "en", 110, slow, &s_slow);
	speak_ok(text, "en", 260, fast, &s_fast);
	ck_assert_msg(s_slow > s_fast * 1.5, "slow %.2f s vs fast %.2f s", s_slow, s_fast);
	/* an unknown language falls back to English rather than failing */
	speak_ok("hello there", "xx-unknown", 0, other, &s_other);
	ck_assert_double_gt(s_other, 0.3);
	ck_assert_int_eq(lv_tts_speak("   ", "en", 0, other, &s_other, NULL), LV_EINVALID);
	free(slow);
	free(fast);
	free(other);
}
END_TEST

START_TEST(tts_cancel_leaves_no_file)
{
	char *out = path_in("c.wav"), *after = path_in("after.wav");
	volatile int flag = 1;
	double s = 1, before_len, after_len;
	lv_buf long_text = LV_BUF_INIT;
	pthread_t th;
	canceler c = { &flag, 40 };
	int i;
	speak_ok("The lamp is lit.", "en", 0, after, &before_len);
	/* canceled before it starts */
	ck_assert_int_eq(lv_tts_speak("This will not be spoken.", "en", 0, out, &s, &flag), LV_ECANCELED);
	ck_assert_int_eq(lv_path_exists(out), 0);
	/* canceled in the middle of minutes of speech */
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(lv_buf_puts(&long_text, "The keeper climbs the stairs and lights the lamp again. "), 0);
	flag = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, cancel_later, &c), 0);
	ck_assert_int_eq(lv_tts_speak(long_text.data, "en", 0, out, &s, &flag), LV_ECANCELED);
	pthread_join(th, NULL);
	ck_assert_int_eq(lv_path_exists(out), 0);
	ck_assert_int_eq(count_files("c.wav"), 0);
	/* nothing of the canceled text leaks into the next call (espeak-ng's lengths drift by a few ms) */
	speak_ok("The lamp is lit.", "en", 0, after, &after_len);
	ck_assert_double_eq_tol(after_len, before_len, 0.05);
	lv_buf_free(&long_text);
	free(out);
	free(after);
}
END_TEST

/*
 * How much a signal changes over time: the standard deviation, across 0.25 s
 * windows, of the share of energy below ~300 Hz and of the zero-crossing rate.
 * A steady tone scores ~0 on both.
 */
static void variation(const pcm *p, double *band_sd, double *zcr_sd, double *rms_out)
{
	size_t win = (size_t)p->rate / 4, w, i, nw = p->frames / win;
	double sum_b = 0, sum_b2 = 0, sum_z = 0, sum_z2 = 0, a = 1.0 - exp(-2.0 * M_PI * 300.0 / p->rate), lp = 0;
	size_t used = 0;
	*rms_out = rms(p, 0, p->frames);
	for (w = 0; w < nw; w++) {
		double el = 0, et = 0, z;
		size_t zc = 0;
		int prev = 0;
		for (i = w * win; i < (w + 1) * win; i++) {
			double x = p->s[i * p->channels];
			lp += a * (x - lp);
			el += lp * lp;
			et += x * x;
			if ((x >= 0) != (prev >= 0))
				zc++;
			prev = (int)x;
		}
		if (et <= 0)
			continue;
		z = (double)zc / (double)win;
		sum_b += el / et;
		sum_b2 += (el / et) * (el / et);
		sum_z += z;
		sum_z2 += z * z;
		used++;
	}
	ck_assert_uint_gt(used, 4);
	*band_sd = sqrt(fmax(0, sum_b2 / used - (sum_b / used) * (sum_b / used)));
	*zcr_sd = sqrt(fmax(0, sum_z2 / used - (sum_z / used) * (sum_z / used)));
}

START_TEST(music_has_exact_length_and_moves)
{
	char *out = path_in("music.wav"), *tone = path_in("tone.wav");
	pcm a, t;
	double band_sd, zcr_sd, level, tb, tz, tl;
	size_t i;
	int err = lv_music_generate(9.5, 1234, "calm", out, NULL);
	ck_assert_msg(err == LV_OK, "music: %s", lv_error_last()->message);
	read_wav(&a, out);
	ck_assert_int_eq(a.rate, 48000);
	ck_assert_int_eq(a.channels, 2);
	ck_assert_uint_eq(a.frames, 456000);
	variation(&a, &band_sd, &zcr_sd, &level);
	ck_assert_msg(level > 1500.0, "music RMS %.1f", level);
	ck_assert_msg(band_sd > 0.015 && zcr_sd > 0.001, "music hardly changes: band sd %.4f, zcr sd %.5f", band_sd,
	              zcr_sd);
	/* the measure itself: a steady 220 Hz tone of similar level does not pass */
	t = a;
	t.s = malloc(a.frames * 2 * sizeof(int16_t));
	for (i = 0; i < a.frames; i++)
		t.s[2 * i] = t.s[2 * i + 1] = (int16_t)(4000.0 * sin(2.0 * M_PI * 220.0 * (double)i / 48000.0));
	variation(&t, &tb, &tz, &tl);
	ck_assert_msg(tb < 0.005 && tz < 0.0003, "the steady tone scored band sd %.4f, zcr sd %.5f", tb, tz);
	/* the fades: quiet at the very ends, full in the middle */
	ck_assert_double_lt(rms(&a, 0, 2400), rms(&a, 200000, 248000) * 0.2);
	ck_assert_double_lt(rms(&a, a.frames - 2400, a.frames), rms(&a, 200000, 248000) * 0.2);
	free(t.s);
	free(a.s);
	/* other moods and lengths, to the sample */
	err = lv_music_generate(3.001, 5, "tense", tone, NULL);
	ck_assert_int_eq(err, LV_OK);
	read_wav(&t, tone);
	ck_assert_uint_eq(t.frames, 144048);
	ck_assert_double_gt(rms(&t, 0, t.frames), 800.0);
	free(t.s);
	err = lv_music_generate(4.0, 6, "\xe6\xac\xa2\xe5\xbf\xab", tone, NULL); /* 欢快 */
	ck_assert_int_eq(err, LV_OK);
	free(out);
	free(tone);
}
END_TEST

START_TEST(music_cancel_and_bad_length)
{
	char *out = path_in("mc.wav");
	volatile int flag = 1;
	ck_assert_int_eq(lv_music_generate(30.0, 1, NULL, out, &flag), LV_ECANCELED);
	ck_assert_int_eq(lv_path_exists(out), 0);
	ck_assert_int_eq(count_files("mc.wav"), 0);
	ck_assert_int_eq(lv_music_generate(0.0, 1, NULL, out, NULL), LV_EINVALID);
	ck_assert_int_eq(lv_music_generate(-2.0, 1, NULL, out, NULL), LV_EINVALID);
	free(out);
}
END_TEST

START_TEST(fonts_cover_every_script)
{
	/* fontconfig finds, per script, an installed font with a glyph for every character */
	static const char *const table[][2] = {
		{ "zh", "\xe5\xa4\xa9\xe5\x88\x9a\xe7\xa0\xb4\xe6\x99\x93" },                       /* 天刚破晓 */
		{ "ja", "\xe3\x81\x82\xe3\x81\x95\xe3\x83\x88\xe3\x83\x9e\xe3\x82\xb9" },         /* あさトマス */
		{ "th", "\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5" }, /* สวัสดี */
		{ "hi", "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87" }, /* नमस्ते */
		{ "ar", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7" },                                   /* مرحبا */
		{ "en", "Caf\xc3\xa9 at dawn" },
		{ NULL, "Thai \xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa and Latin" },
	};
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *file = lv_font_file(table[i][0], table[i][1]), *family = lv_font_family(table[i][0], table[i][1]);
		ck_assert_msg(file != NULL, "no font for %s", table[i][0]);
		ck_assert_msg(family != NULL && family[0], "no family for %s", table[i][0]);
		ck_assert_int_eq(access(file, R_OK), 0);
		ck_assert_msg(lv_font_missing(file, table[i][1]) == 0, "%s: %s lacks %d glyphs of '%s'", table[i][0], file,
		              lv_font_missing(file, table[i][1]), table[i][1]);
		free(file);
		free(family);
	}
	/* a character no font has is reported missing, not hidden */
	{
		char *file = lv_font_file("en", "A");
		ck_assert_ptr_nonnull(file);
		ck_assert_int_eq(lv_font_missing(file, "\xf3\xb0\x80\x80"), 1); /* U+F0000, private use */
		ck_assert_int_eq(lv_font_missing("/nonexistent.ttf", "A"), -1);
		free(file);
	}
}
END_TEST

static Suite *media_suite(void)
{
	Suite *s = suite_create("media");
	TCase *seg = tcase_create("segment"), *card = tcase_create("card"), *audio = tcase_create("audio");
	tcase_add_checked_fixture(seg, setup, teardown);
	tcase_add_checked_fixture(card, setup, teardown);
	tcase_add_checked_fixture(audio, setup, teardown);
	tcase_add_test(seg, segment_stream_parameters);
	tcase_add_test(seg, segment_frame_count_rounds);
	tcase_add_test(seg, segment_extradata_matches_across_renders);
	tcase_add_test(seg, segment_seeds_give_different_pictures);
	tcase_add_test(seg, segment_moves_between_first_and_last_frame);
	tcase_add_test(seg, segment_references_change_the_picture_and_text_is_never_drawn);
	tcase_add_test(seg, segment_figures_stay_clear_of_the_subtitle_band);
	tcase_add_test(seg, scene_chosen_by_meaning);
	tcase_add_test(seg, props_chosen_by_meaning);
	tcase_add_test(seg, card_scale_follows_framing);
	tcase_add_test(seg, props_are_drawn);
	tcase_add_test(seg, sky_differs_by_time_of_day);
	tcase_add_test(seg, storm_gathers_before_it_breaks);
	tcase_add_test(seg, segment_every_camera_moves);
	tcase_add_test(seg, segment_portrait_and_square_sizes);
	tcase_add_test(seg, segment_rejects_bad_parameters);
	tcase_add_test(seg, segment_cancel_leaves_no_file);
	tcase_add_test(card, card_decodes_and_is_deterministic);
	tcase_add_test(card, card_respects_colours_and_species);
	tcase_add_test(card, fonts_cover_every_script);
	tcase_add_test(audio, tts_speaks_english_and_chinese);
	tcase_add_test(audio, tts_rate_changes_length);
	tcase_add_test(audio, tts_cancel_leaves_no_file);
	tcase_add_test(audio, music_has_exact_length_and_moves);
	tcase_add_test(audio, music_cancel_and_bad_length);
	suite_add_tcase(s, seg);
	suite_add_tcase(s, card);
	suite_add_tcase(s, audio);
	return s;
}

/*
 * `test_media --bench`: wall-clock figures for the report, printed, never
 * asserted (the machine's load decides them).  Renders three 8 s shots at
 * 720p and at 1080p with a caption and two reference cards, speaks a few
 * sentences and composes a 180 s bed.
 */
static int bench(void)
{
	static const int sizes[2][2] = { { 1280, 720 }, { 1920, 1080 } };
	char *bdir = lv_test_mkdtemp("media-bench"), *c1, *c2, *out;
	const char *refs[2];
	lv_card_params cp;
	int i, k, err = 0;
	int64_t t0;
	double sec, total;
	if (!bdir)
		return 1;
	c1 = lv_path_join(bdir, "c1.png");
	c2 = lv_path_join(bdir, "c2.png");
	out = lv_path_join(bdir, "out");
	memset(&cp, 0, sizeof(cp));
	cp.width = cp.height = 512;
	cp.title = "Mira";
	cp.description = "a girl with long black hair and a yellow raincoat";
	t0 = lv_mono_ms();
	err |= lv_render_card(&cp, c1);
	cp.title = "Bolt";
	cp.description = "a small robot with blue lights";
	err |= lv_render_card(&cp, c2);
	printf("cards: 2 x 512x512 in %lld ms\n", (long long)(lv_mono_ms() - t0));
	refs[0] = c1;
	refs[1] = c2;
	for (i = 0; i < 2; i++) {
		int64_t ms = 0;
		for (k = 0; k < 3; k++) {
			lv_render_params p = base_params(sizes[i][0], sizes[i][1], 8.0, 100 + (uint32_t)k);
			static const char *const cams[3] = { "push in", "pan left", "orbit" };
			p.camera = cams[k];
			p.text = "Mira and Bolt walk along the shore while the lighthouse beam sweeps over the water.";
			p.references = refs;
			p.n_references = 2;
			t0 = lv_mono_ms();
			err |= lv_render_segment(&p, out);
			ms += lv_mono_ms() - t0;
		}
		printf("segments %dx%d: 3 x 8 s (576 frames) in %lld ms = %.1f frames/s, %.2f s per 8 s shot\n",
		       sizes[i][0], sizes[i][1], (long long)ms, 576000.0 / (double)ms, (double)ms / 3000.0);
	}
	t0 = lv_mono_ms();
	total = 0;
	for (k = 0; k < 5; k++) {
		err |= lv_tts_speak("The keeper climbs the stairs and lights the lamp as the storm rolls in.", "en", 0,
		                    out, &sec, NULL);
		total += sec;
		err |= lv_tts_speak("看守人爬上楼梯，在暴风雨来临时点亮了灯。", "zh", 0, out, &sec, NULL);
		total += sec;
	}
	printf("speech: 10 sentences (en, zh), %.1f s of audio in %lld ms\n", total, (long long)(lv_mono_ms() - t0));
	t0 = lv_mono_ms();
	err |= lv_music_generate(180.0, 7, "calm", out, NULL);
	printf("music: 180 s bed in %lld ms\n", (long long)(lv_mono_ms() - t0));
	free(c1);
	free(c2);
	free(out);
	lv_test_rmdir(bdir);
	free(bdir);
	if (err)
		printf("a step failed: %s\n", lv_error_last()->message);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	return lv_test_run_suite(media_suite());
}
