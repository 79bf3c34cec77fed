/* Internal: the retention marks of a task (see retention.c). */
#ifndef LV_CORE_RETENTION_H
#define LV_CORE_RETENTION_H

#include <stdint.h>

struct lv_engine;

/* The times (ms, 0: not removed) the task's results and working files were removed, from its state
 * JSON text (NULL allowed); returns 1 when a removal is still pending. */
int lv_retention_marks(const char *state_text, int64_t *results_at, int64_t *intermediates_at);

/* Mark a finished task's results and/or working files removed and remove them; *done = 0 when the
 * task is not finished or is held by a worker (nothing happens then). */
int lv_retention_apply(struct lv_engine *e, const char *id, int results, int intermediates, int *done);

#endif
