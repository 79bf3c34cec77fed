/*
 * lvserver's edge: the threads that own the public listening socket.
 *
 * CivetWeb gives every connection a worker thread from the moment it is accepted, so a client
 * that opens connections and sends nothing (or one byte at a time) takes workers away from
 * everybody.  The edge accepts connections itself, in event loops (server.edge_threads of them, one
 * thread and one epoll set each; a connection stays on one loop for its life), and hands a connection to
 * CivetWeb (listening on an internal loopback port) only once its first request head has fully
 * arrived; until then it costs a file descriptor, not a thread.  On the way it enforces:
 *
 *   - at most server.max_connections open connections, server.max_connections_per_ip from one
 *     address (trusted proxies exempt), counted across all loops;
 *   - server.header_timeout_ms for the whole head (not per line or per read);
 *   - the head rules CivetWeb does not: Content-Length together with Transfer-Encoding, a missing
 *     Host on HTTP/1.1, header floods, whitespace or folding in header names;
 *   - /healthz and /readyz answered by the edge itself, so they answer while every worker is busy.
 *
 * After the hand-over the bytes of both directions are moved with splice(2); when CivetWeb has
 * sent its last byte, the edge half-closes the client connection and reads (and drops) a bounded
 * amount of what the client still sends, so that a client that is still sending a body reads the
 * response instead of a connection reset.
 */
#ifndef LVSERVER_EDGE_H
#define LVSERVER_EDGE_H

#include "http.h"

typedef struct srv_edge srv_edge;

typedef struct srv_edge_options {
	const char *listen;          /* "HOST:PORT", "[V6]:PORT" or "PORT" */
	int upstream_port;           /* CivetWeb on 127.0.0.1 */
	int max_connections;
	int max_connections_per_ip;
	int header_timeout_ms;
	const char *trusted_proxies; /* comma-separated addresses or CIDR blocks, or "" */
	int loops;                   /* event loops (threads); 0: one per online CPU, at most 16; at most 64 */
	int serve_reads;             /* answer the JSON reads itself (srv_edge_serves), on the connection's loop */
} srv_edge_options;

/* Bind and start the edge's threads.  *port is the port bound.  On failure returns -1 with a message in err. */
int srv_edge_start(srv_edge **out, srv_context *srv, const srv_edge_options *opts, int *port, char *err,
                   size_t err_cap);
/* Stop accepting connections (the listening socket is closed); open ones keep being served. */
void srv_edge_quiesce(srv_edge *edge);
/* Stop the threads and close every connection they hold.  NULL-safe. */
void srv_edge_stop(srv_edge *edge);

/* Counters for /metrics: open connections now, refused at accept (limits), answered by the edge
 * with an error (400/408/431), probes answered. */
void srv_edge_stats(srv_edge *edge, unsigned long long *open_now, unsigned long long *refused,
                    unsigned long long *rejected, unsigned long long *probes);

/* The client address of a connection CivetWeb received from the edge, found by that connection's
 * remote port; *trusted tells whether the peer is a trusted proxy.  Returns 0, or -1 when unknown. */
int srv_edge_peer(srv_edge *edge, int upstream_remote_port, char *addr, size_t cap, int *trusted);

#endif
