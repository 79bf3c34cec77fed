/*
 * lvserver's parsers of what a client sends before a request reaches a handler: the request head
 * the edge checks (request line, Content-Length / Transfer-Encoding / Host rules, the chunked body
 * framing between requests of one connection), X-Request-Id, the client address behind a trusted
 * proxy, route patterns and byte ranges.  Pure functions of their input (no I/O, no server state),
 * so that the libFuzzer harnesses in tests/fuzz call exactly what the server runs.
 */
#ifndef LVSERVER_PARSE_H
#define LVSERVER_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SRV_MAX_HEAD 16384   /* a request head, the empty line included (= CivetWeb's max_request_size) */
#define SRV_MAX_HEADERS 64   /* header fields in a head (= CivetWeb's MG_MAX_HEADERS) */

typedef struct srv_head {
	const char *method, *target, *version; /* point into the parsed buffer; NULL when not HTTP/1.x */
	size_t method_len, target_len, version_len;
	int n_headers, n_host, n_cl, n_te, keep_alive, close, chunked;
	long long cl;   /* Content-Length, or -1 */
	const char *rid; /* X-Request-Id */
	size_t rid_len;
	const char *origin; /* Origin */
	size_t origin_len;
} srv_head;

/* The length of the request head at the start of buf[0..len) (through its empty line; empty lines
 * before the request line count), or 0 when it has not fully arrived. */
size_t srv_head_end(const char *buf, size_t len);

/* Parse the head in buf[0..len) (as found by srv_head_end).  Returns NULL when the request may go on,
 * or the message of a 400 (of a 431 when *too_many is set).  A request line that is not
 * "METHOD TARGET VERSION" leaves h->method NULL and returns NULL (CivetWeb answers it). */
const char *srv_head_parse(srv_head *h, const char *buf, size_t len, int *too_many);

/* One header field of a head split by srv_head_split(). */
typedef struct srv_head_field {
	const char *name, *value;
} srv_head_field;

/* Split, in place, a head that srv_head_parse() accepted: buf[0..len) (buf has room for len + 1
 * bytes) gets NULs so that the method, the target, the version ("1.1", without "HTTP/") and each
 * field's name and value (without surrounding whitespace) are strings, pointed to by *method,
 * *target, *version and fields[0..n) (at most max).  Returns n, or -1 when the head is not an
 * HTTP/1.x head of at most max fields. */
int srv_head_split(char *buf, size_t len, const char **method, const char **target, const char **version,
                   srv_head_field *fields, int max);

/* The length of the path of a request target (up to '?') when it is plain: it begins with '/' and
 * holds only letters, digits, '-', '_', '.', '~' and single slashes, without "." or ".." segments,
 * so that it means the same before and after percent-decoding and dot-segment removal; else 0. */
size_t srv_path_plain(const char *target, size_t len);

/* 1 when an HTTP/1.1 head leaves the connection open after the response (HTTP/1.0: asked for). */
int srv_head_keep_alive(const srv_head *h);

/* A chunked request body, followed byte by byte: only "HEX\r\n" + data + "\r\n" chunks and the final
 * "0\r\n\r\n" (no extensions, no trailers), so that the edge and CivetWeb agree on where the body
 * ends. */
typedef struct srv_chunked {
	int state;
	unsigned digits;
	unsigned long long left;
} srv_chunked;
#define SRV_CHUNKED_INIT { 0, 0, 0 }

/* Follow p[0..n): returns how many of the bytes belong to the body (all of them unless it ends
 * inside); *done is set when the body's last byte is among them.  Returns (size_t)-1 with the message
 * in *err on malformed framing. */
size_t srv_chunked_scan(srv_chunked *c, const char *p, size_t n, int *done, const char **err);

/* 1 when a client's X-Request-Id (len bytes) is a plain token we may echo and log: 1-64 of
 * [A-Za-z0-9-_.:]. */
int srv_request_id_valid(const char *id, size_t len);

/* The client address a trusted proxy reports: the last "for=" of the last Forwarded element (RFC
 * 7239; quotes, brackets and a port removed) when `forwarded` is given, else the last address of
 * `xff` (X-Forwarded-For).  Addresses further left were written by the client and prove nothing.
 * Returns 0 with a numeric IPv4/IPv6 address in out, or -1 (out untouched) when neither names one. */
int srv_forwarded_client(const char *forwarded, const char *xff, char *out, size_t cap);

/* Whether `path` matches the route `pattern` (segments; "{id}" matches one non-empty segment, "{n}"
 * another that is appended to it as "/N", a final "{rest}" everything left); the parameters are
 * copied into id (cap bytes, NUL-terminated). */
int srv_route_match(const char *pattern, const char *path, char *id, size_t cap);

/* One "bytes=" range of a representation of `size` bytes: 1 and [*first, *last] when satisfiable, 0
 * when the header is absent, malformed or asks for several ranges (the whole body is sent), -1 when
 * unsatisfiable (416). */
int srv_byte_range(const char *h, int64_t size, int64_t *first, int64_t *last);

#endif
