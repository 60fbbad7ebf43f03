/* SPDX-License-Identifier: Apache-2.0 */
/* proxy: forward a request to a service over a keep-alive connection pool; 502/504 on failure. */
#ifndef CRM_PROXY_H
#define CRM_PROXY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "http.h"

struct gw_upstream;
struct gw_exchange;

/* Streams passed through (a service's text/event-stream answer): the gateway keeps each one's
 * token so that it can close the stream when the token expires or is revoked. */
struct gw_stream_hooks {
    /* A stream for 'req' begins (its head is about to go to the client): returns the caller's
     * handle for it (may be NULL), kept until 'closed'. 'ex' ends it with gw_proxy_stream_end. */
    void *(*opened)(struct http_request *req, struct gw_exchange *ex, void *arg);
    /* The stream ended, for whatever reason; 'handle' is what 'opened' returned. */
    void (*closed)(void *handle, void *arg);
    void *arg;
};

struct gw_upstream_opts {
    long timeout_ms;                       /* whole exchange, after which the client gets 504 */
    long connect_timeout_ms;               /* connecting, after which the client gets 502 */
    long max_conns;                        /* open connections (busy + idle) at most; then 503 */
    long idle_conns;                       /* idle keep-alive connections kept */
    const struct proof_key *proof_key;     /* signs what the gateway vouches for (X-Crm-Proof) */
    const struct gw_stream_hooks *streams; /* may be NULL */
};

struct gw_upstream *gw_upstream_new(struct event_base *base, const char *name,
                                    const struct config_addr *addr,
                                    const struct gw_upstream_opts *opts);
void gw_upstream_free(struct gw_upstream *u);

/* Forward 'req' (which already passed the gateway's checks) and reply when the service answers,
 * fails (502) or times out (504). 'tls' says how the client reached us (X-Forwarded-Proto).
 * A 200 answer of type text/event-stream without a length is a stream: it is passed through as
 * it comes, each piece flushed to the client at once, never compressed and without the
 * exchange's timeout, until the service or the client closes (or gw_proxy_stream_end). */
void gw_proxy(struct gw_upstream *u, struct http_request *req, bool tls);

/* End a stream passed through (its token expired or was revoked): the client gets what the
 * service sent so far and the connection closes; the service's connection closes too. The
 * 'closed' hook is called. */
void gw_proxy_stream_end(struct gw_exchange *ex);

/* Connections to the service carrying a stream now (not counted in 'busy' below). */
long gw_upstream_streams(const struct gw_upstream *u);

/* Counters for /metrics. */
void gw_upstream_stats(const struct gw_upstream *u, long *busy, long *idle, uint64_t *errors,
                       uint64_t *timeouts);

#endif
