/* SPDX-License-Identifier: Apache-2.0 */
/* repo_audit: every SQL statement of the audit service. Inserts and reads only. */
#include "audit.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct db_param str_param(json_t *row, const char *k)
{
    const char *s = json_string_value(json_object_get(row, k));
    return s ? DBP_STR(s) : DBP_NULL;
}

int repo_chain_lock(struct db *db)
{
    json_t *rows = NULL;
    if (db_query(db, "SELECT GET_LOCK('crm_audit.chain', 10) AS got", NULL, 0, &rows) != 0)
        return -1;
    int got = (int)json_integer_value(json_object_get(json_array_get(rows, 0), "got"));
    json_decref(rows);
    return got == 1 ? 0 : -1;
}

void repo_chain_unlock(struct db *db)
{
    json_t *rows = NULL;
    if (db_query(db, "SELECT RELEASE_LOCK('crm_audit.chain') AS r", NULL, 0, &rows) == 0)
        json_decref(rows);
}

int repo_chain_last_hash(struct db *db, char out[AUDIT_HASH_HEX])
{
    json_t *rows = NULL;
    if (db_query(db, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1", NULL, 0, &rows) != 0)
        return -1;
    const char *h = json_string_value(json_object_get(json_array_get(rows, 0), "hash"));
    /* the chain starts from 64 zeros */
    snprintf(out, AUDIT_HASH_HEX, "%s",
             h ? h : "0000000000000000000000000000000000000000000000000000000000000000");
    json_decref(rows);
    return 0;
}

/* The parameters of every row of 'rows', row after row, 'ncols' each, by 'fill'. */
static int insert_rows(struct db *db, json_t *rows, const char *head, const char *row, size_t ncols,
                       void (*fill)(json_t *row, struct db_param *p))
{
    size_t n = json_array_size(rows);
    if (n == 0)
        return 0;
    struct db_param *p = xcalloc(n * ncols, sizeof(*p));
    for (size_t i = 0; i < n; i++)
        fill(json_array_get(rows, i), p + i * ncols);
    int rc = db_insert_rows(db, head, row, ncols, p, n);
    free(p);
    return rc;
}

static void audit_params(json_t *row, struct db_param *p)
{
    static const char *const cols[] = {"event_id",   "event_type",   "producer",   "actor_user_id",
                                       "actor_ip",   "subject_type", "subject_id", "changes",
                                       "request_id", "occurred_at",  "prev_hash",  "hash"};
    for (size_t i = 0; i < ARRAY_LEN(cols); i++)
        p[i] = str_param(row, cols[i]);
}

int repo_audit_insert(struct db *db, json_t *rows)
{
    return insert_rows(db, rows,
                       "INSERT INTO audit_log (event_id, event_type, producer, actor_user_id,"
                       " actor_ip, subject_type, subject_id, changes, request_id, occurred_at,"
                       " prev_hash, hash) VALUES ",
                       "(?,?,?,?,?,?,?,?,?,?,?,?)", 12, audit_params);
}

int repo_login_insert(struct db *db, json_t *row)
{
    struct db_param p[] = {str_param(row, "event_id"),   str_param(row, "user_id"),
                           str_param(row, "username"),   str_param(row, "ip"),
                           str_param(row, "user_agent"), str_param(row, "result"),
                           str_param(row, "reason"),     str_param(row, "occurred_at")};
    return db_exec(db,
                   "INSERT INTO login_log (event_id, user_id, username, ip, user_agent, result,"
                   " reason, occurred_at) VALUES (?,?,?,?,LEFT(?,255),?,?,?)",
                   p, 8, NULL, NULL);
}

static void operation_params(json_t *row, struct db_param *p)
{
    p[0] = str_param(row, "event_id");
    p[1] = str_param(row, "request_id");
    p[2] = str_param(row, "user_id");
    p[3] = str_param(row, "ip");
    p[4] = str_param(row, "method");
    p[5] = str_param(row, "path");
    p[6] = DBP_INT(json_integer_value(json_object_get(row, "status")));
    p[7] = (struct db_param){DB_DOUBLE, 0, NULL, 0,
                             json_number_value(json_object_get(row, "duration_ms"))};
    p[8] = str_param(row, "occurred_at");
}

int repo_operation_insert(struct db *db, json_t *rows)
{
    return insert_rows(db, rows,
                       "INSERT INTO operation_log (event_id, request_id, user_id, ip, method, path,"
                       " status, duration_ms, occurred_at) VALUES ",
                       "(?,?,?,?,?,LEFT(?,512),?,?,?)", 9, operation_params);
}

/*
 * The three lists share one shape: WHERE holds only the filters given (so MariaDB can use the
 * index of each: "(? = '' OR col = ?)" defeats them), the total is counted up to LIST_COUNT_CAP
 * rows (an exact COUNT(*) over millions of audit rows costs seconds on every page), and the
 * page is a deferred join (ids first, then the rows).
 */
struct where {
    char sql[512];
    size_t len;
    struct db_param p[16];
    size_t n;
};

static void where_add(struct where *w, const char *cond, struct db_param v)
{
    if (w->n + 2 >= ARRAY_LEN(w->p)) /* two places stay free for LIMIT and OFFSET */
        abort();                     /* a bug: more filters than places */
    w->len += (size_t)snprintf(w->sql + w->len, sizeof(w->sql) - w->len, "%s%s",
                               w->n ? " AND " : " WHERE ", cond);
    w->p[w->n++] = v;
}

static void where_str(struct where *w, const char *cond, const char *v)
{
    if (v && *v)
        where_add(w, cond, DBP_STR(v));
}

static int page_query(struct db *db, const char *table, const char *columns, struct where *w,
                      const struct repo_audit_filter *f, struct repo_page *out)
{
    char sql[1024];
    json_t *count = NULL;
    out->items = NULL;
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) AS n FROM (SELECT 1 FROM %s%s LIMIT %d) c", table,
             w->sql, LIST_COUNT_CAP + 1);
    if (db_query(db, sql, w->p, w->n, &count) != 0)
        return -1;
    out->total = json_integer_value(json_object_get(json_array_get(count, 0), "n"));
    json_decref(count);
    out->capped = out->total > LIST_COUNT_CAP;
    if (out->capped)
        out->total = LIST_COUNT_CAP;
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM (SELECT id FROM %s%s ORDER BY id DESC LIMIT ? OFFSET ?) pg"
             " JOIN %s t ON t.id = pg.id ORDER BY t.id DESC",
             columns, table, w->sql, table);
    w->p[w->n] = DBP_INT(f->page_size);
    w->p[w->n + 1] = DBP_INT((f->page - 1) * f->page_size);
    return db_query(db, sql, w->p, w->n + 2, &out->items);
}

int repo_audit_list(struct db *db, const struct repo_audit_filter *f, struct repo_page *out)
{
    struct where w = {0};
    where_str(&w, "actor_user_id = ?", f->actor);
    where_str(&w, "subject_type = ?", f->subject_type);
    where_str(&w, "subject_id = ?", f->subject_id);
    where_str(&w, "event_type = ?", f->event_type);
    where_str(&w, "request_id = ?", f->request_id);
    where_str(&w, "recorded_at >= ?", f->from);
    where_str(&w, "recorded_at < ?", f->to);
    if (page_query(db, "audit_log",
                   "t.id, t.event_id, t.event_type, t.producer, t.actor_user_id, t.actor_ip,"
                   " t.subject_type, t.subject_id, t.changes, t.request_id, t.occurred_at,"
                   " t.recorded_at, t.hash",
                   &w, f, out) != 0)
        return -1;
    /* "changes" is stored as JSON text: give it back as JSON */
    size_t i;
    json_t *r;
    json_array_foreach(out->items, i, r)
    {
        json_t *c = json_loads(json_string_value(json_object_get(r, "changes")), 0, NULL);
        json_object_set_new(r, "changes", c ? c : json_array());
    }
    return 0;
}

int repo_login_list(struct db *db, const struct repo_audit_filter *f, struct repo_page *out)
{
    struct where w = {0};
    where_str(&w, "username = ?", f->user);
    where_str(&w, "result = ?", f->result);
    where_str(&w, "occurred_at >= ?", f->from);
    where_str(&w, "occurred_at < ?", f->to);
    return page_query(db, "login_log",
                      "t.id, t.user_id, t.username, t.ip, t.user_agent, t.result, t.reason,"
                      " t.occurred_at",
                      &w, f, out);
}

int repo_operation_list(struct db *db, const struct repo_audit_filter *f, struct repo_page *out)
{
    struct where w = {0};
    where_str(&w, "user_id = ?", f->user);
    where_str(&w, "method = ?", f->method);
    /* a prefix, taken literally: % and _ in it match only themselves */
    where_str(&w,
              "path LIKE CONCAT(REPLACE(REPLACE(REPLACE(?, '\\\\', '\\\\\\\\'), '%', '\\\\%'),"
              " '_', '\\\\_'), '%')",
              f->path_prefix);
    if (f->status)
        where_add(&w, "status = ?", DBP_INT(f->status));
    where_str(&w, "request_id = ?", f->request_id);
    where_str(&w, "occurred_at >= ?", f->from);
    where_str(&w, "occurred_at < ?", f->to);
    return page_query(db, "operation_log",
                      "t.id, t.request_id, t.user_id, t.ip, t.method, t.path, t.status,"
                      " t.duration_ms, t.occurred_at",
                      &w, f, out);
}

int repo_chain_hash_at(struct db *db, long long id, char out[AUDIT_HASH_HEX], bool *found)
{
    json_t *rows = NULL;
    struct db_param p[] = {DBP_INT(id)};
    if (db_query(db, "SELECT hash FROM audit_log WHERE id = ?", p, 1, &rows) != 0)
        return -1;
    const char *h = json_string_value(json_object_get(json_array_get(rows, 0), "hash"));
    *found = h != NULL;
    if (h)
        snprintf(out, AUDIT_HASH_HEX, "%s", h);
    json_decref(rows);
    return 0;
}

int repo_chain_max_id(struct db *db, long long *id)
{
    json_t *rows = NULL;
    if (db_query(db, "SELECT id FROM audit_log ORDER BY id DESC LIMIT 1", NULL, 0, &rows) != 0)
        return -1;
    *id = json_integer_value(json_object_get(json_array_get(rows, 0), "id")); /* 0 when empty */
    json_decref(rows);
    return 0;
}

int repo_chain_rows(struct db *db, long long after_id, long limit, json_t **rows)
{
    struct db_param p[] = {DBP_INT(after_id), DBP_INT(limit)};
    return db_query(db,
                    "SELECT id, event_id, event_type, producer, actor_user_id, actor_ip,"
                    " subject_type, subject_id, changes, request_id, occurred_at, prev_hash,"
                    " hash FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                    p, 2, rows);
}
