/*
 * A fake Anthropic Messages API: POST /v1/messages answers a message whose tool_use block carries the
 * storyboard of the plan in the prompt (the "- shot N: duration D s" lines), with the shots of `cast`
 * showing the character; GET /v1/models lists models.  Raw answers in `script` come first.  With `key`
 * set, a request with another x-api-key gets Anthropic's 401 authentication_error echoing the key.
 */
#ifndef LV_TEST_FAKE_ANTHROPIC_H
#define LV_TEST_FAKE_ANTHROPIC_H

#include "fakes/fake_util.h"

typedef struct fake_anthropic {
	lv_fake *f;
	pthread_mutex_t mu; /* guards the fields below */
	fake_arena arena;
	char key[256];
	fake_script script;
	unsigned cast;      /* FAKE_CAST_ALL by default */
} fake_anthropic;

fake_anthropic *fake_anthropic_start(void);
void fake_anthropic_stop(fake_anthropic *a);
lv_fake *fake_anthropic_server(const fake_anthropic *a);
const char *fake_anthropic_url(const fake_anthropic *a);
void fake_anthropic_lock(fake_anthropic *a);
void fake_anthropic_unlock(fake_anthropic *a);

/* Add a raw answer to the script (times: see fake_script_add). */
void fake_anthropic_push(fake_anthropic *a, int status, const char *headers, const char *body, int delay_ms,
                         int times);

/* A Messages answer whose tool_use input is `input` (caller frees). */
char *fake_anthropic_message(const char *input, const char *stop_reason);

#endif
