/*
 * Webhooks: Standard Webhooks signing (the specification's published test vector), secret
 * decoding, the SSRF address policy, and delivery against receivers on this host.
 */
#include "testutil.h"
#include "stop.h"
#include "longvideo.h"
#include "util/crypto.h"
#include "webhook/ssrf.h"
#include "webhook/webhook.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* From the Standard Webhooks reference libraries' tests ("sign function works"). */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TIMESTAMP 1614265330
#define SW_PAYLOAD "{\"test\": 2432232314}"
#define SW_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* ---- a receiver on 127.0.0.1 (CivetWeb, ephemeral port) ------------------------------------
 *
 * One receiver serves all the delivery tests of a test case: it is started in the runner's
 * process (an unchecked fixture) because stopping CivetWeb takes a couple of seconds.  Tests run
 * in forked children, so what the receiver saw is kept in a shared mapping that both sides
 * see, under a process-shared mutex. */

#define MAX_BODY (512 * 1024)

typedef struct receiver {
	pthread_mutex_t lock;
	int port;
	int stop;
	int hook_hits;
	int second_hits;
	char method[16];
	char id[300];
	char timestamp[32];
	char signature[128];
	char content_type[64];
	char user_agent[128];
	size_t body_len;
	char body[MAX_BODY];
} receiver;

static receiver *rx;
static struct mg_context *rx_ctx;

/* The mutex is robust: a test child that dies holding it does not wedge the receiver. */
static void rx_lock(void)
{
	if (pthread_mutex_lock(&rx->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&rx->lock);
}

static void copy_header(struct mg_connection *conn, const char *name, char *out, size_t cap)
{
	const char *v = mg_get_header(conn, name);
	snprintf(out, cap, "%s", v ? v : "");
}

static void answer(struct mg_connection *conn, const char *status, const char *extra)
{
	mg_printf(conn, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n%s"
	          "Connection: close\r\n\r\nok", status, extra ? extra : "");
}

static int on_hook(struct mg_connection *conn, void *cbdata)
{
	char *body = malloc(MAX_BODY);
	size_t len = 0;
	int n;
	(void)cbdata;
	if (!body)
		return 500;
	while (len < MAX_BODY && (n = mg_read(conn, body + len, MAX_BODY - len)) > 0)
		len += (size_t)n;
	rx_lock();
	rx->hook_hits++;
	snprintf(rx->method, sizeof(rx->method), "%s", mg_get_request_info(conn)->request_method);
	copy_header(conn, "webhook-id", rx->id, sizeof(rx->id));
	copy_header(conn, "webhook-timestamp", rx->timestamp, sizeof(rx->timestamp));
	copy_header(conn, "webhook-signature", rx->signature, sizeof(rx->signature));
	copy_header(conn, "Content-Type", rx->content_type, sizeof(rx->content_type));
	copy_header(conn, "User-Agent", rx->user_agent, sizeof(rx->user_agent));
	memcpy(rx->body, body, len);
	rx->body_len = len;
	pthread_mutex_unlock(&rx->lock);
	free(body);
	answer(conn, "200 OK", NULL);
	return 200;
}

static int on_fail(struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	answer(conn, "500 Internal Server Error", NULL);
	return 500;
}

static int on_redirect(struct mg_connection *conn, void *cbdata)
{
	char location[64];
	(void)cbdata;
	snprintf(location, sizeof(location), "Location: http://127.0.0.1:%d/second\r\n", rx->port);
	answer(conn, "302 Found", location);
	return 302;
}

static int on_second(struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	rx_lock();
	rx->second_hits++;
	pthread_mutex_unlock(&rx->lock);
	answer(conn, "200 OK", NULL);
	return 200;
}

/* Answers after 5 s, or as soon as the receiver is stopped. */
static int on_slow(struct mg_connection *conn, void *cbdata)
{
	int i, stop = 0;
	(void)cbdata;
	for (i = 0; i < 100 && !stop; i++) {
		usleep(50 * 1000);
		rx_lock();
		stop = rx->stop;
		pthread_mutex_unlock(&rx->lock);
	}
	answer(conn, "200 OK", NULL);
	return 200;
}

/* A 2xx with a body far beyond what the sender reads. */
static int on_big(struct mg_connection *conn, void *cbdata)
{
	char *chunk = malloc(16384);
	int i;
	(void)cbdata;
	if (!chunk)
		return 500;
	memset(chunk, 'x', 16384);
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
	          "Connection: close\r\n\r\n", 16384 * 64);
	for (i = 0; i < 64; i++)
		if (mg_write(conn, chunk, 16384) <= 0)
			break;
	free(chunk);
	return 200;
}

static void receiver_start(void)
{
	const char *options[] = { "listening_ports", "127.0.0.1:0", "num_threads", "4", NULL };
	struct mg_server_port ports[2];
	pthread_mutexattr_t attr;

	rx = mmap(NULL, sizeof(*rx), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(rx != MAP_FAILED);
	memset(rx, 0, sizeof(*rx));
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rx->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	rx_ctx = mg_start(NULL, NULL, options);
	ck_assert_ptr_nonnull(rx_ctx);
	ck_assert_int_eq(mg_get_server_ports(rx_ctx, 2, ports), 1);
	rx->port = ports[0].port;
	ck_assert_int_gt(rx->port, 0);
	mg_set_request_handler(rx_ctx, "/hook", on_hook, NULL);
	mg_set_request_handler(rx_ctx, "/fail", on_fail, NULL);
	mg_set_request_handler(rx_ctx, "/redirect", on_redirect, NULL);
	mg_set_request_handler(rx_ctx, "/second", on_second, NULL);
	mg_set_request_handler(rx_ctx, "/slow", on_slow, NULL);
	mg_set_request_handler(rx_ctx, "/big", on_big, NULL);
}

/* Before each test: forget what earlier tests delivered. */
static void receiver_reset(void)
{
	rx_lock();
	rx->hook_hits = 0;
	rx->second_hits = 0;
	rx->method[0] = rx->id[0] = rx->timestamp[0] = rx->signature[0] = '\0';
	rx->content_type[0] = rx->user_agent[0] = '\0';
	rx->body_len = 0;
	pthread_mutex_unlock(&rx->lock);
}

static void receiver_stop(void)
{
	rx_lock();
	rx->stop = 1;
	pthread_mutex_unlock(&rx->lock);
	if (rx_ctx)
		srv_civetweb_stop(rx_ctx, "127.0.0.1", rx->port);
	rx_ctx = NULL;
	pthread_mutex_destroy(&rx->lock);
	munmap(rx, sizeof(*rx));
	rx = NULL;
}

static int hits(const int *counter)
{
	int n;
	rx_lock();
	n = *counter;
	pthread_mutex_unlock(&rx->lock);
	return n;
}

/* A copy of what the receiver saw, taken under the lock, so that a failing assertion never
 * leaves the shared mutex held.  Caller frees. */
static receiver *snapshot(void)
{
	receiver *copy = malloc(sizeof(*copy));
	ck_assert_ptr_nonnull(copy);
	rx_lock();
	memcpy(copy, rx, sizeof(*copy));
	pthread_mutex_unlock(&rx->lock);
	return copy;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static unsigned char test_secret[32];

static lv_webhook_request make_request(const char *url, const char *body, int allow_private)
{
	lv_webhook_request req;
	memset(&req, 0, sizeof(req));
	memset(test_secret, 0x5a, sizeof(test_secret));
	test_secret[0] = 0x01;
	test_secret[31] = 0xfe;
	req.url = url;
	req.body = body;
	req.body_len = strlen(body);
	req.msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
	req.timestamp = 1700000000;
	req.secret = test_secret;
	req.secret_len = sizeof(test_secret);
	req.timeout_ms = 5000;
	req.allow_private = allow_private;
	return req;
}

static char *url_for(const char *path)
{
	static char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rx->port, path);
	return url;
}

/* The signature recomputed here with OpenSSL directly, not through the library. */
static void expected_signature(char *out, const unsigned char *key, size_t key_len, const char *id,
                               const char *ts, const char *body, size_t body_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t n = strlen(id) + strlen(ts) + body_len + 3;
	char *msg = malloc(n);
	int len;
	ck_assert_ptr_nonnull(msg);
	len = snprintf(msg, n, "%s.%s.", id, ts);
	memcpy(msg + len, body, body_len);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
	                           (size_t)len + body_len, mac, &mac_len));
	ck_assert_uint_eq(mac_len, 32);
	free(msg);
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
}

static int sockaddr_from(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

/* A listening socket nobody accepts on: a completed TCP handshake would sit in its queue. */
static int listener(int family, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* 1 when a connection reached the listener (and then it is drained into buf). */
static int connection_arrived(int fd, char *buf, size_t cap)
{
	int c = accept(fd, NULL, NULL);
	ssize_t n = 0;
	if (c < 0) {
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		return 0;
	}
	if (buf && cap) {
		struct pollfd p = { c, POLLIN, 0 };
		buf[0] = '\0';
		if (poll(&p, 1, 1000) == 1)
			n = recv(c, buf, cap - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	close(c);
	return 1;
}

/* ---- signing and secrets ------------------------------------------------------------------ */

START_TEST(sign_matches_standard_webhooks_vector)
{
	unsigned char key[64];
	char sig[64];
	long n = lv_webhook_secret_decode(key, sizeof(key), SW_SECRET);
	ck_assert_int_eq(n, 24);
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, (size_t)n, SW_MSG_ID, SW_TIMESTAMP,
	                                 SW_PAYLOAD, strlen(SW_PAYLOAD)), LV_OK);
	ck_assert_str_eq(sig, SW_SIGNATURE);

	/* Every input is covered: changing any one changes the signature. */
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, (size_t)n, SW_MSG_ID, SW_TIMESTAMP + 1,
	                                 SW_PAYLOAD, strlen(SW_PAYLOAD)), LV_OK);
	ck_assert_str_ne(sig, SW_SIGNATURE);
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, (size_t)n, "msg_other", SW_TIMESTAMP,
	                                 SW_PAYLOAD, strlen(SW_PAYLOAD)), LV_OK);
	ck_assert_str_ne(sig, SW_SIGNATURE);
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, (size_t)n, SW_MSG_ID, SW_TIMESTAMP,
	                                 SW_PAYLOAD, strlen(SW_PAYLOAD) - 1), LV_OK);
	ck_assert_str_ne(sig, SW_SIGNATURE);
	key[0] ^= 1;
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, (size_t)n, SW_MSG_ID, SW_TIMESTAMP,
	                                 SW_PAYLOAD, strlen(SW_PAYLOAD)), LV_OK);
	ck_assert_str_ne(sig, SW_SIGNATURE);
}
END_TEST

START_TEST(sign_rejects_bad_arguments)
{
	unsigned char key[24] = { 1 };
	char sig[64], small[40];
	ck_assert_int_eq(lv_webhook_sign(small, sizeof(small), key, sizeof(key), "m", 1, "{}", 2),
	                 LV_EINVALID);
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, 0, "m", 1, "{}", 2), LV_EINVALID);
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, sizeof(key), "", 1, "{}", 2),
	                 LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "message id"));
	/* An empty body is still signed ("{id}.{ts}."). */
	ck_assert_int_eq(lv_webhook_sign(sig, sizeof(sig), key, sizeof(key), "m", 1, NULL, 0), LV_OK);
	ck_assert_int_eq(strlen(sig), 47);
}
END_TEST

START_TEST(secret_decode_good_and_bad)
{
	unsigned char raw[80], out[80];
	char text[160];
	size_t i;
	long n;

	n = lv_webhook_secret_decode(out, sizeof(out), SW_SECRET);
	ck_assert_int_eq(n, 24);
	/* Round trip: the bytes re-encode to the text after the prefix. */
	lv_base64_encode(text, out, (size_t)n);
	ck_assert_str_eq(text, &SW_SECRET[6]);

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	/* 24..64 bytes, with and without padding, are accepted and decode exactly. */
	for (i = 20; i <= 70; i++) {
		memcpy(text, "whsec_", 6);
		lv_base64_encode(text + 6, raw, i);
		memset(out, 0, sizeof(out));
		n = lv_webhook_secret_decode(out, sizeof(out), text);
		if (i < 24 || i > 64) {
			ck_assert_msg(n == -1, "%zu bytes accepted", i);
		} else {
			ck_assert_int_eq(n, (long)i);
			ck_assert(memcmp(out, raw, i) == 0);
		}
	}
	/* A buffer too small for the secret. */
	ck_assert_int_eq(lv_webhook_secret_decode(out, 23, SW_SECRET), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, 24, SW_SECRET), 24);

	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), &SW_SECRET[6]), -1); /* no prefix */
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwjU D8ILPZIo2LaLaSw"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwj=PD8ILPZIo2LaLaSw"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa=="), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"), -1);
	ck_assert_int_eq(lv_webhook_secret_decode(out, sizeof(out), NULL), -1);
}
END_TEST

/* ---- the address policy ------------------------------------------------------------------- */

START_TEST(addr_policy_table)
{
	static const char *const private_addrs[] = {
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "169.254.0.1", "172.16.0.1",
		"172.31.255.255", "192.0.0.1", "192.0.0.171", "192.0.2.1", "192.88.99.1", "192.168.0.1",
		"192.168.255.255", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "254.1.2.3", "255.255.255.255",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
		"::ffff:192.168.1.1", "::ffff:0.0.0.0", "::127.0.0.1", "::10.0.0.1", "::0.0.0.2",
		"::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe",
		"64:ff9b:1::1", "64:ff9b:1:2::8.8.8.8", "100::1", "fc00::1", "fd12:3456:789a::1",
		"fdff:ffff::1", "fe80::1", "fe80::1234:5678", "febf::1", "fec0::1", "ff02::1",
		"ff05::1:3", "2001:db8::1", "2001:db8:ffff::1", "2001:2::1", "2001:10::1", "3fff::1",
		"3fff:fff::1",
		/* 6to4 of 127.0.0.1, 192.168.1.1, 10.0.0.1 */
		"2002:7f00:1::1", "2002:c0a8:101::1", "2002:a00:1::1",
		/* Teredo with client 10.0.0.1 (obfuscated), then with server 192.168.0.1 */
		"2001:0:4136:e378:8000:63bf:f5ff:fffe", "2001:0:c0a8:1:8000:63bf:f7f7:f7f7",
		/* outside 2000::/3 */
		"4000::1", "5f00::1", "8000::1", "e000::1", "1::1",
	};
	static const char *const public_addrs[] = {
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "11.0.0.1", "126.255.255.255", "128.0.0.1",
		"100.63.255.255", "100.128.0.1", "169.253.255.255", "169.255.0.1", "172.15.255.255",
		"172.32.0.1", "192.0.1.1", "192.0.3.1", "192.167.255.255", "192.169.0.1",
		"198.17.255.255", "198.20.0.1", "198.51.99.1", "203.0.112.1", "223.255.255.255",
		"2606:4700::1111", "2606:4700:4700::1001", "2001:4860:4860::8888", "2a00:1450:4001::1",
		"2001:db9::1", "2001:3::1", "3ffe::1", "3fff:1000::1", "::ffff:8.8.8.8",
		"::ffff:1.1.1.1", "::8.8.8.8", "64:ff9b::8.8.8.8", "64:ff9b::101:101", "2002:808:808::1",
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7", "2c0f:f248::1",
	};
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	size_t i;

	for (i = 0; i < sizeof(private_addrs) / sizeof(private_addrs[0]); i++) {
		ck_assert_msg(sockaddr_from(&ss, private_addrs[i]), "parse %s", private_addrs[i]);
		ck_assert_msg(lv_addr_is_private((struct sockaddr *)&ss) == 1, "%s should be refused",
		              private_addrs[i]);
		ck_assert_ptr_nonnull(lv_addr_classify((struct sockaddr *)&ss));
	}
	for (i = 0; i < sizeof(public_addrs) / sizeof(public_addrs[0]); i++) {
		ck_assert_msg(sockaddr_from(&ss, public_addrs[i]), "parse %s", public_addrs[i]);
		ck_assert_msg(lv_addr_is_private((struct sockaddr *)&ss) == 0, "%s should be public",
		              public_addrs[i]);
		ck_assert_ptr_null(lv_addr_classify((struct sockaddr *)&ss));
	}
	/* Not an IP address at all. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(lv_addr_is_private((struct sockaddr *)&sun), 1);

	/* The kinds named in messages; mapped forms are named after the IPv4 address. */
	sockaddr_from(&ss, "::ffff:127.0.0.1");
	ck_assert_str_eq(lv_addr_classify((struct sockaddr *)&ss), "a loopback");
	sockaddr_from(&ss, "100.64.1.1");
	ck_assert_ptr_nonnull(strstr(lv_addr_classify((struct sockaddr *)&ss), "carrier-grade NAT"));
	sockaddr_from(&ss, "fd00::1");
	ck_assert_ptr_nonnull(strstr(lv_addr_classify((struct sockaddr *)&ss), "private"));
	sockaddr_from(&ss, "0.0.0.0");
	ck_assert_str_eq(lv_addr_classify((struct sockaddr *)&ss), "an unspecified");
}
END_TEST

/* ---- delivery ----------------------------------------------------------------------------- */

START_TEST(deliver_signed_post_verified_by_receiver)
{
	const char *body = "{\"task_id\":\"vid_abc\",\"status\":\"completed\",\"metadata\":{\"k\":\"v\"}}";
	lv_webhook_request req = make_request(url_for("/hook"), body, 1);
	lv_webhook_result res;
	receiver *seen;
	char want[64], ua[128];

	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_msg(res.delivered == 1, "not delivered: %s", res.error);
	ck_assert_int_eq(res.http_status, 200);
	ck_assert_str_eq(res.error, "");
	ck_assert_int_eq(hits(&rx->hook_hits), 1);

	seen = snapshot();
	ck_assert_str_eq(seen->method, "POST");
	ck_assert_uint_eq(seen->body_len, strlen(body));
	ck_assert(memcmp(seen->body, body, seen->body_len) == 0);
	ck_assert_str_eq(seen->id, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
	ck_assert_str_eq(seen->timestamp, "1700000000");
	ck_assert_str_eq(seen->content_type, "application/json");
	snprintf(ua, sizeof(ua), "liblongvideo-webhooks/%s", lv_version());
	ck_assert_str_eq(seen->user_agent, ua);
	/* Verify what arrived as a receiver would: from the received id, timestamp and body. */
	expected_signature(want, test_secret, sizeof(test_secret), seen->id, seen->timestamp,
	                   seen->body, seen->body_len);
	ck_assert_str_eq(seen->signature, want);
	free(seen);
}
END_TEST

START_TEST(deliver_large_body_intact)
{
	size_t n = 200 * 1024, i;
	char *body = malloc(n + 1);
	lv_webhook_request req;
	lv_webhook_result res;
	receiver *seen;
	char want[64];

	ck_assert_ptr_nonnull(body);
	body[0] = '"';
	for (i = 1; i < n - 1; i++)
		body[i] = (char)('a' + i % 26);
	body[n - 1] = '"';
	body[n] = '\0';
	req = make_request(url_for("/hook"), body, 1);
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_msg(res.delivered == 1, "not delivered: %s", res.error);
	seen = snapshot();
	ck_assert_uint_eq(seen->body_len, n);
	ck_assert(memcmp(seen->body, body, n) == 0);
	expected_signature(want, test_secret, sizeof(test_secret), seen->id, seen->timestamp,
	                   seen->body, seen->body_len);
	ck_assert_str_eq(seen->signature, want);
	free(seen);
	free(body);
}
END_TEST

START_TEST(deliver_ignores_environment_proxies)
{
	/* A proxy would hide the connected address from the guard; none is used, ever. */
	lv_webhook_request req = make_request(url_for("/hook"), "{}", 1);
	lv_webhook_result res;
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("all_proxy", "http://127.0.0.1:9", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_msg(res.delivered == 1, "not delivered: %s", res.error);
	ck_assert_int_eq(hits(&rx->hook_hits), 1);
}
END_TEST

START_TEST(deliver_500_is_not_delivered)
{
	lv_webhook_request req = make_request(url_for("/fail"), "{}", 1);
	lv_webhook_result res;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_int_eq(res.http_status, 500);
	ck_assert_ptr_nonnull(strstr(res.error, "HTTP 500"));
}
END_TEST

START_TEST(deliver_redirect_not_followed)
{
	lv_webhook_request req = make_request(url_for("/redirect"), "{}", 1);
	lv_webhook_result res;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_int_eq(res.http_status, 302);
	ck_assert_ptr_nonnull(strstr(res.error, "redirect"));
	ck_assert_int_eq(hits(&rx->second_hits), 0);
	/* The redirect target itself works, so a follow would have been seen. */
	req = make_request(url_for("/second"), "{}", 1);
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 1);
	ck_assert_int_eq(hits(&rx->second_hits), 1);
}
END_TEST

START_TEST(deliver_times_out)
{
	lv_webhook_request req = make_request(url_for("/slow"), "{}", 1);
	lv_webhook_result res;
	req.timeout_ms = 500;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	/* The receiver answers only after 5 s: the attempt gave up before it saw any answer. */
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_int_eq(res.http_status, 0);
	ck_assert_msg(strstr(res.error, "timed out") != NULL, "error: %s", res.error);
}
END_TEST

START_TEST(deliver_big_response_is_bounded)
{
	lv_webhook_request req = make_request(url_for("/big"), "{}", 1);
	lv_webhook_result res;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_msg(res.delivered == 1, "not delivered: %s", res.error);
	ck_assert_int_eq(res.http_status, 200);
}
END_TEST

static void assert_refused(const char *url, const char *addr_text, int fd)
{
	lv_webhook_request req = make_request(url, "{}", 0);
	lv_webhook_result res;
	char want[128];
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_int_eq(res.http_status, 0);
	snprintf(want, sizeof(want), "refused: %s is a", addr_text);
	ck_assert_msg(strstr(res.error, want) == res.error, "%s: error is \"%s\"", url, res.error);
	ck_assert_msg(strstr(res.error, "(set webhooks.allow_private to allow)") != NULL,
	              "error is \"%s\"", res.error);
	ck_assert_msg(!connection_arrived(fd, NULL, 0), "%s: a connection reached the listener", url);
}

START_TEST(ssrf_guard_refuses_loopback_before_connecting)
{
	char url[128], buf[256];
	lv_webhook_request req;
	lv_webhook_result res;
	int port = 0;
	int fd = listener(AF_INET, &port);
	ck_assert_int_ge(fd, 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	assert_refused(url, "127.0.0.1", fd);
	/* Names are judged by what they resolve to. */
	snprintf(url, sizeof(url), "http://localhost:%d/hook", port);
	assert_refused(url, "127.0.0.1", fd);
	/* Other spellings of the same address. */
	snprintf(url, sizeof(url), "http://127.1:%d/hook", port);
	assert_refused(url, "127.0.0.1", fd);
	snprintf(url, sizeof(url), "http://2130706433:%d/hook", port);
	assert_refused(url, "127.0.0.1", fd);
	snprintf(url, sizeof(url), "http://0.0.0.0:%d/hook", port);
	assert_refused(url, "0.0.0.0", fd);

	/* The control: with the guard lifted the same listener does receive the request. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	req = make_request(url, "{}", 1);
	req.timeout_ms = 300;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert(connection_arrived(fd, buf, sizeof(buf)));
	ck_assert_msg(strncmp(buf, "POST /hook", 10) == 0, "received \"%s\"", buf);
	close(fd);
}
END_TEST

START_TEST(ssrf_guard_refuses_ipv6_loopback_and_mapped)
{
	char url[128];
	int port = 0;
	int fd = listener(AF_INET6, &port);
	int fd4, port4 = 0;
	if (fd < 0) {
		fprintf(stderr, "test_webhook: no IPv6 loopback here; [::1] not tried\n");
	} else {
		snprintf(url, sizeof(url), "http://[::1]:%d/hook", port);
		assert_refused(url, "::1", fd);
		close(fd);
	}
	/* An IPv4-mapped literal is judged as the IPv4 address it carries. */
	fd4 = listener(AF_INET, &port4);
	ck_assert_int_ge(fd4, 0);
	snprintf(url, sizeof(url), "http://[::ffff:127.0.0.1]:%d/hook", port4);
	assert_refused(url, "::ffff:127.0.0.1", fd4);
	close(fd4);
}
END_TEST

START_TEST(ssrf_guard_refuses_receiver_and_it_sees_nothing)
{
	lv_webhook_request req = make_request(url_for("/hook"), "{}", 0);
	lv_webhook_result res;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_OK);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_str_eq(res.error,
	                 "refused: 127.0.0.1 is a loopback address (set webhooks.allow_private to allow)");
	ck_assert_int_eq(hits(&rx->hook_hits), 0);
}
END_TEST

START_TEST(deliver_rejects_bad_requests)
{
	lv_webhook_request req = make_request("ftp://example.com/x", "{}", 0);
	lv_webhook_result res;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(res.error, "http"));
	req.url = "file:///etc/passwd";
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_EINVALID);
	req.url = "https://example.com/x";
	req.msg_id = "msg.1";
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "webhook-id"));
	req.msg_id = "msg_1\r\nX-Injected: 1";
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_EINVALID);
	req.msg_id = "msg_1";
	req.secret_len = 0;
	ck_assert_int_eq(lv_webhook_deliver(&req, &res), LV_EINVALID);
	ck_assert_int_eq(res.delivered, 0);
	ck_assert_ptr_nonnull(strstr(res.error, "secret"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *pure = tcase_create("signing_and_policy");
	TCase *net = tcase_create("delivery");

	tcase_add_test(pure, sign_matches_standard_webhooks_vector);
	tcase_add_test(pure, sign_rejects_bad_arguments);
	tcase_add_test(pure, secret_decode_good_and_bad);
	tcase_add_test(pure, addr_policy_table);
	tcase_add_test(pure, deliver_rejects_bad_requests);
	tcase_add_test(pure, ssrf_guard_refuses_loopback_before_connecting);
	tcase_add_test(pure, ssrf_guard_refuses_ipv6_loopback_and_mapped);
	suite_add_tcase(s, pure);

	tcase_add_unchecked_fixture(net, receiver_start, receiver_stop);
	tcase_add_checked_fixture(net, receiver_reset, NULL);
	tcase_add_test(net, deliver_signed_post_verified_by_receiver);
	tcase_add_test(net, deliver_large_body_intact);
	tcase_add_test(net, deliver_ignores_environment_proxies);
	tcase_add_test(net, deliver_500_is_not_delivered);
	tcase_add_test(net, deliver_redirect_not_followed);
	tcase_add_test(net, deliver_times_out);
	tcase_add_test(net, deliver_big_response_is_bounded);
	tcase_add_test(net, ssrf_guard_refuses_receiver_and_it_sees_nothing);
	suite_add_tcase(s, net);
	return s;
}

int main(void)
{
	int rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lv_test_run_suite(suite());
	curl_global_cleanup();
	return rc;
}
