/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_followups: follow-up records (跟进记录) of a customer: record, list (one customer's
 * timeline, or across the caller's scope), view, and edit by their author for 24 hours; each
 * write moves its customer (last and next contact, follow-up status) in the same transaction
 * with a customer.updated event beside the follow-up's own. And the caller's to-dos (待办):
 * counts, and the todo= filter of the customer list. */
#include "followups.h"
#include "dictproj.h"
#include "rules.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The fields a client writes, the ones whose changes followup.updated and the audit keep. */
static const char *const followup_fields[] = {
    "contact_at", "method", "content", "contacts", "next_contact_at", NULL,
};
/* The customer columns a follow-up moves (customer.updated's changes). */
static const char *const moved_fields[] = {
    "last_contact_at", "last_contact_content", "next_contact_at", "followed_up", NULL,
};

static long long caller_id(const struct svc_job *job)
{
    return kit_scope(job).user_id;
}

/* The row as this caller sees it: "editable" when the caller is its author and it is younger
 * than FOLLOWUP_EDIT_HOURS (the repository's "fresh"). */
static void present(json_t *row, long long me)
{
    bool fresh = json_is_true(json_object_get(row, "fresh"));
    bool mine = json_integer_value(json_object_get(row, "author_id")) == me;
    json_object_del(row, "fresh");
    json_object_set_new(row, "editable", json_boolean(fresh && mine));
}

static int followup_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                        json_t **row)
{
    if (repo_followup_get(db, sc, in->id, lock, row) != 0)
        return -1;
    if (*row)
        present(*row, sc->user_id);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the rules of the fields                                                                     */

/* Field 'field' of 'b', when it is a time, as a DATETIME text in 'b' (else a field error). */
static void prepare_time(json_t *b, const char *field, json_t *errors)
{
    char t[RULES_TIME_BYTES];
    json_t *x = json_object_get(b, field);
    if (!json_is_string(x))
        return;
    if (rules_time_parse(json_string_value(x), false, t))
        json_object_set_new(b, field, json_string(t));
    else
        jsonv_error_add(errors, field, JSONV_E_not_time,
                        "must be a time such as 2026-12-03T08:00:00Z");
}

/* The DATETIME text of 'field': the prepared one of 'b' when given, else the record's
 * 'before' (an RFC 3339 text), "" when none or null. */
static void time_of(json_t *b, json_t *before, const char *field, char out[RULES_TIME_BYTES])
{
    json_t *x = json_object_get(b, field);
    out[0] = '\0';
    if (x != NULL) {
        if (json_is_string(x))
            snprintf(out, RULES_TIME_BYTES, "%s", json_string_value(x));
        return;
    }
    x = json_object_get(before, field);
    if (json_is_string(x) && !rules_time_parse(json_string_value(x), false, out))
        out[0] = '\0';
}

/*
 * The shapes of the fields given in 'b' (a create's body, or a patch's with the record as it
 * is in 'before'), into 'errors', and the times prepared as DATETIME texts in 'b': contact_at
 * a time not later than now (give or take FOLLOWUP_SKEW_SECONDS of clock skew),
 * next_contact_at a time after contact_at, content not blank, contact_ids without repeats.
 * No database.
 */
static void check_shapes(json_t *b, json_t *before, json_t *errors)
{
    size_t before_errors = json_array_size(errors);
    prepare_time(b, "contact_at", errors);
    prepare_time(b, "next_contact_at", errors);
    json_t *content = json_object_get(b, "content");
    if (content) {
        const char *s = json_string_value(content);
        size_t n = strspn(s, " \t\r\n");
        /* blank: nothing but spaces (full width ones too, U+3000) */
        while (s[n] != '\0' && strncmp(s + n, "\xe3\x80\x80", 3) == 0)
            n += 3 + strspn(s + n + 3, " \t\r\n");
        if (s[n] == '\0')
            jsonv_error_add(errors, "content", JSONV_E_blank, "must not be blank");
    }
    size_t i, k;
    json_t *id, *other;
    json_array_foreach(json_object_get(b, "contact_ids"), i, id)
    {
        bool repeated = false;
        json_array_foreach(json_object_get(b, "contact_ids"), k, other)
        {
            repeated = repeated || (k < i && json_equal(id, other));
        }
        if (repeated) {
            char f[48];
            snprintf(f, sizeof(f), "contact_ids[%zu]", i);
            jsonv_error_add(errors, f, JSONV_E_repeated_value, "names this contact already");
        }
    }
    if (json_array_size(errors) > before_errors)
        return; /* the times are compared only when both are times */
    char at[RULES_TIME_BYTES], next[RULES_TIME_BYTES], latest[RULES_TIME_BYTES];
    time_t soon = time(NULL) + FOLLOWUP_SKEW_SECONDS;
    struct tm tm;
    gmtime_r(&soon, &tm);
    strftime(latest, sizeof(latest), "%Y-%m-%d %H:%M:%S.999", &tm);
    if (json_is_string(json_object_get(b, "contact_at")) &&
        strcmp(json_string_value(json_object_get(b, "contact_at")), latest) > 0)
        jsonv_error_add(errors, "contact_at", JSONV_E_in_future,
                        "must not be in the future (it is when the contact happened)");
    time_of(b, before, "contact_at", at);
    time_of(b, before, "next_contact_at", next);
    if ((json_object_get(b, "contact_at") || json_object_get(b, "next_contact_at")) && next[0] &&
        strcmp(next, at) <= 0)
        jsonv_error_add(errors, "next_contact_at", JSONV_E_next_before_contact,
                        "must be after contact_at (it is the next contact planned)");
}

/* The method is an enabled value of the dictionary followup_method (the projection of the
 * auth service's dictionary). 0, or -1 on a database error. */
static int check_method(struct db *db, json_t *b, json_t *errors)
{
    const char *v = json_string_value(json_object_get(b, "method"));
    bool valid = false;
    if (v == NULL)
        return 0;
    if (dictproj_valid(db, FOLLOWUP_METHOD_DICT, v, &valid) != 0)
        return -1;
    if (!valid)
        jsonv_error_addp(errors, "method", JSONV_E_not_in_dictionary,
                         json_pack("{s:s}", "dict", FOLLOWUP_METHOD_DICT),
                         "is not a value of the dictionary " FOLLOWUP_METHOD_DICT);
    return 0;
}

/* Every id of contact_ids in 'b' is a contact of customer 'customer_id'. 0 or -1. */
static int check_contacts(struct db *db, long long customer_id, json_t *b, json_t *errors)
{
    json_t *ids = json_object_get(b, "contact_ids"), *found = NULL, *id;
    size_t i;
    if (json_array_size(ids) == 0)
        return 0;
    if (repo_customer_contacts_of(db, customer_id, ids, &found) != 0) {
        json_decref(found);
        return -1;
    }
    json_array_foreach(ids, i, id)
    {
        bool known = false;
        size_t k;
        json_t *f;
        json_array_foreach(found, k, f)
        {
            known = known || json_integer_value(f) == json_integer_value(id);
        }
        if (!known) {
            char field[48];
            snprintf(field, sizeof(field), "contact_ids[%zu]", i);
            jsonv_error_add(errors, field, JSONV_E_not_customer_contact,
                            "is not a contact of this customer");
        }
    }
    json_decref(found);
    return 0;
}

/*
 * After follow-up writes of customer 'before' (read locked, as the API shows it): move its
 * follow-up columns (repo_customer_follow with 'set_next', 'next', 'met_at', 'followed') and,
 * when any moved, add customer.updated with those changes to the outbox of the open
 * transaction. 0 or -1.
 */
static int move_customer(struct svc_worker *w, struct svc_job *job, json_t *before, bool set_next,
                         const char *next, const char *met_at, bool followed)
{
    long long cid = json_integer_value(json_object_get(before, "id"));
    struct events_actor actor = kit_actor(job);
    json_t *after = NULL;
    bool changed = false;
    char sid[32];
    int rc = -1;
    if (repo_customer_follow(&w->db, cid, set_next, next, met_at, followed, &changed) != 0)
        goto out;
    if (!changed) {
        rc = 0;
        goto out;
    }
    if (repo_customer_get(&w->db, NULL, cid, false, false, &after) != 0 || after == NULL)
        goto out;
    json_t *data = json_pack("{s:O, s:O, s:O, s:o}", "name", json_object_get(after, "name"),
                             "manager_id", json_object_get(after, "manager_id"), "version",
                             json_object_get(after, "version"), "changes",
                             kit_changes(before, after, moved_fields));
    snprintf(sid, sizeof(sid), "%lld", cid);
    rc = events_outbox_add(&w->db, job->svc->name, "customer.updated", &actor, "customer", sid,
                           data, job->req->request_id, NULL);
out:
    json_decref(after);
    return rc;
}

/* The contact ids of a row's contacts ([{id, name}]). */
static json_t *contact_ids_of(json_t *row)
{
    json_t *ids = json_array(), *c;
    size_t i;
    json_array_foreach(json_object_get(row, "contacts"), i, c)
    {
        json_array_append(ids, json_object_get(c, "id"));
    }
    return ids;
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/followups, /api/v1/customers/{id}/followups                                     */

static const struct listq_sort followup_sorts[] = {
    {"contact_at", "f.contact_at", LISTQ_TIME, true},
    {"created_at", "f.created_at", LISTQ_TIME, true},
    {"id", "f.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct followup_filter *f = in->extra;
    struct scope sc = kit_scope(job);
    struct listq_result res = {0};
    json_t *customer = NULL, *row;
    size_t i;
    if (in->id) { /* one customer's timeline: the customer itself is in scope and live */
        if (repo_customer_get(&w->db, &sc, in->id, false, false, &customer) != 0)
            goto out;
        if (customer == NULL) {
            svc_job_fail(job, 404, "not_found", "no such customer");
            goto out;
        }
        f->customer_id = in->id;
    }
    if (repo_followups_list(&w->db, &sc, f, &in->page, &res) != 0)
        goto out;
    json_array_foreach(res.items, i, row)
    {
        present(row, sc.user_id);
    }
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(customer);
    json_decref(res.items);
}

static void list_submit(struct http_request *req, struct svc *s, long long customer_id)
{
    struct kit_in *in = kit_in_new(NULL, customer_id);
    struct followup_filter *f = xcalloc(1, sizeof(*f));
    json_t *errors = json_array();
    in->extra = f;
    kit_list_params(req, followup_sorts, &in->page, errors);
    if (customer_id == 0) {
        const char *method = kit_query(req, "method", sizeof(f->method) - 1, errors);
        snprintf(f->method, sizeof(f->method), "%s", method ? method : "");
        f->customer_id = kit_query_id(req, "customer_id", errors);
        f->author_id = kit_query_id(req, "author_id", errors);
        kit_query_time(req, "contact_from", f->contact_from, errors);
        kit_query_time(req, "contact_to", f->contact_to, errors);
    }
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(s, req, list_work, in, kit_in_free);
}

static void list(struct http_request *req, void *arg)
{
    list_submit(req, arg, 0);
}

static void customer_list(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        list_submit(req, arg, id);
}

/* ---- GET /api/v1/followups/{id} ---- */

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "follow-up", followup_get);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

/* ---- POST /api/v1/followups ---- */

#define FOLLOWUP_FIELDS                                                                            \
    {"method", JSONV_STRING, REQ, false, 1, 64, NULL, JSONV_STRING},                               \
        {"content", JSONV_STRING, REQ, false, 1, FOLLOWUP_CONTENT_MAX, NULL, JSONV_STRING},        \
        {"contact_at", JSONV_STRING, REQ, false, 1, 40, NULL, JSONV_STRING},                       \
        {"next_contact_at", JSONV_STRING, false, true, 0, 40, NULL, JSONV_STRING},                 \
    {                                                                                              \
        "contact_ids", JSONV_ARRAY, false, false, 0, FOLLOWUP_CONTACTS_MAX, NULL, JSONV_INT        \
    }

#define REQ true
static const struct jsonv_field create_fields[] = {
    {"customer_id", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    FOLLOWUP_FIELDS,
    JSONV_END,
};
#undef REQ

/* followup.created: what the follow-up says, with its customer's name and manager. */
static json_t *created_data(json_t *row)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "customer_id",
                     json_object_get(row, "customer_id"), "customer_name",
                     json_object_get(row, "customer_name"), "manager_id",
                     json_object_get(row, "manager_id"), "method", json_object_get(row, "method"),
                     "contact_at", json_object_get(row, "contact_at"), "next_contact_at",
                     json_object_get(row, "next_contact_at"), "content",
                     json_object_get(row, "content"), "contact_ids", contact_ids_of(row));
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *customer = NULL, *row = NULL;
    long long id = 0, cid = json_integer_value(json_object_get(b, "customer_id"));
    check_shapes(b, NULL, errors);
    /* the customer is locked first, as a patch of a follow-up does (repo_followup_get) */
    if (db_begin(&w->db) != 0 || check_method(&w->db, b, errors) != 0 ||
        repo_customer_get(&w->db, &sc, cid, false, true, &customer) != 0)
        goto out;
    if (customer == NULL) {
        kit_fail(job, 404, "not_found", "no such customer", NULL, JSONV_E_required, NULL);
        goto out;
    }
    if (check_contacts(&w->db, cid, b, errors) != 0)
        goto out;
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the follow-up is not valid");
        errors = NULL;
        goto out;
    }
    json_t *next = json_object_get(b, "next_contact_at");
    if (repo_followup_insert(&w->db, b, caller_id(job), &id) != 0 ||
        repo_followup_set_contacts(&w->db, id, json_object_get(b, "contact_ids")) != 0 ||
        move_customer(w, job, customer, json_is_string(next), json_string_value(next),
                      json_string_value(json_object_get(b, "contact_at")), true) != 0 ||
        repo_followup_get(&w->db, NULL, id, false, &row) != 0 || row == NULL)
        goto out;
    present(row, caller_id(job));
    if (kit_commit_created(w, job, "followup", id, "followup.created", created_data(row), 201,
                           json_incref(row)) != 0)
        goto out;
out:
    json_decref(errors);
    json_decref(customer);
    json_decref(row);
}

static void create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, create_fields);
    if (body)
        kit_submit(arg, req, create_work, body, 0);
}

/* ---- PATCH /api/v1/followups/{id}: its author, for FOLLOWUP_EDIT_HOURS ---- */

#define REQ false
static const struct jsonv_field patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    FOLLOWUP_FIELDS,
    JSONV_END,
};
#undef REQ

static int patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    json_t *errors = NULL;
    int rc = -1;
    if (json_integer_value(json_object_get(before, "author_id")) != caller_id(job)) {
        kit_fail(job, 403, "not_author", "only its author may edit a follow-up", NULL,
                 JSONV_E_required, NULL);
        goto out;
    }
    if (!json_is_true(json_object_get(before, "editable"))) {
        kit_fail(job, 403, "followup_locked",
                 "a follow-up can be edited for 24 hours after it was recorded", NULL,
                 JSONV_E_required, NULL);
        goto out;
    }
    errors = json_array();
    check_shapes(body, before, errors);
    if (check_method(&w->db, body, errors) != 0 ||
        check_contacts(&w->db, json_integer_value(json_object_get(before, "customer_id")), body,
                       errors) != 0)
        goto out;
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the follow-up is not valid");
        errors = NULL;
        goto out;
    }
    rc = 0;
out:
    json_decref(errors);
    return rc;
}

static int patch_also(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    json_t *ids = json_object_get(body, "contact_ids");
    (void)before;
    return ids ? repo_followup_set_contacts(&w->db, ((struct kit_in *)job->data)->id, ids) : 0;
}

/* The customer follows the edit: its last contact from its latest follow-up, its next
 * contact when this edit set one. */
static int patch_changed(struct svc_worker *w, struct svc_job *job, json_t *after, json_t *changes)
{
    struct kit_in *in = job->data;
    json_t *customer = NULL, *next = json_object_get(in->body, "next_contact_at");
    int rc = -1;
    (void)changes;
    if (repo_customer_get(&w->db, NULL, json_integer_value(json_object_get(after, "customer_id")),
                          false, true, &customer) != 0 ||
        customer == NULL)
        goto out;
    rc = move_customer(w, job, customer, next != NULL, json_string_value(next), NULL, false);
out:
    json_decref(customer);
    return rc;
}

static json_t *patch_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return json_pack("{s:O, s:O, s:O, s:O}", "customer_id", json_object_get(after, "customer_id"),
                     "customer_name", json_object_get(after, "customer_name"), "manager_id",
                     json_object_get(after, "manager_id"), "version",
                     json_object_get(after, "version"));
}

static const struct kit_patch patch_ops = {
    .subject = "followup",
    .event = "followup.updated",
    .fields = followup_fields,
    .get = followup_get,
    .check = patch_check,
    .update = repo_followup_update,
    .also = patch_also,
    .changed = patch_changed,
    .event_data = patch_event_data,
};

static void patch_work(struct svc_worker *w, struct svc_job *job)
{
    kit_patch_work(w, job, &patch_ops);
}

static void patch(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, patch_fields) : NULL;
    if (body)
        kit_submit(arg, req, patch_work, body, id);
}

/* ------------------------------------------------------------------------------------------ */
/* my to-dos                                                                                   */

/* ?tz= minutes east of UTC (-720 to 840), TODO_TZ_DEFAULT_MINUTES when absent. */
static int query_tz(struct http_request *req, json_t *errors)
{
    const char *v = http_query_get(&req->query, "tz");
    long tz = TODO_TZ_DEFAULT_MINUTES;
    if (v && util_parse_long(v, -720, 840, &tz) != 0) {
        jsonv_error_addp(errors, "tz", JSONV_E_out_of_range, jsonv_range(-720, 840),
                         "must be the offset from UTC in minutes, from -720 to 840");
        tz = TODO_TZ_DEFAULT_MINUTES;
    }
    return (int)tz;
}

/* The caller's today, [start, end) as UTC DATETIME texts, at 'tz' minutes east of UTC. */
static void today_of(int tz, char start[32], char end[32])
{
    long long local = (long long)time(NULL) + (long long)tz * 60;
    long long midnight = local - ((local % 86400) + 86400) % 86400 - (long long)tz * 60;
    time_t s = (time_t)midnight, e = (time_t)(midnight + 86400);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(start, 32, "%Y-%m-%d %H:%M:%S.000", &tm);
    gmtime_r(&e, &tm);
    strftime(end, 32, "%Y-%m-%d %H:%M:%S.000", &tm);
}

/* "Moved to me" (转给我的): customers received by a transfer in the last TODO_MOVED_DAYS days
 * and not followed up since: the start of that window as a DATETIME text. */
static void moved_since(char out[32])
{
    time_t t = (time_t)(util_wall_s() - (int64_t)TODO_MOVED_DAYS * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S.000", &tm);
}

void followups_todo_filter(struct http_request *req, struct customer_filter *f, json_t *errors)
{
    const char *todo = kit_query(req, "todo", 16, errors);
    int tz = query_tz(req, errors);
    char start[32], end[32];
    if (todo == NULL || *todo == '\0')
        return;
    today_of(tz, start, end);
    f->mine = 1; /* the caller's own customers, whatever the scene */
    if (strcmp(todo, "today") == 0) {
        snprintf(f->next_from, sizeof(f->next_from), "%s", start);
        snprintf(f->next_to, sizeof(f->next_to), "%s", end);
    } else if (strcmp(todo, "overdue") == 0) {
        f->next_from[0] = '\0';
        snprintf(f->next_to, sizeof(f->next_to), "%s", start);
    } else if (strcmp(todo, "not_followed") == 0) {
        f->followed_up = 0;
    } else if (strcmp(todo, "moved") == 0) {
        f->followed_up = 0;
        moved_since(f->moved_from);
    } else {
        jsonv_error_addp(errors, "todo", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "today, overdue, not_followed, moved"),
                         "must be today, overdue, not_followed or moved");
    }
}

static void todos_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    char start[32], end[32];
    json_t *row = NULL;
    char moved[32];
    today_of(in->variant, start, end);
    moved_since(moved);
    if (repo_todo_counts(&w->db, caller_id(job), start, end, moved, &row) != 0 || row == NULL)
        goto out;
    svc_job_ok(job, 200, json_incref(row));
out:
    json_decref(row);
}

static void todos(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    int tz = query_tz(req, errors);
    if (kit_reject(req, errors))
        return;
    struct kit_in *in = kit_in_new(NULL, 0);
    in->variant = tz;
    svc_submit(arg, req, todos_work, in, kit_in_free);
}

/* GET /api/v1/customers/numbers: the workbench's "my customers" and its two charts (by level,
 * by industry) in one request */
static void numbers_work(struct svc_worker *w, struct svc_job *job)
{
    json_t *out = NULL;
    if (repo_customer_numbers(&w->db, caller_id(job), &out) != 0)
        goto out;
    svc_job_ok(job, 200, json_incref(out));
out:
    json_decref(out);
}

static void numbers(struct http_request *req, void *arg)
{
    svc_submit(arg, req, numbers_work, kit_in_new(NULL, 0), kit_in_free);
}

int followups_routes(struct svc *s)
{
    /* /customers/todos and /numbers are fixed paths: before customers_routes' /customers/{id} */
    return svc_route(s, "GET", "/api/v1/customers/todos", todos) ||
           svc_route(s, "GET", "/api/v1/customers/numbers", numbers) ||
           svc_route(s, "GET", "/api/v1/customers/{id}/followups", customer_list) ||
           svc_route(s, "GET", "/api/v1/followups", list) ||
           svc_route(s, "POST", "/api/v1/followups", create) ||
           svc_route(s, "GET", "/api/v1/followups/{id}", get) ||
           svc_route(s, "PATCH", "/api/v1/followups/{id}", patch);
}
