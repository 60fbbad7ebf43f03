/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the gateway's content codings: Accept-Encoding, gzip, If-None-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "encoding.h"

#define BOTH ((1u << GW_ENCODING_GZIP) | (1u << GW_ENCODING_BR))
#define GZIP (1u << GW_ENCODING_GZIP)
#define BR   (1u << GW_ENCODING_BR)

static void test_choose(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        unsigned offered;
        enum gw_encoding want;
    } cases[] = {
        /* what browsers send: br first, whatever the order */
        {"gzip, deflate, br, zstd", BOTH, GW_ENCODING_BR},
        {"br;q=1.0, gzip;q=0.8, *;q=0.1", BOTH, GW_ENCODING_BR},
        /* a higher q for gzip wins; q=0 refuses */
        {"br;q=0.5, gzip", BOTH, GW_ENCODING_GZIP},
        {"br;q=0, gzip", BOTH, GW_ENCODING_GZIP},
        {"br ; q=0.000 ,gzip;Q=0", BOTH, GW_ENCODING_IDENTITY},
        /* only what is offered */
        {"br, gzip", GZIP, GW_ENCODING_GZIP},
        {"br", GZIP, GW_ENCODING_IDENTITY},
        {"br, gzip", 0, GW_ENCODING_IDENTITY},
        /* no header, an empty one, identity only, unknown codings */
        {NULL, BOTH, GW_ENCODING_IDENTITY},
        {"", BOTH, GW_ENCODING_IDENTITY},
        {"identity", BOTH, GW_ENCODING_IDENTITY},
        {"deflate, zstd, brotli, gzipx", BOTH, GW_ENCODING_IDENTITY},
        /* '*' stands for what is not named; a named q=0 stays refused */
        {"*", BOTH, GW_ENCODING_BR},
        {"br;q=0, *", BOTH, GW_ENCODING_GZIP},
        {"*;q=0", BOTH, GW_ENCODING_IDENTITY},
        /* case, x-gzip, odd spacing */
        {"GZIP", GZIP, GW_ENCODING_GZIP},
        {" ,, x-gzip ,", GZIP, GW_ENCODING_GZIP},
        /* a malformed q is not an allowance */
        {"br;q=2, gzip;q=abc", BOTH, GW_ENCODING_IDENTITY},
        {"br;q=1.0001", BR, GW_ENCODING_IDENTITY},
        {"br;q=0.001", BR, GW_ENCODING_BR},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum gw_encoding got = gw_encoding_choose(cases[i].accept, cases[i].offered);
        if (got != cases[i].want)
            fail_msg("Accept-Encoding '%s' (offered %u): got %d, want %d",
                     cases[i].accept ? cases[i].accept : "(none)", cases[i].offered, got,
                     cases[i].want);
    }
}

static void test_gzip_round_trip(void **state)
{
    (void)state;
    /* a JSON list in several evbuffer pieces, as a proxied answer arrives */
    struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
    size_t total = 0;
    for (int i = 0; i < 3000; i++) {
        char row[96];
        int n =
            snprintf(row, sizeof(row), "{\"id\":%d,\"username\":\"user%d\",\"status\":1},", i, i);
        evbuffer_add(in, row, (size_t)n);
        total += (size_t)n;
    }
    assert_int_equal(gw_encoding_gzip(in, 5, out), 0);
    assert_int_equal(evbuffer_get_length(in), total); /* the input is left as it was */
    size_t zlen = evbuffer_get_length(out);
    assert_true(zlen < total / 4);
    unsigned char *z = evbuffer_pullup(out, -1);
    assert_int_equal(z[0], 0x1f); /* the gzip magic */
    assert_int_equal(z[1], 0x8b);

    unsigned char *plain = malloc(total + 1);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = z;
    zs.avail_in = (uInt)zlen;
    zs.next_out = plain;
    zs.avail_out = (uInt)total + 1;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, total);
    assert_memory_equal(plain, evbuffer_pullup(in, -1), total);
    inflateEnd(&zs);
    free(plain);

    /* an empty body is a valid (empty) stream */
    struct evbuffer *empty = evbuffer_new(), *eout = evbuffer_new();
    assert_int_equal(gw_encoding_gzip(empty, 5, eout), 0);
    assert_true(evbuffer_get_length(eout) >= 18);
    evbuffer_free(empty);
    evbuffer_free(eout);
    evbuffer_free(in);
    evbuffer_free(out);
}

static void test_etag_match(void **state)
{
    (void)state;
    assert_true(gw_encoding_etag_match("\"a-1-br\"", "\"a-1-br\""));
    assert_false(gw_encoding_etag_match("\"a-1\"", "\"a-1-br\""));
    assert_false(gw_encoding_etag_match("\"a-1-br\"", "\"a-1\""));
    assert_true(gw_encoding_etag_match("\"x\", W/\"a-1\" ,\"y\"", "\"a-1\""));
    assert_true(gw_encoding_etag_match("*", "\"a-1\""));
    assert_false(gw_encoding_etag_match(NULL, "\"a-1\""));
    assert_false(gw_encoding_etag_match("", "\"a-1\""));
    assert_false(gw_encoding_etag_match("a-1", "\"a-1\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_etag_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
