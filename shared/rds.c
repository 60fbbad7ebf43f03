/* SPDX-License-Identifier: Apache-2.0 */
/* rds: a synchronous Redis connection with timeouts on every command and reconnect backoff. */
#include "rds.h"
#include "crmlog.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RDS_BACKOFF_MAX_MS 5000

void rds_init(struct rds *r, const char *host, int port, int timeout_ms)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->host, sizeof(r->host), "%s", host);
    r->port = port;
    r->timeout_ms = timeout_ms;
}

void rds_cleanup(struct rds *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
}

static void rds_fail(struct rds *r, const char *why)
{
    uint64_t now = util_now_ms();
    if (r->backoff_ms == 0)
        log_warn(NULL, "redis %s:%d unavailable: %s", r->host, r->port, why);
    rds_cleanup(r);
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 100;
    if (r->backoff_ms > RDS_BACKOFF_MAX_MS)
        r->backoff_ms = RDS_BACKOFF_MAX_MS;
    r->next_try_ms = now + (uint64_t)r->backoff_ms;
}

static int rds_connect(struct rds *r)
{
    if (r->c)
        return 0;
    if (util_now_ms() < r->next_try_ms)
        return -1;
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->c = redisConnectWithTimeout(r->host, r->port, tv);
    if (r->c == NULL || r->c->err) {
        rds_fail(r, r->c ? r->c->errstr : "out of memory");
        return -1;
    }
    if (redisSetTimeout(r->c, tv) != REDIS_OK) {
        rds_fail(r, "cannot set timeout");
        return -1;
    }
    if (r->backoff_ms)
        log_info(NULL, "redis %s:%d reachable again", r->host, r->port);
    r->backoff_ms = 0;
    return 0;
}

static redisReply *rds_check(struct rds *r, void *reply)
{
    if (reply == NULL) {
        rds_fail(r, r->c && r->c->err ? r->c->errstr : "no reply");
        return NULL;
    }
    return reply;
}

redisReply *rds_command(struct rds *r, const char *fmt, ...)
{
    va_list ap;
    if (rds_connect(r) != 0)
        return NULL;
    va_start(ap, fmt);
    void *reply = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return rds_check(r, reply);
}

redisReply *rds_commandv(struct rds *r, int argc, const char **argv, const size_t *argvlen)
{
    if (rds_connect(r) != 0)
        return NULL;
    return rds_check(r, redisCommandArgv(r->c, argc, argv, argvlen));
}

int rds_append(struct rds *r, int argc, const char **argv, const size_t *argvlen)
{
    if (rds_connect(r) != 0)
        return -1;
    if (redisAppendCommandArgv(r->c, argc, argv, argvlen) != REDIS_OK) {
        rds_fail(r, "cannot queue a command");
        return -1;
    }
    return 0;
}

redisReply *rds_reply(struct rds *r)
{
    if (r->c == NULL)
        return NULL;
    void *reply = NULL;
    if (redisGetReply(r->c, &reply) != REDIS_OK)
        reply = NULL;
    return rds_check(r, reply);
}

bool rds_ping(struct rds *r)
{
    redisReply *rep = rds_command(r, "PING");
    bool ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    if (rep)
        freeReplyObject(rep);
    return ok;
}
