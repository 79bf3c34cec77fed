/*
 * Internal: this process's scratch space (scratch.c), the bottom of the pipeline.
 *
 * <data_dir>/work/<host>-<pid>-<random>.d, held for as long as the process runs by an exclusive lock on
 * the sibling .lock file; every claim of a task gets a directory inside it (held.c names them).
 * Includes no other pipeline header.
 */
#ifndef LV_PIPELINE_SCRATCH_H
#define LV_PIPELINE_SCRATCH_H

typedef struct lv_scratch {
	char *dir; /* <data_dir>/work/<host>-<pid>-<random>.d */
	int lock;  /* the descriptor holding the lock that proves this process owns it (-1: none) */
} lv_scratch;

/* Create this process's scratch space under data_dir, after removing that of processes that are gone. */
int lv_scratch_open(lv_scratch *s, const char *data_dir);
/* Remove it (safe on a space that was never opened, with lock = -1). */
void lv_scratch_close(lv_scratch *s);

#endif
