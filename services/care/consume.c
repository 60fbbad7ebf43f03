/* SPDX-License-Identifier: Apache-2.0 */
/* consume: what the care service applies of the other services' events, inside the consumer's
 * transaction (processed_events makes each apply once). The platform keeps the customers'
 * owners (libcrm's customer_owners) from crm:stream:customer before this runs.
 *   contact.created/updated  the contact's name, birthday and decision-maker flag (care_contacts,
 *                            guarded by the contact's version)
 *   contact.deleted          its pending tasks are cancelled
 *   customer.deleted         its pending tasks are cancelled by the system ...
 *   customer.restored        ... and come back
 *   transfer.completed       the customer's pending tasks go to the new owner
 * and after each of them (and customer.created/updated, which can name a new owner) the
 * customer's contacts take its owner as customer_owners has it (care_contacts.manager_id,
 * which the workbench's birthdays are counted by).
 * Each task so changed is an event of its own (care.cancelled, care.reopened, care.reassigned),
 * written in the same transaction, for the audit and the task's history. */
#include "care.h"
#include "crmlog.h"
#include "notices.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define REASON_CUSTOMER_DELETED "customer_deleted"
#define REASON_CONTACT_DELETED  "contact_deleted"

static long long id_of(json_t *v)
{
    long id = 0;
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
    if (json_is_string(v) && util_parse_long(json_string_value(v), 1, KIT_ID_MAX, &id) == 0)
        return id;
    return 0;
}

static int contact_upsert(struct db *db, long long id, json_t *d)
{
    struct db_param p[] = {
        DBP_INT(id),
        db_param_json_int(json_object_get(d, "customer_id")),
        db_param_json_str(json_object_get(d, "name")),
        DBP_INT(json_is_true(json_object_get(d, "decision_maker"))),
        db_param_json_int(json_object_get(d, "birth_month")),
        db_param_json_int(json_object_get(d, "birth_day")),
        db_param_json_int(json_object_get(d, "birth_year")),
        db_param_json_int(json_object_get(d, "version")),
    };
    if (p[1].type == DB_NULL)
        return 0;
    if (p[7].type == DB_NULL)
        p[7] = DBP_INT(1);
    return db_exec(db,
                   "INSERT INTO care_contacts (contact_id, customer_id, name, decision_maker,"
                   " birth_month, birth_day, birth_year, version) VALUES (?,?,?,?,?,?,?,?)"
                   " ON DUPLICATE KEY UPDATE"
                   " name = IF(VALUES(version) > version, VALUES(name), name),"
                   " decision_maker = IF(VALUES(version) > version, VALUES(decision_maker),"
                   " decision_maker),"
                   " birth_month = IF(VALUES(version) > version, VALUES(birth_month), birth_month),"
                   " birth_day = IF(VALUES(version) > version, VALUES(birth_day), birth_day),"
                   " birth_year = IF(VALUES(version) > version, VALUES(birth_year), birth_year),"
                   " version = GREATEST(version, VALUES(version))",
                   p, ARRAY_LEN(p), NULL, NULL);
}

/* One event per task 'ids' changed to 'type' (re-read after the change). */
static int task_events(struct db *db, json_t *ids, const char *type,
                       const struct events_actor *actor, const char *request_id)
{
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *row = NULL;
        char sid[24];
        snprintf(sid, sizeof(sid), "%lld", (long long)json_integer_value(id));
        if (repo_task_get(db, NULL, json_integer_value(id), false, &row) != 0 || row == NULL)
            return -1;
        int rc = events_outbox_add(db, "care", type, actor, "care_task", sid,
                                   care_task_event_data(row), request_id, NULL);
        json_decref(row);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The ids of the tasks 'where' selects ("customer_id = ? AND status = 'pending'"), locked. */
static int task_ids(struct db *db, const char *where, long long arg, json_t **ids)
{
    json_t *rows = NULL;
    char *sql = xasprintf("SELECT id FROM care_tasks WHERE %s ORDER BY id FOR UPDATE", where);
    int rc = db_query(db, sql, &DBP_INT(arg), 1, &rows);
    free(sql);
    *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) json_array_append(*ids, json_object_get(r, "id"));
    json_decref(rows);
    return rc;
}

/* Cancel by the system the pending tasks of 'col' = 'id', or reopen those it so cancelled. */
static int system_change(struct db *db, const char *col, long long id, bool cancel,
                         const char *reason, const struct events_actor *actor,
                         const char *request_id)
{
    char where[160], set[320];
    json_t *ids = NULL;
    if (cancel)
        snprintf(where, sizeof(where), "%s = ? AND status = 'pending'", col);
    else
        snprintf(where, sizeof(where),
                 "%s = ? AND status = 'cancelled' AND cancelled_by_system = 1"
                 " AND cancel_reason = '%s'",
                 col, reason);
    if (task_ids(db, where, id, &ids) != 0) {
        json_decref(ids);
        return -1;
    }
    int rc = 0;
    if (json_array_size(ids) > 0) {
        if (cancel)
            snprintf(set, sizeof(set),
                     "status = 'cancelled', cancelled_by_system = 1, cancel_reason = '%s'", reason);
        else
            snprintf(set, sizeof(set),
                     "status = 'pending', cancelled_by_system = 0, cancel_reason = ''");
        char *sql =
            xasprintf("UPDATE care_tasks SET %s, version = version + 1 WHERE %s", set, where);
        rc = db_exec(db, sql, &DBP_INT(id), 1, NULL, NULL) != 0 ||
                     task_events(db, ids, cancel ? "care.cancelled" : "care.reopened", actor,
                                 request_id) != 0
                 ? -1
                 : 0;
        free(sql);
    }
    json_decref(ids);
    return rc;
}

static int transfer_apply(struct db *db, json_t *ev, const struct events_actor *actor,
                          const char *request_id)
{
    json_t *d = json_object_get(ev, "data");
    long long cid = id_of(json_object_get(d, "customer_id")),
              to = id_of(json_object_get(d, "to_manager_id")),
              tid = id_of(json_object_get(d, "transfer_id"));
    bool moved = false;
    json_t *ids = NULL;
    if (cid == 0 || to == 0)
        return 0;
    /* the owner, as the customer service will have it: the care service plans for it */
    if (ownerproj_move(db, cid, to, tid, &moved) != 0)
        return -1;
    if (!moved)
        return 0; /* an older transfer, or one applied before */
    if (repo_contacts_owner_sync(db, cid) != 0)
        return -1;
    if (task_ids(db, "customer_id = ? AND status = 'pending'", cid, &ids) != 0) {
        json_decref(ids);
        return -1;
    }
    int rc = 0;
    if (json_array_size(ids) > 0) {
        struct db_param p[] = {DBP_INT(to), DBP_INT(cid)};
        rc = db_exec(db,
                     "UPDATE care_tasks SET manager_id = ?, version = version + 1"
                     " WHERE customer_id = ? AND status = 'pending'",
                     p, 2, NULL, NULL) != 0 ||
                     task_events(db, ids, "care.reassigned", actor, request_id) != 0
                 ? -1
                 : 0;
    }
    json_decref(ids);
    return rc;
}

int care_consume(struct db *db, const char *stream, const char *entry_id, json_t *event, void *arg)
{
    (void)entry_id;
    (void)arg;
    const char *type = json_string_value(json_object_get(event, "type"));
    json_t *data = json_object_get(event, "data"), *actor = json_object_get(event, "actor");
    long long sid = id_of(json_object_get(json_object_get(event, "subject"), "id"));
    const struct events_actor who = {json_string_value(json_object_get(actor, "user_id")),
                                     json_string_value(json_object_get(actor, "ip"))};
    const char *rid = json_string_value(json_object_get(event, "request_id"));
    if (type == NULL)
        return 0;
    /* the bell: a customer moved to a manager, a hand-over finished */
    if (notices_consume(db, stream, event) != 0)
        return -1;
    if (strcmp(stream, "crm:stream:transfer") == 0)
        return strcmp(type, "transfer.completed") == 0 ? transfer_apply(db, event, &who, rid) : 0;
    if (strcmp(stream, "crm:stream:customer") != 0 || sid == 0)
        return 0;
    if (strcmp(type, "contact.created") == 0 || strcmp(type, "contact.updated") == 0) {
        long long customer = id_of(json_object_get(data, "customer_id"));
        return contact_upsert(db, sid, data) != 0 || repo_contacts_owner_sync(db, customer) != 0
                   ? -1
                   : 0;
    }
    if (strcmp(type, "contact.deleted") == 0)
        return db_exec(db, "UPDATE care_contacts SET deleted = 1 WHERE contact_id = ?",
                       &DBP_INT(sid), 1, NULL, NULL) != 0 ||
                       system_change(db, "contact_id", sid, true, REASON_CONTACT_DELETED, &who,
                                     rid) != 0
                   ? -1
                   : 0;
    if (strcmp(type, "customer.deleted") == 0)
        return system_change(db, "customer_id", sid, true, REASON_CUSTOMER_DELETED, &who, rid);
    if (strcmp(type, "customer.restored") == 0)
        return system_change(db, "customer_id", sid, false, REASON_CUSTOMER_DELETED, &who, rid);
    if (strcmp(type, "customer.created") == 0 || strcmp(type, "customer.updated") == 0)
        return repo_contacts_owner_sync(db, sid);
    return 0;
}

void care_consume_after(struct db *db, void *arg)
{
    struct care_app *app = arg;
    (void)db;
    if (app && app->svc)
        svc_events_committed(app->svc);
    notices_committed();
}
