/* SPDX-License-Identifier: Apache-2.0 */
/* db: one MariaDB connection per worker thread, prepared statements only, explicit reconnect. */
#include "db.h"
#include "crmlog.h"
#include "util.h"

#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_BACKOFF_MAX_MS 5000

void db_init(struct db *db, const struct db_config *cfg)
{
    memset(db, 0, sizeof(*db));
    db->cfg = *cfg;
}

static void db_drop_cache(struct db *db)
{
    for (size_t i = 0; i < db->ncache; i++) {
        mysql_stmt_close(db->cache[i].stmt);
        free(db->cache[i].sql);
    }
    db->ncache = 0;
}

static void db_disconnect(struct db *db)
{
    db_drop_cache(db);
    if (db->mysql)
        mysql_close(db->mysql);
    db->mysql = NULL;
    db->in_tx = false;
}

void db_cleanup(struct db *db)
{
    db_disconnect(db);
}

static void db_note_error(struct db *db, unsigned err, const char *msg)
{
    db->last_errno = err;
    snprintf(db->last_error, sizeof(db->last_error), "%s", msg);
}

int db_connect(struct db *db)
{
    if (db->mysql)
        return 0;
    uint64_t now = util_now_ms();
    if (now < db->next_try_ms)
        return -1;
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = (unsigned)db->cfg.timeout_s;
    my_bool off = 0;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    mysql_options(m, MYSQL_INIT_COMMAND,
                  "SET time_zone='+00:00', sql_mode='STRICT_ALL_TABLES,NO_ZERO_DATE,"
                  "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
    if (mysql_real_connect(m, db->cfg.host, db->cfg.user, db->cfg.password, db->cfg.name,
                           (unsigned)db->cfg.port, NULL, 0) == NULL ||
        mysql_set_character_set(m, "utf8mb4") != 0) {
        db_note_error(db, mysql_errno(m), mysql_error(m));
        log_warn(NULL, "database %s@%s:%d unavailable: %s", db->cfg.user, db->cfg.host,
                 db->cfg.port, mysql_error(m));
        mysql_close(m);
        db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : 100;
        if (db->backoff_ms > DB_BACKOFF_MAX_MS)
            db->backoff_ms = DB_BACKOFF_MAX_MS;
        db->next_try_ms = now + (uint64_t)db->backoff_ms;
        return -1;
    }
    db->mysql = m;
    db->backoff_ms = 0;
    db->next_try_ms = 0;
    return 0;
}

static bool db_link_lost(unsigned err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
           err == 1927 /* ER_CONNECTION_KILLED */ || err == 4031 /* client idle timeout */;
}

int db_ping(struct db *db)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (db_connect(db) != 0)
            return -1;
        if (mysql_ping(db->mysql) == 0)
            return 0;
        db_note_error(db, mysql_errno(db->mysql), mysql_error(db->mysql));
        db_disconnect(db);
    }
    return -1;
}

/* A prepared statement for 'sql', from this connection's cache. */
static MYSQL_STMT *db_prepare(struct db *db, const char *sql)
{
    for (size_t i = 0; i < db->ncache; i++) {
        if (strcmp(db->cache[i].sql, sql) == 0)
            return db->cache[i].stmt;
    }
    MYSQL_STMT *st = mysql_stmt_init(db->mysql);
    if (st == NULL)
        return NULL;
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
        db_note_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        mysql_stmt_close(st);
        return NULL;
    }
    if (db->ncache == DB_STMT_CACHE) {
        mysql_stmt_close(db->cache[0].stmt);
        free(db->cache[0].sql);
        memmove(&db->cache[0], &db->cache[1], sizeof(db->cache[0]) * (DB_STMT_CACHE - 1));
        db->ncache--;
    }
    db->cache[db->ncache].sql = xstrdup(sql); /* callers may build their SQL in a buffer */
    db->cache[db->ncache].stmt = st;
    db->ncache++;
    return st;
}

static int db_bind_params(struct db *db, MYSQL_STMT *st, const struct db_param *p, size_t n,
                          MYSQL_BIND *b)
{
    if (mysql_stmt_param_count(st) != n) {
        db_note_error(db, 0, "parameter count does not match the statement");
        log_error(NULL, "bug: statement wants %lu parameters, %zu given",
                  mysql_stmt_param_count(st), n);
        return -1;
    }
    memset(b, 0, sizeof(*b) * n);
    for (size_t i = 0; i < n; i++) {
        switch (p[i].type) {
        case DB_NULL:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case DB_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p[i].i;
            break;
        case DB_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = (void *)&p[i].d;
            break;
        case DB_STR:
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer = (void *)p[i].s;
            b[i].buffer_length = (unsigned long)p[i].len;
            break;
        }
    }
    return n ? (mysql_stmt_bind_param(st, b) ? -1 : 0) : 0;
}

/* Prepare, bind and execute; on a lost link outside a transaction reconnect and retry once. */
static MYSQL_STMT *db_run(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
    MYSQL_BIND binds[DB_MAX_PARAMS];
    if (n > ARRAY_LEN(binds)) {
        db_note_error(db, 0, "bug: more parameters than DB_MAX_PARAMS");
        log_error(NULL, "bug: %zu parameters for one statement (at most %d)", n, DB_MAX_PARAMS);
        return NULL;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (db_connect(db) != 0)
            return NULL;
        MYSQL_STMT *st = db_prepare(db, sql);
        unsigned err = 0;
        if (st != NULL) {
            if (db_bind_params(db, st, p, n, binds) != 0)
                return NULL;
            if (mysql_stmt_execute(st) == 0)
                return st;
            err = mysql_stmt_errno(st);
            db_note_error(db, err, mysql_stmt_error(st));
        } else {
            err = db->last_errno ? db->last_errno : mysql_errno(db->mysql);
        }
        if (!db_link_lost(err) || db->in_tx) {
            if (db_link_lost(err))
                db_disconnect(db);
            return NULL;
        }
        log_warn(NULL, "database link lost (%u), reconnecting", err);
        db_disconnect(db);
    }
    return NULL;
}

int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
            uint64_t *affected, uint64_t *insert_id)
{
    MYSQL_STMT *st = db_run(db, sql, params, nparams);
    if (st == NULL)
        return -1;
    if (affected)
        *affected = mysql_stmt_affected_rows(st);
    if (insert_id)
        *insert_id = mysql_stmt_insert_id(st);
    mysql_stmt_free_result(st);
    return 0;
}

int db_insert_rows(struct db *db, const char *head, const char *row, size_t ncols,
                   const struct db_param *params, size_t nrows)
{
    if (ncols == 0 || ncols > DB_MAX_PARAMS) {
        db_note_error(db, 0, "bug: db_insert_rows with no or too many columns");
        return -1;
    }
    size_t most = 1;
    while (most * 2 * ncols <= DB_MAX_PARAMS)
        most *= 2;
    size_t head_len = strlen(head), row_len = strlen(row);
    char *sql = xmalloc(head_len + most * (row_len + 1) + 1);
    for (size_t done = 0; done < nrows;) {
        size_t k = most;
        while (k > nrows - done)
            k /= 2;
        char *at = sql;
        memcpy(at, head, head_len);
        at += head_len;
        for (size_t i = 0; i < k; i++) {
            if (i)
                *at++ = ',';
            memcpy(at, row, row_len);
            at += row_len;
        }
        *at = '\0';
        if (db_exec(db, sql, params + done * ncols, k * ncols, NULL, NULL) != 0) {
            free(sql);
            return -1;
        }
        done += k;
    }
    free(sql);
    return 0;
}

char *db_json_ints(const long long *v, size_t ncols, size_t n)
{
    size_t cap = 3 + n * (ncols * 21 + 3), len = 0;
    char *s = xmalloc(cap);
    s[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            s[len++] = ',';
        if (ncols > 1)
            s[len++] = '[';
        for (size_t c = 0; c < ncols; c++)
            len += (size_t)snprintf(s + len, cap - len, c ? ",%lld" : "%lld", v[i * ncols + c]);
        if (ncols > 1)
            s[len++] = ']';
    }
    s[len++] = ']';
    s[len] = '\0';
    return s;
}

static json_t *db_value(enum enum_field_types t, const char *s, unsigned long len)
{
    switch (t) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return json_integer(strtoll(s, NULL, 10));
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        return json_real(strtod(s, NULL));
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: {
        /* "YYYY-MM-DD HH:MM:SS[.fff]" in UTC -> RFC 3339 */
        char buf[40];
        snprintf(buf, sizeof(buf), "%.*sZ", (int)(len < 32 ? len : 32), s);
        if (len >= 11)
            buf[10] = 'T';
        return json_string(buf);
    }
    default:
        return json_stringn(s, len);
    }
}

/*
 * Fetch the result of the executed statement 'st' row by row into 'fn'. 'buffered' stores the
 * whole result first (the buffers then have the right size from the start); unbuffered reads
 * stream from the server, and a value longer than its buffer is fetched again with a larger
 * one. 0 when every row was handed over, 1 when 'fn' stopped, -1 on error.
 */
static int db_fetch(struct db *db, MYSQL_STMT *st, bool buffered, db_row_fn fn, void *arg)
{
    MYSQL_RES *meta = NULL;
    MYSQL_BIND *b = NULL;
    char **bufs = NULL;
    unsigned long *lens = NULL, *caps = NULL;
    my_bool *nulls = NULL;
    unsigned ncols = 0;
    int rc = -1;

    if (buffered) {
        my_bool update_max = 1;
        mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
        if (mysql_stmt_store_result(st) != 0) {
            db_note_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
            goto out;
        }
    }
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL)
        goto out;
    ncols = mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    b = xcalloc(ncols, sizeof(*b));
    bufs = xcalloc(ncols, sizeof(*bufs));
    lens = xcalloc(ncols, sizeof(*lens));
    caps = xcalloc(ncols, sizeof(*caps));
    nulls = xcalloc(ncols, sizeof(*nulls));
    for (unsigned i = 0; i < ncols; i++) {
        caps[i] = buffered ? fields[i].max_length + 1 : 256;
        bufs[i] = xmalloc(caps[i]);
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = bufs[i];
        b[i].buffer_length = caps[i];
        b[i].length = &lens[i];
        b[i].is_null = &nulls[i];
    }
    if (mysql_stmt_bind_result(st, b) != 0)
        goto out;
    int f;
    while ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED) {
        json_t *row = json_object();
        bool rebind = false;
        for (unsigned i = 0; i < ncols; i++) {
            if (!nulls[i] && lens[i] >= caps[i]) {
                rebind = true;
                /* longer than the buffer: fetch this column again, whole */
                caps[i] = lens[i] + 1;
                bufs[i] = xrealloc(bufs[i], caps[i]);
                b[i].buffer = bufs[i];
                b[i].buffer_length = caps[i];
                if (mysql_stmt_fetch_column(st, &b[i], i, 0) != 0) {
                    json_decref(row);
                    db_note_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
                    goto out;
                }
            }
            json_t *v = nulls[i] ? json_null() : db_value(fields[i].type, bufs[i], lens[i]);
            json_object_set_new(row, fields[i].name, v ? v : json_null());
        }
        /* the grown buffers stay bound for the next rows */
        if (rebind && mysql_stmt_bind_result(st, b) != 0) {
            json_decref(row);
            goto out;
        }
        int stop = fn(row, arg);
        json_decref(row);
        if (stop) {
            rc = 1;
            goto out;
        }
    }
    if (f != MYSQL_NO_DATA) {
        db_note_error(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        goto out;
    }
    rc = 0;
out:
    if (meta)
        mysql_free_result(meta);
    for (unsigned i = 0; bufs && i < ncols; i++)
        free(bufs[i]);
    free(bufs);
    free(b);
    free(lens);
    free(caps);
    free(nulls);
    /* frees a stored result, and reads and drops what an unbuffered one still has */
    mysql_stmt_free_result(st);
    return rc;
}

static int db_append_row(json_t *row, void *arg)
{
    json_array_append(arg, row);
    return 0;
}

int db_query(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
             json_t **rows)
{
    *rows = NULL;
    MYSQL_STMT *st = db_run(db, sql, params, nparams);
    if (st == NULL)
        return -1;
    json_t *out = json_array();
    if (db_fetch(db, st, true, db_append_row, out) != 0) {
        json_decref(out);
        return -1;
    }
    *rows = out;
    return 0;
}

int db_query_each(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
                  db_row_fn fn, void *arg)
{
    MYSQL_STMT *st = db_run(db, sql, params, nparams);
    if (st == NULL)
        return -1;
    return db_fetch(db, st, false, fn, arg);
}

int db_query_one(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
                 json_t **row)
{
    json_t *rows = NULL;
    *row = NULL;
    if (db_query(db, sql, params, nparams, &rows) != 0)
        return -1;
    json_t *r = json_array_get(rows, 0);
    *row = r ? json_incref(r) : NULL;
    json_decref(rows);
    return 0;
}

bool db_error_retryable(const struct db *db)
{
    return db->last_errno == DB_ER_LOCK_DEADLOCK || db->last_errno == DB_ER_LOCK_WAIT_TIMEOUT;
}

int db_begin(struct db *db)
{
    /* No ping first: a lost link shows in START TRANSACTION itself, and outside a transaction
     * reconnecting and trying once more is safe. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (db_connect(db) != 0)
            return -1;
        if (mysql_query(db->mysql, "START TRANSACTION") == 0) {
            db->in_tx = true;
            return 0;
        }
        unsigned err = mysql_errno(db->mysql);
        db_note_error(db, err, mysql_error(db->mysql));
        if (!db_link_lost(err))
            return -1;
        db_disconnect(db);
    }
    return -1;
}

int db_commit(struct db *db)
{
    int rc = mysql_commit(db->mysql) == 0 ? 0 : -1;
    if (rc != 0)
        db_note_error(db, mysql_errno(db->mysql), mysql_error(db->mysql));
    else
        db->commits++;
    db->in_tx = false;
    return rc;
}

void db_rollback(struct db *db)
{
    if (db->mysql)
        (void)mysql_rollback(db->mysql);
    db->in_tx = false;
}

struct db_param db_param_json_str(json_t *v)
{
    return json_is_string(v) ? DBP_STR(json_string_value(v)) : DBP_STR("");
}

struct db_param db_param_json_int(json_t *v)
{
    return json_is_integer(v) ? DBP_INT(json_integer_value(v)) : DBP_NULL;
}
