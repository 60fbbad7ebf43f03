/* SPDX-License-Identifier: Apache-2.0 */
/* crm-auth: accounts, departments, roles and permissions, the data dictionary, logins and
 * tokens. On start it makes its signing key when there is none, seeds the permission catalogue,
 * the built-in roles and the dictionary, and creates the administrator on an empty database. */
#include "auth.h"
#include "crmlog.h"
#include "jsonv.h"
#include "repo.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K(field) offsetof(struct auth_config, field)
static const struct config_entry auth_config_table[] = {
    {"lockout_threshold", CONFIG_INT, K(lockout_threshold), "5", 1, 100, "failures that lock"},
    {"lockout_minutes", CONFIG_INT, K(lockout_minutes), "15", 1, 10080, "lock duration"},
    {"lockout_seconds", CONFIG_INT, K(lockout_seconds), "0", 0, 604800,
     "lock duration in seconds; 0: lockout_minutes (the test stack locks for a few seconds)"},
    {"password_min_length", CONFIG_INT, K(password_min_length), "12", 8, 128, "policy"},
    {"access_ttl_s", CONFIG_INT, K(access_ttl_s), "900", 60, 86400, "access token life"},
    {"refresh_ttl_s", CONFIG_INT, K(refresh_ttl_s), "604800", 600, 7776000, "refresh life"},
    {"login_per_ip_per_min", CONFIG_INT, K(login_per_ip_per_min), "30", 1, 1000000, ""},
    {"login_per_account_per_min", CONFIG_INT, K(login_per_account_per_min), "10", 1, 1000000, ""},
    {"argon2_memory_kib", CONFIG_INT, K(argon2_memory_kib), "19456", 19456, 4194304, ""},
    {"argon2_iterations", CONFIG_INT, K(argon2_iterations), "2", 2, 100, ""},
    {"hash_threads", CONFIG_INT, K(hash_threads), "1", 1, 64, "concurrent password hashes"},
    {"catalogue_dir", CONFIG_DIR, K(catalogue_dir), NULL, 0, 0, "permissions/menus/dicts"},
    {"bootstrap_admin_password_file", CONFIG_FILE, K(bootstrap_admin_password_file), "", 0, 0,
     "first administrator's password"},
    CONFIG_END,
};
#undef K

struct auth_ctx *auth_of(struct svc *s)
{
    return s->app;
}

long auth_lockout_s(const struct auth_ctx *a)
{
    return a->cfg->lockout_seconds > 0 ? a->cfg->lockout_seconds : a->cfg->lockout_minutes * 60;
}

json_t *auth_body(struct http_request *req, const struct jsonv_field *fields)
{
    json_t *errors = NULL;
    const char *ctype = http_req_header(req, "Content-Type");
    if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
        http_reply_problem(req, 415, "unsupported_media_type", "send application/json", NULL);
        return NULL;
    }
    json_t *body = jsonv_parse(req->body ? req->body : "", req->body_len, fields, &errors);
    if (body == NULL)
        http_reply_problem(req, 422, "validation_failed", "the request body is invalid", errors);
    return body;
}

long long auth_path_id(struct http_request *req, const char *name)
{
    long v = 0;
    if (util_parse_long(router_param(&req->params, name), 1, (long)(~0UL >> 1), &v) != 0) {
        http_reply_problem(req, 404, "not_found", "no such record", NULL);
        return 0;
    }
    return v;
}

json_t *auth_changes(json_t *before, json_t *after, const char *const *fields)
{
    json_t *out = json_array();
    for (const char *const *f = fields; *f; f++) {
        json_t *b = json_object_get(before, *f), *a = json_object_get(after, *f);
        if (!json_equal(b ? b : json_null(), a ? a : json_null()))
            json_array_append_new(out,
                                  json_pack("{s:s, s:O, s:O}", "field", *f, "before",
                                            b ? b : json_null(), "after", a ? a : json_null()));
    }
    return out;
}

struct events_actor auth_actor(const struct svc_job *job)
{
    const struct svc_identity *id = svc_identity(job->req);
    struct events_actor a = {id ? id->user_id : NULL, job->req->client_ip};
    return a;
}

int auth_revoke_access(struct svc_worker *w, long long user_id)
{
    char uid[32];
    struct timespec ts;
    snprintf(uid, sizeof(uid), "%lld", user_id);
    clock_gettime(CLOCK_REALTIME, &ts);
    /* every token issued up to this millisecond; one issued after it (a refresh) lives */
    return revoke_user_before(&w->rds, uid, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1);
}

int auth_revoke_user(struct svc_worker *w, long long user_id)
{
    if (repo_refresh_revoke_user(&w->db, user_id) != 0)
        return -1;
    return auth_revoke_access(w, user_id);
}

/* ------------------------------------------------------------------------------------------ */
/* catalogue files                                                                             */

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
            memcpy(cols, fields, n * sizeof(*fields));
            ncols = n;
            for (size_t i = 0; i < ncols; i++)
                cols[i] = xstrdup(cols[i]);
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

static const struct {
    const char *code, *name, *scope, *desc;
} builtin_roles[] = {
    {"admin", "系统管理员", "ALL", "全部功能与数据"},
    {"sales_director", "销售总监", "DEPT_AND_CHILD", "本部门及下级部门的客户"},
    {"customer_manager", "客户经理", "SELF", "本人负责的客户"},
    {"readonly", "只读用户", "ALL", "只能查看，不能修改"},
};

/* Seed the catalogue, the built-in roles and the dictionary; create the first administrator.
 * Runs once at start, before the loop: blocking is fine here. Idempotent: a new permission is
 * granted to the built-in roles that should have it; an administrator's later changes to a
 * built-in role are kept. */
static int auth_seed(struct auth_ctx *a)
{
    struct db db;
    json_t *dicts = NULL;
    int rc = -1;
    db_init(&db, &a->svc->dbcfg);
    if (db_begin(&db) != 0)
        goto out;
    long long role_ids[ARRAY_LEN(builtin_roles)];
    bool role_new[ARRAY_LEN(builtin_roles)];
    for (size_t r = 0; r < ARRAY_LEN(builtin_roles); r++) {
        json_t *row = NULL;
        if (repo_role_by_code(&db, builtin_roles[r].code, &row) != 0)
            goto fail;
        role_new[r] = row == NULL;
        if (row == NULL) {
            json_t *spec = json_pack("{s:s, s:s, s:s, s:s}", "code", builtin_roles[r].code, "name",
                                     builtin_roles[r].name, "data_scope", builtin_roles[r].scope,
                                     "description", builtin_roles[r].desc);
            int irc = repo_role_insert(&db, spec, true, &role_ids[r]);
            json_decref(spec);
            if (irc != 0)
                goto fail;
        } else {
            role_ids[r] = json_integer_value(json_object_get(row, "id"));
            json_decref(row);
        }
    }
    size_t i;
    json_t *perm;
    json_array_foreach(a->catalogue, i, perm)
    {
        bool is_new = false;
        if (repo_perm_upsert(&db, perm, (long)i, &is_new) != 0)
            goto fail;
        for (size_t r = 0; r < ARRAY_LEN(builtin_roles); r++) {
            bool admin = strcmp(builtin_roles[r].code, "admin") == 0;
            if ((is_new || role_new[r] || admin) && role_gets(perm, builtin_roles[r].code) &&
                repo_role_grant(&db, role_ids[r],
                                json_string_value(json_object_get(perm, "code"))) != 0)
                goto fail;
        }
    }
    dicts = read_tsv(a->cfg->catalogue_dir, "dicts.tsv");
    json_t *d;
    json_array_foreach(dicts, i, d)
    {
        json_t *type = NULL;
        const char *code = json_string_value(json_object_get(d, "type"));
        if (repo_dict_type_by_code(&db, code, &type) != 0)
            goto fail;
        long long type_id;
        if (type == NULL) {
            json_t *t =
                json_pack("{s:s, s:O, s:O}", "code", code, "name_zh", json_object_get(d, "type_zh"),
                          "name_en", json_object_get(d, "type_en"));
            int trc = repo_dict_type_insert(&db, t, true, &type_id);
            json_decref(t);
            if (trc != 0)
                goto fail;
        } else {
            type_id = json_integer_value(json_object_get(type, "id"));
            json_decref(type);
        }
        json_t *items = NULL;
        if (repo_dict_items(&db, type_id, false, &items) != 0)
            goto fail;
        bool present = false;
        size_t k;
        json_t *it;
        json_array_foreach(items, k, it)
        {
            present = present || strcmp(json_string_value(json_object_get(it, "value")),
                                        json_string_value(json_object_get(d, "value"))) == 0;
        }
        json_decref(items);
        if (!present) {
            long long item_id;
            json_t *item = json_pack(
                "{s:O, s:O, s:O, s:I}", "value", json_object_get(d, "value"), "label_zh",
                json_object_get(d, "label_zh"), "label_en", json_object_get(d, "label_en"),
                "sort_order", (json_int_t)atoi(json_string_value(json_object_get(d, "sort"))));
            int irc = repo_dict_item_insert(&db, type_id, item, &item_id);
            json_decref(item);
            if (irc != 0)
                goto fail;
        }
    }
    long long admins = 0;
    if (repo_user_count_admins(&db, &admins) != 0)
        goto fail;
    if (admins == 0 && a->cfg->bootstrap_admin_password_file[0] != '\0') {
        char *pw = util_read_file(a->cfg->bootstrap_admin_password_file, 256, NULL);
        if (pw == NULL)
            goto fail;
        pw[strcspn(pw, "\r\n")] = '\0';
        char hash[160];
        long long uid = 0;
        json_t *u = json_pack("{s:s, s:s}", "username", "admin", "display_name", "系统管理员");
        json_t *ids = json_pack("[I]", (json_int_t)role_ids[0]);
        int hrc = password_hash(a, pw, hash, sizeof(hash));
        free(pw);
        int urc = hrc == 0 ? repo_user_insert(&db, u, hash, &uid) : -1;
        if (urc == 0)
            urc = repo_user_set_roles(&db, uid, ids);
        if (urc == 0) {
            char sid[32];
            snprintf(sid, sizeof(sid), "%lld", uid);
            struct events_actor sys = {NULL, NULL};
            urc = events_outbox_add(&db, "auth", "user.created", &sys, "user", sid,
                                    json_pack("{s:s, s:s, s:[s]}", "username", "admin",
                                              "display_name", "系统管理员", "roles", "admin"),
                                    NULL, NULL);
        }
        json_decref(u);
        json_decref(ids);
        if (urc != 0)
            goto fail;
        log_info(NULL, "created the administrator account 'admin'");
    }
    if (db_commit(&db) != 0)
        goto out;
    rc = 0;
    goto out;
fail:
    log_error(NULL, "seeding failed: %s", db.last_error);
    db_rollback(&db);
out:
    json_decref(dicts);
    db_cleanup(&db);
    return rc;
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

static void auth_on_key_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tokens_refresh(arg);
}

static int auth_setup(struct svc *s)
{
    struct auth_ctx *a = xcalloc(1, sizeof(*a));
    char err[512];
    s->app = a;
    a->svc = s;
    a->cfg = s->config;
    a->catalogue = read_tsv(a->cfg->catalogue_dir, "permissions.tsv");
    a->menus = read_tsv(a->cfg->catalogue_dir, "menus.tsv");
    if (a->catalogue == NULL || a->menus == NULL) {
        log_error(NULL, "config key 'catalogue_dir': permissions.tsv or menus.tsv missing");
        return -1;
    }
    load_common_passwords(a);
    if (tokens_load_or_create_key(a, s->cfg.jwt_keys_dir, err, sizeof(err)) != 0) {
        log_error(NULL, "config key 'jwt_keys_dir': %s", err);
        return -1;
    }
    /* the verifier trusts every key the signer has (a key made just now included) */
    for (size_t i = 0; i < a->signer.nkeys; i++) {
        bool known = false;
        for (size_t k = 0; k < s->jwt.nkeys; k++)
            known = known || strcmp(s->jwt.keys[k].kid, a->signer.keys[i].kid) == 0;
        if (!known &&
            jwtv_add_key(&s->jwt, a->signer.keys[i].kid, a->signer.keys[i].pub_pem, NULL) != 0)
            return -1;
    }
    if (password_hash(a, "not a password: makes unknown users cost a verification", a->dummy_hash,
                      sizeof(a->dummy_hash)) != 0 ||
        auth_seed(a) != 0)
        return -1;
    a->hash_pool = svc_pool_new(s, (int)a->cfg->hash_threads, 64);
    a->key_timer = event_new(s->base, -1, EV_PERSIST, auth_on_key_timer, a);
    struct timeval ktv = {5, 0};
    event_add(a->key_timer, &ktv);
    if (session_routes(s) != 0 || users_routes(s) != 0 || org_routes(s) != 0)
        return -1;
    return 0;
}

static void auth_teardown(struct svc *s)
{
    struct auth_ctx *a = s->app;
    if (a == NULL)
        return;
    pool_free(a->hash_pool);
    if (a->key_timer)
        event_free(a->key_timer);
    jwtv_cleanup(&a->signer);
    json_decref(a->catalogue);
    json_decref(a->menus);
    json_decref(a->common_passwords);
    free(a);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "auth",
        .version = CRM_VERSION,
        .setup = auth_setup,
        .teardown = auth_teardown,
        .produces_events = true,
        .config = auth_config_table,
        .config_size = sizeof(struct auth_config),
    };
    return svc_main(argc, argv, &def);
}
