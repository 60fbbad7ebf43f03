/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_users: user administration (list, create, edit, disable, unlock, reset, logout). */
#include "auth.h"
#include "events.h"
#include "jsonv.h"
#include "repo.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ER_DUP_ENTRY         1062
#define ER_NO_REFERENCED_ROW 1452

struct users_in {
    json_t *body;
    long long id;
    char action[24];
    struct repo_user_filter filter;
    char q[128], status[16];
};

static void users_in_free(void *p)
{
    struct users_in *in = p;
    json_decref(in->body);
    free(in);
}

static struct users_in *users_in_new(json_t *body, long long id)
{
    struct users_in *in = xcalloc(1, sizeof(*in));
    in->body = body;
    in->id = id;
    return in;
}

/* The user as the API shows it, with roles and role_ids; NULL when absent. */
static int user_view(struct db *db, long long id, json_t **out)
{
    json_t *u = NULL, *roles = NULL;
    *out = NULL;
    if (repo_user_get(db, id, false, &u) != 0 || (u && repo_user_roles(db, id, &roles) != 0)) {
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

/* Field checks beyond types: username characters, email and phone shapes, references. */
static void check_user_fields(struct db *db, json_t *b, json_t *errors, int *dberr)
{
    const char *username = json_string_value(json_object_get(b, "username"));
    if (username) {
        for (const char *c = username; *c; c++) {
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-') {
                jsonv_error_add(errors, "username", "may contain only letters, digits, _ . -");
                break;
            }
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
    json_t *dept = json_object_get(b, "dept_id");
    if (json_is_integer(dept)) {
        json_t *d = NULL;
        if (repo_dept_get(db, json_integer_value(dept), false, &d) != 0)
            *dberr = 1;
        else if (d == NULL)
            jsonv_error_add(errors, "dept_id", "no such department");
        json_decref(d);
    }
    json_t *roles = json_object_get(b, "role_ids");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        json_t *row = NULL;
        if (repo_role_get(db, json_integer_value(r), false, &row) != 0)
            *dberr = 1;
        else if (row == NULL) {
            char f[32];
            snprintf(f, sizeof(f), "role_ids[%zu]", i);
            jsonv_error_add(errors, f, "no such role");
        }
        json_decref(row);
    }
}

/* ---- GET /api/v1/users ---- */

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct users_in *in = job->data;
    json_t *items = NULL;
    long long total = 0;
    if (repo_users_list(&w->db, &in->filter, &items, &total) != 0) {
        svc_job_db_error(job, w);
        return;
    }
    svc_job_ok(job, 200,
               json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                         (int)in->filter.page, "page_size", (int)in->filter.page_size));
}

/* Parse ?page&page_size into 'page'/'size'; adds field errors. */
static void paging(struct http_request *req, long *page, long *size, json_t *errors)
{
    const char *p = http_query_get(&req->query, "page");
    const char *s = http_query_get(&req->query, "page_size");
    *page = 1;
    *size = 20;
    if (p && util_parse_long(p, 1, 1000000, page) != 0)
        jsonv_error_add(errors, "page", "must be an integer of at least 1");
    if (s && util_parse_long(s, 1, 100, size) != 0)
        jsonv_error_add(errors, "page_size", "must be an integer from 1 to 100");
}

static void list(struct http_request *req, void *arg)
{
    struct users_in *in = users_in_new(NULL, 0);
    json_t *errors = json_array();
    long v;
    paging(req, &in->filter.page, &in->filter.page_size, errors);
    const char *q = http_query_get(&req->query, "q");
    if (q && strlen(q) > 64)
        jsonv_error_add(errors, "q", "must be at most 64 characters");
    snprintf(in->q, sizeof(in->q), "%s", q ? q : "");
    in->filter.q = in->q;
    const char *status = http_query_get(&req->query, "status");
    if (status && strcmp(status, "enabled") && strcmp(status, "disabled") &&
        strcmp(status, "locked"))
        jsonv_error_add(errors, "status", "must be enabled, disabled or locked");
    snprintf(in->status, sizeof(in->status), "%s", status ? status : "");
    in->filter.status = in->status;
    const char *dept = http_query_get(&req->query, "dept_id");
    if (dept && util_parse_long(dept, 1, (long)(~0UL >> 1), &v) != 0)
        jsonv_error_add(errors, "dept_id", "must be a department id");
    in->filter.dept_id = dept ? v : 0;
    const char *role = http_query_get(&req->query, "role_id");
    if (role && util_parse_long(role, 1, (long)(~0UL >> 1), &v) != 0)
        jsonv_error_add(errors, "role_id", "must be a role id");
    in->filter.role_id = role ? v : 0;
    if (json_array_size(errors) > 0) {
        users_in_free(in);
        http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
        return;
    }
    json_decref(errors);
    svc_submit(arg, req, list_work, in, users_in_free);
}

/* ---- GET /api/v1/users/{id} ---- */

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    struct users_in *in = job->data;
    json_t *u = NULL;
    if (user_view(&w->db, in->id, &u) != 0)
        svc_job_db_error(job, w);
    else if (u == NULL)
        svc_job_fail(job, 404, "not_found", "no such user");
    else
        svc_job_ok(job, 200, u);
}

static void get(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id)
        svc_submit(arg, req, get_work, users_in_new(NULL, id), users_in_free);
}

/* ---- POST /api/v1/users ---- */

static const struct jsonv_field create_fields[] = {
    {"username", JSONV_STRING, true, false, 3, 64, NULL, JSONV_STRING},
    {"display_name", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"password", JSONV_STRING, true, false, 1, 512, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"dept_id", JSONV_INT, false, true, 1, (long)(~0UL >> 1), NULL, JSONV_STRING},
    {"role_ids", JSONV_ARRAY, false, false, 0, 20, NULL, JSONV_INT},
    JSONV_END,
};

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct users_in *in = job->data;
    json_t *errors = json_array(), *u = NULL;
    int dberr = 0;
    char hash[160];
    long long id = 0;
    const char *pw = json_string_value(json_object_get(in->body, "password"));
    const char *why = password_policy(a, pw);
    if (why)
        jsonv_error_add(errors, "password", why);
    if (db_begin(&w->db) != 0)
        goto dberr;
    check_user_fields(&w->db, in->body, errors, &dberr);
    bool taken = false;
    if (dberr || repo_username_taken(
                     &w->db, json_string_value(json_object_get(in->body, "username")), &taken) != 0)
        goto dberr;
    if (taken) {
        jsonv_error_add(errors, "username", "is already taken");
        db_rollback(&w->db);
        job->errors = errors;
        svc_job_fail(job, 409, "conflict", "the username is already taken");
        return;
    }
    if (json_array_size(errors) > 0) {
        db_rollback(&w->db);
        job->errors = errors;
        svc_job_fail(job, 422, "validation_failed", "the user is not valid");
        return;
    }
    json_t *role_ids = json_object_get(in->body, "role_ids");
    if (password_hash(a, pw, hash, sizeof(hash)) != 0 ||
        repo_user_insert(&w->db, in->body, hash, &id) != 0 ||
        (role_ids && repo_user_set_roles(&w->db, id, role_ids) != 0) ||
        user_view(&w->db, id, &u) != 0)
        goto dberr;
    struct events_actor actor = auth_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", id);
    json_t *data = json_deep_copy(u);
    json_object_del(data, "roles");
    if (events_outbox_add(&w->db, "auth", "user.created", &actor, "user", sid, data,
                          job->req->request_id, NULL) != 0 ||
        db_commit(&w->db) != 0)
        goto dberr;
    svc_events_committed(w->svc);
    json_decref(errors);
    svc_job_ok(job, 201, u);
    return;
dberr:
    json_decref(errors);
    json_decref(u);
    bool dup = w->db.last_errno == ER_DUP_ENTRY;
    db_rollback(&w->db);
    if (dup) {
        job->errors = json_array();
        jsonv_error_add(job->errors, "username", "is already taken");
        svc_job_fail(job, 409, "conflict", "the username is already taken");
        return;
    }
    svc_job_db_error(job, w);
}

static void create(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    json_t *body = auth_body(req, create_fields);
    if (body)
        svc_submit_to(s, auth_of(s)->hash_pool, req, create_work, users_in_new(body, 0),
                      users_in_free);
}

/* ---- PATCH /api/v1/users/{id} ---- */

static const struct jsonv_field patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, (long)(~0UL >> 1), NULL, JSONV_STRING},
    {"display_name", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"phone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},
    {"dept_id", JSONV_INT, false, true, 1, (long)(~0UL >> 1), NULL, JSONV_STRING},
    {"role_ids", JSONV_ARRAY, false, false, 0, 20, NULL, JSONV_INT},
    JSONV_END,
};

static void patch_work(struct svc_worker *w, struct svc_job *job)
{
    static const char *const fields[] = {"display_name", "phone",    "email",
                                         "dept_id",      "role_ids", NULL};
    struct users_in *in = job->data;
    json_t *before = NULL, *after = NULL, *errors = json_array();
    int dberr = 0;
    uint64_t affected = 0;
    if (db_begin(&w->db) != 0 || repo_user_get(&w->db, in->id, true, &before) != 0)
        goto dberr;
    json_decref(before);
    before = NULL;
    if (user_view(&w->db, in->id, &before) != 0)
        goto dberr;
    if (before == NULL) {
        db_rollback(&w->db);
        json_decref(errors);
        svc_job_fail(job, 404, "not_found", "no such user");
        return;
    }
    check_user_fields(&w->db, in->body, errors, &dberr);
    if (dberr)
        goto dberr;
    if (json_array_size(errors) > 0) {
        db_rollback(&w->db);
        json_decref(before);
        job->errors = errors;
        svc_job_fail(job, 422, "validation_failed", "the user is not valid");
        return;
    }
    long long version = json_integer_value(json_object_get(in->body, "version"));
    json_t *role_ids = json_object_get(in->body, "role_ids");
    if (repo_user_update(&w->db, in->id, version, in->body, &affected) != 0)
        goto dberr;
    if (affected == 0) {
        db_rollback(&w->db);
        json_decref(before);
        json_decref(errors);
        svc_job_fail(job, 409, "version_conflict",
                     "the user was changed by someone else; reload and try again");
        return;
    }
    if ((role_ids && repo_user_set_roles(&w->db, in->id, role_ids) != 0) ||
        user_view(&w->db, in->id, &after) != 0)
        goto dberr;
    json_t *changes = auth_changes(before, after, fields);
    bool roles_changed = role_ids && !json_equal(json_object_get(before, "role_ids"),
                                                 json_object_get(after, "role_ids"));
    struct events_actor actor = auth_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", in->id);
    if (events_outbox_add(&w->db, "auth", "user.updated", &actor, "user", sid,
                          json_pack("{s:O, s:o}", "username", json_object_get(after, "username"),
                                    "changes", changes),
                          job->req->request_id, NULL) != 0)
        goto dberr;
    /* New roles mean new permissions: the old access tokens go; a refresh gets the new set. */
    if (roles_changed) {
        if (auth_revoke_access(w, in->id) != 0)
            goto dberr;
    }
    if (db_commit(&w->db) != 0)
        goto dberr;
    svc_events_committed(w->svc);
    json_decref(before);
    json_decref(errors);
    svc_job_ok(job, 200, after);
    return;
dberr:
    json_decref(before);
    json_decref(after);
    json_decref(errors);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void patch(struct http_request *req, void *arg)
{
    long long id = auth_path_id(req, "id");
    if (id == 0)
        return;
    json_t *body = auth_body(req, patch_fields);
    if (body)
        svc_submit(arg, req, patch_work, users_in_new(body, id), users_in_free);
}

/* ---- status changes: disable, enable, unlock, force-logout, reset-password ---- */

static const struct jsonv_field reset_fields[] = {
    {"new_password", JSONV_STRING, true, false, 1, 512, NULL, JSONV_STRING},
    JSONV_END,
};

static void action_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct users_in *in = job->data;
    const struct svc_identity *me = svc_identity(job->req);
    json_t *u = NULL;
    const char *event = NULL, *status = NULL;
    bool revoke = false, set_password = false;
    char hash[160];
    if (strcmp(in->action, "disable") == 0) {
        event = "user.disabled", status = "disabled", revoke = true;
        if (atoll(me->user_id) == in->id) {
            svc_job_fail(job, 409, "conflict", "you cannot disable your own account");
            return;
        }
    } else if (strcmp(in->action, "enable") == 0) {
        event = "user.enabled", status = "enabled";
    } else if (strcmp(in->action, "unlock") == 0) {
        event = "user.unlocked", status = "enabled";
    } else if (strcmp(in->action, "force-logout") == 0) {
        event = "user.force_logout", revoke = true;
    } else {
        event = "user.password_reset", revoke = true, set_password = true;
        const char *why =
            password_policy(a, json_string_value(json_object_get(in->body, "new_password")));
        if (why) {
            job->errors = json_array();
            jsonv_error_add(job->errors, "new_password", why);
            svc_job_fail(job, 422, "validation_failed", "the new password is not acceptable");
            return;
        }
        if (password_hash(a, json_string_value(json_object_get(in->body, "new_password")), hash,
                          sizeof(hash)) != 0) {
            svc_job_fail(job, 500, "internal", "the password could not be hashed");
            return;
        }
    }
    if (db_begin(&w->db) != 0 || repo_user_get(&w->db, in->id, true, &u) != 0)
        goto dberr;
    if (u == NULL) {
        db_rollback(&w->db);
        svc_job_fail(job, 404, "not_found", "no such user");
        return;
    }
    const char *was = json_string_value(json_object_get(u, "status"));
    if (strcmp(in->action, "enable") == 0 && strcmp(was, "disabled") != 0) {
        db_rollback(&w->db);
        json_decref(u);
        svc_job_fail(job, 409, "conflict", "the user is not disabled");
        return;
    }
    if (strcmp(in->action, "unlock") == 0 && json_is_null(json_object_get(u, "locked_until"))) {
        db_rollback(&w->db);
        json_decref(u);
        svc_job_fail(job, 409, "conflict", "the user is not locked");
        return;
    }
    struct events_actor actor = auth_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", in->id);
    if ((status && repo_user_set_status(&w->db, in->id, status) != 0) ||
        (set_password && repo_user_set_password(&w->db, in->id, hash) != 0) ||
        (revoke && auth_revoke_user(w, in->id) != 0) ||
        events_outbox_add(&w->db, "auth", event, &actor, "user", sid,
                          json_pack("{s:O, s:O, s:s?}", "username", json_object_get(u, "username"),
                                    "status_before", json_object_get(u, "status"), "status_after",
                                    status),
                          job->req->request_id, NULL) != 0)
        goto dberr;
    json_decref(u);
    u = NULL;
    if (user_view(&w->db, in->id, &u) != 0 || db_commit(&w->db) != 0)
        goto dberr;
    svc_events_committed(w->svc);
    if (strcmp(in->action, "force-logout") == 0 || strcmp(in->action, "reset-password") == 0) {
        json_decref(u);
        svc_job_ok(job, 204, NULL);
    } else {
        svc_job_ok(job, 200, u);
    }
    return;
dberr:
    json_decref(u);
    db_rollback(&w->db);
    svc_job_db_error(job, w);
}

static void action(struct http_request *req, struct svc *s, const char *name, json_t *body,
                   bool hashes)
{
    long long id = auth_path_id(req, "id");
    if (id == 0) {
        json_decref(body);
        return;
    }
    struct users_in *in = users_in_new(body, id);
    snprintf(in->action, sizeof(in->action), "%s", name);
    svc_submit_to(s, hashes ? auth_of(s)->hash_pool : s->pool, req, action_work, in, users_in_free);
}

static void disable(struct http_request *req, void *arg)
{
    action(req, arg, "disable", NULL, false);
}

static void enable(struct http_request *req, void *arg)
{
    action(req, arg, "enable", NULL, false);
}

static void unlock(struct http_request *req, void *arg)
{
    action(req, arg, "unlock", NULL, false);
}

static void force_logout(struct http_request *req, void *arg)
{
    action(req, arg, "force-logout", NULL, false);
}

static void reset_password(struct http_request *req, void *arg)
{
    json_t *body = auth_body(req, reset_fields);
    if (body)
        action(req, arg, "reset-password", body, true);
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
