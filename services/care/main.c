/* SPDX-License-Identifier: Apache-2.0 */
/* crm-care: the care service (care plans and tasks, contacts' birthdays). */
#include "svc.h"

/* The service's own routes arrive with its issue; the platform gives it health, readiness,
 * metrics, migrations, workers, JWT identity and /api/v1/system/care/info. */
static int care_setup(struct svc *s)
{
    (void)s;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "care", .version = CRM_VERSION, .setup = care_setup, .produces_events = true};
    return svc_main(argc, argv, &def);
}
