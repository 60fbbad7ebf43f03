/* SPDX-License-Identifier: Apache-2.0 */
/* crm-customer: customers, contacts and follow-up records, on the service kit. Its line of
 * shared/services.def gives it its port, an outbox with its relay, and a consumer of the auth
 * stream (the data scope's and the dictionary's projections, applied by the platform) and of
 * transfer.completed (recorded only, until the transfer issue: processed_events). */
#include "customer.h"

static int customer_setup(struct svc *s)
{
    return customers_routes(s) || contacts_routes(s) ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "customer",
        .version = CRM_VERSION,
        .setup = customer_setup,
    };
    return svc_main(argc, argv, &def);
}
