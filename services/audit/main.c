/* SPDX-License-Identifier: Apache-2.0 */
/* crm-audit: the append-only audit, login and operation logs, fed by every event stream. */
#include "audit.h"
#include "crmlog.h"
#include "metrics.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K(field) offsetof(struct audit_config, field)
static const struct config_entry audit_config_table[] = {
    {"consumer_name", CONFIG_STRING, K(consumer_name), "audit-1", 0, 0,
     "this consumer in the group; stable across restarts"},
    {"claim_idle_ms", CONFIG_INT, K(claim_idle_ms), "30000", 100, 3600000,
     "pending entries of a dead consumer are claimed after this"},
    {"max_deliveries", CONFIG_INT, K(max_deliveries), "10", 1, 1000, "then crm:dead:audit"},
    {"verify_budget_ms", CONFIG_INT, K(verify_budget_ms), "2000", 100, 60000,
     "one /audit/verify call walks the chain this long, then says where to go on"},
    CONFIG_END,
};
#undef K

/* Consumer progress for /metrics: lag and pending per stream, dead letters, applied. */
static void audit_metrics(struct svc *s, struct evbuffer *out)
{
    struct audit_ctx *a = s->app;
    struct consumer_stats st;
    static const char *const streams[] = {"crm:stream:auth", "crm:stream:customer",
                                          "crm:stream:transfer", "crm:stream:care",
                                          "crm:stream:gateway"};
    consumer_stats(a->consumer, &st);
    evbuffer_add_printf(out, "# HELP crm_consumer_lag Entries not yet delivered to the group.\n"
                             "# TYPE crm_consumer_lag gauge\n");
    for (size_t i = 0; i < 5; i++)
        evbuffer_add_printf(out, "crm_consumer_lag{group=\"audit\",stream=\"%s\"} %lld\n",
                            streams[i], st.lag[i]);
    evbuffer_add_printf(out, "# HELP crm_consumer_pending Delivered, not yet acknowledged.\n"
                             "# TYPE crm_consumer_pending gauge\n");
    for (size_t i = 0; i < 5; i++)
        evbuffer_add_printf(out, "crm_consumer_pending{group=\"audit\",stream=\"%s\"} %lld\n",
                            streams[i], st.pending[i]);
    evbuffer_add_printf(out,
                        "# HELP crm_consumer_events_total Events by outcome.\n"
                        "# TYPE crm_consumer_events_total counter\n"
                        "crm_consumer_events_total{group=\"audit\",outcome=\"applied\"} %llu\n"
                        "crm_consumer_events_total{group=\"audit\",outcome=\"duplicate\"} %llu\n"
                        "crm_consumer_events_total{group=\"audit\",outcome=\"failed\"} %llu\n"
                        "crm_consumer_events_total{group=\"audit\",outcome=\"claimed\"} %llu\n"
                        "# HELP crm_consumer_dead_total Events moved to crm:dead:<group>.\n"
                        "# TYPE crm_consumer_dead_total counter\n"
                        "crm_consumer_dead_total{group=\"audit\"} %llu\n",
                        (unsigned long long)st.applied, (unsigned long long)st.duplicates,
                        (unsigned long long)st.failures, (unsigned long long)st.claimed,
                        (unsigned long long)st.dead);
}

static int audit_setup(struct svc *s)
{
    struct audit_ctx *a = xcalloc(1, sizeof(*a));
    s->app = a;
    a->svc = s;
    a->cfg = s->config;
    struct consumer_config cc = {
        .db = &s->dbcfg,
        .redis_host = s->cfg.redis_host,
        .redis_port = (int)s->cfg.redis_port,
        .redis_timeout_ms = (int)s->cfg.redis_timeout_ms,
        .group = "audit",
        .name = a->cfg->consumer_name,
        .streams = {"crm:stream:auth", "crm:stream:customer", "crm:stream:transfer",
                    "crm:stream:care", "crm:stream:gateway"},
        .nstreams = 5,
        .claim_idle_ms = a->cfg->claim_idle_ms,
        .max_deliveries = a->cfg->max_deliveries,
        .batch = 100,
    };
    const struct consumer_hooks hooks = {audit_apply, audit_flush, audit_after, a};
    a->consumer = consumer_start(&cc, &hooks);
    return audit_routes(s);
}

static void audit_teardown(struct svc *s)
{
    struct audit_ctx *a = s->app;
    if (a == NULL)
        return;
    consumer_stop(a->consumer);
    free(a);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "audit",
        .version = CRM_VERSION,
        .setup = audit_setup,
        .teardown = audit_teardown,
        .metrics = audit_metrics,
        .config = audit_config_table,
        .config_size = sizeof(struct audit_config),
    };
    return svc_main(argc, argv, &def);
}
