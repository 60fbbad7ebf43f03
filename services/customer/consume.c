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
 * recycle bin is transferred too: it comes back with its new manager.
 *
 * The consumer hands over a batch of entries in one transaction: apply stages each transfer
 * and flush, before the commit, applies them together: one locking read of the customers, one
 * UPDATE of those that move (each still guarded by its last_transfer_id), one read back, and
 * their customer.updated events with their history rows in a few multi-row INSERTs; a
 * customer's second transfer in one batch waits for its first to be applied. One event or a
 * hundred, it is a handful of statements. */
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

/* Stage one transfer.completed for customer_consume_flush (see the top of the file). 0, or -1
 * to roll back and retry. */
static int stage_transfer(struct db *db, struct customer_app *app, json_t *ev)
{
    struct consume_stage *st = &app->stage;
    json_t *data = json_object_get(ev, "data");
    long long cid = data_id(data, "customer_id"), to = data_id(data, "to_manager_id");
    if (cid == 0 || to == 0) {
        log_warn(NULL, "transfer.completed %s names no customer_id or to_manager_id: skipped",
                 json_string_value(json_object_get(ev, "id")));
        return 0;
    }
    /* a customer's second transfer of the batch comes after its first is applied */
    bool again = false;
    for (size_t i = 0; i < st->n && !again; i++)
        again = st->rows[i].cid == cid;
    if ((again || st->n == CONSUME_STAGE_MAX) && customer_consume_flush(db, app) != 0)
        return -1;
    st->rows[st->n++] = (struct consume_staged){
        json_incref(ev), cid, to, data_id(data, "from_manager_id"), data_id(data, "transfer_id")};
    return 0;
}

/* Whether staged transfer 's' applies to customer 'before' (as locked; NULL when it does not
 * exist), with the log line of a transfer that does not. */
static bool transfer_applies(const struct consume_staged *s, json_t *before)
{
    const char *event_id = json_string_value(json_object_get(s->ev, "id"));
    if (before == NULL) {
        log_warn(NULL, "transfer.completed %s: customer %lld does not exist: skipped", event_id,
                 s->cid);
        return false;
    }
    long long owner = json_integer_value(json_object_get(before, "manager_id"));
    if (owner == s->to) {
        log_info(NULL, "transfer.completed %s: customer %lld is managed by %lld already", event_id,
                 s->cid, s->to);
        return false;
    }
    if (json_integer_value(json_object_get(before, "last_transfer_id")) >= s->tid) {
        log_warn(NULL,
                 "transfer.completed %s: transfer %lld of customer %lld is not later than the"
                 " last one applied to it: skipped",
                 event_id, s->tid, s->cid);
        return false;
    }
    if (s->from != owner)
        log_warn(NULL,
                 "transfer.completed %s: customer %lld is managed by %lld, not by"
                 " from_manager_id %lld; applied (the transfer service checked it)",
                 event_id, s->cid, owner, s->from);
    return true;
}

/* The rows of 'rows' by id, as an object keyed by the decimal id (borrowed rows). */
static json_t *by_id(json_t *rows)
{
    json_t *map = json_object(), *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        char key[24];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(r, "id")));
        json_object_set(map, key, r);
    }
    return map;
}

/* customer.updated of staged transfer 's' from 'before' to 'after' into the outbox batch. */
static int transfer_updated(struct events_batch *out, const struct consume_staged *s,
                            json_t *before, json_t *after)
{
    json_t *data = json_object_get(s->ev, "data"), *actor = json_object_get(s->ev, "actor");
    /* the event carries the transfer's actor and request id: the audit shows who moved it */
    struct events_actor who = {json_string_value(json_object_get(actor, "user_id")),
                               json_string_value(json_object_get(actor, "ip"))};
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", s->cid);
    json_t *out_data = json_pack("{s:O, s:O, s:O, s:o}", "name", json_object_get(after, "name"),
                                 "manager_id", json_object_get(after, "manager_id"), "version",
                                 json_object_get(after, "version"), "changes",
                                 kit_changes(before, after, transfer_fields));
    if (json_object_get(data, "transfer_id"))
        json_object_set(out_data, "transfer_id", json_object_get(data, "transfer_id"));
    return events_batch_add(out, "customer", "customer.updated", &who, "customer", sid, out_data,
                            json_string_value(json_object_get(s->ev, "request_id")), NULL);
}

int customer_consume_flush(struct db *db, void *arg)
{
    struct customer_app *app = arg;
    struct consume_stage *st = &app->stage;
    long long ids[CONSUME_STAGE_MAX], moves[3 * CONSUME_STAGE_MAX];
    size_t take[CONSUME_STAGE_MAX], n = 0;
    json_t *rows = NULL, *before = NULL, *after = NULL;
    int rc = -1;
    if (st->n == 0)
        return 0;
    for (size_t i = 0; i < st->n; i++)
        ids[i] = st->rows[i].cid;
    if (repo_customers_get_many(db, ids, st->n, true, &rows) != 0)
        goto out;
    before = by_id(rows);
    json_decref(rows);
    rows = NULL;
    for (size_t i = 0; i < st->n; i++) {
        const struct consume_staged *s = &st->rows[i];
        char key[24];
        snprintf(key, sizeof(key), "%lld", s->cid);
        if (!transfer_applies(s, json_object_get(before, key)))
            continue;
        moves[3 * n] = s->cid;
        moves[3 * n + 1] = s->to;
        moves[3 * n + 2] = s->tid;
        ids[n] = s->cid;
        take[n++] = i;
    }
    /* one read, one update and one read back for the batch; then its events together */
    if (n == 0 || repo_customers_transfer(db, moves, n) != 0 ||
        repo_customers_get_many(db, ids, n, false, &rows) != 0) {
        rc = n == 0 ? 0 : -1;
        goto out;
    }
    after = by_id(rows);
    for (size_t k = 0; k < n; k++) {
        const struct consume_staged *s = &st->rows[take[k]];
        char key[24];
        snprintf(key, sizeof(key), "%lld", s->cid);
        json_t *b = json_object_get(before, key), *a = json_object_get(after, key);
        if (a == NULL || transfer_updated(&st->out, s, b, a) != 0)
            goto out;
    }
    rc = events_batch_write(db, &st->out);
out:
    consume_stage_clear(st);
    json_decref(rows);
    json_decref(before);
    json_decref(after);
    return rc;
}

void consume_stage_clear(struct consume_stage *st)
{
    for (size_t i = 0; i < st->n; i++)
        json_decref(st->rows[i].ev);
    st->n = 0;
    events_batch_clear(&st->out);
}

int customer_consume_apply(struct db *db, const char *stream, const char *entry_id, json_t *event,
                           void *arg)
{
    (void)entry_id;
    const char *type = json_string_value(json_object_get(event, "type"));
    if (strcmp(stream, TRANSFER_STREAM) != 0 || type == NULL ||
        strcmp(type, "transfer.completed") != 0)
        return 0;
    return stage_transfer(db, arg, event);
}

void customer_consume_after(struct db *db, void *arg)
{
    struct customer_app *ctx = arg;
    (void)db;
    if (ctx == NULL)
        return;
    consume_stage_clear(&ctx->stage); /* what a rolled-back attempt staged */
    /* whether or not this attempt wrote an event: a wake with nothing pending costs a query */
    if (ctx->svc)
        svc_events_committed(ctx->svc);
}
