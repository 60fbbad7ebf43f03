/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the per-address token bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

static void test_burst_then_refill(void **state)
{
    (void)state;
    struct gw_ratelimit *rl = gw_ratelimit_new(10, 5);
    long retry = 0;
    uint64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        assert_true(gw_ratelimit_take(rl, "10.0.0.1", t, &retry));
    assert_false(gw_ratelimit_take(rl, "10.0.0.1", t, &retry));
    assert_true(retry >= 1);
    /* another address has its own bucket */
    assert_true(gw_ratelimit_take(rl, "10.0.0.2", t, &retry));
    /* 100 ms later one token is back */
    assert_true(gw_ratelimit_take(rl, "10.0.0.1", t + 100000, &retry));
    assert_false(gw_ratelimit_take(rl, "10.0.0.1", t + 100000, &retry));
    gw_ratelimit_free(rl);
}

static void test_disabled(void **state)
{
    (void)state;
    struct gw_ratelimit *rl = gw_ratelimit_new(0, 0);
    long retry = 0;
    for (int i = 0; i < 1000; i++)
        assert_true(gw_ratelimit_take(rl, "10.0.0.1", 1, &retry));
    gw_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
