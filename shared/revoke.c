/* SPDX-License-Identifier: Apache-2.0 */
/* revoke: revoked access tokens, known to every process at once. Auth records a revocation in
 * Redis (a sorted set each) and publishes it; every process keeps the live set in memory, loaded
 * on connect and kept current by the subscription, so a check costs a hash lookup. */
#include "revoke.h"
#include "crmlog.h"
#include "rds.h"
#include "revset.h"
#include "util.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * How long a revocation matters. A revoked jti matters until its token expires (its value is
 * the exp, plus a minute of clock skew). A user's not-before matters while a token issued
 * before it can still be alive: for the longest access token life auth may be configured with
 * (REVOKE_MAX_TTL_S, the upper bound of auth's access_ttl_s), plus the same minute. It used to
 * be a fixed 16 minutes while access_ttl_s went up to a day: a revoked token came back to life.
 */
#define REVOKE_SKEW_S      60
#define REVOKE_USER_KEEP_S (REVOKE_MAX_TTL_S + REVOKE_SKEW_S)
/* Slots per table: it starts small and doubles while needed; full beyond the bound, it fails
 * closed (every token counts as revoked until what it lost no longer matters) rather than
 * drop a revocation silently. */
#define REVOKE_SLOTS_INITIAL 16384
#define REVOKE_SLOTS_MAX     (1 << 19)

struct revoke {
    struct event_base *base;
    char host[64];
    int port;
    redisAsyncContext *sub; /* SUBSCRIBE connection */
    redisAsyncContext *cmd; /* snapshot loads (closed once both are in) */
    struct event *retry;
    int backoff_ms;
    bool subscribed, loaded_jti, loaded_user;
    struct revset jti, user;
};

static void table_put(struct revset *t, const char *key, int64_t value)
{
    if (!revset_put(t, key, value, util_wall_s()))
        log_error(NULL, "revocation table full: every token counts as revoked for a while");
}

bool revoke_is_revoked(const struct revoke *r, const char *jti, const char *sub, int64_t iat_ms)
{
    int64_t v, now = util_wall_s();
    if (r == NULL)
        return false;
    if (revset_failing(&r->jti, now) || revset_failing(&r->user, now))
        return true; /* a revocation was lost: fail closed */
    if (jti && revset_get(&r->jti, jti, &v))
        return true;
    return sub && revset_get(&r->user, sub, &v) && iat_ms < v;
}

bool revoke_ready(const struct revoke *r)
{
    return r && r->subscribed && r->loaded_jti && r->loaded_user;
}

/* ---- connection handling ---- */

static void revoke_connect(struct revoke *r);

static void revoke_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    revoke_connect(arg);
}

/* Drop both connections and try again later (never from inside a hiredis callback of the
 * context being freed: redisAsyncDisconnect defers the free). */
static void revoke_schedule_retry(struct revoke *r)
{
    r->subscribed = r->loaded_jti = r->loaded_user = false;
    if (event_pending(r->retry, EV_TIMEOUT, NULL))
        return;
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 100;
    if (r->backoff_ms > 5000)
        r->backoff_ms = 5000;
    struct timeval tv = {r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};
    event_add(r->retry, &tv);
}

static void revoke_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct revoke *r = ac->data;
    (void)status;
    if (r == NULL)
        return;
    if (ac == r->sub)
        r->sub = NULL;
    if (ac == r->cmd)
        r->cmd = NULL;
    /* the other one goes too; the retry makes both anew */
    if (r->sub) {
        r->sub->data = NULL;
        redisAsyncDisconnect(r->sub);
        r->sub = NULL;
    }
    if (r->cmd) {
        r->cmd->data = NULL;
        redisAsyncDisconnect(r->cmd);
        r->cmd = NULL;
    }
    log_warn(NULL, "revocation feed lost; reconnecting");
    revoke_schedule_retry(r);
}

static void revoke_on_connect(const redisAsyncContext *ac, int status)
{
    struct revoke *r = ac->data;
    if (r != NULL && status != REDIS_OK)
        revoke_on_disconnect(ac, status);
}

/* "jti <id> <exp>" or "user <id> <not_before>" */
static void revoke_apply_message(struct revoke *r, const char *msg)
{
    char kind[8], id[72];
    long long v;
    if (sscanf(msg, "%7s %71s %lld", kind, id, &v) != 3)
        return;
    if (strcmp(kind, "jti") == 0)
        table_put(&r->jti, id, v);
    else if (strcmp(kind, "user") == 0)
        table_put(&r->user, id, v);
}

static void revoke_on_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct revoke *r = ac->data;
    redisReply *rep = reply;
    (void)privdata;
    if (r == NULL || rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return;
    const char *type = rep->element[0]->str;
    if (type && strcmp(type, "subscribe") == 0) {
        r->subscribed = true;
        r->backoff_ms = 0;
    } else if (type && strcmp(type, "message") == 0 && rep->element[2]->str) {
        revoke_apply_message(r, rep->element[2]->str);
    }
}

static void revoke_on_snapshot(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct revoke *r = ac->data;
    redisReply *rep = reply;
    bool is_jti = privdata == (void *)1;
    if (r == NULL || rep == NULL || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        if (rep->element[i]->str && rep->element[i + 1]->str)
            table_put(is_jti ? &r->jti : &r->user, rep->element[i]->str,
                      strtoll(rep->element[i + 1]->str, NULL, 10));
    }
    if (is_jti)
        r->loaded_jti = true;
    else
        r->loaded_user = true;
    if (r->loaded_jti && r->loaded_user && r->cmd != NULL) {
        /* The snapshot is in: the link that read it goes, so that only the subscription stays
         * open. Redis dropping an idle command link (CLIENT KILL TYPE normal, an idle timeout)
         * then leaves the feed alone: losing either link drops both and, until the retry has
         * subscribed again, a revocation would be missed for up to the backoff. */
        r->cmd->data = NULL;
        redisAsyncDisconnect(r->cmd);
        r->cmd = NULL;
    }
    if (revoke_ready(r))
        log_info(NULL, "revocation set loaded (%zu tokens, %zu users)", r->jti.used, r->user.used);
}

static void revoke_connect(struct revoke *r)
{
    r->sub = redisAsyncConnect(r->host, r->port);
    r->cmd = redisAsyncConnect(r->host, r->port);
    if (r->sub == NULL || r->cmd == NULL || r->sub->err || r->cmd->err) {
        if (r->sub)
            redisAsyncFree(r->sub);
        if (r->cmd)
            redisAsyncFree(r->cmd);
        r->sub = r->cmd = NULL;
        revoke_schedule_retry(r);
        return;
    }
    r->sub->data = r;
    r->cmd->data = r;
    redisLibeventAttach(r->sub, r->base);
    redisLibeventAttach(r->cmd, r->base);
    redisAsyncSetConnectCallback(r->sub, revoke_on_connect);
    redisAsyncSetConnectCallback(r->cmd, revoke_on_connect);
    redisAsyncSetDisconnectCallback(r->sub, revoke_on_disconnect);
    redisAsyncSetDisconnectCallback(r->cmd, revoke_on_disconnect);
    rds_async_auth(r->sub);
    rds_async_auth(r->cmd);
    /* Subscribe first, then read the snapshot: nothing published in between is missed. */
    redisAsyncCommand(r->sub, revoke_on_message, NULL, "SUBSCRIBE %s", REVOKE_CHANNEL);
    char min_s[32], min_ms[32];
    snprintf(min_s, sizeof(min_s), "%lld", (long long)(util_wall_s() - REVOKE_SKEW_S));
    snprintf(min_ms, sizeof(min_ms), "%lld",
             (long long)(util_wall_s() - REVOKE_USER_KEEP_S) * 1000);
    redisAsyncCommand(r->cmd, revoke_on_snapshot, (void *)1, "ZRANGEBYSCORE %s %s +inf WITHSCORES",
                      REVOKE_JTI_KEY, min_s);
    redisAsyncCommand(r->cmd, revoke_on_snapshot, (void *)2, "ZRANGEBYSCORE %s %s +inf WITHSCORES",
                      REVOKE_USER_KEY, min_ms);
}

struct revoke *revoke_new(struct event_base *base, const char *host, int port)
{
    struct revoke *r = xcalloc(1, sizeof(*r));
    r->base = base;
    snprintf(r->host, sizeof(r->host), "%s", host);
    r->port = port;
    revset_init(&r->jti, REVOKE_SLOTS_INITIAL, REVOKE_SLOTS_MAX, 1, REVOKE_SKEW_S);
    revset_init(&r->user, REVOKE_SLOTS_INITIAL, REVOKE_SLOTS_MAX, 1000, REVOKE_USER_KEEP_S);
    r->retry = evtimer_new(base, revoke_on_retry, r);
    revoke_connect(r);
    return r;
}

void revoke_free(struct revoke *r)
{
    if (r == NULL)
        return;
    if (r->sub) {
        r->sub->data = NULL;
        redisAsyncFree(r->sub);
    }
    if (r->cmd) {
        r->cmd->data = NULL;
        redisAsyncFree(r->cmd);
    }
    event_free(r->retry);
    revset_cleanup(&r->jti);
    revset_cleanup(&r->user);
    free(r);
}

/* ---- writers ---- */

static int revoke_record(struct rds *rds, const char *key, const char *kind, const char *id,
                         int64_t value, int64_t per_second, int64_t keep_s)
{
    char v[32], msg[128], prune[32];
    snprintf(v, sizeof(v), "%lld", (long long)value);
    snprintf(msg, sizeof(msg), "%s %s %lld", kind, id, (long long)value);
    snprintf(prune, sizeof(prune), "%lld", (long long)((util_wall_s() - keep_s) * per_second));
    /* GT keeps the later time if one is already there */
    redisReply *a = rds_command(rds, "ZADD %s GT %s %s", key, v, id);
    bool ok = a && a->type == REDIS_REPLY_INTEGER;
    if (a)
        freeReplyObject(a);
    if (!ok)
        return -1;
    redisReply *p = rds_command(rds, "PUBLISH %s %s", REVOKE_CHANNEL, msg);
    ok = p && p->type == REDIS_REPLY_INTEGER;
    if (p)
        freeReplyObject(p);
    redisReply *z = rds_command(rds, "ZREMRANGEBYSCORE %s -inf (%s", key, prune);
    if (z)
        freeReplyObject(z);
    return ok ? 0 : -1;
}

int revoke_token(struct rds *rds, const char *jti, int64_t exp)
{
    return revoke_record(rds, REVOKE_JTI_KEY, "jti", jti, exp, 1, REVOKE_SKEW_S);
}

int revoke_user_before(struct rds *rds, const char *user_id, int64_t not_before_ms)
{
    return revoke_record(rds, REVOKE_USER_KEY, "user", user_id, not_before_ms, 1000,
                         REVOKE_USER_KEEP_S);
}
