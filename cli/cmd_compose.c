/* lvctl compose ID: re-compose a finished task from its segments, charging nothing. */
#include "api.h"

int cmd_compose(cli_ctx *ctx, int argc, char **argv)
{
	lv_compose_request req = LV_COMPOSE_REQUEST_INIT;
	const char *narration = NULL, *music = NULL, *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "narration", "on|off", "narration track (default: as before)", &narration },
		{ CLI_OPT_VALUE, "music", "on|off", "music bed (default: as before)", &music },
		{ CLI_OPT_VALUE, "subtitles", "M", "soft, burn or none (default: as before)", &req.subtitles },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "compose", "ID [--narration on|off] [--music on|off] [--subtitles M]",
		                "Re-run composition and delivery of a completed, failed or canceled task whose\n"
		                "segments are all ready, optionally changing narration, music and subtitles.  Nothing\n"
		                "is charged.  With --json: the task object.",
		                opts, 1, 1, "task ID" };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (narration && (rc = cli_parse_onoff(ctx, &req.narration, "narration", narration))) ||
	    (music && (rc = cli_parse_onoff(ctx, &req.music, "music", music))))
		return rc;
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if ((rc = cli_api_compose(api, pos[0], &req, &json)) == LV_OK)
		rc = cli_print_task_doc(ctx, json);
	cli_api_close(api);
	return rc;
}
