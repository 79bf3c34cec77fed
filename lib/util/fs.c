#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* copy_file_range(2) */
#endif
#include "util/fs.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lv_mkdir_p(const char *path, int private_leaf)
{
	char *copy = lv_strdup(path), *p;
	int rc = LV_OK;
	if (!copy)
		return LV_ENOMEM;
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			rc = lv_error_set(LV_EIO, "cannot create directory %s: %s", copy, strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(copy, private_leaf ? 0700 : 0755) != 0 && errno != EEXIST)
		rc = lv_error_set(LV_EIO, "cannot create directory %s: %s", copy, strerror(errno));
out:
	free(copy);
	return rc;
}

int lv_file_read(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	lv_buf b = LV_BUF_INIT;
	char chunk[65536];
	size_t n;
	*out = NULL;
	if (!f)
		return lv_error_set(LV_EIO, "cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (lv_buf_put(&b, chunk, n)) {
			fclose(f);
			lv_buf_free(&b);
			return LV_ENOMEM;
		}
	}
	if (ferror(f)) {
		fclose(f);
		lv_buf_free(&b);
		return lv_error_set(LV_EIO, "cannot read %s", path);
	}
	fclose(f);
	if (len)
		*len = b.len;
	*out = lv_buf_detach(&b);
	return *out ? LV_OK : LV_ENOMEM;
}

int lv_file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = lv_asprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, rc = LV_OK;
	if (!tmp)
		return LV_ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = lv_error_set(LV_EIO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = lv_error_set(LV_EIO, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		rc = lv_error_set(LV_EIO, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = lv_error_set(LV_EIO, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

/* The bytes of in (from its start) into out: by copy_file_range(), which the kernel does without a
 * pass through user space (or as a reflink), else by read and write. */
static int copy_bytes(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;
	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* Not between these files or not on this kernel: copy what is left ourselves. */
		if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF)
			break;
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		char *p = buf;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			p += w;
			n -= w;
		}
	}
	return 0;
}

int lv_file_copy_atomic(const char *src, const char *dst, int mode)
{
	char *tmp = lv_asprintf("%s.tmp.%ld", dst, (long)getpid());
	int in = -1, out = -1, rc = LV_OK;
	if (!tmp)
		return LV_ENOMEM;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = lv_error_set(LV_EIO, "cannot read %s: %s", src, strerror(errno));
		goto out;
	}
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		rc = lv_error_set(LV_EIO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (copy_bytes(in, out) != 0) {
		rc = lv_error_set(LV_EIO, "cannot copy %s to %s: %s", src, tmp, strerror(errno));
		goto out;
	}
	if (fsync(out) != 0) {
		rc = lv_error_set(LV_EIO, "cannot sync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(out) != 0) {
		out = -1;
		rc = lv_error_set(LV_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	out = -1;
	if (rename(tmp, dst) != 0)
		rc = lv_error_set(LV_EIO, "cannot move %s into place: %s", dst, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int lv_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

char *lv_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (la && a[la - 1] == '/')
		return lv_asprintf("%s%s", a, b[0] == '/' ? b + 1 : b);
	return lv_asprintf("%s/%s", a, b[0] == '/' ? b + 1 : b);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int lv_rm_rf(const char *path)
{
	if (!lv_path_exists(path))
		return LV_OK;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return lv_error_set(LV_EIO, "cannot remove %s: %s", path, strerror(errno));
	return LV_OK;
}
