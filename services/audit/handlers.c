/* SPDX-License-Identifier: Apache-2.0 */
/* handlers: the administrators' queries (audit, login and operation logs, one record's
 * history) and the chain verification. */
#include "audit.h"
#include "jsonv.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum list_kind { LIST_AUDIT, LIST_LOGINS, LIST_OPERATIONS };

struct list_in {
    enum list_kind kind;
    struct repo_audit_filter f;
    char buf[10][140]; /* storage of the filter strings */
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

/* Copy query parameter 'key' into the request's storage; NULL when absent. */
static const char *param(struct http_request *req, struct list_in *in, int slot, const char *key,
                         size_t maxlen, json_t *errors)
{
    const char *v = http_query_get(&req->query, key);
    if (v == NULL)
        return NULL;
    if (strlen(v) > maxlen) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must be at most %zu characters", maxlen);
        jsonv_error_add(errors, key, msg);
        return NULL;
    }
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
        jsonv_error_add(errors, key, "must be an RFC 3339 UTC time like 2026-11-22T08:00:00Z");
        return NULL;
    }
    return in->buf[slot];
}

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct list_in *in = job->data;
    json_t *items = NULL;
    long long total = 0;
    int rc = in->kind == LIST_AUDIT    ? repo_audit_list(&w->db, &in->f, &items, &total)
             : in->kind == LIST_LOGINS ? repo_login_list(&w->db, &in->f, &items, &total)
                                       : repo_operation_list(&w->db, &in->f, &items, &total);
    if (rc != 0) {
        svc_job_db_error(job, w);
        return;
    }
    svc_job_ok(job, 200,
               json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
                         (int)in->f.page, "page_size", (int)in->f.page_size));
}

static void list(struct http_request *req, struct svc *s, enum list_kind kind)
{
    struct list_in *in = xcalloc(1, sizeof(*in));
    json_t *errors = json_array();
    in->kind = kind;
    in->f.page = 1;
    in->f.page_size = 20;
    const char *p = http_query_get(&req->query, "page"),
               *ps = http_query_get(&req->query, "page_size");
    if (p && util_parse_long(p, 1, 1000000, &in->f.page) != 0)
        jsonv_error_add(errors, "page", "must be an integer of at least 1");
    if (ps && util_parse_long(ps, 1, 100, &in->f.page_size) != 0)
        jsonv_error_add(errors, "page_size", "must be an integer from 1 to 100");
    in->f.from = time_param(req, in, 0, "from", errors);
    in->f.to = time_param(req, in, 1, "to", errors);
    if (kind == LIST_AUDIT) {
        in->f.actor = param(req, in, 2, "actor", 32, errors);
        in->f.subject_type = param(req, in, 3, "subject_type", 32, errors);
        in->f.subject_id = param(req, in, 4, "subject_id", 64, errors);
        in->f.event_type = param(req, in, 5, "event_type", 64, errors);
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
            jsonv_error_add(errors, "result", "must be success, failure or logout");
    } else {
        in->f.user = param(req, in, 2, "user_id", 32, errors);
        in->f.method = param(req, in, 3, "method", 8, errors);
        in->f.path_prefix = param(req, in, 4, "path", 128, errors);
        const char *st = http_query_get(&req->query, "status");
        if (st && util_parse_long(st, 100, 599, &in->f.status) != 0)
            jsonv_error_add(errors, "status", "must be an HTTP status");
    }
    if (json_array_size(errors) > 0) {
        free(in);
        http_reply_problem(req, 422, "validation_failed", "invalid query", errors);
        return;
    }
    json_decref(errors);
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

/* Walk the whole chain; name the first entry whose hash or link no longer matches. */
static void verify_work(struct svc_worker *w, struct svc_job *job)
{
    char prev[AUDIT_HASH_HEX] = "0000000000000000000000000000000000000000000000000000000000000000";
    long long after = 0, checked = 0;
    for (;;) {
        json_t *rows = NULL;
        if (repo_chain_rows(&w->db, after, 2000, &rows) != 0) {
            svc_job_db_error(job, w);
            return;
        }
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            char h[AUDIT_HASH_HEX];
            audit_hash(r, prev, h);
            const char *stored = json_string_value(json_object_get(r, "hash"));
            const char *link = json_string_value(json_object_get(r, "prev_hash"));
            const char *why =
                strcmp(link ? link : "", prev) != 0    ? "its link to the previous entry is broken"
                : strcmp(stored ? stored : "", h) != 0 ? "its content no longer matches its hash"
                                                       : NULL;
            if (why) {
                json_t *bad = json_pack("{s:O, s:O, s:O, s:s}", "id", json_object_get(r, "id"),
                                        "event_id", json_object_get(r, "event_id"), "event_type",
                                        json_object_get(r, "event_type"), "reason", why);
                svc_job_ok(job, 200,
                           json_pack("{s:b, s:I, s:o}", "ok", 0, "checked", (json_int_t)checked,
                                     "first_bad", bad));
                json_decref(rows);
                return;
            }
            snprintf(prev, sizeof(prev), "%s", stored);
            after = json_integer_value(json_object_get(r, "id"));
            checked++;
        }
        size_t n = json_array_size(rows);
        json_decref(rows);
        if (n < 2000)
            break;
    }
    svc_job_ok(job, 200,
               json_pack("{s:b, s:I, s:s}", "ok", 1, "checked", (json_int_t)checked, "head", prev));
}

static void verify(struct http_request *req, void *arg)
{
    svc_submit(arg, req, verify_work, NULL, NULL);
}

int audit_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/audit/logs", logs) ||
           svc_route(s, "GET", "/api/v1/audit/logins", logins) ||
           svc_route(s, "GET", "/api/v1/audit/operations", operations) ||
           svc_route(s, "GET", "/api/v1/audit/history/{subject_type}/{subject_id}", logs) ||
           svc_route(s, "GET", "/api/v1/audit/verify", verify);
}
