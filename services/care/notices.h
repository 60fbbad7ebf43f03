/* SPDX-License-Identifier: Apache-2.0 */
/* notices: the bell's notices (通知) of each user, kept by the care service (the manager's
 * work): made from events and from care tasks falling due, listed and marked read over the API,
 * and pushed to the user's open server-sent-event streams as they are written. */
#ifndef CRM_CARE_NOTICES_H
#define CRM_CARE_NOTICES_H

#include <jansson.h>

#include "db.h"
#include "svc.h"

/* The kinds of notice (the console renders each from its data in the reader's language). */
#define NOTICE_CUSTOMER_MOVED                                                                      \
    "customer_moved" /* data: transfer_id, count, customer_id, customer_name */
#define NOTICE_HANDOVER_FINISHED                                                                   \
    "handover_finished"            /* data: transfer_id, status, done, failed, total */
#define NOTICE_CARE_DUE "care_due" /* data: the caller's (task_id, customer_name, ...) */

/*
 * Apply one event of 'stream' to the notices, inside the consumer's open transaction on 'db'
 * (the care service's consume.apply calls it; the consumer records the event id in the same
 * transaction, so a redelivered event never comes here twice):
 *   - crm:stream:transfer transfer.completed: a customer_moved notice for data.to_manager_id
 *     (not when the receiver moved it themself), one per transfer and receiver: the items of one
 *     transfer_id grow its data.count, and a grown notice is unread again;
 *   - crm:stream:transfer transfer.handover_finished: a handover_finished notice for the
 *     event's actor (the operator), once per job.
 * Anything else is ignored. 0, or -1 on a database failure (the consumer rolls back and
 * retries). 'event' is borrowed.
 */
int notices_consume(struct db *db, const char *stream, json_t *event)
    __attribute__((warn_unused_result));

/*
 * Add a notice of 'kind' for user 'user_id' with the parameters 'data' (a JSON object,
 * borrowed; the console renders the text from it: give names, not only ids) and the console
 * path 'link' (may be NULL), inside the caller's open transaction on 'db' (a care task that
 * falls due adds its care_due notice with its care.due event). Open streams get it within a
 * second of the commit; at once after notices_committed. 0 or -1.
 */
int notice_add(struct db *db, long long user_id, const char *kind, json_t *data, const char *link)
    __attribute__((warn_unused_result));

/*
 * notice_add for many of a kind: the notice of ('user_id', 'kind', 'group_key') grows by one
 * (data.count, and 'data' borrowed becomes its data with that count; unread again) or is made
 * with count 1. For a burst that would otherwise be one notice each: the daily scan's care_due
 * notices of one manager and day, say group_key "due:2026-12-04". 'group_key' at most 64 bytes.
 * 0 or -1.
 */
int notice_bump(struct db *db, long long user_id, const char *kind, const char *group_key,
                json_t *data, const char *link) __attribute__((warn_unused_result));

/* Tell the open streams that a transaction with notices committed (any thread): they are
 * looked for now instead of at the next second. Harmless when nothing committed. */
void notices_committed(void);

/*
 * Register the notice routes of shared/routes.def on 's' and start the streams' poll and
 * heartbeat on its loop: GET /api/v1/notices, GET /api/v1/notices/unread-count,
 * POST /api/v1/notices/{id}/read, POST /api/v1/notices/read-all and GET
 * /api/v1/notices/stream. Once per process (the notices of a process are one). 0 or -1.
 */
int notices_routes(struct svc *s) __attribute__((warn_unused_result));

/* End the open streams and stop the poll (the service's teardown). */
void notices_teardown(void);

#endif
