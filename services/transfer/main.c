/* SPDX-License-Identifier: Apache-2.0 */
/* crm-transfer: the transfer service (transfers of customers between managers). */
#include "svc.h"

/* The service's own routes arrive with its issue; the platform gives it health, readiness,
 * metrics, migrations, workers, JWT identity and /api/v1/system/transfer/info. */
static int transfer_setup(struct svc *s)
{
    (void)s;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {.name = "transfer",
                                       .version = CRM_VERSION,
                                       .setup = transfer_setup,
                                       .produces_events = true};
    return svc_main(argc, argv, &def);
}
