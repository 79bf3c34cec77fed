/*
 * The local speech maker: the espeak-ng library, voice chosen by language,
 * written as a mono 16-bit WAV at espeak-ng's own sample rate.
 *
 * espeak-ng keeps its voice, parameters and synthesis state in process-wide
 * globals and is not reentrant.  It is initialised once (pthread_once) and
 * every use is serialised by `tts_lock`; this static mutex and the values set
 * once by the initialiser are the accepted exception to "no global mutable
 * state" (they guard a non-reentrant third-party library).
 */
#include "media/local.h"
#include "media/wav.h"
#include "model/storyboard.h"
#include "util/log.h"
#include "util/mem.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t tts_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tts_lock = PTHREAD_MUTEX_INITIALIZER;
static espeak_ng_STATUS tts_status; /* set once by tts_init */
static int tts_rate;                /* set once by tts_init */

typedef struct tts_job {
	lv_wav_writer wav;
	const volatile int *cancel;
	int canceled;
	int err;
} tts_job;

static int synth_cb(short *samples, int n, espeak_EVENT *events)
{
	tts_job *job = events ? events->user_data : NULL;
	if (!job)
		return 0;
	if (job->err || job->canceled)
		return 1;
	if (job->cancel && *job->cancel) {
		job->canceled = 1;
		return 1;
	}
	if (samples && n > 0) {
		job->err = lv_wav_write(&job->wav, samples, (size_t)n);
		if (job->err)
			return 1;
	}
	return 0;
}

static void tts_init(void)
{
	espeak_ng_ERROR_CONTEXT ctx = NULL;
	espeak_ng_InitializePath(NULL);
	tts_status = espeak_ng_Initialize(&ctx);
	if (ctx)
		espeak_ng_ClearErrorContext(&ctx);
	if (tts_status != ENS_OK)
		return;
	tts_status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
	if (tts_status != ENS_OK)
		return;
	tts_rate = espeak_ng_GetSampleRate();
	espeak_SetSynthCallback(synth_cb);
}

static int espeak_fail(espeak_ng_STATUS st, const char *what)
{
	char msg[256];
	espeak_ng_GetStatusCodeMessage(st, msg, sizeof(msg));
	return lv_error_set(LV_EPROVIDER, "speech: %s: %s", what, msg);
}

static int try_voice(const char *name)
{
	espeak_VOICE v;
	if (espeak_ng_SetVoiceByName(name) == ENS_OK)
		return 1;
	memset(&v, 0, sizeof(v));
	v.languages = name;
	return espeak_ng_SetVoiceByProperties(&v) == ENS_OK;
}

/* Select the voice for a language tag (called with tts_lock held). */
static void select_voice(const char *language)
{
	char tag[32];
	size_t i;
	const char *lang = language && *language ? language : "en";
	for (i = 0; i < sizeof(tag) - 1 && lang[i]; i++) {
		char c = lang[i];
		tag[i] = (char)(c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
	}
	tag[i] = '\0';
	/* Mandarin is "cmn" in espeak-ng; Cantonese "yue" */
	if (!strcmp(tag, "zh") || !strncmp(tag, "zh-", 3) || !strcmp(tag, "cmn")) {
		if (!strcmp(tag, "zh-hk") || !strcmp(tag, "zh-yue"))
			strcpy(tag, "yue");
		else
			strcpy(tag, "cmn");
	}
	if (try_voice(tag))
		return;
	/* "pt-br" -> "pt", "en-gb-x-rp" -> "en" */
	{
		char *dash = strchr(tag, '-');
		if (dash) {
			*dash = '\0';
			if (try_voice(tag))
				return;
		}
	}
	LV_WARN("speech: no espeak-ng voice for language '%s'; speaking English", lang);
	try_voice("en");
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

int lv_tts_speak(const char *text, const char *language, int rate_wpm, const char *out_wav, double *seconds,
                 const volatile int *cancel)
{
	tts_job job;
	espeak_ng_STATUS st;
	int err, rate = rate_wpm;
	if (seconds)
		*seconds = 0;
	if (!out_wav || !*out_wav)
		return lv_error_set(LV_EINVALID, "speech: an output path is required");
	if (!text || blank(text))
		return lv_error_set(LV_EINVALID, "%s: speech: the text is empty", out_wav);
	if (rate <= 0)
		rate = espeakRATE_NORMAL;
	if (rate < espeakRATE_MINIMUM)
		rate = espeakRATE_MINIMUM;
	if (rate > espeakRATE_MAXIMUM)
		rate = espeakRATE_MAXIMUM;
	pthread_once(&tts_once, tts_init);
	if (tts_status != ENS_OK)
		return espeak_fail(tts_status, "cannot initialise espeak-ng");
	if (cancel && *cancel)
		return lv_error_set(LV_ECANCELED, "%s: speech canceled", out_wav);

	memset(&job, 0, sizeof(job));
	job.cancel = cancel;
	err = lv_wav_open(&job.wav, out_wav, 1, tts_rate);
	if (err)
		return err;
	pthread_mutex_lock(&tts_lock);
	select_voice(language);
	espeak_ng_SetParameter(espeakRATE, rate, 0);
	st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &job);
	if (job.canceled || job.err)
		espeak_ng_Cancel(); /* drop what is left of the aborted text before the next caller */
	pthread_mutex_unlock(&tts_lock);

	if (job.canceled) {
		lv_wav_abort(&job.wav);
		return lv_error_set(LV_ECANCELED, "%s: speech canceled", out_wav);
	}
	if (job.err) {
		lv_wav_abort(&job.wav);
		return job.err;
	}
	if (st != ENS_OK) {
		lv_wav_abort(&job.wav);
		return espeak_fail(st, "synthesis failed");
	}
	if (!job.wav.frames) {
		lv_wav_abort(&job.wav);
		return lv_error_set(LV_EPROVIDER, "%s: speech: espeak-ng produced no audio", out_wav);
	}
	{
		double len = (double)job.wav.frames / (double)tts_rate;
		err = lv_wav_finish(&job.wav);
		if (err)
			return err;
		if (seconds)
			*seconds = len;
	}
	return LV_OK;
}

int lv_tts_speak_paced(const char *text, const char *language, int rate_wpm, double max_seconds,
                       const char *out_wav, double *seconds, const volatile int *cancel)
{
	int wpm = rate_wpm > 0 ? rate_wpm : espeakRATE_NORMAL, attempt, err;
	double sec = 0, est;
	err = lv_tts_speak(text, language, wpm, out_wav, &sec, cancel);
	if (err)
		return err;
	est = lv_speech_estimate_seconds(text, language);
	if (rate_wpm <= 0 && est > 0 && sec < 0.9 * est) {
		/* faster than a narrator: slow down towards the estimate's pace (espeak-ng's rate is close to
		 * proportional), never below 2/3 of the default speed */
		int slower = (int)((double)wpm * sec / est);
		if (slower < wpm * 2 / 3)
			slower = wpm * 2 / 3;
		if (slower < wpm) {
			wpm = slower;
			err = lv_tts_speak(text, language, wpm, out_wav, &sec, cancel);
			if (err)
				return err;
		}
	}
	/* longer than the shot allows: speed up */
	for (attempt = 0; attempt < 3 && max_seconds > 0 && sec > max_seconds; attempt++) {
		wpm = (int)ceil((double)wpm * (sec / max_seconds) * 1.05);
		if (wpm > 280)
			wpm = 280;
		err = lv_tts_speak(text, language, wpm, out_wav, &sec, cancel);
		if (err)
			return err;
		if (wpm == 280)
			break;
	}
	if (seconds)
		*seconds = sec;
	return LV_OK;
}
