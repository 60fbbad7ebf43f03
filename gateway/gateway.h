/* SPDX-License-Identifier: Apache-2.0 */
/* gateway: the process context shared by the gateway's modules. */
#ifndef CRM_GATEWAY_H
#define CRM_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "http.h"
#include "jwtv.h"
#include "proc.h"
#include "proxy.h"
#include "router.h"

/* The services the gateway proxies to: one per line of shared/services.def, in its order.
 * GW_SVC_<name> indexes upstream[] and upstreams[]; GW_SERVICES counts them. */
enum gw_service {
#define SERVICE(name, port, produces, consumes) GW_SVC_##name,
#include "services.def"
#undef SERVICE
    GW_SERVICES
};

struct gw_config {
    struct config_addr listen;
    char *admin_listen;
    long max_connections_per_address;
    char *tls_listen;
    char *tls_cert;
    char *tls_key;
    struct config_addr upstream[GW_SERVICES]; /* upstream_<name>, by enum gw_service */
    long upstream_timeout_ms;
    long upstream_connect_timeout_ms;
    long upstream_max_conns;
    long upstream_idle_conns;
    char *web_root;
    long rate_limit_rps;
    long rate_limit_burst;
    char *jwt_keys_dir;
    char *jwt_issuer;
    char *jwt_audience;
    char *redis_host;
    long redis_port;
    char *redis_user;
    char *redis_password_file;
    long stream_trim_above;
    char *access_log;
    char *log_level;
};

struct gw_upstream;
struct gw_static;
struct gw_ratelimit;
struct revoke;
struct gw_oplog;
struct gw_tickets;
struct gw_live;

struct gateway {
    struct gw_config cfg;
    struct http_config http_cfg;
    struct proc proc;        /* config, loop, router, metrics, HTTP server, JWT keys, revocations */
    struct event_base *base; /* proc.base */
    struct router admin_router; /* /metrics, /healthz, /readyz on admin_listen */
    struct http_server *admin;
    struct gw_upstream *upstreams[GW_SERVICES];
    struct gw_static *web;
    struct gw_ratelimit *rl;
    struct gw_oplog *oplog;
    SSL_CTX *ssl_ctx;
    FILE *access_log;
    struct event *flush_timer;
    struct gw_tickets *tickets; /* the notice stream's URL tickets (ticket.h) */
    struct gw_live *live;       /* streams passed through, with their tokens */
    long nlive;
    struct gw_stream_hooks stream_hooks; /* the proxy's, on 'live' */
};

extern const char *const gw_service_names[GW_SERVICES];

#endif
