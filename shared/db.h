/* SPDX-License-Identifier: Apache-2.0 */
/* db: one MariaDB connection per worker thread, prepared statements only, explicit reconnect. */
#ifndef CRM_DB_H
#define CRM_DB_H

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_STMT_CACHE 64

/* The MariaDB error numbers the services act on, named once here (svc_job_db_error maps each
 * to one problem+json answer). */
#define DB_ER_DUP_ENTRY         1062 /* a unique key holds the value already */
#define DB_ER_LOCK_WAIT_TIMEOUT 1205 /* innodb_lock_wait_timeout passed: retry */
#define DB_ER_LOCK_DEADLOCK     1213 /* chosen as a deadlock's victim: retry */
#define DB_ER_NO_REFERENCED_ROW 1452 /* a foreign key points at nothing */
#define DB_ER_ROW_IS_REFERENCED 1451 /* a foreign key still points here */
#define DB_MAX_PARAMS           256 /* placeholders in one statement (their binds live on the stack) */

struct db_config {
    const char *host;
    int port;
    const char *user;
    const char *password;
    const char *name;
    int timeout_s; /* connect, read and write timeouts */
};

struct db {
    MYSQL *mysql;
    struct db_config cfg;
    bool in_tx;
    uint64_t next_try_ms; /* reconnect backoff */
    int backoff_ms;
    struct {
        char *sql; /* a copy */
        MYSQL_STMT *stmt;
    } cache[DB_STMT_CACHE];
    size_t ncache;
    char last_error[256];
    unsigned last_errno;
    uint64_t commits; /* transactions committed on this connection (svc.c: retry or not) */
};

enum db_type { DB_NULL, DB_INT, DB_STR, DB_DOUBLE };

struct db_param {
    enum db_type type;
    long long i;
    const char *s;
    size_t len;
    double d;
};

#define DBP_INT(v)     ((struct db_param){DB_INT, (long long)(v), NULL, 0, 0})
#define DBP_STR(v)     ((struct db_param){DB_STR, 0, (v), strlen(v), 0})
#define DBP_STRN(v, n) ((struct db_param){DB_STR, 0, (v), (n), 0})
#define DBP_NULL       ((struct db_param){DB_NULL, 0, NULL, 0, 0})

/* Parameters from event data: a JSON string (else '') and a JSON integer (else NULL). The
 * string is borrowed from 'v'. */
struct db_param db_param_json_str(json_t *v);
struct db_param db_param_json_int(json_t *v);

/* Set up 'db' (copies nothing: 'cfg' strings must outlive it). Connects lazily. */
void db_init(struct db *db, const struct db_config *cfg);
void db_cleanup(struct db *db);

/* Connect when not connected, honouring a backoff after failures. utf8mb4 is set with
 * mysql_set_character_set, the session runs in UTC with strict SQL mode. MYSQL_OPT_RECONNECT
 * stays off: a silent reconnect inside a transaction would lose it. */
int db_connect(struct db *db) __attribute__((warn_unused_result));
/* Round trip to the server; reconnects once when idle and the link was lost. */
int db_ping(struct db *db) __attribute__((warn_unused_result));

int db_begin(struct db *db) __attribute__((warn_unused_result));
int db_commit(struct db *db) __attribute__((warn_unused_result));
void db_rollback(struct db *db);

/* Execute a statement that returns no rows. 'affected' and 'insert_id' may be NULL. */
int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
            uint64_t *affected, uint64_t *insert_id) __attribute__((warn_unused_result));

/* INSERT 'nrows' rows of 'ncols' parameters each ('params' row after row), in that order, as
 * few multi-row statements: 'head' is "INSERT INTO t (a, b) VALUES ", 'row' one row's
 * placeholders "(?,?)". Statements carry 2^k rows (at most DB_MAX_PARAMS parameters), so a
 * table needs only a handful of prepared texts. One round trip per statement instead of per
 * row; 0, or -1 (db->last_errno says why; earlier statements are not undone). */
int db_insert_rows(struct db *db, const char *head, const char *row, size_t ncols,
                   const struct db_param *params, size_t nrows) __attribute__((warn_unused_result));

/* The JSON text of 'n' rows of 'ncols' integers ('v' row after row): [[a,b],[a,b],...], or
 * [a,a,...] when 'ncols' is 1. The one parameter of a JSON_TABLE join ("JOIN JSON_TABLE(?,
 * '$[*]' COLUMNS (id BIGINT PATH '$[0]', ...)) j ON ..."), which stands for any number of rows
 * in one statement text, where a placeholder a value would pass DB_MAX_PARAMS and make a text
 * per count. Free it. */
char *db_json_ints(const long long *v, size_t ncols, size_t n);

/* Run a query; '*rows' receives an array of objects keyed by column name. Integers become JSON
 * integers, DECIMAL a string (money stays exact), DATETIME/TIMESTAMP an RFC 3339 UTC string. */
int db_query(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
             json_t **rows) __attribute__((warn_unused_result));

/* Run a query and hand each row to 'fn' as it arrives from the server (unbuffered: a scan of a
 * million rows holds one row in memory at a time). 'row' is borrowed: 'fn' keeps a reference
 * if it needs one. 'fn' returns 0 to go on, or non-zero to stop (the rest is discarded; the call
 * then returns 1). Returns 0 when every row was handed over, -1 on a database error. No other
 * statement may run on 'db' inside 'fn'. */
typedef int (*db_row_fn)(json_t *row, void *arg);
int db_query_each(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
                  db_row_fn fn, void *arg) __attribute__((warn_unused_result));

/* First row of a query as a new reference ('*row' NULL when there is none). */
int db_query_one(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
                 json_t **row) __attribute__((warn_unused_result));

/* True when the last failure is one a retry of the whole transaction may cure (deadlock, lock
 * wait timeout). */
bool db_error_retryable(const struct db *db);

#endif
