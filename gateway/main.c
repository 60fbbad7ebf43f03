/* SPDX-License-Identifier: Apache-2.0 */
/* crm-gateway: the only public entry point: TLS, JWT checks, rate limits, routing to the
 * services over pooled keep-alive connections, and the web front end. */
#include "gateway.h"
#include "authz.h"
#include "crmlog.h"
#include "metrics.h"
#include "oplog.h"
#include "proxy.h"
#include "ratelimit.h"
#include "revoke.h"
#include "routes.h"
#include "static.h"
#include "util.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GW_JWT_CACHE 8192

const char *const gw_service_names[GW_SERVICES] = {"auth", "customer", "transfer", "care", "audit"};
enum { SVC_AUTH, SVC_CUSTOMER, SVC_TRANSFER, SVC_CARE, SVC_AUDIT };
/* The gateway checks the revocation set too; readiness reports it. */

#define K(field) offsetof(struct gw_config, field)
static const struct config_entry gw_config_table[] = {
    {"listen", CONFIG_ADDR, K(listen), "127.0.0.1:8080", 0, 0, "HTTP host:port"},
    {"tls_listen", CONFIG_STRING, K(tls_listen), "", 0, 0, "HTTPS host:port (with tls_cert)"},
    {"tls_cert", CONFIG_FILE, K(tls_cert), "", 0, 0, "PEM certificate chain"},
    {"tls_key", CONFIG_FILE, K(tls_key), "", 0, 0, "PEM private key"},
    {"upstream_auth", CONFIG_ADDR, K(upstream[SVC_AUTH]), "127.0.0.1:7101", 0, 0, "auth"},
    {"upstream_customer", CONFIG_ADDR, K(upstream[SVC_CUSTOMER]), "127.0.0.1:7102", 0, 0, ""},
    {"upstream_transfer", CONFIG_ADDR, K(upstream[SVC_TRANSFER]), "127.0.0.1:7103", 0, 0, ""},
    {"upstream_care", CONFIG_ADDR, K(upstream[SVC_CARE]), "127.0.0.1:7104", 0, 0, ""},
    {"upstream_audit", CONFIG_ADDR, K(upstream[SVC_AUDIT]), "127.0.0.1:7105", 0, 0, ""},
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

/* Per-request data of the gateway: who called (for the access log). */
struct gw_reqinfo {
    char user_id[32];
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
    bool ready = gw->jwt.nkeys > 0 && revoke_ready(gw->revoke);
    http_reply_json(req, ready ? 200 : 503,
                    json_pack("{s:s, s:{s:i, s:s}, s:o}", "status", ready ? "ready" : "degraded",
                              "checks", "jwt_keys", (int)gw->jwt.nkeys, "revocations",
                              revoke_ready(gw->revoke) ? "ok" : "down", "upstreams", ups));
}

static void gw_metrics(struct http_request *req, void *arg)
{
    struct gateway *gw = arg;
    struct evbuffer *out = evbuffer_new();
    metrics_render(gw->metrics, out);
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
        evbuffer_add_printf(out,
                            "crm_upstream_failures_total{upstream=\"%s\",kind=\"error\"} %llu\n"
                            "crm_upstream_failures_total{upstream=\"%s\",kind=\"timeout\"} %llu\n",
                            gw_service_names[i], (unsigned long long)errors, gw_service_names[i],
                            (unsigned long long)timeouts);
    }
    metrics_render_gauge(out, "crm_http_connections", "Open client connections.", "svc=\"gateway\"",
                         (double)http_server_connections(gw->http));
    metrics_render_gauge(out, "crm_jwt_cache_hits", "Verified-token cache hits.", "svc=\"gateway\"",
                         (double)gw->jwt.cache_hits);
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
    return authz_request(req, &gw->jwt, gw->revoke, gw_note_caller, NULL);
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
    gw_oplog_record(gw->oplog, req, ri ? ri->user_id : NULL);
    fprintf(gw->access_log ? gw->access_log : stderr,
            "{\"ts\":\"%s\",\"request_id\":\"%s\",\"ip\":\"%s\",\"method\":\"%s\","
            "\"path\":\"%s\",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f,\"user\":%s%s%s}\n",
            ts, req->request_id, req->client_ip, req->head.method ? req->head.method : "-", path,
            req->status, req->resp_bytes, (double)(util_now_us() - req->start_us) / 1000.0,
            ri ? "\"" : "", ri ? ri->user_id : "null", ri ? "\"" : "");
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
    int added = jwtv_refresh_dir(&gw->jwt, gw->cfg.jwt_keys_dir, false, &gw->keys_mtime);
    if (added > 0)
        log_info(NULL, "%d new verification key(s) loaded", added);
}

/* ------------------------------------------------------------------------------------------ */
/* start and stop                                                                              */

static SSL_CTX *gw_tls_context(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void gw_on_drained(void *arg)
{
    struct gateway *gw = arg;
    event_base_loopexit(gw->base, NULL);
}

static void gw_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct gateway *gw = arg;
    (void)what;
    log_info(NULL, "signal %d: draining", (int)sig);
    http_server_drain(gw->http, gw_on_drained, gw);
}

static int gw_routes_add(struct gateway *gw)
{
    int rc = 0;
    rc |= router_add(&gw->router, "GET", "/healthz", gw_healthz, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->router, "GET", "/readyz", gw_readyz, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->router, "GET", "/metrics", gw_metrics, gw, NULL, ROUTE_PUBLIC);
    for (size_t i = 0; i < routes_count; i++) {
        const struct routes_entry *e = &routes_table[i];
        rc |= router_add(&gw->router, e->method, e->pattern, gw_api_proxy, gw, e->permission,
                         routes_is_public(e->permission) ? ROUTE_PUBLIC : 0);
    }
    rc |= router_add(&gw->router, "*", "/api/*", gw_api_unknown, gw, NULL, ROUTE_PUBLIC);
    rc |= router_add(&gw->router, "GET", "/*", gw_web, gw, NULL, ROUTE_PUBLIC);
    return rc;
}

int main(int argc, char **argv)
{
    struct gateway gw;
    const char *config_path = NULL;
    bool check_only = false;
    char err[512];
    int rc = 1;

    memset(&gw, 0, sizeof(gw));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0)
            check_only = true;
        else {
            fprintf(stderr, "usage: %s --config FILE [--check-config]\n", argv[0]);
            return 2;
        }
    }
    crmlog_init("gateway", CRMLOG_INFO);
    const struct config_entry *const tables[] = {gw_config_table, http_config_table, NULL};
    void *const targets[] = {&gw.cfg, &gw.http_cfg, NULL};
    if (config_loadv(tables, targets, config_path, err, sizeof(err)) != 0) {
        log_error(NULL, "%s", err);
        config_free(gw_config_table, &gw.cfg);
        return 2;
    }
    enum crmlog_level lvl;
    if (crmlog_parse_level(gw.cfg.log_level, &lvl) != 0) {
        log_error(NULL, "config key 'log_level': '%s' is not debug, info, warn or error",
                  gw.cfg.log_level);
        goto out;
    }
    crmlog_init("gateway", lvl);
    struct config_addr tls_addr;
    bool tls = gw.cfg.tls_listen[0] != '\0';
    if (tls && config_parse_addr(gw.cfg.tls_listen, &tls_addr) != 0) {
        log_error(NULL, "config key 'tls_listen': '%s' is not host:port", gw.cfg.tls_listen);
        goto out;
    }
    if (tls && (gw.cfg.tls_cert[0] == '\0' || gw.cfg.tls_key[0] == '\0')) {
        log_error(NULL, "config key 'tls_listen' needs 'tls_cert' and 'tls_key'");
        goto out;
    }
    if (tls && (gw.ssl_ctx = gw_tls_context(gw.cfg.tls_cert, gw.cfg.tls_key)) == NULL) {
        log_error(NULL, "config key 'tls_cert'/'tls_key': the certificate or key is unusable");
        goto out;
    }
    jwtv_init(&gw.jwt, gw.cfg.jwt_issuer, gw.cfg.jwt_audience, GW_JWT_CACHE);
    int nkeys = jwtv_load_dir(&gw.jwt, gw.cfg.jwt_keys_dir, false, err, sizeof(err));
    if (nkeys < 0) {
        log_error(NULL, "config key 'jwt_keys_dir': %s", err);
        goto out;
    }
    if (check_only) {
        printf("config ok\n");
        rc = 0;
        goto out;
    }
    if (gw.cfg.access_log[0] != '\0') {
        gw.access_log = fopen(gw.cfg.access_log, "a");
        if (gw.access_log == NULL) {
            log_error(NULL, "config key 'access_log': cannot open '%s'", gw.cfg.access_log);
            goto out;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    gw.base = event_base_new();
    gw.started_at = util_wall_s();
    router_init(&gw.router);
    gw.metrics = metrics_new("gateway");
    struct http_limits lim;
    http_limits_from_config(&gw.http_cfg, &lim);
    gw.http = http_server_new(gw.base, "gateway", &lim, &gw.router, gw.metrics);
    http_server_set_hooks(gw.http, gw_pre, gw_done, &gw);
    struct gw_upstream_opts uo = {gw.cfg.upstream_timeout_ms, gw.cfg.upstream_connect_timeout_ms,
                                  gw.cfg.upstream_max_conns, gw.cfg.upstream_idle_conns};
    for (int i = 0; i < GW_SERVICES; i++) {
        gw.upstreams[i] = gw_upstream_new(gw.base, gw_service_names[i], &gw.cfg.upstream[i], &uo);
        if (gw.upstreams[i] == NULL) {
            log_error(NULL, "config key 'upstream_%s': not an IPv4 address", gw_service_names[i]);
            goto out;
        }
    }
    gw.web = gw_static_new(gw.cfg.web_root);
    gw.revoke = revoke_new(gw.base, gw.cfg.redis_host, (int)gw.cfg.redis_port);
    gw.oplog = gw_oplog_new(gw.base, gw.cfg.redis_host, (int)gw.cfg.redis_port, 100000,
                            gw.cfg.stream_trim_above);
    gw.rl = gw_ratelimit_new(gw.cfg.rate_limit_rps, gw.cfg.rate_limit_burst);
    if (gw_routes_add(&gw) != 0) {
        log_error(NULL, "bug: a gateway route is malformed");
        goto out;
    }
    if (http_server_listen(gw.http, &gw.cfg.listen, NULL) != 0 ||
        (tls && http_server_listen(gw.http, &tls_addr, gw.ssl_ctx) != 0))
        goto out;
    gw.sig_term = evsignal_new(gw.base, SIGTERM, gw_on_signal, &gw);
    gw.sig_int = evsignal_new(gw.base, SIGINT, gw_on_signal, &gw);
    event_add(gw.sig_term, NULL);
    event_add(gw.sig_int, NULL);
    gw.flush_timer = event_new(gw.base, -1, EV_PERSIST, gw_flush, &gw);
    struct timeval ftv = {1, 0};
    event_add(gw.flush_timer, &ftv);
    log_info(NULL, "gateway %s up with %d verification keys", CRM_VERSION, nkeys);
    event_base_dispatch(gw.base);
    rc = 0;
out:
    if (gw.http)
        http_server_free(gw.http);
    for (int i = 0; i < GW_SERVICES; i++)
        gw_upstream_free(gw.upstreams[i]);
    gw_static_free(gw.web);
    revoke_free(gw.revoke);
    gw_oplog_free(gw.oplog);
    gw_ratelimit_free(gw.rl);
    if (gw.flush_timer)
        event_free(gw.flush_timer);
    if (gw.sig_term)
        event_free(gw.sig_term);
    if (gw.sig_int)
        event_free(gw.sig_int);
    if (gw.metrics)
        metrics_free(gw.metrics);
    router_cleanup(&gw.router);
    jwtv_cleanup(&gw.jwt);
    if (gw.ssl_ctx)
        SSL_CTX_free(gw.ssl_ctx);
    if (gw.access_log)
        fclose(gw.access_log);
    if (gw.base)
        event_base_free(gw.base);
    config_free(gw_config_table, &gw.cfg);
    config_free(http_config_table, &gw.http_cfg);
    return rc;
}
