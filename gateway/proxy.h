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

struct gw_upstream_opts {
    long timeout_ms;                   /* whole exchange, after which the client gets 504 */
    long connect_timeout_ms;           /* connecting, after which the client gets 502 */
    long max_conns;                    /* open connections (busy + idle) at most; then 503 */
    long idle_conns;                   /* idle keep-alive connections kept */
    const struct proof_key *proof_key; /* signs what the gateway vouches for (X-Crm-Proof) */
};

struct gw_upstream *gw_upstream_new(struct event_base *base, const char *name,
                                    const struct config_addr *addr,
                                    const struct gw_upstream_opts *opts);
void gw_upstream_free(struct gw_upstream *u);

/* Forward 'req' (which already passed the gateway's checks) and reply when the service answers,
 * fails (502) or times out (504). 'tls' says how the client reached us (X-Forwarded-Proto). */
void gw_proxy(struct gw_upstream *u, struct http_request *req, bool tls);

/* Counters for /metrics. */
void gw_upstream_stats(const struct gw_upstream *u, long *busy, long *idle, uint64_t *errors,
                       uint64_t *timeouts);

#endif
