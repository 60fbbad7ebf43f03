/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_session: login, refresh, logout, the caller's profile and password, JWKS. */
#include "auth.h"
#include "crmlog.h"
#include "events.h"
#include "jsonv.h"
#include "kit.h"
#include "repo.h"
#include "routes.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a login or refresh job carries besides the request. */
struct session_in {
    json_t *body;
    char ip[64];
    char ua[256];
    char request_id[65];
    char jti[64]; /* logout: the access token to revoke */
    int64_t exp;
    long long user_id;
    int64_t issued_ms;     /* when the job started: the iat_ms of the tokens it issues */
    struct auth_ctx *slot; /* a password change holds a slot of its account (password_slot) */
};

static void password_slot_release(struct auth_ctx *a, long long user_id);

/* On the loop (a job's data is freed there). */
static void session_in_free(void *p)
{
    struct session_in *in = p;
    if (in->slot)
        password_slot_release(in->slot, in->user_id);
    json_decref(in->body);
    free(in);
}

static struct session_in *session_in_new(struct http_request *req, json_t *body)
{
    struct session_in *in = xcalloc(1, sizeof(*in));
    in->body = body;
    snprintf(in->ip, sizeof(in->ip), "%s", req->client_ip);
    const char *ua = http_req_header(req, "User-Agent");
    snprintf(in->ua, sizeof(in->ua), "%s", ua ? ua : "");
    snprintf(in->request_id, sizeof(in->request_id), "%s", req->request_id);
    in->issued_ms = tokens_now_ms();
    return in;
}

/* ------------------------------------------------------------------------------------------ */
/* throttling: a fixed one-minute window per address and per account, in Redis                  */

/* True when 'key' is over 'limit' in this minute; '*retry' says when the window ends. A Redis
 * outage does not lock everyone out: the lockout counter in the database still protects. */
static bool throttled(struct svc_worker *w, const char *key, long limit, long *retry)
{
    redisReply *r = rds_command(&w->rds, "INCR %s", key);
    if (r == NULL)
        return false;
    long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    if (n == 1) {
        r = rds_command(&w->rds, "EXPIRE %s 60", key);
        if (r)
            freeReplyObject(r);
    }
    if (n <= limit)
        return false;
    r = rds_command(&w->rds, "TTL %s", key);
    *retry = r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? r->integer : 60;
    if (r)
        freeReplyObject(r);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* issuing tokens                                                                              */

/* Build the token pair for 'user_id' inside the open transaction: a new access token and a
 * refresh token in 'family' (a new family when NULL). */
static json_t *issue_pair(struct auth_ctx *a, struct svc_worker *w, long long user_id,
                          const char *family, const struct session_in *in)
{
    json_t *user = NULL, *roles = NULL, *perms = NULL, *pair = NULL;
    char fam[37], refresh[64];
    unsigned char hash[32];
    int64_t exp = 0;
    if (repo_user_get(&w->db, NULL, user_id, false, &user) != 0 || user == NULL ||
        repo_user_roles(&w->db, user_id, &roles) != 0 ||
        repo_user_perms(&w->db, user_id, &perms) != 0)
        goto out;
    if (family)
        snprintf(fam, sizeof(fam), "%s", family);
    else
        events_uuid(fam);
    tokens_refresh_new(refresh, hash);
    char jti[37];
    char *access = tokens_access(a, user, roles, perms, in->issued_ms, &exp, jti);
    if (access == NULL)
        goto out;
    /* with the access token's id: ending the session ends it too (handlers_sessions.c) */
    if (repo_refresh_insert(&w->db, hash, fam, user_id, a->cfg->refresh_ttl_s, in->ip, in->ua, jti,
                            exp) != 0) {
        free(access);
        goto out;
    }
    pair = json_pack("{s:s, s:s, s:s, s:I}", "access_token", access, "refresh_token", refresh,
                     "token_type", "Bearer", "expires_in", (json_int_t)a->cfg->access_ttl_s);
    free(access);
out:
    json_decref(user);
    json_decref(roles);
    json_decref(perms);
    return pair;
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/auth/login                                                                     */

static const struct jsonv_field login_fields[] = {
    {"username", JSONV_STRING, true, false, 1, 64, NULL, JSONV_STRING},
    {"password", JSONV_STRING, true, false, 1, 128, NULL, JSONV_STRING},
    JSONV_END,
};

/* How a login ends: one table of the reasons the audit records, one function that decides. */
enum login_outcome {
    LOGIN_OK,
    LOGIN_UNKNOWN_USER,
    LOGIN_DISABLED,
    LOGIN_LOCKED,
    LOGIN_BAD_CREDENTIALS,
};

static const char *const login_reasons[] = {
    [LOGIN_OK] = "ok",
    [LOGIN_UNKNOWN_USER] = "unknown_user",
    [LOGIN_DISABLED] = "disabled",
    [LOGIN_LOCKED] = "locked",
    [LOGIN_BAD_CREDENTIALS] = "bad_credentials",
};

/* The outcome for 'user' (the login row, NULL when unknown) and 'password'. The password is
 * verified in every case, against a dummy hash for an unknown user, so every answer takes as
 * long as a known user's. */
static enum login_outcome login_decide(const struct auth_ctx *a, json_t *user, const char *password)
{
    if (user == NULL) {
        (void)password_verify(a->dummy_hash, password);
        return LOGIN_UNKNOWN_USER;
    }
    bool ok = password_verify(json_string_value(json_object_get(user, "password_hash")), password);
    if (strcmp(json_string_value(json_object_get(user, "status")), "disabled") == 0)
        return LOGIN_DISABLED;
    if (json_integer_value(json_object_get(user, "locked_now")) != 0)
        return LOGIN_LOCKED;
    return ok ? LOGIN_OK : LOGIN_BAD_CREDENTIALS;
}

/* Whether this address or this account is over its per-minute budget ('*retry' says when it
 * ends). 'username' is the one spelling (auth_username_canon) the database stores, so every
 * spelling that reaches an account shares its counter; NULL (not a username at all) counts
 * against the address only. Logins and password changes share these counters. */
static bool login_throttled(struct svc_worker *w, const struct session_in *in, const char *username,
                            long *retry)
{
    const struct auth_ctx *a = auth_of(w->svc);
    char key[160];
    snprintf(key, sizeof(key), "crm:login:ip:%s", in->ip);
    bool limited = throttled(w, key, a->cfg->login_per_ip_per_min, retry);
    if (username == NULL)
        return limited;
    snprintf(key, sizeof(key), "crm:login:user:%s", username);
    return throttled(w, key, a->cfg->login_per_account_per_min, retry) || limited;
}

/* A refused login inside the open transaction: a wrong password counts towards the lock, and
 * the events say why (auth.login_failed, and user.locked when this failure locked the account).
 * Commits; 0 or -1. */
static int login_refused(struct svc_worker *w, const struct session_in *in, const char *username,
                         long long uid, enum login_outcome outcome)
{
    const struct auth_ctx *a = auth_of(w->svc);
    struct events_actor actor = {NULL, in->ip};
    char sid[32];
    bool now_locked = false;
    snprintf(sid, sizeof(sid), "%lld", uid);
    if (outcome == LOGIN_BAD_CREDENTIALS) {
        json_t *after = NULL;
        if (repo_user_login_failed(&w->db, uid, a->cfg->lockout_threshold, auth_lockout_s(a)) !=
                0 ||
            repo_user_for_login(&w->db, username, &after) != 0)
            return -1;
        now_locked = json_integer_value(json_object_get(after, "locked_now")) != 0;
        json_decref(after);
    }
    if (events_outbox_add(&w->db, "auth", "auth.login_failed", &actor, "user", uid ? sid : username,
                          json_pack("{s:s, s:s, s:s, s:s}", "username", username, "ip", in->ip,
                                    "user_agent", in->ua, "reason", login_reasons[outcome]),
                          in->request_id, NULL) != 0 ||
        (now_locked && events_outbox_add(&w->db, "auth", "user.locked", &actor, "user", sid,
                                         json_pack("{s:s, s:i, s:i}", "username", username,
                                                   "minutes", (int)((auth_lockout_s(a) + 59) / 60),
                                                   "seconds", (int)auth_lockout_s(a)),
                                         in->request_id, NULL) != 0) ||
        db_commit(&w->db) != 0)
        return -1;
    svc_events_committed(w->svc);
    return 0;
}

/* A good login inside the open transaction: the failure count resets, a token pair is issued
 * ('*pair') and auth.login_succeeded recorded. Commits; 0 or -1. */
static int login_accepted(struct svc_worker *w, const struct session_in *in, const char *username,
                          long long uid, json_t **pair)
{
    struct events_actor actor = {NULL, in->ip};
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", uid);
    if (repo_user_login_succeeded(&w->db, uid) != 0 ||
        (*pair = issue_pair(auth_of(w->svc), w, uid, NULL, in)) == NULL ||
        events_outbox_add(
            &w->db, "auth", "auth.login_succeeded", &actor, "user", sid,
            json_pack("{s:s, s:s, s:s}", "username", username, "ip", in->ip, "user_agent", in->ua),
            in->request_id, NULL) != 0 ||
        db_commit(&w->db) != 0)
        return -1;
    svc_events_committed(w->svc);
    return 0;
}

static void login_work(struct svc_worker *w, struct svc_job *job)
{
    struct session_in *in = job->data;
    const char *given = json_string_value(json_object_get(in->body, "username"));
    const char *password = json_string_value(json_object_get(in->body, "password"));
    json_t *user = NULL, *pair = NULL;
    long retry = 60;
    char username[AUTH_USERNAME_MAX + 1];
    /* not a username at all ('sec_mgr   ', 'SëC_MGR', 'ſec_mgr'): no account has it, so it is
     * refused like wrong credentials, counted against the address, without a hash to verify */
    bool valid = auth_username_canon(given, username);

    if (login_throttled(w, in, valid ? username : NULL, &retry)) {
        job->retry_after = retry;
        svc_job_fail(job, 429, "too_many_attempts", "too many login attempts; wait and retry");
        goto out;
    }
    if (!valid) {
        if (db_begin(&w->db) == 0 && login_refused(w, in, given, 0, LOGIN_UNKNOWN_USER) == 0)
            svc_job_fail(job, 401, "invalid_credentials", "the username or password is wrong");
        goto out;
    }
    if (db_begin(&w->db) != 0 || repo_user_for_login(&w->db, username, &user) != 0)
        goto out;
    enum login_outcome outcome = login_decide(auth_of(w->svc), user, password);
    long long uid = user ? json_integer_value(json_object_get(user, "id")) : 0;
    if (outcome != LOGIN_OK) {
        if (login_refused(w, in, username, uid, outcome) == 0)
            svc_job_fail(job, 401, "invalid_credentials", "the username or password is wrong");
        goto out;
    }
    if (login_accepted(w, in, username, uid, &pair) == 0)
        svc_job_ok(job, 200, json_incref(pair));
out:
    json_decref(user);
    json_decref(pair);
}

static void login(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    json_t *body = kit_body(req, login_fields);
    if (body == NULL)
        return;
    svc_submit_to(s, auth_of(s)->hash_pool, req, login_work, session_in_new(req, body),
                  session_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/auth/refresh                                                                   */

static const struct jsonv_field refresh_fields[] = {
    {"refresh_token", JSONV_STRING, true, false, 1, 256, NULL, JSONV_STRING},
    JSONV_END,
};

static void refresh_invalid(struct svc_job *job)
{
    svc_job_fail(job, 401, "invalid_refresh_token", "the refresh token is not valid");
}

/* A used refresh token came back: someone holds a stolen copy. The whole chain dies, and with
 * it the access tokens of the user. Commits; 0 or -1. */
static int refresh_reused(struct svc_worker *w, const struct session_in *in, json_t *row)
{
    long long uid = json_integer_value(json_object_get(row, "user_id"));
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", uid);
    struct events_actor actor = {sid, in->ip};
    if (repo_refresh_revoke_family(&w->db, json_string_value(json_object_get(row, "family_id"))) !=
            0 ||
        events_outbox_add(&w->db, "auth", "auth.token_reuse_detected", &actor, "user", sid,
                          json_pack("{s:s, s:s}", "ip", in->ip, "user_agent", in->ua),
                          in->request_id, NULL) != 0 ||
        tokens_revoke_access(w, uid) != 0 || db_commit(&w->db) != 0)
        return -1;
    svc_events_committed(w->svc);
    if (tokens_revoke_pending(w) != 0)
        log_warn(in->request_id, "the revocation of user %lld waits for Redis", uid);
    return 0;
}

static void refresh_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct session_in *in = job->data;
    unsigned char hash[32];
    json_t *row = NULL, *user = NULL, *pair = NULL;
    tokens_refresh_hash(json_string_value(json_object_get(in->body, "refresh_token")), hash);
    if (db_begin(&w->db) != 0 || repo_refresh_find(&w->db, hash, &row) != 0)
        goto out;
    if (row == NULL || json_integer_value(json_object_get(row, "expired")) ||
        json_integer_value(json_object_get(row, "revoked"))) {
        refresh_invalid(job);
        goto out;
    }
    if (json_integer_value(json_object_get(row, "used"))) {
        if (refresh_reused(w, in, row) == 0)
            refresh_invalid(job);
        goto out;
    }
    long long uid = json_integer_value(json_object_get(row, "user_id"));
    if (repo_user_get(&w->db, NULL, uid, false, &user) != 0)
        goto out;
    const char *status = user ? json_string_value(json_object_get(user, "status")) : "disabled";
    if (strcmp(status, "enabled") != 0) {
        refresh_invalid(job);
        goto out;
    }
    if (repo_refresh_mark_used(&w->db, json_integer_value(json_object_get(row, "id"))) != 0 ||
        (pair = issue_pair(a, w, uid, json_string_value(json_object_get(row, "family_id")), in)) ==
            NULL ||
        db_commit(&w->db) != 0)
        goto out;
    svc_job_ok(job, 200, json_incref(pair));
out:
    json_decref(row);
    json_decref(user);
    json_decref(pair);
}

static void refresh(struct http_request *req, void *arg)
{
    json_t *body = kit_body(req, refresh_fields);
    if (body == NULL)
        return;
    svc_submit(arg, req, refresh_work, session_in_new(req, body), session_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/auth/logout                                                                    */

static const struct jsonv_field logout_fields[] = {
    {"refresh_token", JSONV_STRING, false, false, 1, 256, NULL, JSONV_STRING},
    JSONV_END,
};

static void logout_work(struct svc_worker *w, struct svc_job *job)
{
    struct session_in *in = job->data;
    const char *refresh_tok = json_string_value(json_object_get(in->body, "refresh_token"));
    json_t *row = NULL, *user = NULL;
    if (revoke_token(&w->rds, in->jti, in->exp) != 0) {
        svc_job_fail(job, 503, "redis_unavailable", "the logout could not be recorded; retry");
        goto out;
    }
    if (db_begin(&w->db) != 0)
        goto out;
    if (refresh_tok) {
        unsigned char hash[32];
        tokens_refresh_hash(refresh_tok, hash);
        if (repo_refresh_find(&w->db, hash, &row) != 0)
            goto out;
        /* only the caller's own session: someone else's token changes nothing */
        if (row && json_integer_value(json_object_get(row, "user_id")) == in->user_id &&
            repo_refresh_revoke_family(&w->db,
                                       json_string_value(json_object_get(row, "family_id"))) != 0)
            goto out;
    }
    if (repo_user_get(&w->db, NULL, in->user_id, false, &user) != 0)
        goto out;
    /* the username, so the login log can be searched by it for logouts too */
    json_t *data = json_pack("{s:s?, s:s, s:s}", "username",
                             json_string_value(json_object_get(user, "username")), "ip", in->ip,
                             "user_agent", in->ua);
    if (kit_commit(w, job, "user", in->user_id, "auth.logout", data, NULL) != 0)
        goto out;
    svc_job_ok(job, 204, NULL);
out:
    json_decref(row);
    json_decref(user);
}

static void logout(struct http_request *req, void *arg)
{
    json_t *body = req->body_len ? kit_body(req, logout_fields) : json_object();
    if (body == NULL)
        return;
    const struct svc_identity *id = svc_identity(req);
    struct session_in *in = session_in_new(req, body);
    snprintf(in->jti, sizeof(in->jti), "%s", id->jti);
    in->exp = json_integer_value(json_object_get(id->claims, "exp"));
    in->user_id = atoll(id->user_id);
    svc_submit(arg, req, logout_work, in, session_in_free);
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/auth/jwks                                                                       */

static void jwks(struct http_request *req, void *arg)
{
    http_add_header(req, "Cache-Control", "public, max-age=300");
    http_reply_json(req, 200, tokens_jwks(auth_of(arg)));
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/auth/me                                                                         */

/* The menu tree the caller may see: items whose permission they hold, groups with children. */
static json_t *menu_tree(const struct auth_ctx *a, json_t *perms, const char *parent)
{
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(a->menus, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "parent")), parent) != 0)
            continue;
        const char *key = json_string_value(json_object_get(m, "key"));
        const char *perm = json_string_value(json_object_get(m, "permission"));
        json_t *children = menu_tree(a, perms, key);
        bool group = *perm == '\0';
        bool allowed = group ? json_array_size(children) > 0 : routes_perms_allow(perms, perm);
        if (!allowed) {
            json_decref(children);
            continue;
        }
        char title[80];
        snprintf(title, sizeof(title), "menu.%s", key);
        json_t *item = json_pack("{s:s, s:s, s:O, s:O, s:o}", "key", key, "title_key", title,
                                 "path", json_object_get(m, "path"), "icon",
                                 json_object_get(m, "icon"), "children", children);
        if (!group)
            json_object_set(item, "permission", json_object_get(m, "permission"));
        json_array_append_new(out, item);
    }
    return out;
}

static void me_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    const struct svc_identity *id = svc_identity(job->req);
    long long uid = atoll(id->user_id);
    json_t *user = NULL, *roles = NULL, *perms = NULL;
    if (repo_user_get(&w->db, NULL, uid, false, &user) != 0 ||
        repo_user_roles(&w->db, uid, &roles) != 0 || repo_user_perms(&w->db, uid, &perms) != 0)
        goto out;
    if (user == NULL) {
        svc_job_fail(job, 404, "not_found", "the account no longer exists");
        goto out;
    }
    json_object_set(user, "roles", roles);
    json_object_set_new(user, "data_scope", json_string(tokens_widest_scope(roles)));
    json_object_set(user, "permissions", perms);
    json_object_set_new(user, "menus", menu_tree(a, perms, ""));
    svc_job_ok(job, 200, json_incref(user));
out:
    json_decref(user);
    json_decref(roles);
    json_decref(perms);
}

static void me(struct http_request *req, void *arg)
{
    svc_submit(arg, req, me_work, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/v1/auth/password                                                                  */

static const struct jsonv_field password_fields[] = {
    {"old_password", JSONV_STRING, true, false, 1, 128, NULL, JSONV_STRING},
    {"new_password", JSONV_STRING, true, false, 1, 512, NULL, JSONV_STRING},
    JSONV_END,
};

/*
 * Guessing the current password here is a login by another door, so it is throttled like one:
 * the same per-address and per-account counters (checked before any hashing), and a wrong
 * old_password counts towards the account's lock like a wrong login password (a locked account
 * is refused before hashing too). And argon2id runs on the hashing pool that logins share: an
 * account may have one password change there at a time (password_slot, on the loop), so a
 * client hammering this route queues one hash, not hundreds, ahead of other people's logins.
 */

/* Take the account's one slot for a password change on the hashing pool; false when one of
 * its changes is queued or running. On the loop. */
static bool password_slot_take(struct auth_ctx *a, long long user_id)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", user_id);
    if (json_object_get(a->password_slots, key) != NULL)
        return false;
    json_object_set_new(a->password_slots, key, json_true());
    return true;
}

static void password_slot_release(struct auth_ctx *a, long long user_id)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", user_id);
    json_object_del(a->password_slots, key);
}

static void too_many(struct svc_job *job, long retry, const char *detail)
{
    job->retry_after = retry;
    svc_job_fail(job, 429, "too_many_attempts", "%s", detail);
}

/* A wrong old_password, inside the open transaction: counted towards the lock (user.locked
 * when this one locked the account). Commits; 0 or -1. */
static int password_refused(struct svc_worker *w, struct svc_job *job, json_t *row)
{
    const struct auth_ctx *a = auth_of(w->svc);
    const struct session_in *in = job->data;
    json_t *after = NULL;
    struct events_actor actor = kit_actor(job);
    char sid[32];
    snprintf(sid, sizeof(sid), "%lld", in->user_id);
    if (repo_user_login_failed(&w->db, in->user_id, a->cfg->lockout_threshold, auth_lockout_s(a)) !=
            0 ||
        repo_user_password_hash(&w->db, in->user_id, &after) != 0)
        return -1;
    bool now_locked = json_integer_value(json_object_get(after, "locked_now")) != 0;
    json_decref(after);
    if ((now_locked &&
         events_outbox_add(
             &w->db, "auth", "user.locked", &actor, "user", sid,
             json_pack("{s:O, s:i, s:i}", "username", json_object_get(row, "username"), "minutes",
                       (int)((auth_lockout_s(a) + 59) / 60), "seconds", (int)auth_lockout_s(a)),
             in->request_id, NULL) != 0) ||
        db_commit(&w->db) != 0)
        return -1;
    svc_events_committed(w->svc);
    return 0;
}

static void password_work(struct svc_worker *w, struct svc_job *job)
{
    struct auth_ctx *a = auth_of(w->svc);
    struct session_in *in = job->data;
    const char *old_pw = json_string_value(json_object_get(in->body, "old_password"));
    const char *new_pw = json_string_value(json_object_get(in->body, "new_password"));
    json_t *row = NULL;
    char hash[160];
    long retry = 60;
    if (db_begin(&w->db) != 0 || repo_user_password_hash(&w->db, in->user_id, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "the account no longer exists");
        goto out;
    }
    /* before any hashing: the counters of logins, then the lock */
    if (login_throttled(w, in, json_string_value(json_object_get(row, "username")), &retry)) {
        too_many(job, retry, "too many password attempts; wait and retry");
        goto out;
    }
    if (json_integer_value(json_object_get(row, "locked_now"))) {
        too_many(job, (long)json_integer_value(json_object_get(row, "lock_left_s")),
                 "the account is locked after too many wrong passwords; wait and retry");
        goto out;
    }
    json_t *why = json_array();
    if (!password_policy(a, new_pw, json_string_value(json_object_get(row, "username")),
                         json_string_value(json_object_get(row, "display_name")), "new_password",
                         why)) {
        kit_fail_fields(job, why, "the new password is not acceptable");
        goto out;
    }
    json_decref(why);
    if (!password_verify(json_string_value(json_object_get(row, "password_hash")), old_pw)) {
        if (password_refused(w, job, row) == 0)
            kit_fail(job, 422, "validation_failed", "the current password is wrong", "old_password",
                     JSONV_E_wrong_password, "is not the current password");
        goto out;
    }
    if (password_hash(a, new_pw, hash, sizeof(hash)) != 0 ||
        repo_user_set_password(&w->db, in->user_id, hash) != 0 ||
        repo_user_login_succeeded(&w->db, in->user_id) != 0 ||
        tokens_revoke_user(w, in->user_id) != 0 ||
        kit_commit(w, job, "user", in->user_id, "auth.password_changed",
                   json_pack("{s:s}", "ip", in->ip), NULL) != 0)
        goto out;
    if (tokens_revoke_pending(w) != 0)
        log_warn(in->request_id, "the revocation of user %lld waits for Redis", in->user_id);
    svc_job_ok(job, 204, NULL);
out:
    json_decref(row);
}

static void password(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    struct auth_ctx *a = auth_of(s);
    long long uid = atoll(svc_identity(req)->user_id);
    if (!password_slot_take(a, uid)) {
        http_add_header(req, "Retry-After", "1");
        http_reply_problem(req, 429, "too_many_attempts",
                           "a password change of this account is under way; wait and retry", NULL);
        return;
    }
    json_t *body = kit_body(req, password_fields);
    if (body == NULL) {
        password_slot_release(a, uid);
        return;
    }
    struct session_in *in = session_in_new(req, body);
    in->user_id = uid;
    in->slot = a;
    svc_submit_to(s, a->hash_pool, req, password_work, in, session_in_free);
}

int session_routes(struct svc *s)
{
    return svc_route(s, "POST", "/api/v1/auth/login", login) ||
           svc_route(s, "POST", "/api/v1/auth/refresh", refresh) ||
           svc_route(s, "POST", "/api/v1/auth/logout", logout) ||
           svc_route(s, "GET", "/api/v1/auth/jwks", jwks) ||
           svc_route(s, "GET", "/api/v1/auth/me", me) ||
           svc_route(s, "POST", "/api/v1/auth/password", password);
}
