#include "parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the request head ------------------------------------------------------------------------ */

size_t srv_head_end(const char *buf, size_t len)
{
	size_t i, start = 0;
	while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
		start++;
	for (i = start; i < len; i++)
		if (buf[i] == '\n') {
			if (i + 1 < len && buf[i + 1] == '\n')
				return i + 2;
			if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
				return i + 3;
		}
	return 0;
}

static int token_in(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0;
	while (i < n) {
		size_t s, len;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		len = i - s;
		while (len > 0 && (v[s + len - 1] == ' ' || v[s + len - 1] == '\t'))
			len--;
		if (len == tl && !strncasecmp(v + s, token, tl))
			return 1;
	}
	return 0;
}

const char *srv_head_parse(srv_head *h, const char *buf, size_t len, int *too_many)
{
	const char *p = buf, *end = buf + len, *eol, *sp1, *sp2;
	int cl_conflict = 0, te_other = 0;
	memset(h, 0, sizeof(*h));
	*too_many = 0;
	h->cl = -1;
	while (p < end && (*p == '\r' || *p == '\n'))
		p++; /* empty lines before the request line are ignored (RFC 9112 §2.2) */
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		return "request: malformed request line";
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2)
		return NULL; /* not HTTP/1.x as we know it: CivetWeb answers it */
	h->method = p;
	h->method_len = (size_t)(sp1 - p);
	h->target = sp1 + 1;
	h->target_len = (size_t)(sp2 - sp1 - 1);
	h->version = sp2 + 1;
	h->version_len = (size_t)(eol - sp2 - 1);
	if (h->version_len > 0 && h->version[h->version_len - 1] == '\r')
		h->version_len--;
	for (p = eol + 1; p < end; p = eol + 1) {
		const char *colon, *v;
		size_t nl, vl;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break; /* the empty line */
		if (*p == ' ' || *p == '\t')
			return "headers: line folding is not allowed";
		if (++h->n_headers > SRV_MAX_HEADERS) {
			*too_many = 1;
			return "headers: more than 64 header fields";
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return "headers: malformed header line";
		nl = (size_t)(colon - p);
		if (memchr(p, ' ', nl) || memchr(p, '\t', nl))
			return "headers: whitespace in a header name";
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		vl = (size_t)(eol - v);
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (nl == 4 && !strncasecmp(p, "Host", 4)) {
			h->n_host++;
		} else if (nl == 14 && !strncasecmp(p, "Content-Length", 14)) {
			long long n = 0;
			size_t i;
			if (vl == 0 || vl > 18)
				return "Content-Length: must be a decimal number";
			for (i = 0; i < vl; i++) {
				if (v[i] < '0' || v[i] > '9')
					return "Content-Length: must be a decimal number";
				n = n * 10 + (v[i] - '0');
			}
			if (h->n_cl++ && n != h->cl)
				cl_conflict = 1;
			h->cl = n;
		} else if (nl == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
			h->n_te++;
			if (vl == 7 && !strncasecmp(v, "chunked", 7))
				h->chunked = 1;
			else
				te_other = 1;
		} else if (nl == 6 && !strncasecmp(p, "Origin", 6)) {
			h->origin = v;
			h->origin_len = vl;
		} else if (nl == 12 && !strncasecmp(p, "X-Request-Id", 12)) {
			h->rid = v;
			h->rid_len = vl;
		} else if (nl == 10 && !strncasecmp(p, "Connection", 10)) {
			if (token_in(v, vl, "close"))
				h->close = 1;
			if (token_in(v, vl, "keep-alive"))
				h->keep_alive = 1;
		}
	}
	if (h->n_cl && h->n_te)
		return "Transfer-Encoding: not allowed together with Content-Length";
	if (cl_conflict)
		return "Content-Length: given more than once with different values";
	if (te_other || h->n_te > 1)
		return "Transfer-Encoding: only a single \"chunked\" is accepted";
	if (h->version_len == 8 && !memcmp(h->version, "HTTP/1.1", 8)) {
		if (h->n_host == 0)
			return "Host: required on HTTP/1.1";
	}
	if (h->n_host > 1)
		return "Host: given more than once";
	return NULL;
}

int srv_head_split(char *buf, size_t len, const char **method, const char **target, const char **version,
                   srv_head_field *fields, int max)
{
	char *p = buf, *end = buf + len, *eol, *sp1, *sp2;
	int n = 0;
	buf[len] = '\0';
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (!(eol = memchr(p, '\n', (size_t)(end - p))) || !(sp1 = memchr(p, ' ', (size_t)(eol - p))) ||
	    !(sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))))
		return -1;
	*sp1 = *sp2 = *eol = '\0';
	if (eol > sp2 && eol[-1] == '\r')
		eol[-1] = '\0';
	if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || !sp2[8] || sp2[9])
		return -1;
	*method = p;
	*target = sp1 + 1;
	*version = sp2 + 6;
	for (p = eol + 1; p < end; p = eol + 1) {
		char *colon, *v, *ve;
		if (!(eol = memchr(p, '\n', (size_t)(end - p))) || eol == p || (eol == p + 1 && *p == '\r'))
			break;
		if (n == max || !(colon = memchr(p, ':', (size_t)(eol - p))) || colon == p)
			return -1;
		*colon = '\0';
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		*ve = '\0';
		*eol = '\0';
		fields[n].name = p;
		fields[n++].value = v;
	}
	return n;
}

size_t srv_path_plain(const char *target, size_t len)
{
	size_t i, seg = 1;
	if (len == 0 || target[0] != '/')
		return 0;
	for (i = 1; i <= len; i++) {
		char ch = i < len ? target[i] : '?';
		if (ch == '?' || ch == '/') {
			size_t sl = i - seg;
			if (sl == 0 && (ch == '/' || i > 1))
				return 0; /* "//", or a trailing '/' (CivetWeb and the routes may differ on it) */
			if ((sl == 1 && target[seg] == '.') || (sl == 2 && target[seg] == '.' && target[seg + 1] == '.'))
				return 0;
			if (ch == '?')
				return i;
			seg = i + 1;
		} else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		             ch == '_' || ch == '.' || ch == '~')) {
			return 0;
		}
	}
	return 0;
}

int srv_head_keep_alive(const srv_head *h)
{
	if (h->version_len == 8 && !memcmp(h->version, "HTTP/1.1", 8))
		return !h->close;
	return h->keep_alive && !h->close;
}

/* ---- chunked bodies ---------------------------------------------------------------------------- */

enum { CK_SIZE, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_LAST_CR, CK_LAST_LF, CK_DONE };

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

size_t srv_chunked_scan(srv_chunked *c, const char *p, size_t n, int *done, const char **err)
{
	size_t i = 0;
	*done = 0;
	*err = NULL;
	while (i < n) {
		char ch = p[i];
		switch (c->state) {
		case CK_SIZE: {
			int v = hex_value(ch);
			if (v >= 0) {
				if (++c->digits > 15) {
					*err = "Transfer-Encoding: a chunk size is too large";
					return (size_t)-1;
				}
				c->left = c->left * 16 + (unsigned long long)v;
			} else if (ch == '\r' && c->digits > 0) {
				c->state = CK_SIZE_LF;
			} else {
				*err = ch == ';' ? "Transfer-Encoding: chunk extensions are not accepted"
				                 : "Transfer-Encoding: malformed chunk size line";
				return (size_t)-1;
			}
			i++;
			break;
		}
		case CK_SIZE_LF:
			if (ch != '\n') {
				*err = "Transfer-Encoding: malformed chunk size line";
				return (size_t)-1;
			}
			c->digits = 0;
			c->state = c->left ? CK_DATA : CK_LAST_CR;
			i++;
			break;
		case CK_DATA: {
			size_t k = n - i;
			if ((unsigned long long)k > c->left)
				k = (size_t)c->left;
			c->left -= k;
			i += k;
			if (!c->left)
				c->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
		case CK_LAST_CR:
			if (ch != '\r') {
				*err = c->state == CK_LAST_CR ? "Transfer-Encoding: trailers are not accepted"
				                              : "Transfer-Encoding: a chunk does not end with CRLF";
				return (size_t)-1;
			}
			c->state = c->state == CK_DATA_CR ? CK_DATA_LF : CK_LAST_LF;
			i++;
			break;
		case CK_DATA_LF:
		case CK_LAST_LF:
			if (ch != '\n') {
				*err = "Transfer-Encoding: a chunk does not end with CRLF";
				return (size_t)-1;
			}
			i++;
			if (c->state == CK_LAST_LF) {
				c->state = CK_DONE;
				*done = 1;
				return i;
			}
			c->state = CK_SIZE;
			break;
		default: /* CK_DONE: nothing more belongs to this body */
			*done = 1;
			return i;
		}
	}
	return i;
}

/* ---- X-Request-Id and the client behind a proxy ---------------------------------------------------- */

int srv_request_id_valid(const char *id, size_t len)
{
	size_t i;
	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':'))
			return 0;
	}
	return 1;
}

/* Copy a numeric address s[0..n) into out when it is one (IPv4 or IPv6). */
static int numeric_address(const char *s, size_t n, char *out, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	if (n == 0 || n >= sizeof(tmp) || n >= cap)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) != 1 && inet_pton(AF_INET6, tmp, bin) != 1)
		return -1;
	memcpy(out, tmp, n + 1);
	return 0;
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The node of a Forwarded "for=" value v[0..n): quotes, [brackets] and a port taken off. */
static int forwarded_node(const char *v, size_t n, char *out, size_t cap)
{
	const char *colon;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n > 0 && v[0] == '[') {
		const char *close = memchr(v, ']', n);
		if (!close || (close + 1 != v + n && close[1] != ':'))
			return -1;
		return numeric_address(v + 1, (size_t)(close - v - 1), out, cap);
	}
	colon = memchr(v, ':', n);
	if (colon && !memchr(colon + 1, ':', (size_t)(v + n - colon - 1)))
		n = (size_t)(colon - v); /* IPv4 with a port */
	return numeric_address(v, n, out, cap);
}

int srv_forwarded_client(const char *forwarded, const char *xff, char *out, size_t cap)
{
	if (forwarded && *forwarded) {
		const char *last = strrchr(forwarded, ','), *p = skip_ows(last ? last + 1 : forwarded);
		const char *found = NULL;
		size_t found_len = 0;
		while (*p) {
			size_t n = strcspn(p, ";");
			const char *v;
			if (n > 4 && !strncasecmp(p, "for=", 4)) {
				v = p + 4;
				found = v;
				found_len = n - 4;
				while (found_len > 0 && (v[found_len - 1] == ' ' || v[found_len - 1] == '\t'))
					found_len--;
			}
			p += n;
			if (*p == ';')
				p = skip_ows(p + 1);
		}
		return found ? forwarded_node(found, found_len, out, cap) : -1;
	}
	if (xff && *xff) {
		const char *last = strrchr(xff, ','), *a = skip_ows(last ? last + 1 : xff);
		size_t n = strcspn(a, " \t");
		if (a[n] && *skip_ows(a + n))
			return -1; /* something after the address */
		return numeric_address(a, n, out, cap);
	}
	return -1;
}

/* ---- routes and ranges ------------------------------------------------------------------------------- */

int srv_route_match(const char *pattern, const char *path, char *id, size_t cap)
{
	if (cap == 0)
		return 0;
	id[0] = '\0';
	while (*pattern && *path) {
		if (!strcmp(pattern, "{rest}")) {
			size_t n = strlen(path);
			if (n == 0 || n >= cap)
				return 0;
			memcpy(id, path, n + 1);
			return 1;
		}
		if (!strncmp(pattern, "{n}", 3)) {
			/* A second parameter is appended to the first as "/value". */
			size_t n = strcspn(path, "/"), used = strlen(id);
			if (n == 0 || used + 1 + n >= cap)
				return 0;
			id[used] = '/';
			memcpy(id + used + 1, path, n);
			id[used + 1 + n] = '\0';
			path += n;
			pattern += 3;
			continue;
		}
		if (!strncmp(pattern, "{id}", 4)) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= cap)
				return 0;
			memcpy(id, path, n);
			id[n] = '\0';
			path += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

/* A decimal number at s (no sign): 0 with *v and *end, or -1 (none, or out of range). */
static int decimal(const char *s, long long *v, char **end)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoll(s, end, 10);
	return errno ? -1 : 0;
}

int srv_byte_range(const char *h, int64_t size, int64_t *first, int64_t *last)
{
	const char *p;
	char *end;
	long long a, b;
	if (!h)
		return 0;
	h = skip_ows(h);
	if (strncasecmp(h, "bytes=", 6) != 0)
		return 0;
	p = skip_ows(h + 6);
	if (strchr(p, ','))
		return 0; /* several ranges: allowed to answer with the whole representation */
	if (*p == '-') {
		/* A suffix: the last N bytes. */
		if (decimal(p + 1, &b, &end) || *skip_ows(end))
			return 0;
		if (b == 0 || size <= 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (decimal(p, &a, &end) || *end != '-')
		return 0;
	p = skip_ows(end + 1);
	if (!*p) {
		b = size - 1;
	} else if (decimal(p, &b, &end) || *skip_ows(end) || b < a) {
		return 0;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}
