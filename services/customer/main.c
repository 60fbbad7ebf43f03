/* SPDX-License-Identifier: Apache-2.0 */
/* crm-customer: customers, contacts and follow-up records, on the service kit. Its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of the auth
 * stream (the data scope's and the dictionary's projections, applied by the platform) and of
 * transfer.completed (a customer's new manager: consume.c, a batch of them at a time). */
#include "customer.h"
#include "followups.h"
#include "regions.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>

struct customer_config {
    long keyword_common_customers;
};

#define K(field) offsetof(struct customer_config, field)
static const struct config_entry customer_config_table[] = {
    {"keyword_common_customers", CONFIG_INT, K(keyword_common_customers), "2000", 1, 1000000,
     "customers a keyword's rarest pair of characters is in for an owner's search to skip the "
     "keyword index (the test stack sets 3, so its small data takes that path too)"},
    CONFIG_END,
};
#undef K

/* The region dictionary is read here, before the loop runs (the migrations have just run the
 * same way), so that no request ever waits for it. */
static int customer_setup(struct svc *s)
{
    struct customer_app *app = xcalloc(1, sizeof(*app));
    struct db db;
    int rc = -1;
    app->svc = s;
    s->app = app;
    repo_customers_tune(((const struct customer_config *)s->config)->keyword_common_customers);
    db_init(&db, &s->dbcfg);
    if (db_connect(&db) != 0 || regions_load(&db, &app->regions) != 0)
        goto out;
    /* followups_routes first: its /customers/todos is a fixed path before /customers/{id} */
    rc = followups_routes(s) || customers_routes(s) || contacts_routes(s) || history_routes(s) ||
                 regions_routes(s)
             ? -1
             : 0;
out:
    db_cleanup(&db);
    return rc;
}

static void customer_teardown(struct svc *s)
{
    struct customer_app *app = s->app;
    if (app) {
        regions_free(app->regions);
        consume_stage_clear(&app->stage);
        events_batch_cleanup(&app->stage.out);
    }
    free(app);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "customer",
        .version = CRM_VERSION,
        .setup = customer_setup,
        .teardown = customer_teardown,
        .config = customer_config_table,
        .config_size = sizeof(struct customer_config),
        .consume = {customer_consume_apply, customer_consume_flush, customer_consume_after, NULL},
        /* the history of a customer holds its contacts' and follow-ups' events too */
        .history_parent_type = "customer",
        .history_parent_key = "customer_id",
    };
    return svc_main(argc, argv, &def);
}
