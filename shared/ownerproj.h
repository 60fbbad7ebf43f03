/* SPDX-License-Identifier: Apache-2.0 */
/* ownerproj: a service's own view of who manages which customer (customer_owners), kept from
 * the customer service's events, for the services that act on customers by owner: transfer
 * (who may hand what over) and care (whose tasks a customer's are). The platform applies the
 * customer stream to it for a service that asks (svc_def.customer_owners). */
#ifndef CRM_OWNERPROJ_H
#define CRM_OWNERPROJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "migrate.h"

/* libcrm's migration of such a service: the customer_owners table. */
extern const struct migrate_unit ownerproj_migration;

/* Inside the consumer's transaction: apply one event of crm:stream:customer
 * (customer.created/updated/deleted/restored; others change nothing). Guarded by the customer's
 * version, so a redelivered or late event changes nothing; the owner an update names is taken
 * only from an update made by a transfer as late as the last one this service applied
 * (data.transfer_id): owners change only by transfers. 0 or -1. */
int ownerproj_apply(struct db *db, json_t *event) __attribute__((warn_unused_result));

/* The owner of customer 'customer_id' becomes 'to' by transfer 'transfer_id' (the transfer
 * service's own writes, and transfer.completed where another service follows it). Only a
 * transfer later than the last one applied moves it; '*moved' says whether it did (NULL: not
 * asked). 0 or -1. */
int ownerproj_move(struct db *db, long long customer_id, long long to, long long transfer_id,
                   bool *moved) __attribute__((warn_unused_result));

/* ownerproj_move for 'n' customers at once, in one statement: 'moves' holds {customer id, new
 * owner} a customer; each moves by transfer 'transfer_id' where no transfer as late has moved
 * it (a hand-over round). 0 or -1. */
int ownerproj_move_rows(struct db *db, const long long *moves, size_t n, long long transfer_id)
    __attribute__((warn_unused_result));

#endif
