/* SPDX-License-Identifier: Apache-2.0 */
/* crm-care: care plans and tasks, birthdays of contacts. A skeleton on the service kit: its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of contact.*,
 * transfer.completed and auth, whose events it only records (processed_events) until its issue
 * gives it handlers. The bell's notices live here too (notices.c). */
#include "notices.h"
#include "svc.h"

/* notices: the consumer's events that make notices, in its transaction */
static int care_consume_apply(struct db *db, const char *stream, const char *entry_id,
                              json_t *event, void *arg)
{
    (void)entry_id;
    (void)arg;
    return notices_consume(db, stream, event);
}

/* notices: after a batch, the open streams look for what it committed */
static void care_consume_after(struct db *db, void *arg)
{
    (void)db;
    (void)arg;
    notices_committed();
}

static int care_setup(struct svc *s)
{
    return notices_routes(s);
}

static void care_teardown(struct svc *s)
{
    (void)s;
    notices_teardown();
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "care",
        .version = CRM_VERSION,
        .setup = care_setup,
        .teardown = care_teardown,
        .consume = {care_consume_apply, NULL, care_consume_after, NULL},
    };
    return svc_main(argc, argv, &def);
}
