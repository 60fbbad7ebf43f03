/* SPDX-License-Identifier: Apache-2.0 */
/* tokens: the signing key (made on first start), access tokens, refresh tokens, JWKS, and the
 * revocation of a user's tokens. */
#include "auth.h"
#include "crmlog.h"
#include "events.h"
#include "repo.h"
#include "revoke.h"
#include "scope.h"
#include "util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Make a P-256 key pair as '<kid>.key.pem' (mode 600) and '<kid>.pub.pem' in 'dir'. */
static int tokens_create_key(const char *dir, char *kid, size_t kidlen)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(kid, kidlen, "k%Y%m%dT%H%M%S", &tm);
    char *priv_path = xasprintf("%s/%s.key.pem", dir, kid);
    char *pub_path = xasprintf("%s/%s.pub.pem", dir, kid);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    int rc = -1;
    FILE *f = NULL;
    mode_t old = umask(077);
    if (k == NULL)
        goto out;
    f = fopen(priv_path, "wx");
    if (f == NULL || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1)
        goto out;
    fclose(f);
    f = fopen(pub_path, "wx");
    if (f == NULL || PEM_write_PUBKEY(f, k) != 1)
        goto out;
    chmod(pub_path, 0644);
    rc = 0;
out:
    umask(old);
    if (f)
        fclose(f);
    EVP_PKEY_free(k);
    free(priv_path);
    free(pub_path);
    return rc;
}

/* The newest kid (they sort by their timestamp) that has a private key. */
static void tokens_pick_signer(struct auth_ctx *a)
{
    for (size_t i = 0; i < a->signer.nkeys; i++) {
        if (a->signer.keys[i].priv_pem && strcmp(a->signer.keys[i].kid, a->kid) > 0)
            snprintf(a->kid, sizeof(a->kid), "%s", a->signer.keys[i].kid);
    }
}

void tokens_refresh(struct auth_ctx *a)
{
    if (jwtv_refresh_dir(&a->signer, a->svc->cfg.jwt_keys_dir, true, &a->keys_mtime) > 0) {
        tokens_pick_signer(a);
        log_info(NULL, "signing with key %s", a->kid);
    }
}

int tokens_load_or_create_key(struct auth_ctx *a, const char *dir, char *err, size_t errlen)
{
    jwtv_init(&a->signer, a->svc->cfg.jwt_issuer, a->svc->cfg.jwt_audience, 0);
    int n = jwtv_load_dir(&a->signer, dir, true, err, errlen);
    if (n < 0)
        return -1;
    /* The newest key with a private half signs; older ones only verify until they expire. */
    tokens_pick_signer(a);
    if (a->kid[0] != '\0')
        return 0;
    char kid[64];
    if (tokens_create_key(dir, kid, sizeof(kid)) != 0) {
        snprintf(err, errlen, "cannot create a signing key in '%s'", dir);
        return -1;
    }
    log_info(NULL, "created signing key %s", kid);
    jwtv_cleanup(&a->signer);
    return tokens_load_or_create_key(a, dir, err, errlen);
}

const char *tokens_widest_scope(json_t *roles)
{
    enum scope_kind best = SCOPE_SELF, k;
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (scope_parse(json_string_value(json_object_get(r, "data_scope")), &k) == 0 && k > best)
            best = k;
    }
    return scope_name(best);
}

int tokens_revoke_access(struct svc_worker *w, long long user_id)
{
    char uid[32];
    struct timespec ts;
    snprintf(uid, sizeof(uid), "%lld", user_id);
    clock_gettime(CLOCK_REALTIME, &ts);
    /* every token issued up to this millisecond; one issued after it (a refresh) lives */
    return revoke_user_before(&w->rds, uid, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1);
}

int tokens_revoke_user(struct svc_worker *w, long long user_id)
{
    if (repo_refresh_revoke_user(&w->db, user_id) != 0)
        return -1;
    return tokens_revoke_access(w, user_id);
}

char *tokens_access(const struct auth_ctx *a, json_t *user, json_t *roles, json_t *perms,
                    int64_t *exp)
{
    char jti[37], sub[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = ts.tv_sec;
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    events_uuid(jti);
    snprintf(sub, sizeof(sub), "%lld", (long long)json_integer_value(json_object_get(user, "id")));
    json_t *codes = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        json_array_append(codes, json_object_get(r, "code"));
    }
    *exp = now + a->cfg->access_ttl_s;
    json_t *dept = json_object_get(user, "dept_id");
    json_t *claims = json_pack(
        "{s:s, s:s, s:s, s:O, s:O, s:o, s:s, s:O, s:s, s:I, s:I, s:I, s:I}", "iss",
        a->svc->cfg.jwt_issuer, "aud", a->svc->cfg.jwt_audience, "sub", sub, "name",
        json_object_get(user, "display_name"), "dept_id", dept ? dept : json_null(), "roles", codes,
        "scope", tokens_widest_scope(roles), "perms", perms, "jti", jti, "iat", (json_int_t)now,
        "iat_ms", (json_int_t)now_ms, "nbf", (json_int_t)now, "exp", (json_int_t)*exp);
    char *tok = claims ? jwtv_sign(&a->signer, a->kid, claims) : NULL;
    json_decref(claims);
    return tok;
}

void tokens_refresh_hash(const char *token, unsigned char hash[32])
{
    SHA256((const unsigned char *)token, strlen(token), hash);
}

void tokens_refresh_new(char out[64], unsigned char hash[32])
{
    unsigned char raw[32];
    util_random_bytes(raw, sizeof(raw));
    char *s = util_b64url_encode(raw, sizeof(raw));
    snprintf(out, 64, "%s", s);
    free(s);
    tokens_refresh_hash(out, hash);
}

/* The x and y of a P-256 public key as base64url (32 bytes each). */
static json_t *tokens_jwk(const struct jwtv_key *k)
{
    BIO *bio = BIO_new_mem_buf(k->pub_pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIGNUM *x = NULL, *y = NULL;
    json_t *jwk = NULL;
    unsigned char bx[32], by[32];
    if (pkey && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
        BN_bn2binpad(x, bx, 32) == 32 && BN_bn2binpad(y, by, 32) == 32) {
        char *sx = util_b64url_encode(bx, 32), *sy = util_b64url_encode(by, 32);
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", sx,
                        "y", sy, "kid", k->kid, "alg", "ES256", "use", "sig");
        free(sx);
        free(sy);
    }
    BN_free(x);
    BN_free(y);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return jwk;
}

json_t *tokens_jwks(const struct auth_ctx *a)
{
    json_t *keys = json_array();
    /* every key the services trust: rotated keys stay published until their tokens expire */
    const struct jwtv *v = &a->svc->proc.jwt;
    for (size_t i = 0; i < v->nkeys; i++) {
        json_t *jwk = tokens_jwk(&v->keys[i]);
        if (jwk)
            json_array_append_new(keys, jwk);
    }
    return json_pack("{s:o}", "keys", keys);
}
