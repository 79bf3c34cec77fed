/*
 * custom_storage — a storage type written in this program, registered on an engine and named in its
 * config, holding every artifact of a whole pipeline run from a prompt to a finished film.
 *
 *   cc custom_storage.c $(pkg-config --cflags --libs longvideo) -o custom_storage
 *   ./custom_storage DATA_DIR FILM.mp4 ["prompt"]
 *
 * The type "example-shelf" keeps objects as flat files in one directory of its own (storage.shelf,
 * default DATA_DIR/shelf): the key "tasks/ID/anchors/style.png" is the file "tasks+ID+anchors+style.png"
 * ('+' never occurs in a key), its Content-Type in a ".type" file beside it.  A put writes a temporary
 * file in the same directory and renames it over the object, so a reader sees the old object or the new
 * one.  Objects are local files, so the server can serve them directly; it has no presigned URLs.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, nanosleep, opendir */
#include <longvideo.h>
#include <longvideo/sys/storage.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the storage type ----------------------------------------------------------------------------------- */

typedef struct shelf {
	char dir[4096];
} shelf;

/* The file of a key (or of a key prefix), with an optional suffix: DIR/tasks+ID+NAME[suffix]. */
static int shelf_path(const shelf *sh, const char *key, const char *suffix, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "%s/", sh->dir), i;
	for (i = 0; key[i] && n + 1 < cap; i++)
		out[n++] = key[i] == '/' ? '+' : key[i];
	if (key[i] || (size_t)snprintf(out + n, cap - n, "%s", suffix) >= cap - n)
		return lv_storage_fail(LV_EINVALID, "storage 'example-shelf': key too long: %s", key);
	return LV_OK;
}

static int io_error(const char *what, const char *path)
{
	return lv_storage_fail(errno == ENOENT ? LV_ENOTFOUND : LV_EIO, "storage 'example-shelf': %s %s: %s", what,
	                       path, strerror(errno));
}

/* Copy `from` (a file, or the bytes of `text` when from is NULL) to a temporary file, then rename it to `to`. */
static int write_atomically(const shelf *sh, const char *from, const char *text, const char *to)
{
	char tmp[4608], buf[65536];
	FILE *in = NULL, *out;
	size_t n;
	int fd, ok = 1;
	snprintf(tmp, sizeof(tmp), "%s/.put-XXXXXX", sh->dir);
	if ((fd = mkstemp(tmp)) < 0)
		return io_error("cannot create a file in", sh->dir);
	if (!(out = fdopen(fd, "wb"))) {
		close(fd);
		unlink(tmp);
		return io_error("cannot write", tmp);
	}
	if (from && !(in = fopen(from, "rb"))) {
		int rc = io_error("cannot read", from);
		fclose(out);
		unlink(tmp);
		return rc == LV_ENOTFOUND ? LV_EIO : rc;
	}
	if (in) {
		while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
			ok = fwrite(buf, 1, n, out) == n;
		ok = ok && !ferror(in);
		fclose(in);
	} else {
		ok = fputs(text, out) >= 0;
	}
	ok = (fflush(out) == 0) && ok && fsync(fileno(out)) == 0;
	if (fclose(out) != 0 || !ok || rename(tmp, to) != 0) {
		int rc = io_error("cannot write", to);
		unlink(tmp);
		return rc == LV_ENOTFOUND ? LV_EIO : rc;
	}
	return LV_OK;
}

static int shelf_put_file(void *self, const char *key, const char *path, const char *content_type)
{
	char obj[4608], type[4608];
	int rc;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))) || (rc = shelf_path(self, key, ".type", type, sizeof(type))))
		return rc;
	if ((rc = write_atomically(self, NULL, content_type ? content_type : "application/octet-stream", type)))
		return rc;
	return write_atomically(self, path, NULL, obj);
}

static int shelf_local_path(void *self, const char *key, char **out)
{
	char obj[4608];
	struct stat st;
	int rc;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))))
		return rc;
	if (stat(obj, &st) != 0)
		return io_error("cannot open", obj);
	if (!(*out = malloc(strlen(obj) + 1)))
		return lv_storage_fail(LV_ENOMEM, "out of memory");
	strcpy(*out, obj);
	return LV_OK;
}

/* The objects are local files already: the path to read is the object's own. */
static int shelf_get_file(void *self, const char *key, const char *dest_hint, char **out)
{
	(void)dest_hint;
	return shelf_local_path(self, key, out);
}

static int shelf_exists(void *self, const char *key, int *found)
{
	char obj[4608];
	struct stat st;
	int rc;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))))
		return rc;
	*found = stat(obj, &st) == 0;
	if (!*found && errno != ENOENT)
		return io_error("cannot look at", obj);
	return LV_OK;
}

static int shelf_head(void *self, const char *key, lv_storage_stat *info)
{
	char obj[4608], type[4608];
	struct stat st;
	FILE *f;
	int rc;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))) || (rc = shelf_path(self, key, ".type", type, sizeof(type))))
		return rc;
	if (stat(obj, &st) != 0)
		return io_error("cannot look at", obj);
	info->size = (int64_t)st.st_size;
	if ((f = fopen(type, "r"))) {
		size_t n = fread(info->content_type, 1, sizeof(info->content_type) - 1, f);
		info->content_type[n] = '\0';
		fclose(f);
	}
	return LV_OK;
}

static int shelf_read(void *self, const char *key, int64_t offset, int64_t length, lv_storage_write_fn write,
                      void *ctx)
{
	char obj[4608], buf[65536];
	struct stat st;
	FILE *f;
	int rc = LV_OK;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))))
		return rc;
	if (!(f = fopen(obj, "rb")))
		return io_error("cannot open", obj);
	if (fstat(fileno(f), &st) != 0 || offset < 0 || offset > (int64_t)st.st_size) {
		fclose(f);
		return lv_storage_fail(LV_EINVALID, "storage 'example-shelf': offset %lld is past the end of %s",
		                       (long long)offset, key);
	}
	if (length < 0 || length > (int64_t)st.st_size - offset)
		length = (int64_t)st.st_size - offset;
	if (fseeko(f, (off_t)offset, SEEK_SET) != 0)
		rc = io_error("cannot seek in", obj);
	while (rc == LV_OK && length > 0) {
		size_t want = length < (int64_t)sizeof(buf) ? (size_t)length : sizeof(buf);
		size_t n = fread(buf, 1, want, f);
		if (n == 0)
			rc = io_error("cannot read", obj);
		else if (write(ctx, buf, n) != 0)
			rc = lv_storage_fail(LV_EIO, "storage 'example-shelf': the reader of %s stopped", key);
		length -= (int64_t)n;
	}
	fclose(f);
	return rc;
}

static int shelf_remove(void *self, const char *key)
{
	char obj[4608], type[4608];
	int rc;
	if ((rc = shelf_path(self, key, "", obj, sizeof(obj))) || (rc = shelf_path(self, key, ".type", type, sizeof(type))))
		return rc;
	if (unlink(obj) != 0 && errno != ENOENT)
		return io_error("cannot remove", obj);
	if (unlink(type) != 0 && errno != ENOENT)
		return io_error("cannot remove", type);
	return LV_OK;
}

static int shelf_remove_prefix(void *self, const char *prefix)
{
	shelf *sh = self;
	char flat[4608], path[4608];
	size_t n;
	DIR *d;
	struct dirent *ent;
	int rc;
	if ((rc = shelf_path(sh, prefix, "", path, sizeof(path))))
		return rc;
	snprintf(flat, sizeof(flat), "%s", path + strlen(sh->dir) + 1); /* "tasks+ID+" */
	n = strlen(flat);
	if (!(d = opendir(sh->dir)))
		return io_error("cannot list", sh->dir);
	while (rc == LV_OK && (ent = readdir(d)))
		if (!strncmp(ent->d_name, flat, n)) {
			snprintf(path, sizeof(path), "%s/%s", sh->dir, ent->d_name);
			if (unlink(path) != 0 && errno != ENOENT)
				rc = io_error("cannot remove", path);
		}
	closedir(d);
	return rc;
}

static int shelf_move(void *self, const char *from, const char *to, const char *content_type)
{
	char a[4608], b[4608], ta[4608], tb[4608];
	int rc;
	if ((rc = shelf_path(self, from, "", a, sizeof(a))) || (rc = shelf_path(self, to, "", b, sizeof(b))) ||
	    (rc = shelf_path(self, from, ".type", ta, sizeof(ta))) || (rc = shelf_path(self, to, ".type", tb, sizeof(tb))))
		return rc;
	if (access(a, F_OK) != 0)
		return io_error("cannot move", a);
	if (content_type)
		rc = write_atomically(self, NULL, content_type, tb);
	else if (rename(ta, tb) != 0 && errno != ENOENT)
		rc = io_error("cannot move", ta);
	if (rc == LV_OK && rename(a, b) != 0)
		rc = io_error("cannot move", a);
	if (rc == LV_OK && content_type)
		unlink(ta);
	return rc;
}

static int shelf_check(void *self)
{
	shelf *sh = self;
	if (access(sh->dir, W_OK) != 0)
		return lv_storage_fail(LV_EIO, "storage 'example-shelf': the directory %s is not writable: %s", sh->dir,
		                       strerror(errno));
	return LV_OK;
}

static void shelf_destroy(void *self)
{
	free(self);
}

static const lv_storage_backend_ops shelf_ops = {
	LV_STORAGE_BACKEND_OPS_VERSION, shelf_put_file, shelf_get_file, shelf_exists, shelf_head, shelf_read,
	NULL, /* url: the capability path, served from local_path */
	NULL, /* presign: none */
	shelf_local_path, shelf_remove, shelf_remove_prefix, shelf_check, shelf_move, shelf_destroy,
};

static int shelf_create(lv_storage_backend *b, const lv_storage_conf *conf, void *type_data)
{
	const char *dir;
	shelf *sh;
	int rc;
	(void)type_data;
	if (!(sh = calloc(1, sizeof(*sh))))
		return lv_storage_fail(LV_ENOMEM, "out of memory");
	if ((rc = lv_storage_conf_str(&dir, conf, "shelf", NULL)) != LV_OK) {
		free(sh);
		return rc;
	}
	if (dir)
		snprintf(sh->dir, sizeof(sh->dir), "%s", dir);
	else
		snprintf(sh->dir, sizeof(sh->dir), "%s/shelf", lv_storage_conf_data_dir(conf));
	if (mkdir(sh->dir, 0700) != 0 && errno != EEXIST) {
		rc = lv_storage_fail(LV_ECONFIG, "config: storage.shelf: cannot create %s: %s", sh->dir, strerror(errno));
		free(sh);
		return rc;
	}
	b->self = sh;
	b->ops = &shelf_ops;
	return LV_OK;
}

static const char *const shelf_keys[] = { "shelf", NULL };

static const lv_storage_type shelf_type = { LV_STORAGE_TYPE_VERSION, "example-shelf", shelf_keys, shelf_create,
	                                    NULL };

/* ---- a film with it ------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	lv_task_request req = LV_TASK_REQUEST_INIT;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_engine *engine = NULL;
	lv_workers *workers = NULL;
	lv_key *key = NULL;
	lv_task *task = NULL;
	char config[5000], id[64] = "", shelf_dir[4608];
	lv_task_status status = LV_TASK_QUEUED;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: custom_storage DATA_DIR FILM.mp4 [PROMPT]\n");
		return 2;
	}
	snprintf(shelf_dir, sizeof(shelf_dir), "%s/objects", argv[1]);
	if (mkdir(argv[1], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "custom_storage: cannot create %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* The path goes into JSON: this example expects one without quotes or backslashes. */
	snprintf(config, sizeof(config),
	         "{\"storage\": {\"type\": \"example-shelf\", \"shelf\": \"%s\"}, \"pipeline\": {\"workers\": 1}}",
	         shelf_dir);
	eo.config_json = config;
	eo.data_dir = argv[1];
	if ((rc = lv_engine_register_storage_type(&eo, &shelf_type)) != LV_OK ||
	    (rc = lv_engine_open(&engine, &eo)) != LV_OK || (rc = lv_key_create(&key, engine, "example", 1000000)) != LV_OK)
		goto out;
	req.prompt = argc > 3 ? argv[3] : "A lantern drifts down a quiet river at night";
	req.duration = 6;
	req.resolution = "720p";
	if ((rc = lv_task_create(&task, engine, key, &req, NULL)) != LV_OK)
		goto out;
	snprintf(id, sizeof(id), "%s", lv_task_id(task));
	wo.webhooks = 0;
	if ((rc = lv_workers_start(&workers, engine, &wo)) != LV_OK)
		goto out;
	while (!lv_task_status_is_terminal(status)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		lv_task_free(task);
		task = NULL;
		if ((rc = lv_task_get(&task, engine, key, id)) != LV_OK)
			goto out;
		status = lv_task_get_status(task);
	}
	lv_workers_stop(workers);
	workers = NULL;
	printf("task %s: %s\n", id, lv_task_status_name(status));
	if (status != LV_TASK_COMPLETED) {
		fprintf(stderr, "custom_storage: %s: %s\n", lv_task_error_code(task) ? lv_task_error_code(task) : "",
		        lv_task_error_message(task) ? lv_task_error_message(task) : "");
		rc = 1;
		goto out;
	}
	/* The film is read back from the shelf through the storage interface. */
	if ((rc = lv_media_save_film(engine, key, id, argv[2])) != LV_OK)
		goto out;
	printf("film: %s (%d s), objects on the shelf %s\n", argv[2], lv_task_duration(task), shelf_dir);
out:
	if (rc != LV_OK && rc != 1)
		fprintf(stderr, "custom_storage: %s\n", lv_error_last()->message);
	lv_workers_stop(workers);
	lv_task_free(task);
	lv_key_free(key);
	lv_engine_close(engine);
	return rc == LV_OK ? 0 : 1;
}
