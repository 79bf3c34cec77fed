/* The HTTP request path: routing (srv_route_match against every route pattern of lvserver, with the
 * parameters it extracts) and the Range header (srv_byte_range against a representation size taken
 * from the input).  Input: 8 bytes of size, then "PATH\nRANGE". */
#include "fuzz_util.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* The shapes of server/routes.c's patterns. */
static const char *const patterns[] = {
	"/healthz", "/v1/videos", "/v1/videos/{id}", "/v1/videos/{id}/cancel", "/v1/videos/{id}/storyboard",
	"/v1/videos/{id}/shots/{n}/regenerate", "/v1/videos/{id}/events", "/v1/events/{id}/{n}",
	"/v1/credits/ledger", "/v1/videos/{id}/content", "/media/{rest}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t total = 0, first = -1, last = -1;
	char *text, *range, id[128];
	size_t i;
	int r;
	if (size < 8)
		return 0;
	for (i = 0; i < 8; i++)
		total = (int64_t)(((uint64_t)total << 8) | data[i]);
	if (total < 0)
		total = -(total + 1);
	text = lv_fuzz_text(data + 8, size - 8);
	range = strchr(text, '\n');
	if (range)
		*range++ = '\0';
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		memset(id, 'x', sizeof(id));
		if (srv_route_match(patterns[i], text, id, sizeof(id))) {
			size_t n = strnlen(id, sizeof(id));
			/* A parameter is never empty, fits, and is a segment (no "/" in {id}); without one, id is "". */
			if (n >= sizeof(id) || (n == 0) != (strchr(patterns[i], '{') == NULL))
				__builtin_trap();
			if (!strstr(patterns[i], "{rest}") && !strstr(patterns[i], "{n}") && strchr(id, '/'))
				__builtin_trap();
			if (strstr(patterns[i], "{id}") && !strstr(text, id) && !strchr(id, '/'))
				__builtin_trap();
		}
	}
	r = srv_byte_range(range, total, &first, &last);
	if (r == 1 && !(first >= 0 && first <= last && last < total))
		__builtin_trap();
	if (r != 1 && r != 0 && r != -1)
		__builtin_trap();
	free(text);
	return 0;
}
