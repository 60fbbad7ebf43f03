/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the router: patterns, parameters, 404 versus 405, wildcards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "router.h"

static void h_a(struct http_request *r, void *a)
{
    (void)r;
    (void)a;
}
static void h_b(struct http_request *r, void *a)
{
    (void)r;
    (void)a;
}

static int setup(void **state)
{
    static struct router r;
    router_init(&r);
    assert_int_equal(router_add(&r, "GET", "/api/v1/users", h_a, NULL, "auth:user:read", 0), 0);
    assert_int_equal(router_add(&r, "POST", "/api/v1/users", h_b, NULL, "auth:user:create", 0), 0);
    assert_int_equal(router_add(&r, "GET", "/api/v1/users/{id}", h_a, NULL, NULL, 0), 0);
    assert_int_equal(
        router_add(&r, "GET", "/api/v1/customers/{cid}/contacts/{id}", h_b, NULL, NULL, 0), 0);
    assert_int_equal(router_add(&r, "*", "/api/v1/care/*", h_a, NULL, NULL, 0), 0);
    assert_int_equal(router_add(&r, "GET", "/*", h_b, NULL, NULL, ROUTE_PUBLIC), 0);
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    router_cleanup(*state);
    return 0;
}

static void test_exact_and_method(void **state)
{
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    assert_int_equal(router_match(*state, "GET", "/api/v1/users", &rt, &p, allow, sizeof(allow)),
                     ROUTER_FOUND);
    assert_ptr_equal(rt->fn, h_a);
    assert_string_equal(rt->permission, "auth:user:read");
    assert_int_equal(router_match(*state, "POST", "/api/v1/users", &rt, &p, allow, sizeof(allow)),
                     ROUTER_FOUND);
    assert_ptr_equal(rt->fn, h_b);
    /* HEAD is served by GET routes */
    assert_int_equal(router_match(*state, "HEAD", "/api/v1/users", &rt, &p, allow, sizeof(allow)),
                     ROUTER_FOUND);
}

static void test_params_decoded(void **state)
{
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    assert_int_equal(router_match(*state, "GET", "/api/v1/customers/12/contacts/%E5%BC%A0", &rt, &p,
                                  allow, sizeof(allow)),
                     ROUTER_FOUND);
    assert_string_equal(router_param(&p, "cid"), "12");
    assert_string_equal(router_param(&p, "id"), "\xE5\xBC\xA0");
    assert_null(router_param(&p, "c"));
    /* an encoded NUL never reaches the parameter route (only the static fallback takes it) */
    assert_int_equal(
        router_match(*state, "GET", "/api/v1/users/%00", &rt, &p, allow, sizeof(allow)),
        ROUTER_FOUND);
    assert_string_equal(rt->pattern, "/*");
}

static void test_405_lists_allowed(void **state)
{
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    assert_int_equal(router_match(*state, "DELETE", "/api/v1/users", &rt, &p, allow, sizeof(allow)),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "POST"));
}

static void test_tail_and_fallback(void **state)
{
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    assert_int_equal(
        router_match(*state, "PATCH", "/api/v1/care/tasks/9", &rt, &p, allow, sizeof(allow)),
        ROUTER_FOUND);
    assert_ptr_equal(rt->fn, h_a);
    assert_int_equal(router_match(*state, "GET", "/customers/7", &rt, &p, allow, sizeof(allow)),
                     ROUTER_FOUND);
    assert_true(rt->flags & ROUTE_PUBLIC);
    assert_int_equal(router_match(*state, "POST", "/customers/7", &rt, &p, allow, sizeof(allow)),
                     ROUTER_METHOD_NOT_ALLOWED);
}

static void test_no_loose_matching(void **state)
{
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    /* an empty segment is not a parameter, and a double slash is not a single one */
    assert_int_equal(router_match(*state, "GET", "/api/v1/users/", &rt, &p, allow, sizeof(allow)),
                     ROUTER_FOUND);
    assert_ptr_equal(rt->fn, h_b); /* only the "/ *" fallback takes it */
    assert_int_equal(router_match(*state, "POST", "/api//v1/users", &rt, &p, allow, sizeof(allow)),
                     ROUTER_METHOD_NOT_ALLOWED);
}

static void test_bad_patterns(void **state)
{
    struct router r;
    (void)state;
    router_init(&r);
    assert_int_equal(router_add(&r, "GET", "no-slash", h_a, NULL, NULL, 0), -1);
    assert_int_equal(router_add(&r, "GET", "/a/{open", h_a, NULL, NULL, 0), -1);
    assert_int_equal(router_add(&r, "GET", "/a/*/b", h_a, NULL, NULL, 0), -1);
    router_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_method),  cmocka_unit_test(test_params_decoded),
        cmocka_unit_test(test_405_lists_allowed), cmocka_unit_test(test_tail_and_fallback),
        cmocka_unit_test(test_no_loose_matching), cmocka_unit_test(test_bad_patterns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
