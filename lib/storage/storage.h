/*
 * Internal: where a task's artifacts and results live (a versioned vtable).
 *
 * Keys are relative paths:
 *   tasks/{task_id}/...            working artifacts (anchors, segments, audio): never served
 *   media/{task_id}/{token}/NAME   published results: served at capability URLs
 * The local backend keeps them under storage.dir; the S3 backend in a bucket.
 * Every worker that resumes a task finds what another worker stored.
 */
#ifndef LV_STORAGE_H
#define LV_STORAGE_H

#include <stddef.h>

#define LV_STORAGE_OPS_VERSION 1

typedef struct lv_storage lv_storage;

typedef struct lv_storage_ops {
	unsigned version;
	const char *name;
	/* Store a local file under key (atomically: readers see the old object or the new one). */
	int (*put_file)(lv_storage *s, const char *key, const char *path, const char *content_type);
	/* Make the object available as a local file: *out is a path to read (caller frees); for a
	 * remote backend the object is downloaded to dest_hint.  LV_ENOTFOUND if absent. */
	int (*get_file)(lv_storage *s, const char *key, const char *dest_hint, char **out);
	/* 1 if the object exists, 0 if not, or an error status < 0 is never returned: errors are 0. */
	int (*exists)(lv_storage *s, const char *key);
	/* The URL clients use for a published key: "/media/..." (relative to the public URL) for local,
	 * an absolute public or presigned URL for S3.  Caller frees. */
	int (*url)(lv_storage *s, const char *key, char **out);
	/* For serving by lvserver: the local file of a key, or LV_ENOTFOUND / LV_EINVALID if not local. */
	int (*local_path)(lv_storage *s, const char *key, char **out);
	/* Remove every object whose key starts with prefix. */
	int (*remove_prefix)(lv_storage *s, const char *prefix);
	void (*close)(lv_storage *s);
} lv_storage_ops;

struct lv_storage {
	const lv_storage_ops *ops;
};

/* Open the configured storage ("local" with storage.dir, or "s3"). */
struct lv_config;
int lv_storage_open(lv_storage **out, const struct lv_config *cfg);
int lv_storage_local_open(lv_storage **out, const char *dir);
void lv_storage_close(lv_storage *s);

/* A key is a relative path of [A-Za-z0-9._-] segments separated by '/', no "..", no leading '/'. */
int lv_storage_key_valid(const char *key);

#endif
