/* SPDX-License-Identifier: Apache-2.0 */
/* consume: what the customer service applies of the streams it reads (besides the platform's
 * projections of crm:stream:auth): transfer.completed gives a customer its new manager, inside
 * the consumer's transaction, with customer.updated through the outbox in that same
 * transaction. The consumer records each event id in that transaction too (processed_events),
 * so a second delivery of one transfer changes nothing.
 *
 * Decisions: the transfer service checks a transfer before it completes (who may transfer,
 * and from whom), so a transfer whose from_manager_id is no longer the owner is applied all the
 * same, with a warning in the log: the event says what happened there. A customer that does
 * not exist (or an event whose data has no ids) is logged and skipped: the event is recorded
 * as processed and not retried, so it never loops into the dead letters. A customer in the
 * recycle bin is transferred too: it comes back with its new manager. */
#include "followups.h"
#include "crmlog.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define TRANSFER_STREAM "crm:stream:transfer"

/* The customer's fields a transfer changes (customer.updated's changes, the audit's). */
static const char *const transfer_fields[] = {
    "manager_id", "manager_name", "owner_time", "followed_up", NULL,
};

/* An id of the event's data: an integer or a decimal string; 0 when neither. */
static long long data_id(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);
    long id = 0;
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
    if (json_is_string(v) && util_parse_long(json_string_value(v), 1, KIT_ID_MAX, &id) == 0)
        return id;
    return 0;
}

/* Customer 'id' as the API shows it, live or in the recycle bin ('*row' NULL when neither),
 * locked. */
static int customer_locked(struct db *db, long long id, json_t **row)
{
    if (repo_customer_get(db, NULL, id, false, true, row) != 0)
        return -1;
    return *row ? 0 : repo_customer_get(db, NULL, id, true, true, row);
}

/* Apply one transfer.completed (see the top of the file). 0, or -1 to roll back and retry. */
static int apply_transfer(struct db *db, json_t *ev)
{
    json_t *data = json_object_get(ev, "data"), *actor = json_object_get(ev, "actor");
    const char *event_id = json_string_value(json_object_get(ev, "id"));
    long long cid = data_id(data, "customer_id"), to = data_id(data, "to_manager_id");
    long long from = data_id(data, "from_manager_id");
    json_t *before = NULL, *after = NULL;
    uint64_t affected = 0;
    int rc = -1;
    if (cid == 0 || to == 0) {
        log_warn(NULL, "transfer.completed %s names no customer_id or to_manager_id: skipped",
                 event_id);
        rc = 0;
        goto out;
    }
    if (customer_locked(db, cid, &before) != 0)
        goto out;
    if (before == NULL) {
        log_warn(NULL, "transfer.completed %s: customer %lld does not exist: skipped", event_id,
                 cid);
        rc = 0;
        goto out;
    }
    long long owner = json_integer_value(json_object_get(before, "manager_id"));
    if (owner == to) {
        log_info(NULL, "transfer.completed %s: customer %lld is managed by %lld already", event_id,
                 cid, to);
        rc = 0;
        goto out;
    }
    if (from != owner)
        log_warn(NULL,
                 "transfer.completed %s: customer %lld is managed by %lld, not by"
                 " from_manager_id %lld; applied (the transfer service checked it)",
                 event_id, cid, owner, from);
    bool deleted = json_object_get(before, "deleted_at") != NULL;
    long long tid = data_id(data, "transfer_id");
    if (repo_customer_transfer(db, cid, to, tid, &affected) != 0)
        goto out;
    if (affected == 0) {
        log_warn(NULL,
                 "transfer.completed %s: transfer %lld of customer %lld is not later than the"
                 " last one applied to it: skipped",
                 event_id, tid, cid);
        rc = 0;
        goto out;
    }
    if (repo_customer_get(db, NULL, cid, deleted, false, &after) != 0 || after == NULL)
        goto out;
    /* the event carries the transfer's actor and request id: the audit shows who moved it */
    struct events_actor who = {json_string_value(json_object_get(actor, "user_id")),
                               json_string_value(json_object_get(actor, "ip"))};
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", cid);
    json_t *out_data = json_pack("{s:O, s:O, s:O, s:o}", "name", json_object_get(after, "name"),
                                 "manager_id", json_object_get(after, "manager_id"), "version",
                                 json_object_get(after, "version"), "changes",
                                 kit_changes(before, after, transfer_fields));
    if (json_object_get(data, "transfer_id"))
        json_object_set(out_data, "transfer_id", json_object_get(data, "transfer_id"));
    rc = events_outbox_add(db, "customer", "customer.updated", &who, "customer", sid, out_data,
                           json_string_value(json_object_get(ev, "request_id")), NULL);
out:
    json_decref(before);
    json_decref(after);
    return rc;
}

int customer_consume_apply(struct db *db, const char *stream, const char *entry_id, json_t *event,
                           void *arg)
{
    (void)entry_id;
    (void)arg;
    const char *type = json_string_value(json_object_get(event, "type"));
    if (strcmp(stream, TRANSFER_STREAM) != 0 || type == NULL ||
        strcmp(type, "transfer.completed") != 0)
        return 0;
    return apply_transfer(db, event);
}

void customer_consume_after(struct db *db, void *arg)
{
    struct customer_app *ctx = arg;
    (void)db;
    /* whether or not this attempt wrote an event: a wake with nothing pending costs a query */
    if (ctx && ctx->svc)
        svc_events_committed(ctx->svc);
}
