/* lvserver: the route table and the endpoint handlers. */
#ifndef LVSERVER_ROUTES_H
#define LVSERVER_ROUTES_H

#include "http.h"

/* The civetweb request handler for every path ("/"): routes the request through the table,
 * answering 404 not_found or 405 method_not_allowed when nothing matches.  cbdata is the
 * srv_context.  Returns the HTTP status sent. */
int srv_dispatch(struct mg_connection *conn, void *cbdata);

#endif
