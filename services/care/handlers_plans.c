/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_plans: care plans (关怀计划): care for one contact, several, or every contact of the
 * customers a filter matches (say every key decision maker of level-A customers for 中秋节),
 * once or repeating every N days, weeks, months or quarters until a date. Creating one makes
 * its first occurrence's tasks at once; the next occurrence appears when the previous one is
 * done (handlers_tasks.c) or its day comes (scan.c). The contacts are those the creator's data
 * scope covers, at every occurrence. */
#include "care.h"
#include "dictproj.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const units[] = {"none", "day", "week", "month", "quarter", NULL};

static const struct jsonv_field filter_fields[] = {
    {"level", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"industry", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"decision_maker", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},
    {"customer_id", JSONV_INT, false, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    JSONV_END,
};

static const struct jsonv_field repeat_fields[] = {
    {"unit", JSONV_STRING, true, false, 1, 16, NULL, JSONV_STRING},
    {"every", JSONV_INT, false, false, 1, 365, NULL, JSONV_STRING},
    {"until", JSONV_STRING, false, true, 10, 10, NULL, JSONV_STRING},
    JSONV_END,
};

static const struct jsonv_field create_fields[] = {
    {"title", JSONV_STRING, true, false, 1, CARE_TITLE_MAX, NULL, JSONV_STRING},
    {"care_type", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"content", JSONV_STRING, false, false, 0, 1000, NULL, JSONV_STRING},
    {"contact_ids", JSONV_ARRAY, false, false, 1, CARE_PLAN_CONTACTS, NULL, JSONV_INT},
    {"filter", JSONV_OBJECT, false, false, 0, 0, filter_fields, JSONV_STRING},
    {"first_at", JSONV_STRING, true, false, 1, 40, NULL, JSONV_STRING},
    {"repeat", JSONV_OBJECT, false, false, 0, 0, repeat_fields, JSONV_STRING},
    JSONV_END,
};

#define PLAN_COLUMNS                                                                               \
    "p.id, p.title, p.care_type, p.content, p.contact_ids, p.filter, p.repeat_unit,"               \
    " p.repeat_every, DATE_FORMAT(p.until, '%Y-%m-%d') AS until, p.first_at, p.next_at,"           \
    " p.occurrences, p.status, p.created_by, COALESCE(su.display_name, '') AS created_by_name,"    \
    " p.created_at, p.updated_at, p.version,"                                                      \
    " (SELECT COUNT(*) FROM care_tasks t WHERE t.plan_id = p.id) AS tasks,"                        \
    " (SELECT COUNT(*) FROM care_tasks t WHERE t.plan_id = p.id AND t.status = 'done') AS done"

static void plan_rows_fix(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        static const char *const cols[] = {"contact_ids", "filter"};
        for (size_t k = 0; k < ARRAY_LEN(cols); k++) {
            const char *t = json_string_value(json_object_get(r, cols[k]));
            json_t *v = t ? json_loads(t, 0, NULL) : NULL;
            json_object_set_new(r, cols[k], v ? v : json_null());
        }
    }
}

/* Plan 'id' as the API shows it, when 'sc' covers its creator. */
static int plan_get(struct db *db, struct scope *sc, long long id, json_t **row)
{
    struct listq q;
    *row = NULL;
    listq_init(&q);
    listq_add(&q, "p.id = ?", &DBP_INT(id), 1);
    if (sc && scope_where(db, &q, sc, "p.created_by", NULL) != 0)
        return -1;
    /* the columns as an argument: they hold DATE_FORMAT's % */
    char *sql = xasprintf("SELECT %s FROM care_plans p"
                          " LEFT JOIN scope_users su ON su.user_id = p.created_by%s",
                          PLAN_COLUMNS, listq_sql(&q));
    json_t *rows = NULL;
    int rc = db_query(db, sql, q.p, q.n, &rows);
    free(sql);
    if (rc == 0 && json_array_size(rows) > 0) {
        plan_rows_fix(rows);
        *row = json_incref(json_array_get(rows, 0));
    }
    json_decref(rows);
    return rc;
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *row = NULL;
    json_t *ids = json_object_get(b, "contact_ids"), *filter = json_object_get(b, "filter");
    json_t *repeat = json_object_get(b, "repeat");
    const char *unit = repeat ? json_string_value(json_object_get(repeat, "unit")) : "none";
    const char *until = json_string_value(json_object_get(repeat, "until"));
    char at[32], us[32], ue[32];
    uint64_t pid = 0;
    long long made = 0;
    bool valid = false;
    if ((ids == NULL) == (filter == NULL))
        jsonv_error_add(errors, "contact_ids", JSONV_E_required,
                        "name the contacts, or give a filter (one of the two)");
    if (!util_one_of(unit, units))
        jsonv_error_addp(errors, "repeat.unit", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "none, day, week, month, quarter"),
                         "must be none, day, week, month or quarter");
    if (!util_time_parse(json_string_value(json_object_get(b, "first_at")), true, at, sizeof(at)))
        jsonv_error_add(errors, "first_at", JSONV_E_not_time,
                        "must be a time such as 2026-12-03T08:00:00Z");
    if (until && !care_day_bounds(until, us, ue))
        jsonv_error_add(errors, "repeat.until", JSONV_E_not_time,
                        "must be a date such as 2027-12-31");
    if (db_begin(&w->db) != 0 ||
        dictproj_valid(&w->db, CARE_TYPE_DICT, json_string_value(json_object_get(b, "care_type")),
                       &valid) != 0)
        goto out;
    if (!valid)
        jsonv_error_addp(errors, "care_type", JSONV_E_not_in_dictionary,
                         json_pack("{s:s}", "dict", CARE_TYPE_DICT),
                         "is not a value of the dictionary care_type");
    /* each contact named is one the caller may see */
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *c = NULL;
        char f[48];
        if (repo_contact_get(&w->db, &sc, json_integer_value(id), &c) != 0)
            goto out;
        snprintf(f, sizeof(f), "contact_ids[%zu]", i);
        if (c == NULL)
            jsonv_error_add(errors, f, JSONV_E_no_such_contact,
                            "is not a contact within your data scope");
        json_decref(c);
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the care plan is not valid");
        errors = NULL;
        goto out;
    }
    char *ids_text = json_dumps(ids ? ids : json_array(), JSON_COMPACT);
    char *filter_text = filter ? json_dumps(filter, JSON_COMPACT) : NULL;
    json_t *every = json_object_get(repeat, "every");
    struct db_param p[] = {
        db_param_json_str(json_object_get(b, "title")),
        db_param_json_str(json_object_get(b, "care_type")),
        db_param_json_str(json_object_get(b, "content")),
        DBP_STR(ids_text),
        filter_text ? DBP_STR(filter_text) : DBP_NULL,
        DBP_STR(unit),
        DBP_INT(json_is_integer(every) ? json_integer_value(every) : 1),
        until ? DBP_STR(until) : DBP_NULL,
        DBP_STR(at),
        DBP_STR(at),
        DBP_INT(sc.user_id),
        DBP_STR(scope_name(sc.kind)),
    };
    int rc = db_exec(&w->db,
                     "INSERT INTO care_plans (title, care_type, content, contact_ids, filter,"
                     " repeat_unit, repeat_every, until, first_at, next_at, created_by,"
                     " creator_scope) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     p, ARRAY_LEN(p), NULL, &pid);
    free(ids_text);
    free(filter_text);
    struct events_actor actor = kit_actor(job);
    if (rc != 0 || care_plan_advance(w, (long long)pid, &actor, &made) != 0 ||
        plan_get(&w->db, NULL, (long long)pid, &row) != 0 || row == NULL)
        goto out;
    json_object_set_new(row, "tasks_made", json_integer(made));
    json_t *data = json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:I}", "title", json_object_get(row, "title"), "care_type",
        json_object_get(row, "care_type"), "repeat_unit", json_object_get(row, "repeat_unit"),
        "contact_ids", json_object_get(row, "contact_ids"), "filter",
        json_object_get(row, "filter"), "tasks_made", (json_int_t)made);
    if (kit_commit_created(w, job, "care_plan", (long long)pid, "care.plan_created", data, 201,
                           json_incref(row)) != 0)
        goto out;
    svc_task_wake(w->svc, CARE_TASK_SCAN);
out:
    json_decref(errors);
    json_decref(row);
}

static void create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, create_fields);
    if (body)
        kit_submit(arg, req, create_work, body, 0);
}

static const struct listq_sort plan_sorts[] = {
    {"created_at", "p.created_at", LISTQ_TIME, true},
    {"id", "p.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static const struct listq_spec plans_spec = {
    .from = "care_plans p",
    .id = "p.id",
    .columns = PLAN_COLUMNS,
    .joins = " LEFT JOIN scope_users su ON su.user_id = p.created_by",
};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    struct listq q;
    struct listq_result res = {0};
    listq_init(&q);
    if (in->key[0])
        listq_eq_str(&q, "p.status", in->key);
    if (scope_where(&w->db, &q, &sc, "p.created_by", NULL) != 0 ||
        listq_run(&w->db, &plans_spec, &q, &in->page, &res) != 0)
        goto out;
    plan_rows_fix(res.items);
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(res.items);
}

static void list(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    json_t *errors = json_array();
    kit_list_params(req, plan_sorts, &in->page, errors);
    const char *st = kit_query(req, "status", 16, errors);
    if (st && *st && strcmp(st, "active") != 0 && strcmp(st, "ended") != 0)
        jsonv_error_addp(errors, "status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "active, ended"), "must be active or ended");
    snprintf(in->key, sizeof(in->key), "%s", st ? st : "");
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

static int plan_of(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                   json_t **row)
{
    (void)lock;
    return plan_get(db, sc, in->id, row);
}

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "care plan", plan_of);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

/* POST /api/v1/care/plans/{id}/end: no further occurrence (its pending tasks stay) */
static void end_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL, *after = NULL;
    if (db_begin(&w->db) != 0 || plan_get(&w->db, &sc, in->id, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such care plan");
        goto out;
    }
    if (db_exec(&w->db,
                "UPDATE care_plans SET status = 'ended', next_at = NULL, version = version + 1"
                " WHERE id = ?",
                &DBP_INT(in->id), 1, NULL, NULL) != 0 ||
        plan_get(&w->db, NULL, in->id, &after) != 0 || after == NULL)
        goto out;
    static const char *const fields[] = {"status", "next_at", NULL};
    if (kit_commit(w, job, "care_plan", in->id, "care.plan_ended",
                   json_pack("{s:O}", "title", json_object_get(after, "title")),
                   kit_changes(row, after, fields)) != 0)
        goto out;
    svc_job_ok(job, 200, json_incref(after));
out:
    json_decref(row);
    json_decref(after);
}

static void end(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, end_work, NULL, id);
}

int plans_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/care/plans", list) ||
           svc_route(s, "POST", "/api/v1/care/plans", create) ||
           svc_route(s, "GET", "/api/v1/care/plans/{id}", get) ||
           svc_route(s, "POST", "/api/v1/care/plans/{id}/end", end);
}
