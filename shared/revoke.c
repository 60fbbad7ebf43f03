/* SPDX-License-Identifier: Apache-2.0 */
/* revoke: revoked access tokens, known to every process at once. Auth records a revocation in
 * Redis (a sorted set each) and publishes it; every process keeps the live set in memory, loaded
 * on connect and kept current by the subscription, so a check costs a hash lookup. */
#include "revoke.h"
#include "crmlog.h"
#include "rds.h"
#include "util.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Access tokens live 15 minutes: older revocations cannot matter any more. */
#define REVOKE_HORIZON_S (15 * 60 + 60)
#define REVOKE_SLOTS     16384 /* per table; open addressing */

struct revoke_entry {
    char key[72];
    int64_t value;
};

struct revoke_table {
    struct revoke_entry *slots;
    size_t used;
    int64_t per_second; /* values are seconds (1) or milliseconds (1000) */
};

struct revoke {
    struct event_base *base;
    char host[64];
    int port;
    redisAsyncContext *sub; /* SUBSCRIBE connection */
    redisAsyncContext *cmd; /* snapshot loads */
    struct event *retry;
    int backoff_ms;
    bool subscribed, loaded_jti, loaded_user;
    struct revoke_table jti, user;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Set 'key' to 'value' (keeping the larger value). A full table drops entries past their time. */
static void table_put(struct revoke_table *t, const char *key, int64_t value)
{
    if (strlen(key) >= sizeof(t->slots[0].key))
        return;
    if (t->used * 4 >= REVOKE_SLOTS * 3) {
        /* prune: everything older than the horizon is irrelevant */
        int64_t cutoff = (util_wall_s() - REVOKE_HORIZON_S) * t->per_second;
        struct revoke_entry *old = t->slots;
        t->slots = xcalloc(REVOKE_SLOTS, sizeof(*t->slots));
        t->used = 0;
        for (size_t i = 0; i < REVOKE_SLOTS; i++) {
            if (old[i].key[0] && old[i].value >= cutoff)
                table_put(t, old[i].key, old[i].value);
        }
        free(old);
    }
    uint32_t h = hash_str(key);
    for (size_t i = 0; i < REVOKE_SLOTS; i++) {
        struct revoke_entry *e = &t->slots[(h + i) & (REVOKE_SLOTS - 1)];
        if (e->key[0] == '\0') {
            snprintf(e->key, sizeof(e->key), "%s", key);
            e->value = value;
            t->used++;
            return;
        }
        if (strcmp(e->key, key) == 0) {
            if (value > e->value)
                e->value = value;
            return;
        }
    }
}

static bool table_get(const struct revoke_table *t, const char *key, int64_t *value)
{
    uint32_t h = hash_str(key);
    for (size_t i = 0; i < REVOKE_SLOTS; i++) {
        const struct revoke_entry *e = &t->slots[(h + i) & (REVOKE_SLOTS - 1)];
        if (e->key[0] == '\0')
            return false;
        if (strcmp(e->key, key) == 0) {
            *value = e->value;
            return true;
        }
    }
    return false;
}

bool revoke_is_revoked(const struct revoke *r, const char *jti, const char *sub, int64_t iat_ms)
{
    int64_t v;
    if (r == NULL)
        return false;
    if (jti && table_get(&r->jti, jti, &v))
        return true;
    return sub && table_get(&r->user, sub, &v) && iat_ms < v;
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
    snprintf(min_s, sizeof(min_s), "%lld", (long long)(util_wall_s() - REVOKE_HORIZON_S));
    snprintf(min_ms, sizeof(min_ms), "%lld", (long long)(util_wall_s() - REVOKE_HORIZON_S) * 1000);
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
    r->jti.slots = xcalloc(REVOKE_SLOTS, sizeof(*r->jti.slots));
    r->jti.per_second = 1;
    r->user.slots = xcalloc(REVOKE_SLOTS, sizeof(*r->user.slots));
    r->user.per_second = 1000;
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
    free(r->jti.slots);
    free(r->user.slots);
    free(r);
}

/* ---- writers ---- */

static int revoke_record(struct rds *rds, const char *key, const char *kind, const char *id,
                         int64_t value, int64_t per_second)
{
    char v[32], msg[128], prune[32];
    snprintf(v, sizeof(v), "%lld", (long long)value);
    snprintf(msg, sizeof(msg), "%s %s %lld", kind, id, (long long)value);
    snprintf(prune, sizeof(prune), "%lld",
             (long long)((util_wall_s() - REVOKE_HORIZON_S) * per_second));
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
    return revoke_record(rds, REVOKE_JTI_KEY, "jti", jti, exp, 1);
}

int revoke_user_before(struct rds *rds, const char *user_id, int64_t not_before_ms)
{
    return revoke_record(rds, REVOKE_USER_KEY, "user", user_id, not_before_ms, 1000);
}
