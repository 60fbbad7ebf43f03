/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of proof: the gateway's HMAC over a forwarded request, made and checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proof.h"

static const struct proof_fields F = {
    "POST",      "/api/v1/users?x=1", "0123456789abcdef0123456789abcdef", "192.0.2.7", "https",
    "client-42", "Bearer aaa.bbb.ccc"};

static void key_of(struct proof_key *k, const char *text)
{
    memset(k, 0, sizeof(*k));
    k->len = strlen(text);
    memcpy(k->bytes, text, k->len);
}

static void test_made_proof_checks(void **state)
{
    struct proof_key k;
    char v[PROOF_VALUE_MAX];
    (void)state;
    key_of(&k, "0123456789abcdef0123456789abcdef-secret");
    proof_make(&k, 1000000, &F, v);
    assert_int_equal(strncmp(v, "v1 t=1000000 sig=", 17), 0);
    assert_int_equal(strlen(v), 17 + 64);
    assert_true(proof_check(&k, 1000000, v, &F));
    assert_true(proof_check(&k, 1000000 + PROOF_MAX_AGE_S, v, &F));
    assert_true(proof_check(&k, 1000000 - PROOF_MAX_AGE_S, v, &F));
}

static void test_stale_or_other_key_refused(void **state)
{
    struct proof_key k, other, none;
    char v[PROOF_VALUE_MAX];
    (void)state;
    key_of(&k, "0123456789abcdef0123456789abcdef-secret");
    key_of(&other, "0123456789abcdef0123456789abcdef-other!");
    memset(&none, 0, sizeof(none));
    proof_make(&k, 1000000, &F, v);
    assert_false(proof_check(&k, 1000000 + PROOF_MAX_AGE_S + 1, v, &F));
    assert_false(proof_check(&k, 1000000 - PROOF_MAX_AGE_S - 1, v, &F));
    assert_false(proof_check(&other, 1000000, v, &F));
    assert_false(proof_check(&none, 1000000, v, &F));
    /* no key makes no proof anyone believes */
    proof_make(&none, 1000000, &F, v);
    assert_false(proof_check(&k, 1000000, v, &F));
}

static void test_every_field_bound(void **state)
{
    struct proof_key k;
    char v[PROOF_VALUE_MAX];
    (void)state;
    key_of(&k, "0123456789abcdef0123456789abcdef-secret");
    proof_make(&k, 1000000, &F, v);
    for (int i = 0; i < 7; i++) {
        struct proof_fields g = F;
        const char **slot = (const char **[]){&g.method,       &g.target, &g.request_id,
                                              &g.client_ip,    &g.proto,  &g.client_request_id,
                                              &g.authorization}[i];
        *slot = "changed";
        assert_false(proof_check(&k, 1000000, v, &g));
        *slot = NULL;
        assert_false(proof_check(&k, 1000000, v, &g));
    }
    /* field boundaries count: "ab" + "c" is not "a" + "bc" */
    struct proof_fields a = F, b = F;
    a.method = "GETX";
    a.target = "/y";
    b.method = "GET";
    b.target = "X/y";
    proof_make(&k, 1000000, &a, v);
    assert_false(proof_check(&k, 1000000, v, &b));
}

static void test_malformed_values_refused(void **state)
{
    struct proof_key k;
    char v[PROOF_VALUE_MAX], bad[PROOF_VALUE_MAX + 8];
    (void)state;
    key_of(&k, "0123456789abcdef0123456789abcdef-secret");
    proof_make(&k, 1000000, &F, v);
    snprintf(bad, sizeof(bad), "%s0", v);
    assert_false(proof_check(&k, 1000000, bad, &F));
    snprintf(bad, sizeof(bad), "%.*s", (int)strlen(v) - 1, v);
    assert_false(proof_check(&k, 1000000, bad, &F));
    snprintf(bad, sizeof(bad), "v2%s", v + 2);
    assert_false(proof_check(&k, 1000000, bad, &F));
    assert_false(proof_check(&k, 1000000, "", &F));
    assert_false(proof_check(&k, 1000000, NULL, &F));
}

static void test_key_file(void **state)
{
    struct proof_key k;
    char err[256], path[] = "/tmp/crm-test-proof-XXXXXX";
    (void)state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "short\n", 6), 6);
    close(fd);
    assert_int_equal(proof_key_load(&k, "proxy_secret_file", path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "proxy_secret_file"));
    FILE *f = fopen(path, "w");
    fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    assert_int_equal(proof_key_load(&k, "proxy_secret_file", path, err, sizeof(err)), 0);
    assert_int_equal(k.len, 64); /* the newline cut */
    assert_int_equal(proof_key_load(&k, "proxy_secret_file", "", err, sizeof(err)), 0);
    assert_int_equal(k.len, 0);
    assert_int_equal(proof_key_load(&k, "proxy_secret_file", "/nonexistent/x", err, sizeof(err)),
                     -1);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_proof_checks), cmocka_unit_test(test_stale_or_other_key_refused),
        cmocka_unit_test(test_every_field_bound), cmocka_unit_test(test_malformed_values_refused),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
