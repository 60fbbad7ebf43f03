/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of auth's signing keys (issue 10, finding 19): tokens signed on worker threads while
 * the event loop re-reads a key directory that is rotated under them.
 *
 * What it reproduces: auth signs on its worker threads (logins on the hashing pool, refreshes on
 * the main pool) with the current key set, while the event loop's key timer (auth_on_key_timer,
 * every 5 s) calls tokens_refresh when the key directory changed. Here signer threads call
 * tokens_access, as those handlers do, and the main thread plays the loop: it drops a new key
 * pair into a temporary key directory, removes the previous one (the rotation of a leaked key,
 * the hardest case: the key being dropped is the one signing), and calls tokens_refresh, 300
 * times in a few seconds (5-7 s under ASan on the shared 2-core machine). It asserts that every
 * token is issued (no NULL, which a login or refresh would answer 500), that every token verifies,
 * with jwtv_verify as the gateway and the services do, against the public key of the kid its header
 * names, that the rotation really happened under the signers (tokens of many kids), and, under the
 * sanitizer build, that no thread read a key being freed (ASan aborts the test on a
 * use-after-free).
 *
 * Why a unit test and not a drill against the test stack: auth looks at its directory every 5 s,
 * so a drill of a few seconds gets one or two swaps whose unsafe window is microseconds long; it
 * would pass on the code with the hole nearly every time. Here the swaps come back to back (the
 * directory's mtime is set to a new value each step, since tokens_refresh reloads only when it
 * changed and the file system's clock is coarser than a step).
 *
 * Shown failing on the code with the hole (2026-12-04, on c24dd8a with tokens_refresh patched
 * back to the in-place change the code made before a96cdf0, not committed: instead of
 * keys_publish(a, k), 'jwtv_sync(&a->keys->signer, &k->signer); snprintf(a->keys->kid, ...,
 * k->kid); keys_unref(a, k);', which is what jwtv_refresh_dir and tokens_pick_signer did):
 *   cmake --build build-asan --target test_tokens && build-asan/tests/unit/test_tokens
 * failed 3 runs of 3. Two aborted on ASan's "heap-use-after-free ... READ of size 241 ... in
 * jwt_set_alg < jwtv_sign < tokens_access < signer_main, freed by thread T0 in jwtv_key_cleanup
 * < jwtv_sync < tokens_refresh" (a signer copying the private key the loop had just freed); the
 * third ran through and failed its first assertion: "2610 tokens ... 183549 NULL" (signing
 * found no key under the kid the loop was overwriting; a login would have answered 500).
 * With the fix restored the same command passed 5 runs of 5 (about 2,000 tokens of ~290 kids
 * each, 0 NULL, 0 not verifying).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "crmlog.h"
#include "jwtv.h"
#include "util.h"

#define ROTATIONS 300
#define SIGNERS   3 /* the hashing pool's thread and two of the main pool */
#define ISSUER    "crm-auth"
#define AUDIENCE  "crm"

/* A key pair the test made; 'pub' stays after its files are gone, to verify its tokens. */
struct test_key {
    char kid[64];
    char *pub;
};

struct race {
    char dir[64];
    struct svc svc;
    struct auth_config cfg;
    struct auth_ctx a;
    struct test_key keys[ROTATIONS + 1];
    atomic_bool stop;
};

/* What one signer thread issued: every token, and how many came back NULL. */
struct signer {
    pthread_t thread;
    struct race *r;
    long long user_id;
    char **tokens;
    size_t ntokens, cap;
    size_t nulls;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
    /* written beside and renamed in, as a rotation script does: a reader sees all or nothing */
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, path), 0);
    free(tmp);
}

static char *pem_of(EVP_PKEY *k, bool priv)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    assert_int_equal(priv ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(b, k),
                     1);
    long n = BIO_get_mem_data(b, &p);
    char *s = xstrndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

/* Make key pair 'i' (kids sort in the order they are made: the newest signs) and drop it into
 * the directory, private half first, so auth never sees a public key without its private one. */
static void key_drop(struct race *r, int i)
{
    struct test_key *t = &r->keys[i];
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    snprintf(t->kid, sizeof(t->kid), "kt%06d", i);
    t->pub = pem_of(k, false);
    char *priv = pem_of(k, true);
    char *priv_path = xasprintf("%s/%s.key.pem", r->dir, t->kid);
    char *pub_path = xasprintf("%s/%s.pub.pem", r->dir, t->kid);
    write_file(priv_path, priv, 0600);
    write_file(pub_path, t->pub, 0644);
    free(priv);
    free(priv_path);
    free(pub_path);
    EVP_PKEY_free(k);
}

static void key_remove(struct race *r, int i)
{
    char *priv_path = xasprintf("%s/%s.key.pem", r->dir, r->keys[i].kid);
    char *pub_path = xasprintf("%s/%s.pub.pem", r->dir, r->keys[i].kid);
    assert_int_equal(unlink(pub_path), 0);
    assert_int_equal(unlink(priv_path), 0);
    free(priv_path);
    free(pub_path);
}

/* Give the directory the mtime 'step' seconds after the epoch: a value it never had, so the
 * next tokens_refresh reloads it however close together the steps come. */
static void dir_touch(struct race *r, int step)
{
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = step}};
    assert_int_equal(utimensat(AT_FDCWD, r->dir, times, 0), 0);
}

/* A signer thread: tokens_access in a loop, as a login or refresh job does, until 'stop'. Each
 * thread has its own user, roles and perms (jansson reference counts are not shared across
 * threads here). */
static void *signer_main(void *arg)
{
    struct signer *s = arg;
    json_t *user = json_pack("{s:I, s:s, s:i}", "id", (json_int_t)s->user_id, "display_name",
                             "张三 key race", "dept_id", 1);
    json_t *roles = json_pack("[{s:s, s:s}]", "code", "customer_manager", "data_scope", "SELF");
    json_t *perms = json_pack("[s, s]", "customer:customer:read", "customer:customer:update");
    while (!atomic_load(&s->r->stop)) {
        int64_t exp;
        char jti[37];
        char *tok = tokens_access(&s->r->a, user, roles, perms, tokens_now_ms(), &exp, jti);
        if (tok == NULL) {
            s->nulls++;
            continue;
        }
        if (s->ntokens == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 1024;
            s->tokens = realloc(s->tokens, s->cap * sizeof(*s->tokens));
            if (s->tokens == NULL)
                abort();
        }
        s->tokens[s->ntokens++] = tok;
    }
    json_decref(user);
    json_decref(roles);
    json_decref(perms);
    return NULL;
}

/* The index of the test's key named by the header of 'tok', or -1. */
static int token_key(const struct race *r, const char *tok)
{
    const char *dot = strchr(tok, '.');
    size_t n = 0;
    unsigned char *raw = dot ? util_b64url_decode(tok, (size_t)(dot - tok), &n) : NULL;
    json_t *h = raw ? json_loadb((const char *)raw, n, 0, NULL) : NULL;
    const char *kid = json_string_value(json_object_get(h, "kid"));
    int found = -1;
    for (int i = 0; kid && found < 0 && i <= ROTATIONS; i++) {
        if (strcmp(r->keys[i].kid, kid) == 0)
            found = i;
    }
    json_decref(h);
    free(raw);
    return found;
}

static void test_rotation_under_signers(void **state)
{
    (void)state;
    struct race *r = xcalloc(1, sizeof(*r));
    struct signer signers[SIGNERS];
    char err[256];
    snprintf(r->dir, sizeof(r->dir), "/tmp/crm-test-tokens.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    r->svc.cfg.jwt_keys_dir = r->dir;
    r->svc.cfg.jwt_issuer = ISSUER;
    r->svc.cfg.jwt_audience = AUDIENCE;
    r->cfg.access_ttl_s = 900;
    r->a.svc = &r->svc;
    r->a.cfg = &r->cfg;

    /* start-up as auth_setup does it, with the test's first key in the directory */
    key_drop(r, 0);
    assert_int_equal(tokens_load_or_create_key(&r->a, r->dir, err, sizeof(err)), 0);

    memset(signers, 0, sizeof(signers));
    for (int i = 0; i < SIGNERS; i++) {
        signers[i].r = r;
        signers[i].user_id = 1000 + i;
        assert_int_equal(pthread_create(&signers[i].thread, NULL, signer_main, &signers[i]), 0);
    }
    /* the loop: rotate, let the timer see it, give the signers a moment with the new set */
    for (int i = 1; i <= ROTATIONS; i++) {
        key_drop(r, i);
        key_remove(r, i - 1);
        dir_touch(r, i);
        tokens_refresh(&r->a);
        usleep(500);
    }
    atomic_store(&r->stop, true);
    for (int i = 0; i < SIGNERS; i++)
        assert_int_equal(pthread_join(signers[i].thread, NULL), 0);

    /* one verifier per key, as the gateway holds it: public half only */
    struct jwtv *verifiers = xcalloc(ROTATIONS + 1, sizeof(*verifiers));
    for (int i = 0; i <= ROTATIONS; i++) {
        jwtv_init(&verifiers[i], ISSUER, AUDIENCE, 0);
        assert_int_equal(jwtv_add_key(&verifiers[i], r->keys[i].kid, r->keys[i].pub, NULL), 0);
    }
    size_t total = 0, nulls = 0, unknown_kid = 0, bad = 0, wrong_sub = 0;
    bool *kid_seen = xcalloc(ROTATIONS + 1, sizeof(*kid_seen));
    size_t kids = 0;
    int64_t now = tokens_now_ms() / 1000;
    for (int t = 0; t < SIGNERS; t++) {
        struct signer *s = &signers[t];
        nulls += s->nulls;
        for (size_t i = 0; i < s->ntokens; i++) {
            total++;
            int k = token_key(r, s->tokens[i]);
            json_t *claims = NULL;
            if (k < 0) {
                unknown_kid++;
            } else if (jwtv_verify(&verifiers[k], s->tokens[i], now, &claims) != JWTV_OK) {
                bad++;
            } else {
                char sub[32];
                snprintf(sub, sizeof(sub), "%lld", s->user_id);
                const char *got = json_string_value(json_object_get(claims, "sub"));
                wrong_sub += got == NULL || strcmp(got, sub) != 0;
                kids += !kid_seen[k];
                kid_seen[k] = true;
            }
            json_decref(claims);
            free(s->tokens[i]);
        }
        free(s->tokens);
    }
    print_message("%zu tokens from %d threads over %d rotations, signed with %zu keys; %zu NULL, "
                  "%zu of an unknown kid, %zu not verifying with the kid they name\n",
                  total, SIGNERS, ROTATIONS, kids, nulls, unknown_kid, bad);
    assert_int_equal(nulls, 0);
    assert_int_equal(unknown_kid, 0);
    assert_int_equal(bad, 0);
    assert_int_equal(wrong_sub, 0);
    /* the rotation happened under the signers, or the test showed nothing */
    assert_true(kids >= ROTATIONS / 4);

    /* after the last rotation the newest key signs */
    json_t *user = json_pack("{s:i, s:s, s:n}", "id", 7, "display_name", "after", "dept_id");
    json_t *roles = json_array(), *perms = json_array();
    int64_t exp;
    char jti[37];
    char *tok = tokens_access(&r->a, user, roles, perms, tokens_now_ms(), &exp, jti);
    assert_non_null(tok);
    assert_int_equal(token_key(r, tok), ROTATIONS);
    free(tok);
    json_decref(user);
    json_decref(roles);
    json_decref(perms);

    tokens_cleanup(&r->a);
    key_remove(r, ROTATIONS);
    assert_int_equal(rmdir(r->dir), 0);
    for (int i = 0; i <= ROTATIONS; i++) {
        jwtv_cleanup(&verifiers[i]);
        free(r->keys[i].pub);
    }
    free(verifiers);
    free(kid_seen);
    free(r);
}

int main(void)
{
    crmlog_init("test_tokens", CRMLOG_WARN); /* not a line per rotation */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_under_signers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
