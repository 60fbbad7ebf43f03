/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_transfers: transfers (客户转移): a manager or director moves the customers they pick
 * to a receiver with a reason, completed in the request; an administrator or director hands
 * over all of a manager's customers, or those a filter matches, to one or several receivers as
 * a job (handover.c works through it); the history of every customer moved. Each customer
 * moved is a transfer.completed event, written in the transaction that records it: the
 * customer service changes the owner from it, exactly once. */
#include "transfer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERM_HANDOVER "transfer:transfer:handover"

/* ------------------------------------------------------------------------------------------ */
/* the rules                                                                                   */

/* The reason, trimmed, into 'out' ("" when blank: a field error). */
static void check_reason(json_t *b, char out[4 * TRANSFER_REASON_MAX + 1], json_t *errors)
{
    const char *r = json_string_value(json_object_get(b, "reason"));
    size_t n = r ? strlen(r) : 0;
    while (r && n && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')) {
        r++;
        n--;
    }
    while (n && (r[n - 1] == ' ' || r[n - 1] == '\t' || r[n - 1] == '\n' || r[n - 1] == '\r'))
        n--;
    snprintf(out, 4 * TRANSFER_REASON_MAX + 1, "%.*s", (int)n, r ? r : "");
    if (out[0] == '\0')
        jsonv_error_add(errors, "reason", JSONV_E_blank, "must say why the customers move");
}

/* Receiver 'id' (field 'field'): an active customer manager, inside the caller's scope unless
 * the caller is a manager (SELF), who hands over to any colleague. '*u' is the receiver. */
static int check_receiver(struct db *db, struct scope *sc, long long id, const char *field,
                          struct scope_user *u, json_t *errors)
{
    if (scope_user_get(db, sc->kind == SCOPE_SELF ? NULL : sc, id, u) != 0)
        return -1;
    if (!u->found)
        jsonv_error_add(errors, field, JSONV_E_no_such_user,
                        "is not a user within your data scope");
    else if (!u->enabled || !scope_user_has_role(u, TRANSFER_RECEIVER_ROLE))
        jsonv_error_add(errors, field, JSONV_E_not_a_receiver,
                        "must be an active user holding the customer manager role");
    return 0;
}

json_t *transfer_completed_data(long long transfer_id, json_t *c, long long to, long long to_dept,
                                const char *reason)
{
    char now[32];
    util_format_time(util_wall_s(), now, sizeof(now));
    return json_pack("{s:I, s:O, s:O, s:O, s:I, s:I, s:s, s:s}", "transfer_id",
                     (json_int_t)transfer_id, "customer_id", json_object_get(c, "customer_id"),
                     "customer_name", json_object_get(c, "name"), "from_manager_id",
                     json_object_get(c, "manager_id"), "to_manager_id", (json_int_t)to,
                     "to_dept_id", (json_int_t)to_dept, "reason", reason, "completed_at", now);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/transfers: the customers picked, to one receiver                              */

static const struct jsonv_field create_fields[] = {
    {"customer_ids", JSONV_ARRAY, true, false, 1, TRANSFER_SELECT_MAX, NULL, JSONV_INT},
    {"to_manager_id", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"reason", JSONV_STRING, true, false, 1, TRANSFER_REASON_MAX, NULL, JSONV_STRING},
    JSONV_END,
};

/* Each id of 'ids' (field 'name') once, and a positive id. */
static void check_ids(json_t *ids, const char *name, json_t *errors)
{
    size_t i, k;
    json_t *a, *b;
    json_array_foreach(ids, i, a)
    {
        char f[48];
        snprintf(f, sizeof(f), "%s[%zu]", name, i);
        bool repeated = false;
        json_array_foreach(ids, k, b)
        {
            repeated = repeated || (k < i && json_equal(a, b));
        }
        if (json_integer_value(a) < 1)
            jsonv_error_add(errors, f, JSONV_E_not_id, "is not an id");
        else if (repeated)
            jsonv_error_add(errors, f, JSONV_E_repeated_value, "is already in the list");
    }
}

/* The locked row of customer 'id' among 'rows', or NULL. */
static json_t *row_of(json_t *rows, json_int_t id)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (json_integer_value(json_object_get(r, "customer_id")) == id)
            return r;
    }
    return NULL;
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *rows = NULL, *items = json_array(), *row = NULL;
    json_t *ids = json_object_get(b, "customer_ids");
    long long to = json_integer_value(json_object_get(b, "to_manager_id")), tid = 0;
    char reason[4 * TRANSFER_REASON_MAX + 1];
    struct scope_user receiver;
    check_reason(b, reason, errors);
    check_ids(ids, "customer_ids", errors);
    if (db_begin(&w->db) != 0 ||
        check_receiver(&w->db, &sc, to, "to_manager_id", &receiver, errors) != 0)
        goto out;
    /* the customers, locked: a concurrent transfer of one of them waits here, then finds it
     * moved (another owner: outside a manager's scope; the receiver's already) */
    if (json_array_size(errors) == 0 && repo_owners_lock(&w->db, &sc, ids, &rows) != 0)
        goto out;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        char f[48];
        snprintf(f, sizeof(f), "customer_ids[%zu]", i);
        json_t *r = rows ? row_of(rows, json_integer_value(id)) : NULL;
        if (rows && r == NULL)
            jsonv_error_add(errors, f, JSONV_E_no_such_customer,
                            "is not a customer you may transfer (outside your data scope,"
                            " in the recycle bin, or no longer yours)");
        else if (r && json_integer_value(json_object_get(r, "manager_id")) == to)
            jsonv_error_add(errors, f, JSONV_E_same_owner, "already belongs to the receiver");
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the transfer is not valid");
        errors = NULL;
        goto out;
    }
    json_t *v = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "kind", "select", "status", "completed",
                          "reason", reason, "operator_id", (json_int_t)sc.user_id, "operator_scope",
                          scope_name(sc.kind), "total", (json_int_t)json_array_size(rows));
    int rc = repo_transfer_insert(&w->db, v, &tid);
    json_decref(v);
    if (rc != 0 || db_exec(&w->db, "UPDATE transfers SET done = total WHERE id = ?", &DBP_INT(tid),
                           1, NULL, NULL) != 0)
        goto out;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        long long item = 0, cid = json_integer_value(json_object_get(r, "customer_id"));
        if (repo_item_insert(&w->db, tid, r, to, NULL, &item) != 0 ||
            ownerproj_move(&w->db, cid, to, tid, NULL) != 0 ||
            kit_event(w, job, "customer", cid, "transfer.completed",
                      transfer_completed_data(tid, r, to, receiver.dept_id, reason), NULL) != 0)
            goto out;
        json_array_append_new(items, json_pack("{s:I, s:O, s:O, s:O, s:I}", "id", (json_int_t)item,
                                               "customer_id", json_object_get(r, "customer_id"),
                                               "customer_name", json_object_get(r, "name"),
                                               "from_manager_id", json_object_get(r, "manager_id"),
                                               "to_manager_id", (json_int_t)to));
    }
    if (repo_transfer_get(&w->db, NULL, tid, &row) != 0 || row == NULL)
        goto out;
    json_object_set(row, "items", items);
    json_object_set_new(row, "to_manager_id", json_integer(to));
    json_object_set_new(row, "to_manager_name", json_string(receiver.display_name));
    if (kit_commit_created(w, job, "transfer", tid, NULL, NULL, 201, json_incref(row)) != 0)
        goto out;
out:
    json_decref(errors);
    json_decref(rows);
    json_decref(items);
    json_decref(row);
}

static void create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, create_fields);
    if (body)
        kit_submit(arg, req, create_work, body, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/transfers/handover and its preview                                            */

static const char *const filter_keys[] = {"industry", "source",   "level",
                                          "status",   "province", "city"};

static const struct jsonv_field filter_fields[] = {
    {"industry", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"source", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"level", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},
    {"status", JSONV_STRING, false, false, 0, 16, NULL, JSONV_STRING},
    {"province", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    {"city", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},
    JSONV_END,
};

static const struct jsonv_field handover_fields[] = {
    {"from_manager_id", JSONV_INT, false, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"filter", JSONV_OBJECT, false, false, 0, 0, filter_fields, JSONV_STRING},
    {"to_manager_ids", JSONV_ARRAY, true, false, 1, TRANSFER_RECEIVERS_MAX, NULL, JSONV_INT},
    {"reason", JSONV_STRING, true, false, 1, TRANSFER_REASON_MAX, NULL, JSONV_STRING},
    JSONV_END,
};

/* 'f' from a hand-over's owner and filter object. */
void handover_filter(long long from, json_t *filter, struct owner_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->manager_id = from;
    char *dst[] = {f->industry, f->source, f->level, f->status, f->province, f->city};
    size_t sizes[] = {sizeof(f->industry), sizeof(f->source),   sizeof(f->level),
                      sizeof(f->status),   sizeof(f->province), sizeof(f->city)};
    for (size_t i = 0; i < ARRAY_LEN(filter_keys); i++) {
        const char *v = json_string_value(json_object_get(filter, filter_keys[i]));
        snprintf(dst[i], sizes[i], "%s", v ? v : "");
    }
}

void handover_exclude(struct owner_filter *f, json_t *ids)
{
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        if (f->nexclude < TRANSFER_RECEIVERS_MAX)
            f->exclude[f->nexclude++] = json_integer_value(id);
    }
}

/* Whether 'f' selects by anything: a hand-over of "every customer in my scope" must be asked
 * for by naming at least the owner or one filter. */
static bool selects(const struct owner_filter *f)
{
    return f->manager_id || f->industry[0] || f->source[0] || f->level[0] || f->status[0] ||
           f->province[0] || f->city[0];
}

static void handover_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *row = NULL;
    json_t *to = json_object_get(b, "to_manager_ids");
    long long from = json_integer_value(json_object_get(b, "from_manager_id")), tid = 0, n = 0;
    char reason[4 * TRANSFER_REASON_MAX + 1];
    struct owner_filter f;
    handover_filter(from, json_object_get(b, "filter"), &f);
    handover_exclude(&f, to);
    check_reason(b, reason, errors);
    check_ids(to, "to_manager_ids", errors);
    if (!selects(&f))
        jsonv_error_add(errors, "from_manager_id", JSONV_E_required,
                        "name whose customers move, or a filter");
    if (db_begin(&w->db) != 0)
        goto out;
    if (from) {
        struct scope_user giver;
        if (scope_user_get(&w->db, &sc, from, &giver) != 0)
            goto out;
        if (!giver.found)
            jsonv_error_add(errors, "from_manager_id", JSONV_E_no_such_user,
                            "is not a user within your data scope");
    }
    size_t i;
    json_t *id;
    json_array_foreach(to, i, id)
    {
        char field[48];
        struct scope_user u;
        snprintf(field, sizeof(field), "to_manager_ids[%zu]", i);
        if (check_receiver(&w->db, &sc, json_integer_value(id), field, &u, errors) != 0)
            goto out;
        if (json_integer_value(id) == from)
            jsonv_error_add(errors, field, JSONV_E_same_owner,
                            "is the manager whose customers move");
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the hand-over is not valid");
        errors = NULL;
        goto out;
    }
    if (repo_owners_count(&w->db, &sc, &f, &n) != 0)
        goto out;
    json_t *filter = json_object();
    for (size_t k = 0; k < ARRAY_LEN(filter_keys); k++) {
        json_t *v = json_object_get(json_object_get(b, "filter"), filter_keys[k]);
        if (json_is_string(v) && json_string_length(v) > 0)
            json_object_set(filter, filter_keys[k], v);
    }
    json_t *v = json_pack("{s:s, s:s, s:s, s:I, s:s, s:O, s:o, s:I}", "kind", "handover", "status",
                          "queued", "reason", reason, "operator_id", (json_int_t)sc.user_id,
                          "operator_scope", scope_name(sc.kind), "receivers", to, "filter", filter,
                          "total", (json_int_t)n);
    if (from)
        json_object_set_new(v, "from_manager_id", json_integer(from));
    int rc = repo_transfer_insert(&w->db, v, &tid);
    json_decref(v);
    if (rc != 0 || repo_transfer_get(&w->db, NULL, tid, &row) != 0 || row == NULL)
        goto out;
    json_t *data = json_pack("{s:I, s:O, s:O, s:O, s:I, s:s}", "transfer_id", (json_int_t)tid,
                             "from_manager_id", json_object_get(row, "from_manager_id"),
                             "to_manager_ids", to, "filter", json_object_get(row, "filter"),
                             "total", (json_int_t)n, "reason", reason);
    if (kit_commit_created(w, job, "transfer", tid, "transfer.handover_queued", data, 202,
                           json_incref(row)) != 0)
        goto out;
    svc_task_wake(w->svc, TRANSFER_TASK);
out:
    json_decref(errors);
    json_decref(row);
}

static void handover(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, handover_fields);
    if (body)
        kit_submit(arg, req, handover_work, body, 0);
}

/* GET /api/v1/transfers/handover/preview?from_manager_id=&level=...: how many would move. */
static void preview_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    long long n = 0;
    if (repo_owners_count(&w->db, &sc, in->extra, &n) != 0)
        return;
    svc_job_ok(job, 200, json_pack("{s:I}", "total", (json_int_t)n));
}

static void preview(struct http_request *req, void *arg)
{
    json_t *errors = json_array(), *filter = json_object();
    long long from = kit_query_id(req, "from_manager_id", errors);
    for (size_t i = 0; i < ARRAY_LEN(filter_keys); i++) {
        const char *v = kit_query(req, filter_keys[i], 64, errors);
        if (v && *v)
            json_object_set_new(filter, filter_keys[i], json_string(v));
    }
    struct owner_filter *f = xcalloc(1, sizeof(*f));
    handover_filter(from, filter, f);
    json_decref(filter);
    if (!selects(f))
        jsonv_error_add(errors, "from_manager_id", JSONV_E_required,
                        "name whose customers move, or a filter");
    if (kit_reject(req, errors)) {
        free(f);
        return;
    }
    struct kit_in *in = kit_in_new(NULL, 0);
    in->extra = f;
    svc_submit(arg, req, preview_work, in, kit_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/transfers: the customers moved; GET /api/v1/transfers/{id}                     */

static const struct listq_sort item_sorts[] = {
    {"created_at", "ti.created_at", LISTQ_TIME, true},
    {"customer_name", "ti.customer_name", LISTQ_STR, false},
    {"id", "ti.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static int items_of(struct db *db, struct scope *sc, const struct kit_in *in,
                    struct listq_result *out)
{
    return repo_items_list(db, sc, in->extra, &in->page, out);
}

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    kit_list_work(w, job, items_of);
}

static void list(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    struct item_filter *f = xcalloc(1, sizeof(*f));
    json_t *errors = json_array();
    in->extra = f;
    kit_list_params(req, item_sorts, &in->page, errors);
    f->customer_id = kit_query_id(req, "customer_id", errors);
    f->transfer_id = kit_query_id(req, "transfer_id", errors);
    f->from_manager_id = kit_query_id(req, "from_manager_id", errors);
    f->to_manager_id = kit_query_id(req, "to_manager_id", errors);
    f->manager_id = kit_query_id(req, "manager_id", errors);
    const char *kw = kit_query(req, "keyword", sizeof(f->keyword) - 1, errors);
    snprintf(f->keyword, sizeof(f->keyword), "%s", kw ? kw : "");
    const char *st = kit_query(req, "status", sizeof(f->status) - 1, errors);
    snprintf(f->status, sizeof(f->status), "%s", st ? st : "");
    if (f->status[0] && strcmp(f->status, "completed") != 0 && strcmp(f->status, "failed") != 0)
        jsonv_error_addp(errors, "status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "completed, failed"),
                         "must be completed or failed");
    kit_query_time(req, "created_from", f->created_from, errors);
    kit_query_time(req, "created_to", f->created_to, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

/* GET /api/v1/transfers/handover: the hand-overs, newest first (any browser, any device) */

static const struct listq_sort handover_sorts[] = {
    {"created_at", "t.created_at", LISTQ_TIME, true},
    {"id", "t.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static int handovers_of(struct db *db, struct scope *sc, const struct kit_in *in,
                        struct listq_result *out)
{
    return repo_handovers_list(db, sc, &in->page, out);
}

static void handovers_work(struct svc_worker *w, struct svc_job *job)
{
    kit_list_work(w, job, handovers_of);
}

static void handovers(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    json_t *errors = json_array();
    kit_list_params(req, handover_sorts, &in->page, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, handovers_work, in, kit_in_free);
}

static int transfer_of(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                       json_t **row)
{
    (void)lock;
    return repo_transfer_get(db, sc, in->id, row);
}

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "transfer", transfer_of);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/transfers/receivers?keyword=: the picker of receivers                          */

static void receivers_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *rows = NULL;
    if (repo_receivers(&w->db, sc.kind == SCOPE_SELF ? NULL : &sc, in->extra ? in->extra : "",
                       TRANSFER_RECEIVER_ROLE, &rows) != 0)
        goto out;
    svc_job_ok(job, 200, json_pack("{s:O}", "items", rows));
out:
    json_decref(rows);
}

static void receivers(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    const char *kw = kit_query(req, "keyword", 64, errors);
    if (kit_reject(req, errors))
        return;
    struct kit_in *in = kit_in_new(NULL, 0);
    in->extra = xstrdup(kw ? kw : "");
    svc_submit(arg, req, receivers_work, in, kit_in_free);
}

int transfers_routes(struct svc *s)
{
    /* the fixed paths before {id} */
    return svc_route(s, "GET", "/api/v1/transfers/receivers", receivers) ||
           svc_route(s, "GET", "/api/v1/transfers/handover/preview", preview) ||
           svc_route(s, "POST", "/api/v1/transfers/handover", handover) ||
           svc_route(s, "GET", "/api/v1/transfers/handover", handovers) ||
           svc_route(s, "GET", "/api/v1/transfers", list) ||
           svc_route(s, "POST", "/api/v1/transfers", create) ||
           svc_route(s, "GET", "/api/v1/transfers/{id}", get);
}
