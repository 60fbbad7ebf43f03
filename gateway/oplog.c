/* SPDX-License-Identifier: Apache-2.0 */
/* oplog: the operation log of state-changing API requests, sent to crm:stream:gateway. */
#include "oplog.h"
#include "crmlog.h"
#include "events.h"
#include "rds.h"
#include "util.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define OPLOG_STREAM  "crm:stream:gateway"
#define TRIM_EVERY_MS 250 /* up to 4 x EVENTS_TRIM_CHUNK entries a second */

struct oplog_entry {
    char *json;
    struct oplog_entry *next;
};

struct gw_oplog {
    struct event_base *base;
    char host[64];
    int port;
    redisAsyncContext *ac;
    bool connected;
    struct event *retry;
    struct event *trim; /* every TRIM_EVERY_MS */
    long trim_above;
    int backoff_ms;
    struct oplog_entry *head, *tail; /* waiting to be sent */
    long queued, max_queued;
    uint64_t sent, dropped;
};

static void oplog_connect(struct gw_oplog *o);
static void oplog_flush(struct gw_oplog *o);

static void oplog_push_front(struct gw_oplog *o, struct oplog_entry *e)
{
    e->next = o->head;
    o->head = e;
    if (o->tail == NULL)
        o->tail = e;
    o->queued++;
}

static void oplog_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct gw_oplog *o = ac->data;
    struct oplog_entry *e = privdata;
    redisReply *r = reply;
    if (o != NULL && r == NULL) {
        oplog_push_front(o, e); /* not stored: it goes again after the reconnect */
        return;
    }
    if (o != NULL && r->type == REDIS_REPLY_ERROR) {
        /* refused (memory, permissions): at the back of the queue, tried again in a second */
        e->next = NULL;
        if (o->tail)
            o->tail->next = e;
        else
            o->head = e;
        o->tail = e;
        o->queued++;
        if (!event_pending(o->retry, EV_TIMEOUT, NULL)) {
            struct timeval tv = {1, 0};
            event_add(o->retry, &tv);
        }
        return;
    }
    if (o)
        o->sent++;
    free(e->json);
    free(e);
}

static void oplog_on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct gw_oplog *o = arg;
    (void)fd;
    (void)what;
    if (o->ac == NULL)
        oplog_connect(o);
    else
        oplog_flush(o);
}

static void oplog_schedule(struct gw_oplog *o)
{
    o->connected = false;
    o->backoff_ms = o->backoff_ms ? o->backoff_ms * 2 : 100;
    if (o->backoff_ms > 5000)
        o->backoff_ms = 5000;
    struct timeval tv = {o->backoff_ms / 1000, (o->backoff_ms % 1000) * 1000};
    event_add(o->retry, &tv);
}

static void oplog_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct gw_oplog *o = ac->data;
    (void)status;
    if (o == NULL)
        return;
    o->ac = NULL;
    oplog_schedule(o);
}

static void oplog_on_connect(const redisAsyncContext *ac, int status)
{
    struct gw_oplog *o = ac->data;
    if (o == NULL)
        return;
    if (status != REDIS_OK) {
        o->ac = NULL;
        oplog_schedule(o);
        return;
    }
    o->connected = true;
    o->backoff_ms = 0;
    oplog_flush(o);
}

static void oplog_connect(struct gw_oplog *o)
{
    o->ac = redisAsyncConnect(o->host, o->port);
    if (o->ac == NULL || o->ac->err) {
        if (o->ac)
            redisAsyncFree(o->ac);
        o->ac = NULL;
        oplog_schedule(o);
        return;
    }
    o->ac->data = o;
    redisLibeventAttach(o->ac, o->base);
    redisAsyncSetConnectCallback(o->ac, oplog_on_connect);
    redisAsyncSetDisconnectCallback(o->ac, oplog_on_disconnect);
    rds_async_auth(o->ac);
}

/* Send everything waiting; replies come back to oplog_on_reply. */
static void oplog_flush(struct gw_oplog *o)
{
    while (o->connected && o->ac && o->head) {
        struct oplog_entry *e = o->head;
        o->head = e->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->queued--;
        const char *argv[] = {"XADD", OPLOG_STREAM, "*", "event", e->json};
        size_t argl[] = {4, strlen(OPLOG_STREAM), 1, 5, strlen(e->json)};
        if (redisAsyncCommandArgv(o->ac, oplog_on_reply, e, 5, argv, argl) != REDIS_OK) {
            oplog_push_front(o, e);
            break;
        }
    }
}

/* A refused trim (a script error, Redis out of memory) is tried again on the next tick; it is
 * logged, since the stream would otherwise grow without anyone knowing. */
static void oplog_on_trimmed(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *r = reply;
    (void)ac;
    (void)privdata;
    static uint64_t last_warned_ms; /* the loop's thread only: at most one line a minute */
    if (r && r->type == REDIS_REPLY_ERROR && util_now_ms() - last_warned_ms >= 60000) {
        log_warn(NULL, "trimming %s: %s", OPLOG_STREAM, r->str);
        last_warned_ms = util_now_ms();
    }
}

/* Trim the stream a little (EVENTS_TRIM_LUA: never an entry a group still needs). */
static void oplog_on_trim(evutil_socket_t fd, short what, void *arg)
{
    struct gw_oplog *o = arg;
    (void)fd;
    (void)what;
    if (o->connected && o->ac) {
        char above[24], chunk[24];
        snprintf(above, sizeof(above), "%ld", o->trim_above);
        snprintf(chunk, sizeof(chunk), "%d", EVENTS_TRIM_CHUNK);
        const char *argv[] = {"EVAL", EVENTS_TRIM_LUA, "1", OPLOG_STREAM, above, chunk};
        size_t argl[6];
        for (size_t i = 0; i < 6; i++)
            argl[i] = strlen(argv[i]);
        redisAsyncCommandArgv(o->ac, oplog_on_trimmed, NULL, 6, argv, argl);
    }
}

struct gw_oplog *gw_oplog_new(struct event_base *base, const char *host, int port, long max_queued,
                              long trim_above)
{
    struct gw_oplog *o = xcalloc(1, sizeof(*o));
    o->base = base;
    snprintf(o->host, sizeof(o->host), "%s", host);
    o->port = port;
    o->max_queued = max_queued;
    o->trim_above = trim_above;
    o->retry = evtimer_new(base, oplog_on_retry, o);
    o->trim = event_new(base, -1, EV_PERSIST, oplog_on_trim, o);
    struct timeval every = {0, TRIM_EVERY_MS * 1000};
    event_add(o->trim, &every);
    oplog_connect(o);
    return o;
}

void gw_oplog_free(struct gw_oplog *o)
{
    if (o == NULL)
        return;
    if (o->ac) {
        o->ac->data = NULL;
        redisAsyncFree(o->ac);
    }
    while (o->head) {
        struct oplog_entry *e = o->head;
        o->head = e->next;
        free(e->json);
        free(e);
    }
    event_free(o->retry);
    event_free(o->trim);
    free(o);
}

void gw_oplog_record(struct gw_oplog *o, const struct http_request *req, const char *user_id)
{
    const char *m = req->head.method;
    if (o == NULL || m == NULL || req->path == NULL || strncmp(req->path, "/api/", 5) != 0 ||
        !(strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
          strcmp(m, "DELETE") == 0))
        return;
    char id[37], ts[80];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    events_uuid_v7(id);
    double ms = (double)(util_now_us() - req->start_us) / 1000.0;
    json_t *env = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:{s:s?, s:s}, s:{s:s, s:s}, s:{s:s, s:s?, s:s, s:s, s:s,"
        " s:i, s:f}, s:s}",
        "id", id, "type", "gateway.operation", "version", 1, "occurred_at", ts, "producer",
        "gateway", "actor", "user_id", user_id, "ip", req->client_ip, "subject", "type", "request",
        "id", req->request_id, "data", "request_id", req->request_id, "user_id", user_id, "ip",
        req->client_ip, "method", m, "path", req->path, "status", req->status, "duration_ms", ms,
        "request_id", req->request_id);
    if (env == NULL)
        return;
    struct oplog_entry *e = xcalloc(1, sizeof(*e));
    e->json = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (o->queued >= o->max_queued && o->head) {
        /* bounded memory while Redis is away: the oldest goes, counted */
        struct oplog_entry *old = o->head;
        o->head = old->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->queued--;
        o->dropped++;
        free(old->json);
        free(old);
    }
    if (o->tail)
        o->tail->next = e;
    else
        o->head = e;
    o->tail = e;
    o->queued++;
    oplog_flush(o);
}

void gw_oplog_stats(const struct gw_oplog *o, uint64_t *sent, uint64_t *queued, uint64_t *dropped)
{
    *sent = o->sent;
    *queued = (uint64_t)o->queued;
    *dropped = o->dropped;
}
