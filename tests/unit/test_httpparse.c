/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP head, path and query parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "httpparse.h"

static int parse(const char *s, struct http_head *h)
{
    return http_parse_request_head(s, strlen(s), h);
}

static void test_request_ok(void **state)
{
    struct http_head h;
    (void)state;
    assert_int_equal(parse("GET /api/v1/users?page=2 HTTP/1.1\r\nHost: x\r\n"
                           "Authorization:  Bearer abc  \r\n\r\n",
                           &h),
                     0);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.target, "/api/v1/users?page=2");
    assert_int_equal(h.minor, 1);
    assert_string_equal(http_head_get(&h, "authorization"), "Bearer abc");
    http_head_cleanup(&h);
}

static void test_request_rejects(void **state)
{
    struct http_head h;
    (void)state;
    static const struct {
        const char *text;
        int status;
    } cases[] = {
        {"GET /x HTTP/1.1\r\n bad: fold\r\n\r\n", 400},
        {"GET /x HTTP/2.0\r\n\r\n", 505},
        {"GET x HTTP/1.1\r\n\r\n", 400},
        {"get /x HTTP/1.1\r\n\r\n", 400},
        {"GET /x  HTTP/1.1\r\n\r\n", 400},
        {"GET /x HTTP/1.1\r\nNo Colon\r\n\r\n", 400},
        {"GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", 400},
        {"GET /x HTTP/1.1\r\nA: \x01\r\n\r\n", 400},
        {"GET /\x7f HTTP/1.1\r\n\r\n", 400},
        {"VERYLONGMETHODNAMEX /x HTTP/1.1\r\n\r\n", 501},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].text, &h);
        if (rc != cases[i].status)
            fail_msg("case %zu: got %d, want %d", i, rc, cases[i].status);
        http_head_cleanup(&h);
    }
}

static void test_too_many_headers(void **state)
{
    struct http_head h;
    char buf[8192] = "GET / HTTP/1.1\r\n";
    (void)state;
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        strcat(buf, "A: b\r\n");
    strcat(buf, "\r\n");
    assert_int_equal(parse(buf, &h), 431);
    http_head_cleanup(&h);
}

static void test_response(void **state)
{
    struct http_head h;
    const char *s = "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n";
    (void)state;
    assert_int_equal(http_parse_response_head(s, strlen(s), &h), 0);
    assert_int_equal(h.status, 204);
    http_head_cleanup(&h);
    /* found by fuzz_http: a status line cut short was read past its end */
    s = "HTTP/1.1 2";
    assert_int_not_equal(http_parse_response_head(s, strlen(s), &h), 0);
    http_head_cleanup(&h);
    s = "HTTP/1.1 2x4 No\r\n\r\n";
    assert_int_not_equal(http_parse_response_head(s, strlen(s), &h), 0);
    http_head_cleanup(&h);
}

static void test_content_length(void **state)
{
    size_t n;
    (void)state;
    assert_int_equal(http_parse_content_length("123", &n), 0);
    assert_int_equal(n, 123);
    assert_int_equal(http_parse_content_length("-1", &n), -1);
    assert_int_equal(http_parse_content_length("1 2", &n), -1);
    assert_int_equal(http_parse_content_length("99999999999999999999", &n), -1);
    assert_int_equal(http_parse_content_length("", &n), -1);
}

static void test_query(void **state)
{
    struct http_query q;
    (void)state;
    assert_int_equal(http_query_parse("page=2&name=%E5%BC%A0+san&flag&empty=", &q), 0);
    assert_string_equal(http_query_get(&q, "page"), "2");
    assert_string_equal(http_query_get(&q, "name"), "\xE5\xBC\xA0 san");
    assert_string_equal(http_query_get(&q, "flag"), "");
    assert_string_equal(http_query_get(&q, "empty"), "");
    assert_null(http_query_get(&q, "missing"));
    http_query_cleanup(&q);
    assert_int_equal(http_query_parse("a=%zz", &q), -1);
    http_query_cleanup(&q);
    assert_int_equal(http_query_parse("a=%00", &q), -1);
    http_query_cleanup(&q);
    assert_int_equal(http_query_parse("a=%4", &q), -1);
    http_query_cleanup(&q);
}

static void test_path_clean(void **state)
{
    (void)state;
    const char *good[] = {"/", "/api/v1/users", "/assets/index-abc.js", "/a%20b"};
    const char *bad[] = {"",       "x",     "/../etc/passwd", "/a/./b", "/a/..", "/a/%2e%2e/b",
                         "/a%2fb", "/a\\b", "/a%zz",          "/a%"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(http_path_is_clean(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (http_path_is_clean(bad[i], strlen(bad[i])))
            fail_msg("path '%s' passed", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_ok),       cmocka_unit_test(test_request_rejects),
        cmocka_unit_test(test_too_many_headers), cmocka_unit_test(test_response),
        cmocka_unit_test(test_content_length),   cmocka_unit_test(test_query),
        cmocka_unit_test(test_path_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
