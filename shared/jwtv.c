/* SPDX-License-Identifier: Apache-2.0 */
/* jwtv: ES256 JWTs: verified with OpenSSL against keys parsed once, signed with libjwt 1.10. */
#include "jwtv.h"
#include "util.h"

#include <dirent.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *jwtv_strerror(enum jwtv_result r)
{
    switch (r) {
    case JWTV_OK:
        return "ok";
    case JWTV_TOO_LARGE:
        return "token too large";
    case JWTV_MALFORMED:
        return "token malformed";
    case JWTV_BAD_ALG:
        return "algorithm not allowed";
    case JWTV_UNKNOWN_KID:
        return "unknown key id";
    case JWTV_BAD_SIGNATURE:
        return "bad signature";
    case JWTV_EXPIRED:
        return "token expired";
    case JWTV_NOT_YET_VALID:
        return "token not yet valid";
    case JWTV_BAD_ISSUER:
        return "wrong issuer";
    case JWTV_BAD_AUDIENCE:
        return "wrong audience";
    case JWTV_MISSING_CLAIM:
        return "required claim missing";
    }
    return "unknown";
}

void jwtv_init(struct jwtv *v, const char *issuer, const char *audience, size_t cache_size)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->issuer, sizeof(v->issuer), "%s", issuer);
    snprintf(v->audience, sizeof(v->audience), "%s", audience);
    v->leeway_s = 30;
    size_t n = 0;
    if (cache_size > 0) {
        n = 1;
        while (n < cache_size)
            n <<= 1;
        v->cache = xcalloc(n, sizeof(*v->cache));
    }
    v->cache_size = n;
}

static void jwtv_cache_flush(struct jwtv *v)
{
    for (size_t i = 0; i < v->cache_size; i++) {
        json_decref(v->cache[i].claims);
        memset(&v->cache[i], 0, sizeof(v->cache[i]));
    }
}

static void jwtv_key_cleanup(struct jwtv_key *k)
{
    free(k->pub_pem);
    free(k->priv_pem);
    EVP_PKEY_free(k->pub);
    memset(k, 0, sizeof(*k));
}

void jwtv_cleanup(struct jwtv *v)
{
    jwtv_cache_flush(v);
    free(v->cache);
    for (size_t i = 0; i < v->nkeys; i++)
        jwtv_key_cleanup(&v->keys[i]);
    memset(v, 0, sizeof(*v));
}

/* The P-256 key in 'pem' (public, or private when 'priv'), parsed; NULL when it is not one.
 * Under OpenSSL 3 this parse costs several times an ECDSA verify: it is done once per key. */
static EVP_PKEY *pem_read_p256(const char *pem, bool priv)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = NULL;
    char curve[64];
    size_t len = 0;
    if (bio != NULL)
        k = priv ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                 : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (k != NULL && (EVP_PKEY_base_id(k) != EVP_PKEY_EC ||
                      EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof(curve), &len) != 1 ||
                      strcmp(curve, "prime256v1") != 0)) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    BIO_free(bio);
    return k;
}

int jwtv_add_key(struct jwtv *v, const char *kid, const char *pub_pem, const char *priv_pem)
{
    EVP_PKEY *pub = NULL, *priv = NULL;
    int rc = -1;
    if (v->nkeys == JWTV_MAX_KEYS || strlen(kid) == 0 || strlen(kid) >= sizeof(v->keys[0].kid))
        goto out;
    pub = pem_read_p256(pub_pem, false);
    if (pub == NULL || (priv_pem && (priv = pem_read_p256(priv_pem, true)) == NULL))
        goto out;
    struct jwtv_key *k = &v->keys[v->nkeys++];
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    k->pub_pem = xstrdup(pub_pem);
    k->pub = pub;
    pub = NULL;
    if (priv_pem) {
        k->priv_pem = xstrdup(priv_pem);
        k->priv_len = strlen(priv_pem);
    }
    jwtv_cache_flush(v);
    rc = 0;
out:
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv); /* only checked: jwtv_sign hands libjwt the PEM */
    return rc;
}

int jwtv_load_dir(struct jwtv *v, const char *dir, bool want_private, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int loaded = 0;
    if (d == NULL) {
        snprintf(err, errlen, "key directory '%s' cannot be opened", dir);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *suffix = ".pub.pem";
        size_t nl = strlen(de->d_name), sl = strlen(suffix);
        if (nl <= sl || strcmp(de->d_name + nl - sl, suffix) != 0)
            continue;
        char kid[64];
        snprintf(kid, sizeof(kid), "%.*s", (int)(nl - sl), de->d_name);
        char *path = xasprintf("%s/%s", dir, de->d_name);
        char *ppath = xasprintf("%s/%s.key.pem", dir, kid);
        char *pub = util_read_file(path, 16384, NULL);
        char *priv = want_private ? util_read_file(ppath, 16384, NULL) : NULL;
        int rc = pub ? jwtv_add_key(v, kid, pub, priv) : -1;
        free(path);
        free(ppath);
        free(pub);
        free(priv);
        if (rc != 0) {
            snprintf(err, errlen, "key '%s' in '%s' is not a usable P-256 key", kid, dir);
            closedir(d);
            return -1;
        }
        loaded++;
    }
    closedir(d);
    return loaded;
}

static const struct jwtv_key *jwtv_find_key(const struct jwtv *v, const char *kid)
{
    for (size_t i = 0; i < v->nkeys; i++) {
        if (strcmp(v->keys[i].kid, kid) == 0)
            return &v->keys[i];
    }
    return NULL;
}

int jwtv_merge(struct jwtv *dst, const struct jwtv *src)
{
    int added = 0;
    for (size_t i = 0; i < src->nkeys; i++) {
        if (jwtv_find_key(dst, src->keys[i].kid) == NULL &&
            jwtv_add_key(dst, src->keys[i].kid, src->keys[i].pub_pem, src->keys[i].priv_pem) == 0)
            added++;
    }
    return added;
}

/* Both NULL, or both strings with the same text. */
static bool same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int jwtv_sync(struct jwtv *dst, const struct jwtv *src)
{
    int changed = 0;
    size_t kept = 0;
    for (size_t i = 0; i < dst->nkeys; i++) {
        struct jwtv_key *k = &dst->keys[i];
        const struct jwtv_key *s = jwtv_find_key(src, k->kid);
        if (s == NULL || !same_text(s->pub_pem, k->pub_pem) ||
            !same_text(s->priv_pem, k->priv_pem)) {
            jwtv_key_cleanup(k); /* gone or changed: a changed one is added again below */
            changed++;
            continue;
        }
        if (kept != i) {
            dst->keys[kept] = *k;
            memset(k, 0, sizeof(*k));
        }
        kept++;
    }
    dst->nkeys = kept;
    /* the cache does not say which key verified an entry: every entry goes */
    if (changed > 0)
        jwtv_cache_flush(dst);
    return changed + jwtv_merge(dst, src);
}

int jwtv_refresh_dir(struct jwtv *v, const char *dir, bool want_private, long long *mtime)
{
    struct stat st;
    char err[256];
    if (stat(dir, &st) != 0)
        return -1;
    long long m = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (m == *mtime)
        return 0;
    struct jwtv fresh;
    jwtv_init(&fresh, v->issuer, v->audience, 0);
    int rc = jwtv_load_dir(&fresh, dir, want_private, err, sizeof(err));
    if (rc >= 0) {
        rc = jwtv_sync(v, &fresh);
        *mtime = m;
    }
    jwtv_cleanup(&fresh);
    return rc;
}

/* Decode one base64url segment into a strict JSON object. */
static json_t *segment_json(const char *seg, size_t len)
{
    size_t n = 0;
    unsigned char *raw = util_b64url_decode(seg, len, &n);
    if (raw == NULL)
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The order n of P-256, big-endian. */
static const unsigned char p256_order[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* n/2 rounded down: the largest s of a low-S signature. */
static const unsigned char p256_half_order[32] = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
};

/* True when the 32-byte big-endian 'x' lies in [1, 'max'-1], as an ECDSA r or s must (OpenSSL
 * checks too; refusing here does not depend on it). memcmp orders equal-length big-endian
 * numbers, and nothing here is secret. */
static bool p256_scalar_below(const unsigned char *x, const unsigned char *max)
{
    static const unsigned char zero[32];
    return memcmp(x, zero, 32) != 0 && memcmp(x, max, 32) < 0;
}

/* True when the 32-byte big-endian 's' is a low-S value, in [1, n/2]: (r, s) and (r, n - s)
 * verify alike, and only the low one is accepted, so a token has exactly one spelling. */
static bool p256_s_low(const unsigned char *s)
{
    static const unsigned char zero[32];
    return memcmp(s, zero, 32) != 0 && memcmp(s, p256_half_order, 32) <= 0;
}

/*
 * True when 'sig' ('siglen' base64url characters: r||s, 32 bytes each, as JWS writes ES256) is
 * a signature by 'key' over the 'len' bytes of 'input' ("header.payload"), SHA-256. OpenSSL
 * takes an ECDSA signature as DER, so r and s are re-encoded as an ECDSA_SIG.
 */
static bool es256_verify(EVP_PKEY *key, const char *input, size_t len, const char *sig,
                         size_t siglen)
{
    size_t n = 0;
    unsigned char *raw = util_b64url_decode(sig, siglen, &n);
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    bool ok = false;

    if (raw == NULL || n != 64 || !p256_scalar_below(raw, p256_order) || !p256_s_low(raw + 32))
        goto out;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* 'es' owns them now */
    int der_len = i2d_ECDSA_SIG(es, &der);
    md = EVP_MD_CTX_new();
    ok = der_len > 0 && md != NULL &&
         EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)input, len) == 1;
out:
    /* A refused signature queues OpenSSL errors; left there they would be read as the cause of
     * the next TLS failure on this thread (SSL_get_error). */
    if (!ok)
        ERR_clear_error();
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    free(raw);
    return ok;
}

/* Time-based and pinned claims of an already signature-checked payload. */
static enum jwtv_result jwtv_check_claims(const struct jwtv *v, json_t *claims, int64_t now,
                                          int64_t *exp_out, int64_t *nbf_out)
{
    json_t *exp = json_object_get(claims, "exp");
    json_t *nbf = json_object_get(claims, "nbf");
    json_t *iss = json_object_get(claims, "iss");
    json_t *aud = json_object_get(claims, "aud");
    json_t *sub = json_object_get(claims, "sub");

    if (!json_is_integer(exp) || !json_is_string(sub) || json_string_length(sub) == 0)
        return JWTV_MISSING_CLAIM;
    if (nbf != NULL && !json_is_integer(nbf))
        return JWTV_MALFORMED;
    *exp_out = json_integer_value(exp);
    *nbf_out = nbf ? json_integer_value(nbf) : 0;
    if (!json_is_string(iss) || strcmp(json_string_value(iss), v->issuer) != 0)
        return JWTV_BAD_ISSUER;
    bool aud_ok = false;
    if (json_is_string(aud)) {
        aud_ok = strcmp(json_string_value(aud), v->audience) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *a;
        json_array_foreach(aud, i, a)
        {
            if (json_is_string(a) && strcmp(json_string_value(a), v->audience) == 0)
                aud_ok = true;
        }
    }
    if (!aud_ok)
        return JWTV_BAD_AUDIENCE;
    if (now >= *exp_out)
        return JWTV_EXPIRED;
    if (nbf != NULL && now + v->leeway_s < *nbf_out)
        return JWTV_NOT_YET_VALID;
    return JWTV_OK;
}

/* jwtv_verify, and jwtv_verify_vouched when '!check_sig' (see jwtv.h). */
static enum jwtv_result jwtv_verify_as(struct jwtv *v, const char *token, int64_t now,
                                       json_t **claims, bool check_sig)
{
    size_t len = strnlen(token, JWTV_MAX_TOKEN + 1);
    json_t *header = NULL, *payload = NULL;
    enum jwtv_result rc = JWTV_MALFORMED;
    struct jwtv_cache_entry *slot = NULL;
    unsigned char hash[32];
    int64_t exp = 0, nbf = 0;

    *claims = NULL;
    if (len > JWTV_MAX_TOKEN)
        return JWTV_TOO_LARGE;

    if (v->cache_size) {
        SHA256((const unsigned char *)token, len, hash);
        size_t idx;
        memcpy(&idx, hash, sizeof(idx));
        slot = &v->cache[idx & (v->cache_size - 1)];
        if (slot->claims && memcmp(slot->hash, hash, 32) == 0) {
            v->cache_hits++;
            rc = jwtv_check_claims(v, slot->claims, now, &exp, &nbf);
            if (rc == JWTV_OK)
                *claims = json_incref(slot->claims);
            return rc;
        }
        v->cache_misses++;
    }

    /* Exactly three non-empty segments: header.payload.signature. */
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        goto out;
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        goto out;

    header = segment_json(token, hlen);
    payload = segment_json(d1 + 1, plen);
    if (header == NULL || payload == NULL)
        goto out;

    /* Pin the algorithm: only ES256 is ever verified (never alg=none, never HS256 keyed with
     * our public key). */
    json_t *alg = json_object_get(header, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "ES256") != 0) {
        rc = JWTV_BAD_ALG;
        goto out;
    }
    json_t *typ = json_object_get(header, "typ");
    if ((typ != NULL && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) ||
        json_object_get(header, "crit") != NULL)
        goto out;
    json_t *kid = json_object_get(header, "kid");
    if (!json_is_string(kid)) {
        rc = JWTV_UNKNOWN_KID;
        goto out;
    }
    const struct jwtv_key *key = jwtv_find_key(v, json_string_value(kid));
    if (key == NULL) {
        rc = JWTV_UNKNOWN_KID;
        goto out;
    }
    /* An ES256 signature is r||s, 32 bytes each: 86 base64url characters. */
    if (slen != 86) {
        rc = JWTV_BAD_SIGNATURE;
        goto out;
    }
    if (check_sig && !es256_verify(key->pub, token, (size_t)(d2 - token), d2 + 1, slen)) {
        rc = JWTV_BAD_SIGNATURE;
        goto out;
    }
    rc = jwtv_check_claims(v, payload, now, &exp, &nbf);
    if (rc == JWTV_MISSING_CLAIM || rc == JWTV_MALFORMED || rc == JWTV_BAD_ISSUER ||
        rc == JWTV_BAD_AUDIENCE)
        goto out;
    /* The signature is good: remember it, so the next use costs a hash (never a token whose
     * signature someone else checked: straight to this process it must verify here). */
    if (slot && check_sig) {
        json_decref(slot->claims);
        memcpy(slot->hash, hash, 32);
        slot->exp = exp;
        slot->nbf = nbf;
        slot->claims = json_incref(payload);
    }
    if (rc == JWTV_OK)
        *claims = json_incref(payload);
out:
    json_decref(header);
    json_decref(payload);
    return rc;
}

enum jwtv_result jwtv_verify(struct jwtv *v, const char *token, int64_t now, json_t **claims)
{
    return jwtv_verify_as(v, token, now, claims, true);
}

enum jwtv_result jwtv_verify_vouched(struct jwtv *v, const char *token, int64_t now,
                                     json_t **claims)
{
    return jwtv_verify_as(v, token, now, claims, false);
}

/*
 * Rewrite the signature of the ES256 token 'token' (malloc'd; ownership is taken and a new one
 * returned, NULL on failure) to its low-S form: OpenSSL signs with either s or n - s, and
 * jwtv_verify accepts only s <= n/2.
 */
static char *es256_low_s(char *token)
{
    const char *dot = token ? strrchr(token, '.') : NULL;
    size_t n = 0;
    unsigned char *raw = dot ? util_b64url_decode(dot + 1, strlen(dot + 1), &n) : NULL;
    BIGNUM *s = NULL, *order = NULL;
    BN_CTX *bn = NULL;
    char *sig = NULL, *out = NULL;

    if (raw == NULL || n != 64)
        goto out;
    if (!p256_s_low(raw + 32)) {
        bn = BN_CTX_new();
        s = BN_bin2bn(raw + 32, 32, NULL);
        order = BN_bin2bn(p256_order, 32, NULL);
        if (bn == NULL || s == NULL || order == NULL || BN_sub(s, order, s) != 1 ||
            BN_bn2binpad(s, raw + 32, 32) != 32 || !p256_s_low(raw + 32))
            goto out;
    }
    sig = util_b64url_encode(raw, 64);
    out = xasprintf("%.*s.%s", (int)(dot - token), token, sig);
out:
    BN_free(s);
    BN_free(order);
    BN_CTX_free(bn);
    free(sig);
    free(raw);
    free(token);
    return out;
}

char *jwtv_sign(const struct jwtv *v, const char *kid, json_t *claims)
{
    const struct jwtv_key *key = jwtv_find_key(v, kid);
    jwt_t *jwt = NULL;
    char *grants = NULL, *token = NULL;
    if (key == NULL || key->priv_pem == NULL)
        return NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    grants = json_dumps(claims, JSON_COMPACT);
    if (grants == NULL || jwt_add_grants_json(jwt, grants) != 0 ||
        jwt_add_header(jwt, "kid", kid) != 0 ||
        jwt_set_alg(jwt, JWT_ALG_ES256, (const unsigned char *)key->priv_pem, (int)key->priv_len) !=
            0)
        goto out;
    token = es256_low_s(jwt_encode_str(jwt));
out:
    free(grants);
    jwt_free(jwt);
    return token;
}
