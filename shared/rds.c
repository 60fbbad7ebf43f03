/* SPDX-License-Identifier: Apache-2.0 */
/* rds: a synchronous Redis connection with timeouts on every command and reconnect backoff. */
#include "rds.h"
#include "crmlog.h"
#include "util.h"

#include <errno.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RDS_BACKOFF_MAX_MS 5000

/* The process's Redis identity (rds_identity_load): written once before any thread starts. */
static char rds_user[64];
static char *rds_password;

int rds_identity_load(const char *user, const char *password_file)
{
    size_t len = 0;
    if (user == NULL || user[0] == '\0')
        return 0;
    if (strlen(user) >= sizeof(rds_user) || strpbrk(user, " \t\r\n") != NULL) {
        log_error(NULL, "config key 'redis_user': '%s' is not a Redis user name", user);
        return -1;
    }
    if (password_file == NULL || password_file[0] == '\0') {
        log_error(NULL, "config key 'redis_user' needs 'redis_password_file'");
        return -1;
    }
    char *pw = util_read_file(password_file, 4096, &len);
    if (pw == NULL) {
        log_error(NULL, "config key 'redis_password_file': cannot read '%s'", password_file);
        return -1;
    }
    while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
        pw[--len] = '\0';
    snprintf(rds_user, sizeof(rds_user), "%s", user);
    free(rds_password);
    rds_password = pw;
    return 0;
}

static void rds_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *rep = reply;
    (void)ac;
    (void)privdata;
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
        log_error(NULL, "redis refused AUTH as '%s': %s", rds_user, rep->str);
}

void rds_async_auth(struct redisAsyncContext *ac)
{
    if (rds_password == NULL)
        return;
    const char *argv[] = {"AUTH", rds_user, rds_password};
    size_t argl[] = {4, strlen(rds_user), strlen(rds_password)};
    redisAsyncCommandArgv(ac, rds_on_auth, NULL, 3, argv, argl);
}

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
    if (rds_password != NULL) {
        const char *argv[] = {"AUTH", rds_user, rds_password};
        size_t argl[] = {4, strlen(rds_user), strlen(rds_password)};
        redisReply *a = redisCommandArgv(r->c, 3, argv, argl);
        bool ok = a != NULL && a->type == REDIS_REPLY_STATUS;
        if (a != NULL && a->type == REDIS_REPLY_ERROR && r->backoff_ms == 0)
            log_error(NULL, "redis refused AUTH as '%s': %s", rds_user, a->str);
        if (a)
            freeReplyObject(a);
        if (!ok) {
            rds_fail(r, "AUTH refused");
            return -1;
        }
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

/*
 * Whether a command that failed on a link which had worked before should go again, once, on a
 * new link: Redis closed it (a restart, CLIENT KILL, an idle timeout), which it does between
 * commands, so this one was not carried out. Without this the first command of every pooled
 * connection after a Redis restart failed: a logout answered 503, a login throttle let one
 * through. A timeout is not retried (the command may have run). The link is dropped without
 * the backoff, and the caller connects again at once.
 */
static bool rds_retry(struct rds *r, bool fresh, const void *reply, int attempt)
{
    if (reply != NULL || fresh || attempt > 0 || r->c == NULL)
        return false;
    bool closed = r->c->err == REDIS_ERR_EOF ||
                  (r->c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
    if (!closed)
        return false;
    log_info(NULL, "redis %s:%d closed the connection (%s); reconnecting", r->host, r->port,
             r->c->errstr);
    rds_cleanup(r);
    return true;
}

redisReply *rds_command(struct rds *r, const char *fmt, ...)
{
    for (int attempt = 0;; attempt++) {
        bool fresh = r->c == NULL;
        if (rds_connect(r) != 0)
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        void *reply = redisvCommand(r->c, fmt, ap);
        va_end(ap);
        if (!rds_retry(r, fresh, reply, attempt))
            return rds_check(r, reply);
    }
}

redisReply *rds_commandv(struct rds *r, int argc, const char **argv, const size_t *argvlen)
{
    for (int attempt = 0;; attempt++) {
        bool fresh = r->c == NULL;
        if (rds_connect(r) != 0)
            return NULL;
        void *reply = redisCommandArgv(r->c, argc, argv, argvlen);
        if (!rds_retry(r, fresh, reply, attempt))
            return rds_check(r, reply);
    }
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
