/* SPDX-License-Identifier: Apache-2.0 */
/* repo_audit: every SQL statement of the audit service. Inserts and reads only. */
#include "audit.h"

#include <stdio.h>
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

int repo_audit_insert(struct db *db, json_t *row)
{
    struct db_param p[] = {str_param(row, "event_id"),   str_param(row, "event_type"),
                           str_param(row, "producer"),   str_param(row, "actor_user_id"),
                           str_param(row, "actor_ip"),   str_param(row, "subject_type"),
                           str_param(row, "subject_id"), str_param(row, "changes"),
                           str_param(row, "request_id"), str_param(row, "occurred_at"),
                           str_param(row, "prev_hash"),  str_param(row, "hash")};
    return db_exec(db,
                   "INSERT INTO audit_log (event_id, event_type, producer, actor_user_id,"
                   " actor_ip, subject_type, subject_id, changes, request_id, occurred_at,"
                   " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   p, 12, NULL, NULL);
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

int repo_operation_insert(struct db *db, json_t *row)
{
    json_t *status = json_object_get(row, "status");
    json_t *dur = json_object_get(row, "duration_ms");
    struct db_param p[] = {str_param(row, "event_id"),
                           str_param(row, "request_id"),
                           str_param(row, "user_id"),
                           str_param(row, "ip"),
                           str_param(row, "method"),
                           str_param(row, "path"),
                           DBP_INT(json_integer_value(status)),
                           {DB_DOUBLE, 0, NULL, 0, json_number_value(dur)},
                           str_param(row, "occurred_at")};
    return db_exec(db,
                   "INSERT INTO operation_log (event_id, request_id, user_id, ip, method, path,"
                   " status, duration_ms, occurred_at) VALUES (?,?,?,?,?,LEFT(?,512),?,?,?)",
                   p, 9, NULL, NULL);
}

/* The common shape of the three lists: a count and a deferred-join page, filters that are
 * either empty ('' = any) or an exact value, and a time range on 'tcol'. */
#define AUDIT_FILTER                                                                               \
    " WHERE (? = '' OR actor_user_id = ?) AND (? = '' OR subject_type = ?)"                        \
    " AND (? = '' OR subject_id = ?) AND (? = '' OR event_type = ?)"                               \
    " AND (? = '' OR recorded_at >= ?) AND (? = '' OR recorded_at < ?)"

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int page_query(struct db *db, const char *count_sql, const char *page_sql,
                      struct db_param *p, size_t n, const struct repo_audit_filter *f,
                      json_t **items, long long *total)
{
    json_t *count = NULL;
    *items = NULL;
    if (db_query(db, count_sql, p, n, &count) != 0)
        return -1;
    *total = json_integer_value(json_object_get(json_array_get(count, 0), "n"));
    json_decref(count);
    p[n] = DBP_INT(f->page_size);
    p[n + 1] = DBP_INT((f->page - 1) * f->page_size);
    return db_query(db, page_sql, p, n + 2, items);
}

int repo_audit_list(struct db *db, const struct repo_audit_filter *f, json_t **items,
                    long long *total)
{
    struct db_param p[14] = {
        DBP_STR(or_empty(f->actor)),        DBP_STR(or_empty(f->actor)),
        DBP_STR(or_empty(f->subject_type)), DBP_STR(or_empty(f->subject_type)),
        DBP_STR(or_empty(f->subject_id)),   DBP_STR(or_empty(f->subject_id)),
        DBP_STR(or_empty(f->event_type)),   DBP_STR(or_empty(f->event_type)),
        DBP_STR(or_empty(f->from)),         DBP_STR(or_empty(f->from)),
        DBP_STR(or_empty(f->to)),           DBP_STR(or_empty(f->to)),
    };
    if (page_query(
            db, "SELECT COUNT(*) AS n FROM audit_log" AUDIT_FILTER,
            "SELECT a.id, a.event_id, a.event_type, a.producer, a.actor_user_id,"
            " a.actor_ip, a.subject_type, a.subject_id, a.changes, a.request_id,"
            " a.occurred_at, a.recorded_at, a.hash FROM (SELECT id FROM audit_log" AUDIT_FILTER
            " ORDER BY id DESC LIMIT ? OFFSET ?) pg"
            " JOIN audit_log a ON a.id = pg.id ORDER BY a.id DESC",
            p, 12, f, items, total) != 0)
        return -1;
    /* "changes" is stored as JSON text: give it back as JSON */
    size_t i;
    json_t *r;
    json_array_foreach(*items, i, r)
    {
        json_t *c = json_loads(json_string_value(json_object_get(r, "changes")), 0, NULL);
        json_object_set_new(r, "changes", c ? c : json_array());
    }
    return 0;
}

#define LOGIN_FILTER                                                                               \
    " WHERE (? = '' OR username = ?) AND (? = '' OR result = ?)"                                   \
    " AND (? = '' OR occurred_at >= ?) AND (? = '' OR occurred_at < ?)"

int repo_login_list(struct db *db, const struct repo_audit_filter *f, json_t **items,
                    long long *total)
{
    struct db_param p[10] = {
        DBP_STR(or_empty(f->user)),   DBP_STR(or_empty(f->user)), DBP_STR(or_empty(f->result)),
        DBP_STR(or_empty(f->result)), DBP_STR(or_empty(f->from)), DBP_STR(or_empty(f->from)),
        DBP_STR(or_empty(f->to)),     DBP_STR(or_empty(f->to)),
    };
    return page_query(db, "SELECT COUNT(*) AS n FROM login_log" LOGIN_FILTER,
                      "SELECT l.id, l.user_id, l.username, l.ip, l.user_agent, l.result,"
                      " l.reason, l.occurred_at FROM (SELECT id FROM login_log" LOGIN_FILTER
                      " ORDER BY id DESC LIMIT ? OFFSET ?) pg JOIN login_log l ON l.id = pg.id"
                      " ORDER BY l.id DESC",
                      p, 8, f, items, total);
}

#define OPERATION_FILTER                                                                           \
    " WHERE (? = '' OR user_id = ?) AND (? = '' OR method = ?)"                                    \
    " AND (? = '' OR path LIKE CONCAT(?, '%')) AND (? = 0 OR status = ?)"                          \
    " AND (? = '' OR occurred_at >= ?) AND (? = '' OR occurred_at < ?)"

int repo_operation_list(struct db *db, const struct repo_audit_filter *f, json_t **items,
                        long long *total)
{
    struct db_param p[14] = {
        DBP_STR(or_empty(f->user)),
        DBP_STR(or_empty(f->user)),
        DBP_STR(or_empty(f->method)),
        DBP_STR(or_empty(f->method)),
        DBP_STR(or_empty(f->path_prefix)),
        DBP_STR(or_empty(f->path_prefix)),
        DBP_INT(f->status),
        DBP_INT(f->status),
        DBP_STR(or_empty(f->from)),
        DBP_STR(or_empty(f->from)),
        DBP_STR(or_empty(f->to)),
        DBP_STR(or_empty(f->to)),
    };
    return page_query(
        db, "SELECT COUNT(*) AS n FROM operation_log" OPERATION_FILTER,
        "SELECT o.id, o.request_id, o.user_id, o.ip, o.method, o.path, o.status,"
        " o.duration_ms, o.occurred_at FROM (SELECT id FROM operation_log" OPERATION_FILTER
        " ORDER BY id DESC LIMIT ? OFFSET ?) pg"
        " JOIN operation_log o ON o.id = pg.id ORDER BY o.id DESC",
        p, 12, f, items, total);
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
