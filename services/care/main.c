/* SPDX-License-Identifier: Apache-2.0 */
/* crm-care: care plans and tasks, birthdays of contacts. A skeleton on the service kit: its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of contact.*,
 * transfer.completed and auth, whose events it only records (processed_events) until its issue
 * gives it handlers. */
#include "svc.h"

int main(int argc, char **argv)
{
    static const struct svc_def def = {.name = "care", .version = CRM_VERSION};
    return svc_main(argc, argv, &def);
}
