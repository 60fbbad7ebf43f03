/* SPDX-License-Identifier: Apache-2.0 */
/* test_revset: the revocation table remembers as long as a revoked token can live, and fails
 * closed instead of dropping a revocation when it cannot grow any more (issue 10, #18). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "revoke.h"
#include "revset.h"

#define NOW 1800000000LL

/* #18: a user's revocation outlives the old fixed 16 minutes: a token issued just before it
 * may live REVOKE_MAX_TTL_S (a day), and the table keeps it that long through prunes. */
static void test_user_revocation_lasts_the_longest_token_life(void **state)
{
    (void)state;
    struct revset t;
    revset_init(&t, 16, 16, 1000, REVOKE_MAX_TTL_S + 60);
    int64_t v;
    assert_true(revset_put(&t, "42", (NOW - 20 * 3600) * 1000, NOW - 20 * 3600));
    assert_true(revset_put(&t, "43", (NOW - 25 * 3600) * 1000, NOW - 25 * 3600));
    /* fill to three quarters (12 of 16) at NOW: the prune runs and must keep 42 (20 h old) */
    char key[16];
    for (int i = 0; i < 11; i++) {
        snprintf(key, sizeof(key), "u%d", i);
        assert_true(revset_put(&t, key, NOW * 1000, NOW));
    }
    assert_true(revset_get(&t, "42", &v));
    assert_int_equal(v, (NOW - 20 * 3600) * 1000);
    assert_false(revset_get(&t, "43", &v)); /* older than any token can live: pruned */
    assert_false(revset_failing(&t, NOW));
    revset_cleanup(&t);
}

/* #18: when the table is full of revocations that still matter it grows; at its bound it
 * loses the new one and fails closed until that one would no longer matter. */
static void test_full_table_grows_then_fails_closed(void **state)
{
    (void)state;
    struct revset t;
    revset_init(&t, 8, 32, 1, 60);
    char key[16];
    int i = 0;
    for (; i < 24; i++) { /* 24 of 32 slots: three quarters, every one unexpired */
        snprintf(key, sizeof(key), "j%d", i);
        assert_true(revset_put(&t, key, NOW + 900, NOW));
    }
    assert_int_equal(t.cap, 32);
    assert_false(revset_failing(&t, NOW));
    assert_false(revset_put(&t, "lost", NOW + 900, NOW));
    assert_true(revset_failing(&t, NOW));
    assert_true(revset_failing(&t, NOW + 900 + 60));  /* while 'lost' could be alive */
    assert_false(revset_failing(&t, NOW + 900 + 61)); /* then no longer */
    /* an existing key is updated in place even when full */
    assert_true(revset_put(&t, "j0", NOW + 1000, NOW));
    /* once the old entries expired, there is room again */
    assert_true(revset_put(&t, "later", NOW + 5000, NOW + 2000));
    int64_t v;
    assert_true(revset_get(&t, "later", &v));
    assert_false(revset_get(&t, "j1", &v));
    revset_cleanup(&t);
}

static void test_key_too_long_fails_closed(void **state)
{
    (void)state;
    struct revset t;
    revset_init(&t, 8, 8, 1, 60);
    char key[REVSET_KEY_MAX + 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_false(revset_put(&t, key, NOW + 10, NOW));
    assert_true(revset_failing(&t, NOW));
    revset_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_revocation_lasts_the_longest_token_life),
        cmocka_unit_test(test_full_table_grows_then_fails_closed),
        cmocka_unit_test(test_key_too_long_fails_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
