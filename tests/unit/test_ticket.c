/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the notice stream's one-use tickets (gateway/ticket.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ticket.h"

#define AUTH "Bearer eyJ.token.sig"

static void test_one_use(void **state)
{
    (void)state;
    struct gw_tickets *t = gw_tickets_new(10, 30000);
    char id[GW_TICKET_LEN + 1];
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 1000, id), 0);
    assert_int_equal(strlen(id), GW_TICKET_LEN);
    assert_int_equal(gw_tickets_live(t), 1);
    char *a = gw_ticket_take(t, id, "10.0.0.1", 2000);
    assert_non_null(a);
    assert_string_equal(a, AUTH);
    free(a);
    assert_null(gw_ticket_take(t, id, "10.0.0.1", 2000)); /* used */
    assert_int_equal(gw_tickets_live(t), 0);
    gw_tickets_free(t);
}

static void test_refusals(void **state)
{
    (void)state;
    struct gw_tickets *t = gw_tickets_new(10, 30000);
    char id[GW_TICKET_LEN + 1], other[GW_TICKET_LEN + 1];
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 1000, id), 0);
    /* another address: refused, and the ticket is gone (no second try from anywhere) */
    assert_null(gw_ticket_take(t, id, "10.0.0.2", 2000));
    assert_null(gw_ticket_take(t, id, "10.0.0.1", 2000));
    /* expired */
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 1000, id), 0);
    assert_null(gw_ticket_take(t, id, "10.0.0.1", 31000));
    /* unknown, malformed */
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 1000, id), 0);
    memcpy(other, id, sizeof(other));
    other[10] = other[10] == 'a' ? 'b' : 'a';
    assert_null(gw_ticket_take(t, other, "10.0.0.1", 2000));
    assert_null(gw_ticket_take(t, "short", "10.0.0.1", 2000));
    assert_null(gw_ticket_take(t, NULL, "10.0.0.1", 2000));
    char *a = gw_ticket_take(t, id, "10.0.0.1", 2000); /* the real one still works */
    assert_non_null(a);
    free(a);
    gw_tickets_free(t);
}

static void test_cap_and_prune(void **state)
{
    (void)state;
    struct gw_tickets *t = gw_tickets_new(3, 1000);
    char id[GW_TICKET_LEN + 1];
    for (int i = 0; i < 3; i++)
        assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 100, id), 0);
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 200, id), -1); /* full */
    gw_tickets_prune(t, 500);
    assert_int_equal(gw_tickets_live(t), 3); /* not expired yet */
    /* once they expired, issuing prunes them and has room again */
    assert_int_equal(gw_ticket_issue(t, AUTH, "10.0.0.1", 1200, id), 0);
    assert_int_equal(gw_tickets_live(t), 1);
    gw_tickets_prune(t, 3000);
    assert_int_equal(gw_tickets_live(t), 0);
    assert_int_equal(gw_tickets_ttl_s(t), 1);
    gw_tickets_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_use),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cap_and_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
