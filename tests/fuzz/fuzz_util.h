/* Shared set-up for the libFuzzer harnesses: an engine on a private data directory, made once. */
#ifndef LV_FUZZ_UTIL_H
#define LV_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "longvideo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated string (the caller frees). */
char *lv_fuzz_text(const uint8_t *data, size_t size);
/* An engine with built-in defaults on a fresh directory, and an API key on it; made on first use, kept for
 * the life of the process (libFuzzer never returns from its loop). */
lv_engine *lv_fuzz_engine(lv_key **key);
/* An engine with the given configuration (JSON) on its own directory, made once per process. */
lv_engine *lv_fuzz_engine_config(const char *config_json);
/* A private directory made once for the process. */
const char *lv_fuzz_dir(void);

#endif
