/* lvctl doctor: check the configuration (and, with --online, that every provider answers). */
#include "cli.h"

int cmd_doctor(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	int online = 0;
	cli_opt opts[] = {
		{ CLI_OPT_SWITCH, "online", NULL, "also ask every provider over the network whether it answers", &online },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "doctor", "[--online]",
		                "Check the configuration: every stage's provider exists and can serve it, every\n"
		                "api_key_env is set, base URLs parse, workflow files load (a bad one stops the\n"
		                "configuration from loading at all, exit 8).  Exit 8 if a check fails.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_doctor *d = NULL;
	char *json;
	size_t npos, i;
	int rc;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_engine(&engine, ctx, LV_ENGINE_NO_STORE)) ||
	    (rc = lv_engine_doctor(&d, engine, online ? LV_DOCTOR_ONLINE : 0)))
		return rc;
	if (ctx->json) {
		if ((rc = lv_doctor_to_json(&json, d)) == LV_OK)
			cli_print_json(json);
	} else {
		for (i = 0; i < lv_doctor_count(d); i++) {
			const lv_doctor_check *c = lv_doctor_get(d, i);
			printf("%-4s %-12s %-16s %s\n", c->ok ? "ok" : "FAIL", c->check, c->provider ? c->provider : "-",
			       c->message);
		}
	}
	if (rc == LV_OK && !lv_doctor_ok(d))
		rc = cli_fail(ctx, LV_ECONFIG, "the configuration has problems (see the FAIL lines)");
	lv_doctor_free(d);
	return rc;
}
