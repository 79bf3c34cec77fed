/* Local-directory storage: objects are files under storage.dir; keys are relative paths. */
#include "config/config.h"
#include "longvideo/media.h"
#include "storage/storage.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct local_storage {
	lv_storage base;
	char *dir;
} local_storage;

/* lv_storage_key_valid(): model/storage_key.c */

static char *object_path(local_storage *s, const char *key)
{
	if (!lv_storage_key_valid(key)) {
		lv_error_set(LV_EINVALID, "storage: invalid key '%s'", key ? key : "");
		return NULL;
	}
	return lv_path_join(s->dir, key);
}

static int ls_put_file(lv_storage *base, const char *key, const char *path, const char *content_type)
{
	local_storage *s = (local_storage *)base;
	char *dst = object_path(s, key), *slash;
	int rc;
	(void)content_type;
	if (!dst)
		return lv_error_last()->status;
	slash = strrchr(dst, '/');
	*slash = '\0';
	rc = lv_mkdir_p(dst, 0);
	*slash = '/';
	if (rc == LV_OK && (rc = lv_file_copy_atomic(path, dst, 0644)) != LV_OK) {
		char why[512];
		snprintf(why, sizeof(why), "%s", lv_error_last()->message);
		rc = lv_error_set(rc, "storage: %s", why);
	}
	free(dst);
	return rc;
}

static int ls_get_file(lv_storage *base, const char *key, const char *dest_hint, char **out)
{
	local_storage *s = (local_storage *)base;
	char *p = object_path(s, key);
	(void)dest_hint;
	*out = NULL;
	if (!p)
		return lv_error_last()->status;
	if (!lv_path_exists(p)) {
		free(p);
		return lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", key);
	}
	*out = p; /* local objects are read in place */
	return LV_OK;
}

static int ls_exists(lv_storage *base, const char *key, int *found)
{
	local_storage *s = (local_storage *)base;
	struct stat sb;
	char *p = object_path(s, key);
	int rc = LV_OK;
	*found = 0;
	if (!p)
		return lv_error_last()->status;
	if (stat(p, &sb) == 0)
		*found = S_ISREG(sb.st_mode);
	else if (errno != ENOENT && errno != ENOTDIR)
		rc = lv_error_set(LV_EIO, "storage: cannot look at %s: %s", p, strerror(errno));
	free(p);
	return rc;
}

static int ls_head(lv_storage *base, const char *key, lv_storage_object *info)
{
	local_storage *s = (local_storage *)base;
	struct stat sb;
	char *p = object_path(s, key);
	int rc = LV_OK;
	memset(info, 0, sizeof(*info));
	if (!p)
		return lv_error_last()->status;
	if (stat(p, &sb) != 0)
		rc = errno == ENOENT || errno == ENOTDIR
		             ? lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", key)
		             : lv_error_set(LV_EIO, "storage: cannot look at %s: %s", p, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		rc = lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", key);
	else
		info->size = (int64_t)sb.st_size;
	/* A directory keeps no metadata: the type follows the name, as it was stored. */
	snprintf(info->content_type, sizeof(info->content_type), "%s", lv_media_content_type(key));
	free(p);
	return rc;
}

static int ls_read(lv_storage *base, const char *key, int64_t offset, int64_t length, lv_storage_sink sink,
                   void *ctx)
{
	local_storage *s = (local_storage *)base;
	char *p = object_path(s, key), buf[1 << 16];
	int fd, rc = LV_OK;
	if (!p)
		return lv_error_last()->status;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno == ENOENT ? lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", key)
		                     : lv_error_set(LV_EIO, "storage: cannot read %s: %s", p, strerror(errno));
		free(p);
		return rc;
	}
	while (length != 0) {
		size_t want = length < 0 || length > (int64_t)sizeof(buf) ? sizeof(buf) : (size_t)length;
		ssize_t n = pread(fd, buf, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lv_error_set(LV_EIO, "storage: cannot read %s: %s", p, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (sink(ctx, buf, (size_t)n)) {
			rc = lv_error_set(LV_EIO, "storage: the reader of '%s' stopped", key);
			break;
		}
		offset += n;
		if (length > 0)
			length -= n;
	}
	close(fd);
	free(p);
	return rc;
}

static int ls_presign(lv_storage *base, const char *key, int seconds, char **out)
{
	(void)base;
	(void)key;
	(void)seconds;
	*out = NULL;
	return lv_error_set(LV_EINVALID, "storage: local storage has no presigned URLs");
}

static int ls_remove(lv_storage *base, const char *key)
{
	local_storage *s = (local_storage *)base;
	char *p = object_path(s, key);
	int rc = LV_OK;
	if (!p)
		return lv_error_last()->status;
	if (unlink(p) != 0 && errno != ENOENT)
		rc = lv_error_set(LV_EIO, "storage: cannot remove %s: %s", p, strerror(errno));
	free(p);
	return rc;
}

static int ls_check(lv_storage *base)
{
	local_storage *s = (local_storage *)base;
	if (access(s->dir, W_OK | X_OK) != 0)
		return lv_error_set(LV_EIO, "storage: the directory %s is not writable: %s", s->dir, strerror(errno));
	return LV_OK;
}

static int ls_url(lv_storage *base, const char *key, char **out)
{
	(void)base;
	*out = NULL;
	if (!lv_storage_key_valid(key) || strncmp(key, "media/", 6) != 0)
		return lv_error_set(LV_EINVALID, "storage: '%s' is not a published key", key ? key : "");
	return (*out = lv_asprintf("/%s", key)) ? LV_OK : LV_ENOMEM;
}

static int ls_local_path(lv_storage *base, const char *key, char **out)
{
	return ls_get_file(base, key, NULL, out);
}

static int ls_remove_prefix(lv_storage *base, const char *prefix)
{
	local_storage *s = (local_storage *)base;
	char *p = object_path(s, prefix);
	int rc;
	if (!p)
		return lv_error_last()->status;
	rc = lv_rm_rf(p);
	free(p);
	return rc;
}

static int ls_move(lv_storage *base, const char *from, const char *to, const char *content_type)
{
	local_storage *s = (local_storage *)base;
	char *src = object_path(s, from), *dst = src ? object_path(s, to) : NULL, *slash;
	int rc = LV_OK;
	(void)content_type;
	if (!src || !dst) {
		free(src);
		return lv_error_last()->status;
	}
	slash = strrchr(dst, '/');
	*slash = '\0';
	rc = lv_mkdir_p(dst, 0);
	*slash = '/';
	if (rc == LV_OK && rename(src, dst) != 0)
		rc = errno == ENOENT ? lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", from)
		                     : lv_error_set(LV_EIO, "storage: cannot move %s to %s: %s", src, dst, strerror(errno));
	free(src);
	free(dst);
	return rc;
}

static void ls_close(lv_storage *base)
{
	local_storage *s = (local_storage *)base;
	if (!s)
		return;
	free(s->dir);
	free(s);
}

static const lv_storage_ops local_ops = {
	LV_STORAGE_OPS_VERSION, "local", ls_put_file, ls_get_file, ls_exists, ls_head, ls_read, ls_url,
	ls_presign, ls_local_path, ls_remove, ls_remove_prefix, ls_check, ls_close, ls_move,
};

int lv_storage_local_open(lv_storage **out, const char *dir)
{
	local_storage *s;
	*out = NULL;
	if (lv_mkdir_p(dir, 0))
		return lv_error_last()->status;
	if (!(s = lv_calloc(1, sizeof(*s))))
		return LV_ENOMEM;
	s->base.ops = &local_ops;
	if (!(s->dir = lv_strdup(dir))) {
		free(s);
		return LV_ENOMEM;
	}
	*out = &s->base;
	return LV_OK;
}

int lv_storage_open(lv_storage **out, const lv_config *cfg)
{
	if (cfg->storage_plugin)
		return lv_storage_plugin_open(out, cfg->storage_plugin, cfg);
	if (!strcmp(cfg->storage_type, "local"))
		return lv_storage_local_open(out, cfg->storage_dir);
	if (!strcmp(cfg->storage_type, "s3"))
		return lv_storage_s3_open(out, &cfg->s3, 0);
	*out = NULL;
	return lv_error_set(LV_ECONFIG, "config: storage.type: \"%s\" is not available in this build",
	                    cfg->storage_type);
}

void lv_storage_close(lv_storage *s)
{
	if (s)
		s->ops->close(s);
}
