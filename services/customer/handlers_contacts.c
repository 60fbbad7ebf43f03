/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_contacts: contacts (联系人) of a customer: list (of one customer, and of all in
 * scope), create, view, edit, delete. A contact is seen through its customer: whoever may see
 * the customer sees its contacts, one outside the scope or in the recycle bin answers 404.
 *
 * A customer with contacts has exactly one primary contact: the first contact becomes primary,
 * making another primary clears the previous one in the same transaction, a primary cannot be
 * made not primary (make another one primary instead: 422 primary_required), and deleting the
 * primary promotes the oldest contact left. Deleting a contact others report to clears their
 * reports_to. Each contact such a write changes on the side gets its own contact.updated event
 * with its field-level change (and its version moves), so the audit shows it on that contact. */
#include "customer.h"
#include "rules.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* where a patch's check leaves the full prepared values for the update (a client cannot send
 * it: the body's fields are a closed list) */
#define VALUES_KEY "_values"

/* The fields a client writes, the ones whose changes the events and the audit keep. */
static const char *const contact_fields[] = {
    "name",  "gender", "position", "decision_maker", "reports_to", "mobile",  "telephone",
    "email", "wechat", "birthday", "address",        "notes",      "primary", NULL,
};

static const char *const genders[] = {"", "male", "female", NULL};

/* The latest calendar year anywhere (UTC+14): a birthday of today is never in the future. */
static int this_year(void)
{
    time_t t = time(NULL) + 14 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

/* ------------------------------------------------------------------------------------------ */
/* the rules of the fields                                                                     */

/* The shapes of the fields given in 'b' (a create's or a patch's body) into 'errors'. No
 * database. */
static void check_shapes(json_t *b, json_t *errors)
{
    const char *v;
    struct rules_birthday bd;
    json_t *name = json_object_get(b, "name");
    if (name) {
        char folded[RULES_NAME_BYTES];
        rules_name_fold(json_string_value(name), folded);
        if (folded[0] == '\0')
            jsonv_error_add(errors, "name", JSONV_E_blank, "must not be blank");
    }
    if ((v = json_string_value(json_object_get(b, "gender"))) != NULL && !util_one_of(v, genders))
        jsonv_error_addp(errors, "gender", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", ", male, female"),
                         "must be male, female or '' (not given)");
    fieldcheck_reach(b, errors);
    if ((v = fieldcheck_given(b, "birthday")) != NULL && !rules_birthday_parse(v, this_year(), &bd))
        jsonv_error_add(errors, "birthday", JSONV_E_birthday_format,
                        "must be a date YYYY-MM-DD (a year from 1900 to this one) or MM-DD when"
                        " the year is not known");
}

/* 'reports_to' of 'b', when given and not null, is another contact of customer 'customer_id'
 * and, for contact 'self' (0 for a new one), neither it nor one who reports to it. */
static int check_reports_to(struct db *db, long long self, long long customer_id, json_t *b,
                            json_t *errors)
{
    json_t *rt = json_object_get(b, "reports_to");
    bool belongs = false, cycle = false;
    if (!json_is_integer(rt))
        return 0;
    long long boss = json_integer_value(rt);
    if (boss != self && repo_contact_belongs(db, boss, customer_id, &belongs) != 0)
        return -1;
    if (belongs && self && repo_contact_reports_up(db, boss, self, &cycle) != 0)
        return -1;
    if (boss == self || cycle)
        jsonv_error_add(errors, "reports_to", JSONV_E_reports_to_cycle,
                        "cannot be the contact itself or one who reports to it");
    else if (!belongs)
        jsonv_error_add(errors, "reports_to", JSONV_E_no_such_contact,
                        "is not a contact of the same customer");
    return 0;
}

/* The values of the columns (repo_contact_insert/update) for the contact 'c' as the API
 * shows it (a record with a patch laid over it, or a create's body with the defaults). New. */
static json_t *contact_values(json_t *c)
{
    char folded[RULES_NAME_BYTES], digits[32];
    struct rules_birthday bd = {0, 0, 0};
    const char *birthday = fieldcheck_given(c, "birthday");
    bool born = birthday && rules_birthday_parse(birthday, 9999, &bd); /* checked: shapes */
    rules_name_fold(json_string_value(json_object_get(c, "name")), folded);
    rules_digits(json_string_value(json_object_get(c, "telephone")), digits, sizeof(digits));
    json_t *v = json_object();
    static const char *const copied[] = {"name",      "gender", "position", "reports_to", "mobile",
                                         "telephone", "email",  "wechat",   "address",    "notes"};
    for (size_t i = 0; i < ARRAY_LEN(copied); i++)
        json_object_set(v, copied[i], json_object_get(c, copied[i]));
    json_object_set_new(v, "name_search", json_string(folded));
    json_object_set_new(v, "telephone_digits", json_string(digits));
    json_object_set_new(v, "decision_maker",
                        json_integer(json_is_true(json_object_get(c, "decision_maker"))));
    json_object_set_new(v, "is_primary", json_integer(json_is_true(json_object_get(c, "primary"))));
    json_object_set_new(v, "birth_year", bd.year ? json_integer(bd.year) : json_null());
    json_object_set_new(v, "birth_month", born ? json_integer(bd.month) : json_null());
    json_object_set_new(v, "birth_day", born ? json_integer(bd.day) : json_null());
    return v;
}

/* 'base' (a copy) with the contact fields of 'b' laid over it. New. */
static json_t *overlay(json_t *base, json_t *b)
{
    json_t *c = json_deep_copy(base);
    for (const char *const *f = contact_fields; *f; f++) {
        json_t *x = json_object_get(b, *f);
        if (x)
            json_object_set(c, *f, x);
    }
    return c;
}

/* ------------------------------------------------------------------------------------------ */
/* events                                                                                      */

/* The event data of contact 'row' (besides "changes"): what the care service plans birthday
 * care with, and whose customer it is. New. */
static json_t *event_data(json_t *row)
{
    struct rules_birthday bd = {0, 0, 0};
    const char *birthday = fieldcheck_given(row, "birthday");
    bool born = birthday && rules_birthday_parse(birthday, 9999, &bd);
    json_t *data = json_object();
    static const char *const copied[] = {"customer_id", "customer_name",  "manager_id", "name",
                                         "mobile",      "decision_maker", "primary",    "version"};
    for (size_t i = 0; i < ARRAY_LEN(copied); i++)
        json_object_set(data, copied[i], json_object_get(row, copied[i]));
    json_object_set_new(data, "birth_year", bd.year ? json_integer(bd.year) : json_null());
    json_object_set_new(data, "birth_month", born ? json_integer(bd.month) : json_null());
    json_object_set_new(data, "birth_day", born ? json_integer(bd.day) : json_null());
    return data;
}

static json_t *patch_event_data(json_t *after, const struct kit_in *in)
{
    (void)in;
    return event_data(after);
}

/*
 * A change of contact 'id' that a write on another contact brings ('what'), in the open
 * transaction: the row, and its own contact.updated event with the change. 0 or -1.
 */
static int side_change(struct svc_worker *w, struct svc_job *job, long long id,
                       enum contact_set what)
{
    json_t *before = NULL, *after = NULL;
    struct events_actor actor = kit_actor(job);
    char sid[32];
    int rc = -1;
    snprintf(sid, sizeof(sid), "%lld", id);
    if (repo_contact_get(&w->db, NULL, id, false, &before) != 0 || before == NULL ||
        repo_contact_set(&w->db, id, what) != 0 ||
        repo_contact_get(&w->db, NULL, id, false, &after) != 0 || after == NULL)
        goto out;
    json_t *data = event_data(after);
    json_object_set_new(data, "changes", kit_changes(before, after, contact_fields));
    rc = events_outbox_add(&w->db, job->svc->name, "contact.updated", &actor, "contact", sid, data,
                           job->req->request_id, NULL);
out:
    json_decref(before);
    json_decref(after);
    return rc;
}

/* The side changes of every contact [{id}] of 'ids'. */
static int side_changes(struct svc_worker *w, struct svc_job *job, json_t *ids,
                        enum contact_set what)
{
    size_t i;
    json_t *r;
    json_array_foreach(ids, i, r)
    {
        if (side_change(w, job, json_integer_value(json_object_get(r, "id")), what) != 0)
            return -1;
    }
    return 0;
}

/* Contact 'except' is to be the primary of 'customer_id': the one that is now is not (its
 * side change). 0 or -1. */
static int demote_primary(struct svc_worker *w, struct svc_job *job, long long customer_id,
                          long long except)
{
    json_t *prev = NULL;
    int rc = repo_contact_primary(&w->db, customer_id, &prev);
    long long id = json_integer_value(json_object_get(prev, "id"));
    if (rc == 0 && prev && id != except)
        rc = side_change(w, job, id, CONTACT_SET_NOT_PRIMARY);
    json_decref(prev);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/customers/{id}/contacts                                                         */

static void of_customer_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *customer = NULL, *rows = NULL;
    if (repo_customer_get(&w->db, &sc, in->id, false, false, &customer) != 0)
        goto out;
    if (customer == NULL) {
        svc_job_fail(job, 404, "not_found", "no such customer");
        goto out;
    }
    if (repo_contacts_of(&w->db, in->id, &rows) != 0)
        goto out;
    svc_job_ok(job, 200, json_pack("{s:O}", "items", rows));
out:
    json_decref(customer);
    json_decref(rows);
}

static void of_customer(struct http_request *req, void *arg)
{
    kit_submit_id(arg, req, of_customer_work);
}

/* ---- GET /api/v1/contacts ---- */

static const struct listq_sort contact_sorts[] = {
    {"id", "ct.id", LISTQ_INT, true},
    {"name", "ct.name", LISTQ_STR, false},
    {"created_at", "ct.created_at", LISTQ_TIME, true},
    {"updated_at", "ct.updated_at", LISTQ_TIME, true},
    {NULL, NULL, 0, false},
};

static int contacts_of(struct db *db, struct scope *sc, const struct kit_in *in,
                       struct listq_result *out)
{
    return repo_contacts_list(db, sc, in->extra, &in->page, out);
}

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    kit_list_work(w, job, contacts_of);
}

static void list(struct http_request *req, void *arg)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    struct contact_filter *f = xcalloc(1, sizeof(*f));
    json_t *errors = json_array();
    in->extra = f;
    kit_list_params(req, contact_sorts, &in->page, errors);
    const char *kw = kit_query(req, "keyword", 64, errors);
    snprintf(f->keyword, sizeof(f->keyword), "%s", kw ? kw : "");
    f->customer_id = kit_query_id(req, "customer_id", errors);
    const char *dm = http_query_get(&req->query, "decision_maker");
    f->decision_maker = dm == NULL ? -1 : strcmp(dm, "true") == 0 ? 1 : 0;
    if (dm && strcmp(dm, "true") != 0 && strcmp(dm, "false") != 0)
        jsonv_error_addp(errors, "decision_maker", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "true, false"), "must be true or false");
    const char *month = http_query_get(&req->query, "birthday_month");
    long m = 0;
    if (month && util_parse_long(month, 1, 12, &m) != 0)
        jsonv_error_addp(errors, "birthday_month", JSONV_E_out_of_range, jsonv_range(1, 12),
                         "must be a month from 1 to 12");
    f->birthday_month = (int)m;
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

/* ---- GET /api/v1/contacts/{id} ---- */

static int contact_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                       json_t **row)
{
    return repo_contact_get(db, sc, in->id, lock, row);
}

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "contact", contact_get);
}

static void get(struct http_request *req, void *arg)
{
    kit_submit_id(arg, req, get_work);
}

/* ---- POST /api/v1/contacts ---- */

#define CONTACT_FIELDS                                                                             \
    {"gender", JSONV_STRING, false, false, 0, 6, NULL, JSONV_STRING},                              \
        {"position", JSONV_STRING, false, false, 0, 50, NULL, JSONV_STRING},                       \
        {"decision_maker", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING},                    \
        {"reports_to", JSONV_INT, false, true, 1, KIT_ID_MAX, NULL, JSONV_STRING},                 \
        {"mobile", JSONV_STRING, false, false, 0, 11, NULL, JSONV_STRING},                         \
        {"telephone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},                      \
        {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},                         \
        {"wechat", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},                         \
        {"birthday", JSONV_STRING, false, true, 0, 10, NULL, JSONV_STRING},                        \
        {"address", JSONV_STRING, false, false, 0, 200, NULL, JSONV_STRING},                       \
        {"notes", JSONV_STRING, false, false, 0, 1000, NULL, JSONV_STRING},                        \
    {                                                                                              \
        "primary", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING                              \
    }

static const struct jsonv_field create_fields[] = {
    {"customer_id", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, true, false, 1, 30, NULL, JSONV_STRING},
    CONTACT_FIELDS,
    JSONV_END,
};

/* A new contact's fields before the body is laid over them. */
static json_t *contact_defaults(void)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:n, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:b}", "name",
                     "", "gender", "", "position", "", "decision_maker", false, "reports_to",
                     "mobile", "", "telephone", "", "email", "", "wechat", "", "birthday",
                     "address", "", "notes", "", "primary", false);
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *customer = NULL, *primary = NULL;
    json_t *defaults = contact_defaults(), *c = NULL, *v = NULL, *row = NULL, *none = json_object();
    long long id = 0, cid = json_integer_value(json_object_get(b, "customer_id"));
    check_shapes(b, errors);
    /* the parent first, locked: outside the scope or in the recycle bin is 404, as by id */
    if (db_begin(&w->db) != 0 || repo_customer_get(&w->db, &sc, cid, false, true, &customer) != 0)
        goto out;
    if (customer == NULL) {
        svc_job_fail(job, 404, "not_found", "no such customer");
        goto out;
    }
    if (check_reports_to(&w->db, 0, cid, b, errors) != 0)
        goto out;
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the contact is not valid");
        errors = NULL;
        goto out;
    }
    if (repo_contact_primary(&w->db, cid, &primary) != 0)
        goto out;
    c = overlay(defaults, b);
    /* the first contact is the primary one; a new primary takes the place of the old */
    json_object_set_new(
        c, "primary", json_boolean(primary == NULL || json_is_true(json_object_get(b, "primary"))));
    if (primary && json_is_true(json_object_get(c, "primary")) &&
        demote_primary(w, job, cid, 0) != 0)
        goto out;
    v = contact_values(c);
    json_object_set_new(v, "customer_id", json_integer(cid));
    json_object_set_new(v, "created_by", json_integer(kit_scope(job).user_id));
    if (repo_contact_insert(&w->db, v, &id) != 0 ||
        repo_contact_get(&w->db, NULL, id, false, &row) != 0 || row == NULL)
        goto out;
    json_t *data = event_data(row);
    json_object_set_new(data, "changes", kit_changes(none, row, contact_fields));
    if (kit_commit_created(w, job, "contact", id, "contact.created", data, 201, json_incref(row)) !=
        0)
        goto out;
out:
    json_decref(errors);
    json_decref(customer);
    json_decref(primary);
    json_decref(defaults);
    json_decref(none);
    json_decref(c);
    json_decref(v);
    json_decref(row);
}

static void create(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, create_fields);
    if (body)
        kit_submit(arg, req, create_work, body, 0);
}

/* ---- PATCH /api/v1/contacts/{id} ---- */

static const struct jsonv_field patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 30, NULL, JSONV_STRING},
    CONTACT_FIELDS,
    JSONV_END,
};

/*
 * The rules for the fields sent, then the prepared values of the whole record (VALUES_KEY in
 * 'body'). A contact made primary takes the place of the previous primary here, before the
 * update (the unique key holds one primary a customer at every statement); the customer's row
 * is locked (contact_get), so 'before' is current and a stale version is known now: then
 * nothing is written, and the update answers 409.
 */
static int patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    json_t *errors = json_array();
    long long id = json_integer_value(json_object_get(before, "id"));
    long long cid = json_integer_value(json_object_get(before, "customer_id"));
    bool was = json_is_true(json_object_get(before, "primary"));
    json_t *primary = json_object_get(body, "primary");
    check_shapes(body, errors);
    if (check_reports_to(&w->db, id, cid, body, errors) != 0) {
        json_decref(errors);
        return -1;
    }
    if (was && json_is_false(primary))
        jsonv_error_add(errors, "primary", JSONV_E_primary_required,
                        "a customer keeps one primary contact: make another one primary instead");
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the contact is not valid");
        return -1;
    }
    json_decref(errors);
    json_t *c = overlay(before, body);
    json_object_set_new(body, VALUES_KEY, contact_values(c));
    json_decref(c);
    bool current = json_equal(json_object_get(before, "version"), json_object_get(body, "version"));
    return current && !was && json_is_true(primary) ? demote_primary(w, job, cid, id) : 0;
}

static int patch_update(struct db *db, long long id, long long version, json_t *body,
                        uint64_t *affected)
{
    return repo_contact_update(db, id, version, json_object_get(body, VALUES_KEY), affected);
}

static const struct kit_patch patch_ops = {
    .subject = "contact",
    .event = "contact.updated",
    .fields = contact_fields,
    .get = contact_get,
    .check = patch_check,
    .update = patch_update,
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

/* ---- DELETE /api/v1/contacts/{id}: the row goes (the audit keeps it) ---- */

/* Not kit_delete_work: the contacts that reported to it lose their reports_to, and when it was
 * the primary the oldest one left takes its place after it is gone, each with its own event. */
static void delete_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL, *reporters = NULL, *oldest = NULL, *gone = json_object();
    if (db_begin(&w->db) != 0 || contact_get(&w->db, &sc, in, true, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such contact");
        goto out;
    }
    long long cid = json_integer_value(json_object_get(row, "customer_id"));
    if (repo_contact_ids(&w->db, CONTACT_IDS_REPORTERS, in->id, &reporters) != 0 ||
        side_changes(w, job, reporters, CONTACT_SET_NO_REPORTS_TO) != 0 ||
        repo_contact_delete(&w->db, in->id) != 0)
        goto out;
    if (json_is_true(json_object_get(row, "primary")) &&
        (repo_contact_ids(&w->db, CONTACT_IDS_OLDEST, cid, &oldest) != 0 ||
         side_changes(w, job, oldest, CONTACT_SET_PRIMARY) != 0))
        goto out;
    if (kit_commit(w, job, "contact", in->id, "contact.deleted", event_data(row),
                   kit_changes(row, gone, contact_fields)) != 0)
        goto out;
    svc_job_ok(job, 204, NULL);
out:
    json_decref(row);
    json_decref(reporters);
    json_decref(oldest);
    json_decref(gone);
}

static void delete (struct http_request *req, void *arg)
{
    kit_submit_id(arg, req, delete_work);
}

int contacts_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/customers/{id}/contacts", of_customer) ||
           svc_route(s, "GET", "/api/v1/contacts", list) ||
           svc_route(s, "POST", "/api/v1/contacts", create) ||
           svc_route(s, "GET", "/api/v1/contacts/{id}", get) ||
           svc_route(s, "PATCH", "/api/v1/contacts/{id}", patch) ||
           svc_route(s, "DELETE", "/api/v1/contacts/{id}", delete);
}
