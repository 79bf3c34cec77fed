/*
 * lv-bench-compose: the composer against `ffmpeg -f concat -c:v copy`.
 *
 * Makes N canonical segments (lv_h264_open, synthetic pictures) adding up to
 * the film's length, a narration WAV per segment and a music bed, then times
 *   (a) lv_compose_run: narration + ducked music + loudness, soft subtitles
 *   (b) lv_compose_run with no narration and no music (video join + silent AAC)
 *   (c) the baseline: ffmpeg -f concat -safe 0 -i list -c:v copy -c:a aac -movflags +faststart
 *   (d) for reference, the ffmpeg command line doing the same audio work in one pass (voices
 *       delayed and mixed, looped music ducked, single-pass loudnorm, the same AAC settings)
 *   (e) the floor: ffmpeg copying the same video and encoding (a)'s final mix, decoded to a WAV
 *       beforehand, once to AAC with the same settings
 * and prints the times and the ratios against (c) and (e); lines starting with "RATIO|" are
 * collected by scripts/bench.sh.  Fixtures are kept in a
 * directory named after the parameters and reused by later runs.
 *
 *   lv-bench-compose [--segments N] [--seconds S] [--size WxH] [--repeat R] [--dir DIR] [--small]
 */
#include "compose/compose.h"
#include "longvideo/errors.h"
#include "media/h264.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <libavformat/avformat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct opts {
	int segments, width, height, repeat;
	double seconds;
	const char *dir;
} opts;

static void usage(void)
{
	fprintf(stderr, "usage: lv-bench-compose [--segments N] [--seconds S] [--size WxH] [--repeat R] [--dir DIR] "
	                "[--small]\n"
	                "  defaults: 23 segments, 180 s, 1920x1080, 3 repeats; --small: 6 segments, 30 s, 640x360\n");
}

static int parse(opts *o, int argc, char **argv)
{
	int i;
	o->segments = 23;
	o->seconds = 180;
	o->width = 1920;
	o->height = 1080;
	o->repeat = 3;
	o->dir = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--small")) {
			o->segments = 6;
			o->seconds = 30;
			o->width = 640;
			o->height = 360;
			continue;
		}
		if (!v)
			return -1;
		if (!strcmp(a, "--segments"))
			o->segments = atoi(v);
		else if (!strcmp(a, "--seconds"))
			o->seconds = atof(v);
		else if (!strcmp(a, "--size")) {
			if (sscanf(v, "%dx%d", &o->width, &o->height) != 2)
				return -1;
		} else if (!strcmp(a, "--repeat"))
			o->repeat = atoi(v);
		else if (!strcmp(a, "--dir"))
			o->dir = v;
		else
			return -1;
		i++;
	}
	if (o->segments < 1 || o->seconds < o->segments * 0.5 || o->width < 16 || o->height < 16 || o->repeat < 1)
		return -1;
	return 0;
}

/* Seconds of each segment: the film's length split as evenly as whole frames allow (providers give 3..8 s). */
static double seg_seconds(const opts *o, int i)
{
	int64_t total = llround(o->seconds * LV_SEG_FPS);
	int64_t a = total * i / o->segments, b = total * (i + 1) / o->segments;
	return (double)(b - a) / LV_SEG_FPS;
}

static double probe_duration(const char *path)
{
	AVFormatContext *fmt = NULL;
	double d = -1;
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
		return -1;
	if (avformat_find_stream_info(fmt, NULL) >= 0 && fmt->duration > 0)
		d = (double)fmt->duration / AV_TIME_BASE;
	avformat_close_input(&fmt);
	return d;
}

/* One canonical segment of `frames` pictures: a moving bar over a gradient, a hue per segment. */
static int make_segment(const char *path, int w, int h, int frames, int seed)
{
	lv_seg_writer wr = { 0 };
	AVFrame *f = av_frame_alloc();
	uint8_t *line = malloc((size_t)w * 2);
	int i, x, y, rc;
	if (!f || !line) {
		av_frame_free(&f);
		free(line);
		return -1;
	}
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	for (x = 0; x < w * 2; x++)
		line[x] = (uint8_t)(((x / 48) % 5 == 0) ? 225 : 30 + (x * 3 + seed * 37) % 150);
	rc = av_frame_get_buffer(f, 0) < 0 ? LV_ENOMEM : lv_seg_writer_open(&wr, path, w, h);
	for (i = 0; rc == LV_OK && i < frames; i++) {
		if (av_frame_make_writable(f) < 0) {
			rc = LV_ENOMEM;
			break;
		}
		for (y = 0; y < h; y++)
			memcpy(f->data[0] + (size_t)y * (size_t)f->linesize[0], line + (i * 6 + y / 4) % w, (size_t)w);
		for (y = 0; y < h / 2; y++) {
			memset(f->data[1] + (size_t)y * (size_t)f->linesize[1], 70 + seed * 23 % 120, (size_t)w / 2);
			memset(f->data[2] + (size_t)y * (size_t)f->linesize[2], 190 - seed * 31 % 120, (size_t)w / 2);
		}
		f->pts = i;
		rc = lv_seg_writer_encode(&wr, f);
	}
	if (rc == LV_OK)
		rc = lv_seg_writer_finish(&wr);
	lv_seg_writer_close(&wr);
	free(line);
	av_frame_free(&f);
	return rc == LV_OK ? 0 : -1;
}

/* CPU seconds (user + system) used so far by this process (who = RUSAGE_SELF) or its waited-for children. */
static double cpu_seconds(int who)
{
	struct rusage ru;
	if (getrusage(who, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int run_cmd(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

typedef struct fixtures {
	char **segs, **voices, *music, *list;
	lv_compose_segment *seg;
	lv_compose_voice *voice;
	lv_compose_cue *cue;
	char **cue_text;
} fixtures;

static int make_fixtures(fixtures *fx, const opts *o, const char *dir)
{
	int i, n = o->segments;
	double start = 0;
	FILE *list;
	char cmd[1024];
	fx->segs = lv_calloc((size_t)n, sizeof(char *));
	fx->voices = lv_calloc((size_t)n, sizeof(char *));
	fx->cue_text = lv_calloc((size_t)n, sizeof(char *));
	fx->seg = lv_calloc((size_t)n, sizeof(*fx->seg));
	fx->voice = lv_calloc((size_t)n, sizeof(*fx->voice));
	fx->cue = lv_calloc((size_t)n, sizeof(*fx->cue));
	fx->music = lv_path_join(dir, "music.wav");
	fx->list = lv_path_join(dir, "concat.txt");
	if (!fx->segs || !fx->voices || !fx->cue_text || !fx->seg || !fx->voice || !fx->cue || !fx->music || !fx->list)
		return -1;
	list = fopen(fx->list, "w");
	if (!list)
		return -1;
	for (i = 0; i < n; i++) {
		double secs = seg_seconds(o, i);
		int frames = (int)llround(secs * LV_SEG_FPS);
		fx->segs[i] = lv_asprintf("%s/seg%02d.mp4", dir, i);
		fx->voices[i] = lv_asprintf("%s/voice%02d.wav", dir, i);
		fx->cue_text[i] = lv_asprintf("Shot %d: 旁白第%d句", i + 1, i + 1);
		if (!fx->segs[i] || !fx->voices[i] || !fx->cue_text[i]) {
			fclose(list);
			return -1;
		}
		if (fabs(probe_duration(fx->segs[i]) - secs) > 0.02) {
			int64_t t0 = lv_mono_ms();
			printf("  segment %2d/%d: %dx%d, %.2f s ...", i + 1, n, o->width, o->height, secs);
			fflush(stdout);
			if (make_segment(fx->segs[i], o->width, o->height, frames, i) != 0) {
				fclose(list);
				return -1;
			}
			printf(" %.1f s\n", (double)(lv_mono_ms() - t0) / 1000.0);
		}
		if (!lv_path_exists(fx->voices[i])) {
			/* speech (the flite synthesiser in libavfilter), cut to about 70% of the shot */
			static const char *const lines[] = {
				"The morning light spills over the quiet harbour as the boats return home.",
				"A young inventor sketches a machine that could change the whole town.",
				"Rain drums on the old tin roof while the family gathers around the table.",
				"Far away, a lighthouse keeper writes the last page of his journal.",
			};
			static const char *const voices[] = { "slt", "kal", "awb", "rms" };
			snprintf(cmd, sizeof(cmd),
			         "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "
			         "\"flite=voice=%s:text='%s'\" -t %.2f -ac 1 %s",
			         voices[i % 4], lines[i % 4], secs * 0.7, fx->voices[i]);
			if (run_cmd(cmd) != 0) {
				fclose(list);
				return -1;
			}
		}
		fx->seg[i].path = fx->segs[i];
		fx->seg[i].seconds = secs;
		fx->voice[i].path = fx->voices[i];
		fx->voice[i].start = start + 0.2;
		fx->cue[i].start = start + 0.2;
		fx->cue[i].end = start + 0.2 + secs * 0.7;
		fx->cue[i].text = fx->cue_text[i];
		fprintf(list, "file '%s'\n", fx->segs[i]);
		start += secs;
	}
	fclose(list);
	if (!lv_path_exists(fx->music)) {
		/* a 60 s bed: two slow chords over soft filtered noise */
		snprintf(cmd, sizeof(cmd),
		         "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "
		         "\"aevalsrc=0.2*sin(2*PI*110*t)*(0.7+0.3*sin(2*PI*0.5*t))+0.12*sin(2*PI*165*t)+"
		         "0.08*sin(2*PI*(220+2*sin(2*PI*0.2*t))*t)|0.2*sin(2*PI*138.6*t)+0.12*sin(2*PI*220*t)*"
		         "(0.7+0.3*sin(2*PI*0.25*t))+0.08*sin(2*PI*330*t):s=44100:d=60\" -f lavfi -i "
		         "\"anoisesrc=color=pink:amplitude=0.05:duration=60:sample_rate=44100\" -filter_complex "
		         "\"[1]lowpass=f=3000,aformat=channel_layouts=stereo[n];[0][n]amix=inputs=2:normalize=0\" %s",
		         fx->music);
		if (run_cmd(cmd) != 0)
			return -1;
	}
	return 0;
}

static void free_fixtures(fixtures *fx, int n)
{
	int i;
	for (i = 0; i < n; i++) {
		if (fx->segs)
			free(fx->segs[i]);
		if (fx->voices)
			free(fx->voices[i]);
		if (fx->cue_text)
			free(fx->cue_text[i]);
	}
	free(fx->segs);
	free(fx->voices);
	free(fx->cue_text);
	free(fx->seg);
	free(fx->voice);
	free(fx->cue);
	free(fx->music);
	free(fx->list);
}

/*
 * The same film with the ffmpeg command line in one pass: concat + stream copy
 * for the video; the voices delayed and mixed, the looped music ducked with
 * sidechaincompress, single-pass loudnorm, AAC with the same settings.
 */
static char *equivalent_cmd(const opts *o, const fixtures *fx, const char *out)
{
	int64_t total = llround(o->seconds * LV_SEG_FPS) * 2000; /* samples at 48 kHz */
	lv_buf b = LV_BUF_INIT;
	int i, rc;
	rc = lv_buf_printf(&b, "ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i %s", fx->list);
	for (i = 0; i < o->segments && rc == LV_OK; i++)
		rc = lv_buf_printf(&b, " -i %s", fx->voices[i]);
	if (rc == LV_OK)
		rc = lv_buf_printf(&b, " -stream_loop -1 -i %s -filter_complex \"", fx->music);
	for (i = 0; i < o->segments && rc == LV_OK; i++)
		rc = lv_buf_printf(&b, "[%d:a]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,"
		                       "adelay=delays=%lldS:all=1[v%d];",
		                   i + 1, (long long)llround(fx->voice[i].start * 48000), i);
	for (i = 0; i < o->segments && rc == LV_OK; i++)
		rc = lv_buf_printf(&b, "[v%d]", i);
	if (rc == LV_OK)
		rc = lv_buf_printf(&b,
		                   "amix=inputs=%d:normalize=0:duration=longest,apad=whole_len=%lld,atrim=end_sample=%lld,"
		                   "asplit[n1][n2];[%d:a]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,"
		                   "atrim=end_sample=%lld,volume=-18dB[m];[m][n2]sidechaincompress=threshold=0.03:ratio=6:"
		                   "attack=30:release=450[md];[n1][md]amix=inputs=2:normalize=0,loudnorm=I=-16:TP=-1.5,"
		                   "aresample=48000[a]\" -map 0:v -map [a] -c:v copy -c:a aac -aac_coder fast -b:a 160k "
		                   "-movflags +faststart %s",
		                   o->segments, (long long)total, (long long)total, o->segments + 1, (long long)total, out);
	if (rc != LV_OK) {
		lv_buf_free(&b);
		return NULL;
	}
	return lv_buf_detach(&b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	opts o;
	fixtures fx;
	char *dir, *outa, *outb, *baseline_mp4, *equiv_mp4, *equiv = NULL, cmd[2048], *mix_wav, *floor_mp4;
	double *ta, *tb, *tc, *td, *te, ma, mb, mc, md, me, *ca, *ce, c0;
	struct rusage ru;
	lv_compose_job job;
	lv_compose_stats st, st_full = { 0 };
	lv_media_info info;
	int r, rc = 1;

	if (parse(&o, argc, argv) != 0) {
		usage();
		return 2;
	}
	av_log_set_level(AV_LOG_ERROR);
	dir = o.dir ? lv_strdup(o.dir)
	            : lv_asprintf("%s/lv-bench-compose-%dx%d-%d-%g", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	                          o.width, o.height, o.segments, o.seconds);
	if (!dir || lv_mkdir_p(dir, 0) != LV_OK) {
		fprintf(stderr, "cannot create %s\n", dir ? dir : "(null)");
		return 1;
	}
	outa = lv_path_join(dir, "out-full");
	outb = lv_path_join(dir, "out-video");
	baseline_mp4 = lv_path_join(dir, "baseline.mp4");
	equiv_mp4 = lv_path_join(dir, "equivalent.mp4");
	ta = calloc((size_t)o.repeat, sizeof(double));
	tb = calloc((size_t)o.repeat, sizeof(double));
	tc = calloc((size_t)o.repeat, sizeof(double));
	td = calloc((size_t)o.repeat, sizeof(double));
	te = calloc((size_t)o.repeat, sizeof(double));
	ca = calloc((size_t)o.repeat, sizeof(double));
	ce = calloc((size_t)o.repeat, sizeof(double));
	mix_wav = lv_path_join(dir, "final-mix.wav");
	floor_mp4 = lv_path_join(dir, "floor.mp4");
	memset(&fx, 0, sizeof(fx));
	if (!outa || !outb || !baseline_mp4 || !equiv_mp4 || !ta || !tb || !tc || !td || !te || !ca || !ce || !mix_wav ||
	    !floor_mp4 || lv_mkdir_p(outa, 0) != LV_OK || lv_mkdir_p(outb, 0) != LV_OK)
		goto out;
	printf("fixtures in %s: %d segments, %.0f s, %dx%d\n", dir, o.segments, o.seconds, o.width, o.height);
	if (make_fixtures(&fx, &o, dir) != 0 || !(equiv = equivalent_cmd(&o, &fx, equiv_mp4))) {
		fprintf(stderr, "cannot make the fixtures\n");
		goto out;
	}

	memset(&job, 0, sizeof(job));
	job.segments = fx.seg;
	job.n_segments = (size_t)o.segments;
	job.width = o.width;
	job.height = o.height;
	job.voices = fx.voice;
	job.n_voices = (size_t)o.segments;
	job.music_path = fx.music;
	job.segment_audio_db = -18;
	job.cues = fx.cue;
	job.n_cues = (size_t)o.segments;
	job.subtitles = LV_SUBS_SOFT;
	job.language = "zh";
	job.target_lufs = -16;
	job.true_peak_db = -1.5;

	for (r = 0; r < o.repeat; r++) {
		int64_t t0;
		lv_compose_job video_only = job;

		job.out_dir = outa;
		c0 = cpu_seconds(RUSAGE_SELF);
		t0 = lv_mono_ms();
		if (lv_compose_run(&job, &st) != LV_OK) {
			fprintf(stderr, "compose failed: %s\n", lv_error_last()->message);
			goto out;
		}
		ta[r] = (double)(lv_mono_ms() - t0) / 1000.0;
		ca[r] = cpu_seconds(RUSAGE_SELF) - c0;
		st_full = st;
		if (r == 0) { /* the final mix, decoded once (not timed), for the floor */
			snprintf(cmd, sizeof(cmd),
			         "ffmpeg -nostdin -hide_banner -loglevel error -y -i %s/final.mp4 -map 0:a -c:a pcm_f32le %s",
			         outa, mix_wav);
			if (run_cmd(cmd) != 0)
				goto out;
		}

		video_only.out_dir = outb;
		video_only.n_voices = 0;
		video_only.music_path = NULL;
		video_only.subtitles = LV_SUBS_NONE;
		t0 = lv_mono_ms();
		if (lv_compose_run(&video_only, &st) != LV_OK) {
			fprintf(stderr, "compose failed: %s\n", lv_error_last()->message);
			goto out;
		}
		tb[r] = (double)(lv_mono_ms() - t0) / 1000.0;

		snprintf(cmd, sizeof(cmd),
		         "ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i %s -c:v copy -c:a aac "
		         "-movflags +faststart %s",
		         fx.list, baseline_mp4);
		t0 = lv_mono_ms();
		if (run_cmd(cmd) != 0)
			goto out;
		tc[r] = (double)(lv_mono_ms() - t0) / 1000.0;

		snprintf(cmd, sizeof(cmd),
		         "ffmpeg -nostdin -hide_banner -loglevel error -y -f concat -safe 0 -i %s -i %s -map 0:v -map 1:a "
		         "-c:v copy -c:a aac -aac_coder fast -b:a 160k -movflags +faststart %s",
		         fx.list, mix_wav, floor_mp4);
		c0 = cpu_seconds(RUSAGE_CHILDREN);
		t0 = lv_mono_ms();
		if (run_cmd(cmd) != 0)
			goto out;
		te[r] = (double)(lv_mono_ms() - t0) / 1000.0;
		ce[r] = cpu_seconds(RUSAGE_CHILDREN) - c0;

		t0 = lv_mono_ms();
		if (run_cmd(equiv) != 0)
			goto out;
		td[r] = (double)(lv_mono_ms() - t0) / 1000.0;
		printf("  run %d: compose %.2f s, compose (video + silent track) %.2f s, ffmpeg concat copy %.2f s, "
		       "ffmpeg equivalent %.2f s, floor %.2f s; CPU: compose %.2f s, floor %.2f s\n",
		       r + 1, ta[r], tb[r], tc[r], td[r], te[r], ca[r], ce[r]);
	}
	{
		char *mp4 = lv_path_join(outa, "final.mp4");
		double lufs = 0, tp = 0;
		if (mp4 && lv_media_probe(&info, mp4) == LV_OK && lv_media_loudness(mp4, &lufs, &tp) == LV_OK)
			printf("film: %.3f s, %dx%d %.2f fps, %d frames, %s+%s, %d subtitle samples, faststart %d, "
			       "%.2f LUFS, %.2f dBTP, music ducked %.2f dB under speech; segments copied %d, re-encoded %d\n",
			       info.duration, info.width, info.height, info.fps, info.video_frames, info.video_codec,
			       info.audio_codec, info.subtitle_packets, info.faststart, lufs, tp, st_full.ducking_db,
			       st_full.copied_segments, st_full.reencoded_segments);
		free(mp4);
		if (lv_media_probe(&info, baseline_mp4) == LV_OK)
			printf("baseline: %.3f s, %d frames, audio %s\n", info.duration, info.video_frames,
			       info.has_audio ? info.audio_codec : "none");
		if (lv_media_probe(&info, equiv_mp4) == LV_OK && lv_media_loudness(equiv_mp4, &lufs, &tp) == LV_OK)
			printf("equivalent: %.3f s, %d frames, %.2f LUFS, %.2f dBTP\n", info.duration, info.video_frames, lufs,
			       tp);
	}
	ma = median(ta, o.repeat);
	mb = median(tb, o.repeat);
	mc = median(tc, o.repeat);
	md = median(td, o.repeat);
	me = median(te, o.repeat);
	printf("\nmedian of %d runs (%d segments, %.0f s, %dx%d):\n", o.repeat, o.segments, o.seconds, o.width, o.height);
	printf("  (a) lv_compose_run, narration + music + soft subtitles: %7.2f s  ratio %.2fx\n", ma, ma / mc);
	printf("  (b) lv_compose_run, video join + silent AAC track:      %7.2f s  ratio %.2fx\n", mb, mb / mc);
	printf("  (c) ffmpeg -f concat -c:v copy -c:a aac +faststart:    %7.2f s  (baseline)\n", mc);
	printf("  (d) ffmpeg, same audio graph with one-pass loudnorm:     %7.2f s  ratio %.2fx; (a)/(d) %.2fx\n", md,
	       md / mc, ma / md);
	printf("  (e) floor: ffmpeg copying the video + the final mix to AAC: %5.2f s  (a)/(e) %.2fx\n", me, ma / me);
	printf("  CPU (median): (a) %.2f s, (e) %.2f s; peak RSS of this process %ld MiB\n", median(ca, o.repeat),
	       median(ce, o.repeat), getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024 : -1L);
	printf("RATIO|compose %.0f s %dx%d / floor (video copy + final mix to AAC)|%.3f|<= 1.5\n", o.seconds, o.width,
	       o.height, ma / me);
	printf("RATIO|compose %.0f s %dx%d / ffmpeg concat -c:v copy -c:a aac|%.3f|<= 3\n", o.seconds, o.width, o.height,
	       ma / mc);
	rc = 0;
out:
	free_fixtures(&fx, o.segments);
	free(ta);
	free(tb);
	free(tc);
	free(td);
	free(te);
	free(ca);
	free(ce);
	free(mix_wav);
	free(floor_mp4);
	free(equiv);
	free(equiv_mp4);
	free(outa);
	free(outb);
	free(baseline_mp4);
	free(dir);
	return rc;
}
