/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_org: departments (a tree), roles with permissions and data scope, the permission
 * catalogue, and the data dictionary. */
#include "auth.h"
#include "events.h"
#include "jsonv.h"
#include "repo.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ER_DUP_ENTRY 1062
#define ID_MAX       ((long)(~0UL >> 1))

struct org_in {
    json_t *body;
    long long id;
    char code[72];
    bool flag;
};

static void org_in_free(void *p)
{
    struct org_in *in = p;
    json_decref(in->body);
    free(in);
}

static struct org_in *org_in_new(json_t *body, long long id)
{
    struct org_in *in = xcalloc(1, sizeof(*in));
    in->body = body;
    in->id = id;
    return in;
}

/* Emit 'type' for 'subject' with 'data' (taken) and commit; on failure a 5xx is set. */
static bool emit_commit(struct svc_worker *w, struct svc_job *job, const char *type,
                        const char *subject, long long id, json_t *data)
{
    struct events_actor actor = auth_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", id);
    if (events_outbox_add(&w->db, "auth", type, &actor, subject, sid, data, job->req->request_id,
                          NULL) != 0 ||
        db_commit(&w->db) != 0) {
        db_rollback(&w->db);
        svc_job_db_error(job, w);
        return false;
    }
    svc_events_committed(w->svc);
    return true;
}

static void fail_rollback(struct svc_worker *w, struct svc_job *job, int status, const char *code,
                          const char *detail, const char *field, const char *msg)
{
    db_rollback(&w->db);
    if (field) {
        job->errors = json_array();
        jsonv_error_add(job->errors, field, msg);
    }
    svc_job_fail(job, status, code, "%s", detail);
}

/* ================================ departments ============================================= */

/* Nest the flat rows into a tree under 'parent' (0 = roots). */
static json_t *dept_tree(json_t *rows, long long parent)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *p = json_object_get(r, "parent_id");
        long long pid = json_is_integer(p) ? json_integer_value(p) : 0;
        if (pid != parent)
            continue;
        json_t *node = json_deep_copy(r);
        json_object_set_new(node, "children",
                            dept_tree(rows, json_integer_value(json_object_get(r, "id"))));
        json_array_append_new(out, node);
    }
    return out;
}

static void depts_list_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *rows = NULL;
    if (repo_depts_all(&w->db, &rows) != 0) {
        svc_job_db_error(job, w);
        return;
    }
    svc_job_ok(job, 200, json_pack("{s:o}", "items", dept_tree(rows, 0)));
    json_decref(rows);
}

static void depts_list(struct http_request *req, void *arg)
{
    svc_submit(arg, req, depts_list_work, NULL, NULL);
}

static const struct jsonv_field dept_create_fields[] = {
    {"name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"parent_id", JSONV_INT, false, true, 1, ID_MAX, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    JSONV_END,
};

static void dept_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    json_t *parent = json_object_get(in->body, "parent_id"), *row = NULL;
    long long pid = json_is_integer(parent) ? json_integer_value(parent) : 0, id = 0;
    const char *name = json_string_value(json_object_get(in->body, "name"));
    json_t *sort = json_object_get(in->body, "sort_order");
    if (db_begin(&w->db) != 0)
        goto dberr;
    if (pid) {
        if (repo_dept_get(&w->db, pid, false, &row) != 0)
            goto dberr;
        if (row == NULL)
            return fail_rollback(w, job, 422, "validation_failed", "no such parent", "parent_id",
                                 "no such department");
        json_decref(row);
        row = NULL;
    }
    if (repo_dept_by_name(&w->db, pid, name, &row) != 0)
        goto dberr;
    if (row != NULL) {
        json_decref(row);
        return fail_rollback(w, job, 409, "conflict", "a sibling has this name", "name",
                             "is already used under this parent");
    }
    if (repo_dept_insert(&w->db, name, pid, sort ? (long)json_integer_value(sort) : 0, &id) != 0 ||
        repo_dept_get(&w->db, id, false, &row) != 0)
        goto dberr;
    if (emit_commit(w, job, "department.created", "department", id, json_deep_copy(row)))
        svc_job_ok(job, 201, row);
    else
        json_decref(row);
    return;
dberr:
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void dept_create(struct http_request *req, void *arg)
{
    json_t *body = auth_body(req, dept_create_fields);
    if (body)
        svc_submit(arg, req, dept_create_work, org_in_new(body, 0), org_in_free);
}

static const struct jsonv_field dept_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"parent_id", JSONV_INT, false, true, 1, ID_MAX, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    JSONV_END,
};

/* True when 'candidate' is 'id' or lies below it (moving 'id' there would make a cycle). */
static bool dept_is_within(json_t *rows, long long id, long long candidate)
{
    for (int guard = 0; candidate && guard < 10000; guard++) {
        if (candidate == id)
            return true;
        long long next = 0;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            if (json_integer_value(json_object_get(r, "id")) == candidate) {
                json_t *p = json_object_get(r, "parent_id");
                next = json_is_integer(p) ? json_integer_value(p) : 0;
            }
        }
        candidate = next;
    }
    return false;
}

static void dept_patch_work(struct svc_worker *w, struct svc_job *job)
{
    static const char *const fields[] = {"name", "parent_id", "sort_order", NULL};
    struct org_in *in = job->data;
    json_t *before = NULL, *after = NULL, *all = NULL;
    uint64_t affected = 0;
    json_t *parent = json_object_get(in->body, "parent_id");
    if (db_begin(&w->db) != 0 || repo_dept_get(&w->db, in->id, true, &before) != 0)
        goto dberr;
    if (before == NULL)
        return fail_rollback(w, job, 404, "not_found", "no such department", NULL, NULL);
    if (json_is_integer(parent)) {
        /* the whole (small) tree, read under the row lock of the moved department */
        if (repo_depts_all(&w->db, &all) != 0)
            goto dberr;
        long long pid = json_integer_value(parent);
        bool exists = false;
        size_t i;
        json_t *r;
        json_array_foreach(all, i, r)
        {
            exists = exists || json_integer_value(json_object_get(r, "id")) == pid;
        }
        if (!exists || dept_is_within(all, in->id, pid)) {
            json_decref(all);
            json_decref(before);
            return fail_rollback(
                w, job, 422, "validation_failed", "the move is not possible", "parent_id",
                exists ? "cannot be the department itself or one below it" : "no such department");
        }
        json_decref(all);
        all = NULL;
    }
    if (repo_dept_update(&w->db, in->id, json_integer_value(json_object_get(in->body, "version")),
                         in->body, &affected) != 0) {
        if (w->db.last_errno == ER_DUP_ENTRY) {
            json_decref(before);
            return fail_rollback(w, job, 409, "conflict", "a sibling has this name", "name",
                                 "is already used under this parent");
        }
        goto dberr;
    }
    if (affected == 0) {
        json_decref(before);
        return fail_rollback(w, job, 409, "version_conflict",
                             "the department was changed by someone else; reload", NULL, NULL);
    }
    if (repo_dept_get(&w->db, in->id, false, &after) != 0)
        goto dberr;
    if (emit_commit(w, job, "department.updated", "department", in->id,
                    json_pack("{s:O, s:o}", "name", json_object_get(after, "name"), "changes",
                              auth_changes(before, after, fields))))
        svc_job_ok(job, 200, json_incref(after));
    json_decref(before);
    json_decref(after);
    return;
dberr:
    json_decref(before);
    json_decref(after);
    json_decref(all);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void dept_patch(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id == 0)
        return;
    json_t *body = auth_body(req, dept_patch_fields);
    if (body)
        svc_submit(arg, req, dept_patch_work, org_in_new(body, id), org_in_free);
}

static void dept_delete_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    json_t *row = NULL;
    long long children = 0, users = 0;
    if (db_begin(&w->db) != 0 || repo_dept_get(&w->db, in->id, true, &row) != 0)
        goto dberr;
    if (row == NULL)
        return fail_rollback(w, job, 404, "not_found", "no such department", NULL, NULL);
    if (repo_dept_usage(&w->db, in->id, &children, &users) != 0)
        goto dberr;
    if (children || users) {
        json_decref(row);
        return fail_rollback(w, job, 409, "conflict",
                             children ? "the department has sub-departments"
                                      : "the department still has users",
                             NULL, NULL);
    }
    if (repo_dept_delete(&w->db, in->id) != 0)
        goto dberr;
    if (emit_commit(w, job, "department.deleted", "department", in->id,
                    json_pack("{s:O}", "name", json_object_get(row, "name"))))
        svc_job_ok(job, 204, NULL);
    json_decref(row);
    return;
dberr:
    json_decref(row);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void dept_delete(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id)
        svc_submit(arg, req, dept_delete_work, org_in_new(NULL, id), org_in_free);
}

/* ==================================== roles ============================================== */

static bool valid_scope(const char *s)
{
    return s && (strcmp(s, "ALL") == 0 || strcmp(s, "DEPT_AND_CHILD") == 0 ||
                 strcmp(s, "DEPT") == 0 || strcmp(s, "SELF") == 0);
}

/* Unknown permission codes and scopes become field errors. */
static void check_role(const struct auth_ctx *a, json_t *body, json_t *errors)
{
    json_t *scope = json_object_get(body, "data_scope");
    if (scope && !valid_scope(json_string_value(scope)))
        jsonv_error_add(errors, "data_scope", "must be ALL, DEPT_AND_CHILD, DEPT or SELF");
    const char *code = json_string_value(json_object_get(body, "code"));
    for (const char *c = code; c && *c; c++) {
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_') {
            jsonv_error_add(errors, "code", "may contain only a-z, 0-9 and _");
            break;
        }
    }
    size_t i, k;
    json_t *p, *c;
    json_array_foreach(json_object_get(body, "permissions"), i, p)
    {
        bool known = false;
        json_array_foreach(a->catalogue, k, c)
        {
            known = known || json_equal(json_object_get(c, "code"), p);
        }
        if (!known) {
            char f[40];
            snprintf(f, sizeof(f), "permissions[%zu]", i);
            jsonv_error_add(errors, f, "no such permission");
        }
    }
}

static void roles_list_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    json_t *items = NULL;
    long long total = 0;
    long page = in->id, size = atol(in->code);
    if (repo_roles_list(&w->db, page, size, &items, &total) != 0) {
        svc_job_db_error(job, w);
        return;
    }
    svc_job_ok(job, 200,
               json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                         (int)page, "page_size", (int)size));
}

static void roles_list(struct http_request *req, void *arg)
{
    long page = 1, size = 20;
    json_t *errors = json_array();
    const char *p = http_query_get(&req->query, "page"),
               *s = http_query_get(&req->query, "page_size");
    if (p && util_parse_long(p, 1, 1000000, &page) != 0)
        jsonv_error_add(errors, "page", "must be an integer of at least 1");
    if (s && util_parse_long(s, 1, 100, &size) != 0)
        jsonv_error_add(errors, "page_size", "must be an integer from 1 to 100");
    if (json_array_size(errors)) {
        http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
        return;
    }
    json_decref(errors);
    struct org_in *in = org_in_new(NULL, page);
    snprintf(in->code, sizeof(in->code), "%ld", size);
    svc_submit(arg, req, roles_list_work, in, org_in_free);
}

static void role_get_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    json_t *row = NULL;
    if (repo_role_get(&w->db, in->id, false, &row) != 0)
        svc_job_db_error(job, w);
    else if (row == NULL)
        svc_job_fail(job, 404, "not_found", "no such role");
    else
        svc_job_ok(job, 200, row);
}

static void role_get(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id)
        svc_submit(arg, req, role_get_work, org_in_new(NULL, id), org_in_free);
}

static const struct jsonv_field role_create_fields[] = {
    {"code", JSONV_STRING, true, false, 2, 64, NULL, JSONV_STRING},
    {"name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"data_scope", JSONV_STRING, true, false, 0, 0, NULL, JSONV_STRING},
    {"description", JSONV_STRING, false, false, 0, 255, NULL, JSONV_STRING},
    {"permissions", JSONV_ARRAY, false, false, 0, 500, NULL, JSONV_STRING},
    JSONV_END,
};

static void role_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct org_in *in = job->data;
    json_t *errors = json_array(), *row = NULL;
    long long id = 0;
    check_role(a, in->body, errors);
    if (json_array_size(errors)) {
        job->errors = errors;
        svc_job_fail(job, 422, "validation_failed", "the role is not valid");
        return;
    }
    json_decref(errors);
    json_t *perms = json_object_get(in->body, "permissions");
    if (db_begin(&w->db) != 0)
        goto dberr;
    if (repo_role_insert(&w->db, in->body, false, &id) != 0) {
        if (w->db.last_errno == ER_DUP_ENTRY)
            return fail_rollback(w, job, 409, "conflict", "the role code is taken", "code",
                                 "is already taken");
        goto dberr;
    }
    if ((perms && repo_role_set_perms(&w->db, id, perms) != 0) ||
        repo_role_get(&w->db, id, false, &row) != 0)
        goto dberr;
    if (emit_commit(w, job, "role.created", "role", id, json_deep_copy(row)))
        svc_job_ok(job, 201, row);
    else
        json_decref(row);
    return;
dberr:
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void role_create(struct http_request *req, void *arg)
{
    json_t *body = auth_body(req, role_create_fields);
    if (body)
        svc_submit(arg, req, role_create_work, org_in_new(body, 0), org_in_free);
}

static const struct jsonv_field role_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"data_scope", JSONV_STRING, false, false, 0, 0, NULL, JSONV_STRING},
    {"description", JSONV_STRING, false, false, 0, 255, NULL, JSONV_STRING},
    {"permissions", JSONV_ARRAY, false, false, 0, 500, NULL, JSONV_STRING},
    JSONV_END,
};

static void role_patch_work(struct svc_worker *w, struct svc_job *job)
{
    static const char *const fields[] = {"name", "data_scope", "description", "permissions", NULL};
    struct auth_ctx *a = auth_of(w->svc);
    struct org_in *in = job->data;
    json_t *errors = json_array(), *before = NULL, *after = NULL, *members = NULL;
    uint64_t affected = 0;
    check_role(a, in->body, errors);
    if (json_array_size(errors)) {
        job->errors = errors;
        svc_job_fail(job, 422, "validation_failed", "the role is not valid");
        return;
    }
    json_decref(errors);
    json_t *perms = json_object_get(in->body, "permissions");
    if (db_begin(&w->db) != 0 || repo_role_get(&w->db, in->id, true, &before) != 0)
        goto dberr;
    if (before == NULL)
        return fail_rollback(w, job, 404, "not_found", "no such role", NULL, NULL);
    if (strcmp(json_string_value(json_object_get(before, "code")), "admin") == 0 && perms) {
        json_decref(before);
        return fail_rollback(w, job, 409, "conflict",
                             "the administrator role always has every permission", "permissions",
                             "cannot be changed for the administrator role");
    }
    if (repo_role_update(&w->db, in->id, json_integer_value(json_object_get(in->body, "version")),
                         in->body, &affected) != 0)
        goto dberr;
    if (affected == 0) {
        json_decref(before);
        return fail_rollback(w, job, 409, "version_conflict",
                             "the role was changed by someone else; reload", NULL, NULL);
    }
    if ((perms && repo_role_set_perms(&w->db, in->id, perms) != 0) ||
        repo_role_get(&w->db, in->id, false, &after) != 0 ||
        repo_role_members(&w->db, in->id, &members) != 0)
        goto dberr;
    json_t *changes = auth_changes(before, after, fields);
    /* The members' tokens carry the old permissions and scope: end them; a refresh gets the
     * new ones. */
    if (json_array_size(changes) > 0) {
        size_t i;
        json_t *m;
        json_array_foreach(members, i, m)
        {
            if (auth_revoke_access(w, json_integer_value(json_object_get(m, "user_id"))) != 0) {
                json_decref(changes);
                goto dberr;
            }
        }
    }
    if (emit_commit(
            w, job, "role.updated", "role", in->id,
            json_pack("{s:O, s:o}", "code", json_object_get(after, "code"), "changes", changes)))
        svc_job_ok(job, 200, json_incref(after));
    json_decref(before);
    json_decref(after);
    json_decref(members);
    return;
dberr:
    json_decref(before);
    json_decref(after);
    json_decref(members);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void role_patch(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id == 0)
        return;
    json_t *body = auth_body(req, role_patch_fields);
    if (body)
        svc_submit(arg, req, role_patch_work, org_in_new(body, id), org_in_free);
}

static void role_delete_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    json_t *row = NULL;
    long long users = 0;
    if (db_begin(&w->db) != 0 || repo_role_get(&w->db, in->id, true, &row) != 0)
        goto dberr;
    if (row == NULL)
        return fail_rollback(w, job, 404, "not_found", "no such role", NULL, NULL);
    if (json_is_true(json_object_get(row, "builtin"))) {
        json_decref(row);
        return fail_rollback(w, job, 409, "conflict", "built-in roles cannot be deleted", NULL,
                             NULL);
    }
    if (repo_role_user_count(&w->db, in->id, &users) != 0)
        goto dberr;
    if (users) {
        json_decref(row);
        return fail_rollback(w, job, 409, "conflict", "the role is still assigned to users", NULL,
                             NULL);
    }
    if (repo_role_delete(&w->db, in->id) != 0)
        goto dberr;
    if (emit_commit(w, job, "role.deleted", "role", in->id,
                    json_pack("{s:O, s:O}", "code", json_object_get(row, "code"), "name",
                              json_object_get(row, "name"))))
        svc_job_ok(job, 204, NULL);
    json_decref(row);
    return;
dberr:
    json_decref(row);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void role_delete(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id)
        svc_submit(arg, req, role_delete_work, org_in_new(NULL, id), org_in_free);
}

static void perms_list_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *rows = NULL;
    if (repo_perms_all(&w->db, &rows) != 0)
        svc_job_db_error(job, w);
    else
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static void perms_list(struct http_request *req, void *arg)
{
    svc_submit(arg, req, perms_list_work, NULL, NULL);
}

/* ================================ data dictionary ========================================= */

static void dicts_list_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *rows = NULL;
    if (repo_dict_types(&w->db, &rows) != 0)
        svc_job_db_error(job, w);
    else
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static void dicts_list(struct http_request *req, void *arg)
{
    svc_submit(arg, req, dicts_list_work, NULL, NULL);
}

/* The type named by the {code} path parameter; a 404 reply when absent (returns -1 then). */
static int dict_type_of(struct svc_worker *w, struct svc_job *job, const char *code,
                        long long *type_id)
{
    json_t *t = NULL;
    if (repo_dict_type_by_code(&w->db, code, &t) != 0) {
        db_rollback(&w->db);
        svc_job_db_error(job, w);
        return -1;
    }
    if (t == NULL) {
        db_rollback(&w->db);
        svc_job_fail(job, 404, "not_found", "no such dictionary");
        return -1;
    }
    *type_id = json_integer_value(json_object_get(t, "id"));
    json_decref(t);
    return 0;
}

static void dict_items_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    long long type_id;
    json_t *rows = NULL;
    if (dict_type_of(w, job, in->code, &type_id) != 0)
        return;
    if (repo_dict_items(&w->db, type_id, in->flag, &rows) != 0)
        svc_job_db_error(job, w);
    else
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static struct org_in *dict_in(struct http_request *req, json_t *body, long long id)
{
    struct org_in *in = org_in_new(body, id);
    snprintf(in->code, sizeof(in->code), "%s", router_param(&req->params, "code"));
    return in;
}

static void dict_items(struct http_request *req, void *arg)
{
    const char *enabled = http_query_get(&req->query, "enabled");
    if (enabled && strcmp(enabled, "true") && strcmp(enabled, "false")) {
        json_t *errors = json_array();
        jsonv_error_add(errors, "enabled", "must be true or false");
        http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
        return;
    }
    struct org_in *in = dict_in(req, NULL, 0);
    in->flag = enabled && strcmp(enabled, "true") == 0;
    svc_submit(arg, req, dict_items_work, in, org_in_free);
}

static const struct jsonv_field dict_create_fields[] = {
    {"code", JSONV_STRING, true, false, 2, 64, NULL, JSONV_STRING},
    {"name_zh", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"name_en", JSONV_STRING, true, false, 1, 96, NULL, JSONV_STRING},
    JSONV_END,
};

static void dict_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    long long id = 0;
    json_t *row = NULL;
    const char *code = json_string_value(json_object_get(in->body, "code"));
    for (const char *c = code; *c; c++) {
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_') {
            job->errors = json_array();
            jsonv_error_add(job->errors, "code", "may contain only a-z, 0-9 and _");
            svc_job_fail(job, 422, "validation_failed", "the dictionary is not valid");
            return;
        }
    }
    if (db_begin(&w->db) != 0)
        goto dberr;
    if (repo_dict_type_insert(&w->db, in->body, false, &id) != 0) {
        if (w->db.last_errno == ER_DUP_ENTRY)
            return fail_rollback(w, job, 409, "conflict", "the code is taken", "code",
                                 "is already taken");
        goto dberr;
    }
    if (repo_dict_type_by_code(&w->db, code, &row) != 0)
        goto dberr;
    if (emit_commit(w, job, "dict.created", "dict", id, json_deep_copy(row)))
        svc_job_ok(job, 201, row);
    else
        json_decref(row);
    return;
dberr:
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void dict_create(struct http_request *req, void *arg)
{
    json_t *body = auth_body(req, dict_create_fields);
    if (body)
        svc_submit(arg, req, dict_create_work, org_in_new(body, 0), org_in_free);
}

static const struct jsonv_field item_create_fields[] = {
    {"value", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"label_zh", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"label_en", JSONV_STRING, true, false, 1, 96, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    {"enabled", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    JSONV_END,
};

static void item_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct org_in *in = job->data;
    long long type_id, id = 0;
    json_t *row = NULL;
    if (db_begin(&w->db) != 0)
        goto dberr;
    if (dict_type_of(w, job, in->code, &type_id) != 0)
        return;
    if (repo_dict_item_insert(&w->db, type_id, in->body, &id) != 0) {
        if (w->db.last_errno == ER_DUP_ENTRY)
            return fail_rollback(w, job, 409, "conflict", "the value exists", "value",
                                 "is already in this dictionary");
        goto dberr;
    }
    if (repo_dict_item_get(&w->db, type_id, id, &row) != 0)
        goto dberr;
    json_t *data = json_deep_copy(row);
    json_object_set_new(data, "dict", json_string(in->code));
    if (emit_commit(w, job, "dict.item_created", "dict_item", id, data))
        svc_job_ok(job, 201, row);
    else
        json_decref(row);
    return;
dberr:
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void item_create(struct http_request *req, void *arg)
{
    json_t *body = auth_body(req, item_create_fields);
    if (body)
        svc_submit(arg, req, item_create_work, dict_in(req, body, 0), org_in_free);
}

static const struct jsonv_field item_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, ID_MAX, NULL, JSONV_STRING},
    {"label_zh", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"label_en", JSONV_STRING, false, false, 1, 96, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    {"enabled", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    JSONV_END,
};

static void item_patch_work(struct svc_worker *w, struct svc_job *job)
{
    static const char *const fields[] = {"label_zh", "label_en", "sort_order", "enabled", NULL};
    struct org_in *in = job->data;
    long long type_id;
    json_t *before = NULL, *after = NULL;
    uint64_t affected = 0;
    if (db_begin(&w->db) != 0)
        goto dberr;
    if (dict_type_of(w, job, in->code, &type_id) != 0)
        return;
    if (repo_dict_item_get(&w->db, type_id, in->id, &before) != 0)
        goto dberr;
    if (before == NULL)
        return fail_rollback(w, job, 404, "not_found", "no such item", NULL, NULL);
    if (repo_dict_item_update(&w->db, in->id,
                              json_integer_value(json_object_get(in->body, "version")), in->body,
                              &affected) != 0)
        goto dberr;
    if (affected == 0) {
        json_decref(before);
        return fail_rollback(w, job, 409, "version_conflict",
                             "the item was changed by someone else; reload", NULL, NULL);
    }
    if (repo_dict_item_get(&w->db, type_id, in->id, &after) != 0)
        goto dberr;
    if (emit_commit(w, job, "dict.item_updated", "dict_item", in->id,
                    json_pack("{s:s, s:O, s:o}", "dict", in->code, "value",
                              json_object_get(after, "value"), "changes",
                              auth_changes(before, after, fields))))
        svc_job_ok(job, 200, json_incref(after));
    json_decref(before);
    json_decref(after);
    return;
dberr:
    json_decref(before);
    json_decref(after);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void item_patch(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id == 0)
        return;
    json_t *body = auth_body(req, item_patch_fields);
    if (body)
        svc_submit(arg, req, item_patch_work, dict_in(req, body, id), org_in_free);
}

int org_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/departments", depts_list) ||
           svc_route(s, "POST", "/api/v1/departments", dept_create) ||
           svc_route(s, "PATCH", "/api/v1/departments/{id}", dept_patch) ||
           svc_route(s, "DELETE", "/api/v1/departments/{id}", dept_delete) ||
           svc_route(s, "GET", "/api/v1/roles", roles_list) ||
           svc_route(s, "POST", "/api/v1/roles", role_create) ||
           svc_route(s, "GET", "/api/v1/roles/{id}", role_get) ||
           svc_route(s, "PATCH", "/api/v1/roles/{id}", role_patch) ||
           svc_route(s, "DELETE", "/api/v1/roles/{id}", role_delete) ||
           svc_route(s, "GET", "/api/v1/permissions", perms_list) ||
           svc_route(s, "GET", "/api/v1/dicts", dicts_list) ||
           svc_route(s, "POST", "/api/v1/dicts", dict_create) ||
           svc_route(s, "GET", "/api/v1/dicts/{code}/items", dict_items) ||
           svc_route(s, "POST", "/api/v1/dicts/{code}/items", item_create) ||
           svc_route(s, "PATCH", "/api/v1/dicts/{code}/items/{id}", item_patch);
}
