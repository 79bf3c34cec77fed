/* Internal: the parts of the S3 backend that tests reach directly. */
#ifndef LV_STORAGE_S3_H
#define LV_STORAGE_S3_H

#include <time.h>

/* A SigV4 presigned GET URL (query-string authentication, UNSIGNED-PAYLOAD, only "host" signed):
 *   scheme://host + path + "?X-Amz-Algorithm=...&X-Amz-Signature=..."
 * host is the Host header clients will send (with ":port" when not the scheme's default); path is the
 * canonical URI ("/bucket/key" or "/key"), made of unreserved characters and '/'.  Caller frees *out. */
typedef struct lv_s3_presign_in {
	const char *scheme, *host, *path, *region, *access_key, *secret_key;
	time_t now;
	int expires; /* seconds, 1 to 604800 */
} lv_s3_presign_in;

int lv_s3_presign(char **out, const lv_s3_presign_in *in);

#endif
