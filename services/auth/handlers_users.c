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

/* The user as the API shows it, with roles, role_ids and role_codes; NULL when absent or
 * outside 'sc'. */
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
    json_t *ids = json_array(), *codes = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        json_object_del(r, "data_scope");
        json_array_append(ids, json_object_get(r, "id"));
        json_array_append(codes, json_object_get(r, "code"));
    }
    json_object_set_new(u, "roles", roles);
    json_object_set_new(u, "role_ids", ids);
    /* in the user events too: the other services' projections learn who holds which role */
    json_object_set_new(u, "role_codes", codes);
    *out = u;
    return 0;
}

static int user_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    return user_view(db, sc, in->id, lock, row);
}

/* Shapes of the fields: the username (replaced in 'b' by its one spelling, see
 * auth_username_canon), email and phone. */
static void check_user_shapes(json_t *b, json_t *errors)
{
    json_t *username = json_object_get(b, "username");
    char canon[AUTH_USERNAME_MAX + 1];
    if (username && auth_username_canon(json_string_value(username), canon))
        json_object_set_new(b, "username", json_string(canon));
    else if (username)
        jsonv_error_addp(errors, "username", JSONV_E_username_format,
                         jsonv_range(3, AUTH_USERNAME_MAX),
                         "must be 3 to 32 of a-z, 0-9, . _ - (starting with a letter or digit)");
    auth_check_contact(b, errors);
}

/* The shapes of "email" and "phone" in 'b' when present (users and departments have both). */
void auth_check_contact(json_t *b, json_t *errors)
{
    const char *email = json_string_value(json_object_get(b, "email"));
    if (email && *email &&
        (strchr(email, '@') == NULL || strchr(email, ' ') != NULL ||
         strchr(strchr(email, '@'), '.') == NULL))
        jsonv_error_add(errors, "email", JSONV_E_not_email, "is not an email address");
    const char *phone = json_string_value(json_object_get(b, "phone"));
    for (const char *c = phone; c && *c; c++) {
        if (!isdigit((unsigned char)*c) && *c != '+' && *c != '-' && *c != ' ') {
            jsonv_error_add(errors, "phone", JSONV_E_phone_format,
                            "may contain only digits, +, - and spaces");
            break;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* who may do what to whom                                                                     */

/* Sort the role ids 'role_ids' (skipping those in 'skip', NULL: none) into field errors named
 * '<prefix>[i]': unknown roles into 'missing' (a 422), roles 'caller' may not grant into
 * 'refused' (a 403). 0, or -1 on a database error. */
static int roles_sort(struct db *db, const struct svc_identity *caller, json_t *role_ids,
                      json_t *skip, const char *prefix, json_t *missing, json_t *refused)
{
    size_t i;
    json_t *r;
    json_array_foreach(role_ids, i, r)
    {
        json_t *row = NULL;
        if (skip && auth_array_has(skip, r))
            continue;
        if (repo_role_get(db, json_integer_value(r), false, &row) != 0)
            return -1;
        char f[48];
        snprintf(f, sizeof(f), "%s[%zu]", prefix, i);
        if (row == NULL)
            jsonv_error_add(missing, f, JSONV_E_no_such_role, "no such role");
        else if (!auth_role_grantable(caller, row))
            jsonv_error_add(refused, f, JSONV_E_role_not_grantable,
                            "grants more than you hold (a wider data scope or a permission"
                            " you do not have)");
        json_decref(row);
    }
    return 0;
}

/* Fail the job with 403 'code' and the field errors 'errors' (taken; NULL: none). */
static void fail_forbidden(struct svc_job *job, const char *code, const char *detail,
                           json_t *errors)
{
    json_decref(job->errors);
    job->errors = errors;
    svc_job_fail(job, 403, code, "%s", detail);
}

/* Whether 'caller' may manage the user 'target' (user_view, with role_ids): every role the
 * target holds is one the caller could grant. Otherwise a manager of one department could
 * reset the password of a wider account there and take it over. Refuses with 403
 * user_not_manageable. 0 when it may, -1 when refused or on a database error. */
static int check_manageable(struct db *db, struct svc_job *job, json_t *target)
{
    json_t *missing = json_array(), *refused = json_array();
    int rc = -1;
    if (roles_sort(db, svc_identity(job->req), json_object_get(target, "role_ids"), NULL,
                   "role_ids", missing, refused) != 0)
        goto out;
    if (json_array_size(refused) > 0) {
        fail_forbidden(job, "user_not_manageable",
                       "the user holds roles you could not grant; an administrator manages them",
                       NULL);
        goto out;
    }
    rc = 0;
out:
    json_decref(missing);
    json_decref(refused);
    return rc;
}

int auth_user_manageable(struct svc_worker *w, struct svc_job *job, long long user_id)
{
    json_t *u = NULL;
    int rc = -1;
    if (user_view(&w->db, NULL, user_id, false, &u) != 0)
        goto out;
    if (u == NULL) {
        svc_job_fail(job, 404, "not_found", "no such user");
        goto out;
    }
    rc = check_manageable(&w->db, job, u);
out:
    json_decref(u);
    return rc;
}

/* Whether 'u' (user_view) holds the built-in administrator role. */
static bool holds_admin(json_t *u)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(u, "roles"), i, r)
    {
        const char *code = json_string_value(json_object_get(r, "code"));
        if (code && strcmp(code, "admin") == 0)
            return true;
    }
    return false;
}

/* 'target' (user_view) is about to lose the administrator role or to be disabled: refuse with
 * 403 last_admin when no other active administrator would be left. Holders are counted with a
 * locking read after a lock on the administrator role, so two administrators disabling each
 * other at once cannot both pass. 0 when fine, -1 when refused or on a database error. */
static int check_not_last_admin(struct db *db, struct svc_job *job, json_t *target)
{
    long long others = 0;
    const char *status = json_string_value(json_object_get(target, "status"));
    if (!holds_admin(target) || (status && strcmp(status, "disabled") == 0))
        return 0;
    if (repo_user_other_active_admins(db, json_integer_value(json_object_get(target, "id")),
                                      &others) != 0)
        return -1;
    if (others > 0)
        return 0;
    fail_forbidden(job, "last_admin", "this is the last active administrator", NULL);
    return -1;
}

/* References: the department exists and lies in the caller's scope (nobody places a user
 * where they could not see them), the roles exist (field errors into 'errors'), and each role
 * the user does not hold yet ('held': their role_ids, NULL for a new user) is one 'caller' may
 * grant (role_grantable; into 'refused'). 0, or -1 on a database error. */
static int check_user_refs(struct db *db, struct scope *sc, const struct svc_identity *caller,
                           json_t *held, json_t *b, json_t *errors, json_t *refused)
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
            jsonv_error_add(errors, "dept_id", JSONV_E_no_such_department, "no such department");
        else if (!covered)
            jsonv_error_add(errors, "dept_id", JSONV_E_outside_scope, "is outside your data scope");
        json_decref(d);
    } else if (dept != NULL && sc->kind != SCOPE_ALL) {
        jsonv_error_add(errors, "dept_id", JSONV_E_required_in_scope,
                        "is required within your data scope");
    }
    return roles_sort(db, caller, json_object_get(b, "role_ids"), held, "role_ids", errors,
                      refused);
}

/* The answer to a create or patch with field errors: 403 role_not_grantable when a role was
 * refused (with those fields), else 422 with 'errors'. Takes both; true when it failed 'job'. */
static bool fail_refs(struct svc_job *job, json_t *errors, json_t *refused)
{
    if (json_array_size(refused) > 0) {
        json_decref(errors);
        fail_forbidden(job, "role_not_grantable",
                       "a role grants more than you hold (a wider data scope or a permission"
                       " you do not have)",
                       refused);
        return true;
    }
    json_decref(refused);
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the user is not valid");
        return true;
    }
    json_decref(errors);
    return false;
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

static int users_of(struct db *db, struct scope *sc, const struct kit_in *in,
                    struct listq_result *out)
{
    const struct users_filter *uf = in->extra;
    return repo_users_list(db, sc, &uf->f, &in->page, out);
}

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    kit_list_work(w, job, users_of);
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
        jsonv_error_addp(errors, "status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "enabled, disabled, locked"),
                         "must be enabled, disabled or locked");
    snprintf(uf->q, sizeof(uf->q), "%s", q ? q : "");
    snprintf(uf->status, sizeof(uf->status), "%s", status ? status : "");
    uf->f.q = uf->q;
    uf->f.status = uf->status;
    uf->f.dept_id = kit_query_id(req, "dept_id", errors);
    const char *children = http_query_get(&req->query, "include_children");
    if (children && strcmp(children, "true") && strcmp(children, "false"))
        jsonv_error_addp(errors, "include_children", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "true,false"), "must be true or false");
    uf->f.dept_children = children && strcmp(children, "true") == 0;
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
    kit_fail(job, 409, "conflict", "the username is already taken", "username", JSONV_E_taken,
             "is already taken");
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *errors = json_array(), *refused = json_array(), *u = NULL;
    char hash[160];
    long long id = 0;
    bool taken = false;
    check_user_shapes(in->body, errors);
    const char *pw = json_string_value(json_object_get(in->body, "password"));
    (void)password_policy(a, pw, json_string_value(json_object_get(in->body, "username")),
                          json_string_value(json_object_get(in->body, "display_name")), "password",
                          errors); /* said in 'errors' */
    /* absent: said here; null: check_user_refs says it */
    if (sc.kind != SCOPE_ALL && json_object_get(in->body, "dept_id") == NULL)
        jsonv_error_add(errors, "dept_id", JSONV_E_required_in_scope,
                        "is required within your data scope");
    if (db_begin(&w->db) != 0 ||
        check_user_refs(&w->db, &sc, svc_identity(job->req), NULL, in->body, errors, refused) !=
            0 ||
        repo_username_taken(&w->db, json_string_value(json_object_get(in->body, "username")),
                            &taken) != 0)
        goto out;
    if (json_array_size(refused) == 0 && taken) {
        username_taken(job);
        goto out;
    }
    bool failed = fail_refs(job, errors, refused);
    errors = refused = NULL;
    if (failed)
        goto out;
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
    json_decref(refused);
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
        if (!auth_array_has(b, x))
            return false;
    }
    json_array_foreach(b, i, x)
    {
        if (!auth_array_has(a, x))
            return false;
    }
    return true;
}

/* Whether 'u' (user_view) would lose the administrator role ('*loses') when its roles become
 * 'role_ids' (NULL: unchanged); 0, or -1 on a database error. */
static int loses_admin(struct db *db, json_t *u, json_t *role_ids, bool *loses)
{
    *loses = false;
    if (role_ids == NULL || !holds_admin(u))
        return 0;
    size_t i;
    json_t *r;
    json_array_foreach(role_ids, i, r)
    {
        json_t *row = NULL;
        if (repo_role_get(db, json_integer_value(r), false, &row) != 0)
            return -1;
        const char *code = json_string_value(json_object_get(row, "code"));
        bool admin = code && strcmp(code, "admin") == 0;
        json_decref(row);
        if (admin)
            return 0;
    }
    *loses = true;
    return 0;
}

/* In order: a user the caller could not have made is not theirs to edit (403
 * user_not_manageable); nobody changes their own roles or department (403
 * self_change_forbidden; the form may send them back unchanged); every new role must be
 * grantable (403 role_not_grantable); the last active administrator keeps the role (403
 * last_admin); then the fields (422). */
static int patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    struct scope sc = kit_scope(job);
    json_t *errors = NULL, *refused = NULL, *held = json_object_get(before, "role_ids");
    json_t *role_ids = json_object_get(body, "role_ids"), *dept = json_object_get(body, "dept_id");
    bool self = json_integer_value(json_object_get(before, "id")) == sc.user_id, loses = false;
    if (check_manageable(&w->db, job, before) != 0)
        return -1;
    if (self && ((role_ids && !same_ids(role_ids, held)) ||
                 (dept && !json_equal(dept, json_object_get(before, "dept_id"))))) {
        fail_forbidden(job, "self_change_forbidden",
                       "you cannot change your own roles or department", NULL);
        return -1;
    }
    errors = json_array();
    refused = json_array();
    check_user_shapes(body, errors);
    if (check_user_refs(&w->db, &sc, svc_identity(job->req), held, body, errors, refused) != 0 ||
        loses_admin(&w->db, before, role_ids, &loses) != 0) {
        json_decref(errors);
        json_decref(refused);
        return -1;
    }
    if (json_array_size(refused) == 0 && loses && check_not_last_admin(&w->db, job, before) != 0) {
        json_decref(errors);
        json_decref(refused);
        return -1;
    }
    return fail_refs(job, errors, refused) ? -1 : 0;
}

static int patch_also(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    (void)job;
    json_t *role_ids = json_object_get(body, "role_ids");
    return role_ids ? repo_user_set_roles(&w->db, json_integer_value(json_object_get(before, "id")),
                                          role_ids)
                    : 0;
}

/* New roles mean new permissions: the old access tokens go (recorded now, published after the
 * commit by tokens_revoke_committed); a refresh gets the new set. */
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

/* user.updated carries the user's role codes as they are now, for the other services'
 * projections (who may own a customer): the changes name only role_ids. */
static json_t *user_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O, s:O}", "username", json_object_get(after, "username"), "role_codes",
                     json_object_get(after, "role_codes"));
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
    .committed = tokens_revoke_committed,
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

/* ---- PATCH /api/v1/auth/me: one's own name, phone and email (the personal centre) ---- */

static const struct jsonv_field profile_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"display_name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    JSONV_END,
};

/* One's own account whatever one's data scope (a SELF or department-less user has it too). */
static int profile_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                       json_t **row)
{
    (void)sc;
    return user_view(db, NULL, in->id, lock, row);
}

static int profile_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    (void)w;
    (void)before;
    json_t *errors = json_array();
    check_user_shapes(body, errors);
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return 0;
    }
    kit_fail_fields(job, errors, "the profile is not valid");
    return -1;
}

static const struct kit_patch profile_patch_ops = {
    .subject = "user",
    .event = "user.updated",
    .fields = user_fields,
    .get = profile_get,
    .check = profile_check,
    .update = repo_user_update,
    .event_data = user_event_data,
};

static void profile_patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &profile_patch_ops);
}

static void profile_patch(struct http_request *req, void *arg)
{
    const struct svc_identity *id = svc_identity(req);
    json_t *body = kit_body(req, profile_fields);
    if (body)
        kit_submit(arg, req, profile_patch_work, body, atoll(id->user_id));
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
    bool self_ok;        /* may be done to one's own account (else 403 self_change_forbidden:
                          * one's status is not one's own to change, and one's password is
                          * changed with the current one, POST /api/v1/auth/password) */
} user_actions[] = {
    [UA_DISABLE] = {"disable", "user.disabled", USER_DISABLED, true, false, 200, false},
    [UA_ENABLE] = {"enable", "user.enabled", USER_ENABLED, false, false, 200, false},
    [UA_UNLOCK] = {"unlock", "user.unlocked", USER_ENABLED, false, false, 200, false},
    [UA_FORCE_LOGOUT] = {"force-logout", "user.force_logout", USER_STATUS_SAME, true, false, 204,
                         true},
    [UA_RESET_PASSWORD] = {"reset-password", "user.password_reset", USER_STATUS_SAME, true, true,
                           204, false},
};

/* Whether 'action' may happen to a user in 'status' ('locked': a lock is running). NULL when
 * it may, else why not (a 409). Who may do it to whom is checked before (action_allowed). */
static const char *user_transition(enum user_action action, enum user_status status, bool locked)
{
    switch (action) {
    case UA_DISABLE:
        return NULL;
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
static int action_password(struct svc_worker *w, struct svc_job *job, json_t *u, char *hash,
                           size_t len)
{
    struct auth_ctx *a = auth_of(w->svc);
    const struct kit_in *in = job->data;
    const char *pw = json_string_value(json_object_get(in->body, "new_password"));
    json_t *why = json_array();
    if (!password_policy(a, pw, json_string_value(json_object_get(u, "username")),
                         json_string_value(json_object_get(u, "display_name")), "new_password",
                         why)) {
        kit_fail_fields(job, why, "the new password is not acceptable");
        return -1;
    }
    json_decref(why);
    if (password_hash(a, pw, hash, len) != 0) {
        svc_job_fail(job, 500, "internal", "the password could not be hashed");
        return -1;
    }
    return 0;
}

/* Who may do 'action' to 'u' (user_view): the caller could have granted every role of theirs
 * (403 user_not_manageable), not to oneself unless the action allows it (403
 * self_change_forbidden), and the last active administrator is not disabled (403 last_admin).
 * 0 when allowed, -1 when refused or on a database error. */
static int action_allowed(struct svc_worker *w, struct svc_job *job, enum user_action action,
                          json_t *u, bool self)
{
    if (check_manageable(&w->db, job, u) != 0)
        return -1;
    if (self && !user_actions[action].self_ok) {
        fail_forbidden(job, "self_change_forbidden",
                       "you cannot change the status or reset the password of your own account",
                       NULL);
        return -1;
    }
    return action == UA_DISABLE ? check_not_last_admin(&w->db, job, u) : 0;
}

static void action_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    enum user_action action = (enum user_action)in->variant;
    struct scope sc = kit_scope(job);
    json_t *u = NULL, *after = NULL;
    char hash[160];
    if (db_begin(&w->db) != 0 || user_view(&w->db, &sc, in->id, true, &u) != 0)
        goto out;
    if (u == NULL) {
        svc_job_fail(job, 404, "not_found", "no such user");
        goto out;
    }
    /* after the scope: a user outside it is 404 whatever the password */
    if (action_allowed(w, job, action, u, sc.user_id == in->id) != 0 ||
        (user_actions[action].password && action_password(w, job, u, hash, sizeof(hash)) != 0))
        goto out;
    enum user_status was = user_status_parse(json_string_value(json_object_get(u, "status")));
    const char *refusal =
        user_transition(action, was, !json_is_null(json_object_get(u, "locked_until")));
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
    if (user_actions[action].revoke)
        tokens_revoke_committed(w, job, after);
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
           svc_route(s, "POST", "/api/v1/users/{id}/force-logout", force_logout) ||
           svc_route(s, "PATCH", "/api/v1/auth/me", profile_patch);
}
