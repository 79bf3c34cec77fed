/* Scratch space owned by one process.
 *
 * Every worker process gets its own directory <data_dir>/work/<host>-<pid>-<random>.d, next to a lock
 * file of the same name ending in .lock that the process holds an exclusive flock(2) on for as long as it
 * runs.  A task's scratch directory lives inside it, one per claim, so no two processes (and no two
 * claims of the same task in one process) ever share a directory: a worker that loses a lease removes
 * only its own files, and the new owner starts from the store and storage.
 *
 * At start-up a process removes the directories of processes that are gone: a directory is removed only
 * while this process holds the lock of its lock file, which the kernel releases when its owner exits
 * (however it exits).  The owner takes the lock before it creates the directory, so a directory whose
 * lock can be taken has no living owner. */
#include "pipeline/scratch.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH_SUFFIX ".d"
#define LOCK_SUFFIX ".lock"

/* Open and lock path; on success the returned descriptor holds the lock and still names path (a cleaner
 * may have unlinked the file between open and flock: then the lock is on an orphan and we try again). */
static int lock_file(const char *path, int nonblock)
{
	int tries;
	for (tries = 0; tries < 8; tries++) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) != 0) {
			close(fd);
			return -1;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* Remove the scratch directories (and lock files) of processes that are gone. */
static void sweep(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), sl = strlen(SCRATCH_SUFFIX), ll = strlen(LOCK_SUFFIX);
		char *dir = NULL, *lock = NULL;
		int fd;
		if (n > ll && strcmp(de->d_name + n - ll, LOCK_SUFFIX) == 0) {
			/* A lock file without its directory (its owner died before creating it): drop it. */
			lock = lv_path_join(root, de->d_name);
			dir = lv_asprintf("%.*s%s", (int)(strlen(lock ? lock : "") - ll), lock ? lock : "", SCRATCH_SUFFIX);
			if (lock && dir && !lv_path_exists(dir) && (fd = lock_file(lock, 1)) >= 0) {
				if (!lv_path_exists(dir))
					unlink(lock);
				close(fd);
			}
			free(dir);
			free(lock);
			continue;
		}
		if (n <= sl || strcmp(de->d_name + n - sl, SCRATCH_SUFFIX) != 0)
			continue;
		dir = lv_path_join(root, de->d_name);
		lock = dir ? lv_asprintf("%.*s%s", (int)(strlen(dir) - sl), dir, LOCK_SUFFIX) : NULL;
		if (dir && lock && (fd = lock_file(lock, 1)) >= 0) {
			/* Nobody holds it: its owner is gone (or never got past creating it). */
			if (lv_rm_rf(dir) == LV_OK) {
				LV_INFO("removed the scratch space of a process that is gone: %s", dir);
				unlink(lock);
			} else {
				LV_WARN("%s", lv_error_last()->message);
			}
			close(fd);
		}
		free(dir);
		free(lock);
	}
	closedir(d);
}

int lv_scratch_open(lv_scratch *s, const char *data_dir)
{
	char host[48] = "host", rnd[13], *root, *base = NULL, *lock = NULL;
	size_t i;
	int rc = LV_OK;
	gethostname(host, sizeof(host) - 1);
	for (i = 0; host[i]; i++)
		if (host[i] == '/' || host[i] == '.')
			host[i] = '_';
	lv_random_base62(rnd, 12);
	if (!(root = lv_path_join(data_dir, "work")))
		return LV_ENOMEM;
	if ((rc = lv_mkdir_p(root, 0)) != LV_OK)
		goto out;
	sweep(root);
	base = lv_asprintf("%s/%s-%ld-%s", root, host, (long)getpid(), rnd);
	lock = lv_asprintf("%s%s", base ? base : "", LOCK_SUFFIX);
	s->dir = lv_asprintf("%s%s", base ? base : "", SCRATCH_SUFFIX);
	if (!base || !lock || !s->dir) {
		rc = LV_ENOMEM;
		goto out;
	}
	if ((s->lock = lock_file(lock, 0)) < 0) {
		rc = lv_error_set(LV_EIO, "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	rc = lv_mkdir_p(s->dir, 1);
out:
	free(root);
	free(base);
	free(lock);
	return rc;
}

void lv_scratch_close(lv_scratch *s)
{
	if (s->dir && s->lock >= 0) {
		char *lock = lv_asprintf("%.*s%s", (int)(strlen(s->dir) - strlen(SCRATCH_SUFFIX)), s->dir,
		                         LOCK_SUFFIX);
		if (lv_rm_rf(s->dir) != LV_OK)
			LV_WARN("%s", lv_error_last()->message);
		else if (lock)
			unlink(lock);
		free(lock);
	}
	if (s->lock >= 0)
		close(s->lock);
	s->lock = -1;
	free(s->dir);
	s->dir = NULL;
}
