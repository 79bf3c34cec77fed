#include "util/crypto.h"
#include "util/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

int lv_random_bytes(void *buf, size_t n)
{
	if (n > (size_t)INT32_MAX || RAND_bytes(buf, (int)n) != 1)
		return lv_error_set(LV_EINTERNAL, "the random number generator failed");
	return LV_OK;
}

static const char base62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int lv_random_base62(char *out, size_t n)
{
	unsigned char pool[64];
	size_t have = 0, used = 0, i = 0;
	while (i < n) {
		unsigned char c;
		if (used == have) {
			if (lv_random_bytes(pool, sizeof(pool)))
				return LV_EINTERNAL;
			have = sizeof(pool);
			used = 0;
		}
		c = pool[used++];
		if (c >= 248) /* 248 = 4 * 62: reject to stay uniform */
			continue;
		out[i++] = base62[c % 62];
	}
	out[n] = '\0';
	return LV_OK;
}

int lv_random_below(uint32_t bound, uint32_t *out)
{
	uint32_t x, limit;
	if (bound == 0)
		return lv_error_set(LV_EINVALID, "random bound must be positive");
	limit = UINT32_MAX - UINT32_MAX % bound;
	do {
		if (lv_random_bytes(&x, sizeof(x)))
			return LV_EINTERNAL;
	} while (x >= limit);
	*out = x % bound;
	return LV_OK;
}

void lv_sha256(unsigned char out[32], const void *data, size_t n)
{
	SHA256(data, n, out);
}

void lv_hex_encode(char *out, const unsigned char *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void lv_sha256_hex(char out[65], const void *data, size_t n)
{
	unsigned char d[32];
	SHA256(data, n, d);
	lv_hex_encode(out, d, sizeof(d));
}

void lv_hmac_sha256(unsigned char out[32], const void *key, size_t key_len, const void *data, size_t n)
{
	unsigned int len = 32;
	HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len);
}

struct lv_hmac_key {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx; /* keyed, never finished: each message works on a copy */
};

lv_hmac_key *lv_hmac_key_new(const void *key, size_t key_len)
{
	lv_hmac_key *k = calloc(1, sizeof(*k));
	OSSL_PARAM params[2];
	char digest[] = "SHA256";
	if (!k)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!(k->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(k->ctx = EVP_MAC_CTX_new(k->mac)) ||
	    EVP_MAC_init(k->ctx, key, key_len, params) != 1) {
		lv_hmac_key_free(k);
		return NULL;
	}
	return k;
}

void lv_hmac_key_free(lv_hmac_key *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->ctx);
	EVP_MAC_free(k->mac);
	free(k);
}

void lv_hmac_key_sign(const lv_hmac_key *k, const void *fallback_key, size_t fallback_len, unsigned char out[32],
                      const void *data, size_t n)
{
	EVP_MAC_CTX *c = k ? EVP_MAC_CTX_dup(k->ctx) : NULL;
	size_t len = 0;
	if (c && EVP_MAC_update(c, data, n) == 1 && EVP_MAC_final(c, out, &len, 32) == 1 && len == 32) {
		EVP_MAC_CTX_free(c);
		return;
	}
	EVP_MAC_CTX_free(c);
	lv_hmac_sha256(out, fallback_key, fallback_len, data, n);
}

size_t lv_base64_encode(char *out, const void *data, size_t n)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)n);
}

long lv_base64_decode(unsigned char *out, const char *text, size_t len)
{
	int n;
	size_t pad = 0;
	if (len % 4 != 0)
		return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes; take them off. */
	if (len >= 1 && text[len - 1] == '=')
		pad++;
	if (len >= 2 && text[len - 2] == '=')
		pad++;
	return (long)n - (long)pad;
}

int lv_memcmp_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n);
}
