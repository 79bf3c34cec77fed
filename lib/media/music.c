/*
 * The local music maker: a looping chord progression in a key and tempo
 * chosen by the seed and the mood, played by a soft pad (detuned polyBLEP
 * saws through a slowly moving low-pass), a bass line and an FM
 * electric-piano arpeggio with a ping-pong delay; faded in and out, stereo
 * 48 kHz 16-bit.  Rendered in blocks, so any length streams to disk.
 */
#include "media/local.h"
#include "media/draw.h"
#include "media/wav.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define BLOCK 1024
#define TWO_PI 6.283185307179586

enum { MOOD_CALM, MOOD_BRIGHT, MOOD_TENSE, MOOD_SAD, MOOD_EPIC, MOOD_WARM };
enum { NOTE_PAD, NOTE_BASS, NOTE_ARP };

typedef struct mood_info {
	int minor;
	float tempo;       /* beats per minute */
	float cutoff;      /* pad low-pass centre, Hz */
	float attack;      /* pad attack, s */
	int arp_div;       /* arpeggio steps per beat */
	int bass_per_bar;  /* bass hits per bar */
	int sevenths;      /* add the seventh to the pad chords */
	float arp_level, pad_level, bass_level;
} mood_info;

static const mood_info moods[] = {
	[MOOD_CALM] = { 0, 72, 1400, 0.9f, 2, 2, 1, 0.55f, 1.0f, 0.8f },
	[MOOD_BRIGHT] = { 0, 104, 2200, 0.25f, 2, 4, 0, 0.8f, 0.8f, 0.9f },
	[MOOD_TENSE] = { 1, 84, 900, 0.5f, 4, 8, 0, 0.45f, 0.9f, 1.0f },
	[MOOD_SAD] = { 1, 66, 1100, 1.1f, 2, 1, 1, 0.5f, 1.0f, 0.7f },
	[MOOD_EPIC] = { 1, 92, 1800, 0.4f, 2, 4, 0, 0.6f, 1.1f, 1.1f },
	[MOOD_WARM] = { 0, 76, 1600, 0.7f, 2, 2, 1, 0.6f, 1.0f, 0.8f },
};

typedef struct note {
	double t0, t1; /* start, and the start of its release (seconds) */
	float freq, vel, pan;
	int kind;
} note;

typedef struct song {
	note *notes;
	size_t n, cap;
	double bar; /* seconds per bar */
} song;

static int add_note(song *s, int kind, double t0, double t1, float midi, float vel, float pan)
{
	note *n;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		note *v = lv_realloc(s->notes, cap * sizeof(note));
		if (!v)
			return LV_ENOMEM;
		s->notes = v;
		s->cap = cap;
	}
	n = &s->notes[s->n++];
	n->kind = kind;
	n->t0 = t0;
	n->t1 = t1;
	n->freq = 440.0f * powf(2.0f, (midi - 69.0f) / 12.0f);
	n->vel = vel;
	n->pan = pan;
	return LV_OK;
}

static int parse_mood(const char *mood)
{
	static const struct {
		const char *w;
		int m;
	} words[] = {
		{ "bright", MOOD_BRIGHT }, { "happy", MOOD_BRIGHT }, { "upbeat", MOOD_BRIGHT }, { "playful", MOOD_BRIGHT },
		{ "joy", MOOD_BRIGHT }, { "cheer", MOOD_BRIGHT }, { "fun", MOOD_BRIGHT }, { "energetic", MOOD_BRIGHT },
		{ "tense", MOOD_TENSE }, { "suspense", MOOD_TENSE }, { "dark", MOOD_TENSE }, { "danger", MOOD_TENSE },
		{ "myster", MOOD_TENSE }, { "fear", MOOD_TENSE }, { "horror", MOOD_TENSE }, { "ominous", MOOD_TENSE },
		{ "sad", MOOD_SAD }, { "melanch", MOOD_SAD }, { "sorrow", MOOD_SAD }, { "grief", MOOD_SAD },
		{ "lonely", MOOD_SAD }, { "nostalg", MOOD_SAD }, { "epic", MOOD_EPIC }, { "heroic", MOOD_EPIC },
		{ "adventur", MOOD_EPIC }, { "triumph", MOOD_EPIC }, { "grand", MOOD_EPIC }, { "battle", MOOD_EPIC },
		{ "romant", MOOD_WARM }, { "love", MOOD_WARM }, { "warm", MOOD_WARM }, { "tender", MOOD_WARM },
		{ "hope", MOOD_WARM }, { "calm", MOOD_CALM }, { "peace", MOOD_CALM }, { "gentle", MOOD_CALM },
		{ "\xe6\xac\xa2", MOOD_BRIGHT } /* 欢 */, { "\xe5\xbf\xab\xe4\xb9\x90", MOOD_BRIGHT } /* 快乐 */,
		{ "\xe8\xbd\xbb\xe5\xbf\xab", MOOD_BRIGHT } /* 轻快 */, { "\xe7\xb4\xa7\xe5\xbc\xa0", MOOD_TENSE } /* 紧张 */,
		{ "\xe6\x82\xac", MOOD_TENSE } /* 悬 */, { "\xe6\x81\x90", MOOD_TENSE } /* 恐 */,
		{ "\xe6\x82\xb2", MOOD_SAD } /* 悲 */, { "\xe5\xbf\xa7", MOOD_SAD } /* 忧 */,
		{ "\xe4\xbc\xa4", MOOD_SAD } /* 伤 */, { "\xe5\x8f\xb2\xe8\xaf\x97", MOOD_EPIC } /* 史诗 */,
		{ "\xe5\x86\x92\xe9\x99\xa9", MOOD_EPIC } /* 冒险 */, { "\xe8\x8b\xb1\xe9\x9b\x84", MOOD_EPIC } /* 英雄 */,
		{ "\xe6\xb8\xa9", MOOD_WARM } /* 温 */, { "\xe7\x88\xb1", MOOD_WARM } /* 爱 */,
		{ "\xe6\xb5\xaa\xe6\xbc\xab", MOOD_WARM } /* 浪漫 */,
	};
	char lower[64];
	size_t i;
	if (!mood)
		return MOOD_CALM;
	for (i = 0; i < sizeof(lower) - 1 && mood[i]; i++)
		lower[i] = (char)(mood[i] >= 'A' && mood[i] <= 'Z' ? mood[i] - 'A' + 'a' : mood[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i].w))
			return words[i].m;
	return MOOD_CALM;
}

/* Pitch class of scale degree d (>= 0) as semitones above the tonic, octave included. */
static int degree(const int *scale, int d)
{
	return scale[d % 7] + 12 * (d / 7);
}

/* The note of pitch class `pc` (semitones) nearest to `centre`. */
static float nearest(int pc, float centre)
{
	float n = (float)pc;
	while (n < centre - 6.0f)
		n += 12.0f;
	while (n > centre + 6.0f)
		n -= 12.0f;
	return n;
}

/* Compose the whole piece as a list of notes. */
static int compose(song *s, const mood_info *m, int mood, uint32_t seed, double seconds)
{
	static const int major[7] = { 0, 2, 4, 5, 7, 9, 11 };
	static const int minor[7] = { 0, 2, 3, 5, 7, 8, 10 };
	static const int prog_major[3][4] = { { 0, 4, 5, 3 }, { 0, 5, 3, 4 }, { 3, 0, 4, 5 } };
	static const int prog_minor[3][4] = { { 0, 5, 2, 6 }, { 0, 3, 5, 4 }, { 0, 6, 5, 6 } };
	const int *scale = m->minor ? minor : major;
	lv_rng r;
	int tonic, p, bar, err = LV_OK;
	double beat, t;
	lv_rng_seed(&r, seed ^ 0x4d555349u);
	tonic = (int)(lv_rng_next(&r) % 12);
	p = (int)(lv_rng_next(&r) % 3);
	beat = 60.0 / (double)(m->tempo * lv_rng_range(&r, 0.96f, 1.04f));
	s->bar = 4.0 * beat;
	for (bar = 0, t = 0; t < seconds && !err; bar++, t += s->bar) {
		int deg = m->minor ? prog_minor[p][bar % 4] : prog_major[p][bar % 4];
		int tones[4], k, n_tones = m->sevenths ? 4 : 3, section = bar / 8;
		const float pad_centre = 64.0f;
		for (k = 0; k < 4; k++)
			tones[k] = tonic + degree(scale, deg + 2 * k);
		/* tense: the dominant is major (harmonic minor) */
		if (mood == MOOD_TENSE && deg == 4)
			tones[1] += 1;
		/* pad: the chord voiced around E4, one bar long, overlapping into the next */
		for (k = 0; k < n_tones && !err; k++)
			err = add_note(s, NOTE_PAD, t, t + s->bar, nearest(tones[k] % 12, pad_centre),
			               k == 3 ? 0.6f : 1.0f, k % 2 ? 0.25f : -0.25f);
		/* bass: the root in the second octave; every 16th bar breathes without it */
		if (bar % 16 != 15 || seconds < 16 * s->bar) {
			int hits = m->bass_per_bar, h;
			double step = s->bar / hits;
			for (h = 0; h < hits && !err; h++) {
				float note_ = 36.0f + (float)((tones[0] % 12 + 12) % 12);
				if (hits >= 4 && h % 4 == 2 && mood != MOOD_TENSE)
					note_ += (float)(tones[2] - tones[0]); /* the fifth on the third beat */
				err = add_note(s, NOTE_BASS, t + h * step, t + (h + 0.85) * step, note_,
				               h == 0 ? 1.0f : 0.8f, 0.0f);
			}
		}
		/* arpeggio: enters on the second bar, its shape changing every eight bars */
		if (bar >= 1 || seconds < 2 * s->bar) {
			int steps = 4 * m->arp_div, i;
			double step = s->bar / steps;
			int up_down = section % 2, octave = (section % 3 == 2) ? 12 : 0;
			float root = nearest(tones[0] % 12, 71.0f) + (float)octave;
			/* the chord's tones upwards from the root in the fifth octave */
			float arp[5] = { root, root + (float)(tones[1] - tones[0]), root + (float)(tones[2] - tones[0]),
				         root + 12.0f, root + 12.0f + (float)(tones[1] - tones[0]) };
			for (i = 0; i < steps && !err; i++) {
				static const int shape_up[8] = { 0, 1, 2, 3, 4, 3, 2, 1 };
				static const int shape_arc[8] = { 0, 2, 1, 3, 2, 4, 3, 1 };
				int idx = (up_down ? shape_arc : shape_up)[i % 8];
				if (m->arp_div >= 4 && i % 2)
					idx = 0;
				/* a few rests keep it from sounding mechanical */
				if (lv_rng_next(&r) % 10 == 0 && i % 4)
					continue;
				err = add_note(s, NOTE_ARP, t + i * step, t + (i + 0.9) * step, arp[idx],
				               lv_rng_range(&r, 0.75f, 1.0f) * (i % 4 == 0 ? 1.0f : 0.8f),
				               (i % 2) ? 0.4f : -0.4f);
			}
		}
	}
	return err;
}

/* A band-limited sawtooth: naive ramp with polyBLEP corrections at the wrap. */
static float saw(double phase, float dt)
{
	float t = (float)(phase - floor(phase)), v = 2.0f * t - 1.0f;
	if (t < dt) {
		t /= dt;
		v -= t + t - t * t - 1.0f;
	} else if (t > 1.0f - dt) {
		t = (t - 1.0f) / dt;
		v -= t * t + t + t + 1.0f;
	}
	return v;
}

#define PAD_RELEASE 1.6
#define BASS_RELEASE 0.12
#define ARP_TAIL 1.4

static double note_end(const note *n)
{
	return n->t1 + (n->kind == NOTE_PAD ? PAD_RELEASE : n->kind == NOTE_BASS ? BASS_RELEASE : ARP_TAIL);
}

/* Add note n's samples in [f0, f0 + len) to the buses. */
static void render_note(const note *n, const mood_info *m, int64_t f0, int len, float *padL, float *padR,
                        float *bass, float *arpL, float *arpR)
{
	int i, i0, i1;
	float dt = n->freq / (float)RATE;
	float gl = sqrtf(0.5f - 0.5f * n->pan), gr = sqrtf(0.5f + 0.5f * n->pan);
	double end = note_end(n);
	int64_t s0 = (int64_t)ceil(n->t0 * RATE) - f0, s1 = (int64_t)ceil(end * RATE) - f0;
	i0 = s0 < 0 ? 0 : (int)s0;
	i1 = s1 > len ? len : (int)s1;
	for (i = i0; i < i1; i++) {
		double t = (double)(f0 + i) / RATE, lt = t - n->t0;
		float env, v;
		switch (n->kind) {
		case NOTE_PAD: {
			float a = (float)(lt / m->attack);
			double ph = lt * n->freq;
			env = a < 1.0f ? sinf(a * 1.5707963f) * sinf(a * 1.5707963f) : 1.0f;
			if (t > n->t1) {
				float rr = 1.0f - (float)((t - n->t1) / PAD_RELEASE);
				env *= rr * rr;
			}
			env *= 0.06f * n->vel * m->pad_level;
			/* two voices detuned by +-7 cents, spread left and right, and a soft sub-octave sine */
			v = 0.35f * sinf((float)(TWO_PI * 0.5 * ph));
			padL[i] += env * (saw(ph * 0.99596, dt) * (0.8f + 0.2f * gl) + v);
			padR[i] += env * (saw(ph * 1.00405 + 0.37, dt) * (0.8f + 0.2f * gr) + v);
			break;
		}
		case NOTE_BASS: {
			double ph = TWO_PI * lt * n->freq;
			env = lt < 0.008 ? (float)(lt / 0.008) : 0.7f + 0.3f * expf(-(float)(lt - 0.008) / 0.25f);
			if (t > n->t1)
				env *= 1.0f - (float)((t - n->t1) / BASS_RELEASE);
			v = sinf((float)ph) + 0.28f * sinf((float)(2 * ph)) + 0.1f * sinf((float)(3 * ph));
			bass[i] += 0.3f * m->bass_level * n->vel * env * v;
			break;
		}
		default: {
			/* FM electric piano: a 1:2 modulator whose index dies away quickly */
			double ph = TWO_PI * lt * n->freq;
			float idx = 1.3f * expf(-(float)lt / 0.09f) + 0.18f;
			env = (lt < 0.004 ? (float)(lt / 0.004) : 1.0f) * expf(-(float)lt / 0.5f);
			if (t > end - 0.2)
				env *= (float)((end - t) / 0.2);
			v = sinf((float)ph + idx * sinf((float)(2 * ph)));
			v *= 0.11f * m->arp_level * n->vel * env;
			arpL[i] += v * gl;
			arpR[i] += v * gr;
		}
		}
	}
}

int lv_music_generate(double seconds, uint32_t seed, const char *mood, const char *out_wav,
                      const volatile int *cancel)
{
	song s = { NULL, 0, 0, 0 };
	lv_wav_writer wav = { 0 };
	int mood_id = parse_mood(mood), err, i;
	const mood_info *m = &moods[mood_id];
	int64_t total, f0;
	size_t first = 0;
	float *bus = NULL, *delay = NULL;
	float lpL1 = 0, lpL2 = 0, lpR1 = 0, lpR2 = 0, bass_lp = 0, fade_in, fade_out;
	int16_t out[2 * BLOCK];
	size_t dlen, dpos = 0;
	if (!out_wav || !*out_wav)
		return lv_error_set(LV_EINVALID, "music: an output path is required");
	if (!(seconds > 0) || seconds > 3600)
		return lv_error_set(LV_EINVALID, "%s: music length %.3f s is out of range", out_wav, seconds);
	total = llround(seconds * RATE);
	err = compose(&s, m, mood_id, seed, seconds);
	if (err)
		goto done;
	/* a dotted-eighth ping-pong delay for the arpeggio */
	dlen = (size_t)(s.bar / 4.0 * 0.75 * RATE);
	bus = lv_calloc(5 * BLOCK, sizeof(float));
	delay = lv_calloc(2 * dlen, sizeof(float));
	if (!bus || !delay) {
		err = LV_ENOMEM;
		goto done;
	}
	fade_in = (float)fmin(1.5, seconds / 4);
	fade_out = (float)fmin(3.0, seconds / 3);
	err = lv_wav_open(&wav, out_wav, 2, RATE);
	for (f0 = 0; !err && f0 < total; f0 += BLOCK) {
		int len = (int)(total - f0 < BLOCK ? total - f0 : BLOCK);
		float *padL = bus, *padR = bus + BLOCK, *bass = bus + 2 * BLOCK, *arpL = bus + 3 * BLOCK,
		      *arpR = bus + 4 * BLOCK;
		double tb0 = (double)f0 / RATE, tb1 = (double)(f0 + len) / RATE;
		float a1, a2, cutoff;
		size_t k;
		if (cancel && *cancel) {
			err = lv_error_set(LV_ECANCELED, "%s: music canceled", out_wav);
			break;
		}
		memset(bus, 0, 5 * BLOCK * sizeof(float));
		while (first < s.n && note_end(&s.notes[first]) < tb0 - 4.0)
			first++;
		for (k = first; k < s.n && s.notes[k].t0 < tb1; k++)
			if (note_end(&s.notes[k]) > tb0)
				render_note(&s.notes[k], m, f0, len, padL, padR, bass, arpL, arpR);
		/* the pad's low-pass breathes slowly */
		cutoff = m->cutoff * (1.0f + 0.35f * sinf((float)(TWO_PI * tb0 / (s.bar * 2.0))));
		a1 = 1.0f - expf(-(float)TWO_PI * cutoff / RATE);
		a2 = 1.0f - expf(-(float)TWO_PI * 420.0f / RATE);
		for (i = 0; i < len; i++) {
			double t = (double)(f0 + i) / RATE;
			float l, r, dl = delay[dpos], dr = delay[dlen + dpos], g = 1.0f;
			lpL1 += a1 * (padL[i] - lpL1);
			lpL2 += a1 * (lpL1 - lpL2);
			lpR1 += a1 * (padR[i] - lpR1);
			lpR2 += a1 * (lpR1 - lpR2);
			bass_lp += a2 * (bass[i] - bass_lp);
			/* ping-pong: the left tap feeds the right line and back */
			delay[dpos] = 0.5f * (arpL[i] + arpR[i]) + 0.38f * dr;
			delay[dlen + dpos] = 0.38f * dl;
			dpos = dpos + 1 == dlen ? 0 : dpos + 1;
			l = lpL2 + bass_lp + arpL[i] + 0.45f * dl;
			r = lpR2 + bass_lp + arpR[i] + 0.45f * dr;
			if (t < fade_in)
				g = (float)(t / fade_in);
			if (seconds - t < fade_out)
				g = fminf(g, (float)((seconds - t) / fade_out));
			g = g * g;
			/* gentle saturation keeps peaks under full scale */
			l = tanhf(l * 1.2f * g) * 0.88f;
			r = tanhf(r * 1.2f * g) * 0.88f;
			out[2 * i] = (int16_t)lrintf(l * 32767.0f);
			out[2 * i + 1] = (int16_t)lrintf(r * 32767.0f);
		}
		err = lv_wav_write(&wav, out, (size_t)len);
	}
	if (!err)
		err = lv_wav_finish(&wav);
done:
	if (err)
		lv_wav_abort(&wav);
	free(bus);
	free(delay);
	free(s.notes);
	return err;
}
