/* SPDX-License-Identifier: Apache-2.0 */
/* catalogue: the permission catalogue, menus and dictionary seed of catalogue_dir, the built-in
 * roles, the common-password list, and the first administrator. Runs at start, before the
 * loop: blocking is fine here. */
#include "auth.h"
#include "crmlog.h"
#include "repo.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool auth_valid_code(const char *code)
{
    for (const char *c = code; c && *c; c++) {
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
            return false;
    }
    return true;
}

bool auth_username_canon(const char *in, char out[AUTH_USERNAME_MAX + 1])
{
    size_t n = 0;
    bool ok = in != NULL;
    for (const char *c = in; ok && *c; c++, n++) {
        char ch = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        ok = n < AUTH_USERNAME_MAX && (alnum || (n > 0 && (ch == '.' || ch == '_' || ch == '-')));
        if (ok)
            out[n] = ch;
    }
    ok = ok && n >= AUTH_USERNAME_MIN;
    out[ok ? n : 0] = '\0';
    return ok;
}

/* Read a tab-separated file with a header line into an array of objects keyed by the header. */
static json_t *read_tsv(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *text = util_read_file(path, 1 << 20, NULL);
    free(path);
    if (text == NULL)
        return NULL;
    json_t *rows = json_array();
    char *cols[16];
    size_t ncols = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (*line == '#' || *line == '\0')
            continue;
        char *fields[16];
        size_t n = 0;
        for (char *f = line; n < 16;) {
            fields[n++] = f;
            char *tab = strchr(f, '\t');
            if (tab == NULL)
                break;
            *tab = '\0';
            f = tab + 1;
        }
        if (ncols == 0) {
            for (size_t i = 0; i < n; i++)
                cols[i] = xstrdup(fields[i]);
            ncols = n;
            continue;
        }
        json_t *row = json_object();
        for (size_t i = 0; i < ncols; i++)
            json_object_set_new(row, cols[i], json_string(i < n ? fields[i] : ""));
        json_array_append_new(rows, row);
    }
    for (size_t i = 0; i < ncols; i++)
        free(cols[i]);
    free(text);
    return rows;
}

static void load_common_passwords(struct auth_ctx *a)
{
    char *path = xasprintf("%s/common-passwords.txt", a->cfg->catalogue_dir);
    char *text = util_read_file(path, 4 << 20, NULL);
    free(path);
    a->common_passwords = json_object();
    if (text == NULL)
        return;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (*l != '#' && *l != '\0')
            json_object_set_new(a->common_passwords, l, json_true());
    }
    free(text);
}

int catalogue_load(struct auth_ctx *a)
{
    a->catalogue = read_tsv(a->cfg->catalogue_dir, "permissions.tsv");
    a->menus = read_tsv(a->cfg->catalogue_dir, "menus.tsv");
    if (a->catalogue == NULL || a->menus == NULL) {
        log_error(NULL, "config key 'catalogue_dir': permissions.tsv or menus.tsv missing");
        return -1;
    }
    load_common_passwords(a);
    return 0;
}

void catalogue_free(struct auth_ctx *a)
{
    json_decref(a->catalogue);
    json_decref(a->menus);
    json_decref(a->common_passwords);
}

/* ------------------------------------------------------------------------------------------ */
/* seeding                                                                                     */

static const struct {
    const char *code, *name, *name_en, *scope, *desc;
} builtin_roles[] = {
    /* the English names are also in migration 0007 for roles made before it */
    {"admin", "系统管理员", "Administrator", "ALL", "全部功能与数据"},
    {"sales_director", "销售总监", "Sales director", "DEPT_AND_CHILD", "本部门及下级部门的客户"},
    {"customer_manager", "客户经理", "Customer manager", "SELF", "本人负责的客户"},
    {"readonly", "只读用户", "Read-only user", "ALL", "只能查看，不能修改"},
};
#define NROLES ARRAY_LEN(builtin_roles)

/* Whether the catalogue row 'perm' goes to built-in role 'role' (its "roles" column). */
static bool role_gets(json_t *perm, const char *role)
{
    if (strcmp(role, "admin") == 0)
        return true;
    const char *roles = json_string_value(json_object_get(perm, "roles"));
    size_t n = strlen(role);
    for (const char *p = roles; p && *p;) {
        if (strncmp(p, role, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return false;
}

/* The built-in roles, made when missing: their ids and which were made now. */
static int seed_roles(struct db *db, long long ids[NROLES], bool made[NROLES])
{
    for (size_t r = 0; r < NROLES; r++) {
        json_t *row = NULL;
        if (repo_role_by_code(db, builtin_roles[r].code, &row) != 0)
            return -1;
        made[r] = row == NULL;
        if (row) {
            ids[r] = json_integer_value(json_object_get(row, "id"));
            json_decref(row);
            continue;
        }
        json_t *spec =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", builtin_roles[r].code, "name",
                      builtin_roles[r].name, "name_en", builtin_roles[r].name_en, "data_scope",
                      builtin_roles[r].scope, "description", builtin_roles[r].desc);
        int rc = repo_role_insert(db, spec, true, &ids[r]);
        json_decref(spec);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The catalogue's permissions. A new permission is granted to the built-in roles that should
 * have it; an administrator's later changes to a built-in role are kept. */
static int seed_permissions(struct auth_ctx *a, struct db *db, const long long ids[NROLES],
                            const bool made[NROLES])
{
    size_t i;
    json_t *perm;
    json_array_foreach(a->catalogue, i, perm)
    {
        bool is_new = false;
        if (repo_perm_upsert(db, perm, (long)i, &is_new) != 0)
            return -1;
        const char *code = json_string_value(json_object_get(perm, "code"));
        for (size_t r = 0; r < NROLES; r++) {
            bool admin = strcmp(builtin_roles[r].code, "admin") == 0;
            if ((is_new || made[r] || admin) && role_gets(perm, builtin_roles[r].code) &&
                repo_role_grant(db, ids[r], code) != 0)
                return -1;
        }
    }
    return 0;
}

/* The id of dictionary type 'code' of seed row 'd', made when missing. */
static int seed_dict_type(struct db *db, json_t *d, long long *type_id)
{
    json_t *type = NULL;
    const char *code = json_string_value(json_object_get(d, "type"));
    if (repo_dict_type_by_code(db, code, &type) != 0)
        return -1;
    if (type) {
        *type_id = json_integer_value(json_object_get(type, "id"));
        json_decref(type);
        return 0;
    }
    json_t *t = json_pack("{s:s, s:O, s:O}", "code", code, "name_zh", json_object_get(d, "type_zh"),
                          "name_en", json_object_get(d, "type_en"));
    int rc = repo_dict_type_insert(db, t, true, type_id);
    json_decref(t);
    return rc;
}

/* The dict.item_created event of seeded item 'item_id' of type 'type_id' (code 'dict'), as
 * POST /api/v1/dicts/{code}/items writes it: the other services' dictionary projections
 * (dictproj.h) learn the seeded values from it. */
static int seed_dict_event(struct db *db, long long type_id, const char *dict, long long item_id)
{
    static const struct events_actor system = {NULL, NULL};
    json_t *row = NULL;
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", item_id);
    if (repo_dict_item_get(db, type_id, item_id, &row) != 0 || row == NULL)
        return -1;
    json_object_set_new(row, "dict", json_string(dict));
    return events_outbox_add(db, "auth", "dict.item_created", &system, "dict_item", sid, row, NULL,
                             NULL);
}

/* dicts.tsv: every type and item that is missing (items removed by hand come back). */
static int seed_dicts(struct auth_ctx *a, struct db *db)
{
    json_t *dicts = read_tsv(a->cfg->catalogue_dir, "dicts.tsv");
    int rc = 0;
    size_t i;
    json_t *d;
    json_array_foreach(dicts, i, d)
    {
        long long type_id = 0, item_id = 0;
        json_t *items = NULL;
        if (rc != 0 || seed_dict_type(db, d, &type_id) != 0 ||
            repo_dict_items(db, type_id, false, &items) != 0) {
            rc = -1;
            break;
        }
        bool present = false;
        size_t k;
        json_t *it;
        json_array_foreach(items, k, it)
        {
            present =
                present || json_equal(json_object_get(it, "value"), json_object_get(d, "value"));
        }
        json_decref(items);
        if (present)
            continue;
        json_t *item = json_pack("{s:O, s:O, s:O, s:I}", "value", json_object_get(d, "value"),
                                 "label_zh", json_object_get(d, "label_zh"), "label_en",
                                 json_object_get(d, "label_en"), "sort_order",
                                 (json_int_t)atoi(json_string_value(json_object_get(d, "sort"))));
        rc = repo_dict_item_insert(db, type_id, item, &item_id);
        rc = rc == 0 ? seed_dict_event(db, type_id, json_string_value(json_object_get(d, "type")),
                                       item_id)
                     : rc;
        json_decref(item);
    }
    json_decref(dicts);
    return rc;
}

/* The administrator 'admin' with the bootstrap password, on a database without one. */
static int seed_admin(struct auth_ctx *a, struct db *db, long long admin_role)
{
    long long admins = 0, uid = 0;
    if (repo_user_count_admins(db, &admins) != 0)
        return -1;
    if (admins > 0 || a->cfg->bootstrap_admin_password_file[0] == '\0')
        return 0;
    char *pw = util_read_file(a->cfg->bootstrap_admin_password_file, 256, NULL);
    if (pw == NULL)
        return -1;
    pw[strcspn(pw, "\r\n")] = '\0';
    char hash[160], sid[32];
    json_t *u = json_pack("{s:s, s:s}", "username", "admin", "display_name", "系统管理员");
    json_t *ids = json_pack("[I]", (json_int_t)admin_role);
    int rc = password_hash(a, pw, hash, sizeof(hash));
    free(pw);
    if (rc == 0)
        rc = repo_user_insert(db, u, hash, &uid);
    if (rc == 0)
        rc = repo_user_set_roles(db, uid, ids);
    if (rc == 0) {
        snprintf(sid, sizeof(sid), "%lld", uid);
        struct events_actor sys = {NULL, NULL};
        rc = events_outbox_add(db, "auth", "user.created", &sys, "user", sid,
                               json_pack("{s:s, s:s, s:[s]}", "username", "admin", "display_name",
                                         "系统管理员", "roles", "admin"),
                               NULL, NULL);
    }
    json_decref(u);
    json_decref(ids);
    if (rc == 0)
        log_info(NULL, "created the administrator account 'admin'");
    return rc;
}

/*
 * The other services learn departments and users from events (libcrm's projection, scope.c),
 * and what they keep grows: PROJECTION_STEP names the latest step (2: each user's status and
 * role codes). Once per step, every department and user is announced again, as
 * department.synced and user.synced (the record as department.created and user.created carry
 * it), so that the projections of a deployment that existed before the step are whole. 0 or -1.
 */
#define PROJECTION_STEP "projection.users.2"

static int announce(struct db *db, const char *type, const char *subject, json_t *row)
{
    static const struct events_actor system = {NULL, NULL};
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    return events_outbox_add(db, "auth", type, &system, subject, sid, json_incref(row), NULL, NULL);
}

static int announce_projection(struct db *db)
{
    json_t *done = NULL, *depts = NULL, *users = NULL;
    int rc = -1;
    size_t i, k;
    json_t *r, *role;
    if (db_query_one(db, "SELECT name FROM announcements WHERE name = ?", &DBP_STR(PROJECTION_STEP),
                     1, &done) != 0)
        goto out;
    if (done) {
        rc = 0;
        goto out;
    }
    if (repo_depts_all(db, &depts) != 0 ||
        db_query(db, "SELECT id FROM users ORDER BY id", NULL, 0, &users) != 0)
        goto out;
    json_array_foreach(depts, i, r)
    {
        if (announce(db, "department.synced", "department", r) != 0)
            goto out;
    }
    json_array_foreach(users, i, r)
    {
        json_t *u = NULL, *roles = NULL;
        long long id = json_integer_value(json_object_get(r, "id"));
        if (repo_user_get(db, NULL, id, false, &u) != 0 || u == NULL ||
            repo_user_roles(db, id, &roles) != 0) {
            json_decref(u);
            goto out;
        }
        json_t *ids = json_array(), *codes = json_array();
        json_array_foreach(roles, k, role)
        {
            json_array_append(ids, json_object_get(role, "id"));
            json_array_append(codes, json_object_get(role, "code"));
        }
        json_object_set_new(u, "role_ids", ids);
        json_object_set_new(u, "role_codes", codes);
        json_decref(roles);
        int arc = announce(db, "user.synced", "user", u);
        json_decref(u);
        if (arc != 0)
            goto out;
    }
    if (db_exec(db, "INSERT INTO announcements (name) VALUES (?)", &DBP_STR(PROJECTION_STEP), 1,
                NULL, NULL) != 0)
        goto out;
    log_info(NULL, "announced %zu departments and %zu users to the projections (%s)",
             json_array_size(depts), json_array_size(users), PROJECTION_STEP);
    rc = 0;
out:
    json_decref(done);
    json_decref(depts);
    json_decref(users);
    return rc;
}

int catalogue_seed(struct auth_ctx *a)
{
    struct db db;
    long long ids[NROLES];
    bool made[NROLES];
    int rc = -1;
    db_init(&db, &a->svc->dbcfg);
    if (db_begin(&db) != 0 || seed_roles(&db, ids, made) != 0 ||
        seed_permissions(a, &db, ids, made) != 0 || seed_dicts(a, &db) != 0 ||
        seed_admin(a, &db, ids[0]) != 0 || announce_projection(&db) != 0 || db_commit(&db) != 0) {
        log_error(NULL, "seeding failed: %s", db.last_error);
        db_rollback(&db);
        goto out;
    }
    rc = 0;
out:
    db_cleanup(&db);
    return rc;
}
