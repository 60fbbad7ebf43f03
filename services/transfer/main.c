/* SPDX-License-Identifier: Apache-2.0 */
/* crm-transfer: transfers of customers between managers. A skeleton on the service kit: its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of customer.*
 * (its view of who manages what) and auth, whose events it only records (processed_events) until
 * its issue gives it handlers. */
#include "svc.h"

int main(int argc, char **argv)
{
    static const struct svc_def def = {.name = "transfer", .version = CRM_VERSION};
    return svc_main(argc, argv, &def);
}
