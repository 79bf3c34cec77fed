/* lvctl compose-files: compose your own clips, narration, music and subtitles into one MP4 with the
 * library's composer (<longvideo/compose.h>) — no store, no key, no provider. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct progress_state {
	int tty, last;
} progress_state;

static int on_progress(void *ctx, double fraction)
{
	progress_state *p = ctx;
	int pct = (int)(fraction * 100.0 + 0.5);
	if (pct == p->last)
		return 0;
	p->last = pct;
	if (p->tty)
		fprintf(stderr, "\rcomposing %3d%%", pct);
	return 0;
}

/* "PATH" or "PATH@NUMBER": the number goes to *value (default `dflt`). */
static int split_at(cli_ctx *ctx, const char *opt, const char *item, char **path, double *value, double dflt)
{
	const char *at = strrchr(item, '@');
	char *end = NULL;
	*value = dflt;
	if (at && at[1]) {
		errno = 0;
		*value = strtod(at + 1, &end);
		if (errno || !end || *end || *value < 0)
			return cli_fail(ctx, CLI_EUSAGE, "--%s '%s': the part after '@' must be a number of seconds (0 or more)",
			                opt, item);
	} else {
		at = NULL;
	}
	*path = at ? strndup(item, (size_t)(at - item)) : strdup(item);
	if (!*path)
		return LV_ENOMEM;
	if (!**path)
		return cli_fail(ctx, CLI_EUSAGE, "--%s '%s': the file name is empty", opt, item);
	return LV_OK;
}

static int parse_double(cli_ctx *ctx, double *out, const char *name, const char *text)
{
	char *end = NULL;
	errno = 0;
	*out = strtod(text, &end);
	if (errno || !end || *end || end == text)
		return cli_fail(ctx, CLI_EUSAGE, "--%s '%s' is not a number", name, text);
	return LV_OK;
}

static void print_result(const cli_ctx *ctx, const char *out_dir, const lv_compose_result *r, const lv_compose_options *o)
{
	if (ctx->json) {
		char buf[4096];
		size_t len = 0;
		len += (size_t)snprintf(buf, sizeof(buf), "{\"film\":");
		if (len < sizeof(buf))
			cli_json_string(buf, sizeof(buf), &len, out_dir);
		/* the directory first, then the names under it */
		char lufs[32] = "null", peak[32] = "null"; /* a silent film has no finite true peak */
		if (isfinite(r->loudness_lufs))
			snprintf(lufs, sizeof(lufs), "%.2f", r->loudness_lufs);
		if (isfinite(r->true_peak_dbtp))
			snprintf(peak, sizeof(peak), "%.2f", r->true_peak_dbtp);
		if (len < sizeof(buf))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			                        ",\"files\":[\"final.mp4\"%s,\"thumbnail.jpg\",\"qc.json\"],\"duration\":%.3f,"
			                        "\"copied_segments\":%d,\"reencoded_segments\":%d,\"loudness_lufs\":%s,"
			                        "\"true_peak_dbtp\":%s}",
			                        o->subtitles == LV_SUBS_NONE ? "" : ",\"final.srt\",\"final.vtt\"", r->duration,
			                        r->copied_segments, r->reencoded_segments, lufs, peak);
		if (len < sizeof(buf))
			printf("%s\n", buf);
		return;
	}
	printf("%s/final.mp4  %.3f s  %d clip(s) copied, %d re-encoded  %.1f LUFS  %.1f dBTP\n", out_dir, r->duration,
	       r->copied_segments, r->reencoded_segments, r->loudness_lufs, r->true_peak_dbtp);
	printf("%s/qc.json  the quality report\n", out_dir);
}

int cmd_compose_files(cli_ctx *ctx, int argc, char **argv)
{
	cli_list clips = { .n = 0 }, voices = { .n = 0 };
	const char *music = NULL, *srt = NULL, *subs = NULL, *lang = NULL, *out = NULL, *size = NULL, *lufs = NULL,
	           *peak = NULL, *font = NULL;
	int quiet = 0;
	cli_opt opts[] = {
		{ CLI_OPT_LIST, "clip", "FILE[@S]", "a clip, in film order; @S uses its first S seconds (default: all)", &clips },
		{ CLI_OPT_LIST, "voice", "FILE@T", "a narration file starting T seconds into the film", &voices },
		{ CLI_OPT_VALUE, "music", "FILE", "a music bed, looped or cut, ducked under the narration", &music },
		{ CLI_OPT_VALUE, "srt", "FILE", "subtitle cues from a SubRip file", &srt },
		{ CLI_OPT_VALUE, "subtitles", "M", "soft (default), burn or none", &subs },
		{ CLI_OPT_VALUE, "language", "L", "language of the audio and subtitle tracks, e.g. en", &lang },
		{ CLI_OPT_VALUE, "size", "WxH", "the film's size (default: the first clip's)", &size },
		{ CLI_OPT_VALUE, "loudness", "LUFS", "integrated loudness of the mix (default -16)", &lufs },
		{ CLI_OPT_VALUE, "true-peak", "DBTP", "true-peak ceiling (default -1.5)", &peak },
		{ CLI_OPT_VALUE, "font", "FILE", "font for burned subtitles (default: fontconfig)", &font },
		{ CLI_OPT_VALUE, "out", "DIR", "output directory, created if missing (required)", &out },
		{ CLI_OPT_SWITCH, "quiet", NULL, "no progress on the terminal", &quiet },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "compose-files", "--clip FILE[@S]... [--voice FILE@T]... [--music FILE] [--srt FILE] --out DIR",
		                "Compose your own clips into one MP4 with the library's composer: clips joined in\n"
		                "order (stream copy when they already have the canonical H.264 encoding), narration\n"
		                "at its offsets, music ducked under it, loudness normalised, subtitles soft or burned.\n"
		                "Writes DIR/final.mp4, final.srt, final.vtt and thumbnail.jpg.  Needs no store,\n"
		                "key or provider.  With --json: the written files and their measurements.",
		                opts, 0, 0, NULL };
	lv_compose_options o = LV_COMPOSE_OPTIONS_INIT;
	lv_compose_result r = LV_COMPOSE_RESULT_INIT;
	lv_compose_segment *seg = NULL;
	lv_compose_voice *voice = NULL;
	lv_compose_cue *cues = NULL;
	progress_state ps = { isatty(2) && !quiet, -1 };
	size_t i, npos = 0;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, NULL, &npos)))
		return rc;
	if (clips.n == 0)
		return cli_fail(ctx, CLI_EUSAGE, "compose-files: --clip is required (at least one)");
	if ((rc = cli_require(ctx, &spec, "out", out)))
		return rc;
	if (subs) {
		if (!strcmp(subs, "soft"))
			o.subtitles = LV_SUBS_SOFT;
		else if (!strcmp(subs, "burn"))
			o.subtitles = LV_SUBS_BURN;
		else if (!strcmp(subs, "none"))
			o.subtitles = LV_SUBS_NONE;
		else
			return cli_fail(ctx, CLI_EUSAGE, "--subtitles '%s' is not soft, burn or none", subs);
	}
	if (size && (sscanf(size, "%dx%d", &o.width, &o.height) != 2 || o.width <= 0 || o.height <= 0))
		return cli_fail(ctx, CLI_EUSAGE, "--size '%s' is not WIDTHxHEIGHT", size);
	if ((lufs && (rc = parse_double(ctx, &o.target_lufs, "loudness", lufs))) ||
	    (peak && (rc = parse_double(ctx, &o.true_peak_db, "true-peak", peak))))
		return rc;
	if (mkdir(out, 0755) != 0 && errno != EEXIST)
		return cli_fail(ctx, LV_EIO, "--out %s: cannot create the directory: %s", out, strerror(errno));

	seg = calloc(clips.n, sizeof(*seg));
	voice = calloc(voices.n ? voices.n : 1, sizeof(*voice));
	if (!seg || !voice) {
		rc = LV_ENOMEM;
		goto done;
	}
	for (i = 0; i < clips.n; i++)
		if ((rc = split_at(ctx, "clip", clips.items[i], (char **)&seg[i].path, &seg[i].seconds, 0)))
			goto done;
	for (i = 0; i < voices.n; i++) {
		if (!strrchr(voices.items[i], '@')) {
			rc = cli_fail(ctx, CLI_EUSAGE, "--voice '%s': give its start as FILE@SECONDS", voices.items[i]);
			goto done;
		}
		if ((rc = split_at(ctx, "voice", voices.items[i], (char **)&voice[i].path, &voice[i].start, 0)))
			goto done;
	}
	if (srt && (rc = lv_compose_read_srt(&cues, &o.n_cues, srt)) != LV_OK)
		goto done;
	o.segments = seg;
	o.n_segments = clips.n;
	o.voices = voice;
	o.n_voices = voices.n;
	o.music_path = music;
	o.cues = cues;
	o.language = lang;
	o.font_file = font;
	o.out_dir = out;
	o.progress = on_progress;
	o.progress_ctx = &ps;
	rc = lv_compose_files(&o, &r);
	if (ps.tty)
		fputc('\n', stderr);
	if (rc == LV_OK)
		print_result(ctx, out, &r, &o);
done:
	for (i = 0; seg && i < clips.n; i++)
		free((char *)seg[i].path);
	for (i = 0; voice && i < voices.n; i++)
		free((char *)voice[i].path);
	free(seg);
	free(voice);
	lv_free(cues);
	return rc;
}
