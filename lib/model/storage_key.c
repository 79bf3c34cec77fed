/* The names of stored objects: a rule the config, the stores' records and every storage backend share. */
#include "model/storage_key.h"

#include <string.h>

int lv_storage_key_valid(const char *key)
{
	const char *p = key, *seg = key;
	if (!key || !*key || *key == '/' || strlen(key) > 512)
		return 0;
	for (;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*p == '\0')
				return 1;
			seg = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		             *p == '.' || *p == '_' || *p == '-')) {
			return 0;
		}
	}
}
