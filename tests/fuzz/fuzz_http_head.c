/* The HTTP request path before a handler: the request head as the edge reads it (srv_head_end,
 * srv_head_parse: request line, Content-Length / Transfer-Encoding / Host rules, header limits), the
 * chunked body framing it follows between requests (srv_chunked_scan, fed whole and in two pieces:
 * the answers must agree), X-Request-Id (srv_request_id_valid) and the client address behind a
 * trusted proxy (srv_forwarded_client on the values of the Forwarded and X-Forwarded-For lines). */
#include "fuzz_util.h"
#include "parse.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void check_chunked(const char *p, size_t n, size_t split)
{
	srv_chunked a = SRV_CHUNKED_INIT, b = SRV_CHUNKED_INIT;
	const char *err;
	int done_a, done_b;
	size_t whole = srv_chunked_scan(&a, p, n, &done_a, &err), k1, k2 = 0;
	if (whole != (size_t)-1 && (whole > n || (!done_a && whole != n)))
		__builtin_trap();
	if (split > n)
		split = n;
	k1 = srv_chunked_scan(&b, p, split, &done_b, &err);
	if (k1 == (size_t)-1) {
		if (whole != (size_t)-1)
			__builtin_trap(); /* an error in a prefix is an error of the whole */
		return;
	}
	if (!done_b) {
		k2 = srv_chunked_scan(&b, p + split, n - split, &done_b, &err);
		if (k2 == (size_t)-1) {
			if (whole != (size_t)-1)
				__builtin_trap();
			return;
		}
	}
	if (whole == (size_t)-1 || done_a != done_b || whole != k1 + k2)
		__builtin_trap();
}

/* The value of the first header line called `name` in head[0..len), NUL-terminated (caller frees). */
static char *header_value(const char *head, size_t len, const char *name)
{
	size_t nl = strlen(name), i;
	for (i = 0; i + nl + 1 < len; i++) {
		if ((i == 0 || head[i - 1] == '\n') && !strncasecmp(head + i, name, nl) && head[i + nl] == ':') {
			const char *v = head + i + nl + 1, *e = memchr(v, '\n', len - (size_t)(v - head));
			size_t vl = e ? (size_t)(e - v) : len - (size_t)(v - head);
			char *out = lv_fuzz_text((const uint8_t *)v, vl);
			if (vl && out[vl - 1] == '\r')
				out[vl - 1] = '\0';
			return out;
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *msg;
	size_t hl, max = size < SRV_MAX_HEAD ? size : SRV_MAX_HEAD;
	srv_head h;
	int too_many;
	char *fwd, *xff, addr[64];
	hl = srv_head_end(buf, max);
	if (hl > max)
		__builtin_trap();
	if (!hl) {
		check_chunked(buf, size, size / 2);
		return 0;
	}
	msg = srv_head_parse(&h, buf, hl, &too_many);
	if (msg && !*msg)
		__builtin_trap(); /* a refusal names the problem */
	if (!msg && h.method) {
		/* What the edge lets through is what the smuggling rules promise. */
		if ((h.n_cl && h.n_te) || h.n_host > 1 || h.n_headers > SRV_MAX_HEADERS || (h.n_te && !h.chunked))
			__builtin_trap();
		if (h.method < buf || h.target + h.target_len > buf + hl || h.version + h.version_len > buf + hl)
			__builtin_trap();
		if (h.rid && (h.rid < buf || h.rid + h.rid_len > buf + hl))
			__builtin_trap();
		if (h.rid)
			(void)srv_request_id_valid(h.rid, h.rid_len);
		(void)srv_head_keep_alive(&h);
		{
			/* The edge's split of an accepted head into strings (for the reads it answers): every
			 * accepted HTTP/1.x head splits, into as many fields as it has, inside the copy. */
			srv_head_field f[SRV_MAX_HEADERS];
			const char *m = NULL, *t = NULL, *v = NULL;
			char *copy = malloc(hl + 1);
			size_t pl = srv_path_plain(h.target, h.target_len), i;
			int n;
			if (!copy)
				return 0;
			memcpy(copy, buf, hl);
			n = srv_head_split(copy, hl, &m, &t, &v, f, SRV_MAX_HEADERS);
			int nul = memchr(buf, '\0', hl) != NULL; /* the edge never serves a head with a NUL */
			if (!nul && h.version_len == 8 && !memcmp(h.version, "HTTP/1.", 7) && n != h.n_headers)
				__builtin_trap();
			for (i = 0; n > 0 && i < (size_t)n; i++)
				if (f[i].name < copy || f[i].value < copy || f[i].value > copy + hl ||
				    (!*f[i].name && !nul))
					__builtin_trap();
			if (n >= 0 && !nul && (strlen(m) != h.method_len || strlen(t) != h.target_len))
				__builtin_trap();
			/* A plain path is what it says: no escape, no dot segment, no empty segment. */
			if (pl > h.target_len || (pl && (memchr(h.target, '%', pl) || h.target[0] != '/')))
				__builtin_trap();
			for (i = 0; pl && i + 1 < pl; i++)
				if (h.target[i] == '/' && (h.target[i + 1] == '/' ||
				                           (h.target[i + 1] == '.' && (i + 2 == pl || h.target[i + 2] == '/'))))
					__builtin_trap();
			free(copy);
		}
	}
	if (too_many && !msg)
		__builtin_trap();
	/* The body after the head, as a chunked body, split where the first byte says. */
	check_chunked(buf + hl, size - hl, size > 0 ? data[0] : 0);
	fwd = header_value(buf, hl, "Forwarded");
	xff = header_value(buf, hl, "X-Forwarded-For");
	if (srv_forwarded_client(fwd, xff, addr, sizeof(addr)) == 0) {
		unsigned char bin[16];
		if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
			__builtin_trap();
	}
	free(fwd);
	free(xff);
	return 0;
}
