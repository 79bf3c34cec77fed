/* Internal (model layer): what a storage key may look like. */
#ifndef LV_MODEL_STORAGE_KEY_H
#define LV_MODEL_STORAGE_KEY_H

/* A key is a relative path of [A-Za-z0-9._-] segments separated by '/', no "..", no leading '/',
 * at most 512 bytes: 1 when `key` is one, else 0. */
int lv_storage_key_valid(const char *key);

#endif
