#include "stop.h"

#include <civetweb.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct stopper {
	struct mg_context *ctx;
	atomic_int done;
} stopper;

static void *stop_thread(void *p)
{
	stopper *s = p;
	mg_stop(s->ctx);
	atomic_store(&s->done, 1);
	return NULL;
}

/* One connection, closed at once: CivetWeb's accept loop wakes from poll() and sees the stop request. */
static void poke(const struct addrinfo *ai)
{
	int s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (s < 0)
		return;
	(void)connect(s, ai->ai_addr, ai->ai_addrlen);
	close(s);
}

void srv_civetweb_stop(struct mg_context *ctx, const char *host, int port)
{
	struct addrinfo hints, *ai = NULL;
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	char name[256], service[16];
	size_t n;
	stopper s;
	pthread_t t;

	if (!ctx)
		return;
	if (!host || !*host || !strcmp(host, "0.0.0.0"))
		host = "127.0.0.1";
	else if (!strcmp(host, "[::]") || !strcmp(host, "::"))
		host = "::1";
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		snprintf(name, sizeof(name), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(name, sizeof(name), "%s", host);
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (port <= 0 || getaddrinfo(name, service, &hints, &ai) != 0 || !ai) {
		mg_stop(ctx);
		return;
	}
	s.ctx = ctx;
	atomic_init(&s.done, 0);
	if (pthread_create(&t, NULL, stop_thread, &s) != 0) {
		freeaddrinfo(ai);
		mg_stop(ctx);
		return;
	}
	while (!atomic_load(&s.done)) {
		poke(ai);
		nanosleep(&pause, NULL);
	}
	pthread_join(t, NULL);
	freeaddrinfo(ai);
}
