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

#include "model/storage_key.h"

#define LV_STORAGE_OPS_VERSION 3

#include <stdint.h>

typedef struct lv_storage lv_storage;

/* What HEAD tells about an object. */
typedef struct lv_storage_object {
	int64_t size;
	char content_type[128];
} lv_storage_object;

/* Receives an object's bytes in order; non-zero stops the transfer (the read then fails with LV_EIO). */
typedef int (*lv_storage_sink)(void *ctx, const void *data, size_t n);

typedef struct lv_storage_ops {
	unsigned version;
	const char *name;
	/* Store a local file under key (atomically: readers see the old object or the new one), with its
	 * Content-Type (NULL: application/octet-stream). */
	int (*put_file)(lv_storage *s, const char *key, const char *path, const char *content_type);
	/* Make the object available as a local file: *out is a path to read (caller frees); for a
	 * remote backend the object is streamed to dest_hint (required then).  LV_ENOTFOUND if absent. */
	int (*get_file)(lv_storage *s, const char *key, const char *dest_hint, char **out);
	/* *found = 1 if the object exists, 0 if it does not (LV_OK); an error status when that cannot be
	 * told (unreachable, refused): an error is never taken for "not there". */
	int (*exists)(lv_storage *s, const char *key, int *found);
	/* Size and Content-Type of an object; LV_ENOTFOUND if absent, another error if that cannot be told. */
	int (*head)(lv_storage *s, const char *key, lv_storage_object *info);
	/* Stream length bytes (-1: to the end) from offset into sink. */
	int (*read)(lv_storage *s, const char *key, int64_t offset, int64_t length, lv_storage_sink sink, void *ctx);
	/* The URL clients use for a published key: "/media/..." (relative to the public URL) for local and
	 * for S3 without public_base_url (the server then redirects to a presigned URL), else
	 * public_base_url + "/" + the full object key.  Caller frees. */
	int (*url)(lv_storage *s, const char *key, char **out);
	/* A presigned GET URL valid for `seconds` (0: storage.presign_seconds).  LV_ENOTFOUND if the object
	 * is absent; LV_EINVALID for a backend without presigned URLs (local). */
	int (*presign)(lv_storage *s, const char *key, int seconds, char **out);
	/* For serving by lvserver: the local file of a key, or LV_ENOTFOUND / LV_EINVALID if not local. */
	int (*local_path)(lv_storage *s, const char *key, char **out);
	/* Remove one object (absent is fine). */
	int (*remove)(lv_storage *s, const char *key);
	/* Remove every object whose key starts with prefix. */
	int (*remove_prefix)(lv_storage *s, const char *prefix);
	/* Whether the storage is usable now (the bucket exists and the credentials are accepted); the error
	 * names the endpoint and bucket (or the directory). */
	int (*check)(lv_storage *s);
	void (*close)(lv_storage *s);
	/* (version 3) Move an object to another key without a second copy staying behind: a rename for
	 * local storage, a server-side copy then delete for S3.  LV_ENOTFOUND if `from` is absent. */
	int (*move)(lv_storage *s, const char *from, const char *to, const char *content_type);
} lv_storage_ops;

struct lv_storage {
	const lv_storage_ops *ops;
};

/* Open the configured storage ("local" with storage.dir, or "s3").  An S3 store is checked at once
 * (reachable, bucket present, credentials accepted) and refused with a message naming endpoint and bucket. */
struct lv_config;
struct lv_s3_conf;
int lv_storage_open(lv_storage **out, const struct lv_config *cfg);
int lv_storage_local_open(lv_storage **out, const char *dir);
/* part_size: multipart upload part size in bytes (0: the default, 8 MiB; at least 5 MiB). */
int lv_storage_s3_open(lv_storage **out, const struct lv_s3_conf *conf, int64_t part_size);
void lv_storage_close(lv_storage *s);
/* A program's storage type (longvideo/sys/storage.h, selected by cfg->storage_plugin) behind these ops:
 * created from the "storage" block, then checked. */
struct lv_storage_type;
int lv_storage_plugin_open(lv_storage **out, const struct lv_storage_type *type, const struct lv_config *cfg);

/* lv_storage_key_valid(): model/storage_key.h (included above). */

#endif
