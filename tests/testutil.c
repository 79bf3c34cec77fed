#include "testutil.h"
#include "util/fs.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *lv_test_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = lv_asprintf("%s/lvtest-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	if (!tmpl || !mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

void lv_test_rmdir(const char *dir)
{
	if (dir && !getenv("LV_TEST_KEEP"))
		lv_rm_rf(dir);
}

int lv_test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

char *lv_test_write_file(const char *dir, const char *name, const char *text)
{
	char *path = lv_path_join(dir, name);
	FILE *f = path ? fopen(path, "wb") : NULL;
	if (!f) {
		free(path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

int lv_test_read_file(char **out, size_t *len, const char *path)
{
	return lv_file_read(out, len, path) == LV_OK ? 0 : -1;
}
