/* lvctl batch FILE: placeholder replaced below. */
#include "api.h"
int cmd_batch(cli_ctx *ctx, int argc, char **argv)
{
	(void)argc, (void)argv;
	return cli_fail(ctx, CLI_EUSAGE, "batch: not yet");
}
