/* SPDX-License-Identifier: Apache-2.0 */
/* handover: the background task that works through hand-over jobs (POST
 * /api/v1/transfers/handover): a round claims the oldest job (a lease, so that one instance
 * works on it and another takes over when that one dies), moves the next TRANSFER_CHUNK
 * customers after the job's cursor in one transaction (their items, their new owner, their
 * transfer.completed events and the job's progress together), and says "more" until the job
 * is done. A restart resumes at the cursor: nothing is moved twice, nothing is skipped. */
#include "transfer.h"
#include "crmlog.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_S 30
#define KEEP_S  25 /* renewed when less than this is left: every ~5 s, not every round */

/* The receivers of 'job' who are still active customer managers, with their departments. */
static int active_receivers(struct db *db, json_t *ids, long long *out, long long *depts, size_t *n)
{
    size_t i;
    json_t *id;
    *n = 0;
    json_array_foreach(ids, i, id)
    {
        struct scope_user u;
        if (scope_user_get(db, NULL, json_integer_value(id), &u) != 0)
            return -1;
        if (u.found && u.enabled && scope_user_has_role(&u, TRANSFER_RECEIVER_ROLE) &&
            *n < TRANSFER_RECEIVERS_MAX) {
            out[*n] = json_integer_value(id);
            depts[(*n)++] = u.dept_id;
        }
    }
    return 0;
}

/* transfer.handover_finished: the job's totals, for the audit and the operator. */
static int finished(struct db *db, const struct events_actor *actor, long long id,
                    const char *status, long long done, long long failed, long long total)
{
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", id);
    json_t *data = json_pack("{s:I, s:s, s:I, s:I, s:I}", "transfer_id", (json_int_t)id, "status",
                             status, "done", (json_int_t)done, "failed", (json_int_t)failed,
                             "total", (json_int_t)total);
    return events_outbox_add(db, "transfer", "transfer.handover_finished", actor, "transfer", sid,
                             data, NULL, NULL); /* it takes 'data' */
}

int handover_round(struct svc_worker *w, void *app)
{
    (void)app;
    json_t *job = NULL, *rows = NULL;
    long long *tos = NULL, *moves = NULL; /* the round's new owners; {customer, owner} pairs */
    struct events_batch evs;
    int rc = -1;
    events_batch_init(&evs);
    if (repo_job_claim(&w->db, w->svc->consumer_name, LEASE_S, KEEP_S, &job) != 0)
        goto out;
    if (job == NULL) {
        rc = 0; /* nothing queued */
        goto out;
    }
    long long id = json_integer_value(json_object_get(job, "id"));
    long long cursor = json_integer_value(json_object_get(job, "cursor_id"));
    long long next = json_integer_value(json_object_get(job, "next_receiver"));
    long long done = json_integer_value(json_object_get(job, "done"));
    long long failed = json_integer_value(json_object_get(job, "failed"));
    long long total = json_integer_value(json_object_get(job, "total"));
    const char *reason = json_string_value(json_object_get(job, "reason"));
    char op[24];
    snprintf(op, sizeof(op), "%lld",
             (long long)json_integer_value(json_object_get(job, "operator_id")));
    const struct events_actor actor = {op, NULL};
    /* the job runs with the scope its operator had when asking */
    struct scope sc = {.user_id = json_integer_value(json_object_get(job, "operator_id")),
                       .src = &scope_projection};
    if (scope_parse(json_string_value(json_object_get(job, "operator_scope")), &sc.kind) != 0)
        sc.kind = SCOPE_SELF;
    struct owner_filter f;
    handover_filter(json_integer_value(json_object_get(job, "from_manager_id")),
                    json_object_get(job, "filter"), &f);
    handover_exclude(&f, json_object_get(job, "receivers"));
    f.before_transfer = id;
    long long to[TRANSFER_RECEIVERS_MAX], depts[TRANSFER_RECEIVERS_MAX];
    size_t nto = 0;
    if (db_begin(&w->db) != 0 ||
        active_receivers(&w->db, json_object_get(job, "receivers"), to, depts, &nto) != 0)
        goto out;
    if (nto == 0) { /* every receiver left meanwhile: the rest stays where it is */
        if (repo_job_progress(&w->db, id, cursor, next, done, failed, "failed") != 0 ||
            finished(&w->db, &actor, id, "failed", done, failed, total) != 0 ||
            db_commit(&w->db) != 0)
            goto out;
        log_warn(NULL,
                 "hand-over %lld stopped: none of its receivers is an active customer"
                 " manager any more",
                 id);
        svc_events_committed(w->svc);
        rc = 1;
        goto out;
    }
    if (repo_owners_chunk(&w->db, &sc, &f, cursor, TRANSFER_CHUNK, &rows) != 0)
        goto out;
    /* the round's items, owners and events in a few statements: multi-row INSERTs of the
     * items and of the outbox rows, one UPDATE of the owners (their rows are locked by the
     * chunk query and a later transfer cannot move them before the commit) */
    size_t i, n = json_array_size(rows);
    json_t *r;
    tos = xcalloc(n ? n : 1, sizeof(*tos));
    moves = xcalloc(n ? 2 * n : 1, sizeof(*moves));
    json_array_foreach(rows, i, r)
    {
        size_t k = (size_t)(next++ % (long long)nto);
        char sid[24];
        long long cid = json_integer_value(json_object_get(r, "customer_id"));
        tos[i] = moves[2 * i + 1] = to[k];
        moves[2 * i] = cid;
        snprintf(sid, sizeof(sid), "%lld", cid);
        /* the batch takes the event's data */
        if (events_batch_add(&evs, "transfer", "transfer.completed", &actor, "customer", sid,
                             transfer_completed_data(id, r, to[k], depts[k], reason), NULL,
                             NULL) != 0)
            goto out;
        cursor = cid;
        done++;
    }
    if (repo_items_insert(&w->db, id, rows, tos) != 0 ||
        ownerproj_move_rows(&w->db, moves, n, id) != 0 || events_batch_write(&w->db, &evs) != 0)
        goto out;
    bool last = json_array_size(rows) < TRANSFER_CHUNK;
    if (repo_job_progress(&w->db, id, cursor, next, done, failed, last ? "done" : "running") != 0 ||
        (last && finished(&w->db, &actor, id, "done", done, failed, total) != 0) ||
        db_commit(&w->db) != 0)
        goto out;
    svc_events_committed(w->svc);
    rc = 1; /* more of this job, or another job */
out:
    if (rc < 0) {
        log_warn(NULL, "hand-over round failed: %s", w->db.last_error);
        db_rollback(&w->db);
    }
    events_batch_cleanup(&evs);
    free(tos);
    free(moves);
    json_decref(job);
    json_decref(rows);
    return rc;
}
