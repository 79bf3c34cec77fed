/* Internal to webhook/: classification of socket addresses for the SSRF guard. */
#ifndef LV_WEBHOOK_SSRF_H
#define LV_WEBHOOK_SSRF_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/socket.h>

/* The SSRF guard's state for libcurl's callbacks (CURLOPT_OPENSOCKETDATA and CURLOPT_PREREQDATA). */
typedef struct lv_ssrf_guard {
	int guard;          /* on: only publicly routable addresses are connected to */
	char refused[200];  /* why the first refused address was refused */
} lv_ssrf_guard;

/* CURLOPT_OPENSOCKETFUNCTION: refuses (before connecting) an address that is not public. */
curl_socket_t lv_ssrf_open_socket(void *guard, curlsocktype purpose, struct curl_sockaddr *address);
/* CURLOPT_PREREQFUNCTION: a second look at the address actually connected to. */
int lv_ssrf_check_peer(void *guard, char *primary_ip, char *local_ip, int primary_port, int local_port);

/* NULL for a publicly routable address; otherwise a static phrase naming the kind of address
 * with its article, for messages: "a loopback", "an unspecified", "a private (RFC 1918)". */
const char *lv_addr_classify(const struct sockaddr *sa);

/* The address as text ("127.0.0.1", "::1", "?" for other families); out has at least 46 bytes. */
void lv_addr_format(char *out, size_t cap, const struct sockaddr *sa);

#endif
