/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_history: GET /api/v1/customers/{id}/history, the change history (修改记录) of a
 * customer with its contacts and follow-ups, for whoever may see the customer: every event the
 * service wrote about them (record_history, written with the outbox row; see events.h), newest
 * first, with who did it and the field-level changes. Outside the scope, or in the recycle bin,
 * it is 404 like the customer. The audit log stays the administrators' tamper-evident copy. */
#include "customer.h"

static int live_customer(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                         json_t **row)
{
    return repo_customer_get(db, sc, in->id, false, lock, row);
}

static const struct kit_history_of customer_history = {"customer", "customer", live_customer};

static void history(struct http_request *req, void *arg)
{
    kit_history_submit(arg, req, &customer_history);
}

int history_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/customers/{id}/history", history);
}
