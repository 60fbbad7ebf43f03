/* SPDX-License-Identifier: Apache-2.0 */
/* proxy: forward a request to a service over a keep-alive connection pool; 502/504 on failure. */
#include "proxy.h"
#include "crmlog.h"
#include "encoding.h"
#include "httpparse.h"
#include "proof.h"
#include "util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROXY_MAX_RESPONSE_HEAD (64 * 1024)
#define PROXY_MAX_RESPONSE_BODY (64 * 1024 * 1024)
/* JSON answers between these sizes are gzipped for a client that accepts it: below the lower
 * bound the saving is less than a packet, above the upper one the loop thread would stall for
 * tens of milliseconds (lists are paged, so such answers are rare) and they go as they are. */
#define PROXY_GZIP_MIN   1024
#define PROXY_GZIP_MAX   (4 * 1024 * 1024)
#define PROXY_GZIP_LEVEL 5
/* Answers of these paths are never compressed: they carry tokens (login, refresh) beside what
 * the client sent, the situation of BREACH, where the compressed length leaks a secret. */
#define PROXY_NO_GZIP_PREFIX "/api/v1/auth/"

struct gw_conn;

/* One request in flight to a service. */
struct gw_exchange {
    struct gw_upstream *up;
    struct http_request *req;
    struct gw_conn *conn;
    struct event *timer;
    bool tls;
    bool got_bytes; /* any byte of the response arrived */
    bool head_done;
    struct http_head head;
    size_t body_need;
    bool body_until_close;
    bool upstream_keep_alive;
    int attempts;
    struct http_stream *st; /* a stream passed through: the client's side ('req' is gone) */
    bool streaming;         /* it became a stream (its connection counts as one, not as busy) */
    void *stream_handle;    /* the stream hooks' handle */
};

struct gw_conn {
    struct gw_upstream *up;
    struct bufferevent *bev;
    struct gw_exchange *ex; /* NULL while idle */
    bool connected;
    bool reused;
    struct gw_conn *next; /* idle list */
};

struct gw_upstream {
    struct event_base *base;
    char name[16];
    char hostport[80];
    struct sockaddr_in sin;
    struct gw_upstream_opts opts;
    struct gw_conn *idle;
    long nidle, nbusy;
    long nstreams; /* connections carrying a stream: outside max_conns (http.c caps streams) */
    uint64_t errors, timeouts;
};

static void ex_send(struct gw_exchange *ex);

long gw_upstream_streams(const struct gw_upstream *u)
{
    return u->nstreams;
}

void gw_upstream_stats(const struct gw_upstream *u, long *busy, long *idle, uint64_t *errors,
                       uint64_t *timeouts)
{
    *busy = u->nbusy;
    *idle = u->nidle;
    *errors = u->errors;
    *timeouts = u->timeouts;
}

struct gw_upstream *gw_upstream_new(struct event_base *base, const char *name,
                                    const struct config_addr *addr,
                                    const struct gw_upstream_opts *opts)
{
    struct gw_upstream *u = xcalloc(1, sizeof(*u));
    u->base = base;
    snprintf(u->name, sizeof(u->name), "%s", name);
    snprintf(u->hostport, sizeof(u->hostport), "%s:%d", addr->host, addr->port);
    u->sin.sin_family = AF_INET;
    u->sin.sin_port = htons((uint16_t)addr->port);
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    if (inet_pton(AF_INET, host, &u->sin.sin_addr) != 1) {
        free(u);
        return NULL;
    }
    u->opts = *opts;
    return u;
}

static void conn_destroy(struct gw_conn *c)
{
    bufferevent_free(c->bev);
    free(c);
}

/* Close a pooled connection, idle or busy, keeping the pool's counts. */
static void conn_close(struct gw_conn *c)
{
    struct gw_upstream *u = c->up;
    if (c->ex == NULL) {
        /* unlink from the idle list */
        struct gw_conn **pp = &u->idle;
        while (*pp && *pp != c)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = c->next;
            u->nidle--;
        }
    } else {
        if (c->ex->streaming)
            u->nstreams--;
        else
            u->nbusy--;
        c->ex->conn = NULL;
    }
    conn_destroy(c);
}

void gw_upstream_free(struct gw_upstream *u)
{
    if (u == NULL)
        return;
    while (u->idle)
        conn_close(u->idle);
    free(u);
}

static void ex_free(struct gw_exchange *ex)
{
    if (ex->timer)
        event_free(ex->timer);
    http_head_cleanup(&ex->head);
    free(ex);
}

/* Finish the exchange with a problem reply; the connection (if any) is closed. */
static void ex_fail(struct gw_exchange *ex, int status, const char *code, const char *detail)
{
    if (ex->conn)
        conn_close(ex->conn);
    if (status == 504)
        ex->up->timeouts++;
    else
        ex->up->errors++;
    log_warn(ex->req->request_id, "upstream %s: %s", ex->up->name, detail);
    http_reply_problem(ex->req, status, code, detail, NULL);
    ex_free(ex);
}

static bool hop_by_hop(const char *name)
{
    static const char *const hop[] = {"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                      "Trailer", "Transfer-Encoding", "Upgrade",
                                      "Proxy-Authenticate", "Proxy-Authorization",
                                      /* the gateway answers Expect itself (http.c): a service
                                       * would send a 100 of its own */
                                      "Expect"};
    for (size_t i = 0; i < ARRAY_LEN(hop); i++) {
        if (strcasecmp(name, hop[i]) == 0)
            return true;
    }
    return false;
}

/* Headers a client must never be able to set for the services: identity and forwarding. */
static bool client_forbidden(const char *name)
{
    static const char *const prefixes[] = {"X-Crm-",       "X-User",       "X-Auth-",
                                           "X-Forwarded-", "X-Real-Ip",    "X-Remote-",
                                           "Remote-User",  "X-Request-Id", "X-Client-Request-Id"};
    for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    return strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Length") == 0;
}

/* Whether 'ctype' is JSON: application/json, or any application/...+json (problem+json). */
static bool is_json(const char *ctype)
{
    if (ctype == NULL || strncasecmp(ctype, "application/", 12) != 0)
        return false;
    size_t n = strcspn(ctype, "; \t");
    return (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) ||
           (n > 17 && strncasecmp(ctype + n - 5, "+json", 5) == 0);
}

/* Gzip the answer 'body' of 'ex' in place when it is worth it and allowed: JSON of
 * PROXY_GZIP_MIN..PROXY_GZIP_MAX bytes, not already encoded, no "Cache-Control: no-transform"
 * from the service, not under PROXY_NO_GZIP_PREFIX. Such an answer gets "Vary:
 * Accept-Encoding" whether or not this client accepts gzip. Returns the coding of 'body'. */
static enum gw_encoding ex_encode(struct gw_exchange *ex, struct evbuffer *body)
{
    struct http_request *req = ex->req;
    struct evbuffer *gz = NULL;
    enum gw_encoding enc = GW_ENCODING_IDENTITY;
    size_t len = evbuffer_get_length(body);
    const char *cc = http_head_get(&ex->head, "Cache-Control");

    if (len < PROXY_GZIP_MIN || len > PROXY_GZIP_MAX || ex->head.status == 206 ||
        !is_json(http_head_get(&ex->head, "Content-Type")) ||
        http_head_get(&ex->head, "Content-Encoding") != NULL ||
        (cc && strcasestr(cc, "no-transform") != NULL) ||
        strncmp(req->path, PROXY_NO_GZIP_PREFIX, strlen(PROXY_NO_GZIP_PREFIX)) == 0)
        goto out;
    http_add_header(req, "Vary", "Accept-Encoding");
    if (gw_encoding_choose(http_req_header(req, "Accept-Encoding"), 1u << GW_ENCODING_GZIP) !=
        GW_ENCODING_GZIP)
        goto out;
    gz = evbuffer_new();
    if (gw_encoding_gzip(body, PROXY_GZIP_LEVEL, gz) != 0) {
        log_warn(req->request_id, "upstream %s: gzip failed, the answer goes uncompressed",
                 ex->up->name);
        goto out;
    }
    if (evbuffer_get_length(gz) >= len)
        goto out;
    evbuffer_drain(body, len);
    evbuffer_add_buffer(body, gz);
    http_add_header(req, "Content-Encoding", gw_encoding_name(GW_ENCODING_GZIP));
    enc = GW_ENCODING_GZIP;
out:
    if (gz)
        evbuffer_free(gz);
    return enc;
}

/* The service's ETag 'v' for the answer in coding 'enc': a coding's bytes differ, so its
 * validator does too ("x" becomes "x-gz"). */
static void add_etag(struct http_request *req, const char *v, enum gw_encoding enc)
{
    size_t n = strlen(v);
    if (enc == GW_ENCODING_IDENTITY || n < 2 || v[n - 1] != '"') {
        http_add_header(req, "ETag", v);
        return;
    }
    char *t = xasprintf("%.*s%s\"", (int)(n - 1), v, gw_encoding_etag_suffix(enc));
    http_add_header(req, "ETag", t);
    free(t);
}

/* The service's answer headers onto the client's answer (not those of the hop, nor what the
 * gateway sets itself); returns its Content-Type. */
static const char *ex_copy_headers(struct gw_exchange *ex, enum gw_encoding enc)
{
    struct http_request *req = ex->req;
    const char *ctype = NULL;
    for (size_t i = 0; i < ex->head.nheaders; i++) {
        const char *n = ex->head.headers[i].name, *v = ex->head.headers[i].value;
        if (strcasecmp(n, "Content-Type") == 0)
            ctype = v;
        else if (strcasecmp(n, "ETag") == 0)
            add_etag(req, v, enc);
        else if (!hop_by_hop(n) && strcasecmp(n, "Content-Length") != 0 &&
                 strcasecmp(n, "Date") != 0 && strcasecmp(n, "X-Request-Id") != 0 &&
                 strcasecmp(n, "X-Client-Request-Id") != 0 &&
                 strcasecmp(n, "X-Content-Type-Options") != 0 &&
                 strcasecmp(n, "X-Accel-Buffering") != 0) /* http.c sets it on a stream */
            http_add_header(req, n, v);
    }
    return ctype;
}

/* The response is complete: relay it to the client and park or close the connection. */
static void ex_complete(struct gw_exchange *ex, struct evbuffer *body)
{
    struct http_request *req = ex->req;
    struct gw_conn *c = ex->conn;
    enum gw_encoding enc = ex_encode(ex, body);
    const char *ctype = ex_copy_headers(ex, enc);
    event_del(ex->timer);
    if (c) {
        c->ex = NULL;
        ex->conn = NULL;
        struct gw_upstream *u = c->up;
        u->nbusy--;
        if (ex->upstream_keep_alive && !ex->body_until_close && u->nidle < u->opts.idle_conns &&
            evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
            c->reused = true;
            c->next = u->idle;
            u->idle = c;
            u->nidle++;
        } else {
            conn_destroy(c);
        }
    }
    http_reply_evbuf(req, ex->head.status, ctype, body);
    ex_free(ex);
}

/* ------------------------------------------------------------------------------------------ */
/* streams passed through                                                                      */

/* A stream's end, whoever ends it: the hooks are told, the service's connection closes and the
 * exchange is freed. With 'end_client' the client's side is ended too (it is gone otherwise). */
static void ex_stream_close(struct gw_exchange *ex, bool end_client)
{
    const struct gw_stream_hooks *h = ex->up->opts.streams;
    if (end_client && ex->st)
        http_stream_end(ex->st);
    ex->st = NULL;
    if (h && h->closed)
        h->closed(ex->stream_handle, h->arg);
    if (ex->conn)
        conn_close(ex->conn);
    ex_free(ex);
}

void gw_proxy_stream_end(struct gw_exchange *ex)
{
    ex_stream_close(ex, true);
}

/* The client left (or stopped reading, or the gateway stops). */
static void ex_on_client_close(struct http_stream *st, void *arg)
{
    struct gw_exchange *ex = arg;
    (void)st;
    ex->st = NULL;
    ex_stream_close(ex, false);
}

/* Pass on what the service sent; false when the stream ended meanwhile ('ex' is gone). */
static bool ex_stream_pump(struct gw_exchange *ex)
{
    struct evbuffer *in = bufferevent_get_input(ex->conn->bev);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return true;
    if (http_stream_write(ex->st, evbuffer_pullup(in, (ev_ssize_t)len), len) != 0)
        return false; /* the client does not read: ex_on_client_close ran */
    evbuffer_drain(in, len);
    return true;
}

static bool is_event_stream(const char *ctype)
{
    return ctype && strncasecmp(ctype, "text/event-stream", 17) == 0 &&
           (ctype[17] == '\0' || ctype[17] == ';' || ctype[17] == ' ');
}

/* The service answered with a stream: its head goes to the client now, then every piece. */
static void ex_stream_begin(struct gw_exchange *ex, const char *ctype)
{
    const struct gw_stream_hooks *h = ex->up->opts.streams;
    struct http_request *req = ex->req;
    event_del(ex->timer); /* a stream has no deadline: its heartbeats show it lives */
    /* a stream holds its connection for hours: it must not use up the pool that the requests
     * to the service share (the streams have their own cap, max_streams) */
    ex->streaming = true;
    ex->up->nbusy--;
    ex->up->nstreams++;
    (void)ex_copy_headers(ex, GW_ENCODING_IDENTITY);
    ex->stream_handle = h && h->opened ? h->opened(req, ex, h->arg) : NULL;
    ex->req = NULL; /* answered below: the request is done once its head is out */
    ex->st = http_stream_start(req, ex->head.status, ctype, ex_on_client_close, ex);
    if (ex->st == NULL) {
        ex_stream_close(ex, false); /* refused (too many streams), or the client left */
        return;
    }
    (void)ex_stream_pump(ex);
}

/* Parse what has arrived; returns when more bytes are needed or the exchange ended. */
static void ex_read(struct gw_exchange *ex)
{
    if (ex->st) {
        (void)ex_stream_pump(ex);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(ex->conn->bev);
    if (evbuffer_get_length(in) > 0)
        ex->got_bytes = true;
    while (!ex->head_done) {
        struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (p.pos < 0) {
            if (evbuffer_get_length(in) > PROXY_MAX_RESPONSE_HEAD)
                ex_fail(ex, 502, "bad_gateway", "the service sent an oversized response head");
            return;
        }
        size_t hlen = (size_t)p.pos + 4;
        int rc = http_parse_response_head((const char *)evbuffer_pullup(in, (ev_ssize_t)hlen), hlen,
                                          &ex->head);
        evbuffer_drain(in, hlen);
        if (rc != 0 || ex->head.status < 100 || ex->head.status == 101) {
            ex_fail(ex, 502, "bad_gateway", "the service sent a malformed response");
            return;
        }
        if (ex->head.status < 200) {
            /* an interim answer (100 Continue, 103): the final one follows; the service is
             * carrying the request out, so this is never a failure */
            http_head_cleanup(&ex->head);
            continue;
        }
        ex->head_done = true;
        const char *conn = http_head_get(&ex->head, "Connection");
        ex->upstream_keep_alive = !(conn && strcasecmp(conn, "close") == 0);
        const char *cl = http_head_get(&ex->head, "Content-Length");
        if (http_head_get(&ex->head, "Transfer-Encoding") != NULL) {
            ex_fail(ex, 502, "bad_gateway", "the service sent a chunked response");
            return;
        }
        bool no_body = ex->head.status == 204 || ex->head.status == 304 ||
                       strcmp(ex->req->head.method, "HEAD") == 0;
        if (no_body) {
            ex->body_need = 0;
        } else if (cl != NULL) {
            if (http_parse_content_length(cl, &ex->body_need) != 0 ||
                ex->body_need > PROXY_MAX_RESPONSE_BODY) {
                ex_fail(ex, 502, "bad_gateway", "the service sent a bad Content-Length");
                return;
            }
        } else {
            ex->body_until_close = true;
        }
    }
    if (ex->body_until_close && ex->head.status == 200 &&
        is_event_stream(http_head_get(&ex->head, "Content-Type"))) {
        ex_stream_begin(ex, http_head_get(&ex->head, "Content-Type"));
        return;
    }
    if (ex->body_until_close)
        return; /* completed on EOF */
    if (evbuffer_get_length(in) >= ex->body_need) {
        struct evbuffer *body = evbuffer_new();
        evbuffer_remove_buffer(in, body, ex->body_need);
        ex_complete(ex, body);
        evbuffer_free(body);
    }
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
    struct gw_conn *c = arg;
    if (c->ex == NULL) {
        /* Bytes on an idle connection are a protocol error: drop it. */
        (void)bev;
        conn_close(c);
        return;
    }
    ex_read(c->ex);
}

static bool method_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct gw_conn *c = arg;
    struct gw_exchange *ex = c->ex;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        c->connected = true;
        bufferevent_set_timeouts(c->bev, NULL, NULL);
        return;
    }
    if (ex == NULL) {
        conn_close(c); /* the service closed an idle connection */
        return;
    }
    if (ex->st) {
        /* the service ended the stream (or its connection broke): what came goes on, then the
         * client's side closes */
        if (ex_stream_pump(ex))
            ex_stream_close(ex, true);
        return;
    }
    if ((what & BEV_EVENT_EOF) && ex->body_until_close && ex->head_done) {
        struct evbuffer *body = evbuffer_new();
        evbuffer_add_buffer(body, bufferevent_get_input(c->bev));
        ex->upstream_keep_alive = false;
        ex_complete(ex, body);
        evbuffer_free(body);
        return;
    }
    /* A reused connection the service had already closed: try once more on a fresh one, when
     * nothing came back and repeating the request cannot change anything twice. */
    if (c->reused && !ex->got_bytes && ex->attempts < 2 &&
        method_idempotent(ex->req->head.method)) {
        conn_close(c);
        ex_send(ex);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        ex_fail(ex, 502, "bad_gateway", "the service did not accept the connection in time");
    else if (!c->connected)
        ex_fail(ex, 502, "bad_gateway", "the service is not reachable");
    else
        ex_fail(ex, 502, "bad_gateway", "the service closed the connection");
}

static void ex_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct gw_exchange *ex = arg;
    (void)fd;
    (void)what;
    ex_fail(ex, 504, "gateway_timeout", "the service did not answer in time");
}

/* A connection for 'ex': an idle one, or a new one when the pool has room. */
static struct gw_conn *conn_acquire(struct gw_upstream *u)
{
    struct gw_conn *c = u->idle;
    if (c) {
        u->idle = c->next;
        u->nidle--;
        c->next = NULL;
        u->nbusy++;
        return c;
    }
    c = xcalloc(1, sizeof(*c));
    c->up = u;
    c->bev = bufferevent_socket_new(u->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, conn_on_read, NULL, conn_on_event, c);
    struct timeval ctv = {u->opts.connect_timeout_ms / 1000,
                          (u->opts.connect_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, NULL, &ctv);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    /* A refused connect is reported later through the event callback; -1 means the socket
     * could not even be made. */
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&u->sin, sizeof(u->sin)) != 0) {
        conn_destroy(c);
        return NULL;
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    u->nbusy++;
    return c;
}

/* Write the request on a connection from the pool. */
static void ex_send(struct gw_exchange *ex)
{
    struct gw_upstream *u = ex->up;
    struct http_request *req = ex->req;
    ex->attempts++;
    ex->got_bytes = false;
    if (u->idle == NULL && u->nbusy >= u->opts.max_conns) {
        http_add_header(req, "Retry-After", "1");
        u->errors++;
        http_reply_problem(req, 503, "overloaded", "too many requests in flight to the service",
                           NULL);
        ex_free(ex);
        return;
    }
    struct gw_conn *c = conn_acquire(u);
    if (c == NULL) {
        ex_fail(ex, 502, "bad_gateway", "no connection to the service could be made");
        return;
    }
    c->ex = ex;
    ex->conn = c;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", req->head.method, req->head.target,
                        u->hostport);
    for (size_t i = 0; i < req->head.nheaders; i++) {
        const char *n = req->head.headers[i].name;
        if (hop_by_hop(n) || client_forbidden(n))
            continue;
        evbuffer_add_printf(out, "%s: %s\r\n", n, req->head.headers[i].value);
    }
    /* What the gateway vouches for, signed: the service believes the address, the ids and
     * the token's verification only with this proof. */
    const char *proto = ex->tls ? "https" : "http";
    const struct proof_fields pf = {req->head.method,
                                    req->head.target,
                                    req->request_id,
                                    req->client_ip,
                                    proto,
                                    req->client_request_id[0] ? req->client_request_id : NULL,
                                    http_req_header(req, "Authorization")};
    char proof[PROOF_VALUE_MAX];
    proof_make(u->opts.proof_key, util_wall_s(), &pf, proof);
    if (req->client_request_id[0])
        evbuffer_add_printf(out, "X-Client-Request-Id: %s\r\n", req->client_request_id);
    evbuffer_add_printf(out,
                        "X-Request-Id: %s\r\nX-Forwarded-For: %s\r\nX-Forwarded-Proto: %s\r\n"
                        "%s: %s\r\nContent-Length: %zu\r\n\r\n",
                        req->request_id, req->client_ip, proto, PROOF_HEADER, proof, req->body_len);
    if (req->body_len)
        evbuffer_add(out, req->body, req->body_len);
    /* Idle connections already have data pending? A reused one answers from here on. */
    if (c->reused && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        ex_read(ex);
}

void gw_proxy(struct gw_upstream *u, struct http_request *req, bool tls)
{
    struct gw_exchange *ex = xcalloc(1, sizeof(*ex));
    ex->up = u;
    ex->req = req;
    ex->tls = tls;
    ex->timer = evtimer_new(u->base, ex_on_timeout, ex);
    struct timeval tv = {u->opts.timeout_ms / 1000, (u->opts.timeout_ms % 1000) * 1000};
    event_add(ex->timer, &tv);
    ex_send(ex);
}
