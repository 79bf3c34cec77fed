#define _GNU_SOURCE /* splice(2), pipe2(2), accept4(2) */
#include "edge.h"
#include "parse.h"
#include "routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EDGE_MAX_HEAD SRV_MAX_HEAD
#define EDGE_DRAIN_BYTES (1u << 20)  /* read at most this much of an unread body after a response */
#define EDGE_DRAIN_MS 2000           /* ... for at most this long */
#define EDGE_TICK_MS 100             /* deadline resolution */
#define EDGE_MAX_TRUSTED 32
#define EDGE_READY_EVERY_MS 1000     /* how often the readiness probe asks the store */
#define EDGE_MAX_LOOPS 64            /* server.edge_threads at most */
#define EDGE_AUTO_LOOPS 16           /* server.edge_threads 0: one loop per online CPU, at most this many */

enum { E_HEAD, E_SEND, E_CONNECT, E_PIPE, E_DRAIN, E_CLOSED };

/* Where the client's side of a handed-over connection is: every request on it is checked by the
 * edge before a byte of it goes on, so the bytes are forwarded request by request. */
enum {
	R_FIXED,   /* forwarding `fwd` more bytes: the head, then a Content-Length body */
	R_CHUNKED, /* forwarding a chunked body, its framing followed by srv_chunked_scan */
	R_BETWEEN, /* the request went on whole; the next head is checked before it is forwarded */
	R_HELD     /* the next head was refused: CivetWeb finishes what it has, then the edge answers */
};

struct econn;

typedef struct ep_tag {
	struct econn *c; /* NULL for the listener and the wake pipe */
	int side;        /* 0 client, 1 upstream; for a listener its index */
} ep_tag;

typedef struct edir {
	int r, w;         /* the pipe bytes travel through */
	size_t n;         /* bytes in the pipe */
	int eof;          /* the source has no more */
	int shut;         /* the destination was half-closed */
	int dead;         /* the destination is gone: drop what comes */
} edir;

typedef struct econn {
	struct econn *prev, *next;
	int state;
	int cfd, ufd;
	int64_t deadline;  /* E_HEAD, E_DRAIN; E_PIPE between requests once a byte arrived (else 0): ms monotonic */
	int req;           /* R_*, in E_CONNECT and E_PIPE */
	long long fwd;     /* R_FIXED: bytes of the current request still to forward */
	int chunked;       /* the current request's body is chunked (follows the R_FIXED head) */
	srv_chunked ck;
	int held_status;   /* R_HELD: the answer the edge gives once CivetWeb is done */
	char held_msg[160];
	int served;        /* requests answered by the edge itself on this connection */
	int peeked_all;    /* R_BETWEEN: the client's socket held nothing unchecked at the last look; the
	                    * next byte to arrive raises an event (edge-triggered), so it is not looked
	                    * at again before a client event */
	int family;
	unsigned char ip[16];
	char addr[INET6_ADDRSTRLEN];
	int trusted;
	int slot;          /* upstream local port registered in peers, or -1 */
	edir dir[2];       /* 0: client -> upstream, 1: upstream -> client */
	unsigned cev, uev; /* epoll interest now */
	size_t drained;
	char cors[384];    /* CORS header lines for the edge's own answers (server.cors_origins) */
	char *out;         /* E_SEND: a response the edge answered itself, out_off of out_len bytes sent */
	size_t out_len, out_off;
	int out_keep;      /* E_SEND: the connection stays open after it */
	ep_tag ctag, utag;
} econn;

typedef struct trusted_net {
	int family;
	unsigned char addr[16];
	int bits;
} trusted_net;

typedef struct peer_slot {
	char addr[INET6_ADDRSTRLEN];
	unsigned char trusted;
	unsigned char used;
} peer_slot;

/* Open connections by client address (trusted proxies are not counted), shared by the loops under
 * srv_edge.addr_lock: an open-addressing table at most half full (it has room for twice
 * server.max_connections addresses, and an address is in it only while it has an open connection). */
typedef struct addr_count {
	int family; /* 0: a free slot */
	int n;
	unsigned char ip[16];
} addr_count;

/* One event loop: a thread with its own epoll set; a connection belongs to one loop for its whole
 * life.  Loop 0 also owns the listening socket and hands what it accepts to the loops. */
typedef struct eloop {
	srv_edge *e;
	int epfd;
	int wake[2];                  /* wakes the loop: stop, quiesce, connections in its inbox */
	pthread_t thread;
	int started;
	econn *conns;                 /* this loop's only */
	econn *closed;                /* closed during this batch of events; freed after it */
	atomic_int n_conns;           /* open connections given to this loop (read by the acceptor) */
	pthread_mutex_t inbox_lock;
	econn *inbox, *inbox_tail;    /* accepted by loop 0 for this loop, not yet in its epoll set */
	ep_tag listen_tag, wake_tag;
	char buf[EDGE_MAX_HEAD + 1];  /* scratch: peeked heads, drained bytes */
} eloop;

struct srv_edge {
	srv_context *srv;
	srv_edge_options o;
	int lfd;                      /* loop 0's */
	eloop *loops;
	int n_loops;
	pthread_t prober;
	int prober_started;
	atomic_int stop;
	atomic_int quiesce;           /* stop accepting, keep serving what is open */
	atomic_int ready;             /* 1 ready, 0 not (see ready_msg) */
	char ready_msg[256];          /* guarded by lock */
	atomic_ullong open_now, refused, rejected, probes; /* for /metrics */
	int accept_paused;            /* loop 0's */
	int64_t accept_resume;        /* loop 0's */
	trusted_net trusted[EDGE_MAX_TRUSTED];
	size_t n_trusted;
	pthread_mutex_t lock;         /* peers, ready_msg */
	pthread_cond_t cond;          /* wakes the prober to stop */
	peer_slot *peers;             /* 65536, by upstream local port */
	pthread_mutex_t addr_lock;    /* addrs */
	addr_count *addrs;
	size_t addr_mask;             /* slots - 1 (a power of two) */
	size_t pipe_cap;
};

/* ---- addresses ------------------------------------------------------------------------------ */

static void addr_bytes(const struct sockaddr *sa, int *family, unsigned char ip[16])
{
	memset(ip, 0, 16);
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = AF_INET;
			memcpy(ip, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(ip, s6->sin6_addr.s6_addr, 16);
		}
	} else {
		*family = AF_INET;
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

static int parse_net(trusted_net *n, const char *text)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t hl = slash ? (size_t)(slash - text) : strlen(text);
	int max;
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, text, hl);
	host[hl] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, host, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	n->bits = max;
	if (slash) {
		char *end;
		long b = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || b < 0 || b > max)
			return -1;
		n->bits = (int)b;
	}
	return 0;
}

static int net_contains(const trusted_net *n, int family, const unsigned char ip[16])
{
	int full = n->bits / 8, rest = n->bits % 8;
	if (n->family != family)
		return 0;
	if (memcmp(n->addr, ip, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xffu << (8 - rest));
		if ((n->addr[full] & mask) != (ip[full] & mask))
			return 0;
	}
	return 1;
}

static int is_trusted(const srv_edge *e, int family, const unsigned char ip[16])
{
	size_t i;
	for (i = 0; i < e->n_trusted; i++)
		if (net_contains(&e->trusted[i], family, ip))
			return 1;
	return 0;
}

/* ---- connections by address ------------------------------------------------------------------ */

static size_t addr_hash(const srv_edge *e, int family, const unsigned char ip[16])
{
	uint32_t h = 2166136261u ^ (uint32_t)family; /* FNV-1a */
	int i;
	for (i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return (size_t)h & e->addr_mask;
}

/* The slot of (family, ip), or the free slot where it would go.  Under addr_lock. */
static size_t addr_find(const srv_edge *e, int family, const unsigned char ip[16])
{
	size_t i = addr_hash(e, family, ip);
	while (e->addrs[i].family && (e->addrs[i].family != family || memcmp(e->addrs[i].ip, ip, 16) != 0))
		i = (i + 1) & e->addr_mask;
	return i;
}

/* One more open connection from (family, ip), unless it has `limit` already: returns 0, or -1 at the
 * limit.  The table cannot fill: it holds at most as many addresses as there are open connections. */
static int addr_take(srv_edge *e, int family, const unsigned char ip[16], int limit)
{
	size_t i;
	int rc = -1;
	pthread_mutex_lock(&e->addr_lock);
	i = addr_find(e, family, ip);
	if (!e->addrs[i].family) {
		e->addrs[i].family = family;
		memcpy(e->addrs[i].ip, ip, 16);
		e->addrs[i].n = 0;
	}
	if (e->addrs[i].n < limit) {
		e->addrs[i].n++;
		rc = 0;
	}
	pthread_mutex_unlock(&e->addr_lock);
	return rc;
}

/* A connection from (family, ip) counted by addr_take() was closed. */
static void addr_release(srv_edge *e, int family, const unsigned char ip[16])
{
	size_t i, j;
	pthread_mutex_lock(&e->addr_lock);
	i = addr_find(e, family, ip);
	if (e->addrs[i].family && --e->addrs[i].n <= 0) {
		/* Free the slot, moving back the entries of the same probe run that belong before it. */
		for (j = (i + 1) & e->addr_mask; e->addrs[j].family; j = (j + 1) & e->addr_mask) {
			size_t k = addr_hash(e, e->addrs[j].family, e->addrs[j].ip);
			if (j > i ? (k <= i || k > j) : (k <= i && k > j)) {
				e->addrs[i] = e->addrs[j];
				i = j;
			}
		}
		e->addrs[i].family = 0;
	}
	pthread_mutex_unlock(&e->addr_lock);
}

void srv_edge_stats(srv_edge *e, unsigned long long *open_now, unsigned long long *refused,
                    unsigned long long *rejected, unsigned long long *probes)
{
	*open_now = e ? atomic_load(&e->open_now) : 0;
	*refused = e ? atomic_load(&e->refused) : 0;
	*rejected = e ? atomic_load(&e->rejected) : 0;
	*probes = e ? atomic_load(&e->probes) : 0;
}

int srv_edge_peer(srv_edge *e, int port, char *addr, size_t cap, int *trusted)
{
	int rc = -1;
	if (!e || port <= 0 || port > 65535)
		return -1;
	pthread_mutex_lock(&e->lock);
	if (e->peers[port].used) {
		snprintf(addr, cap, "%s", e->peers[port].addr);
		*trusted = e->peers[port].trusted;
		rc = 0;
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

/* ---- connections ------------------------------------------------------------------------------ */

static void set_interest(eloop *l, int fd, ep_tag *tag, unsigned *now, unsigned want)
{
	struct epoll_event ev;
	if (*now == want)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = tag;
	epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	*now = want;
}

static void close_pipes(econn *c)
{
	int d;
	for (d = 0; d < 2; d++) {
		if (c->dir[d].r >= 0)
			close(c->dir[d].r);
		if (c->dir[d].w >= 0)
			close(c->dir[d].w);
		c->dir[d].r = c->dir[d].w = -1;
	}
}

static void release_upstream(eloop *l, econn *c)
{
	if (c->slot > 0) {
		pthread_mutex_lock(&l->e->lock);
		l->e->peers[c->slot].used = 0;
		pthread_mutex_unlock(&l->e->lock);
		c->slot = -1;
	}
	if (c->ufd >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->ufd, NULL);
		close(c->ufd);
		c->ufd = -1;
	}
	close_pipes(c);
}

static void conn_close(eloop *l, econn *c)
{
	release_upstream(l, c);
	free(c->out);
	c->out = NULL;
	if (c->cfd >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->cfd, NULL);
		close(c->cfd);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->trusted)
		addr_release(l->e, c->family, c->ip);
	atomic_fetch_sub(&l->e->open_now, 1);
	atomic_fetch_sub(&l->n_conns, 1);
	/* Other events of the same batch may still point into c: free it after the batch. */
	c->state = E_CLOSED;
	c->cfd = -1;
	c->prev = NULL;
	c->next = l->closed;
	l->closed = c;
}

static void free_closed(eloop *l)
{
	while (l->closed) {
		econn *c = l->closed;
		l->closed = c->next;
		free(c);
	}
}

/* The response is out: half-close, then read and drop what the client still sends (bounded), so
 * that closing does not reset the connection under a response the client has not read yet. */
static void start_drain(eloop *l, econn *c)
{
	release_upstream(l, c);
	shutdown(c->cfd, SHUT_WR);
	c->state = E_DRAIN;
	c->deadline = srv_mono_ms() + EDGE_DRAIN_MS;
	c->drained = 0;
	set_interest(l, c->cfd, &c->ctag, &c->cev, EPOLLIN);
}

static void do_drain(eloop *l, econn *c)
{
	for (;;) {
		ssize_t n = recv(c->cfd, l->buf, sizeof(l->buf), 0);
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained >= EDGE_DRAIN_BYTES) {
				conn_close(l, c);
				return;
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(l, c); /* end of stream or error */
		return;
	}
}

/* A complete response written at once (they are small); a socket that cannot take it is dropped. */
static int send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

static int format_response(char *out, size_t cap, int status, const char *reason, const char *id,
                           const char *extra, const char *body, int head_only, int keep)
{
	size_t bl = strlen(body);
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	int n;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(out, cap,
	             "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n"
	             "Cache-Control: no-store\r\nDate: %s\r\nConnection: %s\r\nX-Request-Id: %s\r\n%s\r\n%s",
	             status, reason, bl, date, keep ? "keep-alive" : "close", id, extra ? extra : "",
	             head_only ? "" : body);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Answer an error from the edge and close (after draining). */
static void reject(eloop *l, econn *c, int status, const char *reason, const char *code, const char *message,
                   const char *extra)
{
	char body[512], resp[1536], id[32], headers[512];
	int n;
	srv_request_id(l->e->srv, id, sizeof(id));
	snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);
	snprintf(headers, sizeof(headers), "%s%s", extra ? extra : "", c->cors);
	n = format_response(resp, sizeof(resp), status, reason, id, headers, body, 0, 0);
	srv_log(l->e->srv, SRV_LOG_INFO, "%s %s edge %d %s", id, c->addr, status, message);
	atomic_fetch_add(&l->e->rejected, 1);
	if (n < 0 || send_all(c->cfd, resp, (size_t)n) != 0) {
		conn_close(l, c);
		return;
	}
	start_drain(l, c);
}

/* ---- the request head -------------------------------------------------------------------------- */

/* The CORS lines the edge's own answers carry: as the JSON API's (docs/api.md). */
static void cors_for(eloop *l, econn *c, const srv_head *h)
{
	char origin[256];
	const char *list = l->e->srv->cors_origins;
	c->cors[0] = '\0';
	if (!list || !*list)
		return;
	if (h->origin && h->origin_len < sizeof(origin)) {
		memcpy(origin, h->origin, h->origin_len);
		origin[h->origin_len] = '\0';
		if (srv_cors_allowed(l->e->srv, origin)) {
			snprintf(c->cors, sizeof(c->cors),
			         "Vary: Origin\r\nAccess-Control-Allow-Origin: %s\r\n"
			         "Access-Control-Expose-Headers: X-Request-Id, Retry-After\r\n",
			         origin);
			return;
		}
	}
	snprintf(c->cors, sizeof(c->cors), "Vary: Origin\r\n");
}

static int target_is(const srv_head *h, const char *path)
{
	size_t n = strlen(path);
	return h->target_len >= n && !memcmp(h->target, path, n) && (h->target_len == n || h->target[n] == '?');
}

static int method_is(const srv_head *h, const char *m)
{
	return h->method_len == strlen(m) && !memcmp(h->method, m, h->method_len);
}

/* The edge's own answer to the request whose head h (head_len bytes, only peeked at so far) is
 * on c: the head is taken off the socket, the answer written and logged as CivetWeb's access log
 * would (`path` names the request there; `extra` adds header lines), and the connection then waits
 * for its next request (returns 1), or is closing (0), or was closed because the client is gone
 * (-1).  Runs on c's loop; l->buf is its scratch. */
static int answer_here(eloop *l, econn *c, const srv_head *h, size_t head_len, int64_t started, int status,
                       const char *reason, const char *extra, const char *path, const char *body)
{
	char resp[1536], id[72], headers[512];
	int keep, n;
	/* Take the head off the socket now (it was only peeked at). */
	ssize_t k = recv(c->cfd, l->buf, head_len, 0);
	if (k != (ssize_t)head_len) {
		conn_close(l, c);
		return -1;
	}
	if (h->rid && srv_request_id_valid(h->rid, h->rid_len))
		snprintf(id, sizeof(id), "%.*s", (int)h->rid_len, h->rid);
	else
		srv_request_id(l->e->srv, id, sizeof(id));
	keep = srv_head_keep_alive(h);
	snprintf(headers, sizeof(headers), "%s%s", extra ? extra : "", c->cors);
	n = format_response(resp, sizeof(resp), status, reason, id, headers, body, method_is(h, "HEAD"), keep);
	srv_log(l->e->srv, SRV_LOG_INFO, "%s %.*s %s %d %lldms edge %s", id, (int)h->method_len, h->method, path, status,
	        (long long)(srv_mono_ms() - started), c->addr);
	if (n < 0 || send_all(c->cfd, resp, (size_t)n) != 0) {
		conn_close(l, c);
		return -1;
	}
	c->served++;
	if (!keep) {
		start_drain(l, c);
		return 0;
	}
	c->deadline = srv_mono_ms() + l->e->o.header_timeout_ms;
	return 1;
}

static int is_probe(const srv_head *h)
{
	return h->method && (target_is(h, "/healthz") || target_is(h, "/readyz")) &&
	       (method_is(h, "GET") || method_is(h, "HEAD")) && h->n_te == 0 && h->cl <= 0;
}

/* /healthz and /readyz.  Returns as answer_here(). */
static int serve_probe(eloop *l, econn *c, const srv_head *h, size_t head_len)
{
	char body[384];
	int ready = 1, rc;
	int64_t started = srv_mono_ms();
	const char *path = target_is(h, "/healthz") ? "/healthz" : "/readyz";

	if (!strcmp(path, "/healthz")) {
		snprintf(body, sizeof(body), "{\"status\":\"ok\",\"version\":\"%s\"}", lv_version());
	} else {
		char msg[256];
		pthread_mutex_lock(&l->e->lock);
		ready = atomic_load(&l->e->ready);
		snprintf(msg, sizeof(msg), "%s", l->e->ready_msg);
		pthread_mutex_unlock(&l->e->lock);
		if (ready)
			snprintf(body, sizeof(body), "{\"status\":\"ready\",\"version\":\"%s\"}", lv_version());
		else
			snprintf(body, sizeof(body), "{\"status\":\"unavailable\",\"version\":\"%s\",\"error\":\"%s\"}",
			         lv_version(), msg);
	}
	rc = answer_here(l, c, h, head_len, started, ready ? 200 : 503, ready ? "OK" : "Service Unavailable",
	                 ready ? NULL : "Retry-After: 1\r\n", path, body);
	if (rc >= 0)
		atomic_fetch_add(&l->e->probes, 1);
	return rc;
}

static void do_head(eloop *l, econn *c);

/* The rest of a response the edge answered itself, as far as the socket takes it now.  Returns 1 when
 * the connection waits for its next request, 0 when it is closed, draining or still sending. */
static int send_rest(eloop *l, econn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t k = send(c->cfd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The client reads slowly: the rest goes out as it does, within the head deadline. */
			c->state = E_SEND;
			c->deadline = srv_mono_ms() + l->e->o.header_timeout_ms;
			set_interest(l, c->cfd, &c->ctag, &c->cev, EPOLLOUT | EPOLLET);
			return 0;
		}
		if (k <= 0) {
			conn_close(l, c);
			return 0;
		}
		c->out_off += (size_t)k;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (!c->out_keep) {
		start_drain(l, c);
		return 0;
	}
	c->state = E_HEAD;
	c->deadline = srv_mono_ms() + l->e->o.header_timeout_ms;
	set_interest(l, c->cfd, &c->ctag, &c->cev, EPOLLIN | EPOLLET);
	return 1;
}

/* A read the edge answers itself (srv_edge_serves): the route runs here, on the connection's loop,
 * with the head as it arrived.  Returns 1 when the connection waits for its next request. */
static int serve_read(eloop *l, econn *c, size_t head_len)
{
	int keep = 0;
	ssize_t k = recv(c->cfd, l->buf, head_len, 0); /* take the head off the socket: it was only peeked at */
	if (k != (ssize_t)head_len || srv_serve_edge(l->e->srv, l->buf, head_len, c->addr, c->trusted, &c->out,
	                                             &c->out_len, &keep) < 0) {
		conn_close(l, c);
		return 0;
	}
	c->out_off = 0;
	c->out_keep = keep;
	c->served++;
	return send_rest(l, c);
}

static void do_send(eloop *l, econn *c)
{
	if (send_rest(l, c))
		do_head(l, c); /* a next request may have arrived meanwhile: its event was taken while sending */
}

/* The requests the edge answers itself, on the loop that owns the connection, instead of handing
 * them to CivetWeb: a head (checked, complete, still on the socket) the edge serves is answered
 * here -- the probes, and with server.edge_reads the JSON reads (never a head with a NUL byte,
 * which the routes' strings could not hold).  Returns -1 for a head that goes to CivetWeb, else 0
 * (the connection is closing, closed or still sending) or 1 (it waits for its next request). */
static int serve_here(eloop *l, econn *c, const srv_head *h, size_t head_len)
{
	if (is_probe(h))
		return serve_probe(l, c, h, head_len) > 0;
	if (l->e->o.serve_reads && srv_edge_serves(h) && !memchr(l->buf, '\0', head_len))
		return serve_read(l, c, head_len);
	return -1;
}

static void start_upstream(eloop *l, econn *c);

/* The request whose head h (hl bytes) was accepted goes on: the head and its body, and no byte more
 * until the next head has been checked. */
static void admit(econn *c, const srv_head *h, size_t hl)
{
	srv_chunked fresh = SRV_CHUNKED_INIT;
	c->req = R_FIXED;
	c->fwd = (long long)hl + (h->method && h->cl > 0 ? h->cl : 0);
	c->chunked = h->method && h->chunked;
	c->ck = fresh;
	c->deadline = 0;
}

static void do_head(eloop *l, econn *c)
{
	for (;;) {
		ssize_t n = recv(c->cfd, l->buf, EDGE_MAX_HEAD, MSG_PEEK);
		size_t hl;
		const char *msg;
		srv_head h;
		int too_many;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_close(l, c);
			return;
		}
		if (n < 0)
			return;
		if (!(hl = srv_head_end(l->buf, (size_t)n))) {
			if ((size_t)n >= EDGE_MAX_HEAD)
				reject(l, c, 431, "Request Header Fields Too Large", "request_too_large",
				       "headers: larger than 16384 bytes", NULL);
			return; /* wait for more (edge-triggered: the next byte wakes us) */
		}
		msg = srv_head_parse(&h, l->buf, hl, &too_many);
		cors_for(l, c, &h);
		if (msg) {
			if (too_many)
				reject(l, c, 431, "Request Header Fields Too Large", "request_too_large", msg, NULL);
			else
				reject(l, c, 400, "Bad Request", "invalid_request", msg, NULL);
			return;
		}
		switch (serve_here(l, c, &h, hl)) {
		case 1:
			continue; /* answered; a pipelined next request may be there already */
		case 0:
			return;   /* answered, and the connection is closing */
		default:
			break;    /* CivetWeb's */
		}
		admit(c, &h, hl);
		start_upstream(l, c);
		return;
	}
}

/* ---- the hand-over ------------------------------------------------------------------------------ */

static void update_pipe_interest(eloop *l, econn *c)
{
	unsigned cw = 0, uw = 0;
	if (!c->dir[0].eof && !c->dir[0].dead && c->dir[0].n < l->e->pipe_cap)
		cw |= c->req == R_BETWEEN ? EPOLLIN | EPOLLET : c->req == R_HELD ? 0u : (unsigned)EPOLLIN;
	if (c->dir[1].n > 0)
		cw |= EPOLLOUT;
	if (!c->dir[1].eof && c->dir[1].n < l->e->pipe_cap)
		uw |= EPOLLIN;
	if (c->dir[0].n > 0 && !c->dir[0].dead)
		uw |= EPOLLOUT;
	set_interest(l, c->cfd, &c->ctag, &c->cev, cw);
	set_interest(l, c->ufd, &c->utag, &c->uev, uw);
}

/* The next head was refused (or did not arrive in time): nothing more goes to CivetWeb, which
 * finishes the response it is writing and closes; then the edge answers `status` and closes. */
static void hold(eloop *l, econn *c, int status, const char *message)
{
	c->req = R_HELD;
	c->held_status = status;
	snprintf(c->held_msg, sizeof(c->held_msg), "%s", message);
	c->dir[0].eof = 1;
	if (!c->dir[0].shut && c->dir[0].n == 0) {
		shutdown(c->ufd, SHUT_WR);
		c->dir[0].shut = 1;
	}
	(void)l;
}

/* How many bytes the client may send on to CivetWeb now (at most room): the rest of the current
 * request and nothing of the next.  A chunked body is peeked at and followed; its bytes are counted
 * by account() once moved. */
static size_t allowance(eloop *l, econn *c, size_t room)
{
	if (c->req == R_FIXED)
		return c->fwd < (long long)room ? (size_t)c->fwd : room;
	if (c->req == R_CHUNKED) {
		srv_chunked probe = c->ck;
		const char *err;
		int done;
		size_t k;
		ssize_t n = recv(c->cfd, l->buf, room < EDGE_MAX_HEAD ? room : EDGE_MAX_HEAD, MSG_PEEK);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : room; /* splice sees the end */
		k = srv_chunked_scan(&probe, l->buf, (size_t)n, &done, &err);
		if (k == (size_t)-1) {
			hold(l, c, 400, err);
			return 0;
		}
		return k;
	}
	return 0;
}

/* k bytes of the client's went on (for a chunked body, the first k of those allowance() peeked at). */
static void account(eloop *l, econn *c, size_t k)
{
	if (c->req == R_FIXED) {
		c->fwd -= (long long)k;
		if (c->fwd == 0)
			c->req = c->chunked ? R_CHUNKED : R_BETWEEN;
	} else if (c->req == R_CHUNKED) {
		const char *err;
		int done;
		(void)srv_chunked_scan(&c->ck, l->buf, k, &done, &err);
		if (done)
			c->req = R_BETWEEN;
	}
}

/* Move what can move in direction d.  Returns -1 when the connection must be closed. */
static int pump(eloop *l, econn *c, int d)
{
	edir *x = &c->dir[d];
	int src = d == 0 ? c->cfd : c->ufd, dst = d == 0 ? c->ufd : c->cfd;
	if (x->dead)
		return 0; /* what the client still sends is drained after the response */
	int drained = 0; /* the source gave less than asked: it has no more now (its level-triggered
	                  * event says when it has) */
	for (;;) {
		int moved = 0;
		if (!x->eof && !drained && x->n < l->e->pipe_cap) {
			size_t want = d == 0 ? allowance(l, c, l->e->pipe_cap - x->n) : l->e->pipe_cap - x->n;
			ssize_t k = want ? splice(src, NULL, x->w, NULL, want, SPLICE_F_NONBLOCK | SPLICE_F_MOVE) : -2;
			if (k > 0) {
				x->n += (size_t)k;
				moved = 1;
				drained = (size_t)k < want;
				if (d == 0)
					account(l, c, (size_t)k);
			} else if (k == 0) {
				x->eof = 1;
			} else if (k == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
				if (d == 1)
					return -1;
				x->eof = 1; /* the client's side broke: nothing more comes from it */
			}
		}
		if (x->n > 0) {
			ssize_t k = splice(x->r, NULL, dst, NULL, x->n, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (k > 0) {
				x->n -= (size_t)k;
				moved = 1;
			} else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				if (d == 1)
					return -1; /* the client is gone */
				x->dead = 1;       /* CivetWeb closed while the client was still sending */
				return 0;
			}
		}
		if (!moved)
			break;
	}
	if (x->eof && x->n == 0 && !x->shut && !x->dead &&
	    !(d == 1 && (c->req == R_HELD || (c->req == R_BETWEEN && c->deadline)))) {
		/* (The client's side stays open when the edge still has an answer to write on it.) */
		shutdown(dst, SHUT_WR);
		x->shut = 1;
	}
	return 0;
}

/* Between requests: check the next head once it has fully arrived (and before any of it is
 * forwarded).  Returns 1 when it was admitted (there is more to move). */
static int next_head(eloop *l, econn *c)
{
	ssize_t n;
	size_t hl;
	const char *msg;
	srv_head h;
	int too_many;
	if (c->req != R_BETWEEN || c->dir[0].n > 0 || c->dir[0].eof || c->dir[0].dead || c->peeked_all)
		return 0;
	n = recv(c->cfd, l->buf, EDGE_MAX_HEAD, MSG_PEEK);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->peeked_all = 1;
			return 0;
		}
		c->dir[0].eof = 1; /* the client sends no more requests: CivetWeb is told so */
		if (!c->dir[0].shut) {
			shutdown(c->ufd, SHUT_WR);
			c->dir[0].shut = 1;
		}
		return 0;
	}
	if (!c->deadline)
		c->deadline = srv_mono_ms() + l->e->o.header_timeout_ms;
	if (!(hl = srv_head_end(l->buf, (size_t)n))) {
		if ((size_t)n >= EDGE_MAX_HEAD)
			hold(l, c, 431, "headers: larger than 16384 bytes");
		else
			c->peeked_all = 1; /* the rest of the head raises the next event */
		return 0;
	}
	msg = srv_head_parse(&h, l->buf, hl, &too_many);
	cors_for(l, c, &h);
	if (msg) {
		hold(l, c, too_many ? 431 : 400, msg);
		return 0;
	}
	admit(c, &h, hl);
	/* What was looked at is exactly this request: once it has gone on, nothing is left to check
	 * until more arrives. */
	c->peeked_all = c->fwd == (long long)n && !c->chunked;
	return 1;
}

/* The edge's own answer to a request it held back, now that CivetWeb has sent its last byte. */
static void answer_held(eloop *l, econn *c)
{
	int st = c->held_status;
	char msg[sizeof(c->held_msg)];
	memcpy(msg, c->held_msg, sizeof(msg));
	if (st == 408)
		reject(l, c, 408, "Request Timeout", "invalid_request", msg, NULL);
	else if (st == 431)
		reject(l, c, 431, "Request Header Fields Too Large", "request_too_large", msg, NULL);
	else
		reject(l, c, 400, "Bad Request", "invalid_request", msg, NULL);
}

/* side: which socket raised the event (0 client, 1 CivetWeb; -1 neither, look at both). */
static void do_pipe(eloop *l, econn *c, int side)
{
	if (side != 1)
		c->peeked_all = 0;
	do {
		/* CivetWeb's side is read on its own (level-triggered) events, or to flush what waits for
		 * the client; a client event alone does not make it readable. */
		if (pump(l, c, 0) != 0 || ((side != 0 || c->dir[1].n > 0) && pump(l, c, 1) != 0)) {
			conn_close(l, c);
			return;
		}
	} while (next_head(l, c));
	if (c->dir[1].eof && c->dir[1].n == 0) {
		/* CivetWeb has sent everything and closed. */
		if (c->req == R_BETWEEN && c->deadline) {
			/* CivetWeb's keep-alive limit ended the connection while the next head was arriving. */
			c->req = R_HELD;
			c->held_status = 408;
			snprintf(c->held_msg, sizeof(c->held_msg),
			         "request: the next request head did not arrive within the 2 s a kept-alive connection "
			         "may stay idle");
		}
		if (c->req == R_HELD)
			answer_held(l, c);
		else if (c->dir[0].eof && c->dir[0].n == 0)
			conn_close(l, c);
		else
			start_drain(l, c);
		return;
	}
	update_pipe_interest(l, c);
}

static void start_upstream(eloop *l, econn *c)
{
	struct sockaddr_in up, local;
	socklen_t ll = sizeof(local);
	struct epoll_event ev;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		reject(l, c, 503, "Service Unavailable", "internal_error", "server: out of file descriptors",
		       "Retry-After: 1\r\n");
		return;
	}
	memset(&up, 0, sizeof(up));
	up.sin_family = AF_INET;
	up.sin_port = htons((unsigned short)l->e->o.upstream_port);
	up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((connect(fd, (struct sockaddr *)&up, sizeof(up)) != 0 && errno != EINPROGRESS) ||
	    getsockname(fd, (struct sockaddr *)&local, &ll) != 0) {
		close(fd);
		reject(l, c, 503, "Service Unavailable", "internal_error", "server: cannot take the request now",
		       "Retry-After: 1\r\n");
		return;
	}
	c->ufd = fd;
	c->slot = ntohs(local.sin_port);
	pthread_mutex_lock(&l->e->lock);
	snprintf(l->e->peers[c->slot].addr, sizeof(l->e->peers[c->slot].addr), "%s", c->addr);
	l->e->peers[c->slot].trusted = (unsigned char)c->trusted;
	l->e->peers[c->slot].used = 1;
	pthread_mutex_unlock(&l->e->lock);
	c->state = E_CONNECT;
	c->utag.c = c;
	c->utag.side = 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = &c->utag;
	c->uev = EPOLLOUT;
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
	/* The client waits (level-triggered from now on) until the upstream connection is up. */
	{
		struct epoll_event cev;
		memset(&cev, 0, sizeof(cev));
		cev.data.ptr = &c->ctag;
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->cfd, &cev);
		c->cev = 0;
	}
}

static void upstream_connected(eloop *l, econn *c)
{
	int err = 0, d;
	socklen_t el = sizeof(err);
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
		reject(l, c, 503, "Service Unavailable", "internal_error", "server: cannot take the request now",
		       "Retry-After: 1\r\n");
		return;
	}
	for (d = 0; d < 2; d++) {
		int fds[2];
		if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
			conn_close(l, c);
			return;
		}
		c->dir[d].r = fds[0];
		c->dir[d].w = fds[1];
	}
	c->state = E_PIPE;
	c->peeked_all = 0;
	do_pipe(l, c, -1);
}

/* ---- accepting ---------------------------------------------------------------------------------- */

static void refuse(srv_edge *e, int fd, const char *addr, const char *message)
{
	char body[384], resp[1024], id[32];
	int n;
	srv_request_id(e->srv, id, sizeof(id));
	snprintf(body, sizeof(body), "{\"error\":{\"code\":\"rate_limited\",\"message\":\"%s\"}}", message);
	n = format_response(resp, sizeof(resp), 429, "Too Many Requests", id, "Retry-After: 1\r\n", body, 0, 0);
	srv_log(e->srv, SRV_LOG_DEBUG, "%s %s refused: %s", id, addr, message);
	atomic_fetch_add(&e->refused, 1);
	if (n > 0)
		(void)send(fd, resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void wake_loop(eloop *l, char why)
{
	if (l->wake[1] >= 0 && write(l->wake[1], &why, 1) < 0) {
		/* a full pipe is readable already; the loop also wakes by itself every tick */
	}
}

/* A connection accepted (and counted) by loop 0 starts on its loop l: into its list and epoll set,
 * and its head is looked at (it may have arrived already). */
static void adopt(eloop *l, econn *c)
{
	struct epoll_event ev;
	c->prev = NULL;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	memset(&ev, 0, sizeof(ev));
	/* Edge-triggered while the head arrives: the bytes are only peeked at, so a level-triggered
	 * descriptor would stay readable and spin. */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = &c->ctag;
	c->cev = ev.events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->cfd, &ev) != 0) {
		conn_close(l, c);
		return;
	}
	do_head(l, c);
}

/* Hand c to another loop: it takes it from its inbox when woken. */
static void hand_over(eloop *l, econn *c)
{
	int was_empty;
	c->next = NULL;
	pthread_mutex_lock(&l->inbox_lock);
	was_empty = !l->inbox;
	if (l->inbox_tail)
		l->inbox_tail->next = c;
	else
		l->inbox = c;
	l->inbox_tail = c;
	pthread_mutex_unlock(&l->inbox_lock);
	if (was_empty)
		wake_loop(l, 'c');
}

/* The loop was woken: empty the wake pipe, then start the connections handed to it (in that order,
 * so that a connection handed over after the pipe was emptied wakes the loop again). */
static void take_inbox(eloop *l)
{
	char junk[64];
	econn *c, *next;
	while (read(l->wake[0], junk, sizeof(junk)) > 0) {
	}
	pthread_mutex_lock(&l->inbox_lock);
	c = l->inbox;
	l->inbox = l->inbox_tail = NULL;
	pthread_mutex_unlock(&l->inbox_lock);
	for (; c; c = next) {
		next = c->next;
		adopt(l, c);
	}
}

/* The loop with the fewest open connections; on a tie the lowest, so loop 0 itself while it holds no
 * more than the others: a lightly loaded server hands nothing over (a hand-over costs the new
 * connection a wake-up of another thread before its head is read). */
static eloop *pick_loop(srv_edge *e)
{
	int i, best = 0, fewest = atomic_load(&e->loops[0].n_conns);
	for (i = 1; i < e->n_loops && fewest > 0; i++) {
		int n = atomic_load(&e->loops[i].n_conns);
		if (n < fewest) {
			best = i;
			fewest = n;
		}
	}
	return &e->loops[best];
}

/* Loop 0 accepts for every loop.  The limits are checked here, against counts the loops lower as
 * they close connections: open_now is raised by this thread only, so checking it and raising it
 * cannot let two connections through for one place; the count per address is checked and raised
 * under its lock. */
static void do_accept(eloop *l0)
{
	srv_edge *e = l0->e;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		unsigned char ip[16];
		int family, fd, trusted;
		econn *c;
		eloop *l;
		char addr[INET6_ADDRSTRLEN];

		fd = accept4(e->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting for a moment instead of spinning on a
				 * listener that stays readable. */
				struct epoll_event lev;
				memset(&lev, 0, sizeof(lev));
				lev.data.ptr = &l0->listen_tag;
				epoll_ctl(l0->epfd, EPOLL_CTL_MOD, e->lfd, &lev);
				e->accept_paused = 1;
				e->accept_resume = srv_mono_ms() + EDGE_TICK_MS;
				srv_log(e->srv, SRV_LOG_WARN, "edge: cannot accept: %s", strerror(errno));
			}
			return;
		}
		addr_bytes((struct sockaddr *)&ss, &family, ip);
		if (!inet_ntop(family, ip, addr, sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		trusted = is_trusted(e, family, ip);
		if (atomic_load(&e->open_now) >= (unsigned long long)e->o.max_connections) {
			refuse(e, fd, addr, "connections: the server has too many open connections; retry later");
			continue;
		}
		if (!trusted && addr_take(e, family, ip, e->o.max_connections_per_ip) != 0) {
			char m[160];
			snprintf(m, sizeof(m), "connections: at most %d open connections from one address "
			                       "(server.max_connections_per_ip)",
			         e->o.max_connections_per_ip);
			refuse(e, fd, addr, m);
			continue;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			if (!trusted)
				addr_release(e, family, ip);
			close(fd);
			continue;
		}
		c->cfd = fd;
		c->ufd = -1;
		c->slot = -1;
		c->family = family;
		memcpy(c->ip, ip, 16);
		memcpy(c->addr, addr, sizeof(addr));
		c->trusted = trusted;
		c->dir[0].r = c->dir[0].w = c->dir[1].r = c->dir[1].w = -1;
		c->state = E_HEAD;
		c->deadline = srv_mono_ms() + e->o.header_timeout_ms;
		c->ctag.c = c;
		c->ctag.side = 0;
		atomic_fetch_add(&e->open_now, 1);
		l = pick_loop(e);
		atomic_fetch_add(&l->n_conns, 1);
		if (l == l0)
			adopt(l0, c);
		else
			hand_over(l, c);
	}
}

/* ---- the loops ----------------------------------------------------------------------------------- */

static void sweep(eloop *l, int64_t now)
{
	srv_edge *e = l->e;
	econn *c = l->conns, *next;
	if (l == e->loops && e->accept_paused && now >= e->accept_resume && e->lfd >= 0) {
		struct epoll_event lev;
		memset(&lev, 0, sizeof(lev));
		lev.events = EPOLLIN;
		lev.data.ptr = &l->listen_tag;
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, e->lfd, &lev);
		e->accept_paused = 0;
	}
	for (; c; c = next) {
		next = c->next;
		if (c->state == E_HEAD && now >= c->deadline) {
			char b;
			if (c->served && recv(c->cfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0) {
				conn_close(l, c); /* an idle keep-alive connection: no byte of a next request */
			} else {
				char m[128];
				snprintf(m, sizeof(m), "request: the request head did not arrive within %d ms "
				                       "(server.header_timeout_ms)",
				         e->o.header_timeout_ms);
				reject(l, c, 408, "Request Timeout", "invalid_request", m, NULL);
			}
		} else if (c->state == E_PIPE && c->req == R_BETWEEN && c->deadline && now >= c->deadline) {
			char m[128];
			snprintf(m, sizeof(m), "request: the request head did not arrive within %d ms "
			                       "(server.header_timeout_ms)",
			         e->o.header_timeout_ms);
			hold(l, c, 408, m);
			update_pipe_interest(l, c);
		} else if ((c->state == E_DRAIN || c->state == E_SEND) && now >= c->deadline) {
			conn_close(l, c); /* E_SEND: a client that does not read its response */
		}
	}
}

static void *loop_main(void *arg)
{
	eloop *l = arg;
	srv_edge *e = l->e;
	struct epoll_event evs[64];
	int64_t last_sweep = srv_mono_ms();
	char name[16];
	snprintf(name, sizeof(name), "lvedge-%d", (int)(l - e->loops));
	(void)pthread_setname_np(pthread_self(), name); /* as top -H and /proc/PID/task/TID/comm show it */
	while (!atomic_load(&e->stop)) {
		int n = epoll_wait(l->epfd, evs, 64, EDGE_TICK_MS), i;
		int64_t now;
		if (l == e->loops && atomic_load(&e->quiesce) && e->lfd >= 0) {
			/* (Events of this batch that name the listener are skipped below.) */
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->lfd, NULL);
			close(e->lfd);
			e->lfd = -1;
		}
		for (i = 0; i < n; i++) {
			ep_tag *t = evs[i].data.ptr;
			econn *c = t->c;
			if (t == &l->wake_tag) {
				take_inbox(l);
				continue;
			}
			if (t == &l->listen_tag) {
				if (e->lfd >= 0)
					do_accept(l);
				continue;
			}
			switch (c->state) {
			case E_HEAD:
				if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN))
					conn_close(l, c);
				else
					do_head(l, c);
				break;
			case E_CONNECT:
				if (t->side == 1)
					upstream_connected(l, c);
				else if (evs[i].events & (EPOLLERR | EPOLLHUP))
					conn_close(l, c);
				break;
			case E_SEND:
				if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLOUT))
					conn_close(l, c);
				else
					do_send(l, c);
				break;
			case E_PIPE:
				do_pipe(l, c, t->side);
				break;
			case E_DRAIN:
				do_drain(l, c);
				break;
			default: /* closed by an earlier event of this batch */
				break;
			}
		}
		now = srv_mono_ms();
		if (now - last_sweep >= EDGE_TICK_MS) {
			sweep(l, now);
			last_sweep = now;
		}
		free_closed(l);
	}
	while (l->conns)
		conn_close(l, l->conns);
	free_closed(l);
	return NULL;
}

/* Ask the store (and the storage) whether this process can serve, once a second, so that /readyz
 * answers at once from what was last seen and never waits for a slow store itself. */
static void *prober_main(void *arg)
{
	srv_edge *e = arg;
	pthread_mutex_lock(&e->lock);
	while (!atomic_load(&e->stop)) {
		char msg[256] = "";
		int ok;
		struct timespec until;
		pthread_mutex_unlock(&e->lock);
		ok = srv_check_ready(e->srv, msg, sizeof(msg)) == 0;
		pthread_mutex_lock(&e->lock);
		snprintf(e->ready_msg, sizeof(e->ready_msg), "%s", msg);
		atomic_store(&e->ready, ok);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += EDGE_READY_EVERY_MS / 1000;
		if (!atomic_load(&e->stop))
			pthread_cond_timedwait(&e->cond, &e->lock, &until);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- start and stop -------------------------------------------------------------------------------- */

static int open_listener(const char *listen_addr, int *port, char *err, size_t cap)
{
	char host[256], service[16];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, rc;
	if (colon) {
		size_t hl = (size_t)(colon - listen_addr);
		if (hl >= sizeof(host) || strlen(colon + 1) >= sizeof(service)) {
			snprintf(err, cap, "malformed address");
			return -1;
		}
		memcpy(host, listen_addr, hl);
		host[hl] = '\0';
		snprintf(service, sizeof(service), "%s", colon + 1);
	} else {
		host[0] = '\0';
		snprintf(service, sizeof(service), "%s", listen_addr);
	}
	if (host[0] == '[') {
		size_t hl = strlen(host);
		if (hl < 2 || host[hl - 1] != ']') {
			snprintf(err, cap, "malformed IPv6 address");
			return -1;
		}
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (!host[0] || !strcmp(host, "0.0.0.0"))
		snprintf(host, sizeof(host), "0.0.0.0");
	if ((rc = getaddrinfo(host, service, &hints, &ai)) != 0 || !ai) {
		snprintf(err, cap, "%s", gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, cap, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                        : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

static void edge_free(srv_edge *e)
{
	int i;
	for (i = 0; e->loops && i < e->n_loops; i++) {
		eloop *l = &e->loops[i];
		/* Connections handed to a loop that had stopped already. */
		while (l->inbox) {
			econn *c = l->inbox;
			l->inbox = c->next;
			close(c->cfd);
			free(c);
		}
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wake[0] >= 0)
			close(l->wake[0]);
		if (l->wake[1] >= 0)
			close(l->wake[1]);
		pthread_mutex_destroy(&l->inbox_lock);
	}
	free(e->loops);
	if (e->lfd >= 0)
		close(e->lfd);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->addr_lock);
	pthread_cond_destroy(&e->cond);
	free(e->addrs);
	free(e->peers);
	free(e);
}

static int loop_count(int wanted)
{
	long cpus;
	if (wanted > 0)
		return wanted < EDGE_MAX_LOOPS ? wanted : EDGE_MAX_LOOPS;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus < EDGE_AUTO_LOOPS ? (int)cpus : EDGE_AUTO_LOOPS;
}

int srv_edge_start(srv_edge **out, srv_context *srv, const srv_edge_options *o, int *port, char *err,
                   size_t cap)
{
	srv_edge *e = calloc(1, sizeof(*e));
	struct epoll_event ev;
	const char *p;
	size_t slots = 16;
	int i;
	*out = NULL;
	if (!e) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	e->srv = srv;
	e->o = *o;
	e->lfd = -1;
	atomic_init(&e->stop, 0);
	atomic_init(&e->quiesce, 0);
	atomic_init(&e->ready, 0);
	atomic_init(&e->open_now, 0);
	atomic_init(&e->refused, 0);
	atomic_init(&e->rejected, 0);
	atomic_init(&e->probes, 0);
	snprintf(e->ready_msg, sizeof(e->ready_msg), "starting");
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->addr_lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	while (slots < 2 * (size_t)(o->max_connections > 0 ? o->max_connections : 1))
		slots *= 2;
	e->addr_mask = slots - 1;
	e->n_loops = loop_count(o->loops);
	if (!(e->peers = calloc(65536, sizeof(peer_slot))) || !(e->addrs = calloc(slots, sizeof(addr_count))) ||
	    !(e->loops = calloc((size_t)e->n_loops, sizeof(eloop)))) {
		edge_free(e);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	for (i = 0; i < e->n_loops; i++) {
		eloop *l = &e->loops[i];
		l->e = e;
		l->epfd = l->wake[0] = l->wake[1] = -1;
		atomic_init(&l->n_conns, 0);
		pthread_mutex_init(&l->inbox_lock, NULL);
	}
	for (p = o->trusted_proxies; p && *p;) {
		char item[64];
		size_t n = strcspn(p, ",");
		if (n >= sizeof(item) || e->n_trusted == EDGE_MAX_TRUSTED) {
			snprintf(err, cap, "server.trusted_proxies: at most %d entries of an address or CIDR block",
			         EDGE_MAX_TRUSTED);
			edge_free(e);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_net(&e->trusted[e->n_trusted], item) != 0) {
			snprintf(err, cap, "server.trusted_proxies: '%s' is not an IP address or CIDR block", item);
			edge_free(e);
			return -1;
		}
		e->n_trusted++;
		p += n;
		if (*p == ',')
			p++;
	}
	if ((e->lfd = open_listener(o->listen, port, err, cap)) < 0) {
		edge_free(e);
		return -1;
	}
	{
		int probe[2];
		long sz = 65536;
		if (pipe2(probe, O_CLOEXEC) == 0) {
			sz = fcntl(probe[0], F_GETPIPE_SZ);
			close(probe[0]);
			close(probe[1]);
		}
		e->pipe_cap = sz > 0 ? (size_t)sz : 65536;
	}
	for (i = 0; i < e->n_loops; i++) {
		eloop *l = &e->loops[i];
		if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
			snprintf(err, cap, "%s", strerror(errno));
			edge_free(e);
			return -1;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &l->wake_tag;
		epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake[0], &ev);
	}
	/* Loop 0 accepts for all (docs/design.md, "The HTTP edge"). */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &e->loops[0].listen_tag;
	epoll_ctl(e->loops[0].epfd, EPOLL_CTL_ADD, e->lfd, &ev);
	if (pthread_create(&e->prober, NULL, prober_main, e) != 0) {
		snprintf(err, cap, "cannot start a thread");
		edge_free(e);
		return -1;
	}
	e->prober_started = 1;
	for (i = 0; i < e->n_loops; i++) {
		if (pthread_create(&e->loops[i].thread, NULL, loop_main, &e->loops[i]) != 0) {
			snprintf(err, cap, "cannot start a thread");
			srv_edge_stop(e);
			return -1;
		}
		e->loops[i].started = 1;
	}
	*out = e;
	return 0;
}

void srv_edge_quiesce(srv_edge *e)
{
	if (!e)
		return;
	atomic_store(&e->quiesce, 1);
	wake_loop(&e->loops[0], 'q');
}

void srv_edge_stop(srv_edge *e)
{
	int i;
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	atomic_store(&e->stop, 1);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	for (i = 0; i < e->n_loops; i++)
		wake_loop(&e->loops[i], 'x');
	for (i = 0; i < e->n_loops; i++)
		if (e->loops[i].started)
			pthread_join(e->loops[i].thread, NULL);
	if (e->prober_started)
		pthread_join(e->prober, NULL);
	edge_free(e);
}
