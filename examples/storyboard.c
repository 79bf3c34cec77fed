/*
 * storyboard — have a provider write a storyboard, then moderate its narration, using only the
 * installed library and a provider's config block (the same block as in the config file).
 *
 *   cc storyboard.c $(pkg-config --cflags --libs longvideo) -o storyboard
 *   ./storyboard "A lighthouse keeper befriends a storm" 20
 *   ./storyboard "..." 20 '{"type": "anthropic", "api_key_env": "ANTHROPIC_API_KEY"}'
 *
 * Prints the storyboard (JSON) on stdout and the moderation verdict on stderr.
 */
#include <longvideo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	lv_provider_options po = LV_PROVIDER_OPTIONS_INIT;
	lv_storyboard_options so = LV_STORYBOARD_OPTIONS_INIT;
	lv_moderation_verdict verdict = LV_MODERATION_VERDICT_INIT;
	lv_provider *writer = NULL;
	char *storyboard = NULL;
	const char *texts[1];
	int rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: storyboard PROMPT [SECONDS [PROVIDER_JSON]]\n");
		return 2;
	}
	so.prompt = argv[1];
	so.duration = argc > 2 ? atoi(argv[2]) : 20;
	po.name = "writer";
	if (lv_provider_open(&writer, argc > 3 ? argv[3] : "{\"type\": \"local\"}", &po) != LV_OK ||
	    lv_provider_write_storyboard(&storyboard, writer, &so) != LV_OK)
		goto out;
	puts(storyboard);
	/* The same provider moderates when it can (the built-in local one does). */
	if (lv_provider_stages(writer) & LV_PROVIDER_MODERATION) {
		texts[0] = storyboard;
		if (lv_provider_moderate(&verdict, writer, texts, 1) != LV_OK)
			goto out;
		fprintf(stderr, "moderation: %s %s\n", verdict.flagged ? "flagged" : "ok", verdict.categories);
	}
	rc = 0;
out:
	if (rc) {
		const lv_error *e = lv_error_last();
		fprintf(stderr, "storyboard: %s%s%s\n", e->message, e->details_json ? " " : "",
		        e->details_json ? e->details_json : "");
	}
	lv_free(storyboard);
	lv_provider_close(writer);
	return rc;
}
