/* SPDX-License-Identifier: Apache-2.0 */
/* http: HTTP/1.1 server on libevent bufferevents with limits, problem+json and graceful drain. */
#ifndef CRM_HTTP_H
#define CRM_HTTP_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "httpparse.h"
#include "proof.h"
#include "router.h"

/* The TLS 1.2 suites an HTTPS listener offers: Mozilla's "intermediate" profile without DHE,
 * ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only (no CBC, no RSA key exchange). */
#define HTTP_TLS12_CIPHERS                                                                         \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Strict-Transport-Security on every answer over TLS: two years, this host only. */
#define HTTP_HSTS_MAX_AGE "63072000"

struct metrics;
struct http_server;
struct http_conn;

struct http_limits {
    size_t max_header_bytes;      /* request line + headers; over it: 431 */
    size_t max_body_bytes;        /* over it: 413 */
    size_t max_public_body_bytes; /* on a route without a token (login, refresh): 413 above */
    size_t max_buffered_bytes;    /* bodies of all connections being read or held: 503 above */
    long max_conns_per_addr;      /* open connections from one client address (0: no cap) */
    long header_timeout_ms; /* a complete head must arrive within this (slowloris); idle too */
    long body_timeout_ms;   /* the body must arrive within this after the head */
    long write_timeout_ms;  /* a client that does not read is dropped */
    long max_connections;
    long drain_timeout_ms;  /* graceful drain on SIGTERM waits at most this */
    long max_streams;       /* streaming answers open at once (http_stream_start); 503 above */
    char trusted_proxy[64]; /* when set, only this peer's proofs are believed */
    /* The gateway's secret: a request carrying a valid, fresh proof by it (proof.h) names its
     * client address, request id and client correlation id, and its token was verified by the
     * gateway; without one the client is the socket peer and the request id is made here.
     * The gateway itself sets no key for its own server: it believes no one. */
    const struct proof_key *proof_key;
};

/* The limits as configuration keys, shared by every process that serves HTTP. */
struct http_config {
    long max_body_bytes;
    long max_header_bytes;
    long header_timeout_ms;
    long body_timeout_ms;
    long drain_timeout_ms;
    long max_connections;
    long max_public_body_bytes;
    long max_buffered_body_bytes;
    long max_streams;
    char *trusted_proxy;
    char *proxy_secret_file;
};
extern const struct config_entry http_config_table[];
void http_limits_from_config(const struct http_config *c, struct http_limits *out);

struct http_request {
    struct http_server *srv;
    struct http_conn *conn; /* NULL when the client left while the request was being handled */
    struct http_head head;  /* method, target, headers */
    char *path;             /* raw path (no query) */
    struct http_query query;
    char *body; /* NUL-terminated, body_len bytes */
    size_t body_len;
    char request_id[65];        /* made here, or the proven gateway's */
    char client_request_id[65]; /* the client's own X-Request-Id, kept apart ("" = none) */
    char client_ip[64];
    bool proven; /* carried a valid proof of the gateway (so its token was verified there) */
    size_t body_reserved; /* bytes of the buffered-body budget this request holds */
    uint64_t start_us;
    const struct router_route *route;
    struct router_params params;
    void *user; /* per-request data of the caller (identity); freed with 'user_free' */
    void (*user_free)(void *);
    struct evbuffer *out_headers; /* extra response header lines */
    bool has_cache_control;
    int status; /* the status sent, for logs and metrics */
    size_t resp_bytes;
    bool replied;
    bool keep_alive;
    bool tls; /* the client came over TLS */
};

/* Called when the head of a request for a matched route has arrived, before its body is read
 * ('body' is still NULL): returns true to go on, false when it has replied (the body is then
 * never read and the connection closes). */
typedef bool (*http_pre_fn)(struct http_request *req, void *arg);
/* Called after every reply (access log, operation log). */
typedef void (*http_done_fn)(struct http_request *req, void *arg);

struct http_server *http_server_new(struct event_base *base, const char *svc,
                                    const struct http_limits *limits, struct router *router,
                                    struct metrics *metrics);
void http_server_set_hooks(struct http_server *s, http_pre_fn pre, http_done_fn done, void *arg);

/* Listen on 'addr'; with 'ssl_ctx' the listener speaks TLS. Returns 0 or -1 (logged). */
int http_server_listen(struct http_server *s, const struct config_addr *addr, SSL_CTX *ssl_ctx)
    __attribute__((warn_unused_result));

/* Stop accepting, let in-flight requests finish (bounded by drain_timeout_ms), then call
 * 'done'. Idle keep-alive connections are closed at once. */
void http_server_drain(struct http_server *s, void (*done)(void *), void *arg);

long http_server_connections(struct http_server *s);
/* Cap the open connections from one client address at 'n' (0: no cap); the gateway does. */
void http_server_limit_per_address(struct http_server *s, long n);
/* Bytes of request bodies buffered now (against max_buffered_bytes). */
size_t http_server_buffered(struct http_server *s);
void http_server_free(struct http_server *s);

/* ---- replies: exactly one per request, always on the loop thread ---- */

void http_add_header(struct http_request *req, const char *name, const char *value);
void http_reply(struct http_request *req, int status, const char *ctype, const void *body,
                size_t len);
/* Moves the content of 'body' into the response. */
void http_reply_evbuf(struct http_request *req, int status, const char *ctype,
                      struct evbuffer *body);
/* Takes the reference to 'body'. */
void http_reply_json(struct http_request *req, int status, json_t *body);
/* problem+json: 'code' is the stable machine code, 'errors' (taken, may be NULL) the
 * field-level list [{field,message}]. */
void http_reply_problem(struct http_request *req, int status, const char *code, const char *detail,
                        json_t *errors);
/* The same with the members of 'extra' (taken; NULL: none) added to the problem object: a 409
 * carries the record it conflicts with. */
void http_reply_problem_with(struct http_request *req, int status, const char *code,
                             const char *detail, json_t *errors, json_t *extra);

/* ---- streaming answers (server-sent events): the head now, the body in pieces later ---- */

struct http_stream;
/* Called once when a stream ends without the owner asking: the client went away, the server
 * is stopping (drain) or freed, or the client stopped reading. The stream is gone after it
 * returns: its owner forgets it there and never calls http_stream_end for it. */
typedef void (*http_stream_close_fn)(struct http_stream *st, void *arg);

/*
 * Answer 'req' with a streaming response: the status line and headers go now, without a
 * Content-Length (the body ends when the connection closes: "Connection: close"), with
 * "Cache-Control: no-cache" (unless the handler set one) and "X-Accel-Buffering: no" so that no
 * proxy holds the pieces back. The request is done (logged, freed) once this returns; the
 * connection belongs to the stream. Its idle timeouts stop: the owner writes (heartbeats) as
 * it likes; a client that does not read what is written is dropped (write timeout, or more than
 * HTTP_STREAM_MAX_PENDING bytes waiting), and one that closes is noticed at once.
 *
 * Returns the stream, or NULL when there is none: 503 'too_many_streams' with Retry-After was
 * sent because max_streams are open (or the server drains), or the client left while the
 * request was handled. 'on_close' with 'arg' is called as said above.
 */
struct http_stream *http_stream_start(struct http_request *req, int status, const char *ctype,
                                      http_stream_close_fn on_close, void *arg);
/* Queue 'len' bytes of body on the stream (loop thread only). 0, or -1 when the client has
 * more than HTTP_STREAM_MAX_PENDING bytes unread: the stream is then ended at once and
 * 'on_close' is called before this returns. */
int http_stream_write(struct http_stream *st, const void *data, size_t len)
    __attribute__((warn_unused_result));
/* End the stream: what was written is sent, then the connection closes. 'on_close' is not
 * called; 'st' is gone. */
void http_stream_end(struct http_stream *st);
/* Streams open now on 's' (for /metrics). */
long http_server_streams(struct http_server *s);

#define HTTP_STREAM_MAX_PENDING (256 * 1024)

const char *http_req_header(const struct http_request *req, const char *name);
const char *http_status_text(int status);

#endif
