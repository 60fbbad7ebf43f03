/* SPDX-License-Identifier: Apache-2.0 */
/* crm-transfer: transfers of customers between managers, on the service kit. Its line of
 * shared/services.def gives it its port, an outbox with its relay (transfer.completed), and a
 * consumer of the auth stream (the data scope's projection, with who is an active customer
 * manager) and of the customer stream (its view of who manages which customer, libcrm's
 * ownerproj.h).
 * A hand-over of many customers is a job the background task works through (handover.c). */
#include "transfer.h"

static int transfer_setup(struct svc *s)
{
    return transfers_routes(s) ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const struct svc_task_def tasks[] = {
        {TRANSFER_TASK, 2000, handover_round},
    };
    static const struct svc_def def = {
        .name = "transfer",
        .version = CRM_VERSION,
        .setup = transfer_setup,
        .customer_owners = true, /* customer_owners: who manages what */
        .tasks = tasks,
        .ntasks = 1,
    };
    return svc_main(argc, argv, &def);
}
