/* SPDX-License-Identifier: Apache-2.0 */
/* handlers: the administrators' queries (audit, login and operation logs, one record's
 * history) and the chain verification. */
#include "audit.h"
#include "jsonv.h"
#include "kit.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERIFY_SLICE 2000 /* entries read per query while verifying */

enum list_kind { LIST_AUDIT, LIST_LOGINS, LIST_OPERATIONS };

struct list_in {
    enum list_kind kind;
    struct repo_audit_filter f;
    struct listq_page page;
    char buf[10][140]; /* storage of the filter strings */
};

/* Newest first; a cursor (next_cursor) walks a log of millions at the cost of its first page. */
static const struct listq_sort log_sorts[] = {
    {"id", "t.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

/* "2026-11-22T03:00:00Z" (or with .mmm) -> "2026-11-22 03:00:00[.mmm]"; false when malformed
 * or not a real moment (month 13, 30 February, hour 99). */
static bool rfc3339_to_sql(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n < 20 || n > 24 || in[n - 1] != 'Z' || in[4] != '-' || in[7] != '-' || in[10] != 'T' ||
        in[13] != ':' || in[16] != ':' || (n > 20 && in[19] != '.'))
        return false;
    for (size_t i = 0; i < n - 1; i++) {
        if (i == 4 || i == 7 || i == 10 || i == 13 || i == 16 || i == 19)
            continue;
        if (!isdigit((unsigned char)in[i]))
            return false;
    }
    struct tm tm = {0};
    tm.tm_year = atoi(in) - 1900;
    tm.tm_mon = atoi(in + 5) - 1;
    tm.tm_mday = atoi(in + 8);
    tm.tm_hour = atoi(in + 11);
    tm.tm_min = atoi(in + 14);
    tm.tm_sec = atoi(in + 17);
    struct tm check = tm;
    time_t t = timegm(&check);
    struct tm back;
    gmtime_r(&t, &back);
    /* timegm normalises impossible fields: a real moment comes back unchanged */
    if (back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday ||
        back.tm_hour != tm.tm_hour || back.tm_min != tm.tm_min || back.tm_sec != tm.tm_sec)
        return false;
    snprintf(out, outlen, "%.*s", (int)(n - 1), in);
    out[10] = ' ';
    return true;
}

/* Copy query parameter 'key' (at most 'maxlen' bytes) into the request's storage; NULL when
 * absent or too long (a field error then). */
static const char *param(struct http_request *req, struct list_in *in, int slot, const char *key,
                         size_t maxlen, json_t *errors)
{
    const char *v = kit_query(req, key, maxlen, errors);
    if (v == NULL)
        return NULL;
    snprintf(in->buf[slot], sizeof(in->buf[slot]), "%s", v);
    return in->buf[slot];
}

static const char *time_param(struct http_request *req, struct list_in *in, int slot,
                              const char *key, json_t *errors)
{
    const char *v = http_query_get(&req->query, key);
    if (v == NULL)
        return NULL;
    if (!rfc3339_to_sql(v, in->buf[slot], sizeof(in->buf[slot]))) {
        jsonv_error_add(errors, key, JSONV_E_not_time,
                        "must be an RFC 3339 UTC time like 2026-11-22T08:00:00Z");
        return NULL;
    }
    return in->buf[slot];
}

/* Under 'by'[type][id] (objects made as needed), a slot for the names of that subject. */
static void want_name(json_t *by, const char *type, json_t *id)
{
    if (!json_is_string(id) || json_string_length(id) == 0 || type == NULL || *type == '\0')
        return;
    json_t *ids = json_object_get(by, type);
    if (ids == NULL)
        json_object_set_new(by, type, ids = json_object());
    json_object_set_new(ids, json_string_value(id), json_null());
}

/* Sets 'item'[key] to the name of subject 'type'/'id' found in 'by' (the display name or name,
 * else the username), or null when the log knows none. */
static void put_name(json_t *item, const char *key, json_t *by, const char *type, json_t *id)
{
    json_t *names = json_is_string(id) && type
                        ? json_object_get(json_object_get(by, type), json_string_value(id))
                        : NULL;
    json_t *v = json_object_get(names, "name");
    if (v == NULL)
        v = json_object_get(names, "username");
    json_object_set_new(item, key, v ? json_incref(v) : json_null());
}

/* The names of the people and subjects of a page (issue 11 #4): an audit entry gains
 * actor_name and subject_name, a login display_name, an operation user_name. 0 or -1. */
static int list_names(struct db *db, enum list_kind kind, json_t *items)
{
    json_t *by = json_object(), *item, *ids;
    const char *type;
    size_t i;
    int rc = -1;
    json_array_foreach(items, i, item)
    {
        want_name(by, "user",
                  json_object_get(item, kind == LIST_AUDIT ? "actor_user_id" : "user_id"));
        if (kind == LIST_AUDIT)
            want_name(by, json_string_value(json_object_get(item, "subject_type")),
                      json_object_get(item, "subject_id"));
    }
    json_object_foreach(by, type, ids)
    {
        if (repo_names_of(db, type, ids) != 0)
            goto out;
    }
    json_array_foreach(items, i, item)
    {
        if (kind == LIST_AUDIT) {
            put_name(item, "actor_name", by, "user", json_object_get(item, "actor_user_id"));
            put_name(item, "subject_name", by,
                     json_string_value(json_object_get(item, "subject_type")),
                     json_object_get(item, "subject_id"));
        } else {
            put_name(item, kind == LIST_LOGINS ? "display_name" : "user_name", by, "user",
                     json_object_get(item, "user_id"));
        }
    }
    rc = 0;
out:
    json_decref(by);
    return rc;
}

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct list_in *in = job->data;
    struct listq_result res = {0};
    int rc = in->kind == LIST_AUDIT    ? repo_audit_list(&w->db, &in->f, &in->page, &res)
             : in->kind == LIST_LOGINS ? repo_login_list(&w->db, &in->f, &in->page, &res)
                                       : repo_operation_list(&w->db, &in->f, &in->page, &res);
    if (rc == 0 && list_names(&w->db, in->kind, res.items) == 0)
        svc_job_ok(job, 200, listq_result_json(&res, &in->page)); /* takes the items */
    json_decref(res.items);
}

static void list(struct http_request *req, struct svc *s, enum list_kind kind)
{
    struct list_in *in = xcalloc(1, sizeof(*in));
    json_t *errors = json_array();
    in->kind = kind;
    kit_list_params(req, log_sorts, &in->page, errors);
    in->f.from = time_param(req, in, 0, "from", errors);
    in->f.to = time_param(req, in, 1, "to", errors);
    if (kind == LIST_AUDIT) {
        in->f.actor = param(req, in, 2, "actor", 32, errors);
        in->f.subject_type = param(req, in, 3, "subject_type", 32, errors);
        in->f.subject_id = param(req, in, 4, "subject_id", 64, errors);
        in->f.event_type = param(req, in, 5, "event_type", 64, errors);
        in->f.request_id = param(req, in, 6, "request_id", 64, errors);
        /* the history of one record is a list by subject: route parameters win */
        const char *st = router_param(&req->params, "subject_type");
        const char *si = router_param(&req->params, "subject_id");
        if (st && si) {
            snprintf(in->buf[3], sizeof(in->buf[3]), "%s", st);
            snprintf(in->buf[4], sizeof(in->buf[4]), "%s", si);
            in->f.subject_type = in->buf[3];
            in->f.subject_id = in->buf[4];
        }
    } else if (kind == LIST_LOGINS) {
        in->f.user = param(req, in, 2, "username", 64, errors);
        in->f.result = param(req, in, 3, "result", 16, errors);
        if (in->f.result && strcmp(in->f.result, "success") && strcmp(in->f.result, "failure") &&
            strcmp(in->f.result, "logout"))
            jsonv_error_addp(errors, "result", JSONV_E_one_of,
                             json_pack("{s:s}", "allowed", "success, failure, logout"),
                             "must be success, failure or logout");
    } else {
        in->f.user = param(req, in, 2, "user_id", 32, errors);
        in->f.method = param(req, in, 3, "method", 8, errors);
        in->f.path_prefix = param(req, in, 4, "path", 128, errors);
        in->f.request_id = param(req, in, 5, "request_id", 64, errors);
        const char *st = http_query_get(&req->query, "status");
        if (st && util_parse_long(st, 100, 599, &in->f.status) != 0)
            jsonv_error_add(errors, "status", JSONV_E_not_http_status, "must be an HTTP status");
        const char *fr = http_query_get(&req->query, "failed_refresh");
        if (fr && strcmp(fr, "show") != 0 && strcmp(fr, "hide") != 0)
            jsonv_error_addp(errors, "failed_refresh", JSONV_E_one_of,
                             json_pack("{s:s}", "allowed", "hide, show"), "must be hide or show");
        in->f.failed_refresh = fr && strcmp(fr, "show") == 0;
    }
    if (kit_reject(req, errors)) {
        free(in);
        return;
    }
    svc_submit(s, req, list_work, in, free);
}

static void logs(struct http_request *req, void *arg)
{
    list(req, arg, LIST_AUDIT);
}

static void logins(struct http_request *req, void *arg)
{
    list(req, arg, LIST_LOGINS);
}

static void operations(struct http_request *req, void *arg)
{
    list(req, arg, LIST_OPERATIONS);
}

/*
 * Walk the chain from the entry after 'after_id' (0: from the start) and name the first entry
 * whose hash or link no longer matches. One request walks for at most verify_budget_ms, so it
 * answers well inside the gateway's timeout on a log of any size: "complete": false then says
 * where to go on ("last_id" is the next call's after_id). Walking the windows one after another
 * checks exactly what one walk would: each window's first link is checked against the stored
 * hash of the entry before it, which the previous window recomputed.
 */
struct verify_in {
    long long after_id;
};

/* Where a walk over the chain is: the hash before the next row ('prev'), whether a keyed entry
 * came already (an unkeyed one may not follow it), and what it counted. */
struct verify_walk {
    char prev[AUDIT_HASH_HEX];
    bool keyed_seen;
    long long after, checked, unkeyed;
};

/* Why row 'r' does not continue the chain of 'w', or NULL when it does. 'a' holds the key. */
static const char *verify_row(const struct audit_ctx *a, const struct verify_walk *w, json_t *r)
{
    char h[AUDIT_HASH_HEX];
    int version = (int)json_integer_value(json_object_get(r, "chain_version"));
    const char *stored = json_string_value(json_object_get(r, "hash"));
    const char *link = json_string_value(json_object_get(r, "prev_hash"));
    if (strcmp(link ? link : "", w->prev) != 0)
        return "its link to the previous entry is broken";
    if (version == AUDIT_CHAIN_UNKEYED && w->keyed_seen)
        return "it is unkeyed but follows keyed entries";
    if (version != AUDIT_CHAIN_UNKEYED && version != AUDIT_CHAIN_KEYED)
        return "its chain version is unknown";
    bool keyed = version == AUDIT_CHAIN_KEYED;
    if (audit_hash(r, w->prev, keyed ? a->chain_key : NULL, keyed ? a->chain_key_len : 0, h) != 0 ||
        strcmp(stored ? stored : "", h) != 0)
        return "its content no longer matches its hash";
    return NULL;
}

/* Check one window of rows against the chain, advancing 'w' past every good one. The first
 * entry that does not match, or NULL. */
static json_t *verify_rows(const struct audit_ctx *a, json_t *rows, struct verify_walk *w)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *why = verify_row(a, w, r);
        if (why)
            return json_pack("{s:O, s:O, s:O, s:s}", "id", json_object_get(r, "id"), "event_id",
                             json_object_get(r, "event_id"), "event_type",
                             json_object_get(r, "event_type"), "reason", why);
        bool keyed = json_integer_value(json_object_get(r, "chain_version")) == AUDIT_CHAIN_KEYED;
        w->keyed_seen = w->keyed_seen || keyed;
        w->unkeyed += keyed ? 0 : 1;
        snprintf(w->prev, AUDIT_HASH_HEX, "%s", json_string_value(json_object_get(r, "hash")));
        w->after = json_integer_value(json_object_get(r, "id"));
        w->checked++;
    }
    return NULL;
}

static void verify_work(struct svc_worker *w, struct svc_job *job)
{
    const struct verify_in *in = job->data;
    const struct audit_ctx *a = w->svc->app;
    struct verify_walk walk = {
        .prev = "0000000000000000000000000000000000000000000000000000000000000000",
        .after = in->after_id};
    long long max_id = 0;
    json_t *rows = NULL, *bad = NULL;
    bool found = false, complete = false;
    if (walk.after > 0) {
        int version = 0;
        if (repo_chain_hash_at(&w->db, walk.after, walk.prev, &version, &found) != 0)
            goto out;
        if (!found) {
            svc_job_fail(job, 404, "not_found", "no audit entry with id %lld", walk.after);
            goto out;
        }
        /* versions only rise along a good chain: a keyed entry here means every later one must
         * be keyed too */
        walk.keyed_seen = version != AUDIT_CHAIN_UNKEYED;
    }
    if (repo_chain_max_id(&w->db, &max_id) != 0)
        goto out;
    uint64_t deadline = util_now_ms() + (uint64_t)a->cfg->verify_budget_ms;
    for (;;) {
        json_decref(rows);
        rows = NULL;
        if (repo_chain_rows(&w->db, walk.after, VERIFY_SLICE, &rows) != 0)
            goto out;
        if ((bad = verify_rows(a, rows, &walk)) != NULL)
            break;
        if (json_array_size(rows) < VERIFY_SLICE) {
            complete = true;
            break;
        }
        if (util_now_ms() >= deadline)
            break;
    }
    json_t *body = json_pack("{s:b, s:b, s:I, s:I, s:I, s:I}", "ok", bad == NULL, "complete",
                             bad != NULL || complete, "checked", (json_int_t)walk.checked,
                             "unkeyed", (json_int_t)walk.unkeyed, "last_id", (json_int_t)walk.after,
                             "max_id", (json_int_t)max_id);
    if (bad)
        json_object_set_new(body, "first_bad", json_incref(bad));
    else
        json_object_set_new(body, "head", json_string(walk.prev));
    svc_job_ok(job, 200, body);
out:
    json_decref(rows);
    json_decref(bad);
}

static void verify(struct http_request *req, void *arg)
{
    struct verify_in *in = xcalloc(1, sizeof(*in));
    const char *v = http_query_get(&req->query, "after_id");
    long after = 0;
    if (v && util_parse_long(v, 0, LONG_MAX, &after) != 0) {
        free(in);
        json_t *errors = json_array();
        jsonv_error_add(errors, "after_id", JSONV_E_not_id,
                        "must be an audit entry id (an integer of at least 0)");
        http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
        return;
    }
    in->after_id = after;
    svc_submit(arg, req, verify_work, in, free);
}

int audit_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/audit/logs", logs) ||
           svc_route(s, "GET", "/api/v1/audit/logins", logins) ||
           svc_route(s, "GET", "/api/v1/audit/operations", operations) ||
           svc_route(s, "GET", "/api/v1/audit/history/{subject_type}/{subject_id}", logs) ||
           svc_route(s, "GET", "/api/v1/audit/verify", verify);
}
