/*
 * compose_clips — join your own clips into one film with narration, music and subtitles, using only
 * the installed library's composer (no engine, no store, no provider).
 *
 *   cc compose_clips.c $(pkg-config --cflags --libs longvideo) -o compose_clips
 *   ./compose_clips OUT_DIR [--voice FILE@T] [--music FILE] [--srt FILE] CLIP...
 *
 * Writes OUT_DIR/final.mp4 (+ final.srt, final.vtt, thumbnail.jpg) and prints what it measured.
 */
#include <longvideo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int show_progress(void *ctx, double fraction)
{
	int *last = ctx, pct = (int)(fraction * 10) * 10;
	if (pct != *last)
		fprintf(stderr, "composing: %d%%\n", pct);
	*last = pct;
	return 0; /* non-zero would cancel */
}

int main(int argc, char **argv)
{
	lv_compose_options opts = LV_COMPOSE_OPTIONS_INIT;
	lv_compose_result result = LV_COMPOSE_RESULT_INIT;
	lv_compose_segment clips[64];
	lv_compose_voice voice;
	lv_compose_cue *cues = NULL;
	size_t n_clips = 0, n_cues = 0;
	int i, last = -1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUT_DIR [--voice FILE@T] [--music FILE] [--srt FILE] CLIP...\n", argv[0]);
		return 2;
	}
	opts.out_dir = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--voice") && i + 1 < argc) {
			char *at = strrchr(argv[++i], '@');
			if (!at) {
				fprintf(stderr, "--voice wants FILE@SECONDS\n");
				return 2;
			}
			*at = '\0';
			voice.path = argv[i];
			voice.start = atof(at + 1);
			opts.voices = &voice;
			opts.n_voices = 1;
		} else if (!strcmp(argv[i], "--music") && i + 1 < argc) {
			opts.music_path = argv[++i];
		} else if (!strcmp(argv[i], "--srt") && i + 1 < argc) {
			if (lv_compose_read_srt(&cues, &n_cues, argv[++i]) != LV_OK) {
				fprintf(stderr, "compose_clips: %s\n", lv_error_last()->message);
				return 1;
			}
		} else if (n_clips < sizeof(clips) / sizeof(clips[0])) {
			clips[n_clips].path = argv[i];
			clips[n_clips].seconds = 0; /* the whole clip */
			n_clips++;
		}
	}
	opts.segments = clips;
	opts.n_segments = n_clips;
	opts.cues = cues;
	opts.n_cues = n_cues;
	opts.language = "en";
	opts.progress = show_progress;
	opts.progress_ctx = &last;

	if (lv_compose_files(&opts, &result) != LV_OK) {
		fprintf(stderr, "compose_clips: %s\n", lv_error_last()->message);
		lv_free(cues);
		return 1;
	}
	printf("film: %s/final.mp4\nduration: %.3f s\nclips copied: %d, re-encoded: %d\nloudness: %.1f LUFS\n",
	       opts.out_dir, result.duration, result.copied_segments, result.reencoded_segments, result.loudness_lufs);
	lv_free(cues);
	return 0;
}
