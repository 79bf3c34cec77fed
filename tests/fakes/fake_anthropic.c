#include "fakes/fake_anthropic.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fake_anthropic_message(const char *input, const char *stop_reason)
{
	return lv_asprintf("{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\","
	                   "\"model\":\"claude-test\",\"content\":[{\"type\":\"text\",\"text\":\"Here is the "
	                   "storyboard.\"},{\"type\":\"tool_use\",\"id\":\"toolu_01A09q90qw90lq917835lq9\","
	                   "\"name\":\"write_storyboard\",\"input\":%s}],\"stop_reason\":\"%s\","
	                   "\"stop_sequence\":null,\"usage\":{\"input_tokens\":1200,\"output_tokens\":380}}",
	                   input, stop_reason);
}

static int key_refused(fake_anthropic *a, const lv_fake_request *req, lv_fake_response *out)
{
	char key[256];
	if (fake_key_ok(a->key, req))
		return 0;
	out->status = 401;
	out->body = fake_printf(&a->arena,
	                        "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid "
	                        "x-api-key: %s\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}",
	                        fake_request_key(req, key, sizeof(key)));
	return 1;
}

static void messages_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_anthropic *a = ctx;
	(void)f;
	pthread_mutex_lock(&a->mu);
	if (!key_refused(a, req, out) && !fake_script_next(&a->script, &a->arena, req, out)) {
		cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
		int secs[64];
		size_t n = fake_plan(fake_user_text(body), secs, 64);
		char *sb = fake_storyboard(n, secs, a->cast);
		out->body = fake_keep(&a->arena, fake_anthropic_message(sb, "tool_use"));
		out->headers = "request-id: req_011CSHoEeqs5C35K2UUqR7Fy\r\n";
		free(sb);
		cJSON_Delete(body);
	}
	pthread_mutex_unlock(&a->mu);
}

static void models_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_anthropic *a = ctx;
	(void)f;
	pthread_mutex_lock(&a->mu);
	if (!key_refused(a, req, out))
		out->body = "{\"data\":[{\"type\":\"model\",\"id\":\"claude-test\",\"display_name\":\"Claude Test\","
		            "\"created_at\":\"2025-02-19T00:00:00Z\"}],\"has_more\":false,\"first_id\":\"claude-test\","
		            "\"last_id\":\"claude-test\"}";
	pthread_mutex_unlock(&a->mu);
}

fake_anthropic *fake_anthropic_start(void)
{
	fake_anthropic *a = lv_calloc(1, sizeof(*a));
	ck_assert_ptr_nonnull(a);
	pthread_mutex_init(&a->mu, NULL);
	fake_arena_init(&a->arena);
	a->cast = FAKE_CAST_ALL;
	a->f = lv_fake_start();
	ck_assert_ptr_nonnull(a->f);
	lv_fake_handle(a->f, "POST", "/v1/messages", messages_h, a);
	lv_fake_handle(a->f, "GET", "/v1/models", models_h, a);
	return a;
}

void fake_anthropic_stop(fake_anthropic *a)
{
	if (!a)
		return;
	lv_fake_stop(a->f);
	fake_arena_free(&a->arena);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

lv_fake *fake_anthropic_server(const fake_anthropic *a)
{
	return a->f;
}

const char *fake_anthropic_url(const fake_anthropic *a)
{
	return lv_fake_url(a->f);
}

void fake_anthropic_lock(fake_anthropic *a)
{
	pthread_mutex_lock(&a->mu);
}

void fake_anthropic_unlock(fake_anthropic *a)
{
	pthread_mutex_unlock(&a->mu);
}

void fake_anthropic_push(fake_anthropic *a, int status, const char *headers, const char *body, int delay_ms,
                         int times)
{
	lv_fake_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.headers = headers;
	r.body = body;
	r.delay_ms = delay_ms;
	pthread_mutex_lock(&a->mu);
	fake_script_add(&a->script, &a->arena, &r, times);
	pthread_mutex_unlock(&a->mu);
}
