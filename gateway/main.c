/* SPDX-License-Identifier: Apache-2.0 */
/* crm-gateway: the only public entry point: TLS, JWT checks, rate limits, routing to the
 * services over pooled keep-alive connections, and the web front end. */
#include "gateway.h"
#include "authz.h"
#include "crmlog.h"
#include "metrics.h"
#include "oplog.h"
#include "proc.h"
#include "proxy.h"
#include "ratelimit.h"
#include "revoke.h"
#include "routes.h"
#include "static.h"
#include "ticket.h"
#include "util.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GW_JWT_CACHE 8192
/* The notice stream and its ticket (ticket.h): the one route whose token may come in a URL. */
#define GW_STREAM_PATH   "/api/v1/notices/stream"
#define GW_TICKET_PATH   "/api/v1/notices/ticket"
#define GW_TICKET_TTL_MS 30000
#define GW_TICKETS_MAX   10000

const char *const gw_service_names[GW_SERVICES] = {
#define SERVICE(name, port, produces, consumes) [GW_SVC_##name] = #name,
#include "services.def"
#undef SERVICE
};
/* The gateway checks the revocation set too; readiness reports it. */

#define K(field) offsetof(struct gw_config, field)
static const struct config_entry gw_config_table[] = {
    {"listen", CONFIG_ADDR, K(listen), "127.0.0.1:8080", 0, 0, "HTTP host:port"},
    {"admin_listen", CONFIG_STRING, K(admin_listen), "127.0.0.1:9180", 0, 0,
     "host:port of /metrics (and /healthz, /readyz), never public; off: none"},
    {"max_connections_per_address", CONFIG_INT, K(max_connections_per_address), "64", 0, 1000000,
     "open connections from one client address (0: no cap)"},
    {"tls_listen", CONFIG_STRING, K(tls_listen), "", 0, 0, "HTTPS host:port (with tls_cert)"},
    {"tls_cert", CONFIG_FILE, K(tls_cert), "", 0, 0, "PEM certificate chain"},
    {"tls_key", CONFIG_FILE, K(tls_key), "", 0, 0, "PEM private key"},
/* upstream_<name> = 127.0.0.1:<port> for every line of shared/services.def */
#define SERVICE(name, port, produces, consumes)                                                    \
    {"upstream_" #name, CONFIG_ADDR, K(upstream[GW_SVC_##name]), "127.0.0.1:" #port, 0, 0, #name},
#include "services.def"
#undef SERVICE
    {"upstream_timeout_ms", CONFIG_INT, K(upstream_timeout_ms), "5000", 50, 600000, ""},
    {"upstream_connect_timeout_ms", CONFIG_INT, K(upstream_connect_timeout_ms), "500", 10, 60000,
     ""},
    {"upstream_max_conns", CONFIG_INT, K(upstream_max_conns), "512", 1, 100000, ""},
    {"upstream_idle_conns", CONFIG_INT, K(upstream_idle_conns), "128", 0, 100000, ""},
    {"web_root", CONFIG_STRING, K(web_root), "web/dist", 0, 0, "built web front end"},
    {"rate_limit_rps", CONFIG_INT, K(rate_limit_rps), "100", 0, 10000000, "0 = off"},
    {"rate_limit_burst", CONFIG_INT, K(rate_limit_burst), "200", 0, 10000000, ""},
    {"jwt_keys_dir", CONFIG_DIR, K(jwt_keys_dir), NULL, 0, 0, "directory of <kid>.pub.pem"},
    {"jwt_issuer", CONFIG_STRING, K(jwt_issuer), "crm-auth", 0, 0, ""},
    {"jwt_audience", CONFIG_STRING, K(jwt_audience), "crm", 0, 0, ""},
    {"redis_host", CONFIG_STRING, K(redis_host), "127.0.0.1", 0, 0, ""},
    {"redis_port", CONFIG_INT, K(redis_port), "6380", 1, 65535, ""},
    {"redis_user", CONFIG_STRING, K(redis_user), "", 0, 0,
     "the gateway's Redis ACL user (its operation-log stream, revocations); empty: default"},
    {"redis_password_file", CONFIG_FILE, K(redis_password_file), "", 0, 0,
     "file with redis_user's password (required with it)"},
    {"stream_trim_above", CONFIG_INT, K(stream_trim_above), "10000", 0, 100000000,
     "crm:stream:gateway longer than this loses its read entries"},
    {"access_log", CONFIG_STRING, K(access_log), "", 0, 0, "file; empty = stderr"},
    {"log_level", CONFIG_STRING, K(log_level), "info", 0, 0, ""},
    CONFIG_END,
};
#undef K

/* ------------------------------------------------------------------------------------------ */
/* the route map: shared/routes.def says which service owns each API route and what it needs  */

static int gw_service_index(const char *name)
{
    for (int i = 0; name && i < GW_SERVICES; i++) {
        if (strcmp(name, gw_service_names[i]) == 0)
            return i;
    }
    return -1;
}

/* Per-request data of the gateway: who called (for the access log), and the token's identity
 * and life (a stream passed through lives no longer than its token). */
struct gw_reqinfo {
    char user_id[32];
    char jti[64];
    int64_t iat_ms;
    int64_t exp;
};

/* A stream passed through, with the token that opened it. */
struct gw_live {
    struct gw_exchange *ex;
    char user_id[32];
    char jti[64];
    int64_t iat_ms;
    int64_t exp;
    struct gw_live *prev, *next;
};

/* ------------------------------------------------------------------------------------------ */
/* handlers                                                                                    */

static void gw_api_proxy(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    const struct routes_entry *e = routes_find(req->route->method, req->route->pattern);
    const char *owner = e ? e->service : NULL;
    if (owner && strcmp(owner, "any") == 0)
        owner = router_param(&req->params, "service");
    int svc = gw_service_index(owner);
    if (svc < 0) {
        http_reply_problem(req, 404, "not_found", "no such service", NULL);
        return;
    }
    gw_proxy(gw->upstreams[svc], req, req->tls);
}

/* POST /api/v1/notices/ticket: a one-use ticket for the stream's URL, standing for the token of
 * this request (checked by gw_pre like any other) for GW_TICKET_TTL_MS, from this address. */
static void gw_ticket(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    char ticket[GW_TICKET_LEN + 1];
    if (gw_ticket_issue(gw->tickets, http_req_header(req, "Authorization"), req->client_ip,
                        util_now_ms(), ticket) != 0) {
        http_add_header(req, "Retry-After", "5");
        http_reply_problem(req, 503, "overloaded", "too many stream tickets are live", NULL);
        return;
    }
    char *url = xasprintf("%s?ticket=%s", GW_STREAM_PATH, ticket);
    http_reply_json(req, 201,
                    json_pack("{s:s, s:i, s:s}", "ticket", ticket, "expires_in",
                              (int)gw_tickets_ttl_s(gw->tickets), "url", url));
    free(url);
}

/* The stream hooks of the proxy: every stream passed through is kept with its token. */
static void *gw_stream_opened(struct http_request *req, struct gw_exchange *ex, void *arg)
{
    struct gateway *gw = arg;
    const struct gw_reqinfo *ri = req->user;
    struct gw_live *l = xcalloc(1, sizeof(*l));
    l->ex = ex;
    if (ri) {
        memcpy(l->user_id, ri->user_id, sizeof(l->user_id));
        memcpy(l->jti, ri->jti, sizeof(l->jti));
        l->iat_ms = ri->iat_ms;
        l->exp = ri->exp;
    }
    l->next = gw->live;
    if (gw->live)
        gw->live->prev = l;
    gw->live = l;
    gw->nlive++;
    return l;
}

static void gw_stream_closed(void *handle, void *arg)
{
    struct gateway *gw = arg;
    struct gw_live *l = handle;
    if (l == NULL)
        return;
    if (l->prev)
        l->prev->next = l->next;
    else
        gw->live = l->next;
    if (l->next)
        l->next->prev = l->prev;
    gw->nlive--;
    free(l);
}

/* Once a second: end the streams whose token expired or was revoked (logout, a disabled user,
 * a password change): a stream must not outlive the right to open it. */
static void gw_streams_sweep(struct gateway *gw)
{
    int64_t now = util_wall_s();
    for (struct gw_live *l = gw->live, *next; l; l = next) {
        next = l->next;
        bool expired = l->exp > 0 && now >= l->exp;
        if (expired || l->user_id[0] == '\0' ||
            revoke_is_revoked(gw->proc.revoke, l->jti, l->user_id, l->iat_ms)) {
            log_info(NULL, "stream of user %s closed: its token %s", l->user_id,
                     expired ? "expired" : "was revoked");
            gw_proxy_stream_end(l->ex); /* calls gw_stream_closed: 'l' is gone */
        }
    }
}

static void gw_api_unknown(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_problem(req, 404, "not_found", "no such API resource", NULL);
}

static void gw_web(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    gw_static_serve(gw->web, req);
}

static void gw_healthz(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static void gw_readyz(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    json_t *ups = json_object();
    for (int i = 0; i < GW_SERVICES; i++) {
        long busy, idle;
        uint64_t errors, timeouts;
        gw_upstream_stats(gw->upstreams[i], &busy, &idle, &errors, &timeouts);
        json_object_set_new(ups, gw_service_names[i],
                            json_pack("{s:i, s:i, s:I, s:I}", "busy", (int)busy, "idle", (int)idle,
                                      "errors", (json_int_t)errors, "timeouts",
                                      (json_int_t)timeouts));
    }
    bool ready = gw->proc.jwt.nkeys > 0 && revoke_ready(gw->proc.revoke);
    http_reply_json(req, ready ? 200 : 503,
                    json_pack("{s:s, s:{s:i, s:s}, s:o}", "status", ready ? "ready" : "degraded",
                              "checks", "jwt_keys", (int)gw->proc.jwt.nkeys, "revocations",
                              revoke_ready(gw->proc.revoke) ? "ok" : "down", "upstreams", ups));
}

/* /metrics on the public port: it lives on admin_listen. */
static void gw_metrics_elsewhere(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_problem(req, 404, "not_found", "no such resource", NULL);
}

static void gw_metrics(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    struct evbuffer *out = evbuffer_new();
    metrics_render(gw->proc.metrics, out);
    evbuffer_add_printf(out, "# HELP crm_upstream_connections Pooled connections to services.\n"
                             "# TYPE crm_upstream_connections gauge\n");
    for (int i = 0; i < GW_SERVICES; i++) {
        long busy, idle;
        uint64_t errors, timeouts;
        gw_upstream_stats(gw->upstreams[i], &busy, &idle, &errors, &timeouts);
        evbuffer_add_printf(out,
                            "crm_upstream_connections{upstream=\"%s\",state=\"busy\"} %ld\n"
                            "crm_upstream_connections{upstream=\"%s\",state=\"idle\"} %ld\n",
                            gw_service_names[i], busy, gw_service_names[i], idle);
        evbuffer_add_printf(out, "crm_upstream_connections{upstream=\"%s\",state=\"stream\"} %ld\n",
                            gw_service_names[i], gw_upstream_streams(gw->upstreams[i]));
        evbuffer_add_printf(out,
                            "crm_upstream_failures_total{upstream=\"%s\",kind=\"error\"} %llu\n"
                            "crm_upstream_failures_total{upstream=\"%s\",kind=\"timeout\"} %llu\n",
                            gw_service_names[i], (unsigned long long)errors, gw_service_names[i],
                            (unsigned long long)timeouts);
    }
    metrics_render_gauge(out, "crm_http_connections", "Open client connections.", "svc=\"gateway\"",
                         (double)http_server_connections(gw->proc.http));
    metrics_render_gauge(out, "crm_http_streams", "Open streaming answers (server-sent events).",
                         "svc=\"gateway\"", (double)http_server_streams(gw->proc.http));
    metrics_render_gauge(out, "crm_gateway_streams",
                         "Streams passed through to services, watched for expiry and revocation.",
                         "svc=\"gateway\"", (double)gw->nlive);
    metrics_render_gauge(out, "crm_gateway_stream_tickets", "Stream tickets issued and not used.",
                         "svc=\"gateway\"", (double)gw_tickets_live(gw->tickets));
    metrics_render_gauge(out, "crm_jwt_cache_hits", "Verified-token cache hits.", "svc=\"gateway\"",
                         (double)gw->proc.jwt.cache_hits);
    uint64_t sent, queued, dropped;
    gw_oplog_stats(gw->oplog, &sent, &queued, &dropped);
    evbuffer_add_printf(out,
                        "# HELP crm_oplog_entries Operation-log entries of the gateway.\n"
                        "# TYPE crm_oplog_entries gauge\n"
                        "crm_oplog_entries{state=\"sent\"} %llu\n"
                        "crm_oplog_entries{state=\"queued\"} %llu\n"
                        "crm_oplog_entries{state=\"dropped\"} %llu\n",
                        (unsigned long long)sent, (unsigned long long)queued,
                        (unsigned long long)dropped);
    http_reply_evbuf(req, 200, "text/plain; version=0.0.4; charset=utf-8", out);
    evbuffer_free(out);
}

/* ------------------------------------------------------------------------------------------ */
/* hooks: rate limit and token check before, access log after                                  */

static void reqinfo_free(void *p)
{
    free(p);
}

/* authz_request's hook: who called, for the access and operation logs (refusals included). */
static void gw_note_caller(struct http_request *req, json_t *claims)
{
    struct gw_reqinfo *ri = xcalloc(1, sizeof(*ri));
    snprintf(ri->user_id, sizeof(ri->user_id), "%s",
             json_string_value(json_object_get(claims, "sub")));
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    snprintf(ri->jti, sizeof(ri->jti), "%s", jti ? jti : "");
    ri->iat_ms = authz_issued_ms(claims);
    ri->exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
    req->user = ri;
    req->user_free = reqinfo_free;
}

static bool gw_pre(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    bool api = strncmp(req->path, "/api/", 5) == 0;
    if (!api)
        return true;
    long retry = 1;
    if (!gw_ratelimit_take(gw->rl, req->client_ip, util_now_us(), &retry)) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", retry);
        http_add_header(req, "Retry-After", ra);
        http_reply_problem(req, 429, "rate_limited", "too many requests from this address", NULL);
        return false;
    }
    /* the stream's ticket stands for its token (ticket.h), once */
    const char *ticket = http_query_get(&req->query, "ticket");
    if (ticket && strcmp(req->path, GW_STREAM_PATH) == 0 &&
        http_req_header(req, "Authorization") == NULL) {
        char *authorization = gw_ticket_take(gw->tickets, ticket, req->client_ip, util_now_ms());
        if (authorization == NULL ||
            http_head_add(&req->head, "Authorization", authorization) != 0) {
            free(authorization);
            http_add_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
            http_reply_problem(req, 401, "unauthorized",
                               "the ticket is unknown, used or expired: ask for a new one", NULL);
            return false;
        }
        free(authorization);
    }
    return authz_request(req, &gw->proc.jwt, gw->proc.revoke, gw_note_caller, NULL);
}

static void gw_done(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    const struct gw_reqinfo *ri = req->user;
    char ts[32];
    size_t len = 0;
    char path[512];
    util_format_time(util_wall_s(), ts, sizeof(ts));
    crmlog_json_escape(path, sizeof(path), &len, req->path ? req->path : "-");
    /* the client's own id: util_valid_request_id let nothing through that needs escaping */
    const char *crid = req->client_request_id[0] ? req->client_request_id : NULL;
    gw_oplog_record(gw->oplog, req, ri ? ri->user_id : NULL);
    fprintf(gw->access_log ? gw->access_log : stderr,
            "{\"ts\":\"%s\",\"request_id\":\"%s\",\"client_request_id\":%s%s%s,\"ip\":\"%s\","
            "\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f,"
            "\"user\":%s%s%s}\n",
            ts, req->request_id, crid ? "\"" : "", crid ? crid : "null", crid ? "\"" : "",
            req->client_ip, req->head.method ? req->head.method : "-", path, req->status,
            req->resp_bytes, (double)(util_now_us() - req->start_us) / 1000.0, ri ? "\"" : "",
            ri ? ri->user_id : "null", ri ? "\"" : "");
}

/* Once a second: flush the access log, and pick up keys added to the key directory (one stat
 * when nothing changed). */
static void gw_flush(evutil_socket_t fd, short what, void *arg)
{
    struct gateway *gw = arg;
    (void)fd;
    (void)what;
    if (gw->access_log)
        fflush(gw->access_log);
    proc_refresh_keys(&gw->proc);
    gw_streams_sweep(gw);
    gw_tickets_prune(gw->tickets, util_now_ms());
}

/* ------------------------------------------------------------------------------------------ */
/* start and stop                                                                              */

static SSL_CTX *gw_tls_context(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    /* TLS 1.2 and 1.3 only; TLS 1.2 offers only ECDHE with an AEAD (HTTP_TLS12_CIPHERS), TLS 1.3
     * has nothing else */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, HTTP_TLS12_CIPHERS) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int gw_routes_add(struct gateway *gw)
{
    int rc = 0;
    rc |= router_add(&gw->proc.router, "GET", "/healthz", gw_healthz, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->proc.router, "GET", "/readyz", gw_readyz, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->proc.router, "GET", "/metrics", gw_metrics_elsewhere, gw, NULL,
                     ROUTE_PUBLIC);
    rc |= router_add(&gw->admin_router, "GET", "/metrics", gw_metrics, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->admin_router, "GET", "/healthz", gw_healthz, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->admin_router, "GET", "/readyz", gw_readyz, gw, NULL, ROUTE_PUBLIC);
    for (size_t i = 0; i < routes_count; i++) {
        const struct routes_entry *e = &routes_table[i];
        router_handler_fn fn = strcmp(e->pattern, GW_TICKET_PATH) == 0 ? gw_ticket : gw_api_proxy;
        rc |= router_add(&gw->proc.router, e->method, e->pattern, fn, gw, e->permission,
                         routes_is_public(e->permission) ? ROUTE_PUBLIC : 0);
    }
    rc |= router_add(&gw->proc.router, "*", "/api/*", gw_api_unknown, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->proc.router, "GET", "/*", gw_web, gw, NULL, ROUTE_PUBLIC);
    return rc;
}

/* TLS: the address and the context when tls_listen is set; 0 or -1 (said in the log). */
static int gw_tls_setup(struct gateway *gw, struct config_addr *addr, bool *tls)
{
    *tls = gw->cfg.tls_listen[0] != '\0';
    if (!*tls)
        return 0;
    if (config_parse_addr(gw->cfg.tls_listen, addr) != 0) {
        log_error(NULL, "config key 'tls_listen': '%s' is not host:port", gw->cfg.tls_listen);
        return -1;
    }
    if (gw->cfg.tls_cert[0] == '\0' || gw->cfg.tls_key[0] == '\0') {
        log_error(NULL, "config key 'tls_listen' needs 'tls_cert' and 'tls_key'");
        return -1;
    }
    if ((gw->ssl_ctx = gw_tls_context(gw->cfg.tls_cert, gw->cfg.tls_key)) == NULL) {
        log_error(NULL, "config key 'tls_cert'/'tls_key': the certificate or key is unusable");
        return -1;
    }
    return 0;
}

/* The admin listener (admin_listen): its own server and routes, no token checks, no access
 * log; meant for loopback or a private network only. 0 or -1 (said in the log). */
static int gw_admin_listen(struct gateway *gw)
{
    struct config_addr addr;
    struct http_limits lim;
    if (gw->cfg.admin_listen[0] == '\0' || strcmp(gw->cfg.admin_listen, "off") == 0)
        return 0;
    if (config_parse_addr(gw->cfg.admin_listen, &addr) != 0) {
        log_error(NULL, "config key 'admin_listen': '%s' is not host:port", gw->cfg.admin_listen);
        return -1;
    }
    http_limits_from_config(&gw->http_cfg, &lim);
    gw->admin = http_server_new(gw->base, "gateway", &lim, &gw->admin_router, gw->proc.metrics);
    return http_server_listen(gw->admin, &addr, NULL);
}

/* The upstream pools, one per service of shared/services.def; 0 or -1. */
static int gw_upstreams_new(struct gateway *gw)
{
    gw->stream_hooks = (struct gw_stream_hooks){gw_stream_opened, gw_stream_closed, gw};
    struct gw_upstream_opts uo = {gw->cfg.upstream_timeout_ms, gw->cfg.upstream_connect_timeout_ms,
                                  gw->cfg.upstream_max_conns,  gw->cfg.upstream_idle_conns,
                                  &gw->proc.proof_key,         &gw->stream_hooks};
    for (int i = 0; i < GW_SERVICES; i++) {
        gw->upstreams[i] =
            gw_upstream_new(gw->proc.base, gw_service_names[i], &gw->cfg.upstream[i], &uo);
        if (gw->upstreams[i] == NULL) {
            log_error(NULL, "config key 'upstream_%s': not an IPv4 address", gw_service_names[i]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct gateway gw;
    struct config_addr tls_addr;
    bool tls = false;
    int rc = 2;

    memset(&gw, 0, sizeof(gw));
    const struct config_entry *const tables[] = {gw_config_table, http_config_table, NULL};
    void *const targets[] = {&gw.cfg, &gw.http_cfg, NULL};
    const struct proc_spec spec = {"gateway",
                                   tables,
                                   targets,
                                   &gw.cfg.log_level,
                                   &gw.cfg.jwt_keys_dir,
                                   &gw.cfg.jwt_issuer,
                                   &gw.cfg.jwt_audience,
                                   GW_JWT_CACHE,
                                   &gw.cfg.redis_user,
                                   &gw.cfg.redis_password_file,
                                   &gw.http_cfg,
                                   true};
    if (proc_start(&gw.proc, &spec, argc, argv, gw_pre, gw_done, &gw) != 0 ||
        gw_tls_setup(&gw, &tls_addr, &tls) != 0)
        goto out;
    if (gw.proc.check_only) {
        printf("config ok\n");
        rc = 0;
        goto out;
    }
    if (gw.cfg.access_log[0] != '\0' && (gw.access_log = fopen(gw.cfg.access_log, "a")) == NULL) {
        log_error(NULL, "config key 'access_log': cannot open '%s'", gw.cfg.access_log);
        goto out;
    }
    rc = 1;
    gw.base = gw.proc.base;
    router_init(&gw.admin_router);
    http_server_limit_per_address(gw.proc.http, gw.cfg.max_connections_per_address);
    if (gw.proc.proof_key.len == 0)
        log_warn(NULL, "config key 'proxy_secret_file' is not set: the services will not believe "
                       "the client addresses and request ids the gateway forwards");
    if (gw_upstreams_new(&gw) != 0)
        goto out;
    gw.web = gw_static_new(gw.cfg.web_root);
    gw.tickets = gw_tickets_new(GW_TICKETS_MAX, GW_TICKET_TTL_MS);
    proc_revocations(&gw.proc, gw.cfg.redis_host, (int)gw.cfg.redis_port);
    gw.oplog = gw_oplog_new(gw.base, gw.cfg.redis_host, (int)gw.cfg.redis_port, 100000,
                            gw.cfg.stream_trim_above);
    gw.rl = gw_ratelimit_new(gw.cfg.rate_limit_rps, gw.cfg.rate_limit_burst);
    if (gw_routes_add(&gw) != 0) {
        log_error(NULL, "bug: a gateway route is malformed");
        goto out;
    }
    if (proc_listen(&gw.proc, &gw.cfg.listen, NULL) != 0 ||
        (tls && proc_listen(&gw.proc, &tls_addr, gw.ssl_ctx) != 0) || gw_admin_listen(&gw) != 0)
        goto out;
    gw.flush_timer = event_new(gw.base, -1, EV_PERSIST, gw_flush, &gw);
    struct timeval ftv = {1, 0};
    event_add(gw.flush_timer, &ftv);
    log_info(NULL, "gateway %s up with %d verification keys", CRM_VERSION, gw.proc.nkeys);
    proc_run(&gw.proc);
    rc = 0;
out:
    http_server_free(gw.admin);
    if (gw.base)
        router_cleanup(&gw.admin_router);
    proc_close_http(&gw.proc); /* its requests go before the upstream pools they wait on */
    for (int i = 0; i < GW_SERVICES; i++)
        gw_upstream_free(gw.upstreams[i]);
    gw_static_free(gw.web);
    gw_tickets_free(gw.tickets);
    gw_oplog_free(gw.oplog);
    gw_ratelimit_free(gw.rl);
    if (gw.flush_timer)
        event_free(gw.flush_timer);
    if (gw.access_log)
        fclose(gw.access_log);
    proc_stop(&gw.proc);
    if (gw.ssl_ctx)
        SSL_CTX_free(gw.ssl_ctx);
    return rc;
}
