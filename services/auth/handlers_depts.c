/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_depts: the department tree (list as a tree, create, edit its fields and move it
 * without cycles, delete when empty). */
#include "auth.h"
#include "kit.h"
#include "repo.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (repo_depts_all(&w->db, &rows) != 0)
        goto out;
    svc_job_ok(job, 200, json_pack("{s:o}", "items", dept_tree(rows, 0)));
out:
    json_decref(rows);
}

static void depts_list(struct http_request *req, void *arg)
{
    kit_submit(arg, req, depts_list_work, NULL, 0);
}

/* The department tree is not scoped: every administrator sees the whole organisation. */
static int dept_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    (void)sc;
    return repo_dept_get(db, in->id, lock, row);
}

static const struct jsonv_field dept_create_fields[] = {
    {"name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"parent_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"leader_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"status", JSONV_STRING, false, false, 0, 0, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    JSONV_END,
};

/* The fields of a create or patch 'body' besides the tree: the shapes of phone and email, the
 * status, and a leader who is a user. Refuses with 422 (return -1), or -1 on the database. */
static int dept_check_fields(struct svc_worker *w, struct svc_job *job, json_t *body)
{
    json_t *errors = json_array(), *leader = json_object_get(body, "leader_id"), *user = NULL;
    const char *status = json_string_value(json_object_get(body, "status"));
    int rc = -1;
    auth_check_contact(body, errors);
    if (status && strcmp(status, "enabled") != 0 && strcmp(status, "disabled") != 0)
        jsonv_error_addp(errors, "status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "enabled,disabled"),
                         "must be enabled or disabled");
    if (json_is_integer(leader)) {
        if (repo_user_get(&w->db, NULL, json_integer_value(leader), false, &user) != 0)
            goto out;
        if (user == NULL)
            jsonv_error_add(errors, "leader_id", JSONV_E_no_such_user, "no such user");
    }
    if (json_array_size(errors)) {
        kit_fail_fields(job, json_incref(errors), "the department is not valid");
        goto out;
    }
    rc = 0;
out:
    json_decref(errors);
    json_decref(user);
    return rc;
}

static void dept_create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    json_t *parent = json_object_get(in->body, "parent_id"), *row = NULL;
    long long pid = json_is_integer(parent) ? json_integer_value(parent) : 0, id = 0;
    const char *name = json_string_value(json_object_get(in->body, "name"));
    if (db_begin(&w->db) != 0 || dept_check_fields(w, job, in->body) != 0 ||
        (pid && repo_dept_get(&w->db, pid, false, &row) != 0))
        goto out;
    if (pid && row == NULL) {
        kit_fail(job, 422, "validation_failed", "no such parent", "parent_id",
                 JSONV_E_no_such_department, "no such department");
        goto out;
    }
    json_decref(row);
    row = NULL;
    if (repo_dept_by_name(&w->db, pid, name, &row) != 0)
        goto out;
    if (row != NULL) {
        kit_fail(job, 409, "conflict", "a sibling has this name", "name", JSONV_E_taken,
                 "is already used under this parent");
        goto out;
    }
    if (repo_dept_insert(&w->db, in->body, &id) != 0 ||
        repo_dept_get(&w->db, id, false, &row) != 0 ||
        kit_commit_created(w, job, "department", id, "department.created", json_deep_copy(row), 201,
                           json_incref(row)) != 0)
        goto out;
out:
    json_decref(row);
}

static void dept_create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, dept_create_fields);
    if (body)
        kit_submit(arg, req, dept_create_work, body, 0);
}

static const struct jsonv_field dept_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"parent_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"leader_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"status", JSONV_STRING, false, false, 0, 0, NULL, JSONV_STRING},
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

/* The fields are valid (dept_check_fields), and a move goes to an existing department that is
 * neither this one nor below it. The whole (small) tree is read under the row lock of the moved
 * department. */
static int dept_patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    json_t *parent = json_object_get(body, "parent_id"), *all = NULL;
    long long id = json_integer_value(json_object_get(before, "id"));
    if (dept_check_fields(w, job, body) != 0)
        return -1;
    if (!json_is_integer(parent))
        return 0;
    if (repo_depts_all(&w->db, &all) != 0)
        return -1;
    long long pid = json_integer_value(parent);
    bool exists = false;
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        exists = exists || json_integer_value(json_object_get(r, "id")) == pid;
    }
    bool cycle = exists && dept_is_within(all, id, pid);
    json_decref(all);
    if (exists && !cycle)
        return 0;
    kit_fail(job, 422, "validation_failed", "the move is not possible", "parent_id",
             exists ? JSONV_E_dept_cycle : JSONV_E_no_such_department,
             exists ? "cannot be the department itself or one below it" : "no such department");
    return -1;
}

static json_t *dept_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O}", "name", json_object_get(after, "name"));
}

static const char *const dept_fields[] = {"name",  "parent_id", "leader_id",  "phone",
                                          "email", "status",    "sort_order", NULL};
static const struct kit_patch dept_patch_ops = {
    .subject = "department",
    .event = "department.updated",
    .fields = dept_fields,
    .get = dept_get,
    .check = dept_patch_check,
    .update = repo_dept_update,
    .dup_field = "name", /* a rename onto a sibling's name: the unique key says so */
    .dup_message = "is already used under this parent",
    .event_data = dept_event_data,
};

static void dept_patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &dept_patch_ops);
}

static void dept_patch(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, dept_patch_fields) : NULL;
    if (body)
        kit_submit(arg, req, dept_patch_work, body, id);
}

/* A department still holding sub-departments or users stays: 409 conflict with the reason as a
 * whole-record field error and the counts as members "children" and "users", so the console
 * can say what to move first. */
static int dept_delete_check(struct svc_worker *w, struct svc_job *job, json_t *row)
{
    long long children = 0, users = 0;
    if (repo_dept_usage(&w->db, json_integer_value(json_object_get(row, "id")), &children,
                        &users) != 0)
        return -1;
    if (children == 0 && users == 0)
        return 0;
    kit_fail(job, 409, "conflict",
             children ? "the department has sub-departments" : "the department still has users", "",
             children ? JSONV_E_dept_has_children : JSONV_E_dept_has_users,
             children ? "has sub-departments" : "still has users");
    kit_fail_extra(
        job, json_pack("{s:I, s:I}", "children", (json_int_t)children, "users", (json_int_t)users));
    return -1;
}

static const struct kit_delete dept_delete_ops = {
    .subject = "department",
    .event = "department.deleted",
    .get = dept_get,
    .check = dept_delete_check,
    .remove = repo_dept_delete,
    .event_data = dept_event_data,
};

static void dept_delete_work(struct svc_worker *w, struct svc_job *job)
{
    kit_delete_work(w, job, &dept_delete_ops);
}

static void dept_delete(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, dept_delete_work, NULL, id);
}

int depts_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/departments", depts_list) ||
           svc_route(s, "POST", "/api/v1/departments", dept_create) ||
           svc_route(s, "PATCH", "/api/v1/departments/{id}", dept_patch) ||
           svc_route(s, "DELETE", "/api/v1/departments/{id}", dept_delete);
}
