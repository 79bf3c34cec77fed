/*
 * lv-bench-slowloris: how a running lvserver answers while a slowloris holds connections open.
 *
 *   lv-bench-slowloris --port P --key sk-... [--seconds S] [--slow N] [--from 127.0.0.2]
 *
 * First a video task is created (POST /v1/videos) for the authenticated reads.  Phase 1 (baseline):
 * for S seconds, /healthz and GET /v1/videos/{id} (Bearer) in turn from 127.0.0.1, one new
 * connection per request, one after another.  Phase 2: N connections from --from, each sending a
 * request head that never ends (a header line every second), and the same probe again for S
 * seconds.  Prints /healthz latency percentiles and the rate of authenticated GETs of both phases,
 * their ratios, how many slow connections the server kept open / refused / timed out, how many
 * probes failed, and RATIO lines for scripts/bench.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int connect_from(const char *from, int port, int nonblock)
{
	struct sockaddr_in sa, src;
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	if (inet_pton(AF_INET, from, &src.sin_addr) != 1 || bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
		close(fd);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on a new connection; the status, or -1 when there was no complete answer within 5 s.
 * The answer is left in out (cap bytes) when out is not NULL. */
static int probe_answer(int port, const char *request, char *out, size_t cap)
{
	char buf[8192];
	size_t len = 0;
	int fd = connect_from("127.0.0.1", port, 0), st = -1;
	double until = now_ms() + 5000;
	if (fd < 0)
		return -1;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request)) {
		close(fd);
		return -1;
	}
	while (len < sizeof(buf) - 1 && now_ms() < until) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		if (poll(&p, 1, (int)(until - now_ms()) + 1) <= 0)
			break;
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	buf[len] = '\0';
	if (len > 0 && sscanf(buf, "HTTP/1.%*d %d", &st) != 1)
		st = -1;
	if (out)
		snprintf(out, cap, "%s", buf);
	close(fd);
	return st;
}

static int probe(int port, const char *request)
{
	return probe_answer(port, request, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct stats {
	double *lat;
	size_t n, cap;
	int failed, served_auth;
	double seconds;
} stats;

static void add(stats *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *p = realloc(s->lat, cap * sizeof(*p));
		if (!p)
			return;
		s->lat = p;
		s->cap = cap;
	}
	s->lat[s->n++] = v;
}

static double pct(const stats *s, double q)
{
	size_t i;
	if (!s->n)
		return 0;
	i = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->lat[i];
}

static const char *g_from = "127.0.0.2";
static int g_reopened;

/* Alternate /healthz and an authenticated GET for `seconds`; keep the slow connections dripping, and
 * open a new one for each the server answers or closes, so that n_slow stay open. */
static void run_probe(stats *s, int port, const char *key, const char *video, double seconds, int *slow, int n_slow)
{
	char auth_req[512];
	double start = now_ms(), end = start + seconds * 1000, next_drip = start + 1000;
	int i = 0;
	snprintf(auth_req, sizeof(auth_req),
	         "GET /v1/videos/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n",
	         video, key);
	while (now_ms() < end) {
		double t0 = now_ms();
		int st;
		if (i++ % 2 == 0) {
			st = probe(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
			if (st == 200)
				add(s, now_ms() - t0);
			else
				s->failed++;
		} else {
			st = probe(port, auth_req);
			if (st == 200)
				s->served_auth++;
			else
				s->failed++;
		}
		if (n_slow && now_ms() >= next_drip) {
			int k;
			for (k = 0; k < n_slow; k++) {
				char b[512];
				ssize_t got = slow[k] >= 0 ? recv(slow[k], b, sizeof(b), MSG_DONTWAIT) : 0;
				if (slow[k] < 0 || got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
					if (slow[k] >= 0)
						close(slow[k]);
					slow[k] = connect_from(g_from, port, 1);
					if (slow[k] >= 0)
						send(slow[k], "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n", 43,
						     MSG_NOSIGNAL | MSG_DONTWAIT);
					g_reopened++;
					continue;
				}
				send(slow[k], "X-a: b\r\n", 8, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			next_drip = now_ms() + 1000;
		}
	}
	s->seconds = (now_ms() - start) / 1000.0;
	qsort(s->lat, s->n, sizeof(double), cmp_double);
}

static void print(const char *name, const stats *s)
{
	printf("%-9s healthz n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms; GET /v1/videos/{id} served=%d (%.0f/s); "
	       "failed=%d\n",
	       name, s->n, pct(s, 0.5), pct(s, 0.99), s->n ? s->lat[s->n - 1] : 0.0, s->served_auth,
	       s->seconds > 0 ? s->served_auth / s->seconds : 0.0, s->failed);
}

int main(int argc, char **argv)
{
	int port = 0, n_slow = 500, i, open_now = 0, refused = 0;
	double seconds = 10;
	const char *key = NULL, *from = "127.0.0.2";
	char create[512], answer[8192], video[64];
	const char *id;
	int *slow;
	stats base, attack;
	struct rlimit rl;
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--key"))
			key = argv[i + 1];
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--slow"))
			n_slow = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--from"))
			from = g_from = argv[i + 1];
	}
	if (!port || !key || n_slow < 0 || seconds <= 0) {
		fprintf(stderr, "usage: lv-bench-slowloris --port P --key sk-... [--seconds S] [--slow N] [--from ADDR]\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* The task the authenticated reads fetch. */
	snprintf(create, sizeof(create),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: "
	         "application/json\r\nContent-Length: 46\r\nConnection: close\r\n\r\n"
	         "{\"prompt\":\"a lighthouse at dusk\",\"duration\":3}",
	         key);
	if (probe_answer(port, create, answer, sizeof(answer)) != 202 || !(id = strstr(answer, "\"task_id\":\""))) {
		fprintf(stderr, "lv-bench-slowloris: cannot create a video to read: %s\n", answer);
		return 1;
	}
	id += 11;
	snprintf(video, sizeof(video), "%.*s", (int)strcspn(id, "\""), id);
	memset(&base, 0, sizeof(base));
	memset(&attack, 0, sizeof(attack));
	run_probe(&base, port, key, video, seconds, NULL, 0);

	slow = calloc((size_t)n_slow + 1, sizeof(int));
	if (!slow)
		return 1;
	for (i = 0; i < n_slow; i++) {
		slow[i] = connect_from(from, port, 1);
		if (slow[i] >= 0)
			send(slow[i], "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n", 43, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	run_probe(&attack, port, key, video, seconds, slow, n_slow);
	/* Which slow connections are still open (not answered, not closed)? */
	for (i = 0; i < n_slow; i++) {
		char b[512];
		ssize_t n;
		if (slow[i] < 0) {
			refused++;
			continue;
		}
		n = recv(slow[i], b, sizeof(b) - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			open_now++;
		else
			refused++;
		close(slow[i]);
	}
	free(slow);
	printf("slowloris: %d connections from %s, dripping a header line per second (%d reopened after the server "
	       "answered or closed them); at the end %d open, %d answered or closed\n",
	       n_slow, from, g_reopened, open_now, refused);
	print("baseline", &base);
	print("attacked", &attack);
	if (base.n && attack.n)
		printf("ratio attacked/baseline: p50 %.2f, p99 %.2f\n", pct(&attack, 0.5) / pct(&base, 0.5),
		       pct(&attack, 0.99) / pct(&base, 0.99));
	printf("RATIO|slowloris (%d conns from %s): /healthz p99 under attack, ms|%.2f|< 100\n", n_slow, from,
	       pct(&attack, 0.99));
	if (base.served_auth && base.seconds > 0 && attack.seconds > 0)
		printf("RATIO|slowloris: authenticated GET rate, attacked / baseline|%.2f|>= 0.5\n",
		       (attack.served_auth / attack.seconds) / (base.served_auth / base.seconds));
	free(base.lat);
	free(attack.lat);
	return attack.failed ? 1 : 0;
}
