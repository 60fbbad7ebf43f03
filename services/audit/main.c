/* SPDX-License-Identifier: Apache-2.0 */
/* crm-audit: the audit service (the append-only audit, login and operation logs). */
#include "svc.h"

/* The service's own routes arrive with its issue; the platform gives it health, readiness,
 * metrics, migrations, workers, JWT identity and /api/v1/system/audit/info. */
static int audit_setup(struct svc *s)
{
    (void)s;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {"audit", CRM_VERSION, audit_setup, NULL, false, NULL, 0};
    return svc_main(argc, argv, &def);
}
