/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_dicts: the data dictionary (types and their items, in both languages). */
#include "auth.h"
#include "kit.h"
#include "repo.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dicts_list_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *rows = NULL;
    if (repo_dict_types(&w->db, &rows) == 0)
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static void dicts_list(struct http_request *req, void *arg)
{
    kit_submit(arg, req, dicts_list_work, NULL, 0);
}

/* The id of the type named by the {code} path parameter (in->key); a 404 when there is none.
 * 0 or -1. */
static int dict_type_of(struct svc_worker *w, struct svc_job *job, long long *type_id)
{
    const struct kit_in *in = job->data;
    json_t *t = NULL;
    if (repo_dict_type_by_code(&w->db, in->key, &t) != 0)
        return -1;
    if (t == NULL) {
        svc_job_fail(job, 404, "not_found", "no such dictionary");
        return -1;
    }
    *type_id = json_integer_value(json_object_get(t, "id"));
    json_decref(t);
    return 0;
}

/* Queue 'work' with the {code} path parameter in the job's input. */
static void dict_submit(struct http_request *req, struct svc *s,
                        void (*work)(struct svc_worker *w, struct svc_job *job), json_t *body,
                        long long id)
{
    struct kit_in *in = kit_in_new(body, id);
    snprintf(in->key, sizeof(in->key), "%s", router_param(&req->params, "code"));
    svc_submit(s, req, work, in, kit_in_free);
}

/* ---- GET /api/v1/dicts/{code}/items ---- */

static void dict_items_work(struct svc_worker *w, struct svc_job *job)
{
    const struct kit_in *in = job->data;
    long long type_id;
    json_t *rows = NULL;
    if (dict_type_of(w, job, &type_id) == 0 &&
        repo_dict_items(&w->db, type_id, in->flag, &rows) == 0)
        svc_job_ok(job, 200, json_pack("{s:o}", "items", rows));
}

static void dict_items(struct http_request *req, void *arg)
{
    const char *enabled = http_query_get(&req->query, "enabled");
    if (enabled && strcmp(enabled, "true") && strcmp(enabled, "false")) {
        json_t *errors = json_array();
        jsonv_error_addp(errors, "enabled", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "true, false"), "must be true or false");
        kit_reject(req, errors);
        return;
    }
    struct kit_in *in = kit_in_new(NULL, 0);
    snprintf(in->key, sizeof(in->key), "%s", router_param(&req->params, "code"));
    in->flag = enabled && strcmp(enabled, "true") == 0;
    svc_submit(arg, req, dict_items_work, in, kit_in_free);
}

/* ---- POST /api/v1/dicts ---- */

static const struct jsonv_field dict_create_fields[] = {
    {"code", JSONV_STRING, true, false, 2, 64, NULL, JSONV_STRING},
    {"name_zh", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"name_en", JSONV_STRING, true, false, 1, 96, NULL, JSONV_STRING},
    JSONV_END,
};

static void dict_create_work(struct svc_worker *w, struct svc_job *job)
{
    const struct kit_in *in = job->data;
    long long id = 0;
    json_t *row = NULL;
    const char *code = json_string_value(json_object_get(in->body, "code"));
    if (!auth_valid_code(code)) {
        kit_fail(job, 422, "validation_failed", "the dictionary is not valid", "code",
                 JSONV_E_code_format, "may contain only a-z, 0-9 and _");
        goto out;
    }
    if (db_begin(&w->db) != 0)
        goto out;
    if (repo_dict_type_insert(&w->db, in->body, false, &id) != 0) {
        if (w->db.last_errno == DB_ER_DUP_ENTRY)
            kit_fail(job, 409, "conflict", "the code is taken", "code", JSONV_E_taken,
                     "is already taken");
        goto out;
    }
    if (repo_dict_type_by_code(&w->db, code, &row) != 0 ||
        kit_commit_created(w, job, "dict", id, "dict.created", json_deep_copy(row), 201,
                           json_incref(row)) != 0)
        goto out;
out:
    json_decref(row);
}

static void dict_create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, dict_create_fields);
    if (body)
        kit_submit(arg, req, dict_create_work, body, 0);
}

/* ---- POST /api/v1/dicts/{code}/items ---- */

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
    const struct kit_in *in = job->data;
    long long type_id, id = 0;
    json_t *row = NULL;
    if (db_begin(&w->db) != 0 || dict_type_of(w, job, &type_id) != 0)
        goto out;
    if (repo_dict_item_insert(&w->db, type_id, in->body, &id) != 0) {
        if (w->db.last_errno == DB_ER_DUP_ENTRY)
            kit_fail(job, 409, "conflict", "the value exists", "value", JSONV_E_taken,
                     "is already in this dictionary");
        goto out;
    }
    if (repo_dict_item_get(&w->db, type_id, id, &row) != 0)
        goto out;
    json_t *data = json_deep_copy(row);
    json_object_set_new(data, "dict", json_string(in->key));
    if (kit_commit_created(w, job, "dict_item", id, "dict.item_created", data, 201,
                           json_incref(row)) != 0)
        goto out;
out:
    json_decref(row);
}

static void item_create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, item_create_fields);
    if (body)
        dict_submit(req, arg, item_create_work, body, 0);
}

/* ---- PATCH /api/v1/dicts/{code}/items/{id} ---- */

static const struct jsonv_field item_patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"label_zh", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"label_en", JSONV_STRING, false, false, 1, 96, NULL, JSONV_STRING},
    {"sort_order", JSONV_INT, false, false, -1000000, 1000000, NULL, JSONV_STRING},
    {"enabled", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    JSONV_END,
};

/* Item in->id of the dictionary in->key (the type is looked up per read: a handful of rows). */
static int item_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    (void)sc;
    (void)lock; /* the version guards the update; an item has nothing else to keep consistent */
    json_t *t = NULL;
    *row = NULL;
    if (repo_dict_type_by_code(db, in->key, &t) != 0)
        return -1;
    int rc =
        t ? repo_dict_item_get(db, json_integer_value(json_object_get(t, "id")), in->id, row) : 0;
    json_decref(t);
    return rc;
}

static json_t *item_event_data(json_t *after, const struct kit_in *in)
{
    return json_pack("{s:s, s:O}", "dict", in->key, "value", json_object_get(after, "value"));
}

static const char *const item_fields[] = {"label_zh", "label_en", "sort_order", "enabled", NULL};
static const struct kit_patch item_patch_ops = {
    .subject = "dict_item", /* "no such dict_item" on a 404 */
    .event = "dict.item_updated",
    .fields = item_fields,
    .get = item_get,
    .update = repo_dict_item_update,
    .event_data = item_event_data,
};

static void item_patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &item_patch_ops);
}

static void item_patch(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, item_patch_fields) : NULL;
    if (body)
        dict_submit(req, arg, item_patch_work, body, id);
}

int dicts_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/dicts", dicts_list) ||
           svc_route(s, "POST", "/api/v1/dicts", dict_create) ||
           svc_route(s, "GET", "/api/v1/dicts/{code}/items", dict_items) ||
           svc_route(s, "POST", "/api/v1/dicts/{code}/items", item_create) ||
           svc_route(s, "PATCH", "/api/v1/dicts/{code}/items/{id}", item_patch);
}
