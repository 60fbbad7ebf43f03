/* SPDX-License-Identifier: Apache-2.0 */
/* repo_users: the SQL of users and their roles. */
#include "repo.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int repo_user_for_login(struct db *db, const char *username, json_t **row)
{
    struct db_param p[] = {DBP_STR(username)};
    return db_query_one(db,
                        "SELECT id, username, display_name, dept_id, status, password_hash,"
                        " failed_logins, (locked_until IS NOT NULL AND locked_until > NOW(3))"
                        " AS locked_now FROM users WHERE username = ? FOR UPDATE",
                        p, 1, row);
}

#define USER_COLUMNS                                                                               \
    "u.id, u.username, u.display_name, u.phone, u.email, u.dept_id, d.name AS dept_name,"          \
    " IF(u.status = 'locked' AND (u.locked_until IS NULL OR u.locked_until <= NOW(3)),"            \
    " 'enabled', u.status) AS status, IF(u.locked_until > NOW(3), u.locked_until, NULL)"           \
    " AS locked_until, u.version, u.created_at, u.updated_at"

int repo_user_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, "u.id = ?", &DBP_INT(id), 1);
    if (sc && scope_where(db, &q, sc, "u.id", "u.dept_id") != 0)
        return -1;
    char *sql = xasprintf("SELECT " USER_COLUMNS " FROM users u LEFT JOIN departments d ON"
                          " d.id = u.dept_id%s%s",
                          listq_sql(&q), lock ? " FOR UPDATE" : "");
    int rc = db_query_one(db, sql, q.p, q.n, row);
    free(sql);
    return rc;
}

int repo_user_roles(struct db *db, long long id, json_t **roles)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_query(db,
                    "SELECT r.id, r.code, r.name, r.name_en, r.data_scope FROM user_roles ur"
                    " JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.id",
                    p, 1, roles);
}

int repo_query_codes(struct db *db, const char *sql, const struct db_param *p, size_t n,
                     json_t **codes)
{
    json_t *rows = NULL;
    *codes = NULL;
    if (db_query(db, sql, p, n, &rows) != 0)
        return -1;
    *codes = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_array_append(*codes, json_object_get(r, "code"));
    }
    json_decref(rows);
    return 0;
}

int repo_user_perms(struct db *db, long long id, json_t **codes)
{
    struct db_param p[] = {DBP_INT(id)};
    return repo_query_codes(db,
                            "SELECT DISTINCT rp.permission_code AS code FROM user_roles ur"
                            " JOIN role_permissions rp ON rp.role_id = ur.role_id"
                            " WHERE ur.user_id = ? ORDER BY rp.permission_code",
                            p, 1, codes);
}

int repo_user_password_hash(struct db *db, long long id, json_t **row)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_query_one(db,
                        "SELECT id, username, display_name, password_hash,"
                        " (locked_until IS NOT NULL AND locked_until > NOW(3)) AS locked_now,"
                        " CAST(GREATEST(1, CEIL(TIMESTAMPDIFF(MICROSECOND, NOW(3),"
                        " COALESCE(locked_until, NOW(3))) / 1000000)) AS SIGNED) AS lock_left_s"
                        " FROM users WHERE id = ? FOR UPDATE",
                        p, 1, row);
}

int repo_user_login_failed(struct db *db, long long id, long threshold, long seconds)
{
    /* MariaDB assigns left to right: the later expressions see the new counter, while
     * locked_until is still the old one until its own assignment. A lock that has ended
     * ('ended') resets the counter before this failure is counted. */
#define ENDED "(locked_until IS NOT NULL AND locked_until <= NOW(3))"
    struct db_param p[] = {DBP_INT(threshold), DBP_INT(threshold), DBP_INT(seconds), DBP_INT(id)};
    return db_exec(db,
                   "UPDATE users SET failed_logins = IF(" ENDED ", 0, failed_logins) + 1,"
                   " status = IF(failed_logins >= ? AND status <> 'disabled', 'locked',"
                   " IF(status = 'locked' AND " ENDED ", 'enabled', status)),"
                   " locked_until = IF(failed_logins >= ?, NOW(3) + INTERVAL ? SECOND,"
                   " IF(" ENDED ", NULL, locked_until)) WHERE id = ?",
                   p, 4, NULL, NULL);
#undef ENDED
}

int repo_user_login_succeeded(struct db *db, long long id)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_exec(db,
                   "UPDATE users SET failed_logins = 0, locked_until = NULL,"
                   " status = IF(status = 'locked', 'enabled', status) WHERE id = ?",
                   p, 1, NULL, NULL);
}

/* The roles of the users of a page, attached to each as "roles" and "role_ids". */
static int users_attach_roles(struct db *db, json_t *items)
{
    struct db_param ids[LISTQ_PAGE_MAX];
    size_t n = 0, i, k;
    json_t *u, *r, *roles = NULL;
    char in[4 * LISTQ_PAGE_MAX + 8] = "";
    json_array_foreach(items, i, u)
    {
        if (n == ARRAY_LEN(ids))
            break;
        ids[n] = DBP_INT(json_integer_value(json_object_get(u, "id")));
        strcat(in, n++ ? ",?" : "?");
    }
    if (n == 0)
        return 0;
    char *sql = xasprintf("SELECT ur.user_id, r.id, r.code, r.name, r.name_en FROM user_roles ur"
                          " JOIN roles r ON r.id = ur.role_id WHERE ur.user_id IN (%s)"
                          " ORDER BY r.id",
                          in);
    int rc = db_query(db, sql, ids, n, &roles);
    free(sql);
    if (rc != 0)
        return -1;
    json_array_foreach(items, i, u)
    {
        json_t *list = json_array(), *rids = json_array();
        json_array_foreach(roles, k, r)
        {
            if (!json_equal(json_object_get(r, "user_id"), json_object_get(u, "id")))
                continue;
            json_array_append_new(list, json_pack("{s:O, s:O, s:O}", "id", json_object_get(r, "id"),
                                                  "code", json_object_get(r, "code"), "name",
                                                  json_object_get(r, "name")));
            json_array_append(rids, json_object_get(r, "id"));
        }
        json_object_set_new(u, "roles", list);
        json_object_set_new(u, "role_ids", rids);
    }
    json_decref(roles);
    return 0;
}

static const struct listq_spec users_spec = {
    .from = "users u",
    .id = "u.id",
    .columns = USER_COLUMNS,
    .joins = " LEFT JOIN departments d ON d.id = u.dept_id",
};

int repo_users_list(struct db *db, struct scope *sc, const struct repo_user_filter *f,
                    const struct listq_page *pg, struct listq_result *out)
{
    static const char *const text_cols[] = {"u.username", "u.display_name", NULL};
    struct listq q;
    listq_init(&q);
    listq_contains(&q, text_cols, f->q);
    if (f->dept_id && f->dept_children)
        listq_add(&q,
                  "u.dept_id IN (WITH RECURSIVE sub AS (SELECT id FROM departments WHERE id = ?"
                  " UNION ALL SELECT c.id FROM departments c JOIN sub ON c.parent_id = sub.id)"
                  " SELECT id FROM sub)",
                  &DBP_INT(f->dept_id), 1);
    else
        listq_eq_int(&q, "u.dept_id", f->dept_id);
    listq_eq_str(&q, "u.status", f->status);
    if (f->role_id)
        listq_add(&q,
                  "EXISTS (SELECT 1 FROM user_roles x WHERE x.user_id = u.id AND x.role_id = ?)",
                  &DBP_INT(f->role_id), 1);
    if (scope_where(db, &q, sc, "u.id", "u.dept_id") != 0 ||
        listq_run(db, &users_spec, &q, pg, out) != 0)
        return -1;
    return users_attach_roles(db, out->items);
}

static const char *str_or_empty(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

int repo_user_insert(struct db *db, json_t *u, const char *hash, long long *id)
{
    json_t *dept = json_object_get(u, "dept_id");
    struct db_param p[] = {DBP_STR(str_or_empty(u, "username")),
                           DBP_STR(str_or_empty(u, "display_name")),
                           DBP_STR(str_or_empty(u, "phone")),
                           DBP_STR(str_or_empty(u, "email")),
                           json_is_integer(dept) ? DBP_INT(json_integer_value(dept)) : DBP_NULL,
                           DBP_STR(hash)};
    uint64_t new_id = 0;
    int rc = db_exec(db,
                     "INSERT INTO users (username, display_name, phone, email, dept_id,"
                     " password_hash) VALUES (?,?,?,?,?,?)",
                     p, 6, NULL, &new_id);
    *id = (long long)new_id;
    return rc;
}

struct db_param repo_opt_str(json_t *patch, const char *k)
{
    const char *s = json_string_value(json_object_get(patch, k));
    return s ? DBP_STR(s) : DBP_NULL;
}

struct db_param repo_opt_int(json_t *patch, const char *k)
{
    json_t *v = json_object_get(patch, k);
    return json_is_integer(v)   ? DBP_INT(json_integer_value(v))
           : json_is_boolean(v) ? DBP_INT(json_is_true(v))
                                : DBP_NULL;
}

int repo_query_count(struct db *db, const char *sql, const struct db_param *p, size_t n,
                     long long *out)
{
    json_t *row = NULL;
    if (db_query_one(db, sql, p, n, &row) != 0)
        return -1;
    *out = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return 0;
}

int repo_user_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected)
{
    json_t *dept = json_object_get(patch, "dept_id");
    struct db_param p[] = {repo_opt_str(patch, "display_name"),
                           repo_opt_str(patch, "phone"),
                           repo_opt_str(patch, "email"),
                           DBP_INT(dept != NULL),
                           json_is_integer(dept) ? DBP_INT(json_integer_value(dept)) : DBP_NULL,
                           DBP_INT(id),
                           DBP_INT(version)};
    return db_exec(db,
                   "UPDATE users SET display_name = COALESCE(?, display_name),"
                   " phone = COALESCE(?, phone), email = COALESCE(?, email),"
                   " dept_id = IF(?, ?, dept_id), version = version + 1"
                   " WHERE id = ? AND version = ?",
                   p, 7, affected, NULL);
}

int repo_user_set_roles(struct db *db, long long id, json_t *role_ids)
{
    struct db_param p[] = {DBP_INT(id)};
    if (db_exec(db, "DELETE FROM user_roles WHERE user_id = ?", p, 1, NULL, NULL) != 0)
        return -1;
    size_t i;
    json_t *r;
    json_array_foreach(role_ids, i, r)
    {
        struct db_param q[] = {DBP_INT(id), DBP_INT(json_integer_value(r))};
        if (db_exec(db, "INSERT IGNORE INTO user_roles (user_id, role_id) VALUES (?,?)", q, 2, NULL,
                    NULL) != 0)
            return -1;
    }
    return 0;
}

int repo_user_set_status(struct db *db, long long id, const char *status)
{
    struct db_param p[] = {DBP_STR(status), DBP_INT(id)};
    return db_exec(db,
                   "UPDATE users SET status = ?, failed_logins = 0, locked_until = NULL,"
                   " version = version + 1 WHERE id = ?",
                   p, 2, NULL, NULL);
}

int repo_user_set_password(struct db *db, long long id, const char *hash)
{
    struct db_param p[] = {DBP_STR(hash), DBP_INT(id)};
    return db_exec(db,
                   "UPDATE users SET password_hash = ?, password_changed_at = NOW(3),"
                   " version = version + 1 WHERE id = ?",
                   p, 2, NULL, NULL);
}

int repo_user_count_admins(struct db *db, long long *n)
{
    json_t *row = NULL;
    if (db_query_one(db,
                     "SELECT COUNT(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
                     " WHERE r.code = 'admin'",
                     NULL, 0, &row) != 0)
        return -1;
    *n = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return 0;
}

int repo_username_taken(struct db *db, const char *username, bool *taken)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_STR(username)};
    if (db_query_one(db, "SELECT id FROM users WHERE username = ?", p, 1, &row) != 0)
        return -1;
    *taken = row != NULL;
    json_decref(row);
    return 0;
}

/* ---- refresh tokens ---- */

int repo_refresh_insert(struct db *db, const unsigned char hash[32], const char *family,
                        long long user_id, long ttl_s, const char *ip, const char *ua,
                        const char *access_jti, int64_t access_exp)
{
    char ua_cut[256];
    snprintf(ua_cut, sizeof(ua_cut), "%s", ua ? ua : "");
    struct db_param p[] = {DBP_STRN((const char *)hash, 32),
                           DBP_STR(family),
                           DBP_INT(user_id),
                           DBP_INT(ttl_s),
                           DBP_STR(ip ? ip : ""),
                           DBP_STR(ua_cut),
                           DBP_STR(access_jti),
                           DBP_INT(access_exp)};
    return db_exec(db,
                   "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, ip,"
                   " user_agent, access_jti, access_exp)"
                   " VALUES (?, ?, ?, NOW(3) + INTERVAL ? SECOND, ?, ?, ?, ?)",
                   p, 8, NULL, NULL);
}

/* ---- sessions ---- */

/* The token of a family in use: neither used (rotated), revoked nor expired. */
#define SESSION_LIVE "t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > NOW(3)"

static const struct listq_spec sessions_spec = {
    .from = "refresh_tokens t",
    .id = "t.id",
    .columns = "(SELECT MIN(x.id) FROM refresh_tokens x WHERE x.family_id = t.family_id) AS id,"
               " (SELECT MIN(x.created_at) FROM refresh_tokens x WHERE x.family_id = t.family_id)"
               " AS login_at, t.user_id, u.username, u.display_name, d.name AS dept_name,"
               " t.created_at AS last_used_at, t.expires_at, t.ip, t.user_agent, t.access_jti",
    .joins = " JOIN users u ON u.id = t.user_id LEFT JOIN departments d ON d.id = u.dept_id",
};

int repo_sessions_list(struct db *db, struct scope *sc, const struct repo_session_filter *f,
                       const struct listq_page *pg, struct listq_result *out)
{
    struct listq q;
    listq_init(&q);
    listq_add(&q, SESSION_LIVE, NULL, 0);
    listq_eq_int(&q, "t.user_id", f->user_id);
    if (scope_where(db, &q, sc, "t.user_id", NULL) != 0)
        return -1;
    return listq_run(db, &sessions_spec, &q, pg, out);
}

int repo_session_get(struct db *db, struct scope *sc, long long id, long long user_id, json_t **row)
{
    struct listq q;
    listq_init(&q);
    /* 'f' is the family's first token, whose id names the session */
    listq_add(&q, "f.id = ?", &DBP_INT(id), 1);
    listq_add(&q,
              "NOT EXISTS (SELECT 1 FROM refresh_tokens y WHERE y.family_id = f.family_id AND"
              " y.id < f.id)",
              NULL, 0);
    listq_add(&q, SESSION_LIVE, NULL, 0);
    listq_eq_int(&q, "t.user_id", user_id);
    if (scope_where(db, &q, sc, "t.user_id", NULL) != 0)
        return -1;
    char *sql = xasprintf("SELECT f.id, t.user_id, u.username, t.family_id, t.ip, t.user_agent,"
                          " t.access_jti, t.access_exp FROM refresh_tokens f"
                          " JOIN refresh_tokens t ON t.family_id = f.family_id"
                          " JOIN users u ON u.id = t.user_id%s FOR UPDATE",
                          listq_sql(&q));
    int rc = db_query_one(db, sql, q.p, q.n, row);
    free(sql);
    return rc;
}

int repo_refresh_find(struct db *db, const unsigned char hash[32], json_t **row)
{
    struct db_param p[] = {DBP_STRN((const char *)hash, 32)};
    return db_query_one(db,
                        "SELECT id, family_id, user_id, used_at IS NOT NULL AS used,"
                        " revoked_at IS NOT NULL AS revoked, expires_at <= NOW(3) AS expired"
                        " FROM refresh_tokens WHERE token_hash = ? FOR UPDATE",
                        p, 1, row);
}

int repo_refresh_mark_used(struct db *db, long long id)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_exec(db, "UPDATE refresh_tokens SET used_at = NOW(3) WHERE id = ?", p, 1, NULL, NULL);
}

int repo_refresh_revoke_family(struct db *db, const char *family)
{
    struct db_param p[] = {DBP_STR(family)};
    return db_exec(db,
                   "UPDATE refresh_tokens SET revoked_at = NOW(3) WHERE family_id = ?"
                   " AND revoked_at IS NULL",
                   p, 1, NULL, NULL);
}

int repo_refresh_revoke_user(struct db *db, long long user_id)
{
    struct db_param p[] = {DBP_INT(user_id)};
    return db_exec(db,
                   "UPDATE refresh_tokens SET revoked_at = NOW(3) WHERE user_id = ?"
                   " AND revoked_at IS NULL",
                   p, 1, NULL, NULL);
}

/* ---- the administrators ---- */

int repo_user_other_active_admins(struct db *db, long long except, long long *n)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_INT(except)};
    /* the administrator role's row is the lock every such check takes first; the count is a
     * locking read, so it sees what a concurrent check committed */
    if (db_query_one(db, "SELECT id FROM roles WHERE code = 'admin' FOR UPDATE", NULL, 0, &row) !=
        0)
        return -1;
    json_decref(row);
    return repo_query_count(db,
                            "SELECT COUNT(*) AS n FROM users u JOIN user_roles ur ON"
                            " ur.user_id = u.id JOIN roles r ON r.id = ur.role_id"
                            " WHERE r.code = 'admin' AND u.status <> 'disabled' AND u.id <> ?"
                            " FOR UPDATE",
                            p, 1, n);
}

/* ---- revocations waiting for Redis (tokens.c) ---- */

int repo_revocation_add(struct db *db, long long user_id)
{
    struct db_param p[] = {DBP_INT(user_id)};
    return db_exec(db, "INSERT INTO pending_revocations (user_id) VALUES (?)", p, 1, NULL, NULL);
}

int repo_revocations_pending(struct db *db, json_t **rows)
{
    return db_query(db, "SELECT id, user_id FROM pending_revocations ORDER BY id LIMIT 200", NULL,
                    0, rows);
}

int repo_revocation_done(struct db *db, long long id)
{
    struct db_param p[] = {DBP_INT(id)};
    return db_exec(db, "DELETE FROM pending_revocations WHERE id = ?", p, 1, NULL, NULL);
}
