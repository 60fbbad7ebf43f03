/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_customers: customers (客户): create, list and search, view, edit, delete to the
 * recycle bin and restore, and the picker, always inside the caller's data scope on the
 * customer's manager: a customer outside it is never listed, counted or picked, and asking for
 * it by id answers 404. */
#include "customer.h"
#include "dictproj.h"
#include "followups.h"
#include "regions.h"
#include "rules.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERM_FORCE_DUPLICATE "customer:customer:force_duplicate"
/* the key under which a check hands the matched duplicates of a forced save to the event (a
 * client cannot send it: the body's fields are a closed list) */
#define DUPS_KEY "_duplicates"

/* The fields a client writes, the ones whose changes the events and the audit keep. */
static const char *const customer_fields[] = {
    "name",    "credit_code", "industry",        "source",      "level",     "province",
    "city",    "district",    "address",         "telephone",   "mobile",    "email",
    "website", "wechat",      "status",          "deal_status", "deal_time", "manager_id",
    "tags",    "notes",       "next_contact_at", NULL,
};

static const char *const statuses[] = {"potential", "active", "at_risk", "lost", NULL};
static const char *const deal_statuses[] = {"undealt", "dealt", NULL};

/* The dictionary each dictionary field takes its values from (services/auth/dicts.tsv). */
static const struct {
    const char *field, *dict;
} dict_fields[] = {
    {"industry", "industry"},
    {"source", "customer_source"},
    {"level", "customer_level"},
};

/* The caller's user id (the owner of what they create). */
static long long caller_id(const struct svc_job *job)
{
    return kit_scope(job).user_id;
}

/* ------------------------------------------------------------------------------------------ */
/* the rules of the fields                                                                     */

/* The shapes of the fields given in 'b' (a create's or a patch's body), into 'errors', and the
 * prepared values in 'b': the credit code in upper case, times as DATETIME texts, and the
 * derived columns (name_search, name_norm, telephone_digits). No database. */
static void check_shapes(json_t *b, json_t *errors)
{
    const char *v;
    json_t *name = json_object_get(b, "name");
    if (name) {
        char folded[RULES_NAME_BYTES], norm[RULES_NAME_BYTES];
        rules_name_fold(json_string_value(name), folded);
        rules_name_norm(folded, norm);
        if (folded[0] == '\0')
            jsonv_error_add(errors, "name", JSONV_E_blank, "must not be blank");
        json_object_set_new(b, "name_search", json_string(folded));
        json_object_set_new(b, "name_norm", json_string(norm));
    }
    if ((v = fieldcheck_given(b, "credit_code")) != NULL) {
        char up[24];
        size_t n = 0;
        for (; v[n] && n + 1 < sizeof(up); n++)
            up[n] = v[n] >= 'a' && v[n] <= 'z' ? (char)(v[n] - 'a' + 'A') : v[n];
        up[n] = '\0';
        if (!rules_credit_code_valid(up))
            jsonv_error_add(errors, "credit_code", JSONV_E_credit_code_format,
                            "is not a unified social credit code (18 characters with a valid"
                            " check character)");
        json_object_set_new(b, "credit_code", json_string(up));
    }
    fieldcheck_reach(b, errors);
    if (json_object_get(b, "telephone")) {
        char digits[32];
        rules_digits(json_string_value(json_object_get(b, "telephone")), digits, sizeof(digits));
        json_object_set_new(b, "telephone_digits", json_string(digits));
    }
    if ((v = fieldcheck_given(b, "website")) != NULL && !rules_website_valid(v))
        jsonv_error_add(errors, "website", JSONV_E_not_url, "is not a web address");
    if ((v = json_string_value(json_object_get(b, "status"))) != NULL && !util_one_of(v, statuses))
        jsonv_error_addp(errors, "status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "potential, active, at_risk, lost"),
                         "must be potential, active, at_risk or lost");
    if ((v = json_string_value(json_object_get(b, "deal_status"))) != NULL &&
        !util_one_of(v, deal_statuses))
        jsonv_error_addp(errors, "deal_status", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "undealt, dealt"),
                         "must be undealt or dealt");
    static const char *const times[] = {"deal_time", "next_contact_at"};
    for (size_t i = 0; i < ARRAY_LEN(times); i++) {
        char t[RULES_TIME_BYTES];
        json_t *x = json_object_get(b, times[i]);
        if (!json_is_string(x))
            continue;
        if (rules_time_parse(json_string_value(x), false, t))
            json_object_set_new(b, times[i], json_string(t));
        else
            jsonv_error_add(errors, times[i], JSONV_E_not_time,
                            "must be a time such as 2026-12-03T08:00:00Z");
    }
    size_t i, k;
    json_t *tag, *other;
    json_array_foreach(json_object_get(b, "tags"), i, tag)
    {
        char f[32];
        snprintf(f, sizeof(f), "tags[%zu]", i);
        size_t n = rules_chars(json_string_value(tag));
        bool repeated = false;
        json_array_foreach(json_object_get(b, "tags"), k, other)
        {
            repeated = repeated || (k < i && json_equal(tag, other));
        }
        if (n < 1 || n > 20)
            jsonv_error_addp(errors, f, JSONV_E_length,
                             json_pack("{s:i, s:i}", "min", 1, "max", 20),
                             "must be 1 to 20 characters long");
        else if (repeated)
            jsonv_error_add(errors, f, JSONV_E_repeated_value, "is already a tag of this customer");
    }
}

/* The dictionary fields given in 'b' are enabled values of their dictionaries (the projection
 * of the auth service's dictionary). 0, or -1 on a database error. */
static int check_dicts(struct db *db, json_t *b, json_t *errors)
{
    for (size_t i = 0; i < ARRAY_LEN(dict_fields); i++) {
        const char *v = fieldcheck_given(b, dict_fields[i].field);
        bool valid = false;
        if (v == NULL)
            continue;
        if (dictproj_valid(db, dict_fields[i].dict, v, &valid) != 0)
            return -1;
        if (!valid) {
            char msg[128];
            snprintf(msg, sizeof(msg), "is not a value of the dictionary %s", dict_fields[i].dict);
            jsonv_error_addp(errors, dict_fields[i].field, JSONV_E_not_in_dictionary,
                             json_pack("{s:s}", "dict", dict_fields[i].dict), msg);
        }
    }
    return 0;
}

/* The manager of a new customer is a user in the caller's scope (SELF: the caller). */
static int check_manager(struct db *db, struct scope *sc, long long manager, json_t *errors)
{
    bool in = false;
    if (repo_user_in_scope(db, sc, manager, &in) != 0)
        return -1;
    if (!in)
        jsonv_error_add(errors, "manager_id", JSONV_E_outside_scope,
                        "is not a user within your data scope");
    return 0;
}

/* String field 'field' of 'b', "" when absent or null. */
static const char *str_of(json_t *b, const char *field)
{
    json_t *v = json_object_get(b, field);
    return json_is_string(v) ? json_string_value(v) : "";
}

/*
 * The duplicate rule (credit code, normalised name, mobile, telephone) for the prepared
 * values of 'b' (check_shapes) of customer 'id' (0: a create). A match answers 409
 * duplicate with the matches, each {id, name, manager_name, rule, in_recycle_bin} and the
 * customer itself when the caller may see it; a caller holding force_duplicate who sent
 * "force_duplicate": true saves anyway (not over a credit code, which stays unique), and the
 * matches go to the event (under DUPS_KEY in 'b'). 0 to go on, -1 when refused or on a
 * database error.
 */
static int check_duplicates(struct svc_worker *w, struct svc_job *job, struct scope *sc,
                            long long id, json_t *b)
{
    json_t *rows = NULL, *shown = json_array();
    bool forceable = true;
    int rc = -1;
    /* a create checks every rule; a patch the rules of the fields it changes (an edit of the
     * address does not trip over a duplicate saved anyway before) */
    char name_norm[RULES_NAME_BYTES], digits[32];
    const char *code = str_of(b, "credit_code"), *mobile = str_of(b, "mobile");
    snprintf(name_norm, sizeof(name_norm), "%s", str_of(b, "name_norm"));
    rules_digits(str_of(b, "telephone"), digits, sizeof(digits));
    if (!*code && !*name_norm && !*mobile && !*digits) {
        rc = 0;
        goto out;
    }
    if (repo_customer_duplicates(&w->db, id, code, name_norm, mobile, digits, &rows) != 0)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        bool deleted = json_is_true(json_object_get(r, "deleted"));
        json_t *seen = NULL;
        forceable = forceable && strcmp(rule, "credit_code") != 0;
        if (!deleted && repo_customer_get(&w->db, sc, json_integer_value(json_object_get(r, "id")),
                                          false, false, &seen) != 0)
            goto out;
        json_t *m =
            json_pack("{s:O, s:O, s:O, s:s, s:b}", "id", json_object_get(r, "id"), "name",
                      json_object_get(r, "name"), "manager_name",
                      json_object_get(r, "manager_name"), "rule", rule, "in_recycle_bin", deleted);
        if (seen)
            json_object_set_new(m, "customer", seen);
        json_array_append_new(shown, m);
    }
    if (json_array_size(shown) == 0) {
        rc = 0;
        goto out;
    }
    bool can_force = forceable && kit_can(job, PERM_FORCE_DUPLICATE);
    if (json_is_true(json_object_get(b, "force_duplicate"))) {
        if (can_force) {
            json_t *ids = json_array();
            json_array_foreach(shown, i, r)
            {
                json_array_append_new(ids, json_pack("{s:O, s:O}", "id", json_object_get(r, "id"),
                                                     "rule", json_object_get(r, "rule")));
            }
            json_object_set_new(b, DUPS_KEY, ids);
            rc = 0;
            goto out;
        }
        if (forceable) {
            kit_fail(job, 403, "forbidden",
                     "saving a duplicate needs the permission " PERM_FORCE_DUPLICATE, NULL,
                     JSONV_E_required, NULL);
            goto out;
        }
    }
    svc_job_fail(job, 409, "duplicate", "a customer with the same %s exists",
                 json_string_value(json_object_get(json_array_get(shown, 0), "rule")));
    kit_fail_extra(job, json_pack("{s:O, s:b}", "duplicates", shown, "can_force", can_force));
out:
    json_decref(rows);
    json_decref(shown);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/customers, /recycle-bin                                                         */

static const struct listq_sort customer_sorts[] = {
    {"created_at", "c.created_at", LISTQ_TIME, true},
    {"updated_at", "c.updated_at", LISTQ_TIME, true},
    {"owner_time", "c.owner_time", LISTQ_TIME, true},
    {"name", "c.name", LISTQ_STR, false},
    {"id", "c.id", LISTQ_INT, true},
    /* the stored copies that put customers without one last (migration 0010) */
    {"next_contact_at", "c.next_contact_sort", LISTQ_TIME, false},
    {"last_contact_at", "c.last_contact_sort", LISTQ_TIME, true},
    {NULL, NULL, 0, false},
};

static const struct listq_sort bin_sorts[] = {
    {"deleted_at", "c.deleted_at", LISTQ_TIME, true},
    {"name", "c.name", LISTQ_STR, false},
    {"id", "c.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct customer_filter *f = in->extra;
    struct scope sc = kit_scope(job);
    struct listq_result res = {0};
    if (f->mine != 0)
        f->mine = f->mine > 0 ? caller_id(job) : -caller_id(job);
    if (repo_customers_list(&w->db, &sc, f, &in->page, &res) != 0)
        goto out;
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(res.items);
}

static void query_enum(struct http_request *req, const char *key, const char *const *set,
                       const char *message, char *out, size_t size, json_t *errors)
{
    kit_query_copy(req, key, out, size, errors);
    if (out[0] && !util_one_of(out, set)) {
        char allowed[128] = "";
        for (size_t i = 0; set[i]; i++) {
            size_t n = strlen(allowed);
            snprintf(allowed + n, sizeof(allowed) - n, "%s%s", i ? ", " : "", set[i]);
        }
        jsonv_error_addp(errors, key, JSONV_E_one_of, json_pack("{s:s}", "allowed", allowed),
                         message);
    }
}

static void list_filter(struct http_request *req, struct customer_filter *f, json_t *errors)
{
    static const char *const scenes[] = {"mine", "team", "all", NULL};
    static const char *const bools[] = {"true", "false", NULL};
    char scene[8], followed[8];
    kit_query_copy(req, "keyword", f->keyword, sizeof(f->keyword), errors);
    kit_query_copy(req, "industry", f->industry, sizeof(f->industry), errors);
    kit_query_copy(req, "source", f->source, sizeof(f->source), errors);
    kit_query_copy(req, "level", f->level, sizeof(f->level), errors);
    kit_query_copy(req, "province", f->province, sizeof(f->province), errors);
    kit_query_copy(req, "city", f->city, sizeof(f->city), errors);
    kit_query_copy(req, "tag", f->tag, sizeof(f->tag), errors);
    query_enum(req, "status", statuses, "must be potential, active, at_risk or lost", f->status,
               sizeof(f->status), errors);
    query_enum(req, "deal_status", deal_statuses, "must be undealt or dealt", f->deal_status,
               sizeof(f->deal_status), errors);
    query_enum(req, "scene", scenes, "must be mine, team or all", scene, sizeof(scene), errors);
    query_enum(req, "followed_up", bools, "must be true or false", followed, sizeof(followed),
               errors);
    f->manager_id = kit_query_id(req, "manager_id", errors);
    /* the caller's id is known on the worker: 1 and -1 say which scene */
    f->mine = strcmp(scene, "mine") == 0 ? 1 : strcmp(scene, "team") == 0 ? -1 : 0;
    f->followed_up = followed[0] ? strcmp(followed, "true") == 0 : -1;
    kit_query_time(req, "created_from", f->created_from, errors);
    kit_query_time(req, "created_to", f->created_to, errors);
    kit_query_time(req, "last_contact_from", f->last_from, errors);
    kit_query_time(req, "last_contact_to", f->last_to, errors);
    kit_query_time(req, "next_contact_from", f->next_from, errors);
    kit_query_time(req, "next_contact_to", f->next_to, errors);
    followups_todo_filter(req, f, errors); /* todo=: the caller's to-dos, over the above */
}

static void list_submit(struct svc *s, struct http_request *req, bool deleted)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    struct customer_filter *f = xcalloc(1, sizeof(*f));
    json_t *errors = json_array();
    in->extra = f;
    f->deleted = deleted;
    kit_list_params(req, deleted ? bin_sorts : customer_sorts, &in->page, errors);
    if (deleted)
        kit_query_copy(req, "keyword", f->keyword, sizeof(f->keyword), errors);
    else
        list_filter(req, f, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(s, req, list_work, in, kit_in_free);
}

static void list(struct http_request *req, void *arg)
{
    list_submit(arg, req, false);
}

static void bin_list(struct http_request *req, void *arg)
{
    list_submit(arg, req, true);
}

/* ---- GET /api/v1/customers/options ---- */

static void options_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *rows = NULL;
    if (repo_customer_options(&w->db, &sc, in->extra ? in->extra : "", &rows) != 0)
        goto out;
    svc_job_ok(job, 200, json_pack("{s:O}", "items", rows));
out:
    json_decref(rows);
}

static void options(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    const char *kw = kit_query(req, "keyword", 64, errors);
    if (kit_reject(req, errors))
        return;
    struct kit_in *in = kit_in_new(NULL, 0);
    in->extra = xstrdup(kw ? kw : "");
    svc_submit(arg, req, options_work, in, kit_in_free);
}

/* ---- GET /api/v1/customers/{id} ---- */

static int customer_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                        json_t **row)
{
    return repo_customer_get(db, sc, in->id, false, lock, row);
}

static int binned_get(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                      json_t **row)
{
    return repo_customer_get(db, sc, in->id, true, lock, row);
}

static void get_work(struct svc_worker *w, struct svc_job *job)
{
    kit_get_work(w, job, "customer", customer_get);
}

static void get(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, get_work, NULL, id);
}

/* ---- POST /api/v1/customers ---- */

#define CUSTOMER_FIELDS                                                                            \
    {"credit_code", JSONV_STRING, false, true, 0, 18, NULL, JSONV_STRING},                         \
        {"industry", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},                       \
        {"source", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},                         \
        {"level", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},                          \
        {"province", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},                       \
        {"city", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},                           \
        {"district", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},                       \
        {"address", JSONV_STRING, false, false, 0, 200, NULL, JSONV_STRING},                       \
        {"telephone", JSONV_STRING, false, false, 0, 32, NULL, JSONV_STRING},                      \
        {"mobile", JSONV_STRING, false, false, 0, 11, NULL, JSONV_STRING},                         \
        {"email", JSONV_STRING, false, false, 0, 128, NULL, JSONV_STRING},                         \
        {"website", JSONV_STRING, false, false, 0, 200, NULL, JSONV_STRING},                       \
        {"wechat", JSONV_STRING, false, false, 0, 64, NULL, JSONV_STRING},                         \
        {"status", JSONV_STRING, false, false, 0, 16, NULL, JSONV_STRING},                         \
        {"deal_status", JSONV_STRING, false, false, 0, 16, NULL, JSONV_STRING},                    \
        {"deal_time", JSONV_STRING, false, true, 0, 40, NULL, JSONV_STRING},                       \
        {"tags", JSONV_ARRAY, false, false, 0, 10, NULL, JSONV_STRING},                            \
        {"notes", JSONV_STRING, false, false, 0, 2000, NULL, JSONV_STRING},                        \
        {"next_contact_at", JSONV_STRING, false, true, 0, 40, NULL, JSONV_STRING},                 \
    {                                                                                              \
        "force_duplicate", JSONV_BOOL, false, false, 0, 0, NULL, JSONV_STRING                      \
    }

static const struct jsonv_field create_fields[] = {
    {"name", JSONV_STRING, true, false, 1, 60, NULL, JSONV_STRING},
    {"manager_id", JSONV_INT, false, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    CUSTOMER_FIELDS,
    JSONV_END,
};

/* The event data of a customer write: the customer, and the duplicates a forced save kept. */
static json_t *event_data(json_t *customer, json_t *b)
{
    json_t *data = json_pack("{s:O}", "customer", customer);
    json_t *dups = json_object_get(b, DUPS_KEY);
    if (dups)
        json_object_set(data, "duplicates", dups);
    return data;
}

static void create_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *b = in->body, *errors = json_array(), *row = NULL;
    long long id = 0, me = caller_id(job);
    json_t *manager = json_object_get(b, "manager_id");
    check_shapes(b, errors);
    regions_check_customer(customer_regions(job->svc), NULL, b, errors);
    if (db_begin(&w->db) != 0 || check_dicts(&w->db, b, errors) != 0 ||
        (manager && json_integer_value(manager) != me &&
         check_manager(&w->db, &sc, json_integer_value(manager), errors) != 0))
        goto out;
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the customer is not valid");
        errors = NULL;
        goto out;
    }
    if (check_duplicates(w, job, &sc, 0, b) != 0)
        goto out;
    if (manager == NULL)
        json_object_set_new(b, "manager_id", json_integer(me));
    if (json_object_get(b, "status") == NULL)
        json_object_set_new(b, "status", json_string(statuses[0]));
    if (json_object_get(b, "deal_status") == NULL)
        json_object_set_new(b, "deal_status", json_string(deal_statuses[0]));
    json_object_set_new(b, "created_by", json_integer(me));
    if (repo_customer_insert(&w->db, b, &id) != 0) {
        if (w->db.last_errno == DB_ER_DUP_ENTRY) /* a concurrent create of the same code */
            kit_fail(job, 409, "duplicate", "a customer with the same credit_code exists",
                     "credit_code", JSONV_E_taken, "is already used by another customer");
        goto out;
    }
    if (repo_customer_get(&w->db, NULL, id, false, false, &row) != 0 ||
        kit_commit_created(w, job, "customer", id, "customer.created", event_data(row, b), 201,
                           json_incref(row)) != 0)
        goto out;
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

/* ---- PATCH /api/v1/customers/{id} ---- */

static const struct jsonv_field patch_fields[] = {
    {"version", JSONV_INT, true, false, 1, KIT_ID_MAX, NULL, JSONV_STRING},
    {"name", JSONV_STRING, false, false, 1, 60, NULL, JSONV_STRING},
    CUSTOMER_FIELDS,
    JSONV_END,
};

static int patch_check(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body)
{
    struct scope sc = kit_scope(job);
    json_t *errors = json_array();
    check_shapes(body, errors);
    regions_check_customer(customer_regions(job->svc), before, body, errors);
    if (check_dicts(&w->db, body, errors) != 0) {
        json_decref(errors);
        return -1;
    }
    if (json_array_size(errors) > 0) {
        kit_fail_fields(job, errors, "the customer is not valid");
        return -1;
    }
    json_decref(errors);
    return check_duplicates(w, job, &sc, json_integer_value(json_object_get(before, "id")), body);
}

/* A new name is a new keyword index, in the same transaction. */
static int patch_changed(struct svc_worker *w, struct svc_job *job, json_t *after, json_t *changes)
{
    struct kit_in *in = job->data;
    (void)after;
    (void)changes;
    json_t *folded = json_object_get(in->body, "name_search");
    return folded ? repo_customer_index(&w->db, in->id, json_string_value(folded), false) : 0;
}

static json_t *patch_event_data(json_t *after, const struct kit_in *in)
{
    json_t *data = json_pack("{s:O, s:O, s:O}", "name", json_object_get(after, "name"),
                             "manager_id", json_object_get(after, "manager_id"), "version",
                             json_object_get(after, "version"));
    json_t *dups = json_object_get(in->body, DUPS_KEY);
    if (dups)
        json_object_set(data, "duplicates", dups);
    return data;
}

static const struct kit_patch patch_ops = {
    .subject = "customer",
    .event = "customer.updated",
    .fields = customer_fields,
    .get = customer_get,
    .check = patch_check,
    .update = repo_customer_update,
    .dup_field = "credit_code", /* a concurrent save of the same code: the unique key says so */
    .dup_message = "is already used by another customer",
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

/* ---- DELETE /api/v1/customers/{id}: to the recycle bin ---- */

/* {name, manager_id, version} of a customer whose version is 'row''s plus 'bump'. */
static json_t *summary(json_t *row, int bump)
{
    return json_pack("{s:O, s:O, s:I}", "name", json_object_get(row, "name"), "manager_id",
                     json_object_get(row, "manager_id"), "version",
                     (json_int_t)json_integer_value(json_object_get(row, "version")) + bump);
}

/* the deleted record was read before the delete counted its version */
static json_t *deleted_data(json_t *row, const struct kit_in *in)
{
    (void)in;
    return summary(row, 1);
}

static const struct kit_delete delete_ops = {
    .subject = "customer",
    .event = "customer.deleted",
    .get = customer_get,
    .remove = repo_customer_delete,
    .event_data = deleted_data,
};

static void delete_work(struct svc_worker *w, struct svc_job *job)
{
    kit_delete_work(w, job, &delete_ops);
}

static void delete (struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, delete_work, NULL, id);
}

/* ---- POST /api/v1/customers/{id}/restore: out of the recycle bin ---- */

static void restore_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL;
    if (db_begin(&w->db) != 0 || binned_get(&w->db, &sc, in, true, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such customer in the recycle bin");
        goto out;
    }
    json_decref(row);
    row = NULL;
    if (repo_customer_restore(&w->db, in->id) != 0 ||
        customer_get(&w->db, NULL, in, false, &row) != 0 || row == NULL ||
        kit_commit(w, job, "customer", in->id, "customer.restored", summary(row, 0), NULL) != 0)
        goto out;
    svc_job_ok(job, 200, json_incref(row));
out:
    json_decref(row);
}

static void restore(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id)
        kit_submit(arg, req, restore_work, NULL, id);
}

int customers_routes(struct svc *s)
{
    /* the fixed paths first: /options and /recycle-bin are not ids */
    return svc_route(s, "GET", "/api/v1/customers/options", options) ||
           svc_route(s, "GET", "/api/v1/customers/recycle-bin", bin_list) ||
           svc_route(s, "GET", "/api/v1/customers", list) ||
           svc_route(s, "POST", "/api/v1/customers", create) ||
           svc_route(s, "GET", "/api/v1/customers/{id}", get) ||
           svc_route(s, "PATCH", "/api/v1/customers/{id}", patch) ||
           svc_route(s, "DELETE", "/api/v1/customers/{id}", delete) ||
           svc_route(s, "POST", "/api/v1/customers/{id}/restore", restore);
}
