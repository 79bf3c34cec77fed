#ifndef LV_SERVER_STOP_H
#define LV_SERVER_STOP_H

struct mg_context;

/* Stops a CivetWeb server as mg_stop() does (requests in flight finish first), without the wait of up to
 * 2 s for the accept loop to notice: while mg_stop() runs on a helper thread, this one connects to the
 * listening socket at `host`:`port` (a name or an address, IPv6 with or without brackets) until it
 * returns. When that address cannot be reached, it is the plain mg_stop(). */
void srv_civetweb_stop(struct mg_context *ctx, const char *host, int port);

#endif
