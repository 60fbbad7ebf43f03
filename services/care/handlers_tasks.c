/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_tasks: care tasks (关怀任务): my work (today, overdue, upcoming, done) and the
 * counts, a director's or administrator's within their scope by manager; one task, its trail;
 * a task by hand; the execution loop (record what was done, the customer's feedback and
 * satisfaction, complete, cancel) through the one transition function of care.h; the birthdays
 * of the week; the workbench's numbers; the birthday scan run now. A task outside the
 * caller's scope (on its manager) answers 404. */
#include "care.h"
#include "dictproj.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const satisfactions[] = {"very_satisfied", "satisfied",         "neutral",
                                            "dissatisfied",   "very_dissatisfied", NULL};
static const char *const views[] = {"today", "overdue",   "upcoming", "pending",
                                    "done",  "cancelled", "all",      NULL};

static long long caller_id(const struct svc_job *job)
{
    return kit_scope(job).user_id;
}

/* 'field' of 'b', when given, a value of the care type dictionary. 0 or -1. */
static int check_care_type(struct db *db, json_t *b, const char *field, json_t *errors)
{
    const char *v = json_string_value(json_object_get(b, field));
    bool valid = false;
    if (v == NULL)
        return 0;
    if (dictproj_valid(db, CARE_TYPE_DICT, v, &valid) != 0)
        return -1;
    if (!valid)
        jsonv_error_addp(errors, field, JSONV_E_not_in_dictionary,
                         json_pack("{s:s}", "dict", CARE_TYPE_DICT),
                         "is not a value of the dictionary care_type");
    return 0;
}

/* A text field not blank (when given). */
static void check_not_blank(json_t *b, const char *field, json_t *errors)
{
    const char *v = json_string_value(json_object_get(b, field));
    if (v == NULL)
        return;
    for (; *v; v++) {
        if (*v != ' ' && *v != '\t' && *v != '\n' && *v != '\r')
            return;
    }
    jsonv_error_add(errors, field, JSONV_E_blank, "must not be blank");
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/care/tasks                                                                      */

static const struct listq_sort task_sorts[] = {
    {"planned_at", "t.planned_at", LISTQ_TIME, false},
    {"done_at_sort", "t.updated_at", LISTQ_TIME, true},
    {"created_at", "t.created_at", LISTQ_TIME, true},
    {"id", "t.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct task_filter *f = in->extra;
    struct scope sc = kit_scope(job);
    struct listq_result res = {0};
    f->me = caller_id(job);
    if (repo_tasks_list(&w->db, &sc, f, &in->page, &res) != 0)
        goto out;
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(res.items);
}

static void list(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    struct task_filter *f = xcalloc(1, sizeof(*f));
    json_t *errors = json_array();
    char scene[8];
    in->extra = f;
    kit_list_params(req, task_sorts, &in->page, errors);
    kit_query_copy(req, "view", f->view, sizeof(f->view), errors);
    if (f->view[0] && !util_one_of(f->view, views))
        jsonv_error_addp(errors, "view", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed",
                                   "today, overdue, upcoming, pending, done, cancelled, all"),
                         "must be today, overdue, upcoming, pending, done, cancelled or all");
    kit_query_copy(req, "scene", scene, sizeof(scene), errors);
    if (scene[0] && strcmp(scene, "mine") != 0 && strcmp(scene, "all") != 0)
        jsonv_error_addp(errors, "scene", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "mine, all"), "must be mine or all");
    f->manager_id = kit_query_id(req, "manager_id", errors);
    f->customer_id = kit_query_id(req, "customer_id", errors);
    f->contact_id = kit_query_id(req, "contact_id", errors);
    f->plan_id = kit_query_id(req, "plan_id", errors);
    kit_query_copy(req, "kind", f->kind, sizeof(f->kind), errors);
    kit_query_copy(req, "care_type", f->care_type, sizeof(f->care_type), errors);
    kit_query_time(req, "from", f->from, errors);
    kit_query_time(req, "to", f->to, errors);
    /* my work unless the caller asks for all in their scope, a manager or a customer */
    f->mine = strcmp(scene, "all") != 0 && f->manager_id == 0 && f->customer_id == 0 &&
              f->contact_id == 0 && f->plan_id == 0;
    care_local_day(0, NULL, f->day_start, f->day_end);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

/* GET /api/v1/care/tasks/counts: the caller's own */
static void counts_work(struct svc_worker *w, struct svc_job *job)
{
    char day[16], start[32], end[32], month[32];
    json_t *row = NULL;
    care_local_day(0, day, start, end);
    char first[16];
    snprintf(first, sizeof(first), "%.8s01", day);
    char ms[32], me[32];
    if (!care_day_bounds(first, ms, me))
        return;
    snprintf(month, sizeof(month), "%s", ms);
    if (repo_task_counts(&w->db, caller_id(job), start, end, month, &row) != 0 || row == NULL)
        goto out;
    svc_job_ok(job, 200, json_incref(row));
out:
    json_decref(row);
}

static void counts(struct http_request *req, void *arg)
{
    svc_submit(arg, req, counts_work, kit_in_new(NULL, 0), kit_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* one task                                                                                    */

static int task_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                    json_t **row)
{
    return repo_task_get(db, sc, in->id, lock, row);
}

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "care task", task_get);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

static const struct kit_history_of task_history = {"care_task", "care task", task_get};

static void history(struct http_request *req, void *arg)
{
    kit_history_submit(arg, req, &task_history);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/care/tasks: a task by hand                                                    */

static const struct jsonv_field create_fields[] = {
    {"customer_id", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"contact_id", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"care_type", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"title", JSONV_STRING, true, false, 1, CARE_TITLE_MAX, NULL, JSONV_STRING},
    {"planned_at", JSONV_STRING, true, false, 1, 40, NULL, JSONV_STRING},
    {"content", JSONV_STRING, false, false, 0, CARE_CONTENT_MAX, NULL, JSONV_STRING},
    JSONV_END,
};

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *customer = NULL, *contact = NULL, *row = NULL;
    long long id = 0;
    char at[32];
    check_not_blank(b, "title", errors);
    if (!util_time_parse(json_string_value(json_object_get(b, "planned_at")), true, at, sizeof(at)))
        jsonv_error_add(errors, "planned_at", JSONV_E_not_time,
                        "must be a time such as 2026-12-03T08:00:00Z");
    if (db_begin(&w->db) != 0 || check_care_type(&w->db, b, "care_type", errors) != 0 ||
        repo_customer_get(&w->db, &sc, json_integer_value(json_object_get(b, "customer_id")),
                          &customer) != 0)
        goto out;
    if (customer == NULL) {
        svc_job_fail(job, 404, "not_found", "no such customer");
        goto out;
    }
    json_t *cid = json_object_get(b, "contact_id");
    if (json_is_integer(cid)) {
        if (repo_contact_get(&w->db, &sc, json_integer_value(cid), &contact) != 0)
            goto out;
        if (contact == NULL || !json_equal(json_object_get(contact, "customer_id"),
                                           json_object_get(customer, "customer_id")))
            jsonv_error_add(errors, "contact_id", JSONV_E_no_such_contact,
                            "is not a contact of this customer");
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the care task is not valid");
        errors = NULL;
        goto out;
    }
    json_t *v = json_pack(
        "{s:s, s:O, s:O, s:O, s:O, s:s, s:O, s:I}", "kind", "manual", "customer_id",
        json_object_get(customer, "customer_id"), "manager_id",
        json_object_get(customer, "manager_id"), "care_type", json_object_get(b, "care_type"),
        "title", json_object_get(b, "title"), "planned_at", at, "content",
        json_object_get(b, "content") ? json_object_get(b, "content") : json_string(""),
        "created_by", (json_int_t)caller_id(job));
    if (json_is_integer(cid))
        json_object_set(v, "contact_id", cid);
    int rc = repo_task_insert(&w->db, v, &id);
    json_decref(v);
    if (rc != 0 || id == 0 || repo_task_get(&w->db, NULL, id, false, &row) != 0 || row == NULL ||
        kit_commit_created(w, job, "care_task", id, "care.created", care_task_event_data(row), 201,
                           json_incref(row)) != 0)
        goto out;
    svc_task_wake(w->svc, CARE_TASK_SCAN); /* due today: care.due at once */
out:
    json_decref(errors);
    json_decref(customer);
    json_decref(contact);
    json_decref(row);
}

static void create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, create_fields);
    if (body)
        kit_submit(arg, req, create_work, body, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* the execution loop: POST /api/v1/care/tasks/{id}/record|feedback|complete|cancel            */

static const struct {
    const char *name, *event;
    enum care_action action;
} actions[] = {
    {"record", "care.updated", CARE_RECORD},
    {"feedback", "care.updated", CARE_FEEDBACK},
    {"complete", "care.done", CARE_COMPLETE},
    {"cancel", "care.cancelled", CARE_CANCEL},
};

static const struct jsonv_field action_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"care_type", JSONV_STRING, false, false, 1, 64, NULL, JSONV_STRING},
    {"content", JSONV_STRING, false, false, 0, CARE_CONTENT_MAX, NULL, JSONV_STRING},
    {"feedback", JSONV_STRING, false, false, 0, CARE_FEEDBACK_MAX, NULL, JSONV_STRING},
    {"satisfaction", JSONV_STRING, false, true, 0, 32, NULL, JSONV_STRING},
    {"reason", JSONV_STRING, false, false, 0, CARE_REASON_MAX, NULL, JSONV_STRING},
    JSONV_END,
};

/* The fields each action takes, and those it needs. */
static void check_action(enum care_action a, json_t *b, json_t *before, json_t *errors)
{
    static const char *const takes[][4] = {
        [CARE_RECORD] = {"care_type", "content", NULL},
        [CARE_FEEDBACK] = {"feedback", "satisfaction", NULL},
        [CARE_COMPLETE] = {"care_type", "content", "feedback", "satisfaction"},
        [CARE_CANCEL] = {"reason", NULL},
        [CARE_REOPEN] = {NULL},
    };
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
    {
        bool ok = strcmp(key, "version") == 0;
        for (size_t i = 0; i < 4 && takes[a][i]; i++)
            ok = ok || strcmp(key, takes[a][i]) == 0;
        if (!ok)
            jsonv_error_add(errors, key, JSONV_E_unknown_field, "is not a field of this action");
    }
    const char *sat = json_string_value(json_object_get(b, "satisfaction"));
    if (sat && !util_one_of(sat, satisfactions))
        jsonv_error_addp(errors, "satisfaction", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed",
                                   "very_satisfied, satisfied, neutral, dissatisfied,"
                                   " very_dissatisfied"),
                         "must be one of the satisfaction levels");
    if (a == CARE_RECORD && json_object_get(b, "content") == NULL)
        jsonv_error_add(errors, "content", JSONV_E_required, "say what was done");
    if (a == CARE_FEEDBACK && json_object_get(b, "feedback") == NULL &&
        json_object_get(b, "satisfaction") == NULL)
        jsonv_error_add(errors, "feedback", JSONV_E_required,
                        "give the customer's feedback or satisfaction");
    /* a task is done with what was done: recorded before, or given now */
    const char *content = json_string_value(json_object_get(b, "content"));
    if (a == CARE_COMPLETE &&
        (content ? *content == '\0'
                 : *json_string_value(json_object_get(before, "content")) == '\0'))
        jsonv_error_add(errors, "content", JSONV_E_required,
                        "say what was done before the task is done");
    if (a == CARE_CANCEL && json_object_get(b, "reason") == NULL)
        jsonv_error_add(errors, "reason", JSONV_E_required, "say why it is cancelled");
    check_not_blank(b, "reason", errors);
    check_not_blank(b, "content", errors);
}

static const char *const task_fields[] = {"status",       "care_type", "content",       "feedback",
                                          "satisfaction", "done_at",   "cancel_reason", NULL};

static void action_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *before = NULL, *after = NULL;
    enum care_action a = actions[in->variant].action;
    enum care_status from, to;
    uint64_t affected = 0;
    long long version = json_integer_value(json_object_get(b, "version"));
    if (db_begin(&w->db) != 0 || repo_task_get(&w->db, &sc, in->id, true, &before) != 0)
        goto out;
    if (before == NULL) {
        svc_job_fail(job, 404, "not_found", "no such care task");
        goto out;
    }
    if (care_status_parse(json_string_value(json_object_get(before, "status")), &from) != 0)
        goto out;
    if (care_transition(from, a, &to) != 0) {
        svc_job_fail(job, 409, "invalid_transition", "a %s task cannot be given '%s'",
                     care_status_name(from), actions[in->variant].name);
        kit_fail_extra(job, json_pack("{s:O}", "current", before));
        goto out;
    }
    check_action(a, b, before, errors);
    if (check_care_type(&w->db, b, "care_type", errors) != 0)
        goto out;
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the care task is not valid");
        errors = NULL;
        goto out;
    }
    json_t *v = json_deep_copy(b);
    json_object_del(v, "version");
    json_object_del(v, "reason");
    json_object_set_new(v, "status", json_string(care_status_name(to)));
    if (a == CARE_COMPLETE) {
        char now[32];
        care_now_text(now);
        json_object_set_new(v, "done_at", json_string(now));
    }
    if (a == CARE_CANCEL)
        json_object_set(v, "cancel_reason", json_object_get(b, "reason"));
    int rc = repo_task_update(&w->db, in->id, version, v, &affected);
    json_decref(v);
    if (rc != 0)
        goto out;
    if (affected == 0) {
        svc_job_fail(job, 409, "version_conflict", "the care task was changed meanwhile");
        kit_fail_extra(job, json_pack("{s:O}", "current", before));
        goto out;
    }
    if (repo_task_get(&w->db, NULL, in->id, false, &after) != 0 || after == NULL)
        goto out;
    /* the last done task of a repeating plan's occurrence makes the next one appear */
    json_t *plan = json_object_get(after, "plan_id");
    if (a == CARE_COMPLETE && json_is_integer(plan)) {
        json_t *left = NULL;
        struct db_param p[] = {DBP_INT(json_integer_value(plan)),
                               DBP_INT(json_integer_value(json_object_get(after, "occurrence")))};
        if (db_query_one(&w->db,
                         "SELECT COUNT(*) AS n FROM care_tasks WHERE plan_id = ? AND occurrence = ?"
                         " AND status = 'pending'",
                         p, 2, &left) != 0)
            goto out;
        long long n = json_integer_value(json_object_get(left, "n"));
        json_decref(left);
        struct events_actor actor = kit_actor(job);
        if (n == 0 && care_plan_advance(w, json_integer_value(plan), &actor, NULL) != 0)
            goto out;
    }
    json_t *data = care_task_event_data(after);
    if (a == CARE_CANCEL)
        json_object_set(data, "reason", json_object_get(b, "reason"));
    if (kit_commit(w, job, "care_task", in->id, actions[in->variant].event, data,
                   kit_changes(before, after, task_fields)) != 0)
        goto out;
    svc_job_ok(job, 200, json_incref(after));
out:
    json_decref(errors);
    json_decref(before);
    json_decref(after);
}

static void action(struct http_request *req, void *arg, int variant)
{
    long long id = kit_path_id(req, "id");
    json_t *body = id ? kit_body(req, action_fields) : NULL;
    if (body == NULL)
        return;
    struct kit_in *in = kit_in_new(body, id);
    in->variant = variant;
    svc_submit(arg, req, action_work, in, kit_in_free);
}

static void record(struct http_request *req, void *arg)
{
    action(req, arg, 0);
}
static void feedback(struct http_request *req, void *arg)
{
    action(req, arg, 1);
}
static void complete(struct http_request *req, void *arg)
{
    action(req, arg, 2);
}
static void cancel(struct http_request *req, void *arg)
{
    action(req, arg, 3);
}

/* ------------------------------------------------------------------------------------------ */
/* birthdays, the workbench, the scan                                                          */

static void birthdays_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    char day[16], start[32], end[32];
    json_t *rows = NULL;
    care_local_day(0, day, start, end);
    if (repo_birthdays(&w->db, &sc, day, in->variant, &rows) != 0)
        goto out;
    svc_job_ok(job, 200,
               json_pack("{s:s, s:i, s:O}", "from", day, "days", in->variant, "items", rows));
out:
    json_decref(rows);
}

static void birthdays(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    const char *d = kit_query(req, "days", 4, errors);
    long days = 7;
    if (d && *d && util_parse_long(d, 1, 31, &days) != 0)
        jsonv_error_addp(errors, "days", JSONV_E_out_of_range,
                         json_pack("{s:i, s:i}", "min", 1, "max", 31), "must be 1 to 31");
    if (kit_reject(req, errors))
        return;
    struct kit_in *in = kit_in_new(NULL, 0);
    in->variant = (int)days;
    svc_submit(arg, req, birthdays_work, in, kit_in_free);
}

/* GET /api/v1/care/summary: the workbench's care numbers in one request */
static void summary_work(struct svc_worker *w, struct svc_job *job)
{
    struct scope sc = kit_scope(job);
    char day[16], start[32], end[32], first[16], ms[32], me[32];
    json_t *counts = NULL, *weeks = NULL;
    long long bdays = 0;
    care_local_day(0, day, start, end);
    snprintf(first, sizeof(first), "%.8s01", day);
    if (!care_day_bounds(first, ms, me) ||
        repo_task_counts(&w->db, caller_id(job), start, end, ms, &counts) != 0 ||
        repo_done_per_week(&w->db, caller_id(job), end, 8, &weeks) != 0)
        goto out;
    /* the birthdays of the week among the caller's own customers' contacts, all counted */
    sc.kind = SCOPE_SELF;
    if (repo_birthday_count(&w->db, &sc, day, 7, &bdays) != 0)
        goto out;
    json_t *per = json_array();
    for (int k = 7; k >= 0; k--) {
        long long n = 0;
        size_t i;
        json_t *r;
        json_array_foreach(weeks, i, r)
        {
            if (json_integer_value(json_object_get(r, "weeks_ago")) == k)
                n = json_integer_value(json_object_get(r, "done"));
        }
        json_array_append_new(per, json_pack("{s:i, s:I}", "weeks_ago", k, "done", (json_int_t)n));
    }
    json_object_set_new(counts, "birthdays_week", json_integer((json_int_t)bdays));
    json_object_set_new(counts, "done_per_week", per);
    svc_job_ok(job, 200, json_incref(counts));
out:
    json_decref(counts);
    json_decref(weeks);
}

static void summary(struct http_request *req, void *arg)
{
    svc_submit(arg, req, summary_work, kit_in_new(NULL, 0), kit_in_free);
}

static const struct jsonv_field scan_fields[] = {
    {"date", JSONV_STRING, false, false, 10, 10, NULL, JSONV_STRING},
    JSONV_END,
};

static void scan_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    const struct care_app *app = w->svc->app;
    char day[16], start[32], end[32];
    long long made = 0;
    bool already = false;
    const char *given = json_string_value(json_object_get(in->body, "date"));
    if (given) {
        if (!care_day_bounds(given, start, end)) {
            kit_fail(job, 422, "validation_failed", "the scan is not valid", "date",
                     JSONV_E_not_time, "must be a date such as 2026-12-03");
            return;
        }
        snprintf(day, sizeof(day), "%s", given);
    } else {
        care_local_day(0, day, start, end);
    }
    if (care_scan_day(w, app, day, &made, &already) != 0)
        return;
    svc_task_wake(w->svc, CARE_TASK_SCAN); /* care.due of what is due now */
    svc_job_ok(
        job, 200,
        json_pack("{s:s, s:I, s:b}", "day", day, "made", (json_int_t)made, "already", already));
}

static void scan(struct http_request *req, void *arg)
{
    json_t *body = req->body_len ? kit_body(req, scan_fields) : json_object();
    if (body)
        svc_submit(arg, req, scan_work, kit_in_new(body, 0), kit_in_free);
}

static void scan_state_work(struct svc_worker *w, struct svc_job *job)
{
    const struct care_app *app = w->svc->app;
    char day[16], start[32], end[32];
    json_t *last = NULL;
    care_local_day(0, day, start, end);
    if (db_query_one(&w->db,
                     "SELECT DATE_FORMAT(MAX(day), '%Y-%m-%d') AS last_day FROM care_scan_days",
                     NULL, 0, &last) != 0)
        return;
    svc_job_ok(job, 200,
               json_pack("{s:s, s:s, s:s, s:I, s:O}", "today", day, "tz", app->cfg->scan_tz,
                         "scan_time", app->cfg->scan_time, "lead_days",
                         (json_int_t)app->cfg->lead_days, "last_day",
                         json_object_get(last, "last_day")));
    json_decref(last);
}

static void scan_state(struct http_request *req, void *arg)
{
    svc_submit(arg, req, scan_state_work, kit_in_new(NULL, 0), kit_in_free);
}

int tasks_routes(struct svc *s)
{
    /* the fixed paths before {id} */
    return svc_route(s, "GET", "/api/v1/care/tasks/counts", counts) ||
           svc_route(s, "GET", "/api/v1/care/tasks", list) ||
           svc_route(s, "POST", "/api/v1/care/tasks", create) ||
           svc_route(s, "GET", "/api/v1/care/tasks/{id}", get) ||
           svc_route(s, "GET", "/api/v1/care/tasks/{id}/history", history) ||
           svc_route(s, "POST", "/api/v1/care/tasks/{id}/record", record) ||
           svc_route(s, "POST", "/api/v1/care/tasks/{id}/feedback", feedback) ||
           svc_route(s, "POST", "/api/v1/care/tasks/{id}/complete", complete) ||
           svc_route(s, "POST", "/api/v1/care/tasks/{id}/cancel", cancel) ||
           svc_route(s, "GET", "/api/v1/care/birthdays", birthdays) ||
           svc_route(s, "GET", "/api/v1/care/summary", summary) ||
           svc_route(s, "GET", "/api/v1/care/scan", scan_state) ||
           svc_route(s, "POST", "/api/v1/care/scan", scan);
}
