/* SPDX-License-Identifier: Apache-2.0 */
/* repo_followups: every SQL statement on follow-ups and the contacts who took part, and the
 * customer columns a follow-up or a transfer moves (last and next contact, follow-up status,
 * owner), and the to-do counts. */
#include "followups.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* A follow-up with its live customer: the scope is on the customer's manager, and a customer
 * in the recycle bin takes its follow-ups along (the condition c.deleted_at IS NULL). */
#define FOLLOWUP_FROM "(followups f JOIN customers c ON c.id = f.customer_id)"
#define FOLLOWUP_COLUMNS                                                                           \
    "f.id, f.customer_id, c.name AS customer_name, c.manager_id, f.contact_at, f.method,"          \
    " f.content, f.next_contact_at, f.author_id, COALESCE(su.display_name, '') AS author_name,"    \
    " f.created_at, f.updated_at, f.version,"                                                      \
    " f.created_at > UTC_TIMESTAMP(3) - INTERVAL " STR(FOLLOWUP_EDIT_HOURS) " HOUR AS fresh"
#define FOLLOWUP_JOINS " LEFT JOIN scope_users su ON su.user_id = f.author_id"

/* "(?,?,...)" of 'n' placeholders into 'out' (room for 2n + 2 bytes). */
static void placeholders(char *out, size_t n)
{
    size_t at = 0;
    out[at++] = '(';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[at++] = ',';
        out[at++] = '?';
    }
    out[at++] = ')';
    out[at] = '\0';
}

/* Each row gets "contacts": [{id, name}] of the contacts who took part (those still there),
 * and "fresh" as a boolean. One query for all the rows. */
static int attach_contacts(struct db *db, json_t *rows)
{
    size_t n = json_array_size(rows), i;
    struct db_param p[LISTQ_PAGE_MAX];
    char marks[2 * LISTQ_PAGE_MAX + 2];
    json_t *row, *found = NULL;
    char *sql = NULL;
    int rc = -1;
    if (n == 0)
        return 0;
    assert(n <= LISTQ_PAGE_MAX);
    json_array_foreach(rows, i, row)
    {
        p[i] = DBP_INT(json_integer_value(json_object_get(row, "id")));
        json_object_set_new(row, "contacts", json_array());
        json_object_set_new(row, "fresh",
                            json_boolean(json_integer_value(json_object_get(row, "fresh"))));
    }
    placeholders(marks, n);
    sql = xasprintf("SELECT fc.followup_id, ct.id, ct.name FROM followup_contacts fc"
                    " JOIN contacts ct ON ct.id = fc.contact_id WHERE fc.followup_id IN %s"
                    " ORDER BY fc.followup_id, ct.id",
                    marks);
    if (db_query(db, sql, p, n, &found) != 0)
        goto out;
    size_t k;
    json_t *fc;
    json_array_foreach(found, k, fc)
    {
        json_int_t fid = json_integer_value(json_object_get(fc, "followup_id"));
        json_array_foreach(rows, i, row)
        {
            if (json_integer_value(json_object_get(row, "id")) == fid)
                json_array_append_new(json_object_get(row, "contacts"),
                                      json_pack("{s:O, s:O}", "id", json_object_get(fc, "id"),
                                                "name", json_object_get(fc, "name")));
        }
    }
    rc = 0;
out:
    free(sql);
    json_decref(found);
    return rc;
}

int repo_followup_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
{
    struct listq q;
    json_t *rows = NULL, *rows2 = NULL;
    char *sql = NULL;
    int rc = -1;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "f.id = ?", &DBP_INT(id), 1);
    listq_add(&q, "c.deleted_at IS NULL", NULL, 0);
    if (sc && scope_where(db, &q, sc, "c.manager_id", NULL) != 0)
        goto out;
    /* the locks are on the rows alone (the names come from projections the consumer must be
     * able to change meanwhile): the customer's first, then the follow-up's, in the order of
     * a create, which locks the customer and then writes follow-ups */
    if (lock) {
        if (db_query_one(db, "SELECT customer_id FROM followups WHERE id = ?", &DBP_INT(id), 1,
                         &rows) != 0)
            goto out;
        long long cid = json_integer_value(json_object_get(rows, "customer_id"));
        json_decref(rows);
        rows = NULL;
        if (db_query(db, "SELECT id FROM customers WHERE id = ? FOR UPDATE", &DBP_INT(cid), 1,
                     &rows) != 0 ||
            db_query(db, "SELECT id FROM followups WHERE id = ? FOR UPDATE", &DBP_INT(id), 1,
                     &rows2) != 0)
            goto out;
    }
    sql = xasprintf("SELECT " FOLLOWUP_COLUMNS " FROM " FOLLOWUP_FROM FOLLOWUP_JOINS "%s",
                    listq_sql(&q));
    json_decref(rows);
    rows = NULL;
    if (db_query(db, sql, q.p, q.n, &rows) != 0 || attach_contacts(db, rows) != 0)
        goto out;
    *row = json_incref(json_array_get(rows, 0));
    rc = 0;
out:
    free(sql);
    json_decref(rows);
    json_decref(rows2);
    return rc;
}

/* A DATETIME text of 'v''s 'field', or NULL when it is null or absent. */
static struct db_param time_param(json_t *v, const char *field)
{
    json_t *x = json_object_get(v, field);
    return json_is_string(x) ? DBP_STR(json_string_value(x)) : DBP_NULL;
}

int repo_followup_insert(struct db *db, json_t *v, long long author, long long *id)
{
    uint64_t insert_id = 0;
    struct db_param p[] = {
        DBP_INT(json_integer_value(json_object_get(v, "customer_id"))),
        time_param(v, "contact_at"),
        DBP_STR(json_string_value(json_object_get(v, "method"))),
        DBP_STR(json_string_value(json_object_get(v, "content"))),
        time_param(v, "next_contact_at"),
        DBP_INT(author),
    };
    if (db_exec(db,
                "INSERT INTO followups (customer_id, contact_at, method, content,"
                " next_contact_at, author_id) VALUES (?,?,?,?,?,?)",
                p, ARRAY_LEN(p), NULL, &insert_id) != 0)
        return -1;
    *id = (long long)insert_id;
    return 0;
}

int repo_followup_update(struct db *db, long long id, long long version, json_t *v,
                         uint64_t *affected)
{
    static const char *const cols[] = {"contact_at", "method", "content", "next_contact_at"};
    struct db_param p[ARRAY_LEN(cols) + 2];
    char set[256] = "", *sql = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(cols); i++) {
        json_t *x = json_object_get(v, cols[i]);
        if (x == NULL)
            continue;
        p[n++] = json_is_string(x) ? DBP_STR(json_string_value(x)) : DBP_NULL;
        snprintf(set + strlen(set), sizeof(set) - strlen(set), "%s = ?, ", cols[i]);
    }
    p[n++] = DBP_INT(id);
    p[n++] = DBP_INT(version);
    sql =
        xasprintf("UPDATE followups SET %sversion = version + 1 WHERE id = ? AND version = ?", set);
    int rc = db_exec(db, sql, p, n, affected, NULL);
    free(sql);
    return rc;
}

int repo_followup_set_contacts(struct db *db, long long id, json_t *ids)
{
    struct db_param p[2 * FOLLOWUP_CONTACTS_MAX];
    size_t i, n = 0;
    json_t *x;
    if (db_exec(db, "DELETE FROM followup_contacts WHERE followup_id = ?", &DBP_INT(id), 1, NULL,
                NULL) != 0)
        return -1;
    json_array_foreach(ids, i, x)
    {
        if (n < FOLLOWUP_CONTACTS_MAX) {
            p[2 * n] = DBP_INT(id);
            p[2 * n + 1] = DBP_INT(json_integer_value(x));
            n++;
        }
    }
    return n ? db_insert_rows(db, "INSERT INTO followup_contacts (followup_id, contact_id) VALUES ",
                              "(?,?)", 2, p, n)
             : 0;
}

int repo_customer_contacts_of(struct db *db, long long customer_id, json_t *ids, json_t **found)
{
    struct db_param p[FOLLOWUP_CONTACTS_MAX + 1];
    char marks[2 * FOLLOWUP_CONTACTS_MAX + 2];
    json_t *rows = NULL, *x;
    size_t i, n = 0;
    char *sql = NULL;
    int rc = -1;
    *found = json_array();
    p[n++] = DBP_INT(customer_id);
    json_array_foreach(ids, i, x)
    {
        if (n <= FOLLOWUP_CONTACTS_MAX)
            p[n++] = DBP_INT(json_integer_value(x));
    }
    if (n == 1) {
        rc = 0;
        goto out;
    }
    placeholders(marks, n - 1);
    sql = xasprintf("SELECT id FROM contacts WHERE customer_id = ? AND id IN %s", marks);
    if (db_query(db, sql, p, n, &rows) != 0)
        goto out;
    json_array_foreach(rows, i, x)
    {
        json_array_append(*found, json_object_get(x, "id"));
    }
    rc = 0;
out:
    free(sql);
    json_decref(rows);
    return rc;
}

static const struct listq_spec followups_spec = {
    .from = FOLLOWUP_FROM,
    .id = "f.id",
    .columns = FOLLOWUP_COLUMNS,
    .joins = FOLLOWUP_JOINS,
};

int repo_followups_list(struct db *db, struct scope *sc, const struct followup_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, "c.deleted_at IS NULL", NULL, 0);
    listq_eq_int(&q, "f.customer_id", f->customer_id);
    listq_eq_int(&q, "f.author_id", f->author_id);
    listq_eq_str(&q, "f.method", f->method);
    if (f->contact_from[0])
        listq_add(&q, "f.contact_at >= ?", &DBP_STR(f->contact_from), 1);
    if (f->contact_to[0])
        listq_add(&q, "f.contact_at < ?", &DBP_STR(f->contact_to), 1);
    if (scope_where(db, &q, sc, "c.manager_id", NULL) != 0 ||
        listq_run(db, &followups_spec, &q, pg, out) != 0)
        return -1;
    return attach_contacts(db, out->items);
}

/* The customer after a follow-up: see repo_customer_follow. Content before time: MariaDB
 * assigns left to right, and neither reads the other. */
static const char FOLLOW_SQL[] =
    "UPDATE customers c SET"
    " c.last_contact_content = COALESCE((SELECT LEFT(l.content, " STR(
        FOLLOWUP_LAST_CONTENT) ")"
                               " FROM followups l WHERE l.customer_id = c.id ORDER BY l.contact_at "
                               "DESC, l.id DESC"
                               " LIMIT 1), ''),"
                               " c.last_contact_at = (SELECT MAX(l.contact_at) FROM followups l "
                               "WHERE l.customer_id = c.id),"
                               " c.next_contact_at = IF(? = 1, ?, IF(? IS NOT NULL AND "
                               "c.next_contact_at <= ?, NULL,"
                               " c.next_contact_at)),"
                               " c.followed_up = IF(? = 1, 1, c.followed_up)"
                               " WHERE c.id = ?";

int repo_customer_follow(struct db *db, long long customer_id, bool set_next, const char *next,
                         const char *met_at, bool followed, bool *changed)
{
    uint64_t affected = 0;
    struct db_param p[] = {
        set_next ? DBP_INT(1) : DBP_INT(0),  next ? DBP_STR(next) : DBP_NULL,
        met_at ? DBP_STR(met_at) : DBP_NULL, met_at ? DBP_STR(met_at) : DBP_NULL,
        DBP_INT(followed ? 1 : 0),           DBP_INT(customer_id),
    };
    *changed = false;
    if (db_exec(db, FOLLOW_SQL, p, ARRAY_LEN(p), &affected, NULL) != 0)
        return -1;
    if (affected == 0)
        return 0;
    *changed = true;
    return db_exec(db, "UPDATE customers SET version = version + 1 WHERE id = ?",
                   &DBP_INT(customer_id), 1, NULL, NULL);
}

int repo_todo_counts(struct db *db, long long manager_id, const char *day_start,
                     const char *day_end, const char *moved_from, json_t **row)
{
    /* four range reads of the manager's index entries, no row read: today and overdue in
     * ix_customers_manager_next, not followed up and moved (owner_time >= ?, with
     * last_transfer_id > 0 checked in the entries) in ix_customers_manager_followed_owner */
    struct db_param p[] = {
        DBP_INT(manager_id), DBP_STR(day_start),  DBP_STR(day_end),    DBP_INT(manager_id),
        DBP_STR(day_start),  DBP_INT(manager_id), DBP_INT(manager_id), DBP_STR(moved_from),
    };
    return db_query_one(db,
                        "SELECT (SELECT COUNT(*) FROM customers WHERE manager_id = ?"
                        " AND deleted_at IS NULL AND next_contact_at >= ? AND next_contact_at < ?)"
                        " AS today, (SELECT COUNT(*) FROM customers WHERE manager_id = ?"
                        " AND deleted_at IS NULL AND next_contact_at < ?) AS overdue,"
                        " (SELECT COUNT(*) FROM customers WHERE manager_id = ?"
                        " AND deleted_at IS NULL AND followed_up = 0) AS not_followed,"
                        " (SELECT COUNT(*) FROM customers WHERE manager_id = ?"
                        " AND deleted_at IS NULL AND followed_up = 0 AND last_transfer_id > 0"
                        " AND owner_time >= ?) AS moved",
                        p, ARRAY_LEN(p), row);
}

/* The live customers of 'manager_id' per value of a column (level, industry), largest first,
 * at most CUSTOMER_NUMBERS_MAX values: [{value, count}]. One index range of the manager
 * (ix_customers_manager_industry holds both columns), no row read. One literal statement a
 * column, so the statement cache keeps each. */
#define NUMBERS_BY(col)                                                                            \
    "SELECT " col " AS value, COUNT(*) AS count FROM customers"                                    \
    " WHERE manager_id = ? AND deleted_at IS NULL GROUP BY " col " ORDER BY count DESC, value"     \
    " LIMIT " NUMBERS_LIMIT
#define NUMBERS_LIMIT_(n)  #n
#define NUMBERS_LIMIT_X(n) NUMBERS_LIMIT_(n)
#define NUMBERS_LIMIT      NUMBERS_LIMIT_X(CUSTOMER_NUMBERS_MAX)

int repo_customer_numbers(struct db *db, long long manager_id, json_t **out)
{
    json_t *row = NULL, *levels = NULL, *industries = NULL;
    int rc = -1;
    *out = NULL;
    if (db_query_one(db,
                     "SELECT COUNT(*) AS customers FROM customers"
                     " WHERE manager_id = ? AND deleted_at IS NULL",
                     &DBP_INT(manager_id), 1, &row) != 0 ||
        row == NULL || db_query(db, NUMBERS_BY("level"), &DBP_INT(manager_id), 1, &levels) != 0 ||
        db_query(db, NUMBERS_BY("industry"), &DBP_INT(manager_id), 1, &industries) != 0)
        goto out;
    json_object_set(row, "by_level", levels);
    json_object_set(row, "by_industry", industries);
    *out = json_incref(row);
    rc = 0;
out:
    json_decref(row);
    json_decref(levels);
    json_decref(industries);
    return rc;
}
