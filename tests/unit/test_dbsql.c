/* SPDX-License-Identifier: Apache-2.0 */
/* libcrm's SQL helpers (db, listq, scope, migrate) against a real MariaDB: the test stack's. */

/*
 * Where the database is: CRM_TEST_MYSQL_SOCKET, the unix socket on which root logs in by socket
 * authentication (the test stack's MariaDB), and CRM_TEST_MYSQL_PORT, its TCP port on 127.0.0.1.
 * As root the test drops and re-creates the scratch schemas crm_dbtest and crm_dbtest_migrate
 * and the user crm_dbtest@127.0.0.1 (a new random password each run); libcrm then connects as
 * that user over TCP, as a service does. The schemas are left behind for a look after a failure.
 *
 * Without CRM_TEST_MYSQL_SOCKET there is nothing to test against: the binary exits with 77,
 * which ctest shows as skipped (SKIP_RETURN_CODE), never as passed. deploy/crm test runs it
 * against its test stack as a step of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "crmlog.h"
#include "db.h"
#include "events.h"
#include "listq.h"
#include "migrate.h"
#include "ownerproj.h"
#include "scope.h"
#include "util.h"

#define DBTEST_SKIPPED 77 /* SKIP_RETURN_CODE in tests/unit/CMakeLists.txt */
#define DBTEST_SCHEMA  "crm_dbtest"
#define DBTEST_MSCHEMA "crm_dbtest_migrate" /* migrate_run's own, so its counts are exact */
#define DBTEST_USER    "crm_dbtest"

/* The group's state (cmocka hands it to every test). */
struct dbtest {
    struct db_config cfg;  /* crm_dbtest as DBTEST_USER over TCP */
    struct db_config mcfg; /* crm_dbtest_migrate, likewise */
    struct db db;
    char password[49];
    char emptydir[64]; /* a migrations directory without files */
};

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

/* Run 'sql' (no rows, no parameters) or fail the test with the database's reason. */
static void exec_ok(struct db *db, const char *sql)
{
    if (db_exec(db, sql, NULL, 0, NULL, NULL) != 0)
        fail_msg("%s: %s", sql, db->last_error);
}

/* CREATE TABLE 'name' 'def' anew: a test that failed half-way leaves its tables behind. */
static void create_table(struct db *db, const char *name, const char *def)
{
    char *drop = xasprintf("DROP TABLE IF EXISTS %s", name);
    char *create = xasprintf("CREATE TABLE %s %s", name, def);
    exec_ok(db, drop);
    exec_ok(db, create);
    free(drop);
    free(create);
}

/* The rows of a query (a new reference) or fail the test. */
static json_t *rows_of(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
    json_t *rows = NULL;
    if (db_query(db, sql, p, n, &rows) != 0)
        fail_msg("%s: %s", sql, db->last_error);
    return rows;
}

/* The integer column 'n' of the one row of 'sql'. */
static long long int_of(struct db *db, const char *sql)
{
    json_t *row = NULL;
    if (db_query_one(db, sql, NULL, 0, &row) != 0)
        fail_msg("%s: %s", sql, db->last_error);
    assert_non_null(row);
    json_t *n = json_object_get(row, "n");
    long long v = json_is_integer(n)
                      ? json_integer_value(n)
                      : strtoll(json_string_value(n) ? json_string_value(n) : "-1", NULL, 10);
    json_decref(row);
    return v;
}

/* The "id" column of every row of 'sql', in order, as a JSON array. */
static json_t *ids_of(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
    json_t *rows = rows_of(db, sql, p, n), *ids = json_array(), *row;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        json_array_append(ids, json_object_get(row, "id"));
    }
    json_decref(rows);
    return ids;
}

/* Fail unless 'got' (taken) holds exactly the 'n' integers 'want', in this order. */
static void expect_ids(json_t *got, const long long *want, size_t n, const char *what)
{
    json_t *w = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(w, json_integer(want[i]));
    bool same = json_equal(got, w);
    if (!same) {
        char *g = json_dumps(got, JSON_COMPACT), *e = json_dumps(w, JSON_COMPACT);
        print_error("%s:\n  got  %s\n  want %s\n", what, g, e);
        free(g);
        free(e);
    }
    json_decref(got);
    json_decref(w);
    assert_true(same);
}
#define EXPECT_IDS(got, what, ...)                                                                 \
    expect_ids((got), (const long long[]){__VA_ARGS__},                                            \
               sizeof((const long long[]){__VA_ARGS__}) / sizeof(long long), (what))

/* Fail unless 'got' (taken) equals the JSON text 'want'. */
static void expect_json(json_t *got, const char *want, const char *what)
{
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    if (w == NULL)
        fail_msg("bad expected JSON for %s: %s", what, jerr.text);
    bool same = json_equal(got, w);
    if (!same) {
        char *g = json_dumps(got, JSON_COMPACT);
        print_error("%s:\n  got  %s\n  want %s\n", what, g, want);
        free(g);
    }
    json_decref(got);
    json_decref(w);
    assert_true(same);
}

/* 'n' bytes of a pattern that differs with 'seed' (so a stale buffer shows), NUL-terminated. */
static char *pattern(size_t n, unsigned seed)
{
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (i * 7 + seed) % 26);
    s[n] = '\0';
    return s;
}

/* 'unit' repeated until 'n' bytes or more, NUL-terminated. */
static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit), len = 0;
    char *s = xmalloc(n + ul + 1);
    while (len < n) {
        memcpy(s + len, unit, ul);
        len += ul;
    }
    s[len] = '\0';
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* db_insert_rows                                                                              */

/* The statements db_insert_rows may send for 'nrows' rows of 4 columns: 64 rows at most
 * (256 parameters), then the binary digits of the rest. */
static long long insert_statements(size_t nrows)
{
    long long n = (long long)(nrows / 64);
    for (size_t rest = nrows % 64; rest; rest &= rest - 1)
        n++;
    return n;
}

static long long stmt_executions(struct db *db)
{
    return int_of(db, "SELECT VARIABLE_VALUE AS n FROM information_schema.SESSION_STATUS"
                      " WHERE VARIABLE_NAME = 'COM_STMT_EXECUTE'");
}

/* Row 'i' of the round-trip table: the values a service could meet, NULL among them. */
struct trip_row {
    long long id;
    bool n_null;
    long long n;
    const char *s; /* NULL: SQL NULL */
    char *t;       /* NULL: SQL NULL; malloc'd */
    char sbuf[32];
};

static void trip_make(struct trip_row *r, size_t i)
{
    static const char *const texts[] = {
        "张伟🙂", NULL, "", "O'Brien \"q\" \\ % _ ;--", NULL, "🙂🙃 emoji only"};
    memset(r, 0, sizeof(*r));
    r->id = (long long)i + 1;
    r->n_null = i % 5 == 0;
    r->n = i == 1 ? LLONG_MIN : i == 2 ? LLONG_MAX : (long long)i * 1000000007LL * (i % 2 ? -1 : 1);
    r->s = texts[i % 6];
    if (i % 6 == 4) {
        snprintf(r->sbuf, sizeof(r->sbuf), "用户%zu", i);
        r->s = r->sbuf;
    }
    if (i % 50 == 7)
        r->t = repeat("长文本张伟🙂abc",
                      70000); /* 70 KB, a long value inside a big statement */
    else if (i % 3 != 0)
        r->t = xasprintf("t%zu", i);
}

static void trip_params(const struct trip_row *r, struct db_param *p)
{
    p[0] = DBP_INT(r->id);
    p[1] = r->n_null ? DBP_NULL : DBP_INT(r->n);
    p[2] = r->s ? DBP_STR(r->s) : DBP_NULL;
    p[3] = r->t ? DBP_STR(r->t) : DBP_NULL;
}

/* Fail unless 'row' holds exactly what 'r' was. */
static void trip_check(json_t *row, const struct trip_row *r)
{
    assert_int_equal(json_integer_value(json_object_get(row, "id")), r->id);
    json_t *n = json_object_get(row, "n"), *s = json_object_get(row, "s"),
           *t = json_object_get(row, "t");
    if (r->n_null)
        assert_true(json_is_null(n));
    else
        assert_true(json_is_integer(n) && json_integer_value(n) == r->n);
    if (r->s == NULL) {
        assert_true(json_is_null(s));
    } else {
        assert_true(json_is_string(s));
        assert_int_equal(json_string_length(s), strlen(r->s));
        assert_string_equal(json_string_value(s), r->s);
    }
    if (r->t == NULL) {
        assert_true(json_is_null(t));
    } else {
        assert_true(json_is_string(t));
        assert_int_equal(json_string_length(t), strlen(r->t));
        assert_memory_equal(json_string_value(t), r->t, strlen(r->t));
    }
}

#define TRIP_HEAD "INSERT INTO t_trip (id, n, s, t) VALUES "

static void test_insert_rows_round_trip(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    static const size_t counts[] = {0, 1, 7, 300};
    create_table(db, "t_trip",
                 "(id BIGINT PRIMARY KEY, n BIGINT NULL, s VARCHAR(64) NULL,"
                 " t MEDIUMTEXT NULL) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci");
    /* what reading the counter costs by itself */
    long long c0 = stmt_executions(db), reading = stmt_executions(db) - c0;

    for (size_t c = 0; c < ARRAY_LEN(counts); c++) {
        size_t nrows = counts[c];
        struct trip_row *rows = xcalloc(nrows + 1, sizeof(*rows));
        struct db_param *p = xcalloc(nrows * 4 + 1, sizeof(*p));
        for (size_t i = 0; i < nrows; i++) {
            trip_make(&rows[i], i);
            trip_params(&rows[i], &p[i * 4]);
        }
        exec_ok(db, "TRUNCATE TABLE t_trip");
        long long before = stmt_executions(db);
        if (db_insert_rows(db, TRIP_HEAD, "(?,?,?,?)", 4, p, nrows) != 0)
            fail_msg("db_insert_rows of %zu rows: %s", nrows, db->last_error);
        long long sent = stmt_executions(db) - before - reading;
        if (sent != insert_statements(nrows))
            fail_msg("%zu rows took %lld statements, want %lld", nrows, sent,
                     insert_statements(nrows));

        json_t *got = rows_of(db, "SELECT id, n, s, t FROM t_trip ORDER BY id", NULL, 0);
        assert_int_equal(json_array_size(got), nrows);
        for (size_t i = 0; i < nrows; i++)
            trip_check(json_array_get(got, i), &rows[i]);
        json_decref(got);
        for (size_t i = 0; i < nrows; i++)
            free(rows[i].t);
        free(rows);
        free(p);
    }
    /* every text it prepared carries 2^k rows, at most 64 (256 parameters of 4 columns) */
    size_t texts = 0;
    for (size_t i = 0; i < db->ncache; i++) {
        const char *sql = db->cache[i].sql;
        if (strncmp(sql, TRIP_HEAD, strlen(TRIP_HEAD)) != 0)
            continue;
        size_t k = 0;
        for (const char *at = sql; (at = strstr(at, "(?,?,?,?)")) != NULL; at++)
            k++;
        if (k == 0 || k > 64 || (k & (k - 1)) != 0)
            fail_msg("a statement of %zu rows: %s", k, sql);
        texts++;
    }
    /* 1; 4, 2, 1; 64, 32, 8, 4: six texts */
    assert_int_equal(texts, 6);
    exec_ok(db, "DROP TABLE t_trip");
}

/* A failing statement stops db_insert_rows with the reason; the statements before it stay. */
static void test_insert_rows_duplicate(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    struct db_param p[7 * 2];
    create_table(db, "t_dup", "(id INT PRIMARY KEY, v VARCHAR(8) NOT NULL)");
    for (int i = 0; i < 7; i++) {
        p[i * 2] = DBP_INT(i == 5 ? 1 : i + 1); /* row 6 repeats id 1: in the second statement */
        p[i * 2 + 1] = DBP_STR("x");
    }
    assert_int_equal(db_insert_rows(db, "INSERT INTO t_dup (id, v) VALUES ", "(?,?)", 2, p, 7), -1);
    assert_int_equal(db->last_errno, DB_ER_DUP_ENTRY);
    assert_false(db_error_retryable(db));
    /* rows 1-4 went in one statement; rows 5-6 failed as a statement; row 7 was never sent */
    EXPECT_IDS(ids_of(db, "SELECT id FROM t_dup ORDER BY id", NULL, 0), "rows kept", 1, 2, 3, 4);
    assert_int_equal(db_insert_rows(db, "INSERT INTO t_dup (id, v) VALUES ", "(?,?)", 0, p, 1), -1);
    exec_ok(db, "DROP TABLE t_dup");
}

/* ------------------------------------------------------------------------------------------ */
/* db_query_one, db_query                                                                      */

static void test_query_one(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    json_t *row = NULL;
    create_table(db, "t_one",
                 "(id INT PRIMARY KEY, name VARCHAR(32) NOT NULL,"
                 " amount DECIMAL(12,2) NOT NULL, at DATETIME(3) NOT NULL, ts TIMESTAMP NULL,"
                 " ratio DOUBLE NULL)");
    exec_ok(db, "INSERT INTO t_one VALUES (2, '李娜', 12.30, '2024-05-06 07:08:09.123',"
                " '2024-05-06 07:08:09', 0.5), (1, '张伟🙂', -0.05, '1999-12-31 23:59:59.000',"
                " NULL, NULL), (3, 'c', 0, '2030-01-01 00:00:00', NULL, NULL)");

    /* the first row of the query's order, typed as the header says */
    struct db_param p[] = {DBP_INT(2)};
    assert_int_equal(db_query_one(db, "SELECT * FROM t_one WHERE id >= ? ORDER BY id", p, 1, &row),
                     0);
    expect_json(row,
                "{\"id\":2,\"name\":\"李娜\",\"amount\":\"12.30\","
                "\"at\":\"2024-05-06T07:08:09.123Z\",\"ts\":\"2024-05-06T07:08:09Z\","
                "\"ratio\":0.5}",
                "first row");
    assert_int_equal(db_query_one(db, "SELECT * FROM t_one ORDER BY id DESC", NULL, 0, &row), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "id")), 3);
    json_decref(row);
    assert_int_equal(db_query_one(db, "SELECT * FROM t_one ORDER BY id", NULL, 0, &row), 0);
    expect_json(row,
                "{\"id\":1,\"name\":\"张伟🙂\",\"amount\":\"-0.05\","
                "\"at\":\"1999-12-31T23:59:59.000Z\",\"ts\":null,\"ratio\":null}",
                "row with NULLs");

    /* none: 0 and NULL ('row' starts as something else, to see it set) */
    json_t *sentinel = json_object();
    row = sentinel;
    assert_int_equal(db_query_one(db, "SELECT * FROM t_one WHERE id = ?", &DBP_INT(99), 1, &row),
                     0);
    assert_null(row);

    /* the session runs in UTC */
    assert_int_equal(int_of(db, "SELECT NOW() = UTC_TIMESTAMP() AS n"), 1);

    /* an error: -1, the server's number, nothing in '*row' */
    row = sentinel;
    assert_int_equal(db_query_one(db, "SELECT nope FROM t_one", NULL, 0, &row), -1);
    assert_null(row);
    json_decref(sentinel);
    assert_int_equal(db->last_errno, 1054); /* ER_BAD_FIELD_ERROR */
    assert_false(db_error_retryable(db));
    /* a parameter count that does not match is refused before it reaches the server (db.c
     * logs it as a bug) */
    assert_int_equal(db_query_one(db, "SELECT * FROM t_one WHERE id = ?", NULL, 0, &row), -1);
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM t_one"), 3);
    exec_ok(db, "DROP TABLE t_one");
}

/* ------------------------------------------------------------------------------------------ */
/* db_query_each                                                                               */

#define EACH_ROWS 40

/* What row 'id' of t_each holds: lengths around the first buffer's 256 bytes, long values
 * between short ones, NULL and the empty string. NULL return: SQL NULL. */
static char *each_value(int id)
{
    switch (id) {
    case 3:
        return pattern(255, 3);
    case 4:
        return pattern(256, 4);
    case 5:
        return pattern(257, 5);
    case 6:
        return pattern(100 * 1024, 6);
    case 7:
        return xstrdup("short after long");
    case 8:
        return NULL;
    case 9:
        return pattern(300 * 1024, 9);
    case 10:
        return xstrdup("");
    case 11:
        return repeat("张伟🙂", 100 * 1024);
    default:
        return xasprintf("v-%d-张伟🙂", id);
    }
}

struct each_ctx {
    int rows;      /* handed over so far */
    int stop_at;   /* return non-zero on this row (0: never) */
    char bad[160]; /* the first mismatch */
};

static int each_row(json_t *row, void *arg)
{
    struct each_ctx *c = arg;
    int want_id = c->rows + 1;
    c->rows++;
    long long id = json_integer_value(json_object_get(row, "id"));
    json_t *v = json_object_get(row, "v");
    char *want = each_value(want_id);
    if (c->bad[0] == '\0') {
        if (id != want_id)
            snprintf(c->bad, sizeof(c->bad), "row %d has id %lld", want_id, id);
        else if (want == NULL ? !json_is_null(v)
                              : !json_is_string(v) || json_string_length(v) != strlen(want) ||
                                    memcmp(json_string_value(v), want, strlen(want)) != 0)
            snprintf(c->bad, sizeof(c->bad), "row %d: value of %zu bytes, want %zu", want_id,
                     json_string_length(v), want ? strlen(want) : 0);
    }
    free(want);
    return c->stop_at && c->rows == c->stop_at;
}

static void test_query_each(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    static const char sql[] = "SELECT id, v FROM t_each ORDER BY id";
    create_table(db, "t_each",
                 "(id INT PRIMARY KEY, v MEDIUMTEXT NULL)"
                 " CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci");
    /* inserted out of order: the ORDER BY, not the insertion, gives the order */
    for (int k = 0; k < EACH_ROWS; k++) {
        int id = (k * 17) % EACH_ROWS + 1;
        char *v = each_value(id);
        struct db_param p[] = {DBP_INT(id), v ? DBP_STR(v) : DBP_NULL};
        if (db_exec(db, "INSERT INTO t_each (id, v) VALUES (?, ?)", p, 2, NULL, NULL) != 0)
            fail_msg("insert: %s", db->last_error);
        free(v);
    }

    /* every row, in order, each value whole */
    struct each_ctx all = {0};
    assert_int_equal(db_query_each(db, sql, NULL, 0, each_row, &all), 0);
    if (all.bad[0])
        fail_msg("%s", all.bad);
    assert_int_equal(all.rows, EACH_ROWS);

    /* stopped on row 5 (before the long values) and on row 6 (on one): 1, nothing after it
     * handed over, and the rest of the result discarded so the connection goes on */
    for (int stop = 5; stop <= 6; stop++) {
        struct each_ctx some = {.stop_at = stop};
        assert_int_equal(db_query_each(db, sql, NULL, 0, each_row, &some), 1);
        if (some.bad[0])
            fail_msg("%s", some.bad);
        assert_int_equal(some.rows, stop);
        assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM t_each"), EACH_ROWS);
    }
    /* the same cached statement streams the whole result again */
    struct each_ctx again = {0};
    assert_int_equal(db_query_each(db, sql, NULL, 0, each_row, &again), 0);
    assert_int_equal(again.rows, EACH_ROWS);
    if (again.bad[0])
        fail_msg("%s", again.bad);

    /* parameters; and the buffered db_query returns the long values whole as well */
    struct each_ctx from9 = {.rows = 8};
    assert_int_equal(
        db_query_each(db, "SELECT id, v FROM t_each WHERE id BETWEEN ? AND ? ORDER BY id",
                      (struct db_param[]){DBP_INT(9), DBP_INT(11)}, 2, each_row, &from9),
        0);
    assert_int_equal(from9.rows, 11);
    if (from9.bad[0])
        fail_msg("%s", from9.bad);
    json_t *rows = rows_of(db, sql, NULL, 0);
    struct each_ctx buffered = {0};
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        each_row(row, &buffered);
    }
    json_decref(rows);
    if (buffered.bad[0])
        fail_msg("db_query: %s", buffered.bad);
    assert_int_equal(buffered.rows, EACH_ROWS);

    /* an error: -1 with the server's reason, the callback never called */
    struct each_ctx none = {0};
    assert_int_equal(db_query_each(db, "SELECT nope FROM t_each", NULL, 0, each_row, &none), -1);
    assert_int_equal(db->last_errno, 1054);
    assert_int_equal(none.rows, 0);
    assert_int_equal(int_of(db, "SELECT 7 AS n"), 7);
    exec_ok(db, "DROP TABLE t_each");
}

/* ------------------------------------------------------------------------------------------ */
/* duplicate keys, lock waits and deadlocks                                                    */

struct update_job {
    struct db *db;
    long long id;
    int rc;
};

static void *update_thread(void *arg)
{
    struct update_job *j = arg;
    j->rc =
        db_exec(j->db, "UPDATE t_lock SET v = v + 1 WHERE id = ?", &DBP_INT(j->id), 1, NULL, NULL);
    return NULL;
}

static void test_errors_retryable(void **state)
{
    struct dbtest *t = *state;
    struct db *a = &t->db, b;
    create_table(a, "t_lock",
                 "(id INT PRIMARY KEY, v INT NOT NULL, code VARCHAR(8) NOT NULL,"
                 " UNIQUE KEY uq_code (code)) ENGINE=InnoDB");
    exec_ok(a, "INSERT INTO t_lock VALUES (1, 0, 'a'), (2, 0, 'b')");

    /* a duplicate: on the primary key and on a unique key, never worth a retry */
    struct db_param dup_pk[] = {DBP_INT(1), DBP_STR("z")}, dup_uq[] = {DBP_INT(3), DBP_STR("a")};
    assert_int_equal(db_exec(a, "INSERT INTO t_lock VALUES (?, 0, ?)", dup_pk, 2, NULL, NULL), -1);
    assert_int_equal(a->last_errno, DB_ER_DUP_ENTRY);
    assert_false(db_error_retryable(a));
    assert_int_equal(db_exec(a, "INSERT INTO t_lock VALUES (?, 0, ?)", dup_uq, 2, NULL, NULL), -1);
    assert_int_equal(a->last_errno, DB_ER_DUP_ENTRY);
    assert_non_null(strstr(a->last_error, "uq_code"));
    uint64_t affected = 0, insert_id = 9;
    struct db_param ok[] = {DBP_INT(3), DBP_STR("c")};
    assert_int_equal(
        db_exec(a, "INSERT INTO t_lock VALUES (?, 0, ?)", ok, 2, &affected, &insert_id), 0);
    assert_int_equal(affected, 1);
    assert_int_equal(insert_id, 0); /* no AUTO_INCREMENT column */

    /* a lock wait timeout: retryable */
    db_init(&b, &t->cfg);
    exec_ok(&b, "SET SESSION innodb_lock_wait_timeout = 1");
    assert_int_equal(db_begin(a), 0);
    exec_ok(a, "UPDATE t_lock SET v = v + 1 WHERE id = 1");
    assert_int_equal(db_begin(&b), 0);
    assert_int_equal(db_exec(&b, "UPDATE t_lock SET v = v + 1 WHERE id = 1", NULL, 0, NULL, NULL),
                     -1);
    assert_int_equal(b.last_errno, DB_ER_LOCK_WAIT_TIMEOUT);
    assert_true(db_error_retryable(&b));
    db_rollback(&b);
    db_rollback(a);

    /* a deadlock: a holds 1 and wants 2, b holds 2 and wants 1; one is the victim, retryable */
    exec_ok(&b, "SET SESSION innodb_lock_wait_timeout = 20");
    assert_int_equal(db_begin(a), 0);
    assert_int_equal(db_begin(&b), 0);
    exec_ok(a, "UPDATE t_lock SET v = v + 1 WHERE id = 1");
    exec_ok(&b, "UPDATE t_lock SET v = v + 1 WHERE id = 2");
    struct update_job ja = {a, 2, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, update_thread, &ja), 0);
    usleep(200 * 1000); /* let a wait first; either order ends in the deadlock */
    int rb = db_exec(&b, "UPDATE t_lock SET v = v + 1 WHERE id = 1", NULL, 0, NULL, NULL);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true((ja.rc == -1) != (rb == -1)); /* exactly one lost */
    struct db *victim = ja.rc == -1 ? a : &b;
    assert_int_equal(victim->last_errno, DB_ER_LOCK_DEADLOCK);
    assert_true(db_error_retryable(victim));
    db_rollback(a);
    db_rollback(&b);

    /* both connections go on */
    assert_int_equal(int_of(&b, "SELECT COUNT(*) AS n FROM t_lock"), 3);
    db_cleanup(&b);
    assert_int_equal(int_of(a, "SELECT SUM(v) AS n FROM t_lock"), 0);
    exec_ok(a, "DROP TABLE t_lock");
}

/* ------------------------------------------------------------------------------------------ */
/* events_batch, ownerproj_move_rows                                                           */

#define BATCH_EVENTS 70 /* more than one statement's rows of each table */

/* A batch's events land in the outbox in the order added, each with its envelope, and their
 * history rows beside them (a contact's under its customer, a login's none); the batch is
 * empty afterwards, and an empty one writes nothing. */
static void test_events_batch(void **state)
{
    struct db *db = &((struct dbtest *)*state)->db;
    exec_ok(db, "DROP TABLE IF EXISTS outbox");
    exec_ok(db, "DROP TABLE IF EXISTS record_history");
    exec_ok(db, events_migration.sql);
    exec_ok(db, events_history_migration.sql);
    events_history_enable("customer", "customer_id");
    struct events_batch b;
    events_batch_init(&b);
    char ids[BATCH_EVENTS][37];
    const struct events_actor actor = {"7", "127.0.0.1"};
    for (int i = 0; i < BATCH_EVENTS; i++) {
        char sid[24];
        snprintf(sid, sizeof(sid), "%d", 100 + i);
        int rc;
        if (i % 10 == 9) /* about no numeric record: no history */
            rc = events_batch_add(&b, "auth", "auth.login_succeeded", &actor, "user", "bob", NULL,
                                  "rq-1", ids[i]);
        else if (i % 2) /* a contact: its customer's history */
            rc = events_batch_add(&b, "customer", "contact.updated", &actor, "contact", sid,
                                  json_pack("{s:i, s:s}", "customer_id", i, "name", "王小明"), NULL,
                                  ids[i]);
        else
            rc = events_batch_add(&b, "customer", "customer.updated", NULL, "customer", sid,
                                  json_pack("{s:i}", "n", i), NULL, ids[i]);
        assert_int_equal(rc, 0);
    }
    assert_int_equal(b.n, BATCH_EVENTS);
    if (events_batch_write(db, &b) != 0)
        fail_msg("events_batch_write: %s", db->last_error);
    assert_int_equal(b.n, 0);
    json_t *rows =
        rows_of(db, "SELECT event_id, event_type, envelope FROM outbox ORDER BY id", NULL, 0);
    assert_int_equal(json_array_size(rows), BATCH_EVENTS);
    for (int i = 0; i < BATCH_EVENTS; i++) {
        json_t *row = json_array_get(rows, (size_t)i);
        json_t *env = json_loads(json_string_value(json_object_get(row, "envelope")), 0, NULL);
        assert_string_equal(json_string_value(json_object_get(row, "event_id")), ids[i]);
        assert_string_equal(json_string_value(json_object_get(env, "id")), ids[i]);
        assert_string_equal(json_string_value(json_object_get(row, "event_type")),
                            json_string_value(json_object_get(env, "type")));
        if (i % 10 == 9) {
            expect_json(json_incref(json_object_get(env, "actor")),
                        "{\"user_id\": \"7\", \"ip\": \"127.0.0.1\"}", "a login's actor");
            assert_string_equal(json_string_value(json_object_get(env, "request_id")), "rq-1");
        } else if (i % 2 == 0) {
            char want[32];
            snprintf(want, sizeof(want), "{\"n\": %d}", i);
            expect_json(json_incref(json_object_get(env, "data")), want, "a customer's data");
        }
        json_decref(env);
    }
    json_decref(rows);
    /* 63 of 70 have a history row: 28 contacts under their customer (customer_id i) */
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM record_history"), 63);
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM record_history h JOIN outbox o ON"
                                " o.event_id = h.event_id WHERE h.subject_type = 'contact' AND"
                                " h.record_type = 'customer' AND h.record_id + 100 = h.subject_id"
                                " AND h.actor_user_id = 7 AND JSON_VALUE(h.data, '$.name') ="
                                " '王小明'"),
                     28);
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM record_history WHERE subject_type ="
                                " 'customer' AND record_id = subject_id AND actor_user_id IS NULL"),
                     35);
    assert_int_equal(events_batch_write(db, &b), 0); /* nothing staged: nothing written */
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM outbox"), BATCH_EVENTS);
    /* a single event goes the same way */
    char one[37];
    assert_int_equal(events_outbox_add(db, "customer", "customer.deleted", NULL, "customer", "5",
                                       NULL, NULL, one),
                     0);
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM outbox o JOIN record_history h ON"
                                " h.event_id = o.event_id WHERE o.id = (SELECT MAX(id) FROM outbox)"
                                " AND h.record_id = 5"),
                     1);
    events_batch_cleanup(&b);
    events_history_enable(NULL, NULL);
    exec_ok(db, "DROP TABLE outbox");
    exec_ok(db, "DROP TABLE record_history");
}

/* db_json_ints writes the JSON a JSON_TABLE reads; ownerproj_move_rows moves each customer to
 * its own new owner in one statement, except one a later transfer moved already; customers not
 * named stay. */
static void test_ownerproj_move_rows(void **state)
{
    struct db *db = &((struct dbtest *)*state)->db;
    exec_ok(db, "DROP TABLE IF EXISTS customer_owners");
    exec_ok(db, ownerproj_migration.sql);
    exec_ok(db, "INSERT INTO customer_owners (customer_id, manager_id, transfer_id) VALUES"
                " (1, 50, 0), (2, 50, 4), (3, 50, 9), (4, 51, 0), (5, 50, 0)");
    char *text = db_json_ints((const long long[]){1, -2, 3}, 1, 3);
    assert_string_equal(text, "[1,-2,3]");
    free(text);
    text = db_json_ints((const long long[]){1, 2, 3, LLONG_MAX, LLONG_MIN, 0}, 3, 2);
    assert_string_equal(text, "[[1,2,3],[9223372036854775807,-9223372036854775808,0]]");
    free(text);
    text = db_json_ints(NULL, 2, 0);
    assert_string_equal(text, "[]");
    free(text);
    assert_int_equal(ownerproj_move_rows(db, NULL, 0, 5), 0);
    const long long moves[] = {1, 11, 2, 12, 3, 13, 4, 11};
    if (ownerproj_move_rows(db, moves, 4, 5) != 0)
        fail_msg("ownerproj_move_rows: %s", db->last_error);
    expect_json(rows_of(db,
                        "SELECT customer_id AS c, manager_id AS m, transfer_id AS t"
                        " FROM customer_owners ORDER BY customer_id",
                        NULL, 0),
                "[{\"c\": 1, \"m\": 11, \"t\": 5}, {\"c\": 2, \"m\": 12, \"t\": 5},"
                " {\"c\": 3, \"m\": 50, \"t\": 9}, {\"c\": 4, \"m\": 11, \"t\": 5},"
                " {\"c\": 5, \"m\": 50, \"t\": 0}]",
                "the owners after the move");
    exec_ok(db, "DROP TABLE customer_owners");
}

/* ------------------------------------------------------------------------------------------ */
/* listq                                                                                       */

#define PEOPLE 41

static const struct listq_sort people_sorts[] = {
    {"id", "p.id", LISTQ_INT, true},
    {"name", "p.name", LISTQ_STR, false},
    {"score", "p.score", LISTQ_INT, false},
    {"created_at", "p.created_at", LISTQ_TIME, true},
    {NULL, NULL, 0, false},
};

static const struct listq_spec people_spec = {
    .from = "t_people p",
    .id = "p.id",
    .columns = "p.id, p.name, p.score, tm.name AS team",
    .joins = " LEFT JOIN t_teams tm ON tm.id = p.team_id",
};

/* The names: LIKE's wildcards and escape next to what they would wrongly match, names equal
 * under the collation (ties broken by id), long Chinese names whose cursors are long. */
static void people_name(size_t i, char *out, size_t outlen)
{
    static const char *const special[] = {"100%",        "100x",      "a_b",        "axb",
                                          "back\\slash", "backslash", "张伟🙂", "张伟😀"};
    if (i < ARRAY_LEN(special)) {
        snprintf(out, outlen, "%s", special[i]);
    } else if (i < 13) { /* 60 Chinese characters and a digit: 181 bytes */
        size_t len = 0;
        for (int k = 0; k < 60; k++)
            len += (size_t)snprintf(out + len, outlen - len, "长");
        snprintf(out + len, outlen - len, "%zu", i - 7);
    } else if (i == 13) { /* 64 emoji: 256 bytes, all VARCHAR(64) holds */
        size_t len = 0;
        for (int k = 0; k < 64; k++)
            len += (size_t)snprintf(out + len, outlen - len, "🙂");
    } else {
        snprintf(out, outlen, "user-%02zu", i);
    }
}

static void people_create(struct db *db)
{
    char names[PEOPLE][320], created[PEOPLE][32];
    static const char *const cities[] = {"北京", "上海", "Berlin"};
    struct db_param p[PEOPLE * 6];
    create_table(db, "t_teams", "(id INT PRIMARY KEY, name VARCHAR(32) NOT NULL)");
    exec_ok(db, "INSERT INTO t_teams VALUES (1, '华北'), (2, 'East')");
    create_table(db, "t_people",
                 "(id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                 " name VARCHAR(64) NOT NULL, city VARCHAR(16) NOT NULL, score INT NOT NULL,"
                 " created_at DATETIME(3) NOT NULL, team_id INT NULL, KEY (name), KEY (score),"
                 " KEY (created_at)) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci");
    for (size_t i = 0; i < PEOPLE; i++) {
        people_name(i, names[i], sizeof(names[i]));
        snprintf(created[i], sizeof(created[i]), "2024-01-01 00:00:%02zu.%03d", i % 6,
                 i % 4 == 0 ? 250 : 0);
        struct db_param *r = &p[i * 6];
        r[0] = DBP_INT(i + 1);
        r[1] = DBP_STR(names[i]);
        r[2] = DBP_STR(cities[i % 3]);
        r[3] = DBP_INT(i % 4);
        r[4] = DBP_STR(created[i]);
        r[5] = i % 5 == 0 ? DBP_NULL : DBP_INT(1 + i % 2);
    }
    if (db_insert_rows(db,
                       "INSERT INTO t_people (id, name, city, score, created_at, team_id)"
                       " VALUES ",
                       "(?,?,?,?,?,?)", 6, p, PEOPLE) != 0)
        fail_msg("people: %s", db->last_error);
}

static void people_drop(struct db *db)
{
    exec_ok(db, "DROP TABLE t_people");
    exec_ok(db, "DROP TABLE t_teams");
}

/* The reference: the ids of 't_people p' under 'q' in the order of 'column' 'dir', ties by id. */
static json_t *people_expected(struct db *db, const struct listq *q, const char *column,
                               const char *dir)
{
    char *sql = xasprintf("SELECT p.id FROM t_people p%s ORDER BY %s %s, p.id %s", listq_sql(q),
                          column, dir, dir);
    json_t *ids = ids_of(db, sql, q->p, q->n);
    free(sql);
    return ids;
}

/*
 * Every page of the people under 'q' in 'sort' 'order', 'size' rows a page: by page number or
 * by following next_cursor through listq_page_parse, as a client does. Checks on each page the
 * exact total, the page size, that 'q' comes back as it was, and that next_cursor is empty
 * exactly on the last page. The ids, in order.
 */
static json_t *people_walk(struct db *db, struct listq *q, const char *sort, const char *order,
                           long size, bool by_cursor, size_t want_total)
{
    json_t *ids = json_array();
    char cursor[LISTQ_CURSOR_MAX] = "", where[sizeof(q->where)];
    size_t nparams = q->n;
    snprintf(where, sizeof(where), "%s", listq_sql(q));
    for (long page = 1; page <= 1000; page++) {
        char pstr[16], sstr[16];
        snprintf(pstr, sizeof(pstr), "%ld", page);
        snprintf(sstr, sizeof(sstr), "%ld", size);
        struct listq_page pg;
        json_t *errors = json_array();
        listq_page_parse(people_sorts, sort, order, by_cursor ? NULL : pstr, sstr,
                         cursor[0] ? cursor : NULL, &pg, errors);
        if (json_array_size(errors) != 0) {
            char *e = json_dumps(errors, JSON_COMPACT);
            print_error("page %ld of %s %s: %s\n", page, sort, order, e);
            free(e);
        }
        assert_int_equal(json_array_size(errors), 0);
        json_decref(errors);
        struct listq_result res;
        if (listq_run(db, &people_spec, q, &pg, &res) != 0)
            fail_msg("listq_run: %s", db->last_error);
        assert_string_equal(listq_sql(q), where);
        assert_int_equal(q->n, nparams);
        assert_int_equal(res.total, want_total);
        assert_false(res.capped);
        size_t k = json_array_size(res.items), i;
        json_t *row;
        assert_true(k <= (size_t)size);
        json_array_foreach(res.items, i, row)
        {
            json_array_append(ids, json_object_get(row, "id"));
            assert_non_null(json_object_get(row, "name"));
            assert_non_null(json_object_get(row, "team")); /* the join's column */
            assert_null(json_object_get(row, "k_sort"));
            assert_null(json_object_get(row, "k_id"));
        }
        json_decref(res.items);
        bool last = json_array_size(ids) >= want_total;
        if (!last && (k != (size_t)size || res.next_cursor[0] == '\0'))
            fail_msg("%s %s by %s, page %ld: %zu rows and next_cursor '%s' before the end (%zu of "
                     "%zu)",
                     sort, order, by_cursor ? "cursor" : "offset", page, k, res.next_cursor,
                     json_array_size(ids), want_total);
        if (last) {
            assert_string_equal(res.next_cursor, "");
            break;
        }
        if (by_cursor)
            snprintf(cursor, sizeof(cursor), "%s", res.next_cursor);
    }
    return ids;
}

/* Walk 'q' in every sort, both orders, two page sizes, by offset and by cursor: each walk is
 * the reference order, no row missed or repeated. */
static void people_walk_all(struct db *db, struct listq *q)
{
    static const char *const orders[] = {"asc", "desc"};
    static const long sizes[] = {2, 5};
    for (const struct listq_sort *s = people_sorts; s->name; s++) {
        for (size_t o = 0; o < 2; o++) {
            json_t *want = people_expected(db, q, s->column, orders[o]);
            for (size_t z = 0; z < ARRAY_LEN(sizes); z++) {
                for (int by_cursor = 0; by_cursor < 2; by_cursor++) {
                    json_t *got = people_walk(db, q, s->name, orders[o], sizes[z], by_cursor,
                                              json_array_size(want));
                    if (!json_equal(got, want)) {
                        char *g = json_dumps(got, JSON_COMPACT),
                             *w = json_dumps(want, JSON_COMPACT);
                        print_error(
                            "%s %s, %ld a page, by %s (where '%s'):\n  got  %s\n  want %s\n",
                            s->name, orders[o], sizes[z], by_cursor ? "cursor" : "offset",
                            listq_sql(q), g, w);
                        free(g);
                        free(w);
                    }
                    assert_true(json_equal(got, want));
                    json_decref(got);
                }
            }
            json_decref(want);
        }
    }
}

/* listq_sql holds only the filters given, each value bound, wildcards escaped. */
static void test_listq_sql(void **state)
{
    struct dbtest *t = *state;
    static const char *const cols[] = {"p.name", "p.city", NULL};
    struct listq q;
    listq_init(&q);
    listq_eq_str(&q, "p.city", NULL);
    listq_eq_str(&q, "p.city", "");
    listq_eq_int(&q, "p.score", 0);
    listq_contains(&q, cols, NULL);
    listq_contains(&q, cols, "");
    listq_prefix(&q, "p.name", NULL);
    listq_prefix(&q, "p.name", "");
    assert_string_equal(listq_sql(&q), "");
    assert_int_equal(q.n, 0);

    listq_eq_str(&q, "p.city", "北京");
    assert_string_equal(listq_sql(&q), " WHERE (p.city = ?)");
    listq_eq_int(&q, "p.score", 3);
    listq_contains(&q, cols, "10%_\\x");
    listq_prefix(&q, "p.name", "a_");
    assert_string_equal(listq_sql(&q), " WHERE (p.city = ?) AND (p.score = ?)"
                                       " AND (p.name LIKE ? OR p.city LIKE ?) AND (p.name LIKE ?)");
    assert_int_equal(q.n, 5);
    assert_int_equal(q.p[0].type, DB_STR);
    assert_string_equal(q.p[0].s, "北京");
    assert_int_equal(q.p[1].type, DB_INT);
    assert_int_equal(q.p[1].i, 3);
    assert_string_equal(q.p[2].s, "%10\\%\\_\\\\x%");
    assert_string_equal(q.p[3].s, "%10\\%\\_\\\\x%");
    assert_int_equal(q.p[2].len, strlen(q.p[2].s));
    assert_string_equal(q.p[4].s, "a\\_%");
    /* and the server takes it */
    people_create(&t->db);
    char *sql = xasprintf("SELECT p.id FROM t_people p%s", listq_sql(&q));
    json_t *ids = ids_of(&t->db, sql, q.p, q.n);
    free(sql);
    expect_ids(ids, NULL, 0, "nothing matches all five");
    people_drop(&t->db);
}

/* The ids of the people whose name or city contains 'v' (a contains-search through listq_run). */
static json_t *people_search(struct db *db, const char *v)
{
    static const char *const cols[] = {"p.name", "p.city", NULL};
    struct listq q;
    struct listq_page pg;
    struct listq_result res;
    json_t *errors = json_array();
    listq_init(&q);
    listq_contains(&q, cols, v);
    listq_page_parse(people_sorts, "id", "asc", NULL, "100", NULL, &pg, errors);
    assert_int_equal(json_array_size(errors), 0);
    json_decref(errors);
    if (listq_run(db, &people_spec, &q, &pg, &res) != 0)
        fail_msg("search '%s': %s", v, db->last_error);
    json_t *ids = json_array(), *row;
    size_t i;
    json_array_foreach(res.items, i, row)
    {
        json_array_append(ids, json_object_get(row, "id"));
    }
    assert_int_equal(res.total, (long long)json_array_size(ids));
    json_decref(res.items);
    return ids;
}

static void test_listq_contains(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    people_create(db);
    /* ids: 1 "100%", 2 "100x", 3 "a_b", 4 "axb", 5 "back\slash", 6 "backslash", 7 "张伟🙂" */
    EXPECT_IDS(people_search(db, "100%"), "'100%'", 1);
    EXPECT_IDS(people_search(db, "0%"), "'0%'", 1);
    EXPECT_IDS(people_search(db, "%"), "'%'", 1);
    EXPECT_IDS(people_search(db, "a_b"), "'a_b'", 3);
    EXPECT_IDS(people_search(db, "_"), "'_'", 3);
    EXPECT_IDS(people_search(db, "k\\s"), "'k\\s'", 5);
    EXPECT_IDS(people_search(db, "\\"), "'\\'", 5);
    EXPECT_IDS(people_search(db, "kslash"), "'kslash'", 6);
    EXPECT_IDS(people_search(db, "100"), "'100'", 1, 2);
    /* = holds 🙂 and 😀 equal in unicode_ci (the name sort ties them), LIKE tells them apart */
    EXPECT_IDS(people_search(db, "伟🙂"), "'伟🙂'", 7);
    expect_ids(people_search(db, "%%"), NULL, 0, "'%%'");
    /* the second column: city 北京 is every third person */
    json_t *bj = people_search(db, "北京");
    assert_int_equal(json_array_size(bj), (PEOPLE + 2) / 3);
    json_decref(bj);
    people_drop(db);
}

static void test_listq_paging(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    struct listq q;
    people_create(db);

    /* page N by offset: page 3 of 4 rows in id order is ids 9-12 */
    struct listq_page pg;
    struct listq_result res;
    json_t *errors = json_array();
    listq_init(&q);
    listq_page_parse(people_sorts, "id", "asc", "3", "4", NULL, &pg, errors);
    assert_int_equal(json_array_size(errors), 0);
    assert_int_equal(listq_run(db, &people_spec, &q, &pg, &res), 0);
    json_t *ids = json_array(), *row;
    size_t i;
    json_array_foreach(res.items, i, row)
    {
        json_array_append(ids, json_object_get(row, "id"));
    }
    EXPECT_IDS(ids, "page 3 of 4", 9, 10, 11, 12);
    assert_int_equal(res.total, PEOPLE);
    assert_true(res.next_cursor[0] != '\0');
    /* the team comes from the join, only for the rows of the page */
    assert_string_equal(json_string_value(json_object_get(json_array_get(res.items, 0), "team")),
                        "华北"); /* id 9: i = 8, team 1 + 8 % 2 */
    assert_string_equal(json_string_value(json_object_get(json_array_get(res.items, 1), "team")),
                        "East");
    assert_true(json_is_null(json_object_get(json_array_get(res.items, 2), "team"))); /* i = 10 */
    json_decref(res.items);
    /* the default sort is the first of the whitelist in its own direction: id desc */
    listq_page_parse(people_sorts, NULL, NULL, NULL, "3", NULL, &pg, errors);
    assert_int_equal(listq_run(db, &people_spec, &q, &pg, &res), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res.items, 0), "id")),
                     PEOPLE);
    json_decref(res.items);
    /* past the end: no rows, the total still exact, no next page */
    listq_page_parse(people_sorts, "name", "desc", "12", "4", NULL, &pg, errors);
    assert_int_equal(listq_run(db, &people_spec, &q, &pg, &res), 0);
    assert_int_equal(json_array_size(res.items), 0);
    assert_int_equal(res.total, PEOPLE);
    assert_string_equal(res.next_cursor, "");
    json_decref(res.items);
    assert_int_equal(json_array_size(errors), 0);
    json_decref(errors);

    /* whole walks, unfiltered and under filters (the filter's values come before the keyset's) */
    listq_init(&q);
    people_walk_all(db, &q);
    static const char *const cols[] = {"p.name", "p.city", NULL};
    listq_init(&q);
    listq_contains(&q, cols, "e"); /* user-NN and Berlin */
    listq_add(&q, "p.score <> ?", &DBP_INT(2), 1);
    people_walk_all(db, &q);
    listq_init(&q);
    listq_eq_str(&q, "p.city", "上海");
    people_walk_all(db, &q);
    listq_init(&q);
    listq_eq_str(&q, "p.city", "nowhere");
    people_walk_all(db, &q);
    people_drop(db);
}

/* Totals are exact up to count_cap, then capped. */
static void test_listq_totals(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    struct listq_spec capped = people_spec;
    capped.count_cap = 5;
    people_create(db);
    static const struct {
        long long below; /* id < below */
        long long total;
        bool capped;
    } cases[] = {{1, 0, false}, {5, 4, false}, {6, 5, false}, {7, 5, true}, {100, 5, true}};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct listq q;
        struct listq_page pg;
        struct listq_result res;
        json_t *errors = json_array();
        listq_init(&q);
        listq_add(&q, "p.id < ?", &DBP_INT(cases[c].below), 1);
        listq_page_parse(people_sorts, "id", "asc", NULL, "3", NULL, &pg, errors);
        json_decref(errors);
        assert_int_equal(listq_run(db, &capped, &q, &pg, &res), 0);
        if (res.total != cases[c].total || res.capped != cases[c].capped)
            fail_msg("ids below %lld: total %lld capped %d, want %lld %d", cases[c].below,
                     res.total, res.capped, cases[c].total, cases[c].capped);
        /* the page itself is not capped */
        long long rows = cases[c].below - 1 < 3 ? cases[c].below - 1 : 3;
        assert_int_equal(json_array_size(res.items), rows);
        json_t *out = listq_result_json(&res, &pg);
        assert_null(res.items); /* taken */
        assert_int_equal(json_integer_value(json_object_get(out, "total")), cases[c].total);
        assert_true(json_is_boolean(json_object_get(out, "total_capped")));
        assert_int_equal(json_is_true(json_object_get(out, "total_capped")), cases[c].capped);
        assert_int_equal(json_integer_value(json_object_get(out, "page")), 1);
        assert_int_equal(json_integer_value(json_object_get(out, "page_size")), 3);
        assert_int_equal(json_array_size(json_object_get(out, "items")), rows);
        assert_true(cases[c].below - 1 > 3 ? json_is_string(json_object_get(out, "next_cursor"))
                                           : json_is_null(json_object_get(out, "next_cursor")));
        json_decref(out);
    }
    /* the default cap counts all 41 exactly */
    struct listq q;
    struct listq_page pg;
    struct listq_result res;
    listq_init(&q);
    json_t *errors = json_array();
    listq_page_parse(people_sorts, NULL, NULL, NULL, NULL, NULL, &pg, errors);
    json_decref(errors);
    assert_int_equal(listq_run(db, &people_spec, &q, &pg, &res), 0);
    assert_int_equal(res.total, PEOPLE);
    assert_false(res.capped);
    assert_int_equal(json_array_size(res.items), 20);
    json_decref(res.items);
    /* count_from: the count reads it (here with an index hint), the page still reads 'from' */
    struct listq_spec hinted = people_spec;
    hinted.count_from = "t_people p FORCE INDEX (PRIMARY)";
    listq_add(&q, "p.id <= ?", &DBP_INT(7), 1);
    assert_int_equal(listq_run(db, &hinted, &q, &pg, &res), 0);
    assert_int_equal(res.total, 7);
    assert_int_equal(json_array_size(res.items), 7);
    json_decref(res.items);
    hinted.count_from = "t_people p FORCE INDEX (no_such_index)"; /* proves it is read */
    assert_int_not_equal(listq_run(db, &hinted, &q, &pg, &res), 0);
    people_drop(db);
}

/* Whether 'errors' names 'field'. */
static bool has_error(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (f && strcmp(f, field) == 0)
            return true;
    }
    return false;
}

/* listq_page_parse of one parameter set: the field it refuses ("" when none). */
static void expect_parse(const char *sort, const char *order, const char *page, const char *size,
                         const char *cursor, const char *refused)
{
    struct listq_page pg;
    json_t *errors = json_array();
    listq_page_parse(people_sorts, sort, order, page, size, cursor, &pg, errors);
    bool ok = refused[0] ? json_array_size(errors) == 1 && has_error(errors, refused)
                         : json_array_size(errors) == 0;
    if (!ok) {
        char *e = json_dumps(errors, JSON_COMPACT);
        print_error("sort=%s order=%s page=%s page_size=%s cursor=%s: errors %s, want '%s'\n",
                    sort ? sort : "-", order ? order : "-", page ? page : "-", size ? size : "-",
                    cursor ? cursor : "-", e, refused);
        free(e);
    }
    json_decref(errors);
    assert_true(ok);
    /* a refused cursor is never kept */
    if (strcmp(refused, "cursor") == 0)
        assert_string_equal(pg.cursor, "");
}

/* A cursor of the JSON text 'json', as listq_run would encode it. */
static void cursor_of(const char *json, char *out, size_t outlen)
{
    char *b64 = util_b64url_encode((const unsigned char *)json, strlen(json));
    snprintf(out, outlen, "%s", b64);
    free(b64);
}

static void test_listq_page_parse(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    struct listq_page pg;
    json_t *errors = json_array();

    /* defaults, and what is given */
    listq_page_parse(people_sorts, NULL, NULL, NULL, NULL, NULL, &pg, errors);
    assert_int_equal(json_array_size(errors), 0);
    assert_int_equal(pg.page, 1);
    assert_int_equal(pg.page_size, 20);
    assert_ptr_equal(pg.sort, &people_sorts[0]);
    assert_true(pg.desc);
    assert_string_equal(pg.cursor, "");
    listq_page_parse(people_sorts, "name", NULL, "7", "100", NULL, &pg, errors);
    assert_int_equal(json_array_size(errors), 0);
    assert_ptr_equal(pg.sort, &people_sorts[1]);
    assert_false(pg.desc); /* name's own direction */
    assert_int_equal(pg.page, 7);
    assert_int_equal(pg.page_size, 100);
    listq_page_parse(people_sorts, "created_at", "asc", NULL, NULL, NULL, &pg, errors);
    assert_int_equal(json_array_size(errors), 0);
    assert_false(pg.desc);
    json_decref(errors);

    expect_parse("nope", NULL, NULL, NULL, NULL, "sort");
    expect_parse("p.name", NULL, NULL, NULL, NULL, "sort"); /* the column is not the name */
    expect_parse("", NULL, NULL, NULL, NULL, "sort");
    expect_parse(NULL, "up", NULL, NULL, NULL, "order");
    expect_parse(NULL, "ASC", NULL, NULL, NULL, "order");
    expect_parse(NULL, NULL, "0", NULL, NULL, "page");
    expect_parse(NULL, NULL, "x", NULL, NULL, "page");
    expect_parse(NULL, NULL, NULL, "0", NULL, "page_size");
    expect_parse(NULL, NULL, NULL, "101", NULL, "page_size");
    expect_parse(NULL, NULL, NULL, "5 ", NULL, "page_size");

    /* cursors: one listq_run made is taken back in its sort and order only */
    people_create(db);
    struct listq q;
    struct listq_result res;
    errors = json_array();
    listq_init(&q);
    listq_page_parse(people_sorts, "name", "asc", NULL, "3", NULL, &pg, errors);
    assert_int_equal(listq_run(db, &people_spec, &q, &pg, &res), 0);
    json_decref(res.items);
    json_decref(errors);
    people_drop(db);
    char real[LISTQ_CURSOR_MAX];
    snprintf(real, sizeof(real), "%s", res.next_cursor);
    assert_true(real[0] != '\0');
    expect_parse("name", "asc", NULL, NULL, real, "");
    expect_parse("name", NULL, NULL, NULL, real, ""); /* name's default is asc */
    expect_parse("name", "desc", NULL, NULL, real, "cursor");
    expect_parse("score", "asc", NULL, NULL, real, "cursor");
    expect_parse(NULL, NULL, NULL, NULL, real, "cursor"); /* the default sort is id */

    /* cursors made by hand: [sort, order, last value, last id] */
    static const struct {
        const char *sort, *json, *refused;
    } made[] = {
        {"name", "not json", "cursor"},
        {"id", "[\"id\",\"desc\",5,5]", ""},
        {"id", "[\"id\",\"desc\",\"5\",5]", "cursor"}, /* an id sort takes an integer */
        {"id", "[\"id\",\"desc\",5,\"5\"]", "cursor"}, /* the id is an integer */
        {"id", "[\"id\",\"desc\",5]", "cursor"},
        {"id", "[\"id\",\"desc\",5,5,5]", "cursor"},
        {"name", "[\"name\",\"asc\",7,5]", "cursor"}, /* a text sort takes a string */
        {"created_at", "[\"created_at\",\"desc\",\"2024-01-01T00:00:00.250Z\",5]", ""},
    };
    char c[LISTQ_CURSOR_MAX];
    expect_parse("name", "asc", NULL, NULL, "", "cursor");
    expect_parse("name", "asc", NULL, NULL, "!!not base64!!", "cursor");
    for (size_t i = 0; i < ARRAY_LEN(made); i++) {
        cursor_of(made[i].json, c, sizeof(c));
        expect_parse(made[i].sort, NULL, NULL, NULL, c, made[i].refused);
    }
    /* a text value of LISTQ_CURSOR_VALUE_MAX bytes is taken, one byte more is not */
    for (size_t len = LISTQ_CURSOR_VALUE_MAX; len <= LISTQ_CURSOR_VALUE_MAX + 1; len++) {
        char *v = pattern(len, 2), *json = xasprintf("[\"name\",\"asc\",\"%s\",5]", v);
        cursor_of(json, c, sizeof(c));
        expect_parse("name", "asc", NULL, NULL, c, len == LISTQ_CURSOR_VALUE_MAX ? "" : "cursor");
        free(json);
        free(v);
    }
    /* longer than any cursor: refused, not cut */
    char *big = pattern(LISTQ_CURSOR_MAX + 10, 1);
    expect_parse("name", "asc", NULL, NULL, big, "cursor");
    free(big);
}

/* ------------------------------------------------------------------------------------------ */
/* scope                                                                                       */

/*
 * The tree of t_depts and who is where in t_users:
 *
 *   1 HQ (10) ── 2 Sales (20) ── 4 North (40, 41) ── 6 North-East (60)
 *           │               └── 5 South (50)
 *           └── 3 Support (30)
 *   7 Other (70)                 99 belongs to no department
 *
 * t_records: each user's own record (id = user * 10, in the owner's department), and two that
 * lie elsewhere than their owner: 401 (owner 40, in 3) and 301 (owner 30, in 6).
 */
static const struct scope_source test_source = {"t_depts", "t_users", "id"};

static void scope_tables(struct db *db)
{
    create_table(db, "t_depts", "(id BIGINT PRIMARY KEY, parent_id BIGINT NULL, KEY (parent_id))");
    exec_ok(db, "INSERT INTO t_depts VALUES (1, NULL), (2, 1), (3, 1), (4, 2), (5, 2), (6, 4),"
                " (7, NULL)");
    create_table(db, "t_users", "(id BIGINT PRIMARY KEY, dept_id BIGINT NULL, KEY (dept_id))");
    exec_ok(db, "INSERT INTO t_users VALUES (10, 1), (20, 2), (30, 3), (40, 4), (41, 4), (50, 5),"
                " (60, 6), (70, 7), (99, NULL)");
    create_table(db, "t_records",
                 "(id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL,"
                 " dept_id BIGINT NULL)");
    exec_ok(db, "INSERT INTO t_records VALUES (100, 10, 1), (200, 20, 2), (300, 30, 3),"
                " (400, 40, 4), (410, 41, 4), (500, 50, 5), (600, 60, 6), (700, 70, 7),"
                " (990, 99, NULL), (401, 40, 3), (301, 30, 6)");
}

/* The ids of 'from' (whose id column is 'id_col') that 'kind' of user 'uid' covers. */
static json_t *scoped(struct db *db, const struct scope_source *src, const char *from,
                      const char *id_col, enum scope_kind kind, long long uid, const char *owner,
                      const char *dept)
{
    struct scope sc = {.kind = kind, .user_id = uid, .src = src};
    struct listq q;
    listq_init(&q);
    if (scope_where(db, &q, &sc, owner, dept) != 0)
        fail_msg("scope_where: %s", db->last_error);
    if (kind == SCOPE_ALL)
        assert_string_equal(listq_sql(&q), "");
    char *sql =
        xasprintf("SELECT %s AS id FROM %s%s ORDER BY %s", id_col, from, listq_sql(&q), id_col);
    json_t *ids = ids_of(db, sql, q.p, q.n);
    free(sql);
    return ids;
}

#define USERS(kind, uid, dept_col)                                                                 \
    scoped(db, &test_source, "t_users u", "u.id", kind, uid, "u.id", dept_col)
#define RECORDS(kind, uid, dept_col)                                                               \
    scoped(db, &test_source, "t_records r", "r.id", kind, uid, "r.owner_id", dept_col)

static void test_scope_where(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    scope_tables(db);
    /* users, by their department column and by the owner's (their own) department alike */
    static const char *const dept_cols[] = {"u.dept_id", NULL};
    for (size_t d = 0; d < 2; d++) {
        const char *dc = dept_cols[d];
        EXPECT_IDS(USERS(SCOPE_SELF, 40, dc), "users SELF 40", 40);
        EXPECT_IDS(USERS(SCOPE_SELF, 99, dc), "users SELF 99", 99);
        EXPECT_IDS(USERS(SCOPE_DEPT, 40, dc), "users DEPT 40", 40, 41);
        EXPECT_IDS(USERS(SCOPE_DEPT, 20, dc), "users DEPT 20", 20);
        EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 20, dc), "users DEPT_AND_CHILD 20", 20, 40, 41, 50,
                   60);
        EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 10, dc), "users DEPT_AND_CHILD 10", 10, 20, 30, 40,
                   41, 50, 60);
        EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 60, dc), "users DEPT_AND_CHILD 60", 60);
        EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 70, dc), "users DEPT_AND_CHILD 70", 70);
        expect_ids(USERS(SCOPE_DEPT, 99, dc), NULL, 0, "users DEPT 99 (no department)");
        expect_ids(USERS(SCOPE_DEPT_AND_CHILD, 99, dc), NULL, 0, "users DEPT_AND_CHILD 99");
        expect_ids(USERS(SCOPE_DEPT, 12345, dc), NULL, 0, "users DEPT of nobody");
        EXPECT_IDS(USERS(SCOPE_ALL, 99, dc), "users ALL", 10, 20, 30, 40, 41, 50, 60, 70, 99);
    }

    /* records by their owner's department */
    EXPECT_IDS(RECORDS(SCOPE_SELF, 40, NULL), "records SELF 40 (owner)", 400, 401);
    EXPECT_IDS(RECORDS(SCOPE_DEPT, 40, NULL), "records DEPT 40 (owner)", 400, 401, 410);
    EXPECT_IDS(RECORDS(SCOPE_DEPT, 30, NULL), "records DEPT 30 (owner)", 300, 301);
    EXPECT_IDS(RECORDS(SCOPE_DEPT_AND_CHILD, 20, NULL), "records DEPT_AND_CHILD 20 (owner)", 200,
               400, 401, 410, 500, 600);
    /* records by the department they lie in; SELF still by owner */
    EXPECT_IDS(RECORDS(SCOPE_SELF, 40, "r.dept_id"), "records SELF 40 (dept)", 400, 401);
    EXPECT_IDS(RECORDS(SCOPE_DEPT, 40, "r.dept_id"), "records DEPT 40 (dept)", 400, 410);
    EXPECT_IDS(RECORDS(SCOPE_DEPT, 30, "r.dept_id"), "records DEPT 30 (dept)", 300, 401);
    EXPECT_IDS(RECORDS(SCOPE_DEPT_AND_CHILD, 20, "r.dept_id"), "records DEPT_AND_CHILD 20 (dept)",
               200, 301, 400, 410, 500, 600);
    EXPECT_IDS(RECORDS(SCOPE_DEPT_AND_CHILD, 30, "r.dept_id"), "records DEPT_AND_CHILD 30 (dept)",
               300, 401);
    EXPECT_IDS(RECORDS(SCOPE_ALL, 30, "r.dept_id"), "records ALL", 100, 200, 300, 301, 400, 401,
               410, 500, 600, 700, 990);

    /* the caller's department as it is now: a move counts on the next statement */
    exec_ok(db, "UPDATE t_users SET dept_id = 6 WHERE id = 40");
    EXPECT_IDS(RECORDS(SCOPE_DEPT, 40, "r.dept_id"), "records DEPT 40 after the move", 301, 600);
    EXPECT_IDS(USERS(SCOPE_DEPT, 40, "u.dept_id"), "users DEPT 40 after the move", 40, 60);
    exec_ok(db, "UPDATE t_depts SET parent_id = 3 WHERE id = 4"); /* North moves under Support */
    EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 30, "u.dept_id"), "users DEPT_AND_CHILD 30 after", 30,
               40, 41, 60);
    EXPECT_IDS(USERS(SCOPE_DEPT_AND_CHILD, 20, "u.dept_id"), "users DEPT_AND_CHILD 20 after", 20,
               50);

    /* with other filters and a keyset page: the scope's value binds in its place */
    struct listq q;
    struct listq_page pg;
    struct listq_result res;
    struct scope sc = {.kind = SCOPE_DEPT_AND_CHILD, .user_id = 30, .src = &test_source};
    static const struct listq_sort rsorts[] = {{"id", "r.id", LISTQ_INT, false},
                                               {NULL, NULL, 0, false}};
    static const struct listq_spec rspec = {
        .from = "t_records r", .id = "r.id", .columns = "r.id, r.owner_id"};
    json_t *ids = json_array(), *errors = json_array(), *row;
    listq_init(&q);
    listq_add(&q, "r.id <> ?", &DBP_INT(401), 1);
    assert_int_equal(scope_where(db, &q, &sc, "r.owner_id", "r.dept_id"), 0);
    listq_add(&q, "r.id > ?", &DBP_INT(0), 1);
    char cursor[LISTQ_CURSOR_MAX] = "";
    for (int page = 0; page < 10; page++) {
        listq_page_parse(rsorts, NULL, NULL, NULL, "1", cursor[0] ? cursor : NULL, &pg, errors);
        assert_int_equal(listq_run(db, &rspec, &q, &pg, &res), 0);
        assert_int_equal(res.total, 5); /* 300, 301, 400, 410, 600: depts 3, 4, 6 */
        size_t i;
        json_array_foreach(res.items, i, row)
        {
            json_array_append(ids, json_object_get(row, "id"));
        }
        json_decref(res.items);
        snprintf(cursor, sizeof(cursor), "%s", res.next_cursor);
        if (cursor[0] == '\0')
            break;
    }
    assert_int_equal(json_array_size(errors), 0);
    json_decref(errors);
    EXPECT_IDS(ids, "keyset walk in scope", 300, 301, 400, 410, 600);
    exec_ok(db, "DROP TABLE t_records");
    exec_ok(db, "DROP TABLE t_users");
    exec_ok(db, "DROP TABLE t_depts");
}

static bool covers(struct db *db, const struct scope_source *src, enum scope_kind kind,
                   long long uid, long long dept)
{
    struct scope sc = {.kind = kind, .user_id = uid, .src = src};
    bool covered = !(kind == SCOPE_ALL); /* the opposite of what ALL must say */
    if (scope_covers_dept(db, &sc, dept, &covered) != 0)
        fail_msg("scope_covers_dept: %s", db->last_error);
    return covered;
}

static void test_scope_covers_dept(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    scope_tables(db);
    const struct scope_source *s = &test_source;
    assert_true(covers(db, s, SCOPE_SELF, 40, 4));
    assert_false(covers(db, s, SCOPE_SELF, 40, 2));
    assert_false(covers(db, s, SCOPE_SELF, 40, 6));
    assert_false(covers(db, s, SCOPE_SELF, 99, 4));
    assert_true(covers(db, s, SCOPE_DEPT, 40, 4));
    assert_false(covers(db, s, SCOPE_DEPT, 40, 6)); /* a child is not the department */
    assert_false(covers(db, s, SCOPE_DEPT, 40, 2));
    assert_false(covers(db, s, SCOPE_DEPT, 99, 4));
    static const long long below_sales[] = {2, 4, 5, 6}, outside[] = {1, 3, 7, 999};
    for (size_t i = 0; i < 4; i++) {
        assert_true(covers(db, s, SCOPE_DEPT_AND_CHILD, 20, below_sales[i]));
        assert_false(covers(db, s, SCOPE_DEPT_AND_CHILD, 20, outside[i]));
        assert_false(covers(db, s, SCOPE_DEPT, 20, below_sales[i]) != (below_sales[i] == 2));
    }
    assert_true(covers(db, s, SCOPE_ALL, 99, 999));
    /* the tree as it is now */
    exec_ok(db, "UPDATE t_depts SET parent_id = 7 WHERE id = 4");
    assert_false(covers(db, s, SCOPE_DEPT_AND_CHILD, 20, 6));
    assert_true(covers(db, s, SCOPE_DEPT_AND_CHILD, 70, 6));
    exec_ok(db, "DROP TABLE t_records");
    exec_ok(db, "DROP TABLE t_users");
    exec_ok(db, "DROP TABLE t_depts");
}

/* An event of crm:stream:auth about 'subject' 'id' (takes 'data'). */
static json_t *auth_event(const char *type, const char *subject, const char *id, json_t *data)
{
    return json_pack("{s:s, s:i, s:s, s:{s:s, s:s}, s:o}", "type", type, "version", 1, "producer",
                     "auth", "subject", "type", subject, "id", id, "data", data);
}

static void apply(struct db *db, json_t *event)
{
    int rc = scope_projection_apply(db, event);
    json_decref(event);
    if (rc != 0)
        fail_msg("scope_projection_apply: %s", db->last_error);
}

#define PROJ_DEPTS "SELECT id, parent_id, name FROM scope_depts ORDER BY id"
#define PROJ_USERS                                                                                 \
    "SELECT user_id, dept_id, username, display_name FROM scope_users ORDER BY user_id"

static void test_scope_projection(void **state)
{
    struct dbtest *t = *state;
    struct db *db = &t->db;
    char err[256] = "";
    const struct migrate_unit units[] = {scope_migration, scope_migration_users};
    int applied = migrate_run(&t->cfg, t->emptydir, units, 2, err, sizeof(err));
    if (applied < 0)
        fail_msg("migrate_run: %s", err);
    exec_ok(db, "DELETE FROM scope_depts");
    exec_ok(db, "DELETE FROM scope_users");

    apply(db, auth_event("department.created", "department", "1",
                         json_pack("{s:i, s:n, s:s}", "id", 1, "parent_id", "name", "总部")));
    apply(db, auth_event("department.created", "department", "2",
                         json_pack("{s:i, s:i, s:s}", "id", 2, "parent_id", 1, "name", "销售部")));
    apply(db, auth_event("department.created", "department", "3",
                         json_pack("{s:i, s:i, s:s}", "id", 3, "parent_id", 1, "name", "客服部")));
    apply(db,
          auth_event("department.created", "department", "4",
                     json_pack("{s:i, s:i, s:s}", "id", 4, "parent_id", 2, "name", "华北销售部")));
    expect_json(rows_of(db, PROJ_DEPTS, NULL, 0),
                "[{\"id\":1,\"parent_id\":null,\"name\":\"总部\"},"
                "{\"id\":2,\"parent_id\":1,\"name\":\"销售部\"},"
                "{\"id\":3,\"parent_id\":1,\"name\":\"客服部\"},"
                "{\"id\":4,\"parent_id\":2,\"name\":\"华北销售部\"}]",
                "departments created");

    apply(db, auth_event("user.created", "user", "40",
                         json_pack("{s:i, s:s, s:s, s:i}", "id", 40, "username", "zhangwei",
                                   "display_name", "张伟🙂", "dept_id", 4)));
    apply(db, auth_event("user.created", "user", "30",
                         json_pack("{s:i, s:s, s:s, s:i}", "id", 30, "username", "lina",
                                   "display_name", "李娜", "dept_id", 3)));
    apply(db, auth_event("user.created", "user", "20",
                         json_pack("{s:i, s:s, s:s, s:i}", "id", 20, "username", "wangfang",
                                   "display_name", "王芳", "dept_id", 2)));
    apply(db, auth_event("user.created", "user", "99",
                         json_pack("{s:i, s:s, s:s, s:n}", "id", 99, "username", "nobody",
                                   "display_name", "", "dept_id")));
    expect_json(
        rows_of(db, PROJ_USERS, NULL, 0),
        "[{\"user_id\":20,\"dept_id\":2,\"username\":\"wangfang\",\"display_name\":\"王芳\"},"
        "{\"user_id\":30,\"dept_id\":3,\"username\":\"lina\",\"display_name\":\"李娜\"},"
        "{\"user_id\":40,\"dept_id\":4,\"username\":\"zhangwei\","
        "\"display_name\":\"张伟🙂\"},"
        "{\"user_id\":99,\"dept_id\":null,\"username\":\"nobody\",\"display_name\":\"\"}]",
        "users created");
    /* each user's status and role codes: who may own a record (a transfer's receiver) */
    apply(db, auth_event("user.created", "user", "41",
                         json_pack("{s:i, s:s, s:s, s:i, s:s, s:[s, s]}", "id", 41, "username",
                                   "zhaomin", "display_name", "赵敏", "dept_id", 4, "status",
                                   "enabled", "role_codes", "customer_manager", "readonly")));
    struct scope_user su;
    assert_int_equal(scope_user_get(db, NULL, 41, &su), 0);
    assert_true(su.found && su.enabled && su.dept_id == 4);
    assert_true(scope_user_has_role(&su, "customer_manager"));
    assert_true(scope_user_has_role(&su, "readonly"));
    assert_false(scope_user_has_role(&su, "customer"));
    apply(db, auth_event("user.disabled", "user", "41",
                         json_pack("{s:s, s:s, s:s}", "username", "zhaomin", "status_before",
                                   "enabled", "status_after", "disabled")));
    apply(db, auth_event("user.updated", "user", "41",
                         json_pack("{s:s, s:[s], s:[]}", "username", "zhaomin", "role_codes",
                                   "readonly", "changes")));
    assert_int_equal(scope_user_get(db, NULL, 41, &su), 0);
    assert_false(su.enabled);
    assert_false(scope_user_has_role(&su, "customer_manager"));
    /* outside a scope: not found */
    struct scope self = {.kind = SCOPE_SELF, .user_id = 20, .src = &scope_projection};
    assert_int_equal(scope_user_get(db, &self, 41, &su), 0);
    assert_false(su.found);
    exec_ok(db, "DELETE FROM scope_users WHERE user_id = 41");

    /* the projection is a scope source like any other */
    EXPECT_IDS(scoped(db, &scope_projection, "scope_users u", "u.user_id", SCOPE_DEPT_AND_CHILD, 20,
                      "u.user_id", "u.dept_id"),
               "projection DEPT_AND_CHILD 20", 20, 40);

    /* a move (parent_id in changes) moves the subtree; a rename keeps the parent */
    apply(db, auth_event("department.updated", "department", "4",
                         json_pack("{s:s, s:[{s:s, s:i, s:i}]}", "name", "华北销售部", "changes",
                                   "field", "parent_id", "before", 2, "after", 3)));
    apply(db, auth_event("department.updated", "department", "3",
                         json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "客服中心", "changes",
                                   "field", "name", "before", "客服部", "after", "客服中心")));
    expect_json(rows_of(db, PROJ_DEPTS, NULL, 0),
                "[{\"id\":1,\"parent_id\":null,\"name\":\"总部\"},"
                "{\"id\":2,\"parent_id\":1,\"name\":\"销售部\"},"
                "{\"id\":3,\"parent_id\":1,\"name\":\"客服中心\"},"
                "{\"id\":4,\"parent_id\":3,\"name\":\"华北销售部\"}]",
                "department moved and renamed");
    EXPECT_IDS(scoped(db, &scope_projection, "scope_users u", "u.user_id", SCOPE_DEPT_AND_CHILD, 20,
                      "u.user_id", "u.dept_id"),
               "projection DEPT_AND_CHILD 20 after the move", 20);
    EXPECT_IDS(scoped(db, &scope_projection, "scope_users u", "u.user_id", SCOPE_DEPT_AND_CHILD, 30,
                      "u.user_id", NULL),
               "projection DEPT_AND_CHILD 30 after the move", 30, 40);
    /* a move to the top (after: null) and a change that is neither name nor parent */
    apply(db, auth_event("department.updated", "department", "4",
                         json_pack("{s:s, s:[{s:s, s:i, s:n}]}", "name", "华北销售部", "changes",
                                   "field", "parent_id", "before", 3, "after")));
    apply(db, auth_event("department.updated", "department", "2",
                         json_pack("{s:[{s:s, s:i, s:i}]}", "changes", "field", "sort_order",
                                   "before", 1, "after", 2)));
    expect_json(rows_of(db, PROJ_DEPTS, NULL, 0),
                "[{\"id\":1,\"parent_id\":null,\"name\":\"总部\"},"
                "{\"id\":2,\"parent_id\":1,\"name\":\"销售部\"},"
                "{\"id\":3,\"parent_id\":1,\"name\":\"客服中心\"},"
                "{\"id\":4,\"parent_id\":null,\"name\":\"华北销售部\"}]",
                "department moved to the top");

    /* a user moves and is renamed; changes of other fields leave the projection alone */
    apply(db,
          auth_event("user.updated", "user", "40",
                     json_pack("{s:s, s:[{s:s, s:i, s:i}, {s:s, s:s, s:s}]}", "username",
                               "zhangwei", "changes", "field", "dept_id", "before", 4, "after", 2,
                               "field", "display_name", "before", "张伟🙂", "after", "张伟")));
    apply(db, auth_event("user.updated", "user", "30",
                         json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "username", "lina", "changes",
                                   "field", "phone", "before", "1", "after", "2")));
    apply(db, auth_event("user.updated", "user", "20",
                         json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "username", "wangfang", "changes",
                                   "field", "display_name", "before", "王芳", "after", "王芳芳")));
    apply(db, auth_event("user.updated", "user", "99",
                         json_pack("{s:s, s:[{s:s, s:n, s:i}]}", "username", "nobody", "changes",
                                   "field", "dept_id", "before", "after", 1)));
    expect_json(
        rows_of(db, PROJ_USERS, NULL, 0),
        "[{\"user_id\":20,\"dept_id\":2,\"username\":\"wangfang\","
        "\"display_name\":\"王芳芳\"},"
        "{\"user_id\":30,\"dept_id\":3,\"username\":\"lina\",\"display_name\":\"李娜\"},"
        "{\"user_id\":40,\"dept_id\":2,\"username\":\"zhangwei\",\"display_name\":\"张伟\"},"
        "{\"user_id\":99,\"dept_id\":1,\"username\":\"nobody\",\"display_name\":\"\"}]",
        "users updated");

    /* deleted; redelivered (an upsert); events of other kinds and ids that are not ours */
    apply(db, auth_event("department.deleted", "department", "3",
                         json_pack("{s:s}", "name", "客服中心")));
    apply(db, auth_event("department.created", "department", "2",
                         json_pack("{s:i, s:i, s:s}", "id", 2, "parent_id", 1, "name", "销售部")));
    apply(db, auth_event("role.created", "role", "1", json_pack("{s:s}", "name", "x")));
    apply(db, auth_event("department.created", "department", "abc",
                         json_pack("{s:i, s:n, s:s}", "id", 9, "parent_id", "name", "x")));
    apply(db, auth_event("department.deleted", "department", "0", json_object()));
    apply(db, json_pack("{s:s}", "type", "department.deleted"));
    expect_json(rows_of(db, PROJ_DEPTS, NULL, 0),
                "[{\"id\":1,\"parent_id\":null,\"name\":\"总部\"},"
                "{\"id\":2,\"parent_id\":1,\"name\":\"销售部\"},"
                "{\"id\":4,\"parent_id\":null,\"name\":\"华北销售部\"}]",
                "department deleted, the rest as it was");
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM scope_users"), 4);
    /* inside a transaction, as the consumer runs it: a rollback undoes it */
    assert_int_equal(db_begin(db), 0);
    apply(db, auth_event("department.deleted", "department", "1", json_object()));
    db_rollback(db);
    assert_int_equal(int_of(db, "SELECT COUNT(*) AS n FROM scope_depts"), 3);
}

/* ------------------------------------------------------------------------------------------ */
/* migrate_run with libcrm units                                                               */

static void sha256_hex(const char *s, char out[65])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), h);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_migrate_units(void **state)
{
    struct dbtest *t = *state;
    struct db m;
    char dir[64] = "/tmp/crm-dbtest-migrations-XXXXXX", file[128], err[512] = "";
    static const char unit1[] = "CREATE TABLE IF NOT EXISTS m_unit (n INT AUTO_INCREMENT PRIMARY"
                                " KEY);\nINSERT INTO m_unit VALUES (NULL)";
    /* not idempotent on purpose: a second run of it would show as a second row */
    const struct migrate_unit units[] = {scope_migration, {"dbtest.1", unit1}};
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/0001_files.sql", dir);
    write_text(file, "CREATE TABLE m_file (n INT AUTO_INCREMENT PRIMARY KEY);\n"
                     "INSERT INTO m_file VALUES (NULL);\n");
    db_init(&m, &t->mcfg);

    /* the first run applies both units and the file, and records them */
    int n = migrate_run(&t->mcfg, dir, units, 2, err, sizeof(err));
    if (n != 3)
        fail_msg("first run applied %d (%s)", n, err);
    char sum_scope[65], sum1[65];
    sha256_hex(scope_migration.sql, sum_scope);
    sha256_hex(unit1, sum1);
    json_t *rows =
        rows_of(&m, "SELECT unit, name, checksum FROM libcrm_migrations ORDER BY unit", NULL, 0);
    json_t *want = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "unit", "dbtest.1", "name",
                             "libcrm dbtest.1", "checksum", sum1, "unit", "scope_projection.1",
                             "name", "libcrm scope_projection.1", "checksum", sum_scope);
    char *w = json_dumps(want, 0);
    expect_json(rows, w, "libcrm_migrations");
    free(w);
    json_decref(want);
    expect_json(rows_of(&m, "SELECT version, name FROM schema_migrations", NULL, 0),
                "[{\"version\":1,\"name\":\"0001_files.sql\"}]", "schema_migrations");
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM information_schema.TABLES"
                                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN"
                                " ('scope_depts', 'scope_users')"),
                     2);

    /* again: nothing */
    n = migrate_run(&t->mcfg, dir, units, 2, err, sizeof(err));
    if (n != 0)
        fail_msg("second run applied %d (%s)", n, err);
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM m_unit"), 1);
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM m_file"), 1);

    /* a unit whose text changed after it was applied is refused, and nothing after it runs */
    static const char unit2[] = "CREATE TABLE IF NOT EXISTS m_unit2 (n INT PRIMARY KEY)";
    char *changed = xasprintf("%s ", unit1);
    const struct migrate_unit edited[] = {
        scope_migration, {"dbtest.1", changed}, {"dbtest.2", unit2}};
    err[0] = '\0';
    n = migrate_run(&t->mcfg, dir, edited, 3, err, sizeof(err));
    free(changed);
    assert_int_equal(n, -1);
    assert_non_null(strstr(err, "dbtest.1"));
    assert_non_null(strstr(err, "changed"));
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM m_unit"), 1);
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM libcrm_migrations"), 2);

    /* a new unit is applied once */
    const struct migrate_unit more[] = {scope_migration, {"dbtest.1", unit1}, {"dbtest.2", unit2}};
    n = migrate_run(&t->mcfg, dir, more, 3, err, sizeof(err));
    if (n != 1)
        fail_msg("the run with a new unit applied %d (%s)", n, err);
    n = migrate_run(&t->mcfg, dir, more, 3, err, sizeof(err));
    assert_int_equal(n, 0);

    /* a changed file is refused likewise */
    write_text(file, "CREATE TABLE m_file (n INT AUTO_INCREMENT PRIMARY KEY);\n");
    err[0] = '\0';
    assert_int_equal(migrate_run(&t->mcfg, dir, more, 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "0001_files.sql"));
    assert_int_equal(int_of(&m, "SELECT COUNT(*) AS n FROM m_file"), 1);

    db_cleanup(&m);
    unlink(file);
    rmdir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* the scratch schemas                                                                         */

/* Run 'sql' (several statements) as root and drain every result; false with the reason shown. */
static bool admin_run(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "test_dbsql: as root: %s\n", mysql_error(m));
        return false;
    }
    int status;
    do {
        MYSQL_RES *res = mysql_store_result(m);
        if (res)
            mysql_free_result(res);
        status = mysql_next_result(m);
    } while (status == 0);
    if (status > 0) {
        fprintf(stderr, "test_dbsql: as root: %s\n", mysql_error(m));
        return false;
    }
    return true;
}

/* As root over 'sock': the schemas anew and the test user with 'password' on them. */
static bool admin_prepare(const char *sock, const char *password)
{
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = 10;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (mysql_real_connect(m, NULL, "root", NULL, NULL, 0, sock, CLIENT_MULTI_STATEMENTS) == NULL) {
        fprintf(stderr, "test_dbsql: cannot log in as root over %s: %s\n", sock, mysql_error(m));
        mysql_close(m);
        return false;
    }
    char *sql = xasprintf(
        "DROP DATABASE IF EXISTS " DBTEST_SCHEMA ";"
        "DROP DATABASE IF EXISTS " DBTEST_MSCHEMA ";"
        "CREATE DATABASE " DBTEST_SCHEMA " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        "CREATE DATABASE " DBTEST_MSCHEMA " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        "CREATE USER IF NOT EXISTS '" DBTEST_USER "'@'127.0.0.1' IDENTIFIED BY '%s';"
        "ALTER USER '" DBTEST_USER "'@'127.0.0.1' IDENTIFIED BY '%s';"
        "GRANT ALL ON " DBTEST_SCHEMA ".* TO '" DBTEST_USER "'@'127.0.0.1';"
        "GRANT ALL ON " DBTEST_MSCHEMA ".* TO '" DBTEST_USER "'@'127.0.0.1'",
        password, password);
    bool ok = admin_run(m, sql);
    free(sql);
    mysql_close(m);
    return ok;
}

static int group_setup(void **state)
{
    const char *sock = getenv("CRM_TEST_MYSQL_SOCKET"), *port = getenv("CRM_TEST_MYSQL_PORT");
    long portn = 0;
    if (port == NULL || util_parse_long(port, 1, 65535, &portn) != 0) {
        fprintf(stderr, "test_dbsql: CRM_TEST_MYSQL_PORT must be the TCP port of the MariaDB"
                        " behind CRM_TEST_MYSQL_SOCKET\n");
        return -1;
    }
    struct dbtest *t = xcalloc(1, sizeof(*t));
    util_random_hex(t->password, 48);
    if (!admin_prepare(sock, t->password)) {
        free(t);
        return -1;
    }
    t->cfg =
        (struct db_config){"127.0.0.1", (int)portn, DBTEST_USER, t->password, DBTEST_SCHEMA, 10};
    t->mcfg = t->cfg;
    t->mcfg.name = DBTEST_MSCHEMA;
    db_init(&t->db, &t->cfg);
    snprintf(t->emptydir, sizeof(t->emptydir), "/tmp/crm-dbtest-empty-XXXXXX");
    if (db_connect(&t->db) != 0 || mkdtemp(t->emptydir) == NULL) {
        fprintf(stderr, "test_dbsql: cannot connect as %s to 127.0.0.1:%ld: %s\n", DBTEST_USER,
                portn, t->db.last_error);
        db_cleanup(&t->db);
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int group_teardown(void **state)
{
    struct dbtest *t = *state;
    if (t == NULL) /* cmocka tears down after a failed setup too */
        return 0;
    db_cleanup(&t->db);
    rmdir(t->emptydir);
    free(t);
    return 0;
}

int main(void)
{
    if (getenv("CRM_TEST_MYSQL_SOCKET") == NULL || !*getenv("CRM_TEST_MYSQL_SOCKET")) {
        printf("test_dbsql: skipped: no database (CRM_TEST_MYSQL_SOCKET and CRM_TEST_MYSQL_PORT"
               " name one; deploy/crm test runs this against its test stack)\n");
        return DBTEST_SKIPPED;
    }
    crmlog_init("test_dbsql", CRMLOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_rows_round_trip),
        cmocka_unit_test(test_insert_rows_duplicate),
        cmocka_unit_test(test_query_one),
        cmocka_unit_test(test_query_each),
        cmocka_unit_test(test_errors_retryable),
        cmocka_unit_test(test_events_batch),
        cmocka_unit_test(test_ownerproj_move_rows),
        cmocka_unit_test(test_listq_sql),
        cmocka_unit_test(test_listq_contains),
        cmocka_unit_test(test_listq_paging),
        cmocka_unit_test(test_listq_totals),
        cmocka_unit_test(test_listq_page_parse),
        cmocka_unit_test(test_scope_where),
        cmocka_unit_test(test_scope_covers_dept),
        cmocka_unit_test(test_scope_projection),
        cmocka_unit_test(test_migrate_units),
    };
    int failed = cmocka_run_group_tests_name("dbsql", tests, group_setup, group_teardown);
    mysql_library_end();
    return failed == 0 ? 0 : 1;
}
