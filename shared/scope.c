/* SPDX-License-Identifier: Apache-2.0 */
/* scope: data scope predicates and the projection of departments and users behind them. */
#include "scope.h"
#include "crmlog.h"
#include "events.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct migrate_unit scope_migration = {
    "scope_projection.1",
    /* the department tree and who belongs where, as the auth service's events tell it */
    "CREATE TABLE IF NOT EXISTS scope_depts ("
    " id BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    " parent_id BIGINT UNSIGNED NULL,"
    " name VARCHAR(64) NOT NULL DEFAULT '',"
    " KEY ix_scope_depts_parent (parent_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;"
    "CREATE TABLE IF NOT EXISTS scope_users ("
    " user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,"
    " dept_id BIGINT UNSIGNED NULL,"
    " username VARCHAR(64) NOT NULL DEFAULT '',"
    " display_name VARCHAR(64) NOT NULL DEFAULT '',"
    " KEY ix_scope_users_dept (dept_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

const struct migrate_unit scope_migration_users = {
    "scope_projection.2",
    /* whether each user is active and which roles they hold: who may own a record (a customer
     * manager receiving a transfer, the owner a customer is created for) */
    "ALTER TABLE scope_users"
    " ADD COLUMN IF NOT EXISTS status ENUM('enabled', 'disabled') NOT NULL DEFAULT 'enabled',"
    " ADD COLUMN IF NOT EXISTS role_codes VARCHAR(512) NOT NULL DEFAULT ''",
};

const struct scope_source scope_projection = {"scope_depts", "scope_users", "user_id"};
const struct scope_source scope_unscoped = {"scope_depts", "scope_users", "user_id"};

static const char *const scope_names[] = {
    [SCOPE_SELF] = "SELF",
    [SCOPE_DEPT] = "DEPT",
    [SCOPE_DEPT_AND_CHILD] = "DEPT_AND_CHILD",
    [SCOPE_ALL] = "ALL",
};

const char *scope_name(enum scope_kind k)
{
    return (unsigned)k < ARRAY_LEN(scope_names) ? scope_names[k] : "SELF";
}

int scope_parse(const char *s, enum scope_kind *out)
{
    for (size_t i = 0; s && i < ARRAY_LEN(scope_names); i++) {
        if (strcmp(s, scope_names[i]) == 0) {
            *out = (enum scope_kind)i;
            return 0;
        }
    }
    return -1;
}

/* The departments 'sc' covers, as a query of one placeholder (the caller's user id) with a
 * column "id": the caller's current department, and for DEPT_AND_CHILD every one below it. */
static void scope_depts_sql(const struct scope *sc, char *out, size_t outlen)
{
    const struct scope_source *s = sc->src;
    if (sc->kind == SCOPE_DEPT)
        snprintf(out, outlen, "SELECT dept_id AS id FROM %s WHERE %s = ? AND dept_id IS NOT NULL",
                 s->users, s->user_col);
    else
        snprintf(out, outlen,
                 "WITH RECURSIVE scope_tree AS (SELECT dept_id AS id FROM %s WHERE %s = ?"
                 " AND dept_id IS NOT NULL"
                 " UNION ALL SELECT c.id FROM %s c JOIN scope_tree p ON c.parent_id = p.id)"
                 " SELECT id FROM scope_tree",
                 s->users, s->user_col, s->depts);
}

static int scope_add_dept(json_t *row, void *arg)
{
    struct scope *sc = arg;
    if (sc->ndepts == SCOPE_MAX_DEPTS) {
        sc->too_many = true;
        return 1;
    }
    sc->depts[sc->ndepts++] = json_integer_value(json_object_get(row, "id"));
    return 0;
}

int scope_resolve(struct db *db, struct scope *sc)
{
    char sql[768];
    if (sc->resolved || sc->kind == SCOPE_ALL || sc->kind == SCOPE_SELF)
        return 0;
    scope_depts_sql(sc, sql, sizeof(sql));
    sc->ndepts = 0;
    sc->too_many = false;
    int rc = db_query_each(db, sql, &DBP_INT(sc->user_id), 1, scope_add_dept, sc);
    if (rc < 0)
        return -1;
    sc->resolved = true;
    return 0;
}

/* Records of owner 'col' in 'depts' (a list or a query): the owner's department is in it. */
static void scope_owner_in(char *out, size_t outlen, const struct scope *sc, const char *col,
                           const char *depts)
{
    snprintf(out, outlen, "%s IN (SELECT o.%s FROM %s o WHERE o.dept_id IN (%s))", col,
             sc->src->user_col, sc->src->users, depts);
}

/* The predicate on the resolved departments into 'q': 'col' in them ('owner': the department of
 * the owner 'col' in them); "1 = 0" when there are none. */
static void scope_in_list(struct listq *q, const struct scope *sc, bool owner, const char *col)
{
    char in[4 * SCOPE_MAX_DEPTS + 8] = "", cond[6 * SCOPE_MAX_DEPTS + 256];
    struct db_param vals[SCOPE_MAX_DEPTS];
    if (sc->ndepts == 0) {
        listq_add(q, "1 = 0", NULL, 0);
        return;
    }
    for (size_t i = 0; i < sc->ndepts; i++) {
        strcat(in, i ? ",?" : "?");
        vals[i] = DBP_INT(sc->depts[i]);
    }
    if (owner)
        scope_owner_in(cond, sizeof(cond), sc, col, in);
    else
        snprintf(cond, sizeof(cond), "%s IN (%s)", col, in);
    listq_add(q, cond, vals, sc->ndepts);
}

int scope_where(struct db *db, struct listq *q, struct scope *sc, const char *owner_col,
                const char *dept_col)
{
    char depts[768], cond[1024];
    struct db_param me = DBP_INT(sc->user_id);
    if (sc->kind == SCOPE_ALL)
        return 0;
    if (sc->kind == SCOPE_SELF) {
        if (owner_col == NULL)
            abort(); /* a bug: SELF needs an owner column */
        snprintf(cond, sizeof(cond), "%s = ?", owner_col);
        listq_add(q, cond, &me, 1);
        return 0;
    }
    if (dept_col == NULL && owner_col == NULL)
        abort(); /* a bug: neither column */
    if (scope_resolve(db, sc) != 0)
        return -1;
    if (!sc->too_many) {
        scope_in_list(q, sc, dept_col == NULL, dept_col ? dept_col : owner_col);
        return 0;
    }
    /* a tree too large to list: walked inside the statement */
    scope_depts_sql(sc, depts, sizeof(depts));
    if (dept_col)
        snprintf(cond, sizeof(cond), "%s IN (%s)", dept_col, depts);
    else
        scope_owner_in(cond, sizeof(cond), sc, owner_col, depts);
    listq_add(q, cond, &me, 1);
    return 0;
}

int scope_where_either(struct db *db, struct listq *q, struct scope *sc, const char *owner_a,
                       const char *owner_b)
{
    if (sc->kind == SCOPE_ALL)
        return 0;
    struct listq *a = xcalloc(1, sizeof(*a)), *b = xcalloc(1, sizeof(*b));
    struct db_param vals[2 * (SCOPE_MAX_DEPTS + 1)];
    int rc = -1;
    listq_init(a);
    listq_init(b);
    if (scope_where(db, a, sc, owner_a, NULL) != 0 || scope_where(db, b, sc, owner_b, NULL) != 0)
        goto out;
    /* each holds " WHERE (its condition)" */
    char *cond = xasprintf("%s OR %s", listq_sql(a) + 7, listq_sql(b) + 7);
    memcpy(vals, a->p, a->n * sizeof(vals[0]));
    memcpy(vals + a->n, b->p, b->n * sizeof(vals[0]));
    listq_add(q, cond, vals, a->n + b->n);
    free(cond);
    rc = 0;
out:
    free(a);
    free(b);
    return rc;
}

int scope_covers_dept(struct db *db, struct scope *sc, long long dept_id, bool *covered)
{
    *covered = sc->kind == SCOPE_ALL;
    if (sc->kind == SCOPE_ALL)
        return 0;
    struct listq q;
    listq_init(&q);
    listq_add(&q, "d.id = ?", &DBP_INT(dept_id), 1);
    if (sc->kind == SCOPE_SELF) {
        char cond[256];
        snprintf(cond, sizeof(cond), "d.id = (SELECT dept_id FROM %s WHERE %s = ?)", sc->src->users,
                 sc->src->user_col);
        listq_add(&q, cond, &DBP_INT(sc->user_id), 1);
    } else if (scope_where(db, &q, sc, NULL, "d.id") != 0) {
        return -1;
    }
    char *sql = xasprintf("SELECT d.id FROM %s d%s", sc->src->depts, listq_sql(&q));
    json_t *row = NULL;
    int rc = db_query_one(db, sql, q.p, q.n, &row);
    free(sql);
    *covered = row != NULL;
    json_decref(row);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* the projection                                                                              */

int scope_projection_apply(struct db *db, json_t *event)
{
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *sid = json_string_value(json_object_get(json_object_get(event, "subject"), "id"));
    json_t *data = json_object_get(event, "data");
    long id = 0;
    if (type == NULL || sid == NULL || util_parse_long(sid, 1, (long)(~0UL >> 1), &id) != 0)
        return 0; /* not about a department or user of ours */
    /* *.synced: the record again, as auth announces it once per projection step */
    if (strcmp(type, "department.created") == 0 || strcmp(type, "department.synced") == 0) {
        struct db_param p[] = {DBP_INT(id), db_param_json_int(json_object_get(data, "parent_id")),
                               db_param_json_str(json_object_get(data, "name"))};
        return db_exec(db,
                       "INSERT INTO scope_depts (id, parent_id, name) VALUES (?,?,?)"
                       " ON DUPLICATE KEY UPDATE parent_id = VALUES(parent_id),"
                       " name = VALUES(name)",
                       p, 3, NULL, NULL);
    }
    if (strcmp(type, "department.updated") == 0) {
        json_t *parent = events_changed(data, "parent_id"), *name = json_object_get(data, "name");
        struct db_param p[] = {DBP_INT(parent != NULL), db_param_json_int(parent),
                               db_param_json_str(name), db_param_json_str(name), DBP_INT(id)};
        return db_exec(db,
                       "UPDATE scope_depts SET parent_id = IF(?, ?, parent_id),"
                       " name = IF(? = '', name, ?) WHERE id = ?",
                       p, 5, NULL, NULL);
    }
    if (strcmp(type, "department.deleted") == 0)
        return db_exec(db, "DELETE FROM scope_depts WHERE id = ?", &DBP_INT(id), 1, NULL, NULL);
    if (strcmp(type, "user.created") == 0 || strcmp(type, "user.synced") == 0) {
        char codes[SCOPE_ROLE_CODES_LEN];
        const char *status = json_string_value(json_object_get(data, "status"));
        json_t *roles = json_object_get(data, "role_codes");
        scope_role_codes_csv(roles ? roles : json_object_get(data, "roles"), codes);
        struct db_param p[] = {
            DBP_INT(id),
            db_param_json_int(json_object_get(data, "dept_id")),
            db_param_json_str(json_object_get(data, "username")),
            db_param_json_str(json_object_get(data, "display_name")),
            DBP_STR(status && strcmp(status, "disabled") == 0 ? "disabled" : "enabled"),
            DBP_STR(codes)};
        return db_exec(db,
                       "INSERT INTO scope_users (user_id, dept_id, username, display_name,"
                       " status, role_codes) VALUES (?,?,?,?,?,?) ON DUPLICATE KEY UPDATE"
                       " dept_id = VALUES(dept_id), username = VALUES(username),"
                       " display_name = VALUES(display_name), status = VALUES(status),"
                       " role_codes = VALUES(role_codes)",
                       p, 6, NULL, NULL);
    }
    if (strcmp(type, "user.updated") == 0) {
        json_t *dept = events_changed(data, "dept_id"),
               *name = events_changed(data, "display_name"),
               *roles = json_object_get(data, "role_codes"); /* all of them, when given */
        char codes[SCOPE_ROLE_CODES_LEN];
        scope_role_codes_csv(roles, codes);
        struct db_param p[] = {DBP_INT(dept != NULL),
                               db_param_json_int(dept),
                               DBP_INT(name != NULL),
                               db_param_json_str(name),
                               DBP_INT(roles != NULL),
                               DBP_STR(codes),
                               DBP_INT(id)};
        return db_exec(db,
                       "UPDATE scope_users SET dept_id = IF(?, ?, dept_id),"
                       " display_name = IF(?, ?, display_name),"
                       " role_codes = IF(?, ?, role_codes) WHERE user_id = ?",
                       p, 7, NULL, NULL);
    }
    if (strcmp(type, "user.disabled") == 0 || strcmp(type, "user.enabled") == 0) {
        struct db_param p[] = {DBP_STR(type + 5), DBP_INT(id)};
        return db_exec(db, "UPDATE scope_users SET status = ? WHERE user_id = ?", p, 2, NULL, NULL);
    }
    return 0;
}

void scope_role_codes_csv(json_t *codes, char out[SCOPE_ROLE_CODES_LEN])
{
    size_t len = 0, i;
    json_t *c;
    out[0] = '\0';
    json_array_foreach(codes, i, c)
    {
        const char *s = json_string_value(c);
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || strchr(s, ',') != NULL || len + n + 2 > SCOPE_ROLE_CODES_LEN)
            continue;
        len += (size_t)snprintf(out + len, SCOPE_ROLE_CODES_LEN - len, "%s%s", len ? "," : "", s);
    }
}

bool scope_user_has_role(const struct scope_user *u, const char *code)
{
    size_t n = strlen(code);
    for (const char *p = u->role_codes; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, code, n) == 0)
            return true;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return false;
}

int scope_user_get(struct db *db, struct scope *sc, long long user_id, struct scope_user *out)
{
    struct listq q;
    json_t *row = NULL;
    char *sql = NULL;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    listq_init(&q);
    listq_add(&q, "su.user_id = ?", &DBP_INT(user_id), 1);
    if (sc != NULL && scope_where(db, &q, sc, "su.user_id", NULL) != 0)
        goto out;
    sql = xasprintf("SELECT su.dept_id, su.display_name, su.status, su.role_codes"
                    " FROM scope_users su%s",
                    listq_sql(&q));
    rc = db_query_one(db, sql, q.p, q.n, &row);
    if (rc == 0 && row != NULL) {
        out->found = true;
        out->enabled = strcmp(json_string_value(json_object_get(row, "status")), "enabled") == 0;
        out->dept_id = json_integer_value(json_object_get(row, "dept_id"));
        snprintf(out->display_name, sizeof(out->display_name), "%s",
                 json_string_value(json_object_get(row, "display_name")));
        snprintf(out->role_codes, sizeof(out->role_codes), "%s",
                 json_string_value(json_object_get(row, "role_codes")));
    }
out:
    free(sql);
    json_decref(row);
    return rc;
}
