/*
 * The film quality report: measured from the produced film (and the narration files), never from
 * what the composition intended.
 *
 * One pass over final.mp4 reads every packet.  The sound is decoded whole into
 *   abuffer -> ebur128 (true peak) -> abuffersink;
 * the picture only around the shot joins (what the black and frozen items judge): from the key frame
 * at or before each join's window (JOIN_WINDOW_S plus the detectors' minimum run on either side, so
 * that every run long enough to count that comes near a join lies in it for at least that long) to the
 * window's end, each window into a graph of its own,
 *   buffer -> scale (to 320 px wide: the detectors look at the mean and the frame difference, which the
 *             smaller picture keeps) -> blackdetect -> freezedetect -> buffersink,
 * and the detectors' frame metadata is read; a run still going at a window's end ends there.  Stream facts and the duration come from lv_media_probe()
 * (packets only, no decoding), speech coverage from the narration files gated by level (20 ms windows),
 * the subtitle rules from the cues of final.srt.
 */
#include "compose/internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A window of narration is speech when its RMS level is at least this (dBFS) ... */
#define SPEECH_FLOOR_DB -50.0
/* ... and no more than this far under the loudest window of its file. */
#define SPEECH_RANGE_DB 35.0
/* Pauses between speech windows up to this long count as speech (between words and clauses). */
#define SPEECH_BRIDGE_S 0.3
/* A black or frozen run is "at a join" when it comes this close to the time of a cut. */
#define JOIN_REACH_S 0.5
/* The picture is decoded this far (plus the detectors' minimum run) on either side of every join. */
#define JOIN_WINDOW_S (JOIN_REACH_S + 0.25)
/* Most runs and violations listed in the report (their count is always given). */
#define MAX_LISTED 20

typedef struct qc_span {
	double a, b;
} qc_span;

typedef struct qc_spans {
	qc_span *v;
	size_t n, cap;
} qc_spans;

static int spans_add(qc_spans *s, double a, double b)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		qc_span *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return lv_error_nomem();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].a = a;
	s->v[s->n].b = b;
	s->n++;
	return LV_OK;
}

static int cmp_span(const void *x, const void *y)
{
	const qc_span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

/* Total length of the union of the spans within [0, end]. */
static double spans_union(qc_spans *s, double end)
{
	double total = 0, a = 0, b = -1;
	size_t i;
	if (s->n == 0)
		return 0; /* (no spans: v may be NULL, which qsort must not get) */
	qsort(s->v, s->n, sizeof(*s->v), cmp_span);
	for (i = 0; i < s->n; i++) {
		double x = fmax(0, s->v[i].a), y = fmin(end, s->v[i].b);
		if (y <= x)
			continue;
		if (x > b) {
			if (b > a)
				total += b - a;
			a = x;
			b = y;
		} else if (y > b) {
			b = y;
		}
	}
	if (b > a)
		total += b - a;
	return total;
}

/* ---- items ---- */

static cJSON *item(cJSON *qc, const char *key, int pass, const char *unit)
{
	cJSON *it = cJSON_AddObjectToObject(qc, key);
	if (!it)
		return NULL;
	cJSON_AddBoolToObject(it, "pass", pass);
	if (unit)
		cJSON_AddStringToObject(it, "unit", unit);
	return it;
}

/* Numbers rounded for the report (JSON has no NaN or infinity: those become null). */
static void put_num(cJSON *o, const char *key, double v, double step)
{
	if (!isfinite(v))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, step > 0 ? round(v / step) * step : v);
}

/* ---- speech coverage: the narration files gated by level ---- */

static int gate_frame(const AVFrame *f, int win, double *acc, int *in_win, double **db, size_t *n, size_t *cap)
{
	const float *s = (const float *)f->data[0];
	int i;
	for (i = 0; i < f->nb_samples; i++) {
		*acc += (double)s[i] * s[i];
		if (++*in_win == win) {
			if (*n == *cap) {
				size_t c = *cap ? 2 * *cap : 1024;
				double *v;
				if (c > (size_t)1 << 24) /* over 93 hours of narration in one file */
					return lv_error_set(LV_EINVALID, "narration file too long to measure");
				if (!(v = realloc(*db, c * sizeof(*v))))
					return lv_error_nomem();
				*db = v;
				*cap = c;
			}
			(*db)[(*n)++] = 10.0 * log10(*acc / win + 1e-20);
			*acc = 0;
			*in_win = 0;
		}
	}
	return LV_OK;
}

/* Level per 20 ms window of one narration file (mono float), into *db (caller frees). */
static int voice_levels(const char *path, size_t idx, double **db, size_t *n, double *win_s)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	AVFilterGraph *g = NULL;
	AVFilterContext *src = NULL, *fmtf = NULL, *sink = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	char what[48], args[256], layout[64], eb[AV_ERROR_MAX_STRING_SIZE];
	size_t cap = 0;
	double acc = 0;
	int ai, err = 0, rc, in_win = 0, win = 0, eof = 0;

	*db = NULL;
	*n = 0;
	snprintf(what, sizeof(what), "qc: narration %zu", idx);
	if (!pkt || !frame) {
		rc = lv_error_nomem();
		goto out;
	}
	if ((rc = lv_av_open_input(&fmt, path, what)) != LV_OK)
		goto out;
	if ((rc = lv_av_open_decoder(&dec, &ai, fmt, AVMEDIA_TYPE_AUDIO, 1, what, path)) != LV_OK)
		goto out;
	if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&dec->ch_layout, dec->ch_layout.nb_channels);
	av_channel_layout_describe(&dec->ch_layout, layout, sizeof(layout));
	snprintf(args, sizeof(args), "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s", dec->sample_rate,
	         dec->sample_rate, av_get_sample_fmt_name(dec->sample_fmt), layout);
	win = dec->sample_rate / 50;
	*win_s = 0.02;
	if (!(g = avfilter_graph_alloc())) {
		rc = lv_error_nomem();
		goto out;
	}
	g->nb_threads = 1;
	err = avfilter_graph_create_filter(&src, avfilter_get_by_name("abuffer"), "in", args, NULL, g);
	if (err >= 0)
		err = avfilter_graph_create_filter(&fmtf, avfilter_get_by_name("aformat"), "fmt",
		                                   "sample_fmts=flt:channel_layouts=mono", NULL, g);
	if (err >= 0)
		err = avfilter_graph_create_filter(&sink, avfilter_get_by_name("abuffersink"), "out", NULL, NULL, g);
	if (err >= 0)
		err = avfilter_link(src, 0, fmtf, 0);
	if (err >= 0)
		err = avfilter_link(fmtf, 0, sink, 0);
	if (err >= 0)
		err = avfilter_graph_config(g, NULL);
	if (err < 0 || win <= 0) {
		rc = lv_error_set(LV_EINTERNAL, "%s (%s): cannot set up the level meter: %s", what, path, lv_av_err(eb, err));
		goto out;
	}
	while (!eof && rc == LV_OK) {
		err = av_read_frame(fmt, pkt);
		if (err == AVERROR_EOF) {
			eof = 1;
			err = avcodec_send_packet(dec, NULL);
		} else if (err >= 0 && pkt->stream_index != ai) {
			av_packet_unref(pkt);
			continue;
		} else if (err >= 0) {
			err = avcodec_send_packet(dec, pkt);
			av_packet_unref(pkt);
		}
		if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
			break;
		while (rc == LV_OK && (err = avcodec_receive_frame(dec, frame)) >= 0) {
			err = av_buffersrc_add_frame(src, frame);
			av_frame_unref(frame);
			if (err < 0)
				break;
			while (rc == LV_OK && (err = av_buffersink_get_frame(sink, frame)) >= 0) {
				rc = gate_frame(frame, win, &acc, &in_win, db, n, &cap);
				av_frame_unref(frame);
			}
		}
		if (err == AVERROR(EAGAIN) || (eof && err == AVERROR_EOF))
			err = 0;
		if (err < 0)
			break;
	}
	if (rc == LV_OK && err >= 0 && (err = av_buffersrc_add_frame(src, NULL)) >= 0) {
		while (rc == LV_OK && (err = av_buffersink_get_frame(sink, frame)) >= 0) {
			rc = gate_frame(frame, win, &acc, &in_win, db, n, &cap);
			av_frame_unref(frame);
		}
		if (err == AVERROR_EOF || err == AVERROR(EAGAIN))
			err = 0;
	}
	if (rc == LV_OK && err < 0)
		rc = lv_error_set(LV_EIO, "%s (%s): cannot decode: %s", what, path, lv_av_err(eb, err));
out:
	if (rc != LV_OK) {
		free(*db);
		*db = NULL;
		*n = 0;
	}
	avfilter_graph_free(&g);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return rc;
}

/* The speech of each narration file placed at its start, as spans of film time. */
static int speech_spans(qc_spans *out, const lv_qc_input *in)
{
	size_t i, j;
	int rc = LV_OK;
	for (i = 0; i < in->n_voices && rc == LV_OK; i++) {
		double *db = NULL, top = -200, win_s = 0.02, a = -1, b = -1;
		size_t n = 0;
		if ((rc = voice_levels(in->voices[i].path, i, &db, &n, &win_s)) != LV_OK)
			break;
		for (j = 0; j < n; j++)
			top = fmax(top, db[j]);
		for (j = 0; j < n && rc == LV_OK; j++) {
			double t = in->voices[i].start + (double)j * win_s;
			if (db[j] < SPEECH_FLOOR_DB || db[j] < top - SPEECH_RANGE_DB)
				continue;
			if (a >= 0 && t - b <= SPEECH_BRIDGE_S) {
				b = t + win_s;
			} else {
				if (a >= 0)
					rc = spans_add(out, a, b);
				a = t;
				b = t + win_s;
			}
		}
		if (rc == LV_OK && a >= 0)
			rc = spans_add(out, a, b);
		free(db);
	}
	return rc;
}

/* ---- the pass over the film ---- */

typedef struct film_pass {
	double lufs, true_peak; /* LUFS; linear */
	qc_spans black, frozen;
	double black_open, frozen_open; /* start of a run still going, or -1 */
	double last_video_t;
	double window_s;     /* the picture was decoded this far around each join */
	long frames_checked; /* pictures the detectors saw */
} film_pass;

static double meta_num(const AVFrame *f, const char *key, double def)
{
	const AVDictionaryEntry *e = f->metadata ? av_dict_get(f->metadata, key, NULL, 0) : NULL;
	return e ? strtod(e->value, NULL) : def;
}

static int video_meta(film_pass *p, const AVFrame *f, AVRational tb)
{
	double v;
	int rc = LV_OK;
	if (f->pts != AV_NOPTS_VALUE)
		p->last_video_t = (double)f->pts * av_q2d(tb);
	if ((v = meta_num(f, "lavfi.black_start", -1)) >= 0)
		p->black_open = v;
	if ((v = meta_num(f, "lavfi.black_end", -1)) >= 0 && p->black_open >= 0) {
		rc = spans_add(&p->black, p->black_open, v);
		p->black_open = -1;
	}
	if ((v = meta_num(f, "lavfi.freezedetect.freeze_start", -1)) >= 0)
		p->frozen_open = v;
	if (rc == LV_OK && (v = meta_num(f, "lavfi.freezedetect.freeze_end", -1)) >= 0 && p->frozen_open >= 0) {
		rc = spans_add(&p->frozen, p->frozen_open, v);
		p->frozen_open = -1;
	}
	return rc;
}

/* Pull what the sinks hold (never asking the graph for more); an LV status. */
static int drain_sinks(film_pass *p, AVFilterContext *vsink, AVFilterContext *asink, AVFrame *f, const char *path)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = AVERROR(EAGAIN), rc = LV_OK;
	while (vsink && rc == LV_OK && (err = av_buffersink_get_frame(vsink, f)) >= 0) {
		p->frames_checked++;
		rc = video_meta(p, f, av_buffersink_get_time_base(vsink));
		av_frame_unref(f);
	}
	if (rc == LV_OK && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
		return lv_error_set(LV_EIO, "qc (%s): cannot measure the picture: %s", path, lv_av_err(eb, err));
	err = AVERROR(EAGAIN);
	while (rc == LV_OK && asink && (err = av_buffersink_get_frame(asink, f)) >= 0) {
		lv_r128_frame(f, &p->lufs, NULL, &p->true_peak);
		av_frame_unref(f);
	}
	if (rc == LV_OK && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
		return lv_error_set(LV_EIO, "qc (%s): cannot measure the sound: %s", path, lv_av_err(eb, err));
	return rc;
}

static int graph_open(AVFilterGraph **gp, AVFilterContext **vsrc, AVFilterContext **vsink, AVFilterContext **asrc,
                      AVFilterContext **asink, const AVCodecContext *vdec, AVRational vtb, const AVCodecContext *adec,
                      const lv_qc_targets *tg)
{
	AVFilterGraph *g = avfilter_graph_alloc();
	AVFilterContext *scale = NULL, *black = NULL, *freeze = NULL, *meter = NULL;
	char args[256], layout[64];
	int err = 0;
	if (!g)
		return AVERROR(ENOMEM);
	*gp = g;
	g->nb_threads = 1;
	if (vdec) {
		snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%s:time_base=%d/%d:pixel_aspect=1/1", vdec->width,
		         vdec->height, av_get_pix_fmt_name(vdec->pix_fmt), vtb.num, vtb.den);
		err = avfilter_graph_create_filter(vsrc, avfilter_get_by_name("buffer"), "vin", args, NULL, g);
		if (err >= 0)
			err = avfilter_graph_create_filter(&scale, avfilter_get_by_name("scale"), "scale",
			                                   "w=320:h=-2:flags=fast_bilinear", NULL, g);
		snprintf(args, sizeof(args), "d=%.3f:pic_th=0.98:pix_th=0.10", tg->black_min_s);
		if (err >= 0)
			err = avfilter_graph_create_filter(&black, avfilter_get_by_name("blackdetect"), "black", args, NULL, g);
		snprintf(args, sizeof(args), "n=%.1fdB:d=%.3f", tg->freeze_noise_db, tg->freeze_min_s);
		if (err >= 0)
			err = avfilter_graph_create_filter(&freeze, avfilter_get_by_name("freezedetect"), "freeze", args, NULL,
			                                   g);
		if (err >= 0)
			err = avfilter_graph_create_filter(vsink, avfilter_get_by_name("buffersink"), "vout", NULL, NULL, g);
		if (err >= 0)
			err = avfilter_link(*vsrc, 0, scale, 0);
		if (err >= 0)
			err = avfilter_link(scale, 0, black, 0);
		if (err >= 0)
			err = avfilter_link(black, 0, freeze, 0);
		if (err >= 0)
			err = avfilter_link(freeze, 0, *vsink, 0);
	}
	if (err >= 0 && adec) {
		AVChannelLayout cl = { 0 };
		if (adec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
			av_channel_layout_default(&cl, adec->ch_layout.nb_channels);
		else
			av_channel_layout_copy(&cl, &adec->ch_layout);
		av_channel_layout_describe(&cl, layout, sizeof(layout));
		av_channel_layout_uninit(&cl);
		snprintf(args, sizeof(args), "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
		         adec->sample_rate, adec->sample_rate, av_get_sample_fmt_name(adec->sample_fmt), layout);
		err = avfilter_graph_create_filter(asrc, avfilter_get_by_name("abuffer"), "ain", args, NULL, g);
		if (err >= 0)
			err = avfilter_graph_create_filter(&meter, avfilter_get_by_name("ebur128"), "meter",
			                                   "peak=true:metadata=1", NULL, g);
		if (err >= 0)
			err = avfilter_graph_create_filter(asink, avfilter_get_by_name("abuffersink"), "aout", NULL, NULL, g);
		if (err >= 0)
			err = avfilter_link(*asrc, 0, meter, 0);
		if (err >= 0)
			err = avfilter_link(meter, 0, *asink, 0);
	}
	if (err >= 0)
		err = avfilter_graph_config(g, NULL);
	return err;
}

/* Runs still going where the picture analysed ends (a window's end, the film's end) end there. */
static int close_runs(film_pass *p)
{
	int rc = LV_OK;
	if (p->black_open >= 0)
		rc = spans_add(&p->black, p->black_open, p->last_video_t);
	if (rc == LV_OK && p->frozen_open >= 0)
		rc = spans_add(&p->frozen, p->frozen_open, p->last_video_t);
	p->black_open = p->frozen_open = -1;
	return rc;
}

/* The stretches of picture to decode: [from, to] in the video stream's time base, from = the key frame
 * at or before the window's start.  Windows that meet are one. */
typedef struct qc_window {
	int64_t from, to;
} qc_window;

static size_t join_windows(qc_window *w, const double *cuts, size_t n_cuts, double reach, AVStream *st)
{
	size_t n = 0, i;
	for (i = 0; i < n_cuts; i++) {
		double a = cuts[i] - reach, b = cuts[i] + reach;
		int64_t from = (int64_t)floor((a < 0 ? 0 : a) / av_q2d(st->time_base)),
		        to = (int64_t)ceil(b / av_q2d(st->time_base));
		int k = av_index_search_timestamp(st, from, AVSEEK_FLAG_BACKWARD);
		const AVIndexEntry *e = k >= 0 ? avformat_index_get_entry(st, k) : NULL;
		from = e ? e->timestamp : INT64_MIN; /* no index: from the start */
		if (n > 0 && from <= w[n - 1].to) {
			if (to > w[n - 1].to)
				w[n - 1].to = to;
			continue;
		}
		w[n].from = from;
		w[n].to = to;
		n++;
	}
	return n;
}

typedef struct film_video {
	AVCodecContext *dec;
	AVFilterGraph *g;
	AVFilterContext *src, *sink;
	AVRational tb;
} film_video;

/* Decode what the decoder holds, through the window's graph. */
static int video_frames(film_pass *p, film_video *v, AVFrame *frame, const char *path)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc = LV_OK;
	while (rc == LV_OK && (err = avcodec_receive_frame(v->dec, frame)) >= 0) {
		frame->pts = frame->best_effort_timestamp;
		err = av_buffersrc_add_frame(v->src, frame);
		av_frame_unref(frame);
		if (err < 0)
			return lv_error_set(LV_EIO, "qc (%s): cannot measure: %s", path, lv_av_err(eb, err));
		rc = drain_sinks(p, v->sink, NULL, frame, path);
	}
	if (rc == LV_OK && err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
		rc = lv_error_set(LV_EIO, "qc (%s): cannot decode: %s", path, lv_av_err(eb, err));
	return rc;
}

/* A window ends: the decoder gives up what it holds, the detectors what they hold, open runs end. */
static int video_window_end(film_pass *p, film_video *v, AVFrame *frame, const char *path)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc = LV_OK;
	if (!v->g)
		return LV_OK;
	if ((err = avcodec_send_packet(v->dec, NULL)) < 0 && err != AVERROR_EOF)
		rc = lv_error_set(LV_EIO, "qc (%s): cannot decode: %s", path, lv_av_err(eb, err));
	if (rc == LV_OK)
		rc = video_frames(p, v, frame, path);
	if (rc == LV_OK && (err = av_buffersrc_add_frame(v->src, NULL)) < 0)
		rc = lv_error_set(LV_EIO, "qc (%s): cannot measure: %s", path, lv_av_err(eb, err));
	if (rc == LV_OK)
		rc = drain_sinks(p, v->sink, NULL, frame, path);
	if (rc == LV_OK)
		rc = close_runs(p);
	avfilter_graph_free(&v->g);
	v->src = v->sink = NULL;
	avcodec_flush_buffers(v->dec);
	return rc;
}

enum { QC_PICTURE = 1, QC_SOUND = 2 };

static int film_measure(film_pass *p, const lv_qc_input *in, int what)
{
	const char *path = in->film;
	const lv_qc_targets *tg = in->targets;
	AVFormatContext *fmt = NULL;
	AVCodecContext *adec = NULL;
	AVFilterGraph *ag = NULL;
	AVFilterContext *asrc = NULL, *asink = NULL;
	film_video v;
	qc_window *wins = NULL;
	size_t n_wins = 0, wi = 0;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int vi = -1, ai = -1, rc, err = 0, eof = 0;

	memset(&v, 0, sizeof(v));
	p->lufs = -70.0;
	p->true_peak = 0;
	p->black_open = p->frozen_open = -1;
	p->window_s = JOIN_WINDOW_S + fmax(tg->black_min_s, tg->freeze_min_s);
	if (!pkt || !frame) {
		rc = lv_error_nomem();
		goto out;
	}
	if ((rc = lv_av_open_input(&fmt, path, "qc")) != LV_OK)
		goto out;
	if ((what & QC_PICTURE) && (rc = lv_av_open_decoder(&v.dec, &vi, fmt, AVMEDIA_TYPE_VIDEO, 2, "qc", path)) != LV_OK)
		goto out;
	if (v.dec) {
		/* The detectors need the picture's levels, not the deblocking filter's polish: skipping it saves
		 * about a quarter of the decoding (the same decision for every frame, so frame differences keep
		 * their meaning). */
		v.dec->skip_loop_filter = AVDISCARD_ALL;
		v.tb = fmt->streams[vi]->time_base;
	}
	if ((what & QC_SOUND) && lv_av_open_decoder(&adec, &ai, fmt, AVMEDIA_TYPE_AUDIO, 1, "qc", path) != LV_OK) {
		avcodec_free_context(&adec); /* a film without sound: reported by the streams item */
		ai = -1;
	}
	if (v.dec && in->n_cuts > 0 && !(wins = lv_calloc(in->n_cuts, sizeof(*wins)))) {
		rc = lv_error_nomem();
		goto out;
	}
	n_wins = wins ? join_windows(wins, in->cuts, in->n_cuts, p->window_s, fmt->streams[vi]) : 0;
	if (adec && (err = graph_open(&ag, NULL, NULL, &asrc, &asink, NULL, (AVRational){ 1, 1 }, adec, tg)) < 0) {
		rc = lv_error_set(LV_EINTERNAL, "qc (%s): cannot set up the sound's analysis: %s", path, lv_av_err(eb, err));
		goto out;
	}
	while (!eof && rc == LV_OK) {
		err = av_read_frame(fmt, pkt);
		if (err == AVERROR_EOF) {
			eof = 1;
		} else if (err < 0) {
			rc = lv_error_set(LV_EIO, "qc (%s): cannot read: %s", path, lv_av_err(eb, err));
			break;
		}
		if (v.dec && (eof || pkt->stream_index == vi)) {
			int64_t ts = eof ? INT64_MAX : pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
			/* past the window being decoded: it ends; the next window may begin with this packet */
			while (rc == LV_OK && wi < n_wins && ts != AV_NOPTS_VALUE && ts > wins[wi].to) {
				rc = video_window_end(p, &v, frame, path);
				wi++;
			}
			if (!eof && rc == LV_OK && wi < n_wins && ts != AV_NOPTS_VALUE && ts >= wins[wi].from) {
				if (!v.g && (err = graph_open(&v.g, &v.src, &v.sink, NULL, NULL, v.dec, v.tb, NULL, tg)) < 0)
					rc = lv_error_set(LV_EINTERNAL, "qc (%s): cannot set up the picture's analysis: %s", path,
					                  lv_av_err(eb, err));
				else if ((err = avcodec_send_packet(v.dec, pkt)) < 0 && err != AVERROR(EAGAIN))
					rc = lv_error_set(LV_EIO, "qc (%s): cannot decode: %s", path, lv_av_err(eb, err));
				else
					rc = video_frames(p, &v, frame, path);
			}
		}
		if (rc == LV_OK && adec && (eof || pkt->stream_index == ai)) {
			err = avcodec_send_packet(adec, eof ? NULL : pkt);
			if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
				rc = lv_error_set(LV_EIO, "qc (%s): cannot decode: %s", path, lv_av_err(eb, err));
			while (rc == LV_OK && (err = avcodec_receive_frame(adec, frame)) >= 0) {
				frame->pts = frame->best_effort_timestamp;
				err = av_buffersrc_add_frame(asrc, frame);
				av_frame_unref(frame);
				if (err < 0)
					rc = lv_error_set(LV_EIO, "qc (%s): cannot measure: %s", path, lv_av_err(eb, err));
				else
					rc = drain_sinks(p, NULL, asink, frame, path);
			}
			if (rc == LV_OK && err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
				rc = lv_error_set(LV_EIO, "qc (%s): cannot decode: %s", path, lv_av_err(eb, err));
		}
		if (!eof)
			av_packet_unref(pkt);
	}
	if (rc == LV_OK && v.dec)
		rc = video_window_end(p, &v, frame, path); /* a window open at the film's end */
	if (rc == LV_OK && asrc && (err = av_buffersrc_add_frame(asrc, NULL)) < 0)
		rc = lv_error_set(LV_EIO, "qc (%s): cannot measure: %s", path, lv_av_err(eb, err));
	if (rc == LV_OK && asink)
		rc = drain_sinks(p, NULL, asink, frame, path);
out:
	avfilter_graph_free(&v.g);
	avfilter_graph_free(&ag);
	free(wins);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&v.dec);
	avcodec_free_context(&adec);
	avformat_close_input(&fmt);
	return rc;
}

/* The sound on a thread of its own while this one looks at the picture (each reads the file). */
typedef struct sound_pass {
	film_pass p;
	const lv_qc_input *in;
	int rc;
	char message[512]; /* the thread's error, copied before it ends */
} sound_pass;

static void *sound_main(void *arg)
{
	sound_pass *sp = arg;
	unsigned fpu = lv_fpu_flush_denormals();
	sp->rc = film_measure(&sp->p, sp->in, QC_SOUND);
	if (sp->rc != LV_OK)
		snprintf(sp->message, sizeof(sp->message), "%s", lv_error_last()->message);
	lv_fpu_restore(fpu);
	return NULL;
}

static int film_measure_both(film_pass *p, const lv_qc_input *in)
{
	sound_pass sp;
	pthread_t th;
	unsigned fpu;
	int rc, threaded;
	memset(&sp, 0, sizeof(sp));
	sp.in = in;
	threaded = pthread_create(&th, NULL, sound_main, &sp) == 0;
	fpu = lv_fpu_flush_denormals();
	rc = film_measure(p, in, threaded ? QC_PICTURE : QC_PICTURE | QC_SOUND);
	lv_fpu_restore(fpu);
	if (!threaded)
		return rc;
	pthread_join(th, NULL);
	p->lufs = sp.p.lufs;
	p->true_peak = sp.p.true_peak;
	free(sp.p.black.v);
	free(sp.p.frozen.v);
	if (rc == LV_OK && sp.rc != LV_OK)
		rc = lv_error_set(sp.rc, "%s", sp.message);
	return rc;
}

/* ---- the report ---- */

/* Runs of black or frozen picture around the joins: every run listed (up to MAX_LISTED), the longest one at a
 * join is the value; the window decoded around each join and the pictures seen are given. */
static void runs_item(cJSON *qc, const char *key, const qc_spans *runs, const lv_qc_input *in, double max_s,
                      const film_pass *fp)
{
	double longest = 0;
	size_t i, j, at_joins = 0;
	cJSON *it, *list = cJSON_CreateArray();
	for (i = 0; i < runs->n; i++) {
		int at = 0;
		for (j = 0; j < in->n_cuts && !at; j++)
			at = runs->v[i].a <= in->cuts[j] + JOIN_REACH_S && runs->v[i].b >= in->cuts[j] - JOIN_REACH_S;
		if (at) {
			at_joins++;
			longest = fmax(longest, runs->v[i].b - runs->v[i].a);
		}
		if (i < MAX_LISTED && list) {
			cJSON *r = cJSON_CreateObject();
			put_num(r, "start", runs->v[i].a, 0.001);
			put_num(r, "end", runs->v[i].b, 0.001);
			cJSON_AddBoolToObject(r, "at_join", at);
			cJSON_AddItemToArray(list, r);
		}
	}
	it = item(qc, key, longest <= max_s, "s");
	if (!it) {
		cJSON_Delete(list);
		return;
	}
	put_num(it, "value", longest, 0.001);
	put_num(it, "target", max_s, 0);
	cJSON_AddNumberToObject(it, "runs_at_joins", (double)at_joins);
	cJSON_AddNumberToObject(it, "runs_total", (double)runs->n);
	cJSON_AddItemToObject(it, "runs", list);
	put_num(it, "window_s", fp->window_s, 0.001);
	cJSON_AddNumberToObject(it, "frames_checked", (double)fp->frames_checked);
}

/* Characters of the longest line and the number of lines of a cue text ('\n' separated). */
static void cue_shape(const char *text, int *max_units, int *lines, int *chars)
{
	const char *line = text;
	*max_units = 0;
	*lines = 0;
	*chars = 0;
	for (;;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int u = lv_text_units(line, len);
		if (u > *max_units)
			*max_units = u;
		*chars += lv_text_chars(line, len);
		(*lines)++;
		if (!nl)
			break;
		line = nl + 1;
	}
}

static void subtitles_item(cJSON *qc, const lv_compose_cue *cues, size_t n, int have_srt, const lv_qc_input *in)
{
	const lv_qc_targets *tg = in->targets;
	cJSON *it, *checks, *viol = cJSON_CreateArray();
	double min_d = HUGE_VAL, max_d = 0, max_cps = 0;
	int max_units = 0, max_lines = 0;
	size_t i, j, bad = 0, across = 0;
	for (i = 0; i < n; i++) {
		const lv_compose_cue *c = &cues[i];
		double d = c->end - c->start, cps;
		int units, lines, chars, crosses = 0;
		const char *rule = NULL;
		cue_shape(c->text ? c->text : "", &units, &lines, &chars);
		cps = d > 0 ? chars / d : HUGE_VAL;
		for (j = 0; j < in->n_cuts; j++)
			crosses |= c->start < in->cuts[j] - tg->cut_slack_s && c->end > in->cuts[j] + tg->cut_slack_s;
		min_d = fmin(min_d, d);
		max_d = fmax(max_d, d);
		max_cps = fmax(max_cps, cps);
		if (units > max_units)
			max_units = units;
		if (lines > max_lines)
			max_lines = lines;
		across += crosses;
		if (units > tg->line_chars_max)
			rule = "line_chars";
		else if (lines > tg->lines_max)
			rule = "lines";
		else if (d < tg->cue_min_s - 0.0005)
			rule = "min_duration";
		else if (d > tg->cue_max_s + 0.0005)
			rule = "max_duration";
		else if (cps > tg->cps_max)
			rule = "chars_per_second";
		else if (crosses)
			rule = "across_cut";
		if (rule) {
			if (bad < MAX_LISTED && viol) {
				cJSON *v = cJSON_CreateObject();
				cJSON_AddNumberToObject(v, "cue", (double)i);
				put_num(v, "start", c->start, 0.001);
				put_num(v, "end", c->end, 0.001);
				cJSON_AddStringToObject(v, "rule", rule);
				cJSON_AddItemToArray(viol, v);
			}
			bad++;
		}
	}
	it = item(qc, "subtitles", bad == 0, "cues");
	if (!it) {
		cJSON_Delete(viol);
		return;
	}
	cJSON_AddNumberToObject(it, "value", (double)bad);
	cJSON_AddNumberToObject(it, "target", 0);
	cJSON_AddNumberToObject(it, "cues", (double)n);
	if (!have_srt)
		cJSON_AddStringToObject(it, "note", "the film has no subtitles");
	checks = cJSON_AddObjectToObject(it, "measured");
	if (checks) {
		cJSON_AddNumberToObject(checks, "max_line_chars", max_units);
		cJSON_AddNumberToObject(checks, "max_lines", max_lines);
		put_num(checks, "min_cue_s", n ? min_d : NAN, 0.001);
		put_num(checks, "max_cue_s", n ? max_d : NAN, 0.001);
		put_num(checks, "max_chars_per_second", n ? max_cps : NAN, 0.01);
		cJSON_AddNumberToObject(checks, "cues_across_cuts", (double)across);
	}
	checks = cJSON_AddObjectToObject(it, "limits");
	if (checks) {
		cJSON_AddNumberToObject(checks, "max_line_chars", tg->line_chars_max);
		cJSON_AddNumberToObject(checks, "max_lines", tg->lines_max);
		put_num(checks, "min_cue_s", tg->cue_min_s, 0);
		put_num(checks, "max_cue_s", tg->cue_max_s, 0);
		put_num(checks, "max_chars_per_second", tg->cps_max, 0);
	}
	cJSON_AddItemToObject(it, "violations", viol);
}

void lv_qc_targets_default(lv_qc_targets *t, double target_lufs, double true_peak_dbtp)
{
	memset(t, 0, sizeof(*t));
	t->loudness_lufs = target_lufs;
	t->loudness_tolerance_lu = 1;
	t->true_peak_dbtp = true_peak_dbtp;
	t->duration_tolerance_frames = 1;
	t->ducking_min_db = 6;
	t->speech_coverage_min = 0.6;
	t->black_min_s = 0.1;
	t->black_max_s = 0;
	t->freeze_noise_db = -60;
	t->freeze_min_s = 1;
	t->freeze_max_s = 0;
	t->line_chars_max = 42;
	t->lines_max = 2;
	t->cue_min_s = 0.8;
	t->cue_max_s = 7;
	t->cps_max = 20;
	t->cut_slack_s = 0.04;
}

int lv_qc_write(const cJSON *qc, const char *path)
{
	char *text = lv_json_print(qc);
	int rc = text ? lv_file_write_atomic(path, text, strlen(text), 0644) : lv_error_nomem();
	free(text);
	return rc;
}

/* 1 when the subtitle file holds nothing but white space (a film without cues). */
static int srt_blank(const char *path)
{
	FILE *f = fopen(path, "rb");
	int c, blank = 1;
	if (!f)
		return 0;
	while (blank && (c = fgetc(f)) != EOF)
		blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
	fclose(f);
	return blank;
}

int lv_qc_measure(cJSON **out, const lv_qc_input *in)
{
	const lv_qc_targets *tg = in->targets;
	lv_media_info mi;
	film_pass fp;
	qc_spans speech = { NULL, 0, 0 };
	lv_compose_cue *cues = NULL;
	size_t n_cues = 0;
	cJSON *qc = NULL, *it, *o;
	double tol, tp_db, frame_s, film;
	int rc, all = 1;

	*out = NULL;
	memset(&fp, 0, sizeof(fp));
	if ((rc = lv_media_probe(&mi, in->film)) != LV_OK)
		return rc;
	rc = film_measure_both(&fp, in);
	if (rc == LV_OK)
		rc = speech_spans(&speech, in);
	if (rc == LV_OK && in->srt && lv_path_exists(in->srt) && !srt_blank(in->srt))
		rc = lv_compose_read_srt(&cues, &n_cues, in->srt);
	if (rc != LV_OK)
		goto out;
	if (!(qc = cJSON_CreateObject())) {
		rc = lv_error_nomem();
		goto out;
	}
	cJSON_AddNumberToObject(qc, "version", 1);
	frame_s = mi.fps > 0 ? 1.0 / mi.fps : 1.0 / 24;
	film = mi.video_duration > 0 ? mi.video_duration : mi.duration;

	/* duration */
	tol = tg->duration_tolerance_frames * frame_s;
	it = item(qc, "duration_s", fabs(film - in->requested_seconds) <= tol + 1e-6, "s");
	if (it) {
		put_num(it, "value", film, 0.001);
		put_num(it, "target", in->requested_seconds, 0.001);
		put_num(it, "tolerance", tol, 0.001);
		cJSON_AddNumberToObject(it, "frames", mi.video_frames);
		cJSON_AddNumberToObject(it, "frames_requested", round(in->requested_seconds * (mi.fps > 0 ? mi.fps : 24)));
		put_num(it, "audio_s", mi.audio_duration, 0.001);
	}

	/* streams */
	{
		int subs_ok = in->subtitle_track ? mi.has_subtitles : !mi.has_subtitles;
		int pass = mi.has_video && mi.has_audio && subs_ok && mi.faststart;
		it = item(qc, "streams", pass, NULL);
		if (it && (o = cJSON_AddObjectToObject(it, "value")) != NULL) {
			char buf[96];
			snprintf(buf, sizeof(buf), "%s %s %dx%d %.3g fps", mi.video_codec, mi.video_profile, mi.width, mi.height,
			         mi.fps);
			cJSON_AddStringToObject(o, "video", mi.has_video ? buf : "none");
			snprintf(buf, sizeof(buf), "%s %d Hz %d ch", mi.audio_codec, mi.audio_sample_rate, mi.audio_channels);
			cJSON_AddStringToObject(o, "audio", mi.has_audio ? buf : "none");
			cJSON_AddStringToObject(o, "subtitles", mi.has_subtitles ? mi.subtitle_codec : "none");
			cJSON_AddBoolToObject(o, "faststart", mi.faststart);
		}
		if (it && (o = cJSON_AddObjectToObject(it, "target")) != NULL) {
			cJSON_AddStringToObject(o, "video", "present");
			cJSON_AddStringToObject(o, "audio", "present");
			cJSON_AddStringToObject(o, "subtitles", in->subtitle_track ? "mov_text" : "none");
			cJSON_AddBoolToObject(o, "faststart", 1);
		}
	}

	/* loudness and true peak */
	it = item(qc, "loudness_lufs", fabs(fp.lufs - tg->loudness_lufs) <= tg->loudness_tolerance_lu, "LUFS");
	if (it) {
		put_num(it, "value", fp.lufs, 0.01);
		put_num(it, "target", tg->loudness_lufs, 0);
		put_num(it, "tolerance", tg->loudness_tolerance_lu, 0);
	}
	tp_db = fp.true_peak > 0 ? 20.0 * log10(fp.true_peak) : -HUGE_VAL;
	it = item(qc, "true_peak_dbtp", tp_db <= tg->true_peak_dbtp + 0.005, "dBTP");
	if (it) {
		put_num(it, "value", tp_db, 0.01);
		put_num(it, "target", tg->true_peak_dbtp, 0);
		cJSON_AddStringToObject(it, "compare", "max");
	}

	/* ducking (measured on the mix while composing) */
	{
		int applies = isfinite(in->ducking_db);
		it = item(qc, "ducking_db", !applies || in->ducking_db >= tg->ducking_min_db, "dB");
		if (it) {
			put_num(it, "value", in->ducking_db, 0.01);
			put_num(it, "target", tg->ducking_min_db, 0);
			cJSON_AddStringToObject(it, "compare", "min");
			if (!applies)
				cJSON_AddStringToObject(it, "note", "no music under narration");
		}
	}

	/* speech coverage */
	{
		double covered = spans_union(&speech, film), share = film > 0 ? covered / film : 0;
		int applies = in->n_voices > 0;
		it = item(qc, "speech_coverage", !applies || share >= tg->speech_coverage_min, "share");
		if (it) {
			put_num(it, "value", share, 0.001);
			put_num(it, "target", tg->speech_coverage_min, 0);
			cJSON_AddStringToObject(it, "compare", "min");
			put_num(it, "speech_s", covered, 0.01);
			if (!applies)
				cJSON_AddStringToObject(it, "note", "the film has no narration");
		}
	}

	runs_item(qc, "black_at_joins", &fp.black, in, tg->black_max_s, &fp);
	runs_item(qc, "frozen_at_joins", &fp.frozen, in, tg->freeze_max_s, &fp);
	subtitles_item(qc, cues, n_cues, cues != NULL || n_cues > 0 || (in->srt && lv_path_exists(in->srt)), in);

	for (it = qc->child; it; it = it->next)
		if (cJSON_IsObject(it) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "pass")))
			all = 0;
	cJSON_AddBoolToObject(qc, "pass", all);
	{ /* the failing items' keys, for a quick look */
		cJSON *failed = cJSON_AddArrayToObject(qc, "failed");
		for (it = qc->child; failed && it; it = it->next)
			if (cJSON_IsObject(it) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "pass")))
				cJSON_AddItemToArray(failed, cJSON_CreateString(it->string));
	}
	*out = qc;
	qc = NULL;
out:
	cJSON_Delete(qc);
	lv_free(cues);
	free(speech.v);
	free(fp.black.v);
	free(fp.frozen.v);
	return rc;
}
