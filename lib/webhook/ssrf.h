/* Internal to webhook/: classification of socket addresses for the SSRF guard. */
#ifndef LV_WEBHOOK_SSRF_H
#define LV_WEBHOOK_SSRF_H

#include <stddef.h>
#include <sys/socket.h>

/* NULL for a publicly routable address; otherwise a static phrase naming the kind of address
 * with its article, for messages: "a loopback", "an unspecified", "a private (RFC 1918)". */
const char *lv_addr_classify(const struct sockaddr *sa);

/* The address as text ("127.0.0.1", "::1", "?" for other families); out has at least 46 bytes. */
void lv_addr_format(char *out, size_t cap, const struct sockaddr *sa);

#endif
