/* lvserver: the route table and the endpoint handlers. */
#ifndef LVSERVER_ROUTES_H
#define LVSERVER_ROUTES_H

#include "http.h"

/* The civetweb request handler for every path ("/"): routes the request through the table,
 * answering 404 not_found or 405 method_not_allowed when nothing matches.  cbdata is the
 * srv_context.  Returns the HTTP status sent. */
int srv_dispatch(struct mg_connection *conn, void *cbdata);

/* Whether the edge answers the request of this (accepted) head itself: a GET or HEAD without a
 * body, to a plain path (srv_path_plain) of a route marked for it -- the JSON reads of one task,
 * the task list, the balance and the ledger.  Everything else goes on to CivetWeb. */
int srv_edge_serves(const srv_head *h);

/* Answer, on the calling thread, the request whose head is head[0..len) (srv_edge_serves said
 * yes): the response, head and body, into *out (malloc'd, *out_len bytes; the caller frees it);
 * *keep tells whether the connection stays open after it.  client: the peer's address; trusted: the
 * peer is a trusted proxy (Forwarded / X-Forwarded-For then name the client).  Returns the status
 * sent, or -1 with nothing to send (out of memory: close the connection). */
int srv_serve_edge(srv_context *srv, const char *head, size_t len, const char *client, int trusted, char **out,
                   size_t *out_len, int *keep);

#endif
