/* SPDX-License-Identifier: Apache-2.0 */
/* crm-audit: the append-only audit, login and operation logs, fed by every event stream (the
 * streams its line of shared/services.def names; the platform runs the consumer). */
#include "audit.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>

#define K(field) offsetof(struct audit_config, field)
static const struct config_entry audit_config_table[] = {
    {"verify_budget_ms", CONFIG_INT, K(verify_budget_ms), "2000", 100, 60000,
     "one /audit/verify call walks the chain this long, then says where to go on"},
    CONFIG_END,
};
#undef K

static int audit_setup(struct svc *s)
{
    struct audit_ctx *a = xcalloc(1, sizeof(*a));
    s->app = a;
    a->svc = s;
    a->cfg = s->config;
    return audit_routes(s);
}

static void audit_teardown(struct svc *s)
{
    free(s->app);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "audit",
        .version = CRM_VERSION,
        .setup = audit_setup,
        .teardown = audit_teardown,
        .consume = {audit_apply, audit_flush, audit_after, NULL},
        .scope_source = &scope_unscoped, /* administrators' logs: no projection */
        .config = audit_config_table,
        .config_size = sizeof(struct audit_config),
    };
    return svc_main(argc, argv, &def);
}
