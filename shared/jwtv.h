/* SPDX-License-Identifier: Apache-2.0 */
/* jwtv: ES256 JWTs: verified with OpenSSL against keys parsed once, signed with libjwt 1.10. */
#ifndef CRM_JWTV_H
#define CRM_JWTV_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWTV_MAX_TOKEN 8192
#define JWTV_MAX_KEYS  16

enum jwtv_result {
    JWTV_OK = 0,
    JWTV_TOO_LARGE,
    JWTV_MALFORMED,
    JWTV_BAD_ALG,
    JWTV_UNKNOWN_KID,
    JWTV_BAD_SIGNATURE,
    JWTV_EXPIRED,
    JWTV_NOT_YET_VALID,
    JWTV_BAD_ISSUER,
    JWTV_BAD_AUDIENCE,
    JWTV_MISSING_CLAIM,
};

struct jwtv_key {
    char kid[64];
    char *pub_pem;  /* always */
    char *priv_pem; /* only where this process signs (auth) */
    size_t priv_len;
    EVP_PKEY *pub; /* 'pub_pem' parsed once by jwtv_add_key: what verification uses */
};

struct jwtv_cache_entry {
    unsigned char hash[32];
    int64_t exp, nbf;
    json_t *claims;
};

/*
 * The keys a process trusts, the claims it pins, and a cache of verified tokens. The verified
 * cache holds tokens whose signature already checked; time-based claims are still checked on
 * every use. A verifier is used from one thread (the event loop).
 */
struct jwtv {
    struct jwtv_key keys[JWTV_MAX_KEYS];
    size_t nkeys;
    char issuer[64];
    char audience[64];
    long leeway_s; /* allowed clock skew for nbf and iat */
    struct jwtv_cache_entry *cache;
    size_t cache_size; /* power of two; 0 disables */
    uint64_t cache_hits, cache_misses;
};

void jwtv_init(struct jwtv *v, const char *issuer, const char *audience, size_t cache_size);
void jwtv_cleanup(struct jwtv *v);

/* Add a P-256 key by PEM text ('priv' may be NULL); the public key is parsed here, once, and
 * freed by jwtv_cleanup. Returns -1 when a PEM is not an EC P-256 key or the set is full. */
int jwtv_add_key(struct jwtv *v, const char *kid, const char *pub_pem, const char *priv_pem)
    __attribute__((warn_unused_result));

/* Load every '<kid>.pub.pem' in 'dir' (and '<kid>.key.pem' beside it when 'want_private').
 * Returns the number of keys loaded, or -1 with a reason in 'err'. */
int jwtv_load_dir(struct jwtv *v, const char *dir, bool want_private, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Add to 'dst' the keys of 'src' it does not have yet (by kid); returns how many. */
int jwtv_merge(struct jwtv *dst, const struct jwtv *src);

/* Make the keys of 'dst' those of 'src': a kid 'src' lacks, or holds with other PEM text, is
 * dropped (and the verified cache emptied), one 'dst' lacks is added. Returns how many keys
 * were dropped plus added. */
int jwtv_sync(struct jwtv *dst, const struct jwtv *src);

/* Reload 'dir' into 'v' when the directory changed since '*mtime' (one stat otherwise): the
 * keys of 'v' become the directory's (jwtv_sync). A new key starts verifying, and a key whose
 * file was removed stops verifying, tokens of the verified cache included, at the next refresh
 * of each process; a rotated-out key stays trusted exactly as long as its file stays. A
 * directory that cannot be read completely changes nothing (tried again at the next refresh).
 * Returns keys dropped plus added, -1 on error. */
int jwtv_refresh_dir(struct jwtv *v, const char *dir, bool want_private, long long *mtime);

/* Verify 'token' at time 'now'. On JWTV_OK '*claims' receives a new reference to the payload. */
enum jwtv_result jwtv_verify(struct jwtv *v, const char *token, int64_t now, json_t **claims)
    __attribute__((warn_unused_result));

/* jwtv_verify without the ECDSA signature check, for a token the gateway verified and vouched
 * for with its proof (http_request.proven): its form, algorithm, kid and claims (exp, nbf, iss,
 * aud, sub) are still checked. Never fills the verified-token cache. */
enum jwtv_result jwtv_verify_vouched(struct jwtv *v, const char *token, int64_t now,
                                     json_t **claims) __attribute__((warn_unused_result));

/* Sign 'claims' with the private key 'kid' (ES256, header kid and typ). Returns a malloc'd
 * token or NULL. */
char *jwtv_sign(const struct jwtv *v, const char *kid, json_t *claims);

const char *jwtv_strerror(enum jwtv_result r);

#endif
