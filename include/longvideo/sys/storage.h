/*
 * liblongvideo — plug-in storage: the versioned storage interface.
 *
 * Storage is where a task's artifacts and results live: character references, clips, the narration
 * and the finished film.  The built-in types are "local" (files under storage.dir) and "s3".  A
 * program that links the library can add its own type: describe it with an lv_storage_type (its name,
 * the config keys it reads, a create function) and register it on the engine options with
 * lv_engine_register_storage_type(); a config then selects it with "storage": {"type": "NAME", ...}.
 *
 *     static const lv_storage_backend_ops my_ops = { LV_STORAGE_BACKEND_OPS_VERSION, my_put_file,
 *         my_get_file, my_exists, my_head, my_read, NULL, NULL, my_local_path, my_remove,
 *         my_remove_prefix, NULL, my_move, my_destroy };
 *     static int my_create(lv_storage_backend *b, const lv_storage_conf *conf, void *data)
 *     {
 *         b->self = ...;     (an instance built from the "storage" block)
 *         b->ops = &my_ops;
 *         return LV_OK;
 *     }
 *     static const char *const my_keys[] = { "root", NULL };
 *     static const lv_storage_type my_type = { LV_STORAGE_TYPE_VERSION, "my-store", my_keys, my_create, NULL };
 *
 * Keys are relative paths of '/'-separated parts of A-Z a-z 0-9 . _ - (never "..", never a leading
 * '/'): "tasks/TASK/..." holds a task's working artifacts, "media/TASK/TOKEN/NAME" its published
 * results.  Every worker that resumes a task must find what another stored, so several processes may
 * open the same storage at once; every call may come from several threads at once.
 *
 * Return LV_OK or a status (LV_ENOTFOUND, LV_EIO, ...).  A failing call should say why with
 * lv_storage_fail() (name the object and what to do; never a secret); when it does not, the library
 * records a message naming the storage type, the operation and the key.  Strings a call hands back
 * in `char **out` are allocated with malloc and freed by the library.  Strings the library passes in
 * are valid only during the call.
 */
#ifndef LONGVIDEO_SYS_STORAGE_H
#define LONGVIDEO_SYS_STORAGE_H

#include "../common.h"
#include "../engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The "storage" block of the config.  Owned by the library; valid as long as the instance it was
 *  given to. */
typedef struct lv_storage_conf lv_storage_conf;

/**
 * A string key of the block: *out points into the config (valid as long as `conf`; do not free), or
 * is `fallback` when the key is absent.  LV_ECONFIG naming storage.KEY when it is not a non-empty string.
 */
LV_EXTERN(int) lv_storage_conf_str(const char **out, const lv_storage_conf *conf, const char *key,
                                   const char *fallback);
/** An integer key from `min` to `max`; `def` when absent.  LV_ECONFIG naming the key otherwise. */
LV_EXTERN(int) lv_storage_conf_int(int64_t *out, const lv_storage_conf *conf, const char *key, int64_t def,
                                   int64_t min, int64_t max);
/** A true/false key; `def` when absent.  LV_ECONFIG naming the key otherwise. */
LV_EXTERN(int) lv_storage_conf_bool(int *out, const lv_storage_conf *conf, const char *key, int def);
/** The engine's data directory ("data_dir"), for a type that keeps files beside the task store.  Valid
 *  as long as `conf`. */
LV_EXTERN(const char *) lv_storage_conf_data_dir(const lv_storage_conf *conf);

/** Record why a storage call failed as the calling thread's last error (lv_error_last()) and return
 *  `status`. */
LV_EXTERN(int) lv_storage_fail(int status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

/** What lv_storage_backend_ops.head tells about an object. */
typedef struct lv_storage_stat {
	int64_t size;           /**< bytes */
	char content_type[128]; /**< the Content-Type stored with it; "" for application/octet-stream */
} lv_storage_stat;

/** Receives an object's bytes in order; a non-zero return stops the transfer (read then returns LV_EIO). */
typedef int (*lv_storage_write_fn)(void *ctx, const void *data, size_t n);

/** The version of lv_storage_backend_ops and lv_storage_backend in this header. */
#define LV_STORAGE_BACKEND_OPS_VERSION 1

/** The operations of a storage instance.  Entries marked "may be NULL" have the default described. */
typedef struct lv_storage_backend_ops {
	unsigned int version; /**< LV_STORAGE_BACKEND_OPS_VERSION */
	/** Store the local file `path` under `key`, replacing any object there, atomically (readers see the
	 *  old object or the new one), with its Content-Type (NULL: application/octet-stream).  The file
	 *  stays the caller's. */
	int (*put_file)(void *self, const char *key, const char *path, const char *content_type);
	/** Make the object available as a local file: *out gets a path to read (malloc'd; the library frees
	 *  the string, not the file).  A type whose objects are not local files copies the object to
	 *  `dest_hint` (a path in a scratch directory the library owns; NULL when the caller only wants an
	 *  existing local file, then return LV_EINVALID) and returns that path.  LV_ENOTFOUND if absent. */
	int (*get_file)(void *self, const char *key, const char *dest_hint, char **out);
	/** *found = 1 if the object exists, 0 if not (both LV_OK); an error status when that cannot be told:
	 *  an error is never taken for "not there". */
	int (*exists)(void *self, const char *key, int *found);
	/** Size and Content-Type of an object into *info (zeroed by the library); LV_ENOTFOUND if absent. */
	int (*head)(void *self, const char *key, lv_storage_stat *info);
	/** Pass `length` bytes (-1: to the end) from `offset` to `write(ctx, ...)` in order.  LV_ENOTFOUND if
	 *  absent; LV_EINVALID if offset is past the end. */
	int (*read)(void *self, const char *key, int64_t offset, int64_t length, lv_storage_write_fn write, void *ctx);
	/** The URL clients use for a published key ("media/..."), malloc'd in *out.  May be NULL: "/" + key,
	 *  which the server answers from local_path() or, failing that, presign(). */
	int (*url)(void *self, const char *key, char **out);
	/** A GET URL of the object valid for `seconds` (0: the type's default), malloc'd in *out.  May be
	 *  NULL: the type has none (LV_EINVALID). */
	int (*presign)(void *self, const char *key, int seconds, char **out);
	/** The object's local file for serving it, malloc'd in *out; LV_ENOTFOUND if absent.  May be NULL:
	 *  objects are not local files (LV_EINVALID). */
	int (*local_path)(void *self, const char *key, char **out);
	/** Remove one object; an absent object is fine (LV_OK). */
	int (*remove)(void *self, const char *key);
	/** Remove every object whose key starts with `prefix` ("tasks/TASK/": always ends in '/'). */
	int (*remove_prefix)(void *self, const char *prefix);
	/** Whether the storage is usable now (reachable, writable); the message names where it is.  Run
	 *  when the engine opens and by lvctl doctor.  May be NULL: always usable. */
	int (*check)(void *self);
	/** Move an object to another key without a copy staying behind, replacing any object at `to`, with
	 *  its Content-Type (NULL: keep it).  LV_ENOTFOUND if `from` is absent. */
	int (*move)(void *self, const char *from, const char *to, const char *content_type);
	/** Release the instance; may be NULL. */
	void (*destroy)(void *self);
} lv_storage_backend_ops;

/** A storage instance: filled by lv_storage_type.create. */
typedef struct lv_storage_backend {
	unsigned int version;              /**< set by the library (LV_STORAGE_BACKEND_OPS_VERSION) */
	void *self;                        /**< passed to every call */
	const lv_storage_backend_ops *ops; /**< required; must outlive the instance */
} lv_storage_backend;

#define LV_STORAGE_TYPE_VERSION 1

/** A storage type.  The library keeps a pointer to it: it must outlive every engine that uses it. */
typedef struct lv_storage_type {
	unsigned int version;    /**< LV_STORAGE_TYPE_VERSION */
	const char *name;        /**< the "storage.type" that selects it; not "local" or "s3" */
	const char *const *keys; /**< the block keys it reads besides "type", "retention_days" and
	                              "keep_intermediates", NULL-terminated; NULL: none.  Other keys are refused. */
	/** Build an instance from the "storage" block: fill `b` (zeroed, version set) and return LV_OK, or
	 *  return a status (LV_ECONFIG from the lv_storage_conf_* getters names the key).  Called when an
	 *  engine opens (unless it opens without a store). */
	int (*create)(lv_storage_backend *b, const lv_storage_conf *conf, void *type_data);
	void *type_data;         /**< passed to create */
} lv_storage_type;

/**
 * Let an engine opened with `opts` use `type`: its config may then say "storage": {"type": NAME}.  The
 * options keep the pointer (not a copy); `type` must outlive the engine.  At most
 * LV_ENGINE_MAX_STORAGE_TYPES per options struct.  Returns LV_OK, or LV_EINVALID naming what is wrong:
 * options older than version 3, an unknown version, no name or create function, a built-in type's
 * name ("local", "s3") or one already registered here, or too many types.  Nothing is registered
 * process-wide: every engine gets the types of its own options.
 */
LV_EXTERN(int) lv_engine_register_storage_type(struct lv_engine_options *opts, const lv_storage_type *type);

#ifdef __cplusplus
}
#endif
#endif
