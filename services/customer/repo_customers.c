/* SPDX-License-Identifier: Apache-2.0 */
/* repo_customers: every SQL statement on customers and their keyword index (customer_search). */
#include "customer.h"
#include "rules.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUSTOMER_COLUMNS                                                                           \
    "c.id, c.name, c.credit_code, c.industry, c.source, c.level, c.province, c.city,"              \
    " c.district, c.address, c.telephone, c.mobile, c.email, c.website, c.wechat, c.status,"       \
    " c.deal_status, c.deal_time, c.manager_id, COALESCE(su.display_name, '') AS manager_name,"    \
    " c.owner_time, c.tags, c.notes, c.last_contact_at, c.last_contact_content,"                   \
    " c.next_contact_at, c.followed_up, c.created_by, c.created_at, c.updated_at, c.version,"      \
    " c.deleted_at,"                                                                               \
    " pc.id AS pc_id, pc.name AS pc_name, pc.mobile AS pc_mobile"
#define CUSTOMER_JOINS                                                                             \
    " LEFT JOIN scope_users su ON su.user_id = c.manager_id"                                       \
    " LEFT JOIN contacts pc ON pc.primary_of = c.id" /* its primary contact: one, by a unique key  \
                                                      */

/* How a writable column is bound from the prepared values. */
enum col_kind {
    COL_STR,     /* a string, '' when not given */
    COL_NULLSTR, /* a string, NULL when null or '' (the unique credit code) */
    COL_TIME,    /* a DATETIME text or null */
    COL_INT,     /* an id */
    COL_TAGS,    /* an array of strings, stored as its JSON text */
};

static const struct {
    const char *name;
    enum col_kind kind;
} customer_cols[] = {
    {"name", COL_STR},
    {"name_search", COL_STR},
    {"name_norm", COL_STR},
    {"credit_code", COL_NULLSTR},
    {"industry", COL_STR},
    {"source", COL_STR},
    {"level", COL_STR},
    {"province", COL_STR},
    {"city", COL_STR},
    {"district", COL_STR},
    {"address", COL_STR},
    {"telephone", COL_STR},
    {"telephone_digits", COL_STR},
    {"mobile", COL_STR},
    {"email", COL_STR},
    {"website", COL_STR},
    {"wechat", COL_STR},
    {"status", COL_STR},
    {"deal_status", COL_STR},
    {"deal_time", COL_TIME},
    {"manager_id", COL_INT},
    {"tags", COL_TAGS},
    {"notes", COL_STR},
    {"next_contact_at", COL_TIME},
    {"created_by", COL_INT},
};

/* The bound value of column 'i' from 'v' ('tags_text' keeps the JSON text alive). */
static struct db_param col_param(size_t i, json_t *v, char **tags_text)
{
    json_t *x = json_object_get(v, customer_cols[i].name);
    switch (customer_cols[i].kind) {
    case COL_INT:
        return DBP_INT(json_integer_value(x));
    case COL_TAGS:
        *tags_text = json_dumps(json_is_array(x) ? x : json_array(), JSON_COMPACT);
        return DBP_STR(*tags_text);
    case COL_TIME:
    case COL_NULLSTR:
        return json_is_string(x) && json_string_length(x) > 0 ? DBP_STR(json_string_value(x))
                                                              : DBP_NULL;
    case COL_STR:
    default:
        return DBP_STR(json_is_string(x) ? json_string_value(x) : "");
    }
}

/* The rows as the API shows them: tags as an array, followed_up as a boolean, no deleted_at
 * on a live one. */
static void customer_rows_fix(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *tags = json_loads(json_string_value(json_object_get(r, "tags")), 0, NULL);
        json_object_set_new(r, "tags", json_is_array(tags) ? tags : json_array());
        if (!json_is_array(tags))
            json_decref(tags);
        json_object_set_new(r, "followed_up",
                            json_boolean(json_integer_value(json_object_get(r, "followed_up"))));
        if (json_is_null(json_object_get(r, "deleted_at")))
            json_object_del(r, "deleted_at");
        json_t *pc = json_object_get(r, "pc_id");
        json_object_set_new(r, "primary_contact",
                            json_is_integer(pc) ? json_pack("{s:O, s:O, s:O}", "id", pc, "name",
                                                            json_object_get(r, "pc_name"), "mobile",
                                                            json_object_get(r, "pc_mobile"))
                                                : json_null());
        json_object_del(r, "pc_id");
        json_object_del(r, "pc_name");
        json_object_del(r, "pc_mobile");
    }
}

/* A deal is dated: dealt without a time is dealt now; undealt has no time. */
static int fix_deal_time(struct db *db, long long id)
{
    return db_exec(db,
                   "UPDATE customers SET deal_time = IF(deal_status = 'dealt',"
                   " COALESCE(deal_time, UTC_TIMESTAMP(3)), NULL) WHERE id = ?",
                   &DBP_INT(id), 1, NULL, NULL);
}

int repo_customer_get(struct db *db, struct scope *sc, long long id, bool deleted, bool lock,
                      json_t **row)
{
    struct listq q;
    json_t *rows = NULL;
    char *sql = NULL;
    int rc = -1;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "c.id = ?", &DBP_INT(id), 1);
    listq_add(&q, deleted ? "c.deleted_at IS NOT NULL" : "c.deleted_at IS NULL", NULL, 0);
    if (sc && scope_where(db, &q, sc, "c.manager_id", NULL) != 0)
        goto out;
    /* the lock is on the customer row only (first, alone): the owner's name comes from the
     * projection, which the consumer must be able to change meanwhile */
    if (lock && db_query(db, "SELECT id FROM customers WHERE id = ? FOR UPDATE", &DBP_INT(id), 1,
                         &rows) != 0)
        goto out;
    json_decref(rows);
    rows = NULL;
    sql = xasprintf("SELECT " CUSTOMER_COLUMNS " FROM customers c" CUSTOMER_JOINS "%s",
                    listq_sql(&q));
    if (db_query(db, sql, q.p, q.n, &rows) != 0)
        goto out;
    customer_rows_fix(rows);
    *row = json_incref(json_array_get(rows, 0));
    rc = 0;
out:
    free(sql);
    json_decref(rows);
    return rc;
}

/* The customers of a JSON_TABLE of ids (db_json_ints), as one statement text for any count. */
#define IDS_JOIN                                                                                   \
    " JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j ON j.id = c.id"

int repo_customers_get_many(struct db *db, const long long *ids, size_t n, bool lock, json_t **rows)
{
    char *list = db_json_ints(ids, 1, n);
    json_t *locked = NULL;
    int rc = -1;
    *rows = NULL;
    /* as repo_customer_get: the lock is on the customer rows only, first, alone */
    if (lock && db_query(db, "SELECT c.id FROM customers c" IDS_JOIN " FOR UPDATE", &DBP_STR(list),
                         1, &locked) != 0)
        goto out;
    if (db_query(db,
                 "SELECT " CUSTOMER_COLUMNS
                 ", c.last_transfer_id FROM customers c" IDS_JOIN CUSTOMER_JOINS,
                 &DBP_STR(list), 1, rows) != 0)
        goto out;
    customer_rows_fix(*rows);
    rc = 0;
out:
    free(list);
    json_decref(locked);
    return rc;
}

int repo_customers_transfer(struct db *db, const long long *moves, size_t n)
{
    char *list = db_json_ints(moves, 3, n);
    struct db_param p[] = {DBP_STR(list)};
    int rc = n == 0 ? 0
                    : db_exec(db,
                              "UPDATE customers c JOIN JSON_TABLE(?, '$[*]' COLUMNS ("
                              "id BIGINT UNSIGNED PATH '$[0]', manager_id BIGINT UNSIGNED PATH"
                              " '$[1]', transfer_id BIGINT UNSIGNED PATH '$[2]')) m ON m.id = c.id"
                              " SET c.manager_id = m.manager_id, c.owner_time = UTC_TIMESTAMP(3),"
                              " c.followed_up = 0, c.last_transfer_id = m.transfer_id,"
                              " c.version = c.version + 1 WHERE c.last_transfer_id < m.transfer_id",
                              p, ARRAY_LEN(p), NULL, NULL);
    free(list);
    return rc;
}

int repo_customer_insert(struct db *db, json_t *v, long long *id)
{
    enum { N = ARRAY_LEN(customer_cols) };
    struct db_param p[N];
    char cols[1024] = "", marks[256] = "", *tags = NULL, *sql = NULL;
    uint64_t insert_id = 0;
    int rc = -1;
    for (size_t i = 0; i < N; i++) {
        p[i] = col_param(i, v, &tags);
        snprintf(cols + strlen(cols), sizeof(cols) - strlen(cols), "%s%s", i ? ", " : "",
                 customer_cols[i].name);
        snprintf(marks + strlen(marks), sizeof(marks) - strlen(marks), "%s?", i ? "," : "");
    }
    sql = xasprintf("INSERT INTO customers (%s) VALUES (%s)", cols, marks);
    if (db_exec(db, sql, p, N, NULL, &insert_id) != 0)
        goto out;
    *id = (long long)insert_id;
    if (fix_deal_time(db, *id) != 0 ||
        repo_customer_index(db, *id, json_string_value(json_object_get(v, "name_search")), true) !=
            0)
        goto out;
    rc = 0;
out:
    free(sql);
    free(tags);
    return rc;
}

int repo_customer_update(struct db *db, long long id, long long version, json_t *v,
                         uint64_t *affected)
{
    enum { N = ARRAY_LEN(customer_cols) };
    struct db_param p[N + 2];
    char set[1536] = "", *tags = NULL, *sql = NULL;
    size_t n = 0;
    int rc = -1;
    for (size_t i = 0; i < N; i++) {
        if (json_object_get(v, customer_cols[i].name) == NULL)
            continue;
        p[n++] = col_param(i, v, &tags);
        snprintf(set + strlen(set), sizeof(set) - strlen(set), "%s = ?, ", customer_cols[i].name);
    }
    p[n++] = DBP_INT(id);
    p[n++] = DBP_INT(version);
    sql = xasprintf("UPDATE customers SET %sversion = version + 1 WHERE id = ? AND version = ?"
                    " AND deleted_at IS NULL",
                    set);
    if (db_exec(db, sql, p, n, affected, NULL) != 0 ||
        (*affected > 0 && fix_deal_time(db, id) != 0))
        goto out;
    rc = 0;
out:
    free(sql);
    free(tags);
    return rc;
}

int repo_customer_index(struct db *db, long long id, const char *name_search, bool fresh)
{
    char grams[RULES_GRAMS_MAX][RULES_GRAM_BYTES];
    struct db_param p[RULES_GRAMS_MAX * 2];
    size_t n = rules_bigrams(name_search, grams, RULES_GRAMS_MAX);
    for (size_t i = 0; i < n; i++) {
        p[2 * i] = DBP_STR(grams[i]);
        p[2 * i + 1] = DBP_INT(id);
    }
    if (!fresh && db_exec(db, "DELETE FROM customer_search WHERE customer_id = ?", &DBP_INT(id), 1,
                          NULL, NULL) != 0)
        return -1;
    return n ? db_insert_rows(db, "INSERT INTO customer_search (gram, customer_id) VALUES ",
                              "(?,?)", 2, p, n)
             : 0;
}

int repo_customer_delete(struct db *db, long long id)
{
    return db_exec(db,
                   "UPDATE customers SET deleted_at = UTC_TIMESTAMP(3), version = version + 1"
                   " WHERE id = ? AND deleted_at IS NULL",
                   &DBP_INT(id), 1, NULL, NULL);
}

int repo_customer_restore(struct db *db, long long id)
{
    return db_exec(db,
                   "UPDATE customers SET deleted_at = NULL, version = version + 1"
                   " WHERE id = ? AND deleted_at IS NOT NULL",
                   &DBP_INT(id), 1, NULL, NULL);
}

int repo_customer_duplicates(struct db *db, long long except, const char *credit_code,
                             const char *name_norm, const char *mobile,
                             const char *telephone_digits, json_t **rows)
{
    struct db_param p[] = {
        DBP_STR(credit_code), DBP_STR(name_norm),        DBP_STR(mobile),           DBP_STR(mobile),
        DBP_INT(except),      DBP_STR(credit_code),      DBP_STR(name_norm),        DBP_STR(mobile),
        DBP_STR(mobile),      DBP_STR(telephone_digits), DBP_STR(telephone_digits),
    };
    int rc =
        db_query(db,
                 "SELECT c.id, c.name, COALESCE(su.display_name, '') AS manager_name,"
                 " CASE WHEN c.credit_code = ? THEN 'credit_code'"
                 " WHEN c.name_norm = ? THEN 'name' WHEN ? <> '' AND c.mobile = ? THEN 'mobile'"
                 " ELSE 'telephone' END AS rule, c.deleted_at IS NOT NULL AS deleted"
                 " FROM customers c" CUSTOMER_JOINS " WHERE c.id <> ? AND (c.credit_code = ?"
                 " OR (c.deleted_at IS NULL AND (c.name_norm = ?"
                 " OR (? <> '' AND c.mobile = ?) OR (? <> '' AND c.telephone_digits = ?))))"
                 " ORDER BY c.id LIMIT 5",
                 p, ARRAY_LEN(p), rows);
    size_t i;
    json_t *r;
    json_array_foreach(rc == 0 ? *rows : NULL, i, r)
    {
        json_object_set_new(r, "deleted",
                            json_boolean(json_integer_value(json_object_get(r, "deleted"))));
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* the keyword                                                                                 */

#define GRAM_PROBE_CAP 2000 /* index entries counted per gram when choosing the driving one */

/* A gram in this many customers or more is common (keyword_common_customers; at most
 * GRAM_PROBE_CAP, which counts no further). Set before the service serves, read-only after. */
static long gram_common = GRAM_PROBE_CAP;

void repo_customers_tune(long keyword_common)
{
    gram_common = keyword_common < GRAM_PROBE_CAP ? keyword_common : GRAM_PROBE_CAP;
}
#define GRAMS_CHECKED 4 /* grams the index intersects; the LIKE recheck does the rest */

/* How many customers hold 'gram', counted up to GRAM_PROBE_CAP (a short index range). */
static int gram_frequency(struct db *db, const char *gram, long long *n)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_STR(gram), DBP_INT(GRAM_PROBE_CAP)};
    int rc = db_query_one(db,
                          "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_search WHERE gram = ?"
                          " LIMIT ?) x",
                          p, 2, &row);
    *n = rc == 0 ? json_integer_value(json_object_get(row, "n")) : 0;
    json_decref(row);
    return rc;
}

/* The customer ids of a keyword that contacts match too (contacts_ids): the customers' own
 * matches and the contacts' customers, each from its index, in one derived table that the
 * outer query joins by primary key. */
#define IDS_OPEN     "c.id IN (SELECT x.id FROM ("
#define IDS_CLOSE    ") x)"
#define CONTACT_NAME " UNION SELECT k.customer_id FROM contacts k WHERE k.name_search LIKE ?"
#define CONTACT_PHONE                                                                              \
    " UNION SELECT k.customer_id FROM contacts k WHERE k.mobile LIKE CONCAT(?, '%')"               \
    " UNION SELECT k.customer_id FROM contacts k WHERE k.telephone_digits LIKE CONCAT(?, '%')"

/* One owner's customers whose folded name holds 'folded', or (contacts) one of whose contacts'
 * names starts with it: each row of the owner's index range checked, no keyword index. */
static int owner_like_where(struct listq *q, const char *folded, bool contacts)
{
    static const char *const name_col[] = {"c.name_search", NULL};
    if (!contacts) {
        listq_contains(q, name_col, listq_copy(q, folded));
        return 1;
    }
    struct db_param vals[] = {DBP_STR(listq_like(q, folded, true, true)),
                              DBP_STR(listq_like(q, folded, false, true))};
    listq_add(q,
              "(c.name_search LIKE ? OR c.id IN (SELECT k.customer_id FROM contacts k"
              " WHERE k.name_search LIKE ?))",
              vals, 2);
    return 1;
}

/*
 * AND to 'q' what 'keyword' matches. Digits only (a phone number, at least 3): a prefix of the
 * mobile or of the telephone's digits. Else the folded name holds it: with two characters or
 * more through the bigram index, the rarest gram driving (a probe of at most GRAM_PROBE_CAP
 * index entries each), then rechecked with LIKE, so the match is exact; one character is a
 * LIKE alone (a scan: too short to be selective anyway).
 *
 * A customer is also found by a contact's name (a prefix of the folded name, two characters or
 * more) and by a contact's mobile or telephone (a prefix of the digits). Only when some contact
 * matches at all (one index probe, repo_contacts_match) is the condition the wider union of
 * IDS_OPEN: the common case, a company's name, keeps the plan it had.
 *
 * 'one_owner': the list is one owner's customers (SELF, "mine", a manager filter), read through
 * that owner's indexes. There a keyword whose rarest gram is common (gram_common or more
 * customers: 科技 is in 18% of the names) skips the bigram index and is the LIKE alone, answered
 * from the owner's (manager_id, deleted_at, name_search) entries: the join with the gram's
 * hundreds of thousands of index entries let MariaDB switch, between executions of the same
 * statement, to reading the owner's rows in created_at order to count them (4 ms, then 20-30 ms
 * for the same count, tests/bench/customers). 1 then, else 0 (-1: the database failed).
 */
static int keyword_where(struct db *db, struct listq *q, const char *keyword, bool one_owner)
{
    char folded[RULES_NAME_BYTES], digits[32], grams[RULES_GRAMS_MAX][RULES_GRAM_BYTES];
    static const char *const name_col[] = {"c.name_search", NULL};
    bool contacts = false;
    rules_name_fold(keyword, folded);
    if (folded[0] == '\0')
        return 0;
    rules_digits(folded, digits, sizeof(digits));
    if (strlen(digits) >= 3 && strspn(folded, "0123456789+-()") == strlen(folded)) {
        const char *pat = listq_copy(q, digits); /* digits need no LIKE escape */
        struct db_param vals[] = {DBP_STR(pat), DBP_STR(pat), DBP_STR(pat), DBP_STR(pat)};
        if (repo_contacts_match(db, folded, &contacts) != 0)
            return -1;
        if (contacts)
            listq_add(q,
                      IDS_OPEN "SELECT id FROM customers WHERE mobile LIKE CONCAT(?, '%')"
                               " UNION SELECT id FROM customers WHERE telephone_digits LIKE"
                               " CONCAT(?, '%')" CONTACT_PHONE IDS_CLOSE,
                      vals, 4);
        else
            listq_add(q, "(c.mobile LIKE CONCAT(?, '%') OR c.telephone_digits LIKE CONCAT(?, '%'))",
                      vals, 2);
        return 0;
    }
    size_t n = rules_bigrams(folded, grams, RULES_GRAMS_MAX);
    if (n > 0 && repo_contacts_match(db, folded, &contacts) != 0)
        return -1;
    if (n > 0) {
        long long freq[RULES_GRAMS_MAX] = {0};
        size_t order[RULES_GRAMS_MAX];
        for (size_t i = 0; i < n; i++) {
            if ((n > 1 || one_owner) && gram_frequency(db, grams[i], &freq[i]) != 0)
                return -1;
            order[i] = i;
        }
        for (size_t i = 1; n > 1 && i < n; i++) { /* rarest first (insertion sort, n small) */
            for (size_t j = i; j > 0 && freq[order[j]] < freq[order[j - 1]]; j--) {
                size_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        }
        if (one_owner && freq[order[0]] >= gram_common)
            return owner_like_where(q, folded, contacts);
        size_t used = n < GRAMS_CHECKED ? n : GRAMS_CHECKED;
        char cond[1024];
        struct db_param vals[GRAMS_CHECKED + 2];
        int len = snprintf(cond, sizeof(cond), "%s",
                           contacts ? IDS_OPEN "SELECT g0.customer_id AS id FROM customer_search g0"
                                               " JOIN customers n ON n.id = g0.customer_id WHERE"
                                               " g0.gram = ?"
                                    : "c.id IN (SELECT g0.customer_id FROM customer_search g0"
                                      " WHERE g0.gram = ?");
        vals[0] = DBP_STR(listq_copy(q, grams[order[0]]));
        for (size_t i = 1; i < used; i++) {
            len += snprintf(cond + len, sizeof(cond) - (size_t)len,
                            " AND EXISTS (SELECT 1 FROM customer_search g%zu WHERE g%zu.gram = ?"
                            " AND g%zu.customer_id = g0.customer_id)",
                            i, i, i);
            vals[i] = DBP_STR(listq_copy(q, grams[order[i]]));
        }
        if (contacts) { /* the name's recheck inside, the contacts' names beside it */
            snprintf(cond + len, sizeof(cond) - (size_t)len,
                     " AND n.name_search LIKE ?" CONTACT_NAME IDS_CLOSE);
            vals[used++] = DBP_STR(listq_like(q, folded, true, true));
            vals[used++] = DBP_STR(listq_like(q, folded, false, true));
        } else {
            snprintf(cond + len, sizeof(cond) - (size_t)len, ")");
        }
        listq_add(q, cond, vals, used);
    }
    if (!contacts)
        listq_contains(q, name_col, listq_copy(q, folded));
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* lists                                                                                       */

static const struct listq_spec customers_spec = {
    .from = "customers c",
    .id = "c.id",
    .columns = CUSTOMER_COLUMNS,
    .joins = CUSTOMER_JOINS,
};

/*
 * How the list is read, from what tests/bench/customers measured at a million customers:
 *  - A search (a keyword or any filter) counts its matches up to SEARCH_COUNT_CAP, not the
 *    kit's 10,000: a match can cost a row read and a probe of the keyword index, so a common
 *    word (科技: 18% of the names) spent 30-170 ms counting 10,000 of them, and the overdue
 *    filter 50 ms, 10 times the page itself. "1,000+" is all a search needs to say (the
 *    console shows the total as capped): refine, do not page. The unfiltered list keeps the
 *    kit's cap: its count reads index entries only (2 ms for 10,000).
 *  - When one owner's customers are listed (SELF, the "mine" scene, a manager_id filter), the
 *    optimizer sometimes walked the whole table's (deleted_at, created_at) or (deleted_at, name)
 *    index for the page, checking the owner row by row (16,000 rows for 20 overdue customers of
 *    a manager; 995,000 at a deep page sorted by name), instead of the owner's own (manager_id,
 *    deleted_at, created_at) and (manager_id, deleted_at, name): those two are kept out.
 */
#define SEARCH_COUNT_CAP 1000
#define OWNER_FROM       "customers c IGNORE INDEX (ix_customers_live_created, ix_customers_live_name)"
/* The count of an owner's keyword search with no other filter: the LIKE checked on the entries
 * of (manager_id, deleted_at, name_search), never on rows read in another index's order, which
 * InnoDB's estimates made MariaDB pick now and then (2 ms, then 16-20 ms for one count). */
#define OWNER_KEYWORD_COUNT_FROM "customers c FORCE INDEX (ix_customers_manager_search)"

/* 'col' >= 'from' and < 'to', each when given. */
static void between(struct listq *q, const char *col, const char *from, const char *to)
{
    char cond[96];
    if (from[0]) {
        snprintf(cond, sizeof(cond), "%s >= ?", col);
        listq_add(q, cond, &DBP_STR(from), 1);
    }
    if (to[0]) {
        snprintf(cond, sizeof(cond), "%s < ?", col);
        listq_add(q, cond, &DBP_STR(to), 1);
    }
}

int repo_customers_list(struct db *db, struct scope *sc, const struct customer_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, f->deleted ? "c.deleted_at IS NOT NULL" : "c.deleted_at IS NULL", NULL, 0);
    size_t unfiltered = q.len;
    bool one_owner = sc->kind == SCOPE_SELF || f->mine > 0 || f->manager_id != 0;
    int like_only = keyword_where(db, &q, f->keyword, one_owner);
    if (like_only < 0)
        return -1;
    size_t keyword_len = q.len;
    listq_eq_str(&q, "c.industry", f->industry);
    listq_eq_str(&q, "c.source", f->source);
    listq_eq_str(&q, "c.level", f->level);
    listq_eq_str(&q, "c.status", f->status);
    listq_eq_str(&q, "c.deal_status", f->deal_status);
    listq_eq_str(&q, "c.province", f->province);
    listq_eq_str(&q, "c.city", f->city);
    if (f->tag[0]) /* a scan of the rows the other conditions leave: tags are a short list */
        listq_add(&q, "JSON_CONTAINS(c.tags, JSON_QUOTE(?))", &DBP_STR(f->tag), 1);
    if (f->followed_up >= 0)
        listq_add(&q, "c.followed_up = ?", &DBP_INT(f->followed_up), 1);
    between(&q, "c.created_at", f->created_from, f->created_to);
    between(&q, "c.last_contact_at", f->last_from, f->last_to);
    between(&q, "c.next_contact_at", f->next_from, f->next_to);
    if (f->moved_from[0])
        listq_add(&q, "c.last_transfer_id > 0 AND c.owner_time >= ?", &DBP_STR(f->moved_from), 1);
    size_t keyword_end = q.len; /* the filters end here; whose customers follow */
    struct listq_spec spec = customers_spec;
    if (q.len > unfiltered) /* a search; whose customers (below) is a view, not a search */
        spec.count_cap = SEARCH_COUNT_CAP;
    listq_eq_int(&q, "c.manager_id", f->manager_id);
    if (f->mine > 0)
        listq_add(&q, "c.manager_id = ?", &DBP_INT(f->mine), 1);
    else if (f->mine < 0)
        listq_add(&q, "c.manager_id <> ?", &DBP_INT(-f->mine), 1);
    if (one_owner)
        spec.from = OWNER_FROM;
    if (like_only && keyword_len == keyword_end) /* the owner's keyword alone: count entries */
        spec.count_from = OWNER_KEYWORD_COUNT_FROM;
    if (scope_where(db, &q, sc, "c.manager_id", NULL) != 0 ||
        listq_run(db, &spec, &q, pg, out) != 0)
        return -1;
    customer_rows_fix(out->items);
    return 0;
}

int repo_customer_options(struct db *db, struct scope *sc, const char *keyword, json_t **rows)
{
    struct listq q;
    char *sql = NULL;
    int rc = -1;
    listq_init(&q);
    listq_add(&q, "c.deleted_at IS NULL", NULL, 0);
    if (keyword_where(db, &q, keyword, sc->kind == SCOPE_SELF) < 0 ||
        scope_where(db, &q, sc, "c.manager_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT c.id, c.name, c.manager_id,"
                    " COALESCE(su.display_name, '') AS manager_name FROM customers c" CUSTOMER_JOINS
                    "%s ORDER BY c.id DESC LIMIT 20",
                    listq_sql(&q));
    rc = db_query(db, sql, q.p, q.n, rows);
out:
    free(sql);
    return rc;
}

int repo_user_in_scope(struct db *db, struct scope *sc, long long user_id, bool *in)
{
    struct listq q;
    json_t *row = NULL;
    char *sql = NULL;
    int rc = -1;
    listq_init(&q);
    listq_add(&q, "su.user_id = ?", &DBP_INT(user_id), 1);
    if (scope_where(db, &q, sc, "su.user_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT su.user_id FROM scope_users su%s", listq_sql(&q));
    rc = db_query_one(db, sql, q.p, q.n, &row);
out:
    *in = row != NULL;
    free(sql);
    json_decref(row);
    return rc;
}
