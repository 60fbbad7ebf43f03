/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the services table (shared/services.def): lookups, stream names, consistency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services.h"

static void test_find(void **state)
{
    (void)state;
    const struct services_entry *e = services_find("customer");
    assert_non_null(e);
    assert_string_equal(e->name, "customer");
    assert_int_equal(e->port, 7102);
    assert_true(e->produces);
    assert_ptr_equal(services_find("auth"), &services_table[0]);
    assert_null(services_find("gateway")); /* a stream producer, not a service */
    assert_null(services_find("custom"));
    assert_null(services_find(""));
    assert_null(services_find(NULL));
}

static void test_streams(void **state)
{
    (void)state;
    char out[8][SERVICES_STREAM_LEN];
    assert_int_equal(services_streams(services_find("customer"), out, 8), 2);
    assert_string_equal(out[0], "crm:stream:auth");
    assert_string_equal(out[1], "crm:stream:transfer");
    assert_int_equal(services_streams(services_find("auth"), out, 8), 0);

    /* spaces anywhere; more than 'max': the count says so and nothing is written past 'max' */
    const struct services_entry e = {"x", 1, false, "  a   bb gateway "};
    strcpy(out[1], "untouched");
    assert_int_equal(services_streams(&e, out, 1), 3);
    assert_string_equal(out[0], "crm:stream:a");
    assert_string_equal(out[1], "untouched");
    assert_int_equal(services_streams(&e, out, 8), 3);
    assert_string_equal(out[1], "crm:stream:bb");
    assert_string_equal(out[2], "crm:stream:gateway");
    assert_int_equal(services_streams(&e, out, 0), 3);
}

/* Names and ports are unique; every consumed stream has a producer (a service that produces,
 * or the gateway); nobody reads its own stream. */
static void test_table_consistent(void **state)
{
    (void)state;
    assert_true(services_count > 0);
    for (size_t i = 0; i < services_count; i++) {
        const struct services_entry *e = &services_table[i];
        assert_true(e->port > 0 && e->port < 65536);
        for (size_t j = i + 1; j < services_count; j++) {
            assert_string_not_equal(e->name, services_table[j].name);
            assert_int_not_equal(e->port, services_table[j].port);
        }
        char out[16][SERVICES_STREAM_LEN];
        size_t n = services_streams(e, out, 16);
        assert_true(n <= 16);
        for (size_t k = 0; k < n; k++) {
            const char *producer = out[k] + strlen("crm:stream:");
            const struct services_entry *p = services_find(producer);
            if (strcmp(producer, "gateway") != 0) {
                assert_non_null(p);
                assert_true(p->produces);
            }
            assert_string_not_equal(producer, e->name);
        }
    }
}

/* The audit log records every stream: audit consumes every producer and the gateway. */
static void test_audit_consumes_every_stream(void **state)
{
    (void)state;
    const struct services_entry *audit = services_find("audit");
    assert_non_null(audit);
    char out[16][SERVICES_STREAM_LEN];
    size_t n = services_streams(audit, out, 16);
    size_t want = 1; /* crm:stream:gateway */
    for (size_t i = 0; i < services_count; i++) {
        if (!services_table[i].produces)
            continue;
        want++;
        char stream[SERVICES_STREAM_LEN];
        snprintf(stream, sizeof(stream), "crm:stream:%s", services_table[i].name);
        bool found = false;
        for (size_t k = 0; k < n; k++)
            found = found || strcmp(out[k], stream) == 0;
        assert_true(found);
    }
    assert_int_equal(n, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_table_consistent),
        cmocka_unit_test(test_audit_consumes_every_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
