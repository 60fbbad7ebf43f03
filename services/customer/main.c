/* SPDX-License-Identifier: Apache-2.0 */
/* crm-customer: customers, contacts and follow-up records, on the service kit. Its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of the auth
 * stream (the data scope's and the dictionary's projections, applied by the platform) and of
 * transfer.completed (a customer's new manager: consume.c). */
#include "customer.h"
#include "followups.h"
#include "util.h"

#include <stdlib.h>

static int customer_setup(struct svc *s)
{
    struct customer_ctx *ctx = xcalloc(1, sizeof(*ctx));
    ctx->svc = s;
    s->app = ctx;
    /* followups_routes first: its /customers/todos is a fixed path before /customers/{id} */
    return followups_routes(s) || customers_routes(s) ? -1 : 0;
}

static void customer_teardown(struct svc *s)
{
    free(s->app);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "customer",
        .version = CRM_VERSION,
        .setup = customer_setup,
        .teardown = customer_teardown,
        .consume = {customer_consume_apply, NULL, customer_consume_after, NULL},
    };
    return svc_main(argc, argv, &def);
}
