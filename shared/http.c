/* SPDX-License-Identifier: Apache-2.0 */
/* http: HTTP/1.1 server on libevent bufferevents with limits, problem+json and graceful drain. */
#include "http.h"
#include "crmlog.h"
#include "jsonv.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* CONN_LINGER: a reply went out before the body was read; the rest of what the client sends is
 * read and thrown away for a moment after our FIN, so that closing with unread bytes does not
 * reset the connection before the client has read the reply. */
/* CONN_STREAM: a streaming answer (http_stream_start) owns the connection; what the client
 * sends is thrown away, and its close ends the stream. */
enum conn_state { CONN_HEAD, CONN_BODY, CONN_HANDLING, CONN_WRITING, CONN_LINGER, CONN_STREAM };

#define HTTP_KEEPALIVE_IDLE_MS 15000
#define HTTP_LINGER_MS         2000
#define HTTP_LINGER_MAX_BYTES  (4 << 20)
#define HTTP_ADDR_BUCKETS      1024
#define HTTP_STREAM_MAX_INPUT  4096 /* a streaming client that sends more is dropped */

/* Open connections of one client address (when the server caps them). */
struct addr_count {
    char ip[64];
    long n;
    struct addr_count *next;
};

struct http_conn {
    struct http_server *srv;
    struct bufferevent *bev;
    struct event *timer;
    enum conn_state state;
    struct http_request *req;
    size_t body_need;
    char client_ip[64];
    bool tls;
    bool close_after;
    bool body_pending; /* a body was announced and is not read yet */
    bool linger;       /* close with CONN_LINGER */
    size_t lingered;   /* bytes thrown away while lingering */
    struct addr_count *addr;
    unsigned nreq;
    struct http_stream *stream; /* CONN_STREAM */
    struct http_conn *prev, *next;
};

struct http_stream {
    struct http_conn *conn;
    http_stream_close_fn on_close;
    void *arg;
};

struct http_listener {
    struct evconnlistener *lev;
    SSL_CTX *ssl_ctx;
    struct http_server *srv;
};

struct http_server {
    struct event_base *base;
    char svc[32];
    struct http_limits lim;
    struct router *router;
    struct metrics *metrics;
    http_pre_fn pre;
    http_done_fn done;
    void *hook_arg;
    struct http_listener listeners[4];
    int nlisteners;
    struct http_conn *conns;
    long nconns;
    size_t buffered; /* request body bytes reserved by requests (max_buffered_bytes) */
    struct addr_count *addrs[HTTP_ADDR_BUCKETS];
    long norphans; /* requests still being handled whose client left */
    long nstreams; /* connections in CONN_STREAM */
    bool draining;
    void (*drain_done)(void *);
    void *drain_arg;
    struct event *drain_timer;
};

static void conn_free(struct http_conn *c);
static void conn_process(struct http_conn *c);
static void conn_send_error(struct http_conn *c, int status, const char *code, const char *detail);

#define K(field) offsetof(struct http_config, field)
const struct config_entry http_config_table[] = {
    {"max_body_bytes", CONFIG_INT, K(max_body_bytes), "1048576", 1024, 64 << 20, "413 above"},
    {"max_header_bytes", CONFIG_INT, K(max_header_bytes), "16384", 1024, 1 << 20, "431 above"},
    {"header_timeout_ms", CONFIG_INT, K(header_timeout_ms), "10000", 100, 600000,
     "a request head must arrive within this (slow clients get 408)"},
    {"body_timeout_ms", CONFIG_INT, K(body_timeout_ms), "30000", 100, 600000, "body time"},
    {"drain_timeout_ms", CONFIG_INT, K(drain_timeout_ms), "10000", 0, 600000,
     "graceful drain on SIGTERM"},
    {"max_connections", CONFIG_INT, K(max_connections), "10000", 1, 1000000, "open connections"},
    {"max_public_body_bytes", CONFIG_INT, K(max_public_body_bytes), "16384", 256, 64 << 20,
     "413 above, on a route that needs no token (login, refresh)"},
    {"max_buffered_body_bytes", CONFIG_INT, K(max_buffered_body_bytes), "33554432", 65536, 1L << 36,
     "request bodies of all connections together; 503 with Retry-After above"},
    {"max_streams", CONFIG_INT, K(max_streams), "2000", 0, 1000000,
     "streaming answers (server-sent events) open at once; 503 above (0: none allowed)"},
    {"trusted_proxy", CONFIG_STRING, K(trusted_proxy), "", 0, 0,
     "when set, only this peer's gateway proofs are believed (see proxy_secret_file)"},
    {"proxy_secret_file", CONFIG_FILE, K(proxy_secret_file), "", 0, 0,
     "the secret the gateway signs forwarded requests with (X-Crm-Proof); empty: no gateway"},
    CONFIG_END,
};
#undef K

void http_limits_from_config(const struct http_config *c, struct http_limits *out)
{
    out->max_header_bytes = (size_t)c->max_header_bytes;
    out->max_body_bytes = (size_t)c->max_body_bytes;
    out->max_public_body_bytes = (size_t)c->max_public_body_bytes;
    out->max_buffered_bytes = (size_t)c->max_buffered_body_bytes;
    out->max_conns_per_addr = 0;
    out->header_timeout_ms = c->header_timeout_ms;
    out->body_timeout_ms = c->body_timeout_ms;
    out->write_timeout_ms = 30000;
    out->max_connections = c->max_connections;
    out->drain_timeout_ms = c->drain_timeout_ms;
    out->max_streams = c->max_streams;
    snprintf(out->trusted_proxy, sizeof(out->trusted_proxy), "%s",
             c->trusted_proxy ? c->trusted_proxy : "");
}

/* ------------------------------------------------------------------------------------------ */
/* status texts and small helpers                                                              */

const char *http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

const char *http_req_header(const struct http_request *req, const char *name)
{
    return http_head_get(&req->head, name);
}

static void timer_set(struct event *ev, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* The Date header value, formatted once a second. */
static const char *http_date(void)
{
    static __thread time_t last;
    static __thread char buf[40];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* requests                                                                                    */

static struct http_request *request_new(struct http_conn *c)
{
    struct http_request *r = xcalloc(1, sizeof(*r));
    r->srv = c->srv;
    r->conn = c;
    r->start_us = util_now_us();
    snprintf(r->client_ip, sizeof(r->client_ip), "%s", c->client_ip);
    r->out_headers = evbuffer_new();
    r->tls = c->tls;
    return r;
}

static void request_free(struct http_request *r)
{
    if (r == NULL)
        return;
    if (r->user && r->user_free)
        r->user_free(r->user);
    r->srv->buffered -= r->body_reserved;
    http_head_cleanup(&r->head);
    http_query_cleanup(&r->query);
    free(r->path);
    free(r->body);
    evbuffer_free(r->out_headers);
    free(r);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
    /* Header injection is impossible by construction: CR and LF end the value. */
    size_t vlen = strcspn(value, "\r\n");
    if (strcasecmp(name, "Cache-Control") == 0)
        req->has_cache_control = true;
    evbuffer_add_printf(req->out_headers, "%s: %.*s\r\n", name, (int)vlen, value);
}

static void server_maybe_drained(struct http_server *s)
{
    if (s->draining && s->nconns == 0 && s->norphans == 0 && s->drain_done) {
        void (*done)(void *) = s->drain_done;
        s->drain_done = NULL;
        done(s->drain_arg);
    }
}

/* Write the response head and body to the connection and account for the request. With
 * 'stream' the head goes without a Content-Length and the connection becomes the stream's
 * (http_stream_start); returns false when the client had gone (nothing was written). */
static bool request_send(struct http_request *req, int status, const char *ctype,
                         struct evbuffer *body_buf, const void *body, size_t len, bool stream)
{
    struct http_server *s = req->srv;
    struct http_conn *c = req->conn;
    bool head_only = req->head.method && strcmp(req->head.method, "HEAD") == 0;

    if (req->replied) {
        log_error(req->request_id, "second reply to one request ignored (bug)");
        return false;
    }
    req->replied = true;
    req->status = status;
    req->resp_bytes = body_buf ? evbuffer_get_length(body_buf) : len;

    metrics_observe(s->metrics, req->route ? req->route->pattern : "unmatched",
                    req->head.method ? req->head.method : "-", status,
                    util_now_us() - req->start_us);
    if (s->done)
        s->done(req, s->hook_arg);

    if (c == NULL) {
        /* The client went away while we worked: nothing to send. */
        s->norphans--;
        request_free(req);
        server_maybe_drained(s);
        return false;
    }
    if (s->draining || status == 400 || status == 408 || status == 413 || status == 431 ||
        status == 411 || status == 501 || status == 505)
        c->close_after = true;
    if (!req->keep_alive || stream)
        c->close_after = true; /* a stream's body ends with the connection */
    if (c->body_pending) {
        /* refused before its body was read: the unread body must not be taken for a request */
        c->close_after = true;
        c->linger = true;
    }

    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, http_status_text(status),
                        http_date());
    if (!stream)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", req->resp_bytes);
    evbuffer_add_printf(out, "X-Request-Id: %s\r\n", req->request_id);
    if (req->client_request_id[0])
        evbuffer_add_printf(out, "X-Client-Request-Id: %s\r\n", req->client_request_id);
    if (ctype)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
    static const char nocache[] = "Cache-Control: no-cache\r\n",
                      noaccel[] = "X-Accel-Buffering: no\r\n";
    if (stream && !req->has_cache_control)
        evbuffer_add(out, nocache, sizeof(nocache) - 1);
    if (stream)
        evbuffer_add(out, noaccel, sizeof(noaccel) - 1);
    else if (!req->has_cache_control)
        evbuffer_add(out, "Cache-Control: no-store\r\n", 25);
    evbuffer_add(out, "X-Content-Type-Options: nosniff\r\n", 33);
    /* HSTS only where it is true: a browser ignores it over plain HTTP, and the plain listener
     * may sit behind a TLS-terminating proxy that sets its own */
    if (c->tls) {
        static const char hsts[] = "Strict-Transport-Security: max-age=" HTTP_HSTS_MAX_AGE "\r\n";
        evbuffer_add(out, hsts, sizeof(hsts) - 1);
    }
    if (c->close_after)
        evbuffer_add(out, "Connection: close\r\n", 19);
    evbuffer_add_buffer(out, req->out_headers);
    evbuffer_add(out, "\r\n", 2);
    if (!head_only) {
        if (body_buf)
            evbuffer_add_buffer(out, body_buf);
        else if (len)
            evbuffer_add(out, body, len);
    } else if (body_buf) {
        evbuffer_drain(body_buf, evbuffer_get_length(body_buf));
    }
    c->req = NULL;
    request_free(req);
    c->state = stream ? CONN_STREAM : CONN_WRITING;
    bufferevent_enable(c->bev, EV_WRITE);
    return true;
}

static void request_finish(struct http_request *req, int status, const char *ctype,
                           struct evbuffer *body_buf, const void *body, size_t len)
{
    (void)request_send(req, status, ctype, body_buf, body, len, false);
}

void http_reply(struct http_request *req, int status, const char *ctype, const void *body,
                size_t len)
{
    request_finish(req, status, ctype, NULL, body, len);
}

void http_reply_evbuf(struct http_request *req, int status, const char *ctype,
                      struct evbuffer *body)
{
    request_finish(req, status, ctype, body, NULL, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* streaming answers                                                                           */

struct http_stream *http_stream_start(struct http_request *req, int status, const char *ctype,
                                      http_stream_close_fn on_close, void *arg)
{
    struct http_server *s = req->srv;
    struct http_conn *c = req->conn;
    if (c != NULL && (s->draining || s->nstreams >= s->lim.max_streams)) {
        http_add_header(req, "Retry-After", "5");
        http_reply_problem(req, 503, "too_many_streams",
                           s->draining ? "the server is stopping" : "too many open streams", NULL);
        return NULL;
    }
    if (!request_send(req, status, ctype, NULL, NULL, 0, true))
        return NULL;
    struct http_stream *st = xcalloc(1, sizeof(*st));
    st->conn = c;
    st->on_close = on_close;
    st->arg = arg;
    c->stream = st;
    s->nstreams++;
    event_del(c->timer);
    /* read only to notice the client closing; what it sends is thrown away (conn_process) */
    bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_STREAM_MAX_INPUT);
    bufferevent_enable(c->bev, EV_READ);
    return st;
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
    struct http_conn *c = st->conn;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) + len > HTTP_STREAM_MAX_PENDING) {
        log_info(NULL, "stream to %s dropped: the client does not read", c->client_ip);
        conn_free(c);
        return -1;
    }
    evbuffer_add(out, data, len);
    return 0;
}

void http_stream_end(struct http_stream *st)
{
    struct http_conn *c = st->conn;
    st->on_close = NULL; /* the owner asked: it is not told */
    c->state = CONN_WRITING;
    c->close_after = true;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
    /* else conn_on_write closes it once the rest has gone out */
}

long http_server_streams(struct http_server *s)
{
    return s->nstreams;
}

void http_reply_json(struct http_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(body);
    if (text == NULL) {
        http_reply_problem(req, 500, "internal", "the response could not be encoded", NULL);
        return;
    }
    http_reply(req, status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
}

void http_reply_problem(struct http_request *req, int status, const char *code, const char *detail,
                        json_t *errors)
{
    http_reply_problem_with(req, status, code, detail, errors, NULL);
}

void http_reply_problem_with(struct http_request *req, int status, const char *code,
                             const char *detail, json_t *errors, json_t *extra)
{
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title",
                          http_status_text(status), "status", status, "code", code, "request_id",
                          req->request_id);
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    if (req->path)
        json_object_set_new(p, "instance", json_string(req->path));
    if (errors)
        json_object_set_new(p, "errors", errors);
    if (extra)
        json_object_update_missing(p, extra); /* never over the problem's own members */
    json_decref(extra);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    http_reply(req, status, "application/problem+json", text, text ? strlen(text) : 0);
    free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* connections                                                                                 */

static void conn_error_reply(struct http_conn *c, int status, const char *code, const char *detail)
{
    if (c->req == NULL) {
        c->req = request_new(c);
        util_random_hex(c->req->request_id, 32);
    }
    c->state = CONN_HANDLING;
    bufferevent_disable(c->bev, EV_READ);
    event_del(c->timer);
    http_reply_problem(c->req, status, code, detail, NULL);
}

static void conn_send_error(struct http_conn *c, int status, const char *code, const char *detail)
{
    conn_error_reply(c, status, code, detail);
}

/* Run the handler of a request whose head (and body, if any) has been read. */
static void conn_run(struct http_conn *c)
{
    struct http_request *req = c->req;
    c->state = CONN_HANDLING;
    c->body_pending = false;
    event_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
    req->route->fn(req, req->route->arg);
}

/* Route the request whose head arrived and run the pre hook (token and permission), before
 * any of its body is read: a refusal costs the client's body nothing. Returns true when the
 * request may go on, false when it has been answered. */
static bool conn_route(struct http_conn *c, size_t body_len)
{
    struct http_request *req = c->req;
    struct http_server *s = c->srv;
    char allow[64];

    const char *target = req->head.target;
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    req->path = xstrndup(target, plen);
    if (!http_path_is_clean(req->path, plen)) {
        http_reply_problem(req, 400, "bad_path", "the request path is malformed", NULL);
        return false;
    }
    if (http_query_parse(q ? q + 1 : NULL, &req->query) != 0) {
        json_t *errs = json_array();
        jsonv_error_addp(errs, "query", JSONV_E_bad_query,
                         json_pack("{s:i}", "max", HTTP_MAX_QUERY_PARAMS),
                         "malformed or more than 64 parameters");
        http_reply_problem(req, 400, "bad_query", "the query string is malformed", errs);
        return false;
    }
    const struct router_route *rt = NULL;
    switch (router_match(s->router, req->head.method, req->path, &rt, &req->params, allow,
                         sizeof(allow))) {
    case ROUTER_NOT_FOUND:
        http_reply_problem(req, 404, "not_found", "no such resource", NULL);
        return false;
    case ROUTER_METHOD_NOT_ALLOWED:
        http_add_header(req, "Allow", allow);
        http_reply_problem(req, 405, "method_not_allowed", "this method is not allowed here", NULL);
        return false;
    case ROUTER_FOUND:
        break;
    }
    req->route = rt;
    /* Anyone may send to a route without a token: it gets a small body. */
    if ((rt->flags & ROUTE_PUBLIC) && body_len > s->lim.max_public_body_bytes) {
        char detail[96];
        snprintf(detail, sizeof(detail), "the body is larger than %zu bytes",
                 s->lim.max_public_body_bytes);
        http_reply_problem(req, 413, "payload_too_large", detail, NULL);
        return false;
    }
    if (s->pre && !s->pre(req, s->hook_arg))
        return false;
    return true;
}

/* Who the client is and which id the request has: the gateway's word when the request carries
 * its valid, fresh proof (and comes from trusted_proxy when that is set), else the socket peer
 * and an id made here, the client's own X-Request-Id kept apart as its correlation id. */
static void conn_identify(struct http_conn *c, struct http_request *req)
{
    const struct http_server *s = c->srv;
    const char *rid = http_head_get(&req->head, "X-Request-Id");
    const char *crid = http_head_get(&req->head, "X-Client-Request-Id");
    const char *xff = http_head_get(&req->head, "X-Forwarded-For");
    const char *proof = http_head_get(&req->head, PROOF_HEADER);
    unsigned char addr[16];

    if (proof && s->lim.proof_key && s->lim.proof_key->len &&
        (s->lim.trusted_proxy[0] == '\0' || strcmp(c->client_ip, s->lim.trusted_proxy) == 0) &&
        rid && util_valid_request_id(rid) && xff &&
        (inet_pton(AF_INET, xff, addr) == 1 || inet_pton(AF_INET6, xff, addr) == 1)) {
        const struct proof_fields f = {req->head.method,
                                       req->head.target,
                                       rid,
                                       xff,
                                       http_head_get(&req->head, "X-Forwarded-Proto"),
                                       crid,
                                       http_head_get(&req->head, "Authorization")};
        req->proven = proof_check(s->lim.proof_key, util_wall_s(), proof, &f);
    }
    if (req->proven) {
        snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
        snprintf(req->client_ip, sizeof(req->client_ip), "%s", xff);
        if (crid && util_valid_request_id(crid))
            snprintf(req->client_request_id, sizeof(req->client_request_id), "%s", crid);
        return;
    }
    util_random_hex(req->request_id, 32);
    if (rid && util_valid_request_id(rid))
        snprintf(req->client_request_id, sizeof(req->client_request_id), "%s", rid);
}

/* Parse a complete head at the front of 'in' ('head_len' bytes), check it, route it and run the
 * pre hook; then set up the body read (with 100 Continue when the client waits for it). */
static void conn_take_head(struct http_conn *c, struct evbuffer *in, size_t head_len)
{
    struct http_server *s = c->srv;
    struct http_request *req = request_new(c);
    const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)head_len);
    int rc = http_parse_request_head(data, head_len, &req->head);
    evbuffer_drain(in, head_len);
    c->req = req;

    if (rc != 0) {
        util_random_hex(req->request_id, 32);
        conn_send_error(c, rc, rc == 431 ? "headers_too_large" : "bad_request",
                        rc == 431 ? "too many header fields" : "the request is malformed");
        return;
    }
    conn_identify(c, req);
    const char *conn_hdr = http_head_get(&req->head, "Connection");
    req->keep_alive = req->head.minor >= 1 ? !(conn_hdr && strcasecmp(conn_hdr, "close") == 0)
                                           : (conn_hdr && strcasecmp(conn_hdr, "keep-alive") == 0);
    if (req->head.minor >= 1 && http_head_get(&req->head, "Host") == NULL) {
        conn_send_error(c, 400, "bad_request", "the Host header is required");
        return;
    }
    const char *te = http_head_get(&req->head, "Transfer-Encoding");
    const char *cl = http_head_get(&req->head, "Content-Length");
    if (te != NULL) {
        /* Chunked uploads are not needed by any client of ours; refusing them also closes the
         * door on TE/CL request smuggling. */
        if (cl != NULL)
            conn_send_error(c, 400, "bad_request", "Transfer-Encoding with Content-Length");
        else
            conn_send_error(c, 411, "length_required", "send the body with a Content-Length");
        return;
    }
    size_t body_len = 0;
    if (cl != NULL && (http_head_count(&req->head, "Content-Length") != 1 ||
                       http_parse_content_length(cl, &body_len) != 0)) {
        conn_send_error(c, 400, "bad_request", "the Content-Length header is malformed");
        return;
    }
    c->body_pending = body_len > 0;
    if (body_len > s->lim.max_body_bytes) {
        char detail[96];
        snprintf(detail, sizeof(detail), "the body is larger than %zu bytes",
                 s->lim.max_body_bytes);
        conn_send_error(c, 413, "payload_too_large", detail);
        return;
    }
    const char *expect = http_head_get(&req->head, "Expect");
    if (expect && strcasecmp(expect, "100-continue") != 0) {
        conn_send_error(c, 417, "expectation_failed", "only Expect: 100-continue is understood");
        return;
    }
    c->state = CONN_HANDLING;
    c->nreq++;
    event_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
    if (!conn_route(c, body_len))
        return;
    if (body_len == 0) {
        conn_run(c);
        return;
    }
    /* The bodies being read or held by all connections together stay within a budget. */
    if (body_len > s->lim.max_buffered_bytes - s->buffered) {
        http_add_header(req, "Retry-After", "1");
        http_reply_problem(req, 503, "overloaded", "too many request bodies in flight", NULL);
        return;
    }
    req->body_reserved = body_len;
    s->buffered += body_len;
    if (expect)
        evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    c->body_need = body_len;
    c->state = CONN_BODY;
    /* room for this body and the head of a pipelined request behind it */
    bufferevent_setwatermark(c->bev, EV_READ, 0, body_len + s->lim.max_header_bytes + 4096);
    bufferevent_enable(c->bev, EV_READ);
    timer_set(c->timer, s->lim.body_timeout_ms);
}

static void conn_process(struct http_conn *c)
{
    struct http_server *s = c->srv;
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (c->state == CONN_LINGER) {
        size_t n = evbuffer_get_length(in);
        c->lingered += n;
        evbuffer_drain(in, n);
        if (c->lingered > HTTP_LINGER_MAX_BYTES)
            conn_free(c);
        return;
    }
    if (c->state == CONN_STREAM || (c->state == CONN_WRITING && c->stream)) {
        /* a streaming client has nothing to say: a little is tolerated, a flood is not */
        size_t n = evbuffer_get_length(in);
        c->lingered += n;
        evbuffer_drain(in, n);
        if (c->lingered > HTTP_STREAM_MAX_INPUT)
            conn_free(c);
        return;
    }
    if (c->state == CONN_HEAD) {
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            return;
        struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (p.pos < 0) {
            if (avail > s->lim.max_header_bytes)
                conn_send_error(c, 431, "headers_too_large", "the request head is too large");
            return;
        }
        size_t head_len = (size_t)p.pos + 4;
        if (head_len > s->lim.max_header_bytes) {
            conn_send_error(c, 431, "headers_too_large", "the request head is too large");
            return;
        }
        conn_take_head(c, in, head_len);
    }
    if (c->state == CONN_BODY && evbuffer_get_length(in) >= c->body_need) {
        struct http_request *req = c->req;
        req->body = xmalloc(c->body_need + 1);
        evbuffer_remove(in, req->body, c->body_need);
        req->body[c->body_need] = '\0';
        req->body_len = c->body_need;
        conn_run(c);
    }
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_process(arg);
}

/* The response has been handed to the kernel: next request, or close. */
static void conn_on_write(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (c->state != CONN_WRITING)
        return;
    if (c->close_after && c->linger && !c->srv->draining) {
        /* FIN after the reply, then read what still comes until the client closes too */
        evutil_socket_t fd = bufferevent_getfd(c->bev);
        if (fd >= 0 && !c->tls)
            shutdown(fd, SHUT_WR);
        c->state = CONN_LINGER;
        bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
        bufferevent_enable(c->bev, EV_READ);
        timer_set(c->timer, HTTP_LINGER_MS);
        conn_process(c);
        return;
    }
    if (c->close_after) {
        conn_free(c);
        return;
    }
    c->state = CONN_HEAD;
    /* An idle keep-alive connection waits longer than a new one: clients keep theirs for a few
     * seconds and must always be the side that closes first, or a request sent just as we
     * close is lost. The bound still holds: a slow client gets at most this long. */
    timer_set(c->timer, c->srv->lim.header_timeout_ms > HTTP_KEEPALIVE_IDLE_MS
                            ? c->srv->lim.header_timeout_ms
                            : HTTP_KEEPALIVE_IDLE_MS);
    bufferevent_setwatermark(c->bev, EV_READ, 0, c->srv->lim.max_header_bytes + 4096);
    bufferevent_enable(c->bev, EV_READ);
    conn_process(c);
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(c);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    (void)what;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (c->state == CONN_LINGER || (c->state == CONN_HEAD && evbuffer_get_length(in) == 0)) {
        conn_free(c); /* idle keep-alive connection, or lingered enough: close quietly */
        return;
    }
    if (c->state == CONN_HEAD || c->state == CONN_BODY)
        conn_send_error(c, 408, "request_timeout", "the request did not arrive in time");
}

/* The count of open connections from 'ip', made when missing. */
static struct addr_count *addr_get(struct http_server *s, const char *ip)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = ip; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct addr_count **pp = &s->addrs[h % HTTP_ADDR_BUCKETS];
    for (struct addr_count *a = *pp; a; a = a->next) {
        if (strcmp(a->ip, ip) == 0)
            return a;
    }
    struct addr_count *a = xcalloc(1, sizeof(*a));
    snprintf(a->ip, sizeof(a->ip), "%s", ip);
    a->next = *pp;
    *pp = a;
    return a;
}

static void addr_put(struct http_server *s, struct addr_count *a)
{
    if (a == NULL || --a->n > 0)
        return;
    for (size_t i = 0; i < HTTP_ADDR_BUCKETS; i++) {
        for (struct addr_count **pp = &s->addrs[i]; *pp; pp = &(*pp)->next) {
            if (*pp == a) {
                *pp = a->next;
                free(a);
                return;
            }
        }
    }
}

static void conn_free(struct http_conn *c)
{
    struct http_server *s = c->srv;
    if (c->stream) {
        struct http_stream *st = c->stream;
        c->stream = NULL;
        s->nstreams--;
        if (st->on_close)
            st->on_close(st, st->arg);
        free(st);
    }
    if (c->req) {
        if (c->state == CONN_HANDLING && !c->req->replied) {
            /* A handler (or a worker) still holds the request: it replies into the void. */
            c->req->conn = NULL;
            s->norphans++;
        } else {
            request_free(c->req);
        }
        c->req = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    addr_put(s, c->addr);
    event_free(c->timer);
    bufferevent_free(c->bev);
    free(c);
    server_maybe_drained(s);
}

static void server_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *arg)
{
    struct http_listener *l = arg;
    struct http_server *s = l->srv;
    char ip[64] = "";
    (void)lev;
    (void)salen;
    if (s->draining || s->nconns >= s->lim.max_connections) {
        evutil_closesocket(fd);
        return;
    }
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    struct addr_count *addr = NULL;
    if (s->lim.max_conns_per_addr > 0) {
        addr = addr_get(s, ip);
        if (addr->n >= s->lim.max_conns_per_addr) {
            addr->n++; /* addr_put undoes it and frees an entry made just now */
            addr_put(s, addr);
            evutil_closesocket(fd);
            return;
        }
        addr->n++;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct http_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->addr = addr;
    snprintf(c->client_ip, sizeof(c->client_ip), "%s", ip);
    if (l->ssl_ctx) {
        SSL *ssl = SSL_new(l->ssl_ctx);
        c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
        c->tls = true;
    } else {
        c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        addr_put(s, addr);
        free(c);
        return;
    }
    c->timer = evtimer_new(s->base, conn_on_timer, c);
    bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event, c);
    struct timeval wtv = {s->lim.write_timeout_ms / 1000, (s->lim.write_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, NULL, &wtv);
    /* A head at a time: a body is read only once its head passed (conn_take_head). */
    bufferevent_setwatermark(c->bev, EV_READ, 0, s->lim.max_header_bytes + 4096);
    bufferevent_enable(c->bev, EV_READ);
    c->state = CONN_HEAD;
    timer_set(c->timer, s->lim.header_timeout_ms);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
}

/* ------------------------------------------------------------------------------------------ */
/* server                                                                                      */

struct http_server *http_server_new(struct event_base *base, const char *svc,
                                    const struct http_limits *limits, struct router *router,
                                    struct metrics *metrics)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->base = base;
    snprintf(s->svc, sizeof(s->svc), "%s", svc);
    s->lim = *limits;
    s->router = router;
    s->metrics = metrics;
    return s;
}

void http_server_set_hooks(struct http_server *s, http_pre_fn pre, http_done_fn done, void *arg)
{
    s->pre = pre;
    s->done = done;
    s->hook_arg = arg;
}

int http_server_listen(struct http_server *s, const struct config_addr *addr, SSL_CTX *ssl_ctx)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)addr->port);
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        log_error(NULL, "listen address '%s' is not an IPv4 address", addr->host);
        return -1;
    }
    if (s->nlisteners == (int)ARRAY_LEN(s->listeners))
        return -1;
    struct http_listener *l = &s->listeners[s->nlisteners];
    l->srv = s;
    l->ssl_ctx = ssl_ctx;
    l->lev = evconnlistener_new_bind(s->base, server_on_accept, l,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                     (struct sockaddr *)&sin, sizeof(sin));
    if (l->lev == NULL) {
        log_error(NULL, "cannot listen on %s:%d: %s", addr->host, addr->port, strerror(errno));
        return -1;
    }
    s->nlisteners++;
    log_info(NULL, "listening on %s:%d%s", addr->host, addr->port, ssl_ctx ? " (TLS)" : "");
    return 0;
}

long http_server_connections(struct http_server *s)
{
    return s->nconns;
}

void http_server_limit_per_address(struct http_server *s, long n)
{
    s->lim.max_conns_per_addr = n;
}

size_t http_server_buffered(struct http_server *s)
{
    return s->buffered;
}

static void server_on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    (void)fd;
    (void)what;
    log_warn(NULL, "drain timed out with %ld connections open", s->nconns);
    while (s->conns)
        conn_free(s->conns);
    s->norphans = 0;
    server_maybe_drained(s);
}

void http_server_drain(struct http_server *s, void (*done)(void *), void *arg)
{
    if (s->draining)
        return;
    s->draining = true;
    s->drain_done = done;
    s->drain_arg = arg;
    for (int i = 0; i < s->nlisteners; i++) {
        evconnlistener_free(s->listeners[i].lev);
        s->listeners[i].lev = NULL;
    }
    /* Idle connections go now; busy ones close after their current response. */
    struct http_conn *c = s->conns;
    while (c) {
        struct http_conn *next = c->next;
        if (c->state == CONN_LINGER || c->state == CONN_STREAM ||
            (c->state == CONN_HEAD && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0))
            conn_free(c); /* a stream never ends by itself: it closes now */
        else
            c->close_after = true;
        c = next;
    }
    s->drain_timer = evtimer_new(s->base, server_on_drain_timeout, s);
    timer_set(s->drain_timer, s->lim.drain_timeout_ms);
    server_maybe_drained(s);
}

void http_server_free(struct http_server *s)
{
    if (s == NULL)
        return;
    s->drain_done = NULL;
    while (s->conns)
        conn_free(s->conns);
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].lev)
            evconnlistener_free(s->listeners[i].lev);
    }
    if (s->drain_timer)
        event_free(s->drain_timer);
    for (size_t i = 0; i < HTTP_ADDR_BUCKETS; i++) {
        while (s->addrs[i]) {
            struct addr_count *a = s->addrs[i];
            s->addrs[i] = a->next;
            free(a);
        }
    }
    free(s);
}
