/* SPDX-License-Identifier: Apache-2.0 */
/* repo_audit: every SQL statement of the audit service. Inserts and reads only. */
#include "audit.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* from <= col < to, each when given */
static void repo_time_range(struct listq *q, const char *col, const struct repo_audit_filter *f)
{
    char cond[96];
    if (f->from && *f->from) {
        snprintf(cond, sizeof(cond), "%s >= ?", col);
        listq_add(q, cond, &DBP_STR(f->from), 1);
    }
    if (f->to && *f->to) {
        snprintf(cond, sizeof(cond), "%s < ?", col);
        listq_add(q, cond, &DBP_STR(f->to), 1);
    }
}

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
    p[ARRAY_LEN(cols)] = DBP_INT(json_integer_value(json_object_get(row, "chain_version")));
}

int repo_audit_insert(struct db *db, json_t *rows)
{
    return insert_rows(db, rows,
                       "INSERT INTO audit_log (event_id, event_type, producer, actor_user_id,"
                       " actor_ip, subject_type, subject_id, changes, request_id, occurred_at,"
                       " prev_hash, hash, chain_version) VALUES ",
                       "(?,?,?,?,?,?,?,?,?,?,?,?,?)", 13, audit_params);
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
 * The three lists are listq lists: WHERE holds only the filters given (each has its index), the
 * total is counted up to LISTQ_COUNT_CAP rows (an exact COUNT(*) over millions of audit rows
 * costs seconds on every page), and the page is a deferred join or a keyset seek by id.
 */
static const struct listq_spec audit_spec = {
    .from = "audit_log t",
    .id = "t.id",
    .columns = "t.id, t.event_id, t.event_type, t.producer, t.actor_user_id, t.actor_ip,"
               " t.subject_type, t.subject_id, t.changes, t.request_id, t.occurred_at,"
               " t.recorded_at, t.hash",
};

int repo_audit_list(struct db *db, const struct repo_audit_filter *f, const struct listq_page *pg,
                    struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_eq_str(&q, "t.actor_user_id", f->actor);
    listq_eq_str(&q, "t.subject_type", f->subject_type);
    listq_eq_str(&q, "t.subject_id", f->subject_id);
    listq_eq_str(&q, "t.event_type", f->event_type);
    listq_eq_str(&q, "t.request_id", f->request_id);
    repo_time_range(&q, "t.recorded_at", f);
    if (listq_run(db, &audit_spec, &q, pg, out) != 0)
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

static const struct listq_spec login_spec = {
    .from = "login_log t",
    .id = "t.id",
    .columns = "t.id, t.user_id, t.username, t.ip, t.user_agent, t.result, t.reason,"
               " t.occurred_at",
};

int repo_login_list(struct db *db, const struct repo_audit_filter *f, const struct listq_page *pg,
                    struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_eq_str(&q, "t.username", f->user);
    listq_eq_str(&q, "t.result", f->result);
    repo_time_range(&q, "t.occurred_at", f);
    return listq_run(db, &login_spec, &q, pg, out);
}

static const struct listq_spec operation_spec = {
    .from = "operation_log t",
    .id = "t.id",
    .columns = "t.id, t.request_id, t.user_id, t.ip, t.method, t.path, t.status,"
               " t.duration_ms, t.occurred_at",
};

int repo_operation_list(struct db *db, const struct repo_audit_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_eq_str(&q, "t.user_id", f->user);
    listq_eq_str(&q, "t.method", f->method);
    listq_prefix(&q, "t.path", f->path_prefix); /* % and _ in it match only themselves */
    listq_eq_int(&q, "t.status", f->status);
    listq_eq_str(&q, "t.request_id", f->request_id);
    repo_time_range(&q, "t.occurred_at", f);
    /* a browser whose session ran out tries its refresh token once: no one's operation */
    if (!f->failed_refresh)
        listq_add(&q, "t.user_id IS NOT NULL OR t.path <> '/api/v1/auth/refresh' OR t.status < 400",
                  NULL, 0);
    return listq_run(db, &operation_spec, &q, pg, out);
}

int repo_chain_hash_at(struct db *db, long long id, char out[AUDIT_HASH_HEX], int *version,
                       bool *found)
{
    json_t *rows = NULL;
    struct db_param p[] = {DBP_INT(id)};
    if (db_query(db, "SELECT hash, chain_version FROM audit_log WHERE id = ?", p, 1, &rows) != 0)
        return -1;
    json_t *row = json_array_get(rows, 0);
    const char *h = json_string_value(json_object_get(row, "hash"));
    *found = h != NULL;
    *version = (int)json_integer_value(json_object_get(row, "chain_version"));
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
                    " hash, chain_version FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                    p, 2, rows);
}

int repo_name_insert(struct db *db, const char *event_id, const char *type, const char *id,
                     const char *username, const char *name)
{
    struct db_param p[] = {DBP_STR(event_id), DBP_STR(type), DBP_STR(id), DBP_STR(username),
                           DBP_STR(name)};
    return db_exec(db,
                   "INSERT INTO subject_names (event_id, subject_type, subject_id, username, name)"
                   " VALUES (?,?,?,LEFT(?,64),LEFT(?,128))",
                   p, 5, NULL, NULL);
}

/* Sizes of the IN lists of repo_names_of: a page's ids are padded up to one of them (with the
 * last id again), so a few prepared statements serve every page (the cache holds 64). */
static const size_t name_buckets[] = {8, 32, 128, 256};

int repo_names_of(struct db *db, const char *type, json_t *ids)
{
    size_t n = json_object_size(ids), size = 0, i = 0;
    const char *id = NULL, *last = NULL;
    json_t *v, *rows = NULL, *r;
    struct db_param *p = NULL;
    char *sql = NULL;
    int rc = -1;
    for (size_t b = 0; b < ARRAY_LEN(name_buckets) && size == 0; b++)
        size = n <= name_buckets[b] ? name_buckets[b] : 0;
    if (n == 0)
        return 0;
    assert(size > 0); /* a page holds at most 100 rows, two ids each */
    p = xcalloc(size + 1, sizeof(*p));
    sql = xmalloc(160 + 2 * size);
    p[i++] = DBP_STR(type);
    json_object_foreach(ids, id, v)
    {
        p[i++] = DBP_STR(id);
        last = id;
    }
    while (i <= size)
        p[i++] = DBP_STR(last);
    int len = sprintf(sql, "SELECT subject_id, username, name FROM subject_names"
                           " WHERE subject_type = ? AND subject_id IN (?");
    for (size_t k = 1; k < size; k++)
        len += sprintf(sql + len, ",?");
    sprintf(sql + len, ") ORDER BY id");
    if (db_query(db, sql, p, size + 1, &rows) != 0)
        goto out;
    /* oldest first: a later non-empty value replaces an earlier one */
    json_array_foreach(rows, i, r)
    {
        json_t *names = json_object_get(ids, json_string_value(json_object_get(r, "subject_id")));
        if (!json_is_object(names)) {
            names = json_object();
            json_object_set_new(ids, json_string_value(json_object_get(r, "subject_id")), names);
        }
        static const char *const cols[] = {"username", "name"};
        for (size_t c = 0; c < ARRAY_LEN(cols); c++) {
            const char *s = json_string_value(json_object_get(r, cols[c]));
            if (s && *s)
                json_object_set_new(names, cols[c], json_string(s));
        }
    }
    rc = 0;
out:
    json_decref(rows);
    free(sql);
    free(p);
    return rc;
}
