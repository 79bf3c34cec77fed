#include "fakevendor.h"
#include "stop.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROUTES 64
#define MAX_QUEUE 32
#define MAX_LOG 1024

typedef struct route {
	char method[16];
	char path[256];
	lv_fake_response queue[MAX_QUEUE];
	size_t n, next;
	lv_fake_handler fn;
	void *ctx;
} route;

struct lv_fake {
	struct mg_context *ctx;
	int port;
	char url[64];
	pthread_mutex_t mu;
	route routes[MAX_ROUTES];
	size_t n_routes;
	lv_fake_request *log[MAX_LOG];
	size_t n_log;
};

static int path_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, path, n - 1) == 0;
	return strcmp(pattern, path) == 0;
}

static route *find(lv_fake *f, const char *method, const char *path)
{
	size_t i;
	for (i = f->n_routes; i-- > 0;) /* later registrations win */
		if (!strcmp(f->routes[i].method, method) && path_matches(f->routes[i].path, path))
			return &f->routes[i];
	return NULL;
}

static route *route_for(lv_fake *f, const char *method, const char *path)
{
	size_t i;
	for (i = 0; i < f->n_routes; i++)
		if (!strcmp(f->routes[i].method, method) && !strcmp(f->routes[i].path, path))
			return &f->routes[i];
	if (f->n_routes == MAX_ROUTES)
		return NULL;
	i = f->n_routes++;
	snprintf(f->routes[i].method, sizeof(f->routes[i].method), "%s", method);
	snprintf(f->routes[i].path, sizeof(f->routes[i].path), "%s", path);
	return &f->routes[i];
}

void lv_fake_on(lv_fake *f, const char *method, const char *path, const lv_fake_response *r)
{
	route *rt;
	lv_fake_response *q;
	pthread_mutex_lock(&f->mu);
	rt = route_for(f, method, path);
	if (rt && rt->n < MAX_QUEUE) {
		q = &rt->queue[rt->n++];
		*q = *r;
		q->headers = lv_strdup(r->headers);
		q->body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
		q->body = r->body ? lv_strndup(r->body, q->body_len) : NULL;
		q->body_file = lv_strdup(r->body_file);
		q->content_type = lv_strdup(r->content_type);
		rt->fn = NULL;
	}
	pthread_mutex_unlock(&f->mu);
}

void lv_fake_handle(lv_fake *f, const char *method, const char *path, lv_fake_handler fn, void *ctx)
{
	route *rt;
	pthread_mutex_lock(&f->mu);
	rt = route_for(f, method, path);
	if (rt) {
		rt->fn = fn;
		rt->ctx = ctx;
	}
	pthread_mutex_unlock(&f->mu);
}

static lv_fake_request *request_copy(const lv_fake_request *r)
{
	lv_fake_request *c = lv_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = *r;
	c->headers = lv_strdup(r->headers ? r->headers : "");
	c->body = lv_strndup(r->body ? r->body : "", r->body_len);
	return c;
}

void lv_fake_request_free(lv_fake_request *r)
{
	if (!r)
		return;
	free(r->headers);
	free(r->body);
	free(r);
}

const char *lv_fake_header(const lv_fake_request *r, const char *name, char *buf, size_t cap)
{
	const char *p = r->headers;
	size_t nl = strlen(name);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl + 1 && !strncasecmp(p, name, nl) && p[nl] == ':') {
			size_t vl = len - nl - 2;
			if (vl >= cap)
				vl = cap - 1;
			memcpy(buf, p + nl + 2, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = eol ? eol + 1 : p + len;
	}
	return NULL;
}

/* A whole file into a heap buffer.  (Not lv_file_read: its 64 KiB stack buffer overflows the small stacks
 * of CivetWeb's worker threads.) */
static int read_file_heap(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	*out = NULL;
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(*out = malloc((size_t)n + 1)) || fread(*out, 1, (size_t)n, f) != (size_t)n) {
		free(*out);
		*out = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

static int serve(struct mg_connection *c, void *p)
{
	lv_fake *f = p;
	const struct mg_request_info *ri = mg_get_request_info(c);
	lv_fake_request req;
	lv_fake_response resp;
	lv_buf body = LV_BUF_INIT, hdr = LV_BUF_INIT;
	char *chunk = malloc(65536), *file_data = NULL;
	route *rt;
	int i, n;
	size_t len;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	snprintf(req.method, sizeof(req.method), "%s", ri->request_method);
	snprintf(req.path, sizeof(req.path), "%s", ri->local_uri);
	snprintf(req.query, sizeof(req.query), "%s", ri->query_string ? ri->query_string : "");
	for (i = 0; i < ri->num_headers; i++) {
		const char *h = ri->http_headers[i].name;
		for (; *h; h++)
			lv_buf_printf(&hdr, "%c", tolower((unsigned char)*h));
		lv_buf_printf(&hdr, ": %s\n", ri->http_headers[i].value);
	}
	while (chunk && (n = mg_read(c, chunk, 65536)) > 0)
		lv_buf_put(&body, chunk, (size_t)n);
	free(chunk);
	req.headers = hdr.data ? hdr.data : (char *)"";
	req.body = body.data ? body.data : (char *)"";
	req.body_len = body.len;

	pthread_mutex_lock(&f->mu);
	if (f->n_log < MAX_LOG)
		f->log[f->n_log++] = request_copy(&req);
	rt = find(f, req.method, req.path);
	if (rt && !rt->fn && rt->n > 0) {
		resp = rt->queue[rt->next < rt->n ? rt->next : rt->n - 1];
		if (rt->next < rt->n)
			rt->next++;
		/* copy out what we need while locked */
		resp.headers = lv_strdup(resp.headers);
		resp.body = resp.body ? lv_strndup(resp.body, resp.body_len) : NULL;
		resp.body_file = lv_strdup(resp.body_file);
		resp.content_type = lv_strdup(resp.content_type);
	}
	pthread_mutex_unlock(&f->mu);
	if (rt && rt->fn) {
		rt->fn(f, &req, &resp, rt->ctx);
		resp.headers = lv_strdup(resp.headers);
		resp.body_len = resp.body ? (resp.body_len ? resp.body_len : strlen(resp.body)) : 0;
		resp.body = resp.body ? lv_strndup(resp.body, resp.body_len) : NULL;
		resp.body_file = lv_strdup(resp.body_file);
		resp.content_type = lv_strdup(resp.content_type);
	} else if (!rt) {
		resp.status = 404;
		resp.body = lv_strdup("{\"error\":{\"message\":\"no such route in the fake vendor\"}}");
	}
	if (resp.delay_ms > 0)
		lv_sleep_ms(resp.delay_ms);
	if (resp.body_file && read_file_heap(&file_data, &len, resp.body_file) == 0) {
		free((char *)resp.body);
		resp.body = file_data;
		resp.body_len = len;
		file_data = NULL;
	}
	if (!resp.hang_up) {
		const char *b = resp.body ? resp.body : "";
		size_t bl = resp.body ? (resp.body_len ? resp.body_len : strlen(resp.body)) : 0;
		int status = resp.status ? resp.status : 200;
		mg_printf(c,
		          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		          status, status < 300 ? "OK" : status < 400 ? "Redirect" : "Error",
		          resp.content_type ? resp.content_type : "application/json", bl,
		          resp.headers ? resp.headers : "");
		if (bl)
			mg_write(c, b, bl);
	}
	free((char *)resp.headers);
	free((char *)resp.body);
	free((char *)resp.body_file);
	free((char *)resp.content_type);
	lv_buf_free(&body);
	lv_buf_free(&hdr);
	return resp.hang_up ? 1 : (resp.status ? resp.status : 200);
}

lv_fake *lv_fake_start(void)
{
	lv_fake *f = lv_calloc(1, sizeof(*f));
	const char *opts[] = { "listening_ports", "127.0.0.1:0", "num_threads", "16", "enable_keep_alive", "no", NULL };
	struct mg_server_port sp;
	if (!f)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	f->ctx = mg_start(NULL, NULL, opts);
	if (!f->ctx || mg_get_server_ports(f->ctx, 1, &sp) < 1) {
		lv_fake_stop(f);
		return NULL;
	}
	f->port = sp.port;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", sp.port);
	mg_set_request_handler(f->ctx, "/", serve, f);
	return f;
}

void lv_fake_stop(lv_fake *f)
{
	size_t i, j;
	if (!f)
		return;
	if (f->ctx)
		srv_civetweb_stop(f->ctx, "127.0.0.1", f->port);
	for (i = 0; i < f->n_routes; i++)
		for (j = 0; j < f->routes[i].n; j++) {
			lv_fake_response *q = &f->routes[i].queue[j];
			free((char *)q->headers);
			free((char *)q->body);
			free((char *)q->body_file);
			free((char *)q->content_type);
		}
	for (i = 0; i < f->n_log; i++)
		lv_fake_request_free(f->log[i]);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

const char *lv_fake_url(const lv_fake *f)
{
	return f->url;
}

size_t lv_fake_requests(lv_fake *f)
{
	size_t n;
	pthread_mutex_lock(&f->mu);
	n = f->n_log;
	pthread_mutex_unlock(&f->mu);
	return n;
}

lv_fake_request *lv_fake_request_get(lv_fake *f, size_t i)
{
	lv_fake_request *r = NULL;
	pthread_mutex_lock(&f->mu);
	if (i < f->n_log)
		r = request_copy(f->log[i]);
	pthread_mutex_unlock(&f->mu);
	return r;
}

lv_fake_request *lv_fake_last(lv_fake *f, const char *method, const char *path)
{
	lv_fake_request *r = NULL;
	size_t i;
	pthread_mutex_lock(&f->mu);
	for (i = f->n_log; i-- > 0;)
		if (!strcmp(f->log[i]->method, method) && path_matches(path, f->log[i]->path)) {
			r = request_copy(f->log[i]);
			break;
		}
	pthread_mutex_unlock(&f->mu);
	return r;
}

size_t lv_fake_count(lv_fake *f, const char *method, const char *path)
{
	size_t i, n = 0;
	pthread_mutex_lock(&f->mu);
	for (i = 0; i < f->n_log; i++)
		n += !strcmp(f->log[i]->method, method) && path_matches(path, f->log[i]->path);
	pthread_mutex_unlock(&f->mu);
	return n;
}
