/* Shared helpers for the test suites. */
#ifndef LV_TESTUTIL_H
#define LV_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* A fresh private directory under $TMPDIR (or /tmp); removed by lv_test_rmdir(). Caller frees. */
char *lv_test_mkdtemp(const char *tag);
void lv_test_rmdir(const char *dir);
/* Run a Check suite with the default runner; returns the process exit code. */
int lv_test_run_suite(Suite *s);
/* Write text to dir/name; returns the full path (caller frees). */
char *lv_test_write_file(const char *dir, const char *name, const char *text);

/* Read a whole file; returns 0 on success (caller frees *out). */
int lv_test_read_file(char **out, size_t *len, const char *path);

#endif
