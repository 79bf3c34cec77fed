/*
 * The audio track: libavfilter graphs, encoded once to AAC.
 *
 *   voices:  per chain of voices that follow one another: amovie -> asetpts -> aformat -> trim/pad
 *            to the next start, concat, adelay(first start); chains -> amix -> trim/pad to the film
 *   music:   amovie(loop) -> asetpts -> aformat -> trim/pad to the film
 *   segment: amovie -> asetpts -> aformat -> trim/pad to its share -> adelay -> amix -> trim/pad
 *   mix:     voices -> asplit -> sidechain of sidechaincompress(music * bed gain)
 *            voices + ducked music + segments * segment_audio_db -> amix
 *   final:   the mix file times the gain, read straight into the AAC encoder; when a limiter is
 *            needed: mix -> volume(gain) -> alimiter -> aformat -> abuffersink -> AAC
 *
 * The inputs are first rendered once, losslessly ("stems": 48 kHz stereo float
 * WAV files beside the output, removed afterwards) while an ebur128 meter
 * measures each, every input on a graph of its own and two at a time (the
 * calling thread and a helper); the voices' and the music's loudness set the
 * bed under the speech and the sidechain level.  The mix of the stems is then
 * rendered once to a file while it is measured (loudness, sample and true
 * peak) on a second thread, which takes the mixed frames through a bounded
 * queue; with a single input that input's stem is the mix.  Gain is linear, so the gain to
 * the target loudness and the resulting peaks follow from that one measurement
 * without running the mix again.  Only when the gain pushes the peaks past the
 * ceiling does a limiter join the final pass, and only then is the limited
 * mix measured (reading the mix file: no decoding, looping, resampling or
 * ducking again) to correct gain and ceiling, at most three times.  The final
 * pass reads the mix file, applies the gain (through a graph with the limiter
 * only when one is needed) and is encoded once, on its own thread while the
 * muxer copies the video; without a limiter and from 20 s on, by two encoders
 * on two threads, one per half, joined without a seam (see direct_setup).
 * True peaks are measured by tp_meter on the sinks' frames, loudness by
 * ebur128.  Memory stays bounded whatever the length, but for the second half's
 * packets, held until the first half's are muxed (about 10 kB a second of film).
 */
#include "compose/internal.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* The music bed sits this far under the narration before ducking. */
#define MUSIC_UNDER_VOICE_LU 14.0
/* Sidechain: the narration is brought to about this level before the compressor looks at it. */
#define SIDECHAIN_LUFS -20.0
/* Headroom between the limiter's ceiling and the true-peak target (inter-sample peaks, AAC). */
#define LIMITER_MARGIN_DB 1.0
/* What AAC encoding may add to the true peak of the limited mix. */
#define TP_CODEC_ALLOWANCE_DB 0.5
/* A voice is strung after another only if it starts this long (samples) after the other's end. */
#define VOICE_MARGIN (LV_AUDIO_RATE / 2)

enum { BR_VOICE, BR_MUSIC, BR_SEGS, BR_N, BR_MIX = BR_N, BR_FILES };
enum { AM_STEMS, AM_MIX, AM_LIMITED, AM_ENCODE };

typedef struct amix_levels {
	double music_db;  /* gain on the music bed */
	double sc_gain;   /* linear gain on the sidechain (narration) signal */
	double gain_db;   /* overall gain */
	double limit;     /* limiter ceiling, linear */
	int limiter;      /* 1: the final pass limits (only when the gain pushes the true peak over) */
	double mix_db;    /* gain already due on the mix file (a lone segments stem's segment_audio_db) */
	double ducking_db; /* measured in the mix pass (NAN: no narration with music) */
} amix_levels;

typedef struct aend {
	AVFilterContext *f;
	unsigned pad;
} aend;

typedef struct abuild {
	AVFilterGraph *g;
	const lv_compose_job *job;
	const lv_video_plan *plan;
	int64_t N; /* film length in samples */
	const int64_t *voice_len; /* [n_voices]: each voice's length in samples from its file, -1 if unknown */
	int uid;
	char *const *stems; /* [BR_FILES], NULL for an absent branch; [BR_MIX]: the mix, once rendered */
	const char *mix;    /* the file the final pass reads: the mix, or the only stem */
	AVFilterContext *sinks[BR_N];
	int sink_branch[BR_N];
	int sink_tp[BR_N]; /* 1: measure the true peak of what this sink delivers */
	int n_sinks;
	AVFilterContext *duck_sinks[3]; /* the mix pass with narration and music: voice, music before and after
	                                  * ducking (NULL otherwise) */
	int only;  /* the stems pass: the one branch to build (-1: all) */
	int piped; /* the sinks' loudness is measured by a meter_pipe, not by an ebur128 in this graph */
} abuild;

/*
 * The ducking meter: in the mix pass, the narration, the music bed before the compressor and after it
 * (three sinks, each read as it comes) are summed per block of each one's samples; a block is speech
 * when the narration's level is at least DUCK_SPEECH_FLOOR_DB and within DUCK_SPEECH_RANGE_DB of its
 * loudest block.  The ducking depth is the music's level before minus after the compressor over the
 * speech blocks.
 */
#define DUCK_BLOCK (LV_AUDIO_RATE / 10)
#define DUCK_SPEECH_FLOOR_DB -50.0
#define DUCK_SPEECH_RANGE_DB 35.0
/* what the meter's sinks take: float or double, planar or packed, whatever the branch carries */
#define DUCK_FMT "sample_fmts=fltp|dblp|flt|dbl:sample_rates=48000:channel_layouts=stereo"

typedef struct duck_acc {
	double (*blk)[3]; /* energy per block: voice, music before, music after */
	size_t n, cap;
	int64_t pos[3]; /* samples summed so far, per signal */
} duck_acc;

/* Sum of squares of samples [i, i + m) of every channel of f (float or double, planar or packed). */
static double sum_sq(const AVFrame *f, int i, int m)
{
	int ch = f->ch_layout.nb_channels, c, k;
	double e = 0;
	switch (f->format) {
	case AV_SAMPLE_FMT_FLTP:
		for (c = 0; c < ch; c++)
			for (k = i; k < i + m; k++)
				e += (double)((const float *)f->extended_data[c])[k] * ((const float *)f->extended_data[c])[k];
		break;
	case AV_SAMPLE_FMT_DBLP:
		for (c = 0; c < ch; c++)
			for (k = i; k < i + m; k++)
				e += ((const double *)f->extended_data[c])[k] * ((const double *)f->extended_data[c])[k];
		break;
	case AV_SAMPLE_FMT_FLT:
		for (k = i * ch; k < (i + m) * ch; k++)
			e += (double)((const float *)f->data[0])[k] * ((const float *)f->data[0])[k];
		break;
	case AV_SAMPLE_FMT_DBL:
		for (k = i * ch; k < (i + m) * ch; k++)
			e += ((const double *)f->data[0])[k] * ((const double *)f->data[0])[k];
		break;
	default:
		break;
	}
	return e;
}

/* A frame of signal s (0 narration, 1 music before, 2 music after the compressor). */
static int duck_add(duck_acc *d, const AVFrame *f, int s)
{
	int i = 0;
	while (i < f->nb_samples) {
		size_t blk = (size_t)(d->pos[s] / DUCK_BLOCK);
		int m = DUCK_BLOCK - (int)(d->pos[s] % DUCK_BLOCK);
		if (m > f->nb_samples - i)
			m = f->nb_samples - i;
		if (blk >= d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 1024;
			double(*v)[3];
			while (cap <= blk)
				cap *= 2;
			v = realloc(d->blk, cap * sizeof(*v));
			if (!v)
				return lv_error_nomem();
			memset(v + d->cap, 0, (cap - d->cap) * sizeof(*v));
			d->blk = v;
			d->cap = cap;
		}
		if (blk >= d->n)
			d->n = blk + 1;
		d->blk[blk][s] += sum_sq(f, i, m);
		d->pos[s] += m;
		i += m;
	}
	return LV_OK;
}

/* Ducking depth in dB over the speech blocks; NAN when there is no speech or no music. */
static double duck_depth(const duck_acc *d)
{
	double top = 0, pre = 0, post = 0, floor_e = pow(10.0, DUCK_SPEECH_FLOOR_DB / 10.0) * 2 * DUCK_BLOCK, gate;
	size_t i;
	for (i = 0; i < d->n; i++)
		top = fmax(top, d->blk[i][0]);
	gate = fmax(floor_e, top * pow(10.0, -DUCK_SPEECH_RANGE_DB / 10.0));
	for (i = 0; i < d->n; i++)
		if (d->blk[i][0] >= gate && top > 0) {
			pre += d->blk[i][1];
			post += d->blk[i][2];
		}
	if (!(pre > 0) || !(post > 0))
		return pre > 0 ? HUGE_VAL : NAN;
	return 10.0 * log10(pre / post);
}

/*
 * The true peak (ITU-R BS.1770 annex 2: the signal oversampled four times), measured on the packed
 * float frames a sink delivers.  The interpolation is a windowed sinc of TP_TAPS taps per phase.  A
 * block of samples is interpolated only when its largest sample times the filter's largest gain could
 * exceed the peak found so far, so once the peak is known almost nothing is computed (FFmpeg's ebur128
 * upsamples every sample to 192 kHz, which cost about half of the mix pass).
 */
#define TP_TAPS 12
#define TP_HALF 5 /* taps before the sample: offsets -5 .. +6 */
#define TP_BLOCK 64
#define LV_PI 3.14159265358979323846

typedef struct tp_meter {
	float h[3][TP_TAPS]; /* phases 1/4, 2/4, 3/4 between a sample and the next */
	float gain;          /* the largest sum of |h| of a phase: |interpolated| <= gain * max |x| */
	float *buf;          /* per channel: TP_TAPS - 1 samples of history, then the frame */
	size_t cap;
	int ch;
	double peak; /* linear */
} tp_meter;

static void tp_init(tp_meter *m)
{
	int p, k;
	memset(m, 0, sizeof(*m));
	for (p = 1; p <= 3; p++) {
		double sum = 0, abs_sum = 0;
		for (k = 0; k < TP_TAPS; k++) {
			double t = (double)(k - TP_HALF) - p / 4.0, x = LV_PI * t;
			double w = 0.5 * (1.0 + cos(LV_PI * t / (TP_TAPS / 2.0)));
			m->h[p - 1][k] = (float)((fabs(t) < 1e-9 ? 1.0 : sin(x) / x) * w);
			sum += m->h[p - 1][k];
		}
		for (k = 0; k < TP_TAPS; k++) {
			m->h[p - 1][k] = (float)(m->h[p - 1][k] / sum); /* unity gain at DC */
			abs_sum += fabs(m->h[p - 1][k]);
		}
		if (abs_sum > m->gain)
			m->gain = (float)abs_sum;
	}
}

static void tp_free(tp_meter *m)
{
	free(m->buf);
	m->buf = NULL;
}

/* A packed float frame; an LV status. */
static int tp_add(tp_meter *m, const AVFrame *f)
{
	const float *x = (const float *)f->data[0];
	int ch = f->ch_layout.nb_channels, n = f->nb_samples, c, i, k, p;
	size_t len = (size_t)n + TP_TAPS - 1;
	if (f->format != AV_SAMPLE_FMT_FLT || ch < 1 || n <= 0)
		return n <= 0 ? LV_OK : lv_error_set(LV_EINTERNAL, "audio: the true-peak meter needs packed float");
	if (m->ch != ch || m->cap < len) {
		float *nb = calloc((size_t)ch * len, sizeof(*nb));
		if (!nb)
			return lv_error_nomem();
		if (m->buf && m->ch == ch) /* keep the history */
			for (c = 0; c < ch; c++)
				memcpy(nb + (size_t)c * len, m->buf + (size_t)c * m->cap, (TP_TAPS - 1) * sizeof(*nb));
		free(m->buf);
		m->buf = nb;
		m->cap = len;
		m->ch = ch;
	}
	for (c = 0; c < ch; c++) {
		float *b = m->buf + (size_t)c * m->cap, top = 0;
		for (i = 0; i < n; i++) {
			float v = x[(size_t)i * ch + c];
			b[TP_TAPS - 1 + i] = v;
			v = fabsf(v);
			top = v > top ? v : top;
		}
		if (top > m->peak)
			m->peak = top;
		/* interpolate between b[j] and b[j + 1] for j = TP_HALF .. TP_HALF + n - 1, by blocks */
		for (i = 0; i < n; i += TP_BLOCK) {
			int e = i + TP_BLOCK < n ? i + TP_BLOCK : n, j;
			float bm = 0, best = (float)m->peak;
			for (j = i; j < e + TP_TAPS - 1; j++) {
				float v = fabsf(b[j]);
				bm = v > bm ? v : bm;
			}
			if (bm * m->gain <= best)
				continue;
			for (j = i; j < e; j++) {
				for (p = 0; p < 3; p++) {
					float y = 0;
					for (k = 0; k < TP_TAPS; k++)
						y += m->h[p][k] * b[j + k];
					y = fabsf(y);
					best = y > best ? y : best;
				}
			}
			m->peak = best;
		}
		memmove(b, b + n, (TP_TAPS - 1) * sizeof(*b));
	}
	return LV_OK;
}

/*
 * A bounded hand-off of pointers from one thread to another: the producer puts (waiting while it is
 * full), the consumer takes (waiting while it is empty).  The producer ends it when it has no more,
 * the consumer stops it when it wants no more; what either wrote before that call is the other's to
 * read after it sees the end or the stop.
 */
#define HANDOFF_MAX 64

typedef struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void *q[HANDOFF_MAX];
	int cap, head, count, ended, stopped; /* guarded by mu */
} handoff;

static int handoff_init(handoff *h, int cap)
{
	memset(h->q, 0, sizeof(h->q));
	h->cap = cap < 1 ? 1 : cap > HANDOFF_MAX ? HANDOFF_MAX : cap;
	h->head = h->count = h->ended = h->stopped = 0;
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot create a mutex");
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		return lv_error_set(LV_EINTERNAL, "audio: cannot create a condition variable");
	}
	return LV_OK;
}

/* 1: handed over; 0: the consumer stopped (the item stays the caller's). */
static int handoff_put(handoff *h, void *item)
{
	int put;
	pthread_mutex_lock(&h->mu);
	while (h->count == h->cap && !h->stopped)
		pthread_cond_wait(&h->cv, &h->mu);
	put = !h->stopped;
	if (put) {
		h->q[(h->head + h->count) % h->cap] = item;
		h->count++;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return put;
}

/* 1: *item taken; 0: the producer ended and everything was taken; -1: stopped. */
static int handoff_take(handoff *h, void **item)
{
	int r;
	*item = NULL;
	pthread_mutex_lock(&h->mu);
	while (h->count == 0 && !h->ended && !h->stopped)
		pthread_cond_wait(&h->cv, &h->mu);
	if (h->stopped) {
		r = -1;
	} else if (h->count > 0) {
		*item = h->q[h->head];
		h->head = (h->head + 1) % h->cap;
		h->count--;
		pthread_cond_broadcast(&h->cv);
		r = 1;
	} else {
		r = 0;
	}
	pthread_mutex_unlock(&h->mu);
	return r;
}

static void handoff_mark(handoff *h, int stop)
{
	pthread_mutex_lock(&h->mu);
	if (stop)
		h->stopped = 1;
	else
		h->ended = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* Once both threads are done with it: free what was never taken. */
static void handoff_destroy(handoff *h, void (*free_item)(void *))
{
	while (h->count > 0) {
		free_item(h->q[h->head]);
		h->head = (h->head + 1) % h->cap;
		h->count--;
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
}

static void free_packet(void *p)
{
	AVPacket *pkt = p;
	av_packet_free(&pkt);
}

static void free_frame(void *p)
{
	AVFrame *f = p;
	av_frame_free(&f);
}

/* Encoded packets waiting for the muxer: the encoder thread stays at most this many ahead. */
#define AQ_CAP 64

/*
 * The final pass without a limiter is the mix file times one gain: read straight from the WAV this
 * composer wrote (48 kHz stereo float, exactly the film's length), scaled and split into the encoder's
 * planar frames, with no filter graph between the file and the encoder.
 */
typedef struct mix_reader {
	AVFormatContext *fmt;
	AVPacket *pkt;
	int pos;      /* sample frames of pkt already taken */
	float gain;   /* linear */
	int64_t left; /* sample frames still to deliver */
} mix_reader;

/*
 * One AAC encoder of the final pass and what feeds it: the mix file (in) or the final graph (sink).
 * It keeps the packets with keep_from <= pts < keep_to and hands them over (out) or lists them.
 */
typedef struct aenc {
	mix_reader in; /* used when in.fmt is open, instead of sink */
	AVFilterContext *sink;
	AVCodecContext *enc;
	AVFrame *frame;
	AVPacket *pkt;
	int64_t next_pts;          /* of the next frame sent, in samples of the film */
	int64_t keep_from, keep_to;
	handoff *out;              /* NULL: kept packets go to list */
	AVPacket **list;
	size_t n, cap;
	const atomic_int *cancel;  /* set when the muxer wants no more */
	pthread_t thread;
	int started, rc;
	char msg[512];
} aenc;

struct lv_audio {
	AVFilterGraph *g;
	/* [0]: the whole track, or its first half; [1] (when halves): the second half, on a thread of its own */
	aenc e[2];
	int halves;
	int64_t seam; /* halves: the first sample the second half's packets carry */
	int64_t total;
	char *stems[BR_FILES];
	double ducking_db;
	/* The final pass runs on its own thread (the muxer copies the video meanwhile); packets pass
	 * through a bounded hand-off, which the encoder thread ends after writing rc and msg. */
	pthread_t thread;
	int started;
	atomic_int cancel;
	handoff packets;
	int rc;
	char msg[1024];
	AVPacket *front; /* taken from the ring, not yet emitted (its pts was past `until`) */
};

static int mk(abuild *b, AVFilterContext **out, const char *name, const char *args)
{
	char inst[48], eb[AV_ERROR_MAX_STRING_SIZE];
	const AVFilter *f = avfilter_get_by_name(name);
	int err;
	if (!f)
		return lv_error_set(LV_EINTERNAL, "audio: this FFmpeg has no %s filter", name);
	snprintf(inst, sizeof(inst), "%s_%d", name, b->uid++);
	err = avfilter_graph_create_filter(out, f, inst, args, NULL, b->g);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot create %s=%s: %s", name, args ? args : "",
		                    lv_av_err(eb, err));
	return LV_OK;
}

static int lnk(const aend *from, AVFilterContext *to, unsigned in)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avfilter_link(from->f, from->pad, to, in);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot link %s to %s: %s", from->f->name, to->name,
		                    lv_av_err(eb, err));
	return LV_OK;
}

/* Append a filter with one input to the chain ending at t. */
static int chain(abuild *b, aend *t, const char *name, const char *args)
{
	AVFilterContext *f;
	int rc = mk(b, &f, name, args);
	if (rc == LV_OK)
		rc = lnk(t, f, 0);
	if (rc == LV_OK) {
		t->f = f;
		t->pad = 0;
	}
	return rc;
}

/* A file's audio decoded by amovie, as 48 kHz stereo float with timestamps from its sample count. */
static int source(abuild *b, aend *t, const char *path, int loop, const char *what, size_t idx)
{
	const AVFilter *mv = avfilter_get_by_name("amovie");
	AVFilterContext *f;
	char inst[48], eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc;
	if (!mv)
		return lv_error_set(LV_EINTERNAL, "audio: this FFmpeg has no amovie filter");
	snprintf(inst, sizeof(inst), "src_%d", b->uid++);
	f = avfilter_graph_alloc_filter(b->g, mv, inst);
	if (!f)
		return lv_error_nomem();
	err = av_opt_set(f->priv, "filename", path, 0);
	if (err >= 0)
		err = av_opt_set(f->priv, "streams", "da", 0);
	if (err >= 0 && loop)
		err = av_opt_set_int(f->priv, "loop", 0, 0); /* 0: forever; trimmed to the film below */
	if (err >= 0)
		err = avfilter_init_str(f, NULL);
	if (err < 0) {
		if (idx != (size_t)-1)
			return lv_error_set(LV_EIO, "%s %zu (%s): cannot read its audio: %s", what, idx, path,
			                    lv_av_err(eb, err));
		return lv_error_set(LV_EIO, "%s (%s): cannot read its audio: %s", what, path, lv_av_err(eb, err));
	}
	t->f = f;
	t->pad = 0;
	rc = chain(b, t, "asetpts", "N/SR/TB");
	if (rc == LV_OK)
		rc = chain(b, t, "aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo");
	return rc;
}

static int64_t frame_to_samples(const lv_video_plan *plan, int64_t frame)
{
	return av_rescale(frame, (int64_t)LV_AUDIO_RATE * plan->fps.den, plan->fps.num);
}

/* Exactly n samples: cut what is longer, pad what is shorter. */
static int fit_length(abuild *b, aend *t, int64_t n)
{
	char a[64];
	int rc;
	snprintf(a, sizeof(a), "end_sample=%lld", (long long)n);
	rc = chain(b, t, "atrim", a);
	snprintf(a, sizeof(a), "whole_len=%lld", (long long)n);
	if (rc == LV_OK)
		rc = chain(b, t, "apad", a);
	return rc;
}

/* Mix the ends (normalize=0: a plain sum) into *out. */
static int sum(abuild *b, aend *out, aend *ins, size_t n)
{
	AVFilterContext *mix;
	char a[96];
	size_t i;
	int rc;
	if (n == 1) {
		*out = ins[0];
		return LV_OK;
	}
	snprintf(a, sizeof(a), "inputs=%zu:normalize=0:duration=longest:dropout_transition=0", n);
	rc = mk(b, &mix, "amix", a);
	for (i = 0; i < n && rc == LV_OK; i++)
		rc = lnk(&ins[i], mix, (unsigned)i);
	out->f = mix;
	out->pad = 0;
	return rc;
}

static int64_t voice_start(const lv_compose_job *job, size_t i)
{
	return llround(job->voices[i].start * LV_AUDIO_RATE);
}

/*
 * The narration: voices that follow one another (each known to end, by its file's duration plus a
 * margin, before the next starts) are strung into one chain, each cut or padded to the distance to
 * the next start and concatenated, and the chain is delayed to its first start; only chains that
 * overlap are mixed.  The samples are the same as delaying every voice to its start and mixing them
 * all, but the mix no longer adds up every voice's leading silence (n voices over a film of length T
 * cost about T, not n * T / 2).
 */
static int voices_branch(abuild *b, aend *out)
{
	const lv_compose_job *job = b->job;
	size_t n = job->n_voices, i, j, k, n_chains = 0;
	size_t *order = lv_calloc(n, sizeof(*order)), *chain_of = lv_calloc(n, sizeof(*chain_of));
	int64_t *chain_end = lv_calloc(n, sizeof(*chain_end));
	aend *ins = lv_calloc(n, sizeof(*ins)), *parts = lv_calloc(n, sizeof(*parts));
	int rc = order && chain_of && chain_end && ins && parts ? LV_OK : LV_ENOMEM;
	for (i = 0; i < n && rc == LV_OK; i++) { /* by start (insertion: stable, n is small) */
		for (j = i; j > 0 && voice_start(job, order[j - 1]) > voice_start(job, i); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (k = 0; k < n && rc == LV_OK; k++) {
		size_t v = order[k];
		int64_t st = voice_start(job, v), dur = b->voice_len ? b->voice_len[v] : -1;
		for (j = 0; j < n_chains; j++)
			if (chain_end[j] >= 0 && chain_end[j] + VOICE_MARGIN <= st)
				break;
		if (j == n_chains)
			n_chains++;
		chain_of[v] = j;
		chain_end[j] = dur >= 0 ? st + dur : -1; /* -1: length unknown, nothing follows it */
	}
	for (j = 0; j < n_chains && rc == LV_OK; j++) {
		size_t np = 0;
		int64_t first = -1;
		for (k = 0; k < n && rc == LV_OK; k++) {
			size_t v = order[k], nx;
			if (chain_of[v] != j)
				continue;
			if (first < 0)
				first = voice_start(job, v);
			rc = source(b, &parts[np], job->voices[v].path, 0, "voice", v);
			for (nx = k + 1; nx < n && chain_of[order[nx]] != j; nx++)
				;
			if (rc == LV_OK && nx < n) /* up to the next voice of the chain (only silence is cut) */
				rc = fit_length(b, &parts[np], voice_start(job, order[nx]) - voice_start(job, v));
			np++;
		}
		if (rc == LV_OK && np > 1) {
			AVFilterContext *cat = NULL;
			char a[64];
			snprintf(a, sizeof(a), "n=%zu:v=0:a=1", np);
			rc = mk(b, &cat, "concat", a);
			for (k = 0; k < np && rc == LV_OK; k++)
				rc = lnk(&parts[k], cat, (unsigned)k);
			ins[j].f = cat;
			ins[j].pad = 0;
		} else {
			ins[j] = parts[0];
		}
		if (rc == LV_OK && first > 0) {
			char a[64];
			snprintf(a, sizeof(a), "delays=%lldS:all=1", (long long)first);
			rc = chain(b, &ins[j], "adelay", a);
		}
	}
	if (rc == LV_OK)
		rc = sum(b, out, ins, n_chains);
	if (rc == LV_OK)
		rc = fit_length(b, out, b->N);
	free(order);
	free(chain_of);
	free(chain_end);
	free(ins);
	free(parts);
	return rc;
}

static int music_branch(abuild *b, aend *out)
{
	int rc = source(b, out, b->job->music_path, 1, "music", (size_t)-1);
	if (rc == LV_OK)
		rc = fit_length(b, out, b->N);
	return rc;
}

static int segments_branch_raw(abuild *b, aend *out, size_t n_with_audio)
{
	const lv_video_plan *plan = b->plan;
	aend *ins = lv_calloc(n_with_audio, sizeof(*ins));
	size_t i, k = 0;
	char a[64];
	int rc = ins ? LV_OK : LV_ENOMEM;
	for (i = 0; i < plan->n && rc == LV_OK; i++) {
		const lv_seg *s = &plan->segs[i];
		if (!s->has_audio || s->frames <= 0)
			continue;
		rc = source(b, &ins[k], s->path, 0, "segment", s->index);
		if (rc == LV_OK)
			rc = fit_length(b, &ins[k], frame_to_samples(plan, s->frames));
		snprintf(a, sizeof(a), "delays=%lldS:all=1", (long long)frame_to_samples(plan, s->first_frame));
		if (rc == LV_OK)
			rc = chain(b, &ins[k], "adelay", a);
		k++;
	}
	if (rc == LV_OK)
		rc = sum(b, out, ins, k);
	if (rc == LV_OK)
		rc = fit_length(b, out, b->N);
	free(ins);
	return rc;
}

static size_t segments_with_audio(const lv_video_plan *plan)
{
	size_t i, n = 0;
	for (i = 0; i < plan->n; i++)
		n += plan->segs[i].has_audio && plan->segs[i].frames > 0;
	return n;
}

/* A sink; with `meter`, loudness and sample peak by ebur128, and the true peak (`tp`) by tp_meter. */
static int add_sink(abuild *b, aend *t, int meter, int tp, int branch)
{
	AVFilterContext *sink;
	int rc = LV_OK;
	if (meter && !b->piped) /* the sample peak only matters where the true peak does (the mix, or a lone stem) */
		rc = chain(b, t, "ebur128", tp ? "metadata=1:peak=sample" : "metadata=1:peak=none");
	if (rc == LV_OK && (branch >= 0 || tp)) /* stems (and the mix) are written packed; the meter reads it */
		rc = chain(b, t, "aformat", "sample_fmts=flt:sample_rates=48000:channel_layouts=stereo");
	if (rc == LV_OK)
		rc = mk(b, &sink, "abuffersink", NULL);
	if (rc == LV_OK)
		rc = lnk(t, sink, 0);
	if (rc == LV_OK) {
		b->sink_branch[b->n_sinks] = branch;
		b->sink_tp[b->n_sinks] = tp;
		b->sinks[b->n_sinks++] = sink;
	}
	return rc;
}

/* A rendered stem read back: already 48 kHz stereo and exactly the film's length. */
static int stem_source(abuild *b, aend *t, const char *path)
{
	int rc = source(b, t, path, 0, "audio stem", (size_t)-1);
	if (rc == LV_OK)
		rc = fit_length(b, t, b->N);
	return rc;
}

static int volume(abuild *b, aend *t, double db)
{
	char a[64];
	if (db == 0)
		return LV_OK;
	snprintf(a, sizeof(a), "volume=%.4fdB:precision=float", db);
	return chain(b, t, "volume", a);
}

/* The stems pass: each present input on its own chain, metered, to its own sink. */
static int build_stems(abuild *b)
{
	size_t n_seg = segments_with_audio(b->plan);
	aend t;
	int rc = LV_OK, i, n = 0;
	int peak;
	for (i = 0; i < BR_N; i++)
		n += b->stems[i] != NULL;
	/* a single input is the mix: its true peak is needed too */
	peak = n == 1;
	if (b->job->n_voices > 0 && (b->only < 0 || b->only == BR_VOICE)) {
		rc = voices_branch(b, &t);
		if (rc == LV_OK)
			rc = add_sink(b, &t, 1, peak, BR_VOICE);
	}
	if (rc == LV_OK && b->stems[BR_MUSIC] && (b->only < 0 || b->only == BR_MUSIC)) {
		rc = music_branch(b, &t);
		if (rc == LV_OK)
			rc = add_sink(b, &t, 1, peak, BR_MUSIC);
	}
	if (rc == LV_OK && n_seg > 0 && (b->only < 0 || b->only == BR_SEGS)) {
		rc = segments_branch_raw(b, &t, n_seg);
		if (rc == LV_OK)
			rc = add_sink(b, &t, 1, peak, BR_SEGS);
	}
	return rc;
}

/* One of the ducking meter's sinks at the end of t. */
static int duck_sink(abuild *b, aend *t, int s)
{
	int rc = chain(b, t, "aformat", DUCK_FMT);
	if (rc == LV_OK)
		rc = mk(b, &b->duck_sinks[s], "abuffersink", NULL);
	if (rc == LV_OK)
		rc = lnk(t, b->duck_sinks[s], 0);
	return rc;
}

/* The mix of the stems, then the pass's tail. */
static int build_mix(abuild *b, int mode, const amix_levels *lv)
{
	aend branches[BR_N], voice = { NULL, 0 }, music = { NULL, 0 }, t = { NULL, 0 };
	size_t n = 0;
	char a[160];
	int rc = LV_OK;

	if (b->stems[BR_VOICE]) {
		rc = stem_source(b, &voice, b->stems[BR_VOICE]);
		if (rc == LV_OK && b->stems[BR_MUSIC]) {
			AVFilterContext *split = NULL, *duck = NULL;
			aend sc;
			AVFilterContext *msplit = NULL, *dsplit = NULL;
			int meter = mode == AM_MIX;
			rc = mk(b, &split, "asplit", meter ? "outputs=3" : "outputs=2");
			if (rc == LV_OK)
				rc = lnk(&voice, split, 0);
			voice.f = split;
			voice.pad = 0;
			sc.f = split;
			sc.pad = 1;
			snprintf(a, sizeof(a), "volume=%.6f:precision=float", lv->sc_gain);
			if (rc == LV_OK)
				rc = chain(b, &sc, "volume", a);
			if (rc == LV_OK)
				rc = stem_source(b, &music, b->stems[BR_MUSIC]);
			if (rc == LV_OK)
				rc = volume(b, &music, lv->music_db);
			if (rc == LV_OK && meter) { /* the ducking meter: narration, music before, music after */
				aend m0;
				rc = mk(b, &msplit, "asplit", "outputs=2");
				if (rc == LV_OK)
					rc = lnk(&music, msplit, 0);
				m0.f = split;
				m0.pad = 2;
				if (rc == LV_OK)
					rc = duck_sink(b, &m0, 0);
				m0.f = msplit;
				m0.pad = 1;
				if (rc == LV_OK)
					rc = duck_sink(b, &m0, 1);
				music.f = msplit;
				music.pad = 0;
			}
			if (rc == LV_OK)
				rc = mk(b, &duck, "sidechaincompress",
				        "threshold=0.03:ratio=6:attack=30:release=450:knee=2.8:detection=rms:link=maximum");
			if (rc == LV_OK)
				rc = lnk(&music, duck, 0);
			if (rc == LV_OK)
				rc = lnk(&sc, duck, 1);
			music.f = duck;
			music.pad = 0;
			if (rc == LV_OK && meter) {
				aend m0 = { NULL, 0 };
				rc = mk(b, &dsplit, "asplit", "outputs=2");
				if (rc == LV_OK)
					rc = lnk(&music, dsplit, 0);
				m0.f = dsplit;
				m0.pad = 1;
				if (rc == LV_OK)
					rc = duck_sink(b, &m0, 2);
				music.f = dsplit;
				music.pad = 0;
			}
		}
		if (rc == LV_OK)
			branches[n++] = voice;
		if (rc == LV_OK && b->stems[BR_MUSIC])
			branches[n++] = music;
	} else if (b->stems[BR_MUSIC]) {
		rc = stem_source(b, &music, b->stems[BR_MUSIC]);
		if (rc == LV_OK)
			rc = volume(b, &music, lv->music_db);
		if (rc == LV_OK)
			branches[n++] = music;
	}
	if (rc == LV_OK && b->stems[BR_SEGS]) {
		rc = stem_source(b, &branches[n], b->stems[BR_SEGS]);
		if (rc == LV_OK)
			rc = volume(b, &branches[n], b->job->segment_audio_db);
		if (rc == LV_OK)
			n++;
	}
	if (rc != LV_OK)
		return rc;
	if (n == 0) {
		rc = mk(b, &t.f, "anullsrc", "channel_layout=stereo:sample_rate=48000");
		if (rc == LV_OK)
			rc = chain(b, &t, "aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo");
		if (rc == LV_OK)
			rc = fit_length(b, &t, b->N);
	} else {
		rc = sum(b, &t, branches, n);
	}
	if (rc != LV_OK)
		return rc;
	if (mode == AM_MIX) /* rendered once to the mix file while measured */
		return add_sink(b, &t, 1, 1, BR_MIX);
	snprintf(a, sizeof(a), "volume=%.4fdB:precision=float", lv->gain_db);
	rc = chain(b, &t, "volume", a);
	snprintf(a, sizeof(a), "limit=%.6f:attack=5:release=60:level=0:latency=1", lv->limit);
	if (rc == LV_OK)
		rc = chain(b, &t, "alimiter", a);
	if (rc == LV_OK)
		rc = fit_length(b, &t, b->N); /* the limiter's latency compensation may shift the end */
	if (rc == LV_OK && mode == AM_LIMITED)
		rc = add_sink(b, &t, 1, 1, -1);
	if (rc == LV_OK && mode == AM_ENCODE) {
		rc = chain(b, &t, "aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo");
		if (rc == LV_OK)
			rc = add_sink(b, &t, 0, 0, -1);
	}
	return rc;
}

/* The passes after the analysis read the rendered mix: gain is linear, so its loudness and peaks
 * follow from the mix's measurement; only a limiter (when the peaks demand one) changes them. */
static int build_final(abuild *b, int mode, const amix_levels *lv)
{
	aend t;
	char a[96];
	int rc = stem_source(b, &t, b->mix);
	if (rc == LV_OK)
		rc = volume(b, &t, lv->mix_db + lv->gain_db);
	if (rc == LV_OK && lv->limiter) {
		snprintf(a, sizeof(a), "limit=%.6f:attack=5:release=60:level=0:latency=1", lv->limit);
		rc = chain(b, &t, "alimiter", a);
		if (rc == LV_OK)
			rc = fit_length(b, &t, b->N); /* the limiter's latency compensation may shift the end */
	}
	if (rc == LV_OK && mode == AM_LIMITED)
		rc = add_sink(b, &t, 1, 1, -1);
	if (rc == LV_OK && mode == AM_ENCODE) {
		rc = chain(b, &t, "aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo");
		if (rc == LV_OK)
			rc = add_sink(b, &t, 0, 0, -1);
	}
	return rc;
}

static int build(abuild *b, int mode, const amix_levels *lv)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err, rc;
	b->g = avfilter_graph_alloc();
	if (!b->g)
		return lv_error_nomem();
	b->g->nb_threads = 1;
	b->n_sinks = 0;
	memset(b->duck_sinks, 0, sizeof(b->duck_sinks));
	b->piped = mode == AM_MIX || mode == AM_LIMITED;
	rc = mode == AM_STEMS ? build_stems(b) : mode != AM_MIX && b->mix ? build_final(b, mode, lv) : build_mix(b, mode, lv);
	if (rc != LV_OK)
		return rc;
	err = avfilter_graph_config(b->g, NULL);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot configure the mix: %s", lv_av_err(eb, err));
	return LV_OK;
}

typedef struct pass_tick {
	lv_audio_tick_fn fn;
	void *ctx;
	int index, planned;
	atomic_int *cancel; /* set when fn cancels; passes on other threads stop when they see it */
} pass_tick;

/* A 48 kHz stereo float WAV file written frame by frame. */
typedef struct wav_writer {
	AVFormatContext *fmt;
	AVPacket *pkt;
	int64_t pts;
	const char *path;
} wav_writer;

static int wav_open(wav_writer *w, const char *path)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	AVStream *st;
	int err;
	memset(w, 0, sizeof(*w));
	w->path = path;
	err = avformat_alloc_output_context2(&w->fmt, NULL, "wav", path);
	if (err < 0 || !w->fmt)
		return lv_error_set(LV_EINTERNAL, "audio: no WAV muxer: %s", lv_av_err(eb, err));
	w->pkt = av_packet_alloc();
	st = avformat_new_stream(w->fmt, NULL);
	if (!w->pkt || !st)
		return lv_error_nomem();
	st->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
	st->codecpar->codec_id = AV_CODEC_ID_PCM_F32LE;
	st->codecpar->format = AV_SAMPLE_FMT_FLT;
	st->codecpar->sample_rate = LV_AUDIO_RATE;
	av_channel_layout_default(&st->codecpar->ch_layout, 2);
	st->codecpar->bits_per_coded_sample = 32;
	st->codecpar->block_align = 8;
	st->time_base = (AVRational){ 1, LV_AUDIO_RATE };
	err = avio_open(&w->fmt->pb, path, AVIO_FLAG_WRITE);
	if (err >= 0)
		err = avformat_write_header(w->fmt, NULL);
	if (err < 0)
		return lv_error_set(LV_EIO, "audio: cannot write %s: %s", path, lv_av_err(eb, err));
	return LV_OK;
}

static int wav_write(wav_writer *w, const AVFrame *f)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int size = f->nb_samples * 8, err;
	if (av_new_packet(w->pkt, size) < 0)
		return lv_error_nomem();
	memcpy(w->pkt->data, f->data[0], (size_t)size);
	w->pkt->pts = w->pkt->dts = w->pts;
	w->pkt->duration = f->nb_samples;
	w->pts += f->nb_samples;
	err = av_write_frame(w->fmt, w->pkt);
	av_packet_unref(w->pkt);
	if (err < 0)
		return lv_error_set(LV_EIO, "audio: cannot write %s: %s", w->path, lv_av_err(eb, err));
	return LV_OK;
}

static int wav_close(wav_writer *w, int ok)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int rc = LV_OK;
	if (w->fmt) {
		int err = ok ? av_write_trailer(w->fmt) : 0;
		if (err < 0)
			rc = lv_error_set(LV_EIO, "audio: cannot finish %s: %s", w->path, lv_av_err(eb, err));
		if (w->fmt->pb)
			avio_closep(&w->fmt->pb);
		avformat_free_context(w->fmt);
		w->fmt = NULL;
	}
	av_packet_free(&w->pkt);
	return rc;
}

/* Pull a sink to its end, reading the ebur128 metadata, writing the frames to `w` when given. */
/* Take what the ducking meter's sinks hold; with `all`, pull them to their end. */
static int drain_side(AVFilterContext *const *side, duck_acc *d, AVFrame *f, int all)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = 0, rc = LV_OK, s;
	for (s = 0; side && s < 3 && rc == LV_OK; s++) {
		if (!side[s])
			continue;
		while (rc == LV_OK &&
		       (err = av_buffersink_get_frame_flags(side[s], f, all ? 0 : AV_BUFFERSINK_FLAG_NO_REQUEST)) >= 0) {
			rc = duck_add(d, f, s);
			av_frame_unref(f);
		}
		if (rc == LV_OK && err != AVERROR(EAGAIN) && err != AVERROR_EOF)
			rc = lv_error_set(LV_EIO, "audio: ducking meter failed: %s", lv_av_err(eb, err));
	}
	return rc;
}

static int drain(double *I, double *peak, double *tpeak, AVFilterContext *sink, int64_t N, const pass_tick *pt,
                 wav_writer *w, AVFilterContext *const *side, duck_acc *d, tp_meter *tp)
{
	AVFrame *f = av_frame_alloc();
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int64_t got = 0, frames = 0;
	int rc = LV_OK;
	if (!f)
		return lv_error_nomem();
	*I = -70.0;
	*peak = 0;
	*tpeak = 0;
	for (;;) {
		int err = av_buffersink_get_frame(sink, f);
		if (err == AVERROR_EOF)
			break;
		if (err < 0) {
			rc = lv_error_set(LV_EIO, "audio: mixing failed: %s", lv_av_err(eb, err));
			break;
		}
		got += f->nb_samples;
		lv_r128_frame(f, I, peak, tpeak);
		if (tp)
			rc = tp_add(tp, f);
		if (w && rc == LV_OK)
			rc = wav_write(w, f);
		av_frame_unref(f);
		if (rc == LV_OK)
			rc = drain_side(side, d, f, 0);
		if (rc != LV_OK)
			break;
		if (++frames % 64 == 0 &&
		    ((pt->cancel && atomic_load(pt->cancel)) ||
		     (pt->fn && pt->fn(pt->ctx, (pt->index + (double)got / (double)(N > 0 ? N : 1)) / pt->planned)))) {
			if (pt->cancel)
				atomic_store(pt->cancel, 1);
			rc = lv_error_set(LV_ECANCELED, "compose: canceled");
			break;
		}
	}
	if (rc == LV_OK)
		rc = drain_side(side, d, f, 1);
	if (tp && tp->peak > *tpeak)
		*tpeak = tp->peak;
	av_frame_free(&f);
	return rc;
}

/*
 * The measuring end of the mix and limited passes on a thread of its own: the graph's thread hands
 * each frame of the sink through a bounded queue to this one, which meters its loudness and sample
 * peak (an ebur128 of its own), its true peak (tp_meter) and writes it to the mix file.  The two
 * halves of the pass then use both cores; the queue keeps memory bounded.
 */
#define MP_CAP 16

typedef struct meter_pipe {
	pthread_t thread;
	int started;
	handoff frames; /* stopped by the consumer when it fails, after it wrote rc and msg */
	int rc;         /* the consumer's status, its message in msg */
	char msg[1024];
	AVFilterGraph *g;
	AVFilterContext *src, *sink;
	AVFrame *out;
	wav_writer *w; /* NULL: nothing written */
	tp_meter *tp;
	double I, peak, tpeak;
} meter_pipe;

static int mp_pull(meter_pipe *mp)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	while ((err = av_buffersink_get_frame(mp->sink, mp->out)) >= 0) {
		lv_r128_frame(mp->out, &mp->I, &mp->peak, NULL);
		av_frame_unref(mp->out);
	}
	if (err != AVERROR(EAGAIN) && err != AVERROR_EOF)
		return lv_error_set(LV_EIO, "audio: loudness meter failed: %s", lv_av_err(eb, err));
	return LV_OK;
}

/* One frame of the pass (packed float stereo), kept by the caller; NULL: the end. */
static int mp_consume(meter_pipe *mp, AVFrame *f)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int rc, err = av_buffersrc_add_frame_flags(mp->src, f, f ? AV_BUFFERSRC_FLAG_KEEP_REF : 0);
	if (err < 0)
		return lv_error_set(LV_EIO, "audio: loudness meter failed: %s", lv_av_err(eb, err));
	rc = mp_pull(mp);
	if (rc == LV_OK && f && mp->tp)
		rc = tp_add(mp->tp, f);
	if (rc == LV_OK && f && mp->w)
		rc = wav_write(mp->w, f);
	return rc;
}

static void *mp_main(void *arg)
{
	meter_pipe *mp = arg;
	int rc = LV_OK;
	(void)lv_fpu_flush_denormals(); /* this thread's own register; it ends with the thread */
	for (;;) {
		void *item;
		AVFrame *f;
		int got = handoff_take(&mp->frames, &item);
		if (got <= 0) {
			if (got == 0) /* the end, every frame taken */
				rc = mp_consume(mp, NULL);
			break;
		}
		f = item;
		rc = mp_consume(mp, f);
		av_frame_free(&f);
		if (rc != LV_OK)
			break;
	}
	mp->rc = rc;
	if (rc != LV_OK) {
		snprintf(mp->msg, sizeof(mp->msg), "%s", lv_error_last()->message);
		handoff_mark(&mp->frames, 1); /* the producer stops handing frames */
	}
	return NULL;
}

static int mp_open(meter_pipe *mp, AVRational tb, wav_writer *w, tp_meter *tp)
{
	const AVFilter *ab = avfilter_get_by_name("abuffer"), *eb128 = avfilter_get_by_name("ebur128"),
	               *sink = avfilter_get_by_name("abuffersink");
	AVFilterContext *meter = NULL;
	char args[160], eb[AV_ERROR_MAX_STRING_SIZE];
	int err;
	memset(mp, 0, sizeof(*mp));
	mp->w = w;
	mp->tp = tp;
	mp->I = -70.0;
	if (!ab || !eb128 || !sink)
		return lv_error_set(LV_EINTERNAL, "audio: this FFmpeg lacks abuffer, ebur128 or abuffersink");
	mp->g = avfilter_graph_alloc();
	mp->out = av_frame_alloc();
	if (!mp->g || !mp->out)
		return lv_error_nomem();
	mp->g->nb_threads = 1;
	snprintf(args, sizeof(args), "time_base=%d/%d:sample_rate=%d:sample_fmt=flt:channel_layout=stereo", tb.num,
	         tb.den, LV_AUDIO_RATE);
	err = avfilter_graph_create_filter(&mp->src, ab, "in", args, NULL, mp->g);
	if (err >= 0)
		err = avfilter_graph_create_filter(&meter, eb128, "meter", "metadata=1:peak=sample", NULL, mp->g);
	if (err >= 0)
		err = avfilter_graph_create_filter(&mp->sink, sink, "out", NULL, NULL, mp->g);
	if (err >= 0)
		err = avfilter_link(mp->src, 0, meter, 0);
	if (err >= 0)
		err = avfilter_link(meter, 0, mp->sink, 0);
	if (err >= 0)
		err = avfilter_graph_config(mp->g, NULL);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot set up the loudness meter: %s", lv_av_err(eb, err));
	if ((err = handoff_init(&mp->frames, MP_CAP)) != LV_OK)
		return err;
	mp->started = pthread_create(&mp->thread, NULL, mp_main, mp) == 0; /* without: metered on this thread */
	if (!mp->started)
		handoff_destroy(&mp->frames, free_frame);
	return LV_OK;
}

/* Hand over a frame (its reference is taken, f is left blank); an LV status (the meter's failure). */
static int mp_push(meter_pipe *mp, AVFrame *f)
{
	AVFrame *c;
	if (!mp->started) {
		int rc = mp_consume(mp, f);
		av_frame_unref(f);
		return rc;
	}
	c = av_frame_alloc();
	if (!c)
		return lv_error_nomem();
	av_frame_move_ref(c, f);
	if (!handoff_put(&mp->frames, c)) {
		av_frame_free(&c);
		return lv_error_set(mp->rc != LV_OK ? mp->rc : LV_EIO, "%s", mp->msg);
	}
	return LV_OK;
}

/* The end of the pass (ok) or its abandonment; frees the pipe; the meter's status when ok. */
static int mp_close(meter_pipe *mp, int ok)
{
	int rc = LV_OK;
	if (mp->started) {
		handoff_mark(&mp->frames, !ok);
		pthread_join(mp->thread, NULL);
		handoff_destroy(&mp->frames, free_frame);
		if (ok && mp->rc != LV_OK)
			rc = lv_error_set(mp->rc, "%s", mp->msg);
	} else if (ok && mp->g) {
		rc = mp_consume(mp, NULL);
	}
	if (mp->tp && mp->tp->peak > mp->tpeak)
		mp->tpeak = mp->tp->peak;
	avfilter_graph_free(&mp->g);
	av_frame_free(&mp->out);
	return rc;
}

/* drain() with the measuring (and the writing to w) on a meter_pipe's thread. */
static int drain_piped(double *I, double *peak, double *tpeak, AVFilterContext *sink, int64_t N, const pass_tick *pt,
                       wav_writer *w, AVFilterContext *const *side, duck_acc *d, tp_meter *tp)
{
	meter_pipe mp;
	AVFrame *f = av_frame_alloc();
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int64_t got = 0, frames = 0;
	int rc = f ? mp_open(&mp, av_buffersink_get_time_base(sink), w, tp) : lv_error_nomem();
	while (rc == LV_OK) {
		int err = av_buffersink_get_frame(sink, f);
		if (err == AVERROR_EOF)
			break;
		if (err < 0) {
			rc = lv_error_set(LV_EIO, "audio: mixing failed: %s", lv_av_err(eb, err));
			break;
		}
		got += f->nb_samples;
		rc = mp_push(&mp, f);
		if (rc == LV_OK)
			rc = drain_side(side, d, f, 0);
		if (rc == LV_OK && ++frames % 64 == 0 &&
		    ((pt->cancel && atomic_load(pt->cancel)) ||
		     (pt->fn && pt->fn(pt->ctx, (pt->index + (double)got / (double)(N > 0 ? N : 1)) / pt->planned))))
			rc = lv_error_set(LV_ECANCELED, "compose: canceled");
	}
	if (rc == LV_OK)
		rc = drain_side(side, d, f, 1);
	if (f) {
		int rc2 = mp_close(&mp, rc == LV_OK);
		if (rc == LV_OK)
			rc = rc2;
		*I = mp.I;
		*peak = mp.peak;
		*tpeak = mp.tpeak;
	}
	av_frame_free(&f);
	return rc;
}

typedef struct measured {
	double I[BR_N], peak[BR_N], tpeak[BR_N]; /* LUFS, sample and true peak (linear; 0 if not measured) */
	double ducking_db;                       /* the mix pass with narration and music; else NAN */
} measured;

/* CPU time of the calling thread (for the debug log). */
static int64_t thread_cpu_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One pass over a graph; in the stems pass every sink's output is written to its stem file. */
static int measure(measured *m, const abuild *proto, int mode, const amix_levels *lv, const pass_tick *pt)
{
	abuild b = *proto;
	int64_t t0 = lv_mono_ms(), c0 = thread_cpu_ms();
	int i, rc;
	b.g = NULL;
	rc = build(&b, mode, lv);
	for (i = 0; rc == LV_OK && i < b.n_sinks; i++) {
		int br = b.sink_branch[i];
		int slot = br >= 0 && br < BR_N ? br : 0;
		tp_meter tp;
		tp_init(&tp);
		if (br >= 0) {
			wav_writer w;
			duck_acc d;
			memset(&d, 0, sizeof(d));
			rc = wav_open(&w, b.stems[br]);
			if (rc == LV_OK)
				rc = (b.piped ? drain_piped : drain)(&m->I[slot], &m->peak[slot], &m->tpeak[slot], b.sinks[i], b.N,
				                                     pt, &w, b.duck_sinks[0] ? b.duck_sinks : NULL, &d,
				                                     b.sink_tp[i] ? &tp : NULL);
			if (rc == LV_OK && b.duck_sinks[0])
				m->ducking_db = duck_depth(&d);
			free(d.blk);
			if (wav_close(&w, rc == LV_OK) != LV_OK && rc == LV_OK)
				rc = LV_EIO;
		} else {
			rc = (b.piped ? drain_piped : drain)(&m->I[slot], &m->peak[slot], &m->tpeak[slot], b.sinks[i], b.N, pt,
			                                     NULL, NULL, NULL, b.sink_tp[i] ? &tp : NULL);
		}
		tp_free(&tp);
	}
	avfilter_graph_free(&b.g);
	LV_DEBUG("audio: pass %d (branch %d) took %lld ms, %lld ms CPU", mode, b.only, (long long)(lv_mono_ms() - t0),
	         (long long)(thread_cpu_ms() - c0));
	return rc;
}

/*
 * The stems pass on two threads: each branch (voices, music, segments) is a graph of its own, and
 * the calling thread and one helper take the branches in turn.  Only the calling thread reports
 * progress; a cancel seen there stops the helper too.
 */
typedef struct stems_run {
	const abuild *proto;
	measured *m;
	const amix_levels *lv;
	pthread_mutex_t mu;
	int todo[BR_N], n_todo, next; /* guarded by mu: next */
	int rc;                       /* guarded by mu: the first failure, and its message */
	char msg[1024];
	pass_tick helper_pt;
} stems_run;

static void stems_work(stems_run *r, const pass_tick *pt)
{
	for (;;) {
		abuild b = *r->proto;
		int br, rc;
		pthread_mutex_lock(&r->mu);
		br = r->next < r->n_todo && r->rc == LV_OK ? r->todo[r->next++] : -1;
		pthread_mutex_unlock(&r->mu);
		if (br < 0)
			return;
		b.only = br;
		rc = measure(r->m, &b, AM_STEMS, r->lv, pt);
		if (rc != LV_OK) {
			pthread_mutex_lock(&r->mu);
			if (r->rc == LV_OK) {
				r->rc = rc;
				snprintf(r->msg, sizeof(r->msg), "%s", lv_error_last()->message);
			}
			pthread_mutex_unlock(&r->mu);
			if (pt->cancel)
				atomic_store(pt->cancel, 1); /* the other thread stops too */
			return;
		}
	}
}

static void *stems_helper(void *arg)
{
	stems_run *r = arg;
	(void)lv_fpu_flush_denormals(); /* this thread's own register; it ends with the thread */
	stems_work(r, &r->helper_pt);
	return NULL;
}

static int measure_stems(measured *m, const abuild *proto, const amix_levels *lv, const pass_tick *pt0)
{
	stems_run r;
	pass_tick pt = *pt0;
	atomic_int cancel;
	pthread_t helper;
	int i, started = 0;
	memset(&r, 0, sizeof(r));
	r.proto = proto;
	r.m = m;
	r.lv = lv;
	for (i = 0; i < BR_N; i++)
		if (proto->stems[i])
			r.todo[r.n_todo++] = i;
	if (r.n_todo == 1) /* the only branch: no thread */
		return measure(m, proto, AM_STEMS, lv, pt0);
	atomic_init(&cancel, 0);
	pt.cancel = &cancel;
	r.helper_pt = pt;
	r.helper_pt.fn = NULL;
	if (pthread_mutex_init(&r.mu, NULL) != 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot create a mutex");
	started = pthread_create(&helper, NULL, stems_helper, &r) == 0; /* without: all on this thread */
	stems_work(&r, &pt);
	if (started)
		pthread_join(helper, NULL);
	pthread_mutex_destroy(&r.mu);
	if (r.rc != LV_OK)
		return lv_error_set(r.rc, "%s", r.msg);
	return LV_OK;
}

/* Check the voice and music files up front, so errors name them (amovie's would not). */
static int check_input(const char *path, const char *what, size_t idx, int64_t *len)
{
	AVFormatContext *fmt = NULL;
	char name[64];
	int rc = LV_OK;
	if (idx != (size_t)-1)
		snprintf(name, sizeof(name), "%s %zu", what, idx);
	else
		snprintf(name, sizeof(name), "%s", what);
	if (!path || !*path)
		return lv_error_set(LV_EINVALID, "%s: no file", name);
	if ((rc = lv_av_open_input(&fmt, path, name)) != LV_OK)
		return rc;
	if (len)
		*len = fmt->duration != AV_NOPTS_VALUE && fmt->duration >= 0
		               ? av_rescale(fmt->duration, LV_AUDIO_RATE, AV_TIME_BASE)
		               : -1;
	if (av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0) < 0)
		rc = lv_error_set(LV_EINVALID, "%s (%s): no audio stream", name, path);
	else if (idx == (size_t)-1 && fmt->duration != AV_NOPTS_VALUE && fmt->duration < AV_TIME_BASE / 10)
		rc = lv_error_set(LV_EINVALID, "%s (%s): too short to loop", name, path);
	avformat_close_input(&fmt);
	return rc;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int mix_reader_open(mix_reader *r, const char *path, double gain_db, int64_t total)
{
	const AVCodecParameters *par;
	int rc;
	memset(r, 0, sizeof(*r));
	rc = lv_av_open_input(&r->fmt, path, "audio mix");
	if (rc != LV_OK)
		return rc;
	par = r->fmt->nb_streams == 1 ? r->fmt->streams[0]->codecpar : NULL;
	if (!par || par->codec_id != AV_CODEC_ID_PCM_F32LE || par->ch_layout.nb_channels != 2 ||
	    par->sample_rate != LV_AUDIO_RATE)
		return lv_error_set(LV_EINTERNAL, "audio (%s): the mix is not 48 kHz stereo float", path);
	r->pkt = av_packet_alloc();
	if (!r->pkt)
		return lv_error_nomem();
	r->gain = (float)pow(10.0, gain_db / 20.0);
	r->left = total;
	return LV_OK;
}

/* The next planar frame of up to `size` sample frames, times the gain; 0, AVERROR_EOF or an AVERROR. */
static int mix_reader_frame(mix_reader *r, AVFrame *f, int size)
{
	int n = r->left < size ? (int)r->left : size, i = 0, err;
	float *l, *rt;
	if (n <= 0)
		return AVERROR_EOF;
	f->format = AV_SAMPLE_FMT_FLTP;
	f->nb_samples = n;
	f->sample_rate = LV_AUDIO_RATE;
	av_channel_layout_default(&f->ch_layout, 2);
	err = av_frame_get_buffer(f, 0);
	if (err < 0)
		return err;
	l = (float *)f->data[0];
	rt = (float *)f->data[1];
	while (i < n) {
		const float *x;
		int m, k;
		if (r->pos >= r->pkt->size / 8) {
			av_packet_unref(r->pkt);
			r->pos = 0;
			err = av_read_frame(r->fmt, r->pkt);
			if (err == AVERROR_EOF) { /* shorter than written: silence to the film's end */
				memset(l + i, 0, (size_t)(n - i) * sizeof(*l));
				memset(rt + i, 0, (size_t)(n - i) * sizeof(*rt));
				break;
			}
			if (err < 0)
				return err;
			continue;
		}
		x = (const float *)r->pkt->data + 2 * r->pos;
		m = r->pkt->size / 8 - r->pos;
		if (m > n - i)
			m = n - i;
		for (k = 0; k < m; k++) {
			l[i + k] = x[2 * k] * r->gain;
			rt[i + k] = x[2 * k + 1] * r->gain;
		}
		r->pos += m;
		i += m;
	}
	r->left -= n;
	return 0;
}

static void mix_reader_close(mix_reader *r)
{
	av_packet_free(&r->pkt);
	avformat_close_input(&r->fmt);
}

static int open_encoder(AVCodecContext **out)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
	char eb[AV_ERROR_MAX_STRING_SIZE];
	AVCodecContext *enc;
	int err;
	if (!codec)
		return lv_error_set(LV_EINTERNAL, "audio: no AAC encoder in this FFmpeg");
	enc = *out = avcodec_alloc_context3(codec);
	if (!enc)
		return lv_error_nomem();
	enc->sample_rate = LV_AUDIO_RATE;
	enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	av_channel_layout_default(&enc->ch_layout, 2);
	enc->bit_rate = 160000;
	enc->time_base = (AVRational){ 1, LV_AUDIO_RATE };
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	/*
	 * The "fast" quantizer search: at 80 kbit/s per channel it sounds at least as
	 * good as the default two-loop search and takes less than half the CPU
	 * (the encoder is the largest cost of a stream-copied composition).
	 */
	av_opt_set(enc->priv_data, "aac_coder", "fast", 0);
	err = avcodec_open2(enc, codec, NULL);
	if (err < 0)
		return lv_error_set(LV_EINTERNAL, "audio: cannot open the AAC encoder: %s", lv_av_err(eb, err));
	return LV_OK;
}

static void remove_stems(char **stems)
{
	int i;
	for (i = 0; i < BR_FILES; i++) {
		if (stems[i])
			unlink(stems[i]);
		free(stems[i]);
		stems[i] = NULL;
	}
}

static double db(double linear)
{
	return linear > 0 ? 20.0 * log10(linear) : -144.0;
}

/* The measuring passes: levels for the final graph. */
static int analyse(abuild *b, const pass_tick *pt0, amix_levels *lv)
{
	const lv_compose_job *job = b->job;
	pass_tick pt = *pt0;
	measured m;
	double I = -70, peak = 0, tpeak = 0, ceiling_db = job->true_peak_db - LIMITER_MARGIN_DB;
	double prev_gain = 0, prev_I = -70; /* the limited passes' last gain and loudness */
	int n = 0, i, rc, iter;

	for (i = 0; i < BR_N; i++)
		n += b->stems[i] != NULL;
	lv->music_db = 0;
	lv->sc_gain = 1.0;
	lv->gain_db = 0;
	lv->limit = clampd(pow(10.0, ceiling_db / 20.0), 0.0625, 1.0);
	lv->limiter = 0;
	lv->mix_db = 0;
	lv->ducking_db = NAN;
	if (n == 0)
		return LV_OK; /* a silent track */

	memset(&m, 0, sizeof(m));
	m.ducking_db = NAN;
	rc = measure_stems(&m, b, lv, &pt);
	if (rc != LV_OK)
		return rc;
	if (b->stems[BR_VOICE] && b->stems[BR_MUSIC]) {
		double In = m.I[BR_VOICE], Im = m.I[BR_MUSIC];
		if (In > -69 && Im > -69)
			lv->music_db = clampd(In - MUSIC_UNDER_VOICE_LU - Im, -40, 20);
		if (In > -69)
			lv->sc_gain = clampd(pow(10.0, (SIDECHAIN_LUFS - In) / 20.0), 0.015625, 64);
		LV_DEBUG("audio: voices %.1f LUFS, music %.1f LUFS: music gain %.1f dB", In, Im, lv->music_db);
	}
	if (n == 1) {
		/* one input, no ducking: the mix is that stem (times the segments' gain) */
		for (i = 0; i < BR_N; i++)
			if (b->stems[i]) {
				double g = i == BR_SEGS ? job->segment_audio_db : 0, lin = pow(10.0, g / 20.0);
				I = m.I[i] > -69 ? m.I[i] + g : m.I[i];
				peak = m.peak[i] * lin;
				tpeak = m.tpeak[i] * lin;
				b->mix = b->stems[i];
				lv->mix_db = g;
			}
	} else {
		/* The mix (ducking included) is rendered once, to a file, while it is measured. */
		pt.index = 1;
		rc = measure(&m, b, AM_MIX, lv, &pt);
		if (rc != LV_OK)
			return rc;
		b->mix = b->stems[BR_MIX];
		lv->ducking_db = m.ducking_db;
		I = m.I[0];
		peak = m.peak[0];
		tpeak = m.tpeak[0];
	}
	if (I <= -69) {
		LV_DEBUG("audio: the mix is silent (%.1f LUFS): no gain", I);
		return LV_OK;
	}
	lv->gain_db = clampd(job->target_lufs - I, -60, 60);
	/*
	 * Linear gain is exact as long as the limiter stays idle and the true
	 * peak stays under the target.  Otherwise measure what the limiter leaves
	 * (loudness and true peak) and correct the gain and the ceiling, a few
	 * times at most.
	 */
	if (db(peak) + lv->gain_db <= ceiling_db && db(tpeak) + lv->gain_db <= job->true_peak_db - TP_CODEC_ALLOWANCE_DB)
		iter = 3; /* no limiter at all: the final pass is the mix times one gain */
	else
		iter = 0, lv->limiter = 1;
	for (; iter < 3; iter++) {
		double tpl, d_gain = 0, d_tp = 0, slope = 1.0;
		pt.index = 2 + iter;
		rc = measure(&m, b, AM_LIMITED, lv, &pt);
		if (rc != LV_OK)
			return rc;
		tpl = db(m.tpeak[0]);
		LV_DEBUG("audio: limited mix %.2f LUFS, true peak %.2f dBTP (gain %.2f dB, ceiling %.2f dB)", m.I[0], tpl,
		         lv->gain_db, db(lv->limit));
		/* The limiter takes more off as the gain grows, so the loudness moves less than the gain: from
		 * the second measurement on, the step follows the slope seen between the last two. */
		if (iter > 0 && fabs(lv->gain_db - prev_gain) > 0.01 && m.I[0] > -69 && prev_I > -69)
			slope = clampd((m.I[0] - prev_I) / (lv->gain_db - prev_gain), 0.25, 1.0);
		prev_gain = lv->gain_db;
		prev_I = m.I[0];
		if (m.I[0] > -69)
			d_gain = clampd((job->target_lufs - m.I[0]) / slope, -3, 6);
		if (tpl > job->true_peak_db - TP_CODEC_ALLOWANCE_DB)
			d_tp = job->true_peak_db - TP_CODEC_ALLOWANCE_DB - tpl;
		if (fabs(d_gain) < 0.2 && d_tp == 0)
			break;
		lv->gain_db += d_gain;
		/* within half a unit of the target with the slope measured: the step is trusted unmeasured (the
		 * limiter holds the peaks at its ceiling whatever the gain) */
		if (iter > 0 && d_tp == 0 && fabs(job->target_lufs - m.I[0]) < 0.5)
			break;
		lv->limit = clampd(lv->limit * pow(10.0, d_tp / 20.0), 0.0625, 1.0);
	}
	LV_DEBUG("audio: mix %.2f LUFS, peaks %.2f dBFS / %.2f dBTP: gain %.2f dB, ceiling %.2f dBFS", I, db(peak),
	         db(tpeak), lv->gain_db, db(lv->limit));
	return LV_OK;
}

/*
 * The final pass in two halves.  AAC frames are AAC_FRAME samples; the encoder delays by one frame
 * (its priming), so the packet with pts p carries the MDCT block over samples [p, p + 2 * AAC_FRAME)
 * (its window shape chosen with a look at the frame after), and the decoder's output for samples
 * [p, p + AAC_FRAME) is that block's first half overlap-added to the second half of the packet before.
 * With the seam S a multiple of AAC_FRAME, the first encoder reads [0, S + SPLIT_TAIL) and its packets
 * with pts < S are kept; the second starts SPLIT_PREROLL frames before S with the film's timestamps
 * and its packets with pts >= S are kept.  At the join, the decoder overlap-adds two blocks that each
 * encode the samples around S, from encoders whose psychoacoustic state (window decisions, filters,
 * rate control) converged on the same input over the pre-roll; the seam is put where the signal is
 * steady, so that neither looks at an attack there (a short-window sequence across the join would
 * need both sides to choose it alike).  Timestamps, durations and the priming are those of one
 * encoder: the second's packets go on where the first's stop.
 */
#define AAC_FRAME 1024
/* Tracks shorter than this stay on one encoder (a second costs its pre-roll and start-up). */
#define SPLIT_MIN_SAMPLES (20 * LV_AUDIO_RATE)
/* Frames the second half's encoder reads before the seam, its packets dropped. */
#define SPLIT_PREROLL 16
/* Frames the first half's encoder reads after the seam (the look-ahead of its last kept packet). */
#define SPLIT_TAIL 3
/* The seam is looked for this many frames either side of the middle. */
#define SEAM_SEARCH 96
/* Sub-blocks per frame in the seam's steadiness measure (those of AAC's short windows). */
#define SEAM_SUB 8

/* Position a reader at sample `at` (the WAV's packets carry exact timestamps); `left` from there on. */
static int mix_reader_seek(mix_reader *r, int64_t at, int64_t left)
{
	const AVStream *st = r->fmt->streams[0];
	int64_t ts = av_rescale_q(at, (AVRational){ 1, LV_AUDIO_RATE }, st->time_base), p;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int err = avformat_seek_file(r->fmt, 0, INT64_MIN, ts, ts, 0);
	if (err < 0)
		return lv_error_set(LV_EIO, "audio: cannot seek in the mix: %s", lv_av_err(eb, err));
	for (;;) {
		av_packet_unref(r->pkt);
		err = av_read_frame(r->fmt, r->pkt);
		if (err < 0)
			return lv_error_set(LV_EIO, "audio: cannot read the mix after seeking: %s", lv_av_err(eb, err));
		if (r->pkt->pts == AV_NOPTS_VALUE)
			return lv_error_set(LV_EIO, "audio: the mix has no timestamps");
		p = av_rescale_q(r->pkt->pts, st->time_base, (AVRational){ 1, LV_AUDIO_RATE });
		if (p > at)
			return lv_error_set(LV_EIO, "audio: seeking in the mix went past sample %lld", (long long)at);
		if (p + r->pkt->size / 8 > at)
			break;
	}
	r->pos = (int)(at - p);
	r->left = left;
	return LV_OK;
}

/*
 * The seam: the frame boundary near the middle where the signal around it (three frames either side)
 * is steadiest, measured as the ratio of the loudest to the quietest short sub-block of the
 * high-passed mono signal (what drives an encoder's attack detection); a multiple of AAC_FRAME.
 */
static int64_t choose_seam(const char *path, int64_t total)
{
	int64_t mid = total / 2 / AAC_FRAME, lo = mid - SEAM_SEARCH - 3, m, best = mid;
	int nb = 2 * SEAM_SEARCH + 6, sub = AAC_FRAME / SEAM_SUB, i, k;
	double *e = lv_calloc((size_t)nb * SEAM_SUB, sizeof(*e)), best_r = INFINITY, prev = 0;
	AVFrame *f = av_frame_alloc();
	mix_reader r;
	int rc = e && f ? mix_reader_open(&r, path, 0, total) : LV_ENOMEM;
	if (rc == LV_OK)
		rc = mix_reader_seek(&r, lo * AAC_FRAME, (int64_t)nb * AAC_FRAME);
	for (i = 0; rc == LV_OK && i < nb; i++) {
		const float *l, *rt;
		if (mix_reader_frame(&r, f, AAC_FRAME) < 0 || f->nb_samples != AAC_FRAME) {
			rc = LV_EIO;
			break;
		}
		l = (const float *)f->data[0];
		rt = (const float *)f->data[1];
		for (k = 0; k < AAC_FRAME; k++) {
			double x = 0.5 * ((double)l[k] + rt[k]), d = x - prev;
			prev = x;
			e[i * SEAM_SUB + k / sub] += d * d;
		}
		av_frame_unref(f);
	}
	if (rc == LV_OK)
		for (m = mid - SEAM_SEARCH; m <= mid + SEAM_SEARCH; m++) {
			double hi = 0, low = INFINITY, ratio;
			for (k = (int)(m - 3 - lo) * SEAM_SUB; k < (int)(m + 3 - lo) * SEAM_SUB; k++) {
				hi = e[k] > hi ? e[k] : hi;
				low = e[k] < low ? e[k] : low;
			}
			ratio = (hi + 1e-9) / (low + 1e-9);
			if (ratio < best_r - 1e-9 || (ratio < best_r + 1e-9 && llabs(m - mid) < llabs(best - mid))) {
				best_r = ratio;
				best = m;
			}
		}
	if (e && f)
		mix_reader_close(&r);
	av_frame_free(&f);
	free(e);
	LV_DEBUG("audio: seam at frame %lld (steadiness %.2f)", (long long)best, best_r);
	return best * AAC_FRAME;
}

static int aenc_open(aenc *e)
{
	int rc = open_encoder(&e->enc);
	if (rc != LV_OK)
		return rc;
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->frame || !e->pkt)
		return lv_error_nomem();
	e->keep_from = INT64_MIN;
	e->keep_to = INT64_MAX;
	return LV_OK;
}

static void aenc_free(aenc *e)
{
	size_t i;
	mix_reader_close(&e->in);
	avcodec_free_context(&e->enc);
	av_frame_free(&e->frame);
	av_packet_free(&e->pkt);
	for (i = 0; i < e->n; i++)
		av_packet_free(&e->list[i]);
	free(e->list);
	e->list = NULL;
	e->n = e->cap = 0;
}

/*
 * The final pass read straight from the mix file (times gain_db): one encoder, or two halves when the
 * track is long enough (seam: -1 to choose; 0 for one encoder; else the seam, a multiple of AAC_FRAME).
 */
static int direct_setup(lv_audio *a, const char *mix, double gain_db, int64_t total, int64_t seam)
{
	int rc = mix_reader_open(&a->e[0].in, mix, gain_db, total);
	if (rc == LV_OK)
		rc = aenc_open(&a->e[0]);
	if (rc != LV_OK || a->e[0].enc->frame_size != AAC_FRAME)
		return rc;
	if (seam < 0)
		seam = total >= SPLIT_MIN_SAMPLES ? choose_seam(mix, total) : 0;
	if (seam <= 0)
		return LV_OK;
	if (seam % AAC_FRAME || seam - SPLIT_PREROLL * AAC_FRAME < 0 || seam + SPLIT_TAIL * AAC_FRAME > total)
		return lv_error_set(LV_EINVALID, "audio: seam %lld is not a frame boundary inside the track",
		                    (long long)seam);
	rc = mix_reader_open(&a->e[1].in, mix, gain_db, total);
	if (rc == LV_OK)
		rc = mix_reader_seek(&a->e[1].in, seam - SPLIT_PREROLL * AAC_FRAME,
		                     total - (seam - SPLIT_PREROLL * AAC_FRAME));
	if (rc == LV_OK)
		rc = aenc_open(&a->e[1]);
	if (rc != LV_OK) { /* one encoder after all */
		LV_WARN("audio: the final pass stays on one encoder: %s", lv_error_last()->message);
		aenc_free(&a->e[1]);
		memset(&a->e[1], 0, sizeof(a->e[1]));
		return LV_OK;
	}
	a->e[0].in.left = seam + SPLIT_TAIL * AAC_FRAME;
	a->e[0].keep_to = seam;
	a->e[1].next_pts = seam - SPLIT_PREROLL * AAC_FRAME;
	a->e[1].keep_from = seam;
	a->halves = 1;
	a->seam = seam;
	return LV_OK;
}

int lv_audio_open(lv_audio **out, const lv_compose_job *job, const lv_video_plan *plan, int64_t total_samples,
                  const char *stem_prefix, lv_audio_tick_fn tick, void *tick_ctx)
{
	static const char *const names[BR_N] = { "voices", "music", "segments" };
	lv_audio *a;
	amix_levels lv;
	pass_tick pt = { tick, tick_ctx, 0, 5, NULL };
	abuild b;
	size_t i;
	int rc = LV_OK, br;
	int present[BR_FILES];
	int64_t *voice_len;

	*out = NULL;
	if (!isfinite(job->target_lufs) || job->target_lufs < -40 || job->target_lufs > -5)
		return lv_error_set(LV_EINVALID, "audio: target loudness %g LUFS is outside -40..-5", job->target_lufs);
	if (!isfinite(job->true_peak_db) || job->true_peak_db < -20 || job->true_peak_db > 0)
		return lv_error_set(LV_EINVALID, "audio: true peak %g dBTP is outside -20..0", job->true_peak_db);
	if (!isfinite(job->segment_audio_db) || job->segment_audio_db > 20)
		return lv_error_set(LV_EINVALID, "audio: segment_audio_db %g is not a gain up to +20 dB",
		                    job->segment_audio_db);
	for (i = 0; i < job->n_voices; i++) {
		if (!isfinite(job->voices[i].start) || job->voices[i].start < 0)
			return lv_error_set(LV_EINVALID, "voice %zu: start %g is not a time from 0 on", i, job->voices[i].start);
	}
	voice_len = lv_calloc(job->n_voices ? job->n_voices : 1, sizeof(*voice_len));
	if (!voice_len)
		return LV_ENOMEM;
	for (i = 0; i < job->n_voices && rc == LV_OK; i++)
		rc = check_input(job->voices[i].path, "voice", i, &voice_len[i]);
	if (rc == LV_OK && job->music_path && *job->music_path)
		rc = check_input(job->music_path, "music", (size_t)-1, NULL);
	if (rc != LV_OK) {
		free(voice_len);
		return rc;
	}

	a = lv_calloc(1, sizeof(*a));
	if (!a) {
		free(voice_len);
		return LV_ENOMEM;
	}
	present[BR_VOICE] = job->n_voices > 0;
	present[BR_MUSIC] = job->music_path && *job->music_path;
	present[BR_SEGS] = segments_with_audio(plan) > 0;
	for (br = 0; br < BR_N && rc == LV_OK; br++)
		if (present[br] && !(a->stems[br] = lv_asprintf("%s-%s.wav", stem_prefix, names[br])))
			rc = LV_ENOMEM;
	if (rc == LV_OK && !(a->stems[BR_MIX] = lv_asprintf("%s-mix.wav", stem_prefix)))
		rc = LV_ENOMEM;
	memset(&b, 0, sizeof(b));
	b.job = job;
	b.plan = plan;
	b.N = total_samples;
	b.voice_len = voice_len;
	b.stems = a->stems;
	b.only = -1;
	lv.ducking_db = NAN;
	if (rc == LV_OK)
		rc = analyse(&b, &pt, &lv);
	a->ducking_db = lv.ducking_db;
	if (rc == LV_OK && !lv.limiter && b.mix)
		rc = direct_setup(a, b.mix, lv.mix_db + lv.gain_db, total_samples, -1);
	else if (rc == LV_OK && (rc = build(&b, AM_ENCODE, &lv)) == LV_OK) {
		a->e[0].sink = b.sinks[0];
		rc = aenc_open(&a->e[0]);
		if (rc == LV_OK)
			av_buffersink_set_frame_size(a->e[0].sink, (unsigned)a->e[0].enc->frame_size);
	}
	a->g = b.g;
	free(voice_len);
	if (rc != LV_OK) {
		lv_audio_free(a);
		return rc;
	}
	a->total = total_samples;
	*out = a;
	return LV_OK;
}

int lv_audio_open_mix(lv_audio **out, const char *mix, double gain_db, int64_t total_samples, int64_t seam)
{
	lv_audio *a = lv_calloc(1, sizeof(*a));
	int rc;
	*out = NULL;
	if (!a)
		return LV_ENOMEM;
	a->ducking_db = NAN;
	rc = direct_setup(a, mix, gain_db, total_samples, seam);
	if (rc != LV_OK) {
		lv_audio_free(a);
		return rc;
	}
	a->total = total_samples;
	*out = a;
	return LV_OK;
}

int64_t lv_audio_seam(const lv_audio *a)
{
	return a->halves ? a->seam : 0;
}

double lv_audio_ducking_db(const lv_audio *a)
{
	return a->ducking_db;
}

const AVCodecContext *lv_audio_codec(const lv_audio *a)
{
	return a->e[0].enc;
}

/* A packet the encoder made: dropped outside [keep_from, keep_to), else handed over or listed; 0: go on,
 * 1: nobody wants more, or an LV status < 0. */
static int aenc_keep(aenc *e)
{
	AVPacket *p;
	if (e->pkt->pts < e->keep_from || e->pkt->pts >= e->keep_to) {
		av_packet_unref(e->pkt);
		return 0;
	}
	if (!(p = av_packet_alloc()))
		return lv_error_nomem();
	av_packet_move_ref(p, e->pkt);
	if (e->out) {
		if (handoff_put(e->out, p))
			return 0;
		av_packet_free(&p); /* the muxer stopped */
		return 1;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 1024;
		AVPacket **l = realloc(e->list, cap * sizeof(*l));
		if (!l) {
			av_packet_free(&p);
			return lv_error_nomem();
		}
		e->list = l;
		e->cap = cap;
	}
	e->list[e->n++] = p;
	return 0;
}

/* One encoder's work: its input into the AAC encoder, the packets kept; an LV status. */
static int encode_all(aenc *e)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int graph_eof = 0;
	for (;;) {
		int err = avcodec_receive_packet(e->enc, e->pkt);
		if (err >= 0) {
			int64_t pts = e->pkt->pts;
			int k = aenc_keep(e);
			if (k != 0)
				return k < 0 ? k : LV_OK;
			if (pts >= e->keep_to) /* the first half: the rest is the second's */
				return LV_OK;
			continue;
		}
		if (err == AVERROR_EOF)
			return LV_OK;
		if (err != AVERROR(EAGAIN))
			return lv_error_set(LV_EINTERNAL, "audio: AAC encoder: %s", lv_av_err(eb, err));
		if (graph_eof)
			return lv_error_set(LV_EINTERNAL, "audio: the AAC encoder wants input after the end");
		if (e->cancel && atomic_load(e->cancel))
			return LV_OK;
		err = e->in.fmt ? mix_reader_frame(&e->in, e->frame, e->enc->frame_size)
		                : av_buffersink_get_frame(e->sink, e->frame);
		if (err == AVERROR_EOF) {
			err = avcodec_send_frame(e->enc, NULL);
			graph_eof = 1;
		} else if (err < 0) {
			return lv_error_set(LV_EIO, "audio: mixing failed: %s", lv_av_err(eb, err));
		} else {
			e->frame->pts = e->next_pts;
			e->next_pts += e->frame->nb_samples;
			err = avcodec_send_frame(e->enc, e->frame);
			av_frame_unref(e->frame);
		}
		if (err < 0)
			return lv_error_set(LV_EINTERNAL, "audio: AAC encoder: %s", lv_av_err(eb, err));
	}
}

static void *half_main(void *arg)
{
	aenc *e = arg;
	int64_t c0 = thread_cpu_ms();
	e->rc = encode_all(e);
	LV_DEBUG("audio: the second half took %lld ms CPU", (long long)(thread_cpu_ms() - c0));
	if (e->rc != LV_OK)
		snprintf(e->msg, sizeof(e->msg), "%s", lv_error_last()->message);
	return NULL;
}

/* The second half's packets, once both halves are encoded, after the first's. */
static int hand_over_second(lv_audio *a)
{
	aenc *e = &a->e[1];
	size_t i;
	if (e->started)
		pthread_join(e->thread, NULL);
	else
		half_main(e); /* its thread could not start: encoded here, after the first half */
	if (e->rc != LV_OK)
		return lv_error_set(e->rc, "%s", e->msg);
	for (i = 0; i < e->n; i++) {
		if (!handoff_put(&a->packets, e->list[i]))
			break; /* the muxer stopped: aenc_free frees the rest */
		e->list[i] = NULL;
	}
	return LV_OK;
}

static void *encoder_main(void *arg)
{
	lv_audio *a = arg;
	int64_t c0 = thread_cpu_ms();
	int rc = encode_all(&a->e[0]);
	if (rc != LV_OK)
		atomic_store(&a->cancel, 1); /* the second half is not wanted */
	LV_DEBUG("audio: the final pass took %lld ms CPU%s", (long long)(thread_cpu_ms() - c0),
	         a->halves ? " (its first half)" : "");
	if (a->halves) {
		int rc2 = hand_over_second(a);
		if (rc == LV_OK)
			rc = rc2;
	}
	a->rc = rc;
	if (rc != LV_OK)
		snprintf(a->msg, sizeof(a->msg), "%s", lv_error_last()->message);
	handoff_mark(&a->packets, 0);
	return NULL;
}

static int start_encoder(lv_audio *a)
{
	int rc = handoff_init(&a->packets, AQ_CAP);
	if (rc != LV_OK)
		return rc;
	atomic_init(&a->cancel, 0);
	a->e[0].out = &a->packets;
	a->e[0].cancel = a->e[1].cancel = &a->cancel;
	if (a->halves)
		a->e[1].started = pthread_create(&a->e[1].thread, NULL, half_main, &a->e[1]) == 0;
	if (pthread_create(&a->thread, NULL, encoder_main, a) != 0) {
		atomic_store(&a->cancel, 1);
		if (a->e[1].started)
			pthread_join(a->e[1].thread, NULL);
		a->e[1].started = 0;
		handoff_destroy(&a->packets, free_packet);
		return lv_error_set(LV_EINTERNAL, "audio: cannot start the encoder thread");
	}
	a->started = 1;
	return LV_OK;
}

int lv_audio_pump(lv_audio *a, int64_t until, int (*emit)(void *ctx, AVPacket *pkt), void *ctx)
{
	/* started on the first call: the codec parameters have been copied to the muxer by then */
	if (!a->started && start_encoder(a) != LV_OK)
		return LV_EINTERNAL;
	for (;;) {
		int rc;
		if (!a->front) {
			void *item;
			if (handoff_take(&a->packets, &item) <= 0) /* the end of the track (only the muxer stops it) */
				return a->rc != LV_OK ? lv_error_set(a->rc, "%s", a->msg) : LV_OK;
			a->front = item;
		}
		if (until != INT64_MAX && a->front->pts >= until)
			return LV_OK;
		rc = emit(ctx, a->front);
		av_packet_free(&a->front);
		if (rc != LV_OK)
			return rc;
	}
}

void lv_audio_free(lv_audio *a)
{
	if (!a)
		return;
	if (a->started) {
		atomic_store(&a->cancel, 1);
		handoff_mark(&a->packets, 1);
		pthread_join(a->thread, NULL); /* it joined the second half's thread */
		handoff_destroy(&a->packets, free_packet);
	}
	av_packet_free(&a->front);
	avfilter_graph_free(&a->g);
	aenc_free(&a->e[0]);
	aenc_free(&a->e[1]);
	remove_stems(a->stems);
	free(a);
}
