/* lvctl download ID: save a completed task's film (and its subtitles or thumbnail). */
#include "api.h"

#include <stdlib.h>
#include <string.h>

int cmd_download(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *output = NULL, *pos[1];
	int subtitles = 0, thumbnail = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "output", "FILE", "where to save the film (default: ./<task_id>.mp4)", &output },
		{ CLI_OPT_VALUE, "o", "FILE", "the same as --output", &output },
		{ CLI_OPT_SWITCH, "subtitles", NULL, "also save the WebVTT subtitles beside it (FILE without .mp4 + .vtt)",
		  &subtitles },
		{ CLI_OPT_SWITCH, "thumbnail", NULL, "also save the thumbnail beside it (FILE without .mp4 + .jpg)",
		  &thumbnail },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "download", "ID [-o FILE] [--subtitles] [--thumbnail]",
		                "Save the film of a completed task and print its path.  Written to FILE.part and\n"
		                "renamed when whole; with --server an interrupted download is resumed from the .part\n"
		                "file (Range), and the film's URL is followed through redirects (presigned object\n"
		                "storage URLs).  Exit 6 when the task is not the key's or has no film yet.",
		                opts, 1, 1, "task ID" };
	cli_api *api = NULL;
	char *path = NULL, *extra = NULL;
	size_t npos, stem;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)))
		return rc;
	if (output && !*output)
		return cli_fail(ctx, CLI_EUSAGE, "--output: must not be empty");
	if (!output) {
		if (!(path = malloc(strlen(pos[0]) + 8)))
			return cli_fail(ctx, LV_ENOMEM, "out of memory");
		sprintf(path, "%s.mp4", pos[0]);
		output = path;
	}
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)) || (rc = cli_api_download(api, pos[0], "film", output)))
		goto out;
	printf("%s\n", output);
	stem = strlen(output);
	if (stem > 4 && !strcmp(output + stem - 4, ".mp4"))
		stem -= 4;
	if ((subtitles || thumbnail) && !(extra = malloc(stem + 8))) {
		rc = cli_fail(ctx, LV_ENOMEM, "out of memory");
		goto out;
	}
	if (subtitles) {
		sprintf(extra, "%.*s.vtt", (int)stem, output);
		if ((rc = cli_api_download(api, pos[0], "subtitles", extra)))
			goto out;
		printf("%s\n", extra);
	}
	if (thumbnail) {
		sprintf(extra, "%.*s.jpg", (int)stem, output);
		if ((rc = cli_api_download(api, pos[0], "thumbnail", extra)))
			goto out;
		printf("%s\n", extra);
	}
out:
	cli_api_close(api);
	free(extra);
	free(path);
	return rc;
}
