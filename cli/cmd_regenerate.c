/* lvctl regenerate ID INDEX: generate one shot of a finished task again and deliver a new film. */
#include "api.h"

#include <limits.h>

int cmd_regenerate(cli_ctx *ctx, int argc, char **argv)
{
	lv_regenerate_request req = LV_REGENERATE_REQUEST_INIT;
	const char *seed_text = NULL, *key_text = NULL, *key_id = NULL, *pos[2];
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "visual", "TEXT", "a new picture description for the shot", &req.visual },
		{ CLI_OPT_VALUE, "camera", "TEXT", "a new camera direction for the shot", &req.camera },
		{ CLI_OPT_VALUE, "narration", "TEXT", "new narration (it must fit the shot)", &req.narration },
		{ CLI_OPT_VALUE, "seed", "N", "0-2147483647 (default: a new one)", &seed_text },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "regenerate", "ID INDEX [--visual T] [--camera T] [--narration T] [--seed N]",
		                "Generate shot INDEX of a completed task again (optionally with new text or seed),\n"
		                "then re-compose and deliver a new film.  That shot's price is reserved now and charged\n"
		                "when the new film is delivered; if it fails, it is refunded and the previous film\n"
		                "stays.  With --json: the task object.",
		                opts, 2, 2, "task ID and shot INDEX" };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int index = 0, seed = 0, rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_parse_int(ctx, &index, "INDEX", pos[1], 0, INT_MAX)) ||
	    (seed_text && (rc = cli_parse_int(ctx, &seed, "seed", seed_text, 0, INT_MAX))))
		return rc;
	if (seed_text)
		req.seed = seed;
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if ((rc = cli_api_regenerate(api, pos[0], index, &req, &json)) == LV_OK)
		rc = cli_print_task_doc(ctx, json);
	cli_api_close(api);
	return rc;
}
