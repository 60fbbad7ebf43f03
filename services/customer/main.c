/* SPDX-License-Identifier: Apache-2.0 */
/* crm-customer: the customer service (customers, contacts and follow-up records). */
#include "svc.h"

/* The service's own routes arrive with its issue; the platform gives it health, readiness,
 * metrics, migrations, workers, JWT identity and /api/v1/system/customer/info. */
static int customer_setup(struct svc *s)
{
    (void)s;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {.name = "customer",
                                       .version = CRM_VERSION,
                                       .setup = customer_setup,
                                       .produces_events = true};
    return svc_main(argc, argv, &def);
}
