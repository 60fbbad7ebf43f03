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
#include <pthread.h>
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

/* ------------------------------------------------------------------------------------------ */
/* the signing key set                                                                         */

/*
 * Why a published, immutable set: tokens are signed on the worker threads (logins on the
 * hashing pool, refreshes on the main pool) while the key directory is re-read on the event
 * loop. Changing one jwtv in place (keys[] written, nkeys bumped, kid overwritten) under a
 * signing thread lets it read a half-written kid or a key being freed. So a refresh builds a
 * whole new set off to the side and swaps one pointer under 'keys_lock'; a signer takes a
 * reference under the same lock, signs with a set nobody changes, and drops the reference. The
 * last one out frees it, so a set is never freed while a thread signs with it. The lock is held
 * only for the pointer swap and the reference count, never while signing or reading files.
 */
struct tokens_keys {
    struct jwtv signer; /* private keys; the newest signs */
    char kid[64];
    int refs; /* guarded by auth_ctx.keys_lock: the context's one plus each signer's */
};

static void keys_unref(struct auth_ctx *a, struct tokens_keys *k)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&a->keys_lock);
    bool last = --k->refs == 0;
    pthread_mutex_unlock(&a->keys_lock);
    if (last) {
        jwtv_cleanup(&k->signer);
        free(k);
    }
}

/* A reference to the current set (never NULL after tokens_load_or_create_key). */
static struct tokens_keys *keys_acquire(struct auth_ctx *a)
{
    pthread_mutex_lock(&a->keys_lock);
    struct tokens_keys *k = a->keys;
    if (k)
        k->refs++;
    pthread_mutex_unlock(&a->keys_lock);
    return k;
}

/* Make 'k' (a new set, one reference) the current one; the old set goes when its last signer
 * is done. */
static void keys_publish(struct auth_ctx *a, struct tokens_keys *k)
{
    pthread_mutex_lock(&a->keys_lock);
    struct tokens_keys *old = a->keys;
    a->keys = k;
    pthread_mutex_unlock(&a->keys_lock);
    keys_unref(a, old);
}

/* Every key of 'dir' as a new set with the newest kid (they sort by their timestamp) that has a
 * private key; NULL with 'err' when the directory cannot be read. */
static struct tokens_keys *keys_load(const struct auth_ctx *a, const char *dir, char *err,
                                     size_t errlen)
{
    struct tokens_keys *k = xcalloc(1, sizeof(*k));
    k->refs = 1;
    jwtv_init(&k->signer, a->svc->cfg.jwt_issuer, a->svc->cfg.jwt_audience, 0);
    if (jwtv_load_dir(&k->signer, dir, true, err, errlen) < 0) {
        jwtv_cleanup(&k->signer);
        free(k);
        return NULL;
    }
    for (size_t i = 0; i < k->signer.nkeys; i++) {
        if (k->signer.keys[i].priv_pem && strcmp(k->signer.keys[i].kid, k->kid) > 0)
            snprintf(k->kid, sizeof(k->kid), "%s", k->signer.keys[i].kid);
    }
    return k;
}

static long long dir_mtime(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

void tokens_refresh(struct auth_ctx *a)
{
    char err[256];
    long long m = dir_mtime(a->svc->cfg.jwt_keys_dir);
    if (m < 0 || m == a->keys_mtime)
        return;
    struct tokens_keys *k = keys_load(a, a->svc->cfg.jwt_keys_dir, err, sizeof(err));
    if (k == NULL || k->kid[0] == '\0') {
        /* a key half written, say: keep signing with the current set and look again later */
        log_warn(NULL, "key directory not usable yet: %s", k ? "no private key" : err);
        if (k)
            keys_unref(a, k);
        return;
    }
    a->keys_mtime = m;
    bool changed = strcmp(k->kid, a->keys->kid) != 0 || k->signer.nkeys != a->keys->signer.nkeys;
    if (changed)
        log_info(NULL, "signing with key %s", k->kid);
    keys_publish(a, k);
}

int tokens_load_or_create_key(struct auth_ctx *a, const char *dir, char *err, size_t errlen)
{
    pthread_mutex_init(&a->keys_lock, NULL);
    for (int attempt = 0;; attempt++) {
        a->keys_mtime = dir_mtime(dir);
        struct tokens_keys *k = keys_load(a, dir, err, errlen);
        if (k == NULL)
            return -1;
        /* The newest key with a private half signs; older ones only verify until they expire. */
        if (k->kid[0] != '\0') {
            keys_publish(a, k);
            return 0;
        }
        keys_unref(a, k);
        char kid[64];
        if (attempt > 0 || tokens_create_key(dir, kid, sizeof(kid)) != 0) {
            snprintf(err, errlen, "cannot create a signing key in '%s'", dir);
            return -1;
        }
        log_info(NULL, "created signing key %s", kid);
    }
}

void tokens_cleanup(struct auth_ctx *a)
{
    keys_publish(a, NULL);
    pthread_mutex_destroy(&a->keys_lock);
}

int tokens_each_key(struct auth_ctx *a, int (*fn)(void *arg, const struct jwtv_key *k), void *arg)
{
    struct tokens_keys *k = keys_acquire(a);
    int rc = 0;
    for (size_t i = 0; k && rc == 0 && i < k->signer.nkeys; i++)
        rc = fn(arg, &k->signer.keys[i]);
    keys_unref(a, k);
    return rc;
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

/* ------------------------------------------------------------------------------------------ */
/* revocation after the commit                                                                 */

/*
 * A change that ends tokens (new roles, a disable, a new password) records the revocation as a
 * row of pending_revocations in its own transaction, and publishes it to Redis only after the
 * commit (tokens_revoke_pending). Published before the commit, a refresh in between would
 * still read the old roles and get a token issued after the revocation's moment: a token with
 * the old permissions that survives. After the commit, a refresh either reads the new roles or
 * read the old ones before the commit, and its token's iat_ms is taken before its reads
 * (tokens_now_ms at the start of the job), so it is older than the revocation and dies.
 *
 * Redis away at that moment: the change stays committed and the row stays; the sweep
 * (tokens_revoke_pending every few seconds from main.c) publishes it once Redis answers. While
 * Redis is away no process can learn of any revocation anyway (they load the set from Redis
 * when it comes back), so the row is what makes the revocation wait instead of being lost; an
 * auth process killed between the commit and Redis leaves the row for the next sweep too.
 */
int tokens_revoke_access(struct svc_worker *w, long long user_id)
{
    return repo_revocation_add(&w->db, user_id);
}

int tokens_revoke_user(struct svc_worker *w, long long user_id)
{
    if (repo_refresh_revoke_user(&w->db, user_id) != 0)
        return -1;
    return tokens_revoke_access(w, user_id);
}

void tokens_revoke_committed(struct svc_worker *w, struct svc_job *job, json_t *after)
{
    (void)after;
    if (tokens_revoke_pending(w) != 0)
        log_warn(job->req->request_id, "a revocation waits for Redis (the sweep retries it)");
}

int64_t tokens_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tokens_revoke_pending(struct svc_worker *w)
{
    json_t *rows = NULL;
    int rc = -1;
    if (repo_revocations_pending(&w->db, &rows) != 0)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        char uid[32];
        snprintf(uid, sizeof(uid), "%lld",
                 (long long)json_integer_value(json_object_get(r, "user_id")));
        /* every token issued up to this millisecond, which is after the commit; one issued
         * after it (a refresh, which reads the new roles) lives */
        if (revoke_user_before(&w->rds, uid, tokens_now_ms() + 1) != 0) {
            log_warn(NULL, "revocation of user %s waits for Redis", uid);
            goto out;
        }
        if (repo_revocation_done(&w->db, json_integer_value(json_object_get(r, "id"))) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(rows);
    return rc;
}

char *tokens_access(struct auth_ctx *a, json_t *user, json_t *roles, json_t *perms,
                    int64_t issued_ms, int64_t *exp, char jti[37])
{
    char sub[32];
    int64_t now = issued_ms / 1000;
    int64_t now_ms = issued_ms;
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
    struct tokens_keys *k = claims ? keys_acquire(a) : NULL;
    char *tok = k ? jwtv_sign(&k->signer, k->kid, claims) : NULL;
    keys_unref(a, k);
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
