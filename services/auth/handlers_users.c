/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_users: user administration (list, create, edit, disable, enable, unlock, reset the
 * password, force a logout), always inside the caller's data scope: a user outside it is not
 * listed, and asking for one by id answers 404. */
#include "auth.h"
#include "kit.h"
#include "repo.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const user_status_names[] = {
    [USER_ENABLED] = "enabled",
    [USER_DISABLED] = "disabled",
    [USER_LOCKED] = "locked",
};

const char *user_status_name(enum user_status s)
{
    return s < ARRAY_LEN(user_status_names) ? user_status_names[s] : "enabled";
}

enum user_status user_status_parse(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_LEN(user_status_names); i++) {
        if (strcmp(name, user_status_names[i]) == 0)
            return (enum user_status)i;
    }
    return USER_ENABLED;
}

/* The user as the API shows it, with roles and role_ids; NULL when absent or outside 'sc'. */
static int user_view(struct db *db, struct scope *sc, long long id, bool lock, json_t **out)
{
    json_t *u = NULL, *roles = NULL;
    *out = NULL;
    if (repo_user_get(db, sc, id, lock, &u) != 0 || (u && repo_user_roles(db, id, &roles) != 0)) {
        json_decref(u);
        return -1;
    }
    if (u == NULL)
        return 0;
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        json_object_del(r, "data_scope");
        json_array_append(ids, json_object_get(r, "id"));
    }
    json_object_set_new(u, "roles", roles);
    json_object_set_new(u, "role_ids", ids);
    *out = u;
    return 0;
}

static int user_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    return user_view(db, sc, in->id, lock, row);
}

/* Shapes of the fields: username characters, email and phone. */
static void check_user_shapes(json_t *b, json_t *errors)
{
    const char *username = json_string_value(json_object_get(b, "username"));
    for (const char *c = username; c && *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-') {
            jsonv_error_add(errors, "username", "may contain only letters, digits, _ . -");
            break;
        }
    }
    const char *email = json_string_value(json_object_get(b, "email"));
    if (email && *email &&
        (strchr(email, '@') == NULL || strchr(email, ' ') != NULL ||
         strchr(strchr(email, '@'), '.') == NULL))
        jsonv_error_add(errors, "email", "is not an email address");
    const char *phone = json_string_value(json_object_get(b, "phone"));
    for (const char *c = phone; c && *c; c++) {
        if (!isdigit((unsigned char)*c) && *c != '+' && *c != '-' && *c != ' ') {
            jsonv_error_add(errors, "phone", "may contain only digits, +, - and spaces");
            break;
        }
    }
}

/* Whether array 'a' holds a value equal to 'v' (ids, permission codes). */
static bool array_has(json_t *a, json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (json_equal(x, v))
            return true;
    }
    return false;
}

/* Whether 'caller' may hand out 'role' (a row of repo_role_get, with its permissions): its data
 * scope is no wider than the caller's and the caller holds every permission of it. Otherwise a
 * user manager of one department could give the administrator role to an account of theirs. */
static bool role_grantable(const struct svc_identity *caller, json_t *role)
{
    enum scope_kind k;
    if (caller == NULL ||
        scope_parse(json_string_value(json_object_get(role, "data_scope")), &k) != 0 ||
        k > caller->scope)
        return false;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(role, "permissions"), i, p)
    {
        if (!array_has(caller->perms, p))
            return false;
    }
    return true;
}

/* References: the department exists and lies in the caller's scope (nobody places a user
 * where they could not see them), the roles exist, and each role the user does not hold yet
 * ('held': their role_ids, NULL for a new user) is one 'caller' may grant (role_grantable).
 * 0, or -1 on a database error. */
static int check_user_refs(struct db *db, struct scope *sc, const struct svc_identity *caller,
                           json_t *held, json_t *b, json_t *errors)
{
    json_t *dept = json_object_get(b, "dept_id");
    if (json_is_integer(dept)) {
        json_t *d = NULL;
        bool covered = false;
        if (repo_dept_get(db, json_integer_value(dept), false, &d) != 0 ||
            (d && scope_covers_dept(db, sc, json_integer_value(dept), &covered) != 0)) {
            json_decref(d);
            return -1;
        }
        if (d == NULL)
            jsonv_error_add(errors, "dept_id", "no such department");
        else if (!covered)
            jsonv_error_add(errors, "dept_id", "is outside your data scope");
        json_decref(d);
    } else if (dept != NULL && sc->kind != SCOPE_ALL) {
        jsonv_error_add(errors, "dept_id", "is required within your data scope");
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(b, "role_ids"), i, r)
    {
        json_t *row = NULL;
        if (repo_role_get(db, json_integer_value(r), false, &row) != 0)
            return -1;
        char f[32];
        snprintf(f, sizeof(f), "role_ids[%zu]", i);
        if (row == NULL)
            jsonv_error_add(errors, f, "no such role");
        else if (!array_has(held, r) && !role_grantable(caller, row))
            jsonv_error_add(errors, f,
                            "grants more than you hold (a wider data scope or a permission"
                            " you do not have)");
        json_decref(row);
    }
    return 0;
}

/* ---- GET /api/v1/users ---- */

static const struct listq_sort user_sorts[] = {
    {"id", "u.id", LISTQ_INT, true},
    {"username", "u.username", LISTQ_STR, false},
    {"display_name", "u.display_name", LISTQ_STR, false},
    {"created_at", "u.created_at", LISTQ_TIME, true},
    {NULL, NULL, 0, false},
};

struct users_filter {
    struct repo_user_filter f;
    char q[72], status[16];
};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    const struct users_filter *uf = in->extra;
    struct scope sc = kit_scope(job);
    struct listq_result res = {0};
    if (repo_users_list(&w->db, &sc, &uf->f, &in->page, &res) != 0)
        goto out;
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(res.items);
}

static void list(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    struct users_filter *uf = xcalloc(1, sizeof(*uf));
    json_t *errors = json_array();
    in->extra = uf;
    kit_list_params(req, user_sorts, &in->page, errors);
    const char *q = kit_query(req, "q", 64, errors);
    const char *status = http_query_get(&req->query, "status");
    if (status && strcmp(status, "enabled") && strcmp(status, "disabled") &&
        strcmp(status, "locked"))
        jsonv_error_add(errors, "status", "must be enabled, disabled or locked");
    snprintf(uf->q, sizeof(uf->q), "%s", q ? q : "");
    snprintf(uf->status, sizeof(uf->status), "%s", status ? status : "");
    uf->f.q = uf->q;
    uf->f.status = uf->status;
    uf->f.dept_id = kit_query_id(req, "dept_id", errors);
    uf->f.role_id = kit_query_id(req, "role_id", errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

/* ---- GET /api/v1/users/{id} ---- */

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *u = NULL;
    if (user_view(&w->db, &sc, in->id, false, &u) != 0)
        goto out;
    if (u == NULL)
        svc_job_fail(job, 404, "not_found", "no such user");
    else
        svc_job_ok(job, 200, json_incref(u));
out:
    json_decref(u);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

/* ---- POST /api/v1/users ---- */

static const struct jsonv_field create_fields[] = {
    {"username", JSONV_STRING, true, false, 3, 64, NULL, JSONV_STRING},
    {"display_name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"password", JSONV_STRING, true, false, 1, 512, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"dept_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"role_ids", JSONV_ARRAY, false, false, 0, 20, NULL, JSONV_INT},
    JSONV_END,
};

static void username_taken(struct svc_job *job)
{
    kit_fail(job, 409, "conflict", "the username is already taken", "username", "is already taken");
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *errors = json_array(), *u = NULL;
    char hash[160];
    long long id = 0;
    bool taken = false;
    const char *pw = json_string_value(json_object_get(in->body, "password"));
    const char *why = password_policy(a, pw);
    if (why)
        jsonv_error_add(errors, "password", why);
    check_user_shapes(in->body, errors);
    /* absent: said here; null: check_user_refs says it */
    if (sc.kind != SCOPE_ALL && json_object_get(in->body, "dept_id") == NULL)
        jsonv_error_add(errors, "dept_id", "is required within your data scope");
    if (db_begin(&w->db) != 0 ||
        check_user_refs(&w->db, &sc, svc_identity(job->req), NULL, in->body, errors) != 0 ||
        repo_username_taken(&w->db, json_string_value(json_object_get(in->body, "username")),
                            &taken) != 0)
        goto out;
    if (taken) {
        username_taken(job);
        goto out;
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, json_incref(errors), "the user is not valid");
        goto out;
    }
    json_t *role_ids = json_object_get(in->body, "role_ids");
    if (password_hash(a, pw, hash, sizeof(hash)) != 0 ||
        repo_user_insert(&w->db, in->body, hash, &id) != 0) {
        if (w->db.last_errno == DB_ER_DUP_ENTRY)
            username_taken(job); /* a concurrent create of the same name */
        goto out;
    }
    if ((role_ids && repo_user_set_roles(&w->db, id, role_ids) != 0) ||
        user_view(&w->db, NULL, id, false, &u) != 0)
        goto out;
    json_t *data = json_deep_copy(u);
    json_object_del(data, "roles");
    if (kit_commit_created(w, job, "user", id, "user.created", data, 201, json_incref(u)) != 0)
        goto out;
out:
    json_decref(errors);
    json_decref(u);
}

static void create(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    json_t *body = kit_body(req, create_fields);
    if (body)
        svc_submit_to(s, auth_of(s)->hash_pool, req, create_work, kit_in_new(body, 0), kit_in_free);
}

/* ---- PATCH /api/v1/users/{id} ---- */

static const struct jsonv_field patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"display_name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"dept_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"role_ids", JSONV_ARRAY, false, false, 0, 20, NULL, JSONV_INT},
    JSONV_END,
};

/* The same set of role ids, in any order. */
static bool same_ids(json_t *a, json_t *b)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (!array_has(b, x))
            return false;
    }
    json_array_foreach(b, i, x)
    {
        if (!array_has(a, x))
            return false;
    }
    return true;
}

static int patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    struct scope sc = kit_scope(job);
    json_t *errors = json_array(), *held = json_object_get(before, "role_ids");
    json_t *role_ids = json_object_get(body, "role_ids");
    check_user_shapes(body, errors);
    /* nobody changes their own roles (the form may send them back unchanged) */
    if (role_ids && json_integer_value(json_object_get(before, "id")) == sc.user_id &&
        !same_ids(role_ids, held))
        jsonv_error_add(errors, "role_ids", "you cannot change your own roles");
    if (check_user_refs(&w->db, &sc, svc_identity(job->req), held, body, errors) != 0) {
        json_decref(errors);
        return -1;
    }
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return 0;
    }
    kit_fail_fields(job, errors, "the user is not valid");
    return -1;
}

static int patch_also(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    (void)job;
    json_t *role_ids = json_object_get(body, "role_ids");
    return role_ids ? repo_user_set_roles(&w->db, json_integer_value(json_object_get(before, "id")),
                                          role_ids)
                    : 0;
}

/* New roles mean new permissions: the old access tokens go; a refresh gets the new set. */
static int patch_changed(struct svc_worker *w, struct svc_job *job, json_t *after, json_t *changes)
{
    (void)job;
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "field")), "role_ids") == 0)
            return tokens_revoke_access(w, json_integer_value(json_object_get(after, "id")));
    }
    return 0;
}

static json_t *user_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O}", "username", json_object_get(after, "username"));
}

static const char *const user_fields[] = {"display_name", "phone",    "email",
                                          "dept_id",      "role_ids", NULL};
static const struct kit_patch user_patch_ops = {
    .subject = "user",
    .event = "user.updated",
    .fields = user_fields,
    .get = user_get,
    .check = patch_check,
    .update = repo_user_update,
    .also = patch_also,
    .changed = patch_changed,
    .event_data = user_event_data,
};

static void patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &user_patch_ops);
}

static void patch(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, patch_fields) : NULL;
    if (body)
        kit_submit(arg, req, patch_work, body, id);
}

/* ---- actions: disable, enable, unlock, force-logout, reset-password ---- */

/* What each action does: one table of names, one transition function (user_transition). */
enum user_action {
    UA_DISABLE,
    UA_ENABLE,
    UA_UNLOCK,
    UA_FORCE_LOGOUT,
    UA_RESET_PASSWORD,
};

static const struct {
    const char *name;    /* the route's last segment */
    const char *event;   /* what the audit records */
    enum user_status to; /* the status after it, or USER_STATUS_SAME */
    bool revoke;         /* every token of the user ends */
    bool password;       /* sets a new password (hashed on the hashing pool) */
    int ok_status;       /* 200 with the user, or 204 */
} user_actions[] = {
    [UA_DISABLE] = {"disable", "user.disabled", USER_DISABLED, true, false, 200},
    [UA_ENABLE] = {"enable", "user.enabled", USER_ENABLED, false, false, 200},
    [UA_UNLOCK] = {"unlock", "user.unlocked", USER_ENABLED, false, false, 200},
    [UA_FORCE_LOGOUT] = {"force-logout", "user.force_logout", USER_STATUS_SAME, true, false, 204},
    [UA_RESET_PASSWORD] = {"reset-password", "user.password_reset", USER_STATUS_SAME, true, true,
                           204},
};

/* Whether 'action' may happen to a user in 'status' ('locked': a lock is running), done by
 * the user 'self' or not. NULL when it may, else why not (a 409). */
static const char *user_transition(enum user_action action, enum user_status status, bool locked,
                                   bool self)
{
    switch (action) {
    case UA_DISABLE:
        return self ? "you cannot disable your own account" : NULL;
    case UA_ENABLE:
        return status == USER_DISABLED ? NULL : "the user is not disabled";
    case UA_UNLOCK:
        return locked ? NULL : "the user is not locked";
    case UA_FORCE_LOGOUT:
    case UA_RESET_PASSWORD:
        return NULL;
    }
    return "unknown action";
}

static const struct jsonv_field reset_fields[] = {
    {"new_password", JSONV_STRING, true, false, 1, 512, NULL, JSONV_STRING},
    JSONV_END,
};

/* The new password of a reset, checked and hashed, into 'hash'; 0 or -1 (job failed). */
static int action_password(struct svc_worker *w, struct svc_job *job, char *hash, size_t len)
{
    struct auth_ctx *a = auth_of(w->svc);
    const struct kit_in *in = job->data;
    const char *pw = json_string_value(json_object_get(in->body, "new_password"));
    const char *why = password_policy(a, pw);
    if (why) {
        kit_fail(job, 422, "validation_failed", "the new password is not acceptable",
                 "new_password", why);
        return -1;
    }
    if (password_hash(a, pw, hash, len) != 0) {
        svc_job_fail(job, 500, "internal", "the password could not be hashed");
        return -1;
    }
    return 0;
}

static void action_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    enum user_action action = (enum user_action)in->variant;
    struct scope sc = kit_scope(job);
    json_t *u = NULL, *after = NULL;
    char hash[160];
    if (db_begin(&w->db) != 0 || repo_user_get(&w->db, &sc, in->id, true, &u) != 0)
        goto out;
    if (u == NULL) {
        svc_job_fail(job, 404, "not_found", "no such user");
        goto out;
    }
    /* after the scope: a user outside it is 404 whatever the password */
    if (user_actions[action].password && action_password(w, job, hash, sizeof(hash)) != 0)
        goto out;
    enum user_status was = user_status_parse(json_string_value(json_object_get(u, "status")));
    const char *refusal = user_transition(
        action, was, !json_is_null(json_object_get(u, "locked_until")), sc.user_id == in->id);
    if (refusal) {
        svc_job_fail(job, 409, "conflict", "%s", refusal);
        goto out;
    }
    enum user_status to = user_actions[action].to;
    if ((to != USER_STATUS_SAME &&
         repo_user_set_status(&w->db, in->id, user_status_name(to)) != 0) ||
        (user_actions[action].password && repo_user_set_password(&w->db, in->id, hash) != 0) ||
        (user_actions[action].revoke && tokens_revoke_user(w, in->id) != 0) ||
        user_view(&w->db, NULL, in->id, false, &after) != 0)
        goto out;
    json_t *data = json_pack("{s:O, s:O, s:s?}", "username", json_object_get(u, "username"),
                             "status_before", json_object_get(u, "status"), "status_after",
                             to == USER_STATUS_SAME ? NULL : user_status_name(to));
    if (kit_commit(w, job, "user", in->id, user_actions[action].event, data, NULL) != 0)
        goto out;
    svc_job_ok(job, user_actions[action].ok_status,
               user_actions[action].ok_status == 200 ? json_incref(after) : NULL);
out:
    json_decref(u);
    json_decref(after);
}

static void action(struct http_request *req, struct svc *s, enum user_action a, json_t *body)
{
    long long id = kit_path_id(req, "id");
    if (id == 0) {
        json_decref(body);
        return;
    }
    struct kit_in *in = kit_in_new(body, id);
    in->variant = (int)a;
    svc_submit_to(s, user_actions[a].password ? auth_of(s)->hash_pool : s->pool, req, action_work,
                  in, kit_in_free);
}

static void disable(struct http_request *req, void *arg)
{
    action(req, arg, UA_DISABLE, NULL);
}

static void enable(struct http_request *req, void *arg)
{
    action(req, arg, UA_ENABLE, NULL);
}

static void unlock(struct http_request *req, void *arg)
{
    action(req, arg, UA_UNLOCK, NULL);
}

static void force_logout(struct http_request *req, void *arg)
{
    action(req, arg, UA_FORCE_LOGOUT, NULL);
}

static void reset_password(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, reset_fields);
    if (body)
        action(req, arg, UA_RESET_PASSWORD, body);
}

int users_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/users", list) ||
           svc_route(s, "POST", "/api/v1/users", create) ||
           svc_route(s, "GET", "/api/v1/users/{id}", get) ||
           svc_route(s, "PATCH", "/api/v1/users/{id}", patch) ||
           svc_route(s, "POST", "/api/v1/users/{id}/disable", disable) ||
           svc_route(s, "POST", "/api/v1/users/{id}/enable", enable) ||
           svc_route(s, "POST", "/api/v1/users/{id}/unlock", unlock) ||
           svc_route(s, "POST", "/api/v1/users/{id}/reset-password", reset_password) ||
           svc_route(s, "POST", "/api/v1/users/{id}/force-logout", force_logout);
}
