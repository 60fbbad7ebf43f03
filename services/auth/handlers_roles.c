/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_roles: roles with their permissions and data scope, and the permission catalogue. */
#include "auth.h"
#include "kit.h"
#include "repo.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unknown permission codes, scopes and malformed codes become field errors. */
static void check_role(const struct auth_ctx *a, json_t *body, json_t *errors)
{
    json_t *scope = json_object_get(body, "data_scope");
    enum scope_kind k;
    if (scope && scope_parse(json_string_value(scope), &k) != 0)
        jsonv_error_addp(errors, "data_scope", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "ALL, DEPT_AND_CHILD, DEPT, SELF"),
                         "must be ALL, DEPT_AND_CHILD, DEPT or SELF");
    if (!auth_valid_code(json_string_value(json_object_get(body, "code"))))
        jsonv_error_add(errors, "code", JSONV_E_code_format, "may contain only a-z, 0-9 and _");
    size_t i, k2;
    json_t *p, *c;
    json_array_foreach(json_object_get(body, "permissions"), i, p)
    {
        bool known = false;
        json_array_foreach(a->catalogue, k2, c)
        {
            known = known || json_equal(json_object_get(c, "code"), p);
        }
        if (!known) {
            char f[40];
            snprintf(f, sizeof(f), "permissions[%zu]", i);
            jsonv_error_add(errors, f, JSONV_E_no_such_permission, "no such permission");
        }
    }
}

/* Whether array 'a' holds a value equal to 'v' (ids, permission codes). */
bool auth_array_has(json_t *a, json_t *v)
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
bool auth_role_grantable(const struct svc_identity *caller, json_t *role)
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
        if (!auth_array_has(caller->perms, p))
            return false;
    }
    return true;
}

/* A role the caller creates, or changes ('before': the role now, NULL for a new one) into
 * 'body', must stay one the caller could grant: otherwise whoever may edit roles adds every
 * permission to a role of their own. Refuses with 403 role_not_grantable; 0 when fine. */
static int check_role_grantable(struct svc_job *job, json_t *before, json_t *body)
{
    const struct svc_identity *caller = svc_identity(job->req);
    json_t *after = before ? json_deep_copy(before) : json_object();
    json_t *scope = json_object_get(body, "data_scope"),
           *perms = json_object_get(body, "permissions");
    if (scope)
        json_object_set(after, "data_scope", scope);
    if (perms)
        json_object_set(after, "permissions", perms);
    bool ok = (before == NULL || auth_role_grantable(caller, before)) &&
              auth_role_grantable(caller, after);
    json_decref(after);
    if (ok)
        return 0;
    svc_job_fail(job, 403, "role_not_grantable",
                 "the role would grant more than you hold (a wider data scope or a permission"
                 " you do not have)");
    return -1;
}

/* Roles are not owned by anyone: the scope does not apply to them. */
static int role_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    (void)sc;
    return repo_role_get(db, in->id, lock, row);
}

/* ---- GET /api/v1/roles ---- */

static const struct listq_sort role_sorts[] = {
    {"id", "r.id", LISTQ_INT, false},
    {"code", "r.code", LISTQ_STR, false},
    {"name", "r.name", LISTQ_STR, false},
    {NULL, NULL, 0, false},
};

static int roles_of(struct db *db, struct scope *sc, const struct kit_in *in,
                    struct listq_result *out)
{
    (void)sc; /* roles are not scoped: every holder of system:role:read sees them all */
    return repo_roles_list(db, &in->page, out);
}

static void roles_list_work(struct svc_worker *w, struct svc_job *job)
{
    kit_list_work(w, job, roles_of);
}

static void roles_list(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    struct kit_in *in = kit_in_new(NULL, 0);
    kit_list_params(req, role_sorts, &in->page, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, roles_list_work, in, kit_in_free);
}

/* ---- GET /api/v1/roles/{id} ---- */

static void role_get_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    json_t *row = NULL;
    if (repo_role_get(&w->db, in->id, false, &row) != 0)
        goto out;
    if (row == NULL)
        svc_job_fail(job, 404, "not_found", "no such role");
    else
        svc_job_ok(job, 200, json_incref(row));
out:
    json_decref(row);
}

static void role_show(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, role_get_work, NULL, id);
}

/* ---- POST /api/v1/roles ---- */

static const struct jsonv_field role_create_fields[] = {
    {"code", JSONV_STRING, true, false, 2, 64, NULL, JSONV_STRING},
    {"name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"name_en", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"data_scope", JSONV_STRING, true, false, 0, 0, NULL, JSONV_STRING},
    {"description", JSONV_STRING, false, false, 0, 255, NULL, JSONV_STRING},
    {"permissions", JSONV_ARRAY, false, false, 0, 500, NULL, JSONV_STRING},
    JSONV_END,
};

static void role_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    json_t *errors = json_array(), *row = NULL;
    long long id = 0;
    check_role(auth_of(w->svc), in->body, errors);
    if (json_array_size(errors)) {
        kit_fail_fields(job, json_incref(errors), "the role is not valid");
        goto out;
    }
    if (check_role_grantable(job, NULL, in->body) != 0)
        goto out;
    json_t *perms = json_object_get(in->body, "permissions");
    if (db_begin(&w->db) != 0)
        goto out;
    if (repo_role_insert(&w->db, in->body, false, &id) != 0) {
        if (w->db.last_errno == DB_ER_DUP_ENTRY)
            kit_fail(job, 409, "conflict", "the role code is taken", "code", JSONV_E_taken,
                     "is already taken");
        goto out;
    }
    if ((perms && repo_role_set_perms(&w->db, id, perms) != 0) ||
        repo_role_get(&w->db, id, false, &row) != 0 ||
        kit_commit_created(w, job, "role", id, "role.created", json_deep_copy(row), 201,
                           json_incref(row)) != 0)
        goto out;
out:
    json_decref(errors);
    json_decref(row);
}

static void role_create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, role_create_fields);
    if (body)
        kit_submit(arg, req, role_create_work, body, 0);
}

/* ---- PATCH /api/v1/roles/{id} ---- */

static const struct jsonv_field role_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"name_en", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"data_scope", JSONV_STRING, false, false, 0, 0, NULL, JSONV_STRING},
    {"description", JSONV_STRING, false, false, 0, 255, NULL, JSONV_STRING},
    {"permissions", JSONV_ARRAY, false, false, 0, 500, NULL, JSONV_STRING},
    JSONV_END,
};

/* Valid fields; the built-in administrator role keeps every permission and the data scope ALL:
 * 403 builtin_role_locked (its names and description may change). */
static int role_patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    if (json_is_true(json_object_get(before, "builtin")) &&
        strcmp(json_string_value(json_object_get(before, "code")), "admin") == 0 &&
        (json_object_get(body, "permissions") || json_object_get(body, "data_scope"))) {
        kit_fail(job, 403, "builtin_role_locked",
                 "the administrator role always has every permission and all data",
                 json_object_get(body, "permissions") ? "permissions" : "data_scope",
                 JSONV_E_admin_role_locked, "cannot be changed for the administrator role");
        return -1;
    }
    json_t *errors = json_array();
    check_role(auth_of(w->svc), body, errors);
    if (json_array_size(errors)) {
        kit_fail_fields(job, errors, "the role is not valid");
        return -1;
    }
    json_decref(errors);
    return check_role_grantable(job, before, body);
}

static int role_patch_also(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    (void)job;
    json_t *perms = json_object_get(body, "permissions");
    return perms ? repo_role_set_perms(&w->db, json_integer_value(json_object_get(before, "id")),
                                       perms)
                 : 0;
}

/* The members' tokens carry the old permissions and scope: end them (recorded now, published
 * after the commit by tokens_revoke_committed); a refresh gets the new. */
static int role_patch_changed(struct svc_worker *w, struct svc_job *job, json_t *after,
                              json_t *changes)
{
    (void)job;
    json_t *members = NULL;
    if (json_array_size(changes) == 0)
        return 0;
    if (repo_role_members(&w->db, json_integer_value(json_object_get(after, "id")), &members) != 0)
        return -1;
    int rc = 0;
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m)
    {
        if (rc == 0)
            rc = tokens_revoke_access(w, json_integer_value(json_object_get(m, "user_id")));
    }
    json_decref(members);
    return rc;
}

static json_t *role_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O}", "code", json_object_get(after, "code"));
}

static const char *const role_fields[] = {"name",        "name_en",     "data_scope",
                                          "description", "permissions", NULL};
static const struct kit_patch role_patch_ops = {
    .subject = "role",
    .event = "role.updated",
    .fields = role_fields,
    .get = role_get,
    .check = role_patch_check,
    .update = repo_role_update,
    .also = role_patch_also,
    .changed = role_patch_changed,
    .committed = tokens_revoke_committed,
    .event_data = role_event_data,
};

static void role_patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &role_patch_ops);
}

static void role_patch(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, role_patch_fields) : NULL;
    if (body)
        kit_submit(arg, req, role_patch_work, body, id);
}

/* ---- DELETE /api/v1/roles/{id} ---- */

/* Built-in roles stay, and so does a role someone still holds. */
static int role_delete_check(struct svc_worker *w, struct svc_job *job, json_t *row)
{
    long long users = 0;
    if (json_is_true(json_object_get(row, "builtin"))) {
        kit_fail(job, 409, "conflict", "built-in roles cannot be deleted", "", JSONV_E_role_builtin,
                 "is built in");
        return -1;
    }
    if (repo_role_user_count(&w->db, json_integer_value(json_object_get(row, "id")), &users) != 0)
        return -1;
    if (users == 0)
        return 0;
    kit_fail(job, 409, "conflict", "the role is still assigned to users", "", JSONV_E_role_in_use,
             "is still assigned to users");
    return -1;
}

static json_t *role_deleted_data(json_t *row, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O, s:O}", "code", json_object_get(row, "code"), "name",
                     json_object_get(row, "name"));
}

static const struct kit_delete role_delete_ops = {
    .subject = "role",
    .event = "role.deleted",
    .get = role_get,
    .check = role_delete_check,
    .remove = repo_role_delete,
    .event_data = role_deleted_data,
};

static void role_delete_work(struct svc_worker *w, struct svc_job *job)
{
    kit_delete_work(w, job, &role_delete_ops);
}

static void role_delete(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, role_delete_work, NULL, id);
}

/* ---- GET /api/v1/permissions ---- */

static void perms_list_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *rows = NULL;
    if (repo_perms_all(&w->db, &rows) == 0)
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static void perms_list(struct http_request *req, void *arg)
{
    kit_submit(arg, req, perms_list_work, NULL, 0);
}

int roles_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/roles", roles_list) ||
           svc_route(s, "POST", "/api/v1/roles", role_create) ||
           svc_route(s, "GET", "/api/v1/roles/{id}", role_show) ||
           svc_route(s, "PATCH", "/api/v1/roles/{id}", role_patch) ||
           svc_route(s, "DELETE", "/api/v1/roles/{id}", role_delete) ||
           svc_route(s, "GET", "/api/v1/permissions", perms_list);
}
