/* SPDX-License-Identifier: Apache-2.0 */
/* repo_transfers: every SQL statement of the transfer service: its view of the customers'
 * owners, the transfers and their items, the hand-over jobs. */
#include "transfer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* the owners                                                                                  */

#define OWNER_COLUMNS "o.customer_id, o.name, o.manager_id"

int repo_owners_lock(struct db *db, struct scope *sc, json_t *ids, json_t **rows)
{
    struct listq q;
    char in[4 * TRANSFER_SELECT_MAX + 8] = "", cond[4 * TRANSFER_SELECT_MAX + 64];
    struct db_param vals[TRANSFER_SELECT_MAX];
    size_t i, n = 0;
    json_t *id;
    char *sql = NULL;
    int rc = -1;
    *rows = NULL;
    json_array_foreach(ids, i, id)
    {
        if (n == TRANSFER_SELECT_MAX)
            break;
        strcat(in, n ? ",?" : "?");
        vals[n++] = DBP_INT(json_integer_value(id));
    }
    listq_init(&q);
    snprintf(cond, sizeof(cond), "o.customer_id IN (%s)", in);
    listq_add(&q, cond, vals, n);
    listq_add(&q, "o.deleted = 0", NULL, 0);
    if (scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT " OWNER_COLUMNS " FROM customer_owners o%s ORDER BY o.customer_id"
                    " FOR UPDATE",
                    listq_sql(&q));
    rc = db_query(db, sql, q.p, q.n, rows);
out:
    free(sql);
    return rc;
}

static void owner_where(struct listq *q, const struct owner_filter *f)
{
    listq_add(q, "o.deleted = 0", NULL, 0);
    listq_eq_int(q, "o.manager_id", f->manager_id);
    listq_eq_str(q, "o.industry", f->industry);
    listq_eq_str(q, "o.source", f->source);
    listq_eq_str(q, "o.level", f->level);
    listq_eq_str(q, "o.status", f->status);
    listq_eq_str(q, "o.province", f->province);
    listq_eq_str(q, "o.city", f->city);
    if (f->before_transfer)
        listq_add(q, "o.transfer_id < ?", &DBP_INT(f->before_transfer), 1);
    if (f->nexclude > 0) {
        char cond[64 + 2 * TRANSFER_RECEIVERS_MAX] = "o.manager_id NOT IN (";
        struct db_param vals[TRANSFER_RECEIVERS_MAX];
        for (size_t i = 0; i < f->nexclude; i++) {
            strcat(cond, i ? ",?" : "?");
            vals[i] = DBP_INT(f->exclude[i]);
        }
        strcat(cond, ")");
        listq_add(q, cond, vals, f->nexclude);
    }
}

int repo_owners_chunk(struct db *db, struct scope *sc, const struct owner_filter *f,
                      long long cursor, int limit, json_t **rows)
{
    struct listq q;
    char *sql = NULL;
    int rc = -1;
    *rows = NULL;
    listq_init(&q);
    listq_add(&q, "o.customer_id > ?", &DBP_INT(cursor), 1);
    owner_where(&q, f);
    if (scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT " OWNER_COLUMNS " FROM customer_owners o%s ORDER BY o.customer_id"
                    " LIMIT %d FOR UPDATE",
                    listq_sql(&q), limit);
    rc = db_query(db, sql, q.p, q.n, rows);
out:
    free(sql);
    return rc;
}

int repo_owners_count(struct db *db, struct scope *sc, const struct owner_filter *f, long long *n)
{
    struct listq q;
    json_t *row = NULL;
    char *sql = NULL;
    int rc = -1;
    *n = 0;
    listq_init(&q);
    owner_where(&q, f);
    if (scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT COUNT(*) AS n FROM customer_owners o%s", listq_sql(&q));
    rc = db_query_one(db, sql, q.p, q.n, &row);
    *n = json_integer_value(json_object_get(row, "n"));
out:
    free(sql);
    json_decref(row);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* transfers and their items                                                                   */

int repo_transfer_insert(struct db *db, json_t *v, long long *id)
{
    char *receivers =
        json_dumps(json_object_get(v, "receivers") ? json_object_get(v, "receivers") : json_array(),
                   JSON_COMPACT);
    char *filter = json_dumps(
        json_object_get(v, "filter") ? json_object_get(v, "filter") : json_object(), JSON_COMPACT);
    uint64_t insert_id = 0;
    struct db_param p[] = {
        db_param_json_str(json_object_get(v, "kind")),
        db_param_json_str(json_object_get(v, "status")),
        db_param_json_str(json_object_get(v, "reason")),
        db_param_json_int(json_object_get(v, "operator_id")),
        db_param_json_str(json_object_get(v, "operator_scope")),
        db_param_json_int(json_object_get(v, "from_manager_id")),
        DBP_STR(receivers ? receivers : "[]"),
        DBP_STR(filter ? filter : "{}"),
        DBP_INT(json_integer_value(json_object_get(v, "total"))),
    };
    int rc = db_exec(db,
                     "INSERT INTO transfers (kind, status, reason, operator_id, operator_scope,"
                     " from_manager_id, receivers, filter, total, finished_at)"
                     " VALUES (?,?,?,?,?,?,?,?,?,"
                     " IF(kind = 'select', CURRENT_TIMESTAMP(3), NULL))",
                     p, ARRAY_LEN(p), NULL, &insert_id);
    *id = (long long)insert_id;
    free(receivers);
    free(filter);
    return rc;
}

#define ITEM_INSERT                                                                                \
    "INSERT INTO transfer_items (transfer_id, customer_id, customer_name, from_manager_id,"        \
    " to_manager_id, status, error) VALUES "
#define ITEM_COLUMNS 7

/* The parameters of one item row into 'p' (ITEM_COLUMNS of them; 'customer' lends the name). */
static void item_params(struct db_param *p, long long transfer_id, json_t *customer, long long to,
                        const char *error)
{
    p[0] = DBP_INT(transfer_id);
    p[1] = db_param_json_int(json_object_get(customer, "customer_id"));
    p[2] = db_param_json_str(json_object_get(customer, "name"));
    p[3] = db_param_json_int(json_object_get(customer, "manager_id"));
    p[4] = DBP_INT(to);
    p[5] = DBP_STR(error ? "failed" : "completed");
    p[6] = DBP_STR(error ? error : "");
}

int repo_item_insert(struct db *db, long long transfer_id, json_t *customer, long long to,
                     const char *error, long long *id)
{
    uint64_t insert_id = 0;
    struct db_param p[ITEM_COLUMNS];
    item_params(p, transfer_id, customer, to, error);
    int rc = db_exec(db, ITEM_INSERT "(?,?,?,?,?,?,?)", p, ARRAY_LEN(p), NULL, &insert_id);
    *id = (long long)insert_id;
    return rc;
}

int repo_items_insert(struct db *db, long long transfer_id, json_t *customers, const long long *to)
{
    size_t n = json_array_size(customers);
    struct db_param *p = xcalloc(n ? ITEM_COLUMNS * n : 1, sizeof(*p));
    for (size_t i = 0; i < n; i++)
        item_params(&p[ITEM_COLUMNS * i], transfer_id, json_array_get(customers, i), to[i], NULL);
    int rc = n ? db_insert_rows(db, ITEM_INSERT, "(?,?,?,?,?,?,?)", ITEM_COLUMNS, p, n) : 0;
    free(p);
    return rc;
}

#define NAME_OF(alias, col) " LEFT JOIN scope_users " alias " ON " alias ".user_id = " col

#define TRANSFER_COLUMNS                                                                           \
    "t.id, t.kind, t.status, t.reason, t.operator_id,"                                             \
    " COALESCE(op.display_name, '') AS operator_name, t.from_manager_id,"                          \
    " COALESCE(fm.display_name, '') AS from_manager_name, t.receivers, t.filter, t.total,"         \
    " t.done, t.failed, t.created_at, t.updated_at, t.finished_at"

#define TRANSFER_JOINS NAME_OF("op", "t.operator_id") NAME_OF("fm", "t.from_manager_id")

/* the receivers' names, in the order of their ids (a hand-over's list) */
#define RECEIVER_NAMES                                                                             \
    " (SELECT JSON_ARRAYAGG(COALESCE(su.display_name, '') ORDER BY r.n)"                           \
    " FROM JSON_TABLE(t.receivers, '$[*]' COLUMNS (n FOR ORDINALITY, uid BIGINT PATH '$')) r"      \
    " LEFT JOIN scope_users su ON su.user_id = r.uid) AS receiver_names"

/* receivers, filter and receiver_names are JSON texts in the row: arrays and objects in the API */
static void transfer_row_fix(json_t *row)
{
    static const char *const keys[] = {"receivers", "filter", "receiver_names"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        json_t *text = json_object_get(row, keys[i]);
        if (text == NULL)
            continue;
        json_t *v = json_loads(json_string_value(text), 0, NULL);
        json_object_set_new(row, keys[i], v ? v : json_null());
    }
}

/* A transfer the caller may read: its operator's, or one whose customers the caller's scope
 * covers (given or received by one of its managers). */
static int transfer_scope_where(struct db *db, struct listq *q, struct scope *sc)
{
    if (sc == NULL || sc->kind == SCOPE_ALL)
        return 0;
    struct listq s;
    listq_init(&s);
    if (scope_where_either(db, &s, sc, "ti.from_manager_id", "ti.to_manager_id") != 0)
        return -1;
    char *cond = xasprintf("t.operator_id = ? OR EXISTS (SELECT 1 FROM transfer_items ti"
                           " WHERE ti.transfer_id = t.id AND %s)",
                           listq_sql(&s) + 7);
    struct db_param vals[LISTQ_MAX_PARAMS];
    vals[0] = DBP_INT(sc->user_id);
    memcpy(vals + 1, s.p, s.n * sizeof(vals[0]));
    listq_add(q, cond, vals, s.n + 1);
    free(cond);
    return 0;
}

int repo_transfer_get(struct db *db, struct scope *sc, long long id, json_t **row)
{
    struct listq q;
    char *sql = NULL;
    int rc = -1;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "t.id = ?", &DBP_INT(id), 1);
    if (transfer_scope_where(db, &q, sc) != 0)
        goto out;
    sql = xasprintf("SELECT " TRANSFER_COLUMNS " FROM transfers t" TRANSFER_JOINS "%s",
                    listq_sql(&q));
    rc = db_query_one(db, sql, q.p, q.n, row);
    if (rc == 0 && *row)
        transfer_row_fix(*row);
out:
    free(sql);
    return rc;
}

static const struct listq_spec handovers_spec = {
    .from = "transfers t",
    .id = "t.id",
    .columns = TRANSFER_COLUMNS "," RECEIVER_NAMES,
    .joins = TRANSFER_JOINS,
};

int repo_handovers_list(struct db *db, struct scope *sc, const struct listq_page *pg,
                        struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, "t.kind = 'handover'", NULL, 0);
    if (transfer_scope_where(db, &q, sc) != 0 || listq_run(db, &handovers_spec, &q, pg, out) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(out->items, i, row)
    {
        transfer_row_fix(row);
    }
    return 0;
}

static const struct listq_spec items_spec = {
    .from = "(transfer_items ti JOIN transfers t ON t.id = ti.transfer_id)",
    .id = "ti.id",
    .columns = "ti.id, ti.transfer_id, ti.customer_id, ti.customer_name, ti.from_manager_id,"
               " COALESCE(fm.display_name, '') AS from_manager_name, ti.to_manager_id,"
               " COALESCE(tm.display_name, '') AS to_manager_name, ti.status, ti.error,"
               " t.reason, t.kind, t.operator_id, COALESCE(op.display_name, '') AS operator_name,"
               " ti.created_at",
    .joins = NAME_OF("fm", "ti.from_manager_id") NAME_OF("tm", "ti.to_manager_id")
        NAME_OF("op", "t.operator_id"),
};

int repo_items_list(struct db *db, struct scope *sc, const struct item_filter *f,
                    const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_eq_int(&q, "ti.customer_id", f->customer_id);
    listq_eq_int(&q, "ti.transfer_id", f->transfer_id);
    listq_eq_int(&q, "ti.from_manager_id", f->from_manager_id);
    listq_eq_int(&q, "ti.to_manager_id", f->to_manager_id);
    listq_eq_str(&q, "ti.status", f->status);
    if (f->manager_id) /* given or received by */
        listq_add(&q, "(ti.from_manager_id = ? OR ti.to_manager_id = ?)",
                  (struct db_param[]){DBP_INT(f->manager_id), DBP_INT(f->manager_id)}, 2);
    if (f->created_from[0])
        listq_add(&q, "ti.created_at >= ?", &DBP_STR(f->created_from), 1);
    if (f->created_to[0])
        listq_add(&q, "ti.created_at < ?", &DBP_STR(f->created_to), 1);
    static const char *const keyword_cols[] = {"ti.customer_name", "t.reason", NULL};
    listq_contains(&q, keyword_cols, f->keyword);
    if (scope_where_either(db, &q, sc, "ti.from_manager_id", "ti.to_manager_id") != 0)
        return -1;
    return listq_run(db, &items_spec, &q, pg, out);
}

int repo_receivers(struct db *db, struct scope *sc, const char *keyword, const char *role,
                   json_t **rows)
{
    struct listq q;
    static const char *const cols[] = {"su.display_name", "su.username", NULL};
    char *sql = NULL;
    int rc = -1;
    *rows = NULL;
    listq_init(&q);
    listq_add(&q, "su.status = 'enabled'", NULL, 0);
    listq_add(&q, "FIND_IN_SET(?, su.role_codes) > 0", &DBP_STR(role), 1);
    listq_contains(&q, cols, keyword);
    if (sc && scope_where(db, &q, sc, "su.user_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT su.user_id AS id, su.username, su.display_name, su.dept_id,"
                    " COALESCE(d.name, '') AS dept_name FROM scope_users su"
                    " LEFT JOIN scope_depts d ON d.id = su.dept_id%s"
                    " ORDER BY su.display_name, su.user_id LIMIT 20",
                    listq_sql(&q));
    rc = db_query(db, sql, q.p, q.n, rows);
out:
    free(sql);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* hand-over jobs                                                                              */

int repo_job_claim(struct db *db, const char *owner, int lease_s, int keep_s, json_t **job)
{
    json_t *row = NULL;
    int rc = -1;
    *job = NULL;
    struct db_param own[] = {DBP_STR(owner), DBP_INT(keep_s), DBP_STR(owner)};
    if (db_query_one(db,
                     "SELECT id, status = 'running' AND lease_owner = ?"
                     " AND lease_until > CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND AS kept"
                     " FROM transfers WHERE status IN ('queued', 'running')"
                     " AND (lease_until IS NULL OR lease_until < CURRENT_TIMESTAMP(3)"
                     " OR lease_owner = ?) ORDER BY id LIMIT 1",
                     own, ARRAY_LEN(own), &row) != 0)
        return -1;
    if (row == NULL)
        return 0;
    long long id = json_integer_value(json_object_get(row, "id"));
    bool kept = json_integer_value(json_object_get(row, "kept")) == 1;
    json_decref(row);
    uint64_t affected = 1;
    /* our lease, long enough still: no write (a round of a hand-over then commits once) */
    if (!kept) {
        affected = 0;
        struct db_param p[] = {DBP_STR(owner), DBP_INT(lease_s), DBP_INT(id), DBP_STR(owner)};
        if (db_exec(db,
                    "UPDATE transfers SET status = 'running', lease_owner = ?,"
                    " lease_until = CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND"
                    " WHERE id = ? AND status IN ('queued', 'running')"
                    " AND (lease_until IS NULL OR lease_until < CURRENT_TIMESTAMP(3)"
                    " OR lease_owner = ?)",
                    p, ARRAY_LEN(p), &affected, NULL) != 0)
            return -1;
    }
    if (affected == 0)
        return 0; /* another instance took it between the two */
    rc = db_query_one(db,
                      "SELECT id, reason, operator_id, operator_scope, from_manager_id, receivers,"
                      " filter, next_receiver, cursor_id, total, done, failed FROM transfers"
                      " WHERE id = ?",
                      &DBP_INT(id), 1, job);
    if (rc == 0 && *job)
        transfer_row_fix(*job);
    return rc;
}

int repo_job_progress(struct db *db, long long id, long long cursor, long long next_receiver,
                      long long done, long long failed, const char *status)
{
    struct db_param p[] = {DBP_INT(cursor), DBP_INT(next_receiver), DBP_INT(done), DBP_INT(failed),
                           DBP_STR(status), DBP_STR(status),        DBP_INT(id)};
    return db_exec(db,
                   "UPDATE transfers SET cursor_id = ?, next_receiver = ?, done = ?, failed = ?,"
                   " status = ?, finished_at = IF(? = 'done', CURRENT_TIMESTAMP(3), NULL),"
                   " lease_until = IF(status = 'done', NULL, lease_until) WHERE id = ?",
                   p, ARRAY_LEN(p), NULL, NULL);
}
