/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the JWT wrapper: every way a token must be refused, and the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwtv.h"
#include "util.h"

#define NOW 1800000000

struct keypair {
    char *priv, *pub;
};

static struct keypair make_key(void)
{
    struct keypair kp;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b1 = BIO_new(BIO_s_mem()), *b2 = BIO_new(BIO_s_mem());
    char *p;
    assert_non_null(k);
    PEM_write_bio_PrivateKey(b1, k, NULL, NULL, 0, NULL, NULL);
    PEM_write_bio_PUBKEY(b2, k);
    long n1 = BIO_get_mem_data(b1, &p);
    kp.priv = xstrndup(p, (size_t)n1);
    long n2 = BIO_get_mem_data(b2, &p);
    kp.pub = xstrndup(p, (size_t)n2);
    BIO_free(b1);
    BIO_free(b2);
    EVP_PKEY_free(k);
    return kp;
}

struct fixture {
    struct keypair good, other;
    struct jwtv signer;   /* holds both private keys */
    struct jwtv verifier; /* trusts only "k1" */
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    f->good = make_key();
    f->other = make_key();
    jwtv_init(&f->signer, "crm-auth", "crm", 0);
    assert_int_equal(jwtv_add_key(&f->signer, "k1", f->good.pub, f->good.priv), 0);
    assert_int_equal(jwtv_add_key(&f->signer, "k2", f->other.pub, f->other.priv), 0);
    jwtv_init(&f->verifier, "crm-auth", "crm", 64);
    assert_int_equal(jwtv_add_key(&f->verifier, "k1", f->good.pub, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    jwtv_cleanup(&f->signer);
    jwtv_cleanup(&f->verifier);
    free(f->good.priv);
    free(f->good.pub);
    free(f->other.priv);
    free(f->other.pub);
    free(f);
    return 0;
}

static json_t *claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:[s]}", "iss", "crm-auth", "aud",
                     "crm", "sub", "42", "name", "张三", "iat", (json_int_t)NOW, "nbf",
                     (json_int_t)NOW, "exp", (json_int_t)NOW + 900, "scope", "SELF", "roles",
                     "customer_manager");
}

static char *sign(struct fixture *f, const char *kid, json_t *c)
{
    char *t = jwtv_sign(&f->signer, kid, c);
    json_decref(c);
    assert_non_null(t);
    return t;
}

static enum jwtv_result verify(struct fixture *f, const char *token, int64_t now)
{
    json_t *c = NULL;
    enum jwtv_result r = jwtv_verify(&f->verifier, token, now, &c);
    if (r == JWTV_OK) {
        assert_non_null(c);
        json_decref(c);
    } else {
        assert_null(c);
    }
    return r;
}

/* Replace the header of 'token' by 'header_json', keeping payload and signature. */
static char *with_header(const char *token, const char *header_json, bool keep_sig)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = strchr(d1 + 1, '.');
    char *h = util_b64url_encode((const unsigned char *)header_json, strlen(header_json));
    char *out = xasprintf("%s%.*s%s", h, (int)(d2 - d1), d1, keep_sig ? d2 : ".");
    free(h);
    return out;
}

static void test_valid_token(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k1", claims());
    json_t *c = NULL;
    assert_int_equal(jwtv_verify(&f->verifier, t, NOW + 10, &c), JWTV_OK);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "42");
    assert_string_equal(json_string_value(json_object_get(c, "name")), "张三");
    json_decref(c);
    free(t);
}

static void test_alg_none(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k1", claims());
    char *none = with_header(t, "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", false);
    assert_int_not_equal(verify(f, none, NOW), JWTV_OK);
    char *none_sig = with_header(t, "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", true);
    assert_int_equal(verify(f, none_sig, NOW), JWTV_BAD_ALG);
    char *none_upper = with_header(t, "{\"alg\":\"NONE\",\"kid\":\"k1\"}", true);
    assert_int_equal(verify(f, none_upper, NOW), JWTV_BAD_ALG);
    free(t);
    free(none);
    free(none_sig);
    free(none_upper);
}

static void test_hs256_with_public_key_as_secret(void **state)
{
    struct fixture *f = *state;
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
    char *h = util_b64url_encode((const unsigned char *)hdr, strlen(hdr));
    json_t *c = claims();
    char *pl = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    char *p = util_b64url_encode((const unsigned char *)pl, strlen(pl));
    char *signing_input = xasprintf("%s.%s", h, p);
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), f->good.pub, (int)strlen(f->good.pub), (const unsigned char *)signing_input,
         strlen(signing_input), mac, &maclen);
    char *s = util_b64url_encode(mac, maclen);
    char *t = xasprintf("%s.%s", signing_input, s);
    assert_int_equal(verify(f, t, NOW), JWTV_BAD_ALG);
    free(h);
    free(pl);
    free(p);
    free(signing_input);
    free(s);
    free(t);
}

static void test_unknown_or_missing_kid(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k2", claims()); /* signed by a key the verifier does not trust */
    assert_int_equal(verify(f, t, NOW), JWTV_UNKNOWN_KID);
    char *nokid = with_header(t, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", true);
    assert_int_equal(verify(f, nokid, NOW), JWTV_UNKNOWN_KID);
    /* k2's signature under k1's name */
    char *lie = with_header(t, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k1\"}", true);
    assert_int_equal(verify(f, lie, NOW), JWTV_BAD_SIGNATURE);
    free(t);
    free(nokid);
    free(lie);
}

static void test_time_claims(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k1", claims());
    assert_int_equal(verify(f, t, NOW + 900), JWTV_EXPIRED);
    assert_int_equal(verify(f, t, NOW + 899), JWTV_OK);
    assert_int_equal(verify(f, t, NOW - 20), JWTV_OK); /* within the 30 s leeway */
    assert_int_equal(verify(f, t, NOW - 31), JWTV_NOT_YET_VALID);
    free(t);
    json_t *c = claims();
    json_object_del(c, "exp");
    t = sign(f, "k1", c);
    assert_int_equal(verify(f, t, NOW), JWTV_MISSING_CLAIM);
    free(t);
    c = claims();
    json_object_set_new(c, "exp", json_string("soon"));
    t = sign(f, "k1", c);
    assert_int_equal(verify(f, t, NOW), JWTV_MISSING_CLAIM);
    free(t);
}

static void test_issuer_and_audience(void **state)
{
    struct fixture *f = *state;
    json_t *c = claims();
    json_object_set_new(c, "iss", json_string("evil"));
    char *t = sign(f, "k1", c);
    assert_int_equal(verify(f, t, NOW), JWTV_BAD_ISSUER);
    free(t);
    c = claims();
    json_object_set_new(c, "aud", json_string("other"));
    t = sign(f, "k1", c);
    assert_int_equal(verify(f, t, NOW), JWTV_BAD_AUDIENCE);
    free(t);
    c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", "x", "crm"));
    t = sign(f, "k1", c);
    assert_int_equal(verify(f, t, NOW), JWTV_OK);
    free(t);
}

static void test_tampered_and_shapes(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k1", claims());
    /* swap the payload for one claiming another user */
    json_t *c = claims();
    json_object_set_new(c, "sub", json_string("1"));
    char *pl = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    char *p = util_b64url_encode((const unsigned char *)pl, strlen(pl));
    const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    char *tampered = xasprintf("%.*s.%s%s", (int)(d1 - t), t, p, d2);
    assert_int_equal(verify(f, tampered, NOW), JWTV_BAD_SIGNATURE);
    /* a flipped signature character */
    char *flipped = xstrdup(t);
    char *last = flipped + strlen(flipped) - 5;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(verify(f, flipped, NOW), JWTV_BAD_SIGNATURE);
    char *two = xstrndup(t, (size_t)(d2 - t));
    assert_int_equal(verify(f, two, NOW), JWTV_MALFORMED);
    char *four = xasprintf("%s.AAAA", t);
    assert_int_equal(verify(f, four, NOW), JWTV_MALFORMED);
    assert_int_equal(verify(f, "", NOW), JWTV_MALFORMED);
    assert_int_equal(verify(f, "..", NOW), JWTV_MALFORMED);
    assert_int_equal(verify(f, "not a token", NOW), JWTV_MALFORMED);
    char *garbage = with_header(t, "[1,2]", true);
    assert_int_equal(verify(f, garbage, NOW), JWTV_MALFORMED);
    char *dup = with_header(t, "{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"k1\"}", true);
    assert_int_equal(verify(f, dup, NOW), JWTV_MALFORMED);
    free(t);
    free(pl);
    free(p);
    free(tampered);
    free(flipped);
    free(two);
    free(four);
    free(garbage);
    free(dup);
}

static void test_oversized(void **state)
{
    struct fixture *f = *state;
    json_t *c = claims();
    char *pad = xmalloc(9000);
    memset(pad, 'x', 8999);
    pad[8999] = '\0';
    json_object_set_new(c, "pad", json_string(pad));
    char *t = sign(f, "k1", c);
    assert_true(strlen(t) > JWTV_MAX_TOKEN);
    assert_int_equal(verify(f, t, NOW), JWTV_TOO_LARGE);
    free(pad);
    free(t);
}

static void test_cache_rechecks_time(void **state)
{
    struct fixture *f = *state;
    char *t = sign(f, "k1", claims());
    uint64_t hits = f->verifier.cache_hits;
    assert_int_equal(verify(f, t, NOW), JWTV_OK);
    assert_int_equal(verify(f, t, NOW + 1), JWTV_OK);
    assert_true(f->verifier.cache_hits > hits);
    /* a cached token still expires */
    assert_int_equal(verify(f, t, NOW + 3600), JWTV_EXPIRED);
    free(t);
}

/* The r||s of 'token's signature into 'rs'. */
static void signature_of(const char *token, unsigned char rs[64])
{
    const char *d2 = strrchr(token, '.');
    size_t n = 0;
    unsigned char *raw = util_b64url_decode(d2 + 1, strlen(d2 + 1), &n);
    assert_non_null(raw);
    assert_int_equal(n, 64);
    memcpy(rs, raw, 64);
    free(raw);
}

/* 'token' with its signature replaced by 'rs'. */
static char *with_signature(const char *token, const unsigned char rs[64])
{
    const char *d2 = strrchr(token, '.');
    char *sig = util_b64url_encode(rs, 64);
    char *out = xasprintf("%.*s.%s", (int)(d2 - token), token, sig);
    free(sig);
    return out;
}

static void test_verifies_with_parsed_key(void **state)
{
    struct fixture *f = *state;
    struct jwtv v;
    jwtv_init(&v, "crm-auth", "crm", 0); /* no cache: every verify checks the signature */
    assert_int_equal(jwtv_add_key(&v, "k1", f->good.pub, NULL), 0);
    assert_non_null(v.keys[0].pub);
    /* verification uses the key parsed when it was added, not the PEM text: spoil the text */
    memset(v.keys[0].pub_pem, 'x', strlen(v.keys[0].pub_pem));
    char *prev = NULL;
    for (int i = 0; i < 3; i++) {
        json_t *c = claims();
        json_object_set_new(c, "jti", json_integer(i));
        char *t = sign(f, "k1", c);
        json_t *got = NULL;
        assert_int_equal(jwtv_verify(&v, t, NOW, &got), JWTV_OK);
        assert_int_equal(json_integer_value(json_object_get(got, "jti")), i);
        json_decref(got);
        assert_int_equal(jwtv_verify(&v, t, NOW, &got), JWTV_OK);
        json_decref(got);
        if (prev != NULL) {
            /* this token's header and signature around the previous token's payload */
            const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
            const char *p1 = strchr(prev, '.'), *p2 = strrchr(prev, '.');
            char *mixed = xasprintf("%.*s%.*s%s", (int)(d1 - t), t, (int)(p2 - p1), p1, d2);
            assert_int_equal(jwtv_verify(&v, mixed, NOW, &got), JWTV_BAD_SIGNATURE);
            assert_null(got);
            assert_int_equal(ERR_peek_error(), 0); /* nothing left for this thread's TLS */
            free(mixed);
        }
        free(prev);
        prev = t;
    }
    free(prev);
    jwtv_cleanup(&v);
}

static void test_signature_scalars_out_of_range(void **state)
{
    struct fixture *f = *state;
    /* the order n of P-256; n + 1 still fits in 32 bytes and is 1 modulo n */
    static const unsigned char order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    };
    unsigned char zero[32] = {0}, order_plus_1[32], all_ones[32];
    memcpy(order_plus_1, order, 32);
    order_plus_1[31]++;
    memset(all_ones, 0xff, 32);
    const unsigned char *bad[] = {zero, order, order_plus_1, all_ones};

    char *t = sign(f, "k1", claims());
    unsigned char good[64], rs[64];
    signature_of(t, good);
    char *same = with_signature(t, good); /* the helpers keep a good token good */
    assert_string_equal(same, t);
    assert_int_equal(verify(f, same, NOW), JWTV_OK);
    for (size_t half = 0; half < 2; half++) { /* r, then s */
        for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
            memcpy(rs, good, 64);
            memcpy(rs + 32 * half, bad[i], 32);
            char *b = with_signature(t, rs);
            assert_int_equal(verify(f, b, NOW), JWTV_BAD_SIGNATURE);
            free(b);
        }
    }
    free(same);
    free(t);
}

/* #11: ECDSA's (r, s) and (r, n - s) both verify; only s <= n/2 is accepted, and jwtv_sign
 * only writes that one (OpenSSL picks either at random: 40 tokens all miss it by 2^-40). */
static void test_high_s_refused(void **state)
{
    struct fixture *f = *state;
    static const unsigned char order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    };
    BIGNUM *n = BN_bin2bn(order, 32, NULL), *half = BN_new();
    assert_non_null(n);
    assert_non_null(half);
    assert_int_equal(BN_rshift1(half, n), 1);
    for (int i = 0; i < 40; i++) {
        json_t *c = claims();
        json_object_set_new(c, "jti", json_integer(i));
        char *t = sign(f, "k1", c);
        unsigned char rs[64];
        signature_of(t, rs);
        BIGNUM *sv = BN_bin2bn(rs + 32, 32, NULL);
        assert_non_null(sv);
        assert_true(BN_cmp(sv, half) <= 0); /* low-S as signed */
        assert_int_equal(verify(f, t, NOW), JWTV_OK);
        assert_int_equal(BN_sub(sv, n, sv), 1); /* the other spelling, n - s */
        assert_int_equal(BN_bn2binpad(sv, rs + 32, 32), 32);
        char *high = with_signature(t, rs);
        assert_int_equal(verify(f, high, NOW), JWTV_BAD_SIGNATURE);
        /* and not through the cache of the low spelling either: a fresh verifier */
        struct jwtv v;
        json_t *got = NULL;
        jwtv_init(&v, "crm-auth", "crm", 0);
        assert_int_equal(jwtv_add_key(&v, "k1", f->good.pub, NULL), 0);
        assert_int_equal(jwtv_verify(&v, high, NOW, &got), JWTV_BAD_SIGNATURE);
        assert_null(got);
        jwtv_cleanup(&v);
        BN_free(sv);
        free(high);
        free(t);
    }
    BN_free(n);
    BN_free(half);
}

/* #14: a key the directory no longer holds stops verifying, cached tokens included; a key
 * whose PEM changed is the new one; the others stay. */
static void test_sync_drops_removed_keys(void **state)
{
    struct fixture *f = *state;
    struct jwtv v, dir;
    jwtv_init(&v, "crm-auth", "crm", 64);
    assert_int_equal(jwtv_add_key(&v, "k1", f->good.pub, NULL), 0);
    assert_int_equal(jwtv_add_key(&v, "k2", f->other.pub, NULL), 0);
    char *t1 = sign(f, "k1", claims()), *t2 = sign(f, "k2", claims());
    json_t *got = NULL;
    for (int round = 0; round < 2; round++) { /* the second round is served by the cache */
        assert_int_equal(jwtv_verify(&v, t1, NOW, &got), JWTV_OK);
        json_decref(got);
        assert_int_equal(jwtv_verify(&v, t2, NOW, &got), JWTV_OK);
        json_decref(got);
    }
    assert_true(v.cache_hits >= 2);

    jwtv_init(&dir, "crm-auth", "crm", 0); /* the directory now: k1 only */
    assert_int_equal(jwtv_add_key(&dir, "k1", f->good.pub, NULL), 0);
    assert_int_equal(jwtv_sync(&v, &dir), 1);
    assert_int_equal(v.nkeys, 1);
    assert_int_equal(jwtv_verify(&v, t2, NOW, &got), JWTV_UNKNOWN_KID);
    assert_null(got);
    assert_int_equal(jwtv_verify(&v, t1, NOW, &got), JWTV_OK);
    json_decref(got);
    assert_int_equal(jwtv_sync(&v, &dir), 0); /* nothing changed */

    /* kid k1 now names the other key: its old tokens stop, the new key's verify */
    jwtv_cleanup(&dir);
    jwtv_init(&dir, "crm-auth", "crm", 0);
    assert_int_equal(jwtv_add_key(&dir, "k1", f->other.pub, NULL), 0);
    assert_int_equal(jwtv_sync(&v, &dir), 2);
    assert_int_equal(jwtv_verify(&v, t1, NOW, &got), JWTV_BAD_SIGNATURE);
    assert_null(got);

    /* an empty directory trusts nothing */
    jwtv_cleanup(&dir);
    jwtv_init(&dir, "crm-auth", "crm", 0);
    assert_int_equal(jwtv_sync(&v, &dir), 1);
    assert_int_equal(v.nkeys, 0);
    jwtv_cleanup(&dir);
    jwtv_cleanup(&v);
    free(t1);
    free(t2);
}

static void test_rejects_non_p256_keys(void **state)
{
    struct jwtv v;
    (void)state;
    jwtv_init(&v, "crm-auth", "crm", 0);
    assert_int_equal(
        jwtv_add_key(&v, "k", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", NULL),
        -1);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    PEM_write_bio_PUBKEY(b, k);
    long n = BIO_get_mem_data(b, &p);
    char *pem = xstrndup(p, (size_t)n);
    assert_int_equal(jwtv_add_key(&v, "k384", pem, NULL), -1);
    free(pem);
    BIO_free(b);
    EVP_PKEY_free(k);
    jwtv_cleanup(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_token),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_hs256_with_public_key_as_secret),
        cmocka_unit_test(test_unknown_or_missing_kid),
        cmocka_unit_test(test_time_claims),
        cmocka_unit_test(test_issuer_and_audience),
        cmocka_unit_test(test_tampered_and_shapes),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_cache_rechecks_time),
        cmocka_unit_test(test_rejects_non_p256_keys),
        cmocka_unit_test(test_verifies_with_parsed_key),
        cmocka_unit_test(test_signature_scalars_out_of_range),
        cmocka_unit_test(test_high_s_refused),
        cmocka_unit_test(test_sync_drops_removed_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
