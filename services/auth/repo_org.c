/* SPDX-License-Identifier: Apache-2.0 */
/* repo_org: the SQL of departments, roles, the permission catalogue and the data dictionary. */
#include "repo.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* ---- departments ---- */

/* A department as the API shows it: its leader's name beside the leader's id. */
#define DEPT_COLUMNS                                                                               \
    "d.id, d.parent_id, d.name, d.leader_id, l.display_name AS leader_name, d.phone, d.email,"     \
    " d.status, d.sort_order, d.version, d.created_at, d.updated_at"
#define DEPT_FROM " FROM departments d LEFT JOIN users l ON l.id = d.leader_id"

int repo_depts_all(struct db *db, json_t **rows)
{
    return db_query(db, "SELECT " DEPT_COLUMNS DEPT_FROM " ORDER BY d.sort_order, d.id", NULL, 0,
                    rows);
}

int repo_dept_get(struct db *db, long long id, bool lock, json_t **row)
{
    struct db_param p[] = {DBP_INT(id)};
    /* the locked read leaves the leader's name out: joining would lock the leader's user row */
    return db_query_one(db,
                        lock ? "SELECT d.id, d.parent_id, d.name, d.leader_id, d.phone, d.email,"
                               " d.status, d.sort_order, d.version, d.created_at, d.updated_at"
                               " FROM departments d WHERE d.id = ? FOR UPDATE"
                             : "SELECT " DEPT_COLUMNS DEPT_FROM " WHERE d.id = ?",
                        p, 1, row);
}

int repo_dept_by_name(struct db *db, long long parent_id, const char *name, json_t **row)
{
    struct db_param p[] = {DBP_INT(parent_id), DBP_INT(parent_id), DBP_STR(name)};
    return db_query_one(db,
                        "SELECT id FROM departments WHERE ((? = 0 AND parent_id IS NULL) OR"
                        " parent_id = ?) AND name = ?",
                        p, 3, row);
}

static const char *str_or(json_t *o, const char *k, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : dflt;
}

int repo_dept_insert(struct db *db, json_t *d, long long *id)
{
    json_t *parent = json_object_get(d, "parent_id"), *leader = json_object_get(d, "leader_id"),
           *sort = json_object_get(d, "sort_order");
    struct db_param p[] = {json_is_integer(parent) ? DBP_INT(json_integer_value(parent)) : DBP_NULL,
                           DBP_STR(str_or(d, "name", "")),
                           json_is_integer(leader) ? DBP_INT(json_integer_value(leader)) : DBP_NULL,
                           DBP_STR(str_or(d, "phone", "")),
                           DBP_STR(str_or(d, "email", "")),
                           DBP_STR(str_or(d, "status", "enabled")),
                           DBP_INT(json_is_integer(sort) ? json_integer_value(sort) : 0)};
    uint64_t nid = 0;
    int rc = db_exec(db,
                     "INSERT INTO departments (parent_id, name, leader_id, phone, email, status,"
                     " sort_order) VALUES (?,?,?,?,?,?,?)",
                     p, 7, NULL, &nid);
    *id = (long long)nid;
    return rc;
}

int repo_dept_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected)
{
    json_t *parent = json_object_get(patch, "parent_id"),
           *leader = json_object_get(patch, "leader_id");
    struct db_param p[] = {repo_opt_str(patch, "name"),
                           DBP_INT(parent != NULL),
                           json_is_integer(parent) ? DBP_INT(json_integer_value(parent)) : DBP_NULL,
                           DBP_INT(leader != NULL),
                           json_is_integer(leader) ? DBP_INT(json_integer_value(leader)) : DBP_NULL,
                           repo_opt_str(patch, "phone"),
                           repo_opt_str(patch, "email"),
                           repo_opt_str(patch, "status"),
                           repo_opt_int(patch, "sort_order"),
                           DBP_INT(id),
                           DBP_INT(version)};
    return db_exec(db,
                   "UPDATE departments SET name = COALESCE(?, name),"
                   " parent_id = IF(?, ?, parent_id), leader_id = IF(?, ?, leader_id),"
                   " phone = COALESCE(?, phone), email = COALESCE(?, email),"
                   " status = COALESCE(?, status), sort_order = COALESCE(?, sort_order),"
                   " version = version + 1 WHERE id = ? AND version = ?",
                   p, 11, affected, NULL);
}

int repo_dept_delete(struct db *db, long long id)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_exec(db, "DELETE FROM departments WHERE id = ?", p, 1, NULL, NULL);
}

int repo_dept_usage(struct db *db, long long id, long long *children, long long *users)
{
    struct db_param p[] = {DBP_INT(id)};
    if (repo_query_count(db, "SELECT COUNT(*) AS n FROM departments WHERE parent_id = ?", p, 1,
                         children) != 0)
        return -1;
    return repo_query_count(db, "SELECT COUNT(*) AS n FROM users WHERE dept_id = ?", p, 1, users);
}

/* ---- roles ---- */

#define ROLE_COLUMNS                                                                               \
    "id, code, name, name_en, data_scope, builtin, description, version, created_at, updated_at"

/* Attach each role's permission codes as "permissions". */
static int roles_attach_perms(struct db *db, json_t *roles)
{
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        json_t *codes = NULL;
        if (repo_role_perms(db, json_integer_value(json_object_get(r, "id")), &codes) != 0)
            return -1;
        json_object_set_new(r, "permissions", codes);
        json_object_set(r, "builtin",
                        json_boolean(json_integer_value(json_object_get(r, "builtin"))));
    }
    return 0;
}

int repo_roles_list(struct db *db, const struct listq_page *pg, struct listq_result *out)
{
    static const struct listq_spec spec = {
        .from = "roles r",
        .id = "r.id",
        .columns = "r.id, r.code, r.name, r.name_en, r.data_scope, r.builtin, r.description,"
                   " r.version,"
                   " r.created_at, r.updated_at",
    };
    struct listq q;
    listq_init(&q);
    if (listq_run(db, &spec, &q, pg, out) != 0)
        return -1;
    return roles_attach_perms(db, out->items);
}

int repo_role_get(struct db *db, long long id, bool lock, json_t **row)
{
    struct db_param p[] = {DBP_INT(id)};
    json_t *rows = NULL;
    *row = NULL;
    if (db_query(db,
                 lock ? "SELECT " ROLE_COLUMNS " FROM roles WHERE id = ? FOR UPDATE"
                      : "SELECT " ROLE_COLUMNS " FROM roles WHERE id = ?",
                 p, 1, &rows) != 0 ||
        roles_attach_perms(db, rows) != 0) {
        json_decref(rows);
        return -1;
    }
    json_t *r = json_array_get(rows, 0);
    *row = r ? json_incref(r) : NULL;
    json_decref(rows);
    return 0;
}

int repo_role_by_code(struct db *db, const char *code, json_t **row)
{
    struct db_param p[] = {DBP_STR(code)};
    return db_query_one(db, "SELECT " ROLE_COLUMNS " FROM roles WHERE code = ?", p, 1, row);
}

int repo_role_insert(struct db *db, json_t *r, bool builtin, long long *id)
{
    struct db_param p[] = {DBP_STR(str_or(r, "code", "")),
                           DBP_STR(str_or(r, "name", "")),
                           DBP_STR(str_or(r, "name_en", "")),
                           DBP_STR(str_or(r, "data_scope", "")),
                           DBP_INT(builtin),
                           DBP_STR(str_or(r, "description", ""))};
    uint64_t nid = 0;
    int rc = db_exec(db,
                     "INSERT INTO roles (code, name, name_en, data_scope, builtin, description)"
                     " VALUES (?,?,?,?,?,?)",
                     p, 6, NULL, &nid);
    *id = (long long)nid;
    return rc;
}

int repo_role_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected)
{
    struct db_param p[] = {repo_opt_str(patch, "name"),
                           repo_opt_str(patch, "name_en"),
                           repo_opt_str(patch, "data_scope"),
                           repo_opt_str(patch, "description"),
                           DBP_INT(id),
                           DBP_INT(version)};
    return db_exec(db,
                   "UPDATE roles SET name = COALESCE(?, name), name_en = COALESCE(?, name_en),"
                   " data_scope = COALESCE(?, data_scope),"
                   " description = COALESCE(?, description), version = version + 1"
                   " WHERE id = ? AND version = ?",
                   p, 6, affected, NULL);
}

int repo_role_delete(struct db *db, long long id)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_exec(db, "DELETE FROM roles WHERE id = ?", p, 1, NULL, NULL);
}

int repo_role_perms(struct db *db, long long id, json_t **codes)
{
    struct db_param p[] = {DBP_INT(id)};
    return repo_query_codes(db,
                            "SELECT permission_code AS code FROM role_permissions"
                            " WHERE role_id = ? ORDER BY permission_code",
                            p, 1, codes);
}

int repo_role_grant(struct db *db, long long id, const char *code)
{
    struct db_param p[] = {DBP_INT(id), DBP_STR(code)};
    return db_exec(db,
                   "INSERT IGNORE INTO role_permissions (role_id, permission_code) VALUES (?,?)", p,
                   2, NULL, NULL);
}

int repo_role_set_perms(struct db *db, long long id, json_t *codes)
{
    struct db_param p[] = {DBP_INT(id)};
    if (db_exec(db, "DELETE FROM role_permissions WHERE role_id = ?", p, 1, NULL, NULL) != 0)
        return -1;
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c)
    {
        if (repo_role_grant(db, id, json_string_value(c)) != 0)
            return -1;
    }
    return 0;
}

int repo_role_user_count(struct db *db, long long id, long long *n)
{
    struct db_param p[] = {DBP_INT(id)};
    return repo_query_count(db, "SELECT COUNT(*) AS n FROM user_roles WHERE role_id = ?", p, 1, n);
}

int repo_role_members(struct db *db, long long id, json_t **user_ids)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_query(db, "SELECT user_id FROM user_roles WHERE role_id = ?", p, 1, user_ids);
}

/* ---- permission catalogue ---- */

int repo_perms_all(struct db *db, json_t **rows)
{
    return db_query(db,
                    "SELECT code, kind, name_zh, name_en FROM permissions ORDER BY sort_order,"
                    " code",
                    NULL, 0, rows);
}

int repo_perm_upsert(struct db *db, json_t *perm, long sort, bool *is_new)
{
    const char *code = json_string_value(json_object_get(perm, "code"));
    json_t *row = NULL;
    struct db_param k[] = {DBP_STR(code)};
    if (db_query_one(db, "SELECT code FROM permissions WHERE code = ?", k, 1, &row) != 0)
        return -1;
    *is_new = row == NULL;
    json_decref(row);
    struct db_param p[] = {DBP_STR(code), DBP_STR(json_string_value(json_object_get(perm, "kind"))),
                           DBP_STR(json_string_value(json_object_get(perm, "name_zh"))),
                           DBP_STR(json_string_value(json_object_get(perm, "name_en"))),
                           DBP_INT(sort)};
    return db_exec(db,
                   "INSERT INTO permissions (code, kind, name_zh, name_en, sort_order)"
                   " VALUES (?,?,?,?,?) ON DUPLICATE KEY UPDATE kind = VALUES(kind),"
                   " name_zh = VALUES(name_zh), name_en = VALUES(name_en),"
                   " sort_order = VALUES(sort_order)",
                   p, 5, NULL, NULL);
}

/* ---- data dictionary ---- */

#define TYPE_COLUMNS "id, code, name_zh, name_en, builtin, version, created_at, updated_at"
#define ITEM_COLUMNS                                                                               \
    "id, value, label_zh, label_en, sort_order, enabled, version, created_at, updated_at"

static void bools(json_t *rows, const char *key)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(r, key, json_boolean(json_integer_value(json_object_get(r, key))));
    }
}

int repo_dict_types(struct db *db, json_t **rows)
{
    if (db_query(db, "SELECT " TYPE_COLUMNS " FROM dict_types ORDER BY id", NULL, 0, rows) != 0)
        return -1;
    bools(*rows, "builtin");
    return 0;
}

int repo_dict_type_by_code(struct db *db, const char *code, json_t **row)
{
    struct db_param p[] = {DBP_STR(code)};
    if (db_query_one(db, "SELECT " TYPE_COLUMNS " FROM dict_types WHERE code = ?", p, 1, row) != 0)
        return -1;
    if (*row)
        json_object_set_new(*row, "builtin",
                            json_boolean(json_integer_value(json_object_get(*row, "builtin"))));
    return 0;
}

int repo_dict_type_insert(struct db *db, json_t *t, bool builtin, long long *id)
{
    struct db_param p[] = {DBP_STR(json_string_value(json_object_get(t, "code"))),
                           DBP_STR(json_string_value(json_object_get(t, "name_zh"))),
                           DBP_STR(json_string_value(json_object_get(t, "name_en"))),
                           DBP_INT(builtin)};
    uint64_t nid = 0;
    int rc =
        db_exec(db, "INSERT INTO dict_types (code, name_zh, name_en, builtin) VALUES (?,?,?,?)", p,
                4, NULL, &nid);
    *id = (long long)nid;
    return rc;
}

int repo_dict_items(struct db *db, long long type_id, bool only_enabled, json_t **rows)
{
    struct db_param p[] = {DBP_INT(type_id), DBP_INT(only_enabled)};
    if (db_query(db,
                 "SELECT " ITEM_COLUMNS " FROM dict_items WHERE type_id = ? AND (? = 0 OR"
                 " enabled = 1) ORDER BY sort_order, id",
                 p, 2, rows) != 0)
        return -1;
    bools(*rows, "enabled");
    return 0;
}

int repo_dict_item_get(struct db *db, long long type_id, long long id, json_t **row)
{
    struct db_param p[] = {DBP_INT(id), DBP_INT(type_id)};
    json_t *rows = NULL;
    *row = NULL;
    if (db_query(db, "SELECT " ITEM_COLUMNS " FROM dict_items WHERE id = ? AND type_id = ?", p, 2,
                 &rows) != 0)
        return -1;
    bools(rows, "enabled");
    json_t *r = json_array_get(rows, 0);
    *row = r ? json_incref(r) : NULL;
    json_decref(rows);
    return 0;
}

int repo_dict_item_insert(struct db *db, long long type_id, json_t *item, long long *id)
{
    json_t *sort = json_object_get(item, "sort_order");
    json_t *enabled = json_object_get(item, "enabled");
    struct db_param p[] = {DBP_INT(type_id),
                           DBP_STR(json_string_value(json_object_get(item, "value"))),
                           DBP_STR(json_string_value(json_object_get(item, "label_zh"))),
                           DBP_STR(json_string_value(json_object_get(item, "label_en"))),
                           DBP_INT(sort ? json_integer_value(sort) : 0),
                           DBP_INT(enabled ? json_is_true(enabled) : 1)};
    uint64_t nid = 0;
    int rc = db_exec(db,
                     "INSERT INTO dict_items (type_id, value, label_zh, label_en, sort_order,"
                     " enabled) VALUES (?,?,?,?,?,?)",
                     p, 6, NULL, &nid);
    *id = (long long)nid;
    return rc;
}

int repo_dict_item_update(struct db *db, long long id, long long version, json_t *patch,
                          uint64_t *affected)
{
    struct db_param p[] = {repo_opt_str(patch, "label_zh"),
                           repo_opt_str(patch, "label_en"),
                           repo_opt_int(patch, "sort_order"),
                           repo_opt_int(patch, "enabled"),
                           DBP_INT(id),
                           DBP_INT(version)};
    return db_exec(db,
                   "UPDATE dict_items SET label_zh = COALESCE(?, label_zh),"
                   " label_en = COALESCE(?, label_en), sort_order = COALESCE(?, sort_order),"
                   " enabled = COALESCE(?, enabled), version = version + 1"
                   " WHERE id = ? AND version = ?",
                   p, 6, affected, NULL);
}
