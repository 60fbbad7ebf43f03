/* SPDX-License-Identifier: Apache-2.0 */
/* crm-auth: the auth service (accounts, departments, roles and permissions, data dictionary, login
 * and tokens). */
#include "svc.h"

/* The service's own routes arrive with its issue; the platform gives it health, readiness,
 * metrics, migrations, workers, JWT identity and /api/v1/system/auth/info. */
static int auth_setup(struct svc *s)
{
    (void)s;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {"auth", CRM_VERSION, auth_setup, NULL};
    return svc_main(argc, argv, &def);
}
