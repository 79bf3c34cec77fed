/* Internal: files and directories. */
#ifndef LV_UTIL_FS_H
#define LV_UTIL_FS_H

#include <stddef.h>

/* mkdir -p with mode 0755 (0700 when private is set for the leaf). */
int lv_mkdir_p(const char *path, int private_leaf);
/* Read a whole file; *out is NUL-terminated and freed by the caller. */
int lv_file_read(char **out, size_t *len, const char *path);
/* Write a file atomically (temp file in the same directory, fsync, rename) with the given mode. */
int lv_file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* Copy the file src to dst atomically (temp file beside dst, fsync, rename) with the given mode.
 * The bytes are copied by the kernel (copy_file_range) where it can, else read and written. */
int lv_file_copy_atomic(const char *src, const char *dst, int mode);
/* 1 if path exists (any type). */
int lv_path_exists(const char *path);
/* Join two path parts with one '/': caller frees. */
char *lv_path_join(const char *a, const char *b);
/* Remove a directory tree (like rm -rf); missing is fine. */
int lv_rm_rf(const char *path);

#endif
