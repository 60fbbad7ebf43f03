/* SPDX-License-Identifier: Apache-2.0 */
/* repo_care: every SQL statement of the care service on its tables (tasks, plans, contacts,
 * scan days) and on libcrm's customer_owners. */
#include "care.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* tasks                                                                                       */

#define TASK_COLUMNS                                                                               \
    "t.id, t.kind, t.plan_id, t.occurrence, t.birthday_year, t.customer_id,"                       \
    " COALESCE(o.name, '') AS customer_name, t.contact_id, COALESCE(cc.name, '') AS contact_name," \
    " t.manager_id, COALESCE(su.display_name, '') AS manager_name, t.care_type, t.title,"          \
    " t.planned_at, t.status, t.content, t.done_at, t.feedback, t.satisfaction,"                   \
    " t.cancel_reason, t.cancelled_by_system, t.due_notified, t.created_by, t.created_at,"         \
    " t.updated_at, t.version"
#define TASK_JOINS                                                                                 \
    " LEFT JOIN customer_owners o ON o.customer_id = t.customer_id"                                \
    " LEFT JOIN care_contacts cc ON cc.contact_id = t.contact_id"                                  \
    " LEFT JOIN scope_users su ON su.user_id = t.manager_id"

/* the flags as booleans, and 'overdue' (pending past its time) */
static void task_rows_fix(json_t *rows, const char *now)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(
            r, "cancelled_by_system",
            json_boolean(json_integer_value(json_object_get(r, "cancelled_by_system"))));
        json_object_set_new(r, "due_notified",
                            json_boolean(json_integer_value(json_object_get(r, "due_notified"))));
        const char *planned = json_string_value(json_object_get(r, "planned_at"));
        const char *status = json_string_value(json_object_get(r, "status"));
        json_object_set_new(r, "overdue",
                            json_boolean(status && strcmp(status, "pending") == 0 && planned &&
                                         strcmp(planned, now) < 0));
    }
}

/* Now as an RFC 3339 text comparable with the rows' times (both "...Z" of the same shape up to
 * the seconds). */
static void now_rfc3339(char out[32])
{
    util_format_time(util_wall_s(), out, 32);
}

static const struct listq_spec tasks_spec = {
    .from = "care_tasks t",
    .id = "t.id",
    .columns = TASK_COLUMNS,
    .joins = TASK_JOINS,
};

int repo_tasks_list(struct db *db, struct scope *sc, const struct task_filter *f,
                    const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    char now[32];
    listq_init(&q);
    if (f->mine)
        listq_add(&q, "t.manager_id = ?", &DBP_INT(f->me), 1);
    listq_eq_int(&q, "t.manager_id", f->manager_id);
    listq_eq_int(&q, "t.customer_id", f->customer_id);
    listq_eq_int(&q, "t.contact_id", f->contact_id);
    listq_eq_int(&q, "t.plan_id", f->plan_id);
    listq_eq_str(&q, "t.kind", f->kind);
    listq_eq_str(&q, "t.care_type", f->care_type);
    if (strcmp(f->view, "today") == 0) {
        listq_add(&q, "t.status = 'pending' AND t.planned_at >= ? AND t.planned_at < ?",
                  (struct db_param[]){DBP_STR(f->day_start), DBP_STR(f->day_end)}, 2);
    } else if (strcmp(f->view, "overdue") == 0) {
        listq_add(&q, "t.status = 'pending' AND t.planned_at < ?", &DBP_STR(f->day_start), 1);
    } else if (strcmp(f->view, "upcoming") == 0) {
        listq_add(&q, "t.status = 'pending' AND t.planned_at >= ?", &DBP_STR(f->day_end), 1);
    } else if (strcmp(f->view, "pending") == 0) {
        listq_add(&q, "t.status = 'pending'", NULL, 0);
    } else if (strcmp(f->view, "done") == 0) {
        listq_add(&q, "t.status = 'done'", NULL, 0);
    } else if (strcmp(f->view, "cancelled") == 0) {
        listq_add(&q, "t.status = 'cancelled'", NULL, 0);
    }
    if (f->from[0])
        listq_add(&q, "t.planned_at >= ?", &DBP_STR(f->from), 1);
    if (f->to[0])
        listq_add(&q, "t.planned_at < ?", &DBP_STR(f->to), 1);
    if (scope_where(db, &q, sc, "t.manager_id", NULL) != 0 ||
        listq_run(db, &tasks_spec, &q, pg, out) != 0)
        return -1;
    now_rfc3339(now);
    task_rows_fix(out->items, now);
    return 0;
}

int repo_task_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
{
    struct listq q;
    char now[32];
    json_t *locked = NULL;
    *row = NULL;
    /* the task's row alone is locked (not the joined projections' rows the consumer writes) */
    if (lock && db_query_one(db, "SELECT id FROM care_tasks WHERE id = ? FOR UPDATE", &DBP_INT(id),
                             1, &locked) != 0)
        return -1;
    json_decref(locked);
    listq_init(&q);
    listq_add(&q, "t.id = ?", &DBP_INT(id), 1);
    if (sc && scope_where(db, &q, sc, "t.manager_id", NULL) != 0)
        return -1;
    char *sql =
        xasprintf("SELECT " TASK_COLUMNS " FROM care_tasks t" TASK_JOINS "%s", listq_sql(&q));
    int rc = db_query_one(db, sql, q.p, q.n, row);
    free(sql);
    if (rc == 0 && *row) {
        json_t *one = json_pack("[O]", *row);
        now_rfc3339(now);
        task_rows_fix(one, now);
        json_decref(one);
    }
    return rc;
}

int repo_task_counts(struct db *db, long long manager_id, const char *day_start,
                     const char *day_end, const char *month_start, json_t **row)
{
    /* range reads of the manager's entries of ix_care_tasks_manager */
    struct db_param p[] = {
        DBP_INT(manager_id), DBP_STR(day_start),  DBP_STR(day_end),
        DBP_INT(manager_id), DBP_STR(day_start),  DBP_INT(manager_id),
        DBP_STR(day_end),    DBP_INT(manager_id), DBP_STR(month_start),
    };
    return db_query_one(
        db,
        "SELECT (SELECT COUNT(*) FROM care_tasks WHERE manager_id = ? AND status = 'pending'"
        " AND planned_at >= ? AND planned_at < ?) AS today,"
        " (SELECT COUNT(*) FROM care_tasks WHERE manager_id = ? AND status = 'pending'"
        " AND planned_at < ?) AS overdue,"
        " (SELECT COUNT(*) FROM care_tasks WHERE manager_id = ? AND status = 'pending'"
        " AND planned_at >= ?) AS upcoming,"
        " (SELECT COUNT(*) FROM care_tasks WHERE manager_id = ? AND status = 'done'"
        " AND done_at >= ?) AS done_month",
        p, ARRAY_LEN(p), row);
}

int repo_done_per_week(struct db *db, long long manager_id, const char *week_end, int weeks,
                       json_t **rows)
{
    struct db_param p[] = {DBP_STR(week_end), DBP_INT(manager_id), DBP_STR(week_end),
                           DBP_INT(weeks * 7), DBP_STR(week_end)};
    return db_query(db,
                    "SELECT FLOOR(TIMESTAMPDIFF(DAY, done_at, ?) / 7) AS weeks_ago,"
                    " COUNT(*) AS done FROM care_tasks WHERE manager_id = ? AND status = 'done'"
                    " AND done_at >= ? - INTERVAL ? DAY AND done_at < ?"
                    " GROUP BY weeks_ago ORDER BY weeks_ago",
                    p, ARRAY_LEN(p), rows);
}

static const char *const task_insert_cols[] = {
    "kind",       "plan_id",   "occurrence", "birthday_year", "customer_id", "contact_id",
    "manager_id", "care_type", "title",      "planned_at",    "content",     "created_by",
};

int repo_task_insert(struct db *db, json_t *v, long long *id)
{
    struct db_param p[ARRAY_LEN(task_insert_cols)];
    for (size_t i = 0; i < ARRAY_LEN(task_insert_cols); i++) {
        json_t *x = json_object_get(v, task_insert_cols[i]);
        p[i] = json_is_integer(x)  ? DBP_INT(json_integer_value(x))
               : json_is_string(x) ? DBP_STR(json_string_value(x))
                                   : DBP_NULL;
    }
    if (p[10].type == DB_NULL)
        p[10] = DBP_STR("");
    uint64_t affected = 0, insert_id = 0;
    int rc = db_exec(db,
                     "INSERT IGNORE INTO care_tasks (kind, plan_id, occurrence, birthday_year,"
                     " customer_id, contact_id, manager_id, care_type, title, planned_at, content,"
                     " created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     p, ARRAY_LEN(p), &affected, &insert_id);
    *id = affected ? (long long)insert_id : 0;
    return rc;
}

static const char *const task_update_cols[] = {
    "status",     "content",       "feedback",  "satisfaction",
    "done_at",    "cancel_reason", "care_type", "cancelled_by_system",
    "manager_id",
};

int repo_task_update(struct db *db, long long id, long long version, json_t *v, uint64_t *affected)
{
    char set[512] = "";
    struct db_param p[ARRAY_LEN(task_update_cols) + 2];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(task_update_cols); i++) {
        json_t *x = json_object_get(v, task_update_cols[i]);
        if (x == NULL)
            continue;
        size_t len = strlen(set);
        snprintf(set + len, sizeof(set) - len, "%s = ?, ", task_update_cols[i]);
        p[n++] = json_is_integer(x)   ? DBP_INT(json_integer_value(x))
                 : json_is_string(x)  ? DBP_STR(json_string_value(x))
                 : json_is_boolean(x) ? DBP_INT(json_is_true(x))
                                      : DBP_NULL;
    }
    p[n++] = DBP_INT(id);
    p[n++] = DBP_INT(version);
    char *sql = xasprintf("UPDATE care_tasks SET %sversion = version + 1 WHERE id = ?"
                          " AND version = ?",
                          set);
    int rc = db_exec(db, sql, p, n, affected, NULL);
    free(sql);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* contacts and customers (the projections)                                                   */

#define CONTACT_COLUMNS                                                                            \
    "cc.contact_id, cc.customer_id, cc.name, o.name AS customer_name, o.manager_id"

int repo_contact_get(struct db *db, struct scope *sc, long long contact_id, json_t **row)
{
    struct listq q;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "cc.contact_id = ? AND cc.deleted = 0 AND o.deleted = 0", &DBP_INT(contact_id),
              1);
    if (sc && scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        return -1;
    char *sql = xasprintf("SELECT " CONTACT_COLUMNS " FROM care_contacts cc JOIN customer_owners o"
                          " ON o.customer_id = cc.customer_id%s",
                          listq_sql(&q));
    int rc = db_query_one(db, sql, q.p, q.n, row);
    free(sql);
    return rc;
}

int repo_customer_get(struct db *db, struct scope *sc, long long id, json_t **row)
{
    struct listq q;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "o.customer_id = ? AND o.deleted = 0", &DBP_INT(id), 1);
    if (sc && scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        return -1;
    char *sql = xasprintf("SELECT o.customer_id, o.name, o.manager_id FROM customer_owners o%s",
                          listq_sql(&q));
    int rc = db_query_one(db, sql, q.p, q.n, row);
    free(sql);
    return rc;
}

int repo_contacts_matching(struct db *db, struct scope *sc, json_t *filter, int limit,
                           json_t **rows)
{
    struct listq q;
    *rows = NULL;
    listq_init(&q);
    listq_add(&q, "cc.deleted = 0 AND o.deleted = 0", NULL, 0);
    listq_eq_str(&q, "o.level", json_string_value(json_object_get(filter, "level")));
    listq_eq_str(&q, "o.industry", json_string_value(json_object_get(filter, "industry")));
    listq_eq_int(&q, "o.customer_id", json_integer_value(json_object_get(filter, "customer_id")));
    if (json_is_true(json_object_get(filter, "decision_maker")))
        listq_add(&q, "cc.decision_maker = 1", NULL, 0);
    if (scope_where(db, &q, sc, "o.manager_id", NULL) != 0)
        return -1;
    char *sql = xasprintf("SELECT " CONTACT_COLUMNS " FROM care_contacts cc JOIN customer_owners o"
                          " ON o.customer_id = cc.customer_id%s ORDER BY cc.contact_id LIMIT %d",
                          listq_sql(&q), limit);
    int rc = db_query(db, sql, q.p, q.n, rows);
    free(sql);
    return rc;
}

/* AND to 'q' the live contacts of live customers in 'sc' born within the next 'days' days of
 * 'from' (a local "YYYY-MM-DD"; at most 31), each day as a (month, day) pair. A SELF caller's
 * are also named by cc.manager_id (the copy of the owner: ix_care_contacts_manager_birthday
 * then reads only the caller's contacts); the owner in customer_owners stays the scope. 0 or
 * -1. */
static int birthdays_where(struct db *db, struct listq *q, struct scope *sc, const char *from,
                           int days)
{
    char cond[1024] = "(cc.birth_month, cc.birth_day) IN (";
    struct db_param vals[2 * 32];
    size_t n = 0;
    int y = 0, m = 0, d = 0;
    if (sscanf(from, "%d-%d-%d", &y, &m, &d) != 3)
        return -1;
    listq_add(q, "cc.deleted = 0 AND o.deleted = 0 AND cc.birth_month IS NOT NULL", NULL, 0);
    if (sc->kind == SCOPE_SELF)
        listq_add(q, "cc.manager_id = ?", &DBP_INT(sc->user_id), 1);
    for (int i = 0; i < days && i < 31; i++) {
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + i, .tm_hour = 12};
        time_t t = timegm(&tm);
        struct tm u;
        gmtime_r(&t, &u);
        strcat(cond, i ? ",(?,?)" : "(?,?)");
        vals[n++] = DBP_INT(u.tm_mon + 1);
        vals[n++] = DBP_INT(u.tm_mday);
    }
    strcat(cond, ")");
    listq_add(q, cond, vals, n);
    return scope_where(db, q, sc, "o.manager_id", NULL);
}

int repo_birthdays(struct db *db, struct scope *sc, const char *from, int days, json_t **rows)
{
    struct listq q;
    *rows = NULL;
    listq_init(&q);
    if (birthdays_where(db, &q, sc, from, days) != 0)
        return -1;
    char *sql = xasprintf(
        "SELECT cc.contact_id, cc.name, cc.customer_id, o.name AS customer_name, o.manager_id,"
        " cc.birth_month, cc.birth_day, cc.birth_year FROM care_contacts cc"
        " JOIN customer_owners o ON o.customer_id = cc.customer_id%s LIMIT 200",
        listq_sql(&q));
    int rc = db_query(db, sql, q.p, q.n, rows);
    free(sql);
    return rc;
}

int repo_birthday_count(struct db *db, struct scope *sc, const char *from, int days,
                        long long *count)
{
    struct listq q;
    json_t *row = NULL;
    *count = 0;
    listq_init(&q);
    if (birthdays_where(db, &q, sc, from, days) != 0)
        return -1;
    char *sql = xasprintf("SELECT COUNT(*) AS n FROM care_contacts cc"
                          " JOIN customer_owners o ON o.customer_id = cc.customer_id%s",
                          listq_sql(&q));
    int rc = db_query_one(db, sql, q.p, q.n, &row);
    free(sql);
    if (rc == 0 && row)
        *count = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return rc;
}

int repo_contacts_owner_sync(struct db *db, long long customer_id)
{
    return db_exec(
        db,
        "UPDATE care_contacts cc JOIN customer_owners o ON o.customer_id = cc.customer_id"
        " SET cc.manager_id = o.manager_id"
        " WHERE cc.customer_id = ? AND cc.manager_id <> o.manager_id",
        &DBP_INT(customer_id), 1, NULL, NULL);
}
