/* SPDX-License-Identifier: Apache-2.0 */
/* migrate: apply a service's migrations/NNNN_*.sql once each, in order, recorded. */
#include "migrate.h"
#include "crmlog.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_MAX_FILE (4 * 1024 * 1024)

static int migrate_cmp(const void *a, const void *b)
{
    return ((const struct migrate_file *)a)->version - ((const struct migrate_file *)b)->version;
}

int migrate_list(const char *dir, struct migrate_file **out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct migrate_file *files = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    if (d == NULL) {
        snprintf(err, errlen, "migrations directory '%s' cannot be opened", dir);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (len < 10 || strcmp(nm + len - 4, ".sql") != 0 || nm[4] != '_' ||
            len >= sizeof(files->name))
            continue;
        bool digits = true;
        for (int i = 0; i < 4; i++)
            digits = digits && isdigit((unsigned char)nm[i]);
        if (!digits)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            files = xrealloc(files, (size_t)cap * sizeof(*files));
        }
        files[n].version = atoi(nm);
        snprintf(files[n].name, sizeof(files[n].name), "%s", nm);
        n++;
    }
    closedir(d);
    if (n > 1) /* an empty directory leaves 'files' NULL, which qsort may not be given */
        qsort(files, (size_t)n, sizeof(*files), migrate_cmp);
    for (int i = 1; i < n; i++) {
        if (files[i].version == files[i - 1].version) {
            snprintf(err, errlen, "migrations '%s' and '%s' share version %d", files[i - 1].name,
                     files[i].name, files[i].version);
            free(files);
            return -1;
        }
    }
    *out = files;
    return n;
}

/* Run a multi-statement migration text and drain every result. DDL is not transactional in
 * MariaDB: a file should hold one logical change so a failure leaves little to undo. */
static int migrate_exec_text(MYSQL *m, const char *sql, size_t len)
{
    if (mysql_real_query(m, sql, (unsigned long)len) != 0)
        return -1;
    int status;
    do {
        MYSQL_RES *res = mysql_store_result(m);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(m) != 0)
            return -1;
        status = mysql_next_result(m);
        if (status > 0)
            return -1;
    } while (status == 0);
    return 0;
}

/* Whether migration 'key' (a version or a name) was applied; -1 when it was, with another text. */
static int migrate_applied(json_t *applied, const char *col, json_t *key, const char *sum,
                           const char *what, char *err, size_t errlen)
{
    size_t k;
    json_t *row;
    json_array_foreach(applied, k, row)
    {
        if (!json_equal(json_object_get(row, col), key))
            continue;
        if (strcmp(json_string_value(json_object_get(row, "checksum")), sum) != 0) {
            snprintf(err, errlen,
                     "migration '%s' changed after it was applied; add a new "
                     "migration instead",
                     what);
            return -1;
        }
        return 1;
    }
    return 0;
}

/* Run one migration text unless applied, and record it by 'col' = 'key'. 1 when applied now,
 * 0 when it had been, -1 on failure. */
static int migrate_one(struct db *db, MYSQL *m, json_t *applied, const char *table, const char *col,
                       json_t *key, const char *name, const char *sql, size_t len, char *err,
                       size_t errlen)
{
    char sum[65];
    util_sha256_hex(sql, len, sum);
    int done = migrate_applied(applied, col, key, sum, name, err, errlen);
    if (done != 0)
        return done < 0 ? -1 : 0;
    if (migrate_exec_text(m, sql, len) != 0) {
        snprintf(err, errlen, "migration '%s' failed: %s", name, mysql_error(m));
        return -1;
    }
    char *ins = xasprintf("INSERT INTO %s (%s, name, checksum) VALUES (?,?,?)", table, col);
    struct db_param p[] = {json_is_integer(key) ? DBP_INT(json_integer_value(key))
                                                : DBP_STR(json_string_value(key)),
                           DBP_STR(name), DBP_STR(sum)};
    int rc = db_exec(db, ins, p, 3, NULL, NULL);
    free(ins);
    if (rc != 0) {
        snprintf(err, errlen, "recording '%s' failed: %s", name, db->last_error);
        return -1;
    }
    log_info(NULL, "applied migration %s", name);
    return 1;
}

int migrate_run(const struct db_config *cfg, const char *dir, const struct migrate_unit *units,
                size_t nunits, char *err, size_t errlen)
{
    struct migrate_file *files = NULL;
    struct db db;
    json_t *applied = NULL, *applied_units = NULL;
    MYSQL *m = NULL;
    int napplied = 0, rc = -1;
    bool locked = false;

    int n = migrate_list(dir, &files, err, errlen);
    if (n < 0)
        return -1;
    db_init(&db, cfg);
    if (db_connect(&db) != 0) {
        snprintf(err, errlen, "database unavailable: %s", db.last_error);
        goto out;
    }
    /* The runner's own text connection: migration files are multi-statement DDL written by us,
     * never input; everything else in the services goes through prepared statements. */
    m = mysql_init(NULL);
    /* a migration over a loaded table (an index, a backfill of millions of rows) takes minutes:
     * a read timeout of the service's I/O timeout would end it half-way, and DDL is not
     * transactional (the care service's 0003 over 3 million contacts ran past 50 s) */
    unsigned timeout = MIGRATE_READ_TIMEOUT_S;
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone='+00:00'");
    if (mysql_real_connect(m, cfg->host, cfg->user, cfg->password, cfg->name, (unsigned)cfg->port,
                           NULL, CLIENT_MULTI_STATEMENTS) == NULL ||
        mysql_set_character_set(m, "utf8mb4") != 0) {
        snprintf(err, errlen, "database unavailable: %s", mysql_error(m));
        goto out;
    }
    json_t *lock = NULL;
    if (db_query(&db, "SELECT GET_LOCK(CONCAT(DATABASE(), '.migrations'), 60) AS got", NULL, 0,
                 &lock) != 0 ||
        json_integer_value(json_object_get(json_array_get(lock, 0), "got")) != 1) {
        json_decref(lock);
        snprintf(err, errlen, "could not take the migration lock");
        goto out;
    }
    json_decref(lock);
    locked = true;
    if (db_exec(&db,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INT NOT NULL PRIMARY KEY,"
                " name VARCHAR(255) NOT NULL,"
                " checksum CHAR(64) NOT NULL,"
                " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
                NULL, 0, NULL, NULL) != 0 ||
        db_exec(&db,
                "CREATE TABLE IF NOT EXISTS libcrm_migrations ("
                " unit VARCHAR(64) NOT NULL PRIMARY KEY,"
                " name VARCHAR(255) NOT NULL,"
                " checksum CHAR(64) NOT NULL,"
                " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
                NULL, 0, NULL, NULL) != 0 ||
        db_query(&db, "SELECT version, name, checksum FROM schema_migrations", NULL, 0, &applied) !=
            0 ||
        db_query(&db, "SELECT unit, name, checksum FROM libcrm_migrations", NULL, 0,
                 &applied_units) != 0) {
        snprintf(err, errlen, "schema_migrations: %s", db.last_error);
        goto out;
    }
    for (size_t u = 0; u < nunits; u++) {
        json_t *key = json_string(units[u].name);
        char *name = xasprintf("libcrm %s", units[u].name);
        int one = migrate_one(&db, m, applied_units, "libcrm_migrations", "unit", key, name,
                              units[u].sql, strlen(units[u].sql), err, errlen);
        free(name);
        json_decref(key);
        if (one < 0)
            goto out;
        napplied += one;
    }
    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, files[i].name);
        size_t len = 0;
        char *sql = util_read_file(path, MIGRATE_MAX_FILE, &len);
        free(path);
        if (sql == NULL) {
            snprintf(err, errlen, "migration '%s' cannot be read", files[i].name);
            goto out;
        }
        json_t *key = json_integer(files[i].version);
        int one = migrate_one(&db, m, applied, "schema_migrations", "version", key, files[i].name,
                              sql, len, err, errlen);
        json_decref(key);
        free(sql);
        if (one < 0)
            goto out;
        napplied += one;
    }
    rc = napplied;
out:
    if (locked) {
        json_t *r = NULL;
        if (db_query(&db, "SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.migrations')) AS r", NULL, 0,
                     &r) == 0)
            json_decref(r);
    }
    json_decref(applied);
    json_decref(applied_units);
    if (m)
        mysql_close(m);
    db_cleanup(&db);
    free(files);
    return rc;
}
