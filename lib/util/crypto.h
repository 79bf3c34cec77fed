/* Internal: randomness, hashes, HMAC and base64, all through OpenSSL's libcrypto. */
#ifndef LV_UTIL_CRYPTO_H
#define LV_UTIL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n bytes from the CSPRNG; LV_EINTERNAL if it cannot. */
int lv_random_bytes(void *buf, size_t n);
/* n characters from [A-Za-z0-9], uniformly (rejection sampling), then NUL: out has n+1 bytes. */
int lv_random_base62(char *out, size_t n);
/* A uniformly random integer in [0, bound). */
int lv_random_below(uint32_t bound, uint32_t *out);
/* n bytes as 2n lowercase hex characters + NUL (out[2n + 1]). */
void lv_hex_encode(char *out, const unsigned char *in, size_t n);
/* SHA-256 of data as 64 lowercase hex characters + NUL (out[65]). */
void lv_sha256_hex(char out[65], const void *data, size_t n);
void lv_sha256(unsigned char out[32], const void *data, size_t n);
/* HMAC-SHA256. */
void lv_hmac_sha256(unsigned char out[32], const void *key, size_t key_len, const void *data, size_t n);
/* HMAC-SHA256 under one key used for many messages: the keyed state is made once (OpenSSL 3's
 * one-shot HMAC() looks its algorithm up on every call, which costs three times the MAC of a short
 * message), then each message starts from a copy, so threads may sign at once.  NULL when out of
 * memory (lv_hmac_sha256 then does the same). */
typedef struct lv_hmac_key lv_hmac_key;
lv_hmac_key *lv_hmac_key_new(const void *key, size_t key_len);
void lv_hmac_key_free(lv_hmac_key *k);
/* The MAC of data under k; with k NULL, under fallback_key (lv_hmac_sha256). */
void lv_hmac_key_sign(const lv_hmac_key *k, const void *fallback_key, size_t fallback_len, unsigned char out[32],
                      const void *data, size_t n);
/* Standard base64 with padding; out needs 4*ceil(n/3)+1 bytes.  Returns the length. */
size_t lv_base64_encode(char *out, const void *data, size_t n);
/* Decode standard base64 (padding required); returns bytes written or -1 if malformed.  out needs 3*len/4. */
long lv_base64_decode(unsigned char *out, const char *text, size_t len);
/* Constant-time comparison; 0 when equal. */
int lv_memcmp_ct(const void *a, const void *b, size_t n);

#endif
