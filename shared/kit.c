/* SPDX-License-Identifier: Apache-2.0 */
/* kit: the request handler toolkit every service uses (see kit.h for the pattern). */
#include "kit.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------------------------ */
/* input                                                                                       */

json_t *kit_body(struct http_request *req, const struct jsonv_field *fields)
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

long long kit_path_id(struct http_request *req, const char *name)
{
    long v = 0;
    if (util_parse_long(router_param(&req->params, name), 1, KIT_ID_MAX, &v) != 0) {
        http_reply_problem(req, 404, "not_found", "no such record", NULL);
        return 0;
    }
    return v;
}

void kit_list_params(struct http_request *req, const struct listq_sort *sorts,
                     struct listq_page *pg, json_t *errors)
{
    const struct http_query *q = &req->query;
    listq_page_parse(sorts, http_query_get(q, "sort"), http_query_get(q, "order"),
                     http_query_get(q, "page"), http_query_get(q, "page_size"),
                     http_query_get(q, "cursor"), pg, errors);
}

const char *kit_query(struct http_request *req, const char *key, size_t maxlen, json_t *errors)
{
    const char *v = http_query_get(&req->query, key);
    if (v && strlen(v) > maxlen) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must be at most %zu characters", maxlen);
        jsonv_error_addp(errors, key, JSONV_E_too_long,
                         json_pack("{s:I}", "max", (json_int_t)maxlen), msg);
        return NULL;
    }
    return v;
}

long long kit_query_id(struct http_request *req, const char *key, json_t *errors)
{
    const char *v = http_query_get(&req->query, key);
    long id = 0;
    if (v && util_parse_long(v, 1, KIT_ID_MAX, &id) != 0)
        jsonv_error_add(errors, key, JSONV_E_not_id, "must be an id (a positive integer)");
    return id;
}

void kit_query_copy(struct http_request *req, const char *key, char *out, size_t size,
                    json_t *errors)
{
    const char *v = kit_query(req, key, size - 1, errors);
    snprintf(out, size, "%s", v ? v : "");
}

void kit_query_time(struct http_request *req, const char *key, char out[32], json_t *errors)
{
    const char *v = kit_query(req, key, 40, errors);
    out[0] = '\0';
    if (v && *v && !util_time_parse(v, true, out, 32))
        jsonv_error_add(errors, key, JSONV_E_not_time,
                        "must be a date (2026-12-03) or a time (RFC 3339)");
}

bool kit_reject(struct http_request *req, json_t *errors)
{
    if (json_array_size(errors) == 0) {
        json_decref(errors);
        return false;
    }
    http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
    return true;
}

struct kit_in *kit_in_new(json_t *body, long long id)
{
    struct kit_in *in = xcalloc(1, sizeof(*in));
    in->body = body;
    in->id = id;
    return in;
}

void kit_in_free(void *p)
{
    struct kit_in *in = p;
    if (in == NULL)
        return;
    json_decref(in->body);
    free(in->extra);
    free(in);
}

void kit_submit(struct svc *s, struct http_request *req,
                void (*work)(struct svc_worker *w, struct svc_job *job), json_t *body, long long id)
{
    svc_submit(s, req, work, kit_in_new(body, id), kit_in_free);
}

void kit_submit_id(struct svc *s, struct http_request *req,
                   void (*work)(struct svc_worker *w, struct svc_job *job))
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(s, req, work, NULL, id);
}

/* ------------------------------------------------------------------------------------------ */
/* on the worker                                                                               */

bool kit_can(const struct svc_job *job, const char *perm)
{
    const struct svc_identity *id = svc_identity(job->req);
    size_t i;
    json_t *p;
    json_array_foreach(id ? id->perms : NULL, i, p)
    {
        if (json_is_string(p) && strcmp(json_string_value(p), perm) == 0)
            return true;
    }
    return false;
}

struct scope kit_scope(const struct svc_job *job)
{
    const struct svc_identity *id = svc_identity(job->req);
    struct scope sc;
    memset(&sc, 0, sizeof(sc)); /* resolved on first use (scope_where) */
    sc.kind = SCOPE_SELF;
    sc.src = job->svc->scope_src;
    if (id) {
        sc.kind = id->scope;
        sc.user_id = atoll(id->user_id);
    }
    return sc;
}

struct events_actor kit_actor(const struct svc_job *job)
{
    const struct svc_identity *id = svc_identity(job->req);
    struct events_actor a = {id ? id->user_id : NULL, job->req->client_ip};
    return a;
}

void kit_fail(struct svc_job *job, int status, const char *code, const char *detail,
              const char *field, enum jsonv_code fcode, const char *message)
{
    if (field) {
        json_decref(job->errors);
        job->errors = json_array();
        jsonv_error_add(job->errors, field, fcode, message);
    }
    svc_job_fail(job, status, code, "%s", detail);
}

void kit_fail_fields(struct svc_job *job, json_t *errors, const char *detail)
{
    json_decref(job->errors);
    job->errors = errors;
    svc_job_fail(job, 422, "validation_failed", "%s", detail);
}

void kit_fail_extra(struct svc_job *job, json_t *extra)
{
    json_decref(job->extra);
    job->extra = extra;
}

json_t *kit_changes(json_t *before, json_t *after, const char *const *fields)
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

int kit_event(struct svc_worker *w, struct svc_job *job, const char *subject_type,
              long long subject_id, const char *type, json_t *data, json_t *changes)
{
    struct events_actor actor = kit_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", subject_id);
    if (data == NULL)
        data = json_object();
    if (changes)
        json_object_set_new(data, "changes", changes);
    return events_outbox_add(&w->db, job->svc->name, type, &actor, subject_type, sid, data,
                             job->req->request_id, NULL);
}

int kit_commit(struct svc_worker *w, struct svc_job *job, const char *subject_type,
               long long subject_id, const char *type, json_t *data, json_t *changes)
{
    if (type == NULL) {
        json_decref(data);
        json_decref(changes);
    }
    if ((type != NULL && kit_event(w, job, subject_type, subject_id, type, data, changes) != 0) ||
        db_commit(&w->db) != 0) {
        db_rollback(&w->db);
        return -1;
    }
    svc_events_committed(w->svc);
    return 0;
}

int kit_commit_created(struct svc_worker *w, struct svc_job *job, const char *subject_type,
                       long long subject_id, const char *type, json_t *data, int status,
                       json_t *body)
{
    if (idem_store(w, job, status, body) != 0) {
        db_rollback(&w->db);
        json_decref(data);
        json_decref(body);
        return -1;
    }
    if (kit_commit(w, job, subject_type, subject_id, type, data, NULL) != 0) {
        json_decref(body);
        return -1;
    }
    svc_job_ok(job, status, body);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* a record's history                                                                          */

const struct listq_sort kit_history_sorts[] = {
    {"id", "h.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static const struct listq_spec history_spec = {
    .from = "record_history h",
    .id = "h.id",
    .columns = "h.id, h.event_type, h.subject_type, h.subject_id, h.actor_user_id,"
               " COALESCE(su.display_name, '') AS actor_name, h.data, h.occurred_at",
    .joins = " LEFT JOIN scope_users su ON su.user_id = h.actor_user_id",
};

int kit_history_page(struct svc_worker *w, struct svc_job *job, const char *record_type,
                     long long record_id)
{
    struct kit_in *in = job->data;
    struct listq q;
    struct listq_result res = {0};
    struct db_param p[] = {DBP_STR(record_type), DBP_INT(record_id)};
    listq_init(&q);
    listq_add(&q, "h.record_type = ? AND h.record_id = ?", p, 2);
    if (listq_run(&w->db, &history_spec, &q, &in->page, &res) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(res.items, i, row)
    {
        json_t *data = json_loads(json_string_value(json_object_get(row, "data")), 0, NULL);
        json_object_set_new(row, "data", data ? data : json_object());
    }
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
    return 0;
}

static void kit_history_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    const struct kit_history_of *h = in->ops;
    struct scope sc = kit_scope(job);
    json_t *row = NULL;
    if (h->get(&w->db, &sc, in, false, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such %s", h->subject);
        goto out;
    }
    if (kit_history_page(w, job, h->record_type, in->id) != 0)
        goto out;
out:
    json_decref(row);
}

void kit_history_submit(struct svc *s, struct http_request *req, const struct kit_history_of *h)
{
    long long id = kit_path_id(req, "id");
    if (id == 0)
        return;
    json_t *errors = json_array();
    struct kit_in *in = kit_in_new(NULL, id);
    in->ops = h;
    kit_list_params(req, kit_history_sorts, &in->page, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(s, req, kit_history_work, in, kit_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* skeletons                                                                                   */

static void not_found(struct svc_job *job, const char *subject)
{
    svc_job_fail(job, 404, "not_found", "no such %s", subject);
}

void kit_list_work(struct svc_worker *w, struct svc_job *job,
                   int (*list)(struct db *db, struct scope *sc, const struct kit_in *in,
                               struct listq_result *out))
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    struct listq_result res = {0};
    if (list(&w->db, &sc, in, &res) == 0)
        svc_job_ok(job, 200, listq_result_json(&res, &in->page));
    json_decref(res.items);
}

void kit_get_work(struct svc_worker *w, struct svc_job *job, const char *subject,
                  int (*get)(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                             json_t **row))
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL;
    if (get(&w->db, &sc, in, false, &row) != 0)
        goto out;
    if (row == NULL)
        not_found(job, subject);
    else
        svc_job_ok(job, 200, json_incref(row));
out:
    json_decref(row);
}

void kit_patch_work(struct svc_worker *w, struct svc_job *job, const struct kit_patch *p)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *before = NULL, *after = NULL, *changes = NULL;
    uint64_t affected = 0;
    long long version = json_integer_value(json_object_get(in->body, "version"));

    if (db_begin(&w->db) != 0 || p->get(&w->db, &sc, in, true, &before) != 0)
        goto out;
    if (before == NULL) {
        not_found(job, p->subject);
        goto out;
    }
    if (p->check && p->check(w, job, before, in->body) != 0)
        goto out;
    if (p->update(&w->db, in->id, version, in->body, &affected) != 0) {
        if (p->dup_field && w->db.last_errno == DB_ER_DUP_ENTRY)
            kit_fail(job, 409, "conflict", "the value is taken", p->dup_field, JSONV_E_taken,
                     p->dup_message);
        goto out;
    }
    if (affected == 0) {
        /* 'before' was read under the row lock: it is the current record, which the client
         * needs to show what changed and retry */
        svc_job_fail(job, 409, "version_conflict", "the %s was changed by someone else; reload",
                     p->subject);
        kit_fail_extra(job, json_pack("{s:O}", "current", before));
        goto out;
    }
    if ((p->also && p->also(w, job, before, in->body) != 0) ||
        p->get(&w->db, &sc, in, false, &after) != 0 || after == NULL)
        goto out;
    changes = kit_changes(before, after, p->fields);
    if (p->changed && p->changed(w, job, after, changes) != 0)
        goto out;
    json_t *data = p->event_data ? p->event_data(after, in) : json_object();
    if (kit_commit(w, job, p->subject, in->id, p->event, data, json_incref(changes)) != 0)
        goto out;
    if (p->committed)
        p->committed(w, job, after);
    svc_job_ok(job, 200, json_incref(after));
out:
    json_decref(before);
    json_decref(after);
    json_decref(changes);
}

void kit_delete_work(struct svc_worker *w, struct svc_job *job, const struct kit_delete *d)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL;

    if (db_begin(&w->db) != 0 || d->get(&w->db, &sc, in, true, &row) != 0)
        goto out;
    if (row == NULL) {
        not_found(job, d->subject);
        goto out;
    }
    if ((d->check && d->check(w, job, row) != 0) || d->remove(&w->db, in->id) != 0)
        goto out;
    if (kit_commit(w, job, d->subject, in->id, d->event, d->event_data(row, in), NULL) != 0)
        goto out;
    svc_job_ok(job, 204, NULL);
out:
    json_decref(row);
}
