/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_sessions: the sessions in use (online users) for administrators, and one's own
 * sessions, each of which can be ended on its own. */
#include "auth.h"
#include "kit.h"
#include "repo.h"
#include "revoke.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A session is a refresh-token family (one login and its rotations). Its id is the id of the
 * family's first token, which stays while the tokens rotate; the token in use carries where it
 * was last refreshed from and the access token issued with it. Ending a session revokes the
 * family (no more refreshes) and that access token (Redis), so it ends at once, not within
 * expires_in. Administrators see the sessions of the users their data scope covers (a SELF
 * caller its own only); ending one of another user's needs the user to be one the caller may
 * manage, as for POST /users/{id}/force-logout.
 */

/* Which list or which end: an administrator's (any user in scope) or the caller's own. */
enum sessions_whose { SESSIONS_ANY, SESSIONS_MINE };

static const struct listq_sort session_sorts[] = {
    {"last_used_at", "t.id", LISTQ_INT, true},
    {NULL, NULL, 0, false},
};

static long long caller_id(const struct svc_job *job)
{
    const struct svc_identity *id = svc_identity(job->req);
    return id ? atoll(id->user_id) : 0;
}

/* The rows as the API shows them: 'current' for the caller's own session (the access token of
 * this request was issued with it), and the token ids left out. */
static void sessions_shape(json_t *items, const char *jti)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        const char *a = json_string_value(json_object_get(r, "access_jti"));
        json_object_set_new(r, "current", json_boolean(a && jti && strcmp(a, jti) == 0));
        json_object_del(r, "access_jti");
    }
}

/* ---- GET /api/v1/sessions, GET /api/v1/auth/sessions ---- */

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    struct repo_session_filter f = {.user_id = in->id};
    struct listq_result res = {0};
    if (in->variant == SESSIONS_MINE) {
        f.user_id = caller_id(job);
        sc.kind = SCOPE_ALL; /* one's own, whatever one's scope covers */
    }
    if (repo_sessions_list(&w->db, &sc, &f, &in->page, &res) != 0)
        goto out;
    sessions_shape(res.items, svc_identity(job->req)->jti);
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
out:
    json_decref(res.items);
}

static void list_of(struct http_request *req, void *arg, enum sessions_whose whose)
{
    struct kit_in *in = kit_in_new(NULL, 0);
    json_t *errors = json_array();
    in->variant = whose;
    kit_list_params(req, session_sorts, &in->page, errors);
    if (whose == SESSIONS_ANY)
        in->id = kit_query_id(req, "user_id", errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

static void sessions_list(struct http_request *req, void *arg)
{
    list_of(req, arg, SESSIONS_ANY);
}

static void my_sessions_list(struct http_request *req, void *arg)
{
    list_of(req, arg, SESSIONS_MINE);
}

/* ---- DELETE /api/v1/sessions/{id}, DELETE /api/v1/auth/sessions/{id} ---- */

/* Revoke access token 'jti' (expiring at 'exp'). A worker's Redis connection that Redis closed
 * while it was idle fails its next command once (rds then waits RDS' first backoff, 100 ms,
 * before reconnecting): one more try after that, on this worker, spares the user a 503 for it. */
static int revoke_access(struct svc_worker *w, const char *jti, int64_t exp)
{
    if (revoke_token(&w->rds, jti, exp) == 0)
        return 0;
    usleep(150 * 1000);
    return revoke_token(&w->rds, jti, exp);
}

static void end_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    long long me = caller_id(job), uid = 0;
    json_t *row = NULL;
    if (in->variant == SESSIONS_MINE)
        sc.kind = SCOPE_ALL; /* one's own, whatever one's scope covers */
    if (db_begin(&w->db) != 0 ||
        repo_session_get(&w->db, &sc, in->id, in->variant == SESSIONS_MINE ? me : 0, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such session");
        goto out;
    }
    uid = json_integer_value(json_object_get(row, "user_id"));
    if (uid != me && auth_user_manageable(w, job, uid) != 0)
        goto out;
    const char *jti = json_string_value(json_object_get(row, "access_jti"));
    json_t *exp = json_object_get(row, "access_exp");
    /* first the access token, as a logout does: without Redis nothing changes (retry) */
    if (jti && json_is_integer(exp) && revoke_access(w, jti, json_integer_value(exp)) != 0) {
        svc_job_fail(job, 503, "redis_unavailable", "the session could not be ended; retry");
        goto out;
    }
    if (repo_refresh_revoke_family(&w->db, json_string_value(json_object_get(row, "family_id"))) !=
        0)
        goto out;
    json_t *data =
        json_pack("{s:O, s:I, s:O, s:O, s:b}", "username", json_object_get(row, "username"),
                  "session_id", (json_int_t)in->id, "ip", json_object_get(row, "ip"), "user_agent",
                  json_object_get(row, "user_agent"), "own", uid == me);
    if (kit_commit(w, job, "user", uid, "auth.session_revoked", data, NULL) != 0)
        goto out;
    svc_job_ok(job, 204, NULL);
out:
    json_decref(row);
}

static void end_of(struct http_request *req, void *arg, enum sessions_whose whose)
{
    long long id = kit_path_id(req, "id");
    if (id == 0)
        return;
    struct kit_in *in = kit_in_new(NULL, id);
    in->variant = whose;
    svc_submit(arg, req, end_work, in, kit_in_free);
}

static void session_end(struct http_request *req, void *arg)
{
    end_of(req, arg, SESSIONS_ANY);
}

static void my_session_end(struct http_request *req, void *arg)
{
    end_of(req, arg, SESSIONS_MINE);
}

int sessions_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/sessions", sessions_list) ||
           svc_route(s, "DELETE", "/api/v1/sessions/{id}", session_end) ||
           svc_route(s, "GET", "/api/v1/auth/sessions", my_sessions_list) ||
           svc_route(s, "DELETE", "/api/v1/auth/sessions/{id}", my_session_end);
}
