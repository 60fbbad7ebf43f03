/* SPDX-License-Identifier: Apache-2.0 */
/* repo_contacts: every SQL statement on contacts (联系人). A contact is always read joined to
 * its live customer (deleted_at IS NULL) and in the caller's scope on that customer's manager:
 * a customer in the recycle bin hides its contacts everywhere, and restoring it brings them
 * back without a write. */
#include "customer.h"
#include "rules.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTACT_COLUMNS                                                                            \
    "ct.id, ct.customer_id, c.name AS customer_name, c.manager_id, ct.name, ct.gender,"            \
    " ct.position, ct.decision_maker, ct.reports_to, rt.name AS reports_to_name, ct.mobile,"       \
    " ct.telephone, ct.email, ct.wechat, ct.birth_year, ct.birth_month, ct.birth_day,"             \
    " ct.address, ct.notes, ct.is_primary, ct.created_by,"                                         \
    " COALESCE(cb.display_name, '') AS created_by_name, ct.created_at, ct.updated_at,"             \
    " ct.version"
/* parenthesised: listq joins the page's ids back to it as one table */
#define CONTACT_FROM "(contacts ct JOIN customers c ON c.id = ct.customer_id)"
#define CONTACT_JOINS                                                                              \
    " LEFT JOIN contacts rt ON rt.id = ct.reports_to"                                              \
    " LEFT JOIN scope_users cb ON cb.user_id = ct.created_by"
#define CONTACT_LIVE "c.deleted_at IS NULL"

/* The columns a create and an edit write, in the order of the statements below; 'num' ones
 * are integers (NULL when null), the others strings. */
static const struct {
    const char *name;
    bool num;
} contact_cols[] = {
    {"name", false},       {"name_search", false},   {"gender", false},
    {"position", false},   {"decision_maker", true}, {"reports_to", true},
    {"mobile", false},     {"telephone", false},     {"telephone_digits", false},
    {"email", false},      {"wechat", false},        {"birth_year", true},
    {"birth_month", true}, {"birth_day", true},      {"address", false},
    {"notes", false},      {"is_primary", true},
};
enum { NCOLS = ARRAY_LEN(contact_cols) };

static void cols_params(json_t *v, struct db_param *p)
{
    for (size_t i = 0; i < NCOLS; i++) {
        json_t *x = json_object_get(v, contact_cols[i].name);
        p[i] = contact_cols[i].num ? db_param_json_int(x) : db_param_json_str(x);
    }
}

/* The rows as the API shows them: booleans, "primary", the birthday as "YYYY-MM-DD", "MM-DD"
 * or null. */
static void contact_rows_fix(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_int_t y = json_integer_value(json_object_get(r, "birth_year"));
        json_int_t m = json_integer_value(json_object_get(r, "birth_month"));
        json_int_t d = json_integer_value(json_object_get(r, "birth_day"));
        char b[16];
        if (y > 0)
            snprintf(b, sizeof(b), "%04d-%02d-%02d", (int)y % 10000, (int)m % 100, (int)d % 100);
        else
            snprintf(b, sizeof(b), "%02d-%02d", (int)m % 100, (int)d % 100);
        json_object_set_new(r, "birthday", m > 0 ? json_string(b) : json_null());
        json_object_del(r, "birth_year");
        json_object_del(r, "birth_month");
        json_object_del(r, "birth_day");
        json_object_set_new(r, "decision_maker",
                            json_boolean(json_integer_value(json_object_get(r, "decision_maker"))));
        json_object_set_new(r, "primary",
                            json_boolean(json_integer_value(json_object_get(r, "is_primary"))));
        json_object_del(r, "is_primary");
    }
}

/* The contacts of 'q' (WHERE), sorted by 'order', into '*rows'. */
static int contacts_select(struct db *db, struct listq *q, const char *order, json_t **rows)
{
    char *sql = xasprintf("SELECT " CONTACT_COLUMNS " FROM " CONTACT_FROM CONTACT_JOINS "%s%s",
                          listq_sql(q), order);
    int rc = db_query(db, sql, q->p, q->n, rows);
    free(sql);
    if (rc == 0)
        contact_rows_fix(*rows);
    return rc;
}

int repo_contact_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
{
    struct listq q;
    json_t *rows = NULL;
    int rc = -1;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "ct.id = ?", &DBP_INT(id), 1);
    listq_add(&q, CONTACT_LIVE, NULL, 0);
    if (sc && scope_where(db, &q, sc, "c.manager_id", NULL) != 0)
        goto out;
    /* every write on a customer's contacts locks the customer first (repo_customer_get): the
     * primary switch and the reports-to chain are then the writer's alone */
    if (lock) {
        if (db_query(db, "SELECT customer_id FROM contacts WHERE id = ?", &DBP_INT(id), 1, &rows) !=
            0)
            goto out;
        json_t *cid = json_object_get(json_array_get(rows, 0), "customer_id");
        json_t *parent = NULL;
        if (cid && repo_customer_get(db, NULL, json_integer_value(cid), false, true, &parent) != 0)
            goto out;
        json_decref(parent);
        json_decref(rows);
        rows = NULL;
    }
    if (contacts_select(db, &q, "", &rows) != 0)
        goto out;
    *row = json_incref(json_array_get(rows, 0));
    rc = 0;
out:
    json_decref(rows);
    return rc;
}

int repo_contacts_of(struct db *db, long long customer_id, json_t **rows)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, "ct.customer_id = ?", &DBP_INT(customer_id), 1);
    listq_add(&q, CONTACT_LIVE, NULL, 0);
    return contacts_select(db, &q, " ORDER BY ct.is_primary DESC, ct.id", rows);
}

int repo_contact_primary(struct db *db, long long customer_id, json_t **row)
{
    struct listq q;
    json_t *rows = NULL;
    listq_init(&q);
    listq_add(&q, "ct.primary_of = ?", &DBP_INT(customer_id), 1);
    int rc = contacts_select(db, &q, "", &rows);
    *row = rc == 0 ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    return rc;
}

int repo_contact_ids(struct db *db, enum contact_ids which, long long id, json_t **ids)
{
    static const char *const sql[] = {
        [CONTACT_IDS_REPORTERS] = "SELECT id FROM contacts WHERE reports_to = ? ORDER BY id",
        [CONTACT_IDS_OLDEST] = "SELECT id FROM contacts WHERE customer_id = ? ORDER BY id LIMIT 1",
    };
    return db_query(db, sql[which], &DBP_INT(id), 1, ids);
}

int repo_contact_belongs(struct db *db, long long id, long long customer_id, bool *belongs)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_INT(id), DBP_INT(customer_id)};
    int rc =
        db_query_one(db, "SELECT id FROM contacts WHERE id = ? AND customer_id = ?", p, 2, &row);
    *belongs = row != NULL;
    json_decref(row);
    return rc;
}

int repo_contact_reports_up(struct db *db, long long from, long long target, bool *reaches)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_INT(from), DBP_INT(target)};
    /* UNION (not UNION ALL) ends the walk on a cycle, should one ever be stored */
    int rc = db_query_one(db,
                          "WITH RECURSIVE up (id, reports_to) AS (SELECT id, reports_to FROM"
                          " contacts WHERE id = ? UNION SELECT k.id, k.reports_to FROM contacts k"
                          " JOIN up ON k.id = up.reports_to) SELECT id FROM up WHERE id = ?",
                          p, 2, &row);
    *reaches = row != NULL;
    json_decref(row);
    return rc;
}

int repo_contact_insert(struct db *db, json_t *v, long long *id)
{
    struct db_param p[NCOLS + 2];
    uint64_t insert_id = 0;
    p[0] = db_param_json_int(json_object_get(v, "customer_id"));
    cols_params(v, p + 1);
    p[NCOLS + 1] = db_param_json_int(json_object_get(v, "created_by"));
    if (db_exec(db,
                "INSERT INTO contacts (customer_id, name, name_search, gender, position,"
                " decision_maker, reports_to, mobile, telephone, telephone_digits, email, wechat,"
                " birth_year, birth_month, birth_day, address, notes, is_primary, created_by)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                p, ARRAY_LEN(p), NULL, &insert_id) != 0)
        return -1;
    *id = (long long)insert_id;
    return 0;
}

int repo_contact_update(struct db *db, long long id, long long version, json_t *v,
                        uint64_t *affected)
{
    struct db_param p[NCOLS + 2];
    cols_params(v, p);
    p[NCOLS] = DBP_INT(id);
    p[NCOLS + 1] = DBP_INT(version);
    return db_exec(db,
                   "UPDATE contacts SET name = ?, name_search = ?, gender = ?, position = ?,"
                   " decision_maker = ?, reports_to = ?, mobile = ?, telephone = ?,"
                   " telephone_digits = ?, email = ?, wechat = ?, birth_year = ?,"
                   " birth_month = ?, birth_day = ?, address = ?, notes = ?, is_primary = ?,"
                   " version = version + 1 WHERE id = ? AND version = ?",
                   p, ARRAY_LEN(p), affected, NULL);
}

int repo_contact_set(struct db *db, long long id, enum contact_set what)
{
    static const char *const sql[] = {
        [CONTACT_SET_PRIMARY] = "UPDATE contacts SET is_primary = 1, version = version + 1"
                                " WHERE id = ?",
        [CONTACT_SET_NOT_PRIMARY] = "UPDATE contacts SET is_primary = 0, version = version + 1"
                                    " WHERE id = ?",
        [CONTACT_SET_NO_REPORTS_TO] = "UPDATE contacts SET reports_to = NULL,"
                                      " version = version + 1 WHERE id = ?",
    };
    return db_exec(db, sql[what], &DBP_INT(id), 1, NULL, NULL);
}

int repo_contact_delete(struct db *db, long long id)
{
    return db_exec(db, "DELETE FROM contacts WHERE id = ?", &DBP_INT(id), 1, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* the keyword, the list                                                                       */

/* Whether 'keyword' (folded) is a phone number's start: digits (3 or more) and + - ( ). */
static bool phone_keyword(const char *folded, char digits[32])
{
    rules_digits(folded, digits, 32);
    return strlen(digits) >= 3 && strspn(folded, "0123456789+-()") == strlen(folded);
}

int repo_contacts_match(struct db *db, const char *folded, bool *any)
{
    char digits[32], pat[RULES_NAME_BYTES + 2];
    json_t *row = NULL;
    int rc;
    *any = false;
    if (phone_keyword(folded, digits)) {
        struct db_param p[] = {DBP_STR(digits), DBP_STR(digits)};
        rc = db_query_one(db,
                          "SELECT id FROM contacts WHERE mobile LIKE CONCAT(?, '%') UNION ALL"
                          " SELECT id FROM contacts WHERE telephone_digits LIKE CONCAT(?, '%')"
                          " LIMIT 1",
                          p, 2, &row);
    } else {
        struct listq q; /* for its LIKE escape */
        listq_init(&q);
        snprintf(pat, sizeof(pat), "%s", listq_like(&q, folded, false, true));
        rc = db_query_one(db, "SELECT id FROM contacts WHERE name_search LIKE ? LIMIT 1",
                          &DBP_STR(pat), 1, &row);
    }
    *any = row != NULL;
    json_decref(row);
    return rc;
}

static const struct listq_spec contacts_spec = {
    .from = CONTACT_FROM,
    .id = "ct.id",
    .columns = CONTACT_COLUMNS,
    .joins = CONTACT_JOINS,
};

int repo_contacts_list(struct db *db, struct scope *sc, const struct contact_filter *f,
                       const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    char folded[RULES_NAME_BYTES], digits[32];
    listq_init(&q);
    listq_add(&q, CONTACT_LIVE, NULL, 0);
    rules_name_fold(f->keyword, folded);
    if (folded[0] && phone_keyword(folded, digits)) {
        const char *d = listq_copy(&q, digits); /* digits need no LIKE escape */
        struct db_param vals[] = {DBP_STR(d), DBP_STR(d)};
        listq_add(&q, "ct.mobile LIKE CONCAT(?, '%') OR ct.telephone_digits LIKE CONCAT(?, '%')",
                  vals, 2);
    } else {
        listq_prefix(&q, "ct.name_search", folded);
    }
    listq_eq_int(&q, "ct.customer_id", f->customer_id);
    if (f->decision_maker >= 0)
        listq_add(&q, "ct.decision_maker = ?", &DBP_INT(f->decision_maker), 1);
    listq_eq_int(&q, "ct.birth_month", f->birthday_month);
    if (scope_where(db, &q, sc, "c.manager_id", NULL) != 0 ||
        listq_run(db, &contacts_spec, &q, pg, out) != 0)
        return -1;
    contact_rows_fix(out->items);
    return 0;
}
