/* SPDX-License-Identifier: Apache-2.0 */
/* svc: what every CRM service process shares: config, HTTP, workers with MySQL and Redis, JWT
 * identity, health/readiness/metrics, migrations at start and a graceful drain on SIGTERM. */
#include "svc.h"
#include "authz.h"
#include "crmlog.h"
#include "metrics.h"
#include "migrate.h"
#include "routes.h"
#include "util.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <mysql.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SVC_PROBE_INTERVAL_MS 5000
#define SVC_JWT_CACHE         4096

#define K(field) offsetof(struct svc_config, field)
static const struct config_entry svc_config_table[] = {
    {"listen", CONFIG_ADDR, K(listen), NULL, 0, 0, "host:port to listen on"},
    {"db_host", CONFIG_STRING, K(db_host), "127.0.0.1", 0, 0, "MariaDB host"},
    {"db_port", CONFIG_INT, K(db_port), "3307", 1, 65535, "MariaDB port"},
    {"db_name", CONFIG_STRING, K(db_name), NULL, 0, 0, "the service's schema"},
    {"db_user", CONFIG_STRING, K(db_user), NULL, 0, 0, "the service's database user"},
    {"db_password_file", CONFIG_FILE, K(db_password_file), NULL, 0, 0, "file with the password"},
    {"db_timeout_s", CONFIG_INT, K(db_timeout_s), "5", 1, 300, "database I/O timeout"},
    {"redis_host", CONFIG_STRING, K(redis_host), "127.0.0.1", 0, 0, "Redis host"},
    {"redis_port", CONFIG_INT, K(redis_port), "6380", 1, 65535, "Redis port"},
    {"redis_timeout_ms", CONFIG_INT, K(redis_timeout_ms), "1000", 10, 60000, "Redis timeout"},
    {"jwt_keys_dir", CONFIG_DIR, K(jwt_keys_dir), NULL, 0, 0, "directory of <kid>.pub.pem"},
    {"jwt_issuer", CONFIG_STRING, K(jwt_issuer), "crm-auth", 0, 0, "required iss"},
    {"jwt_audience", CONFIG_STRING, K(jwt_audience), "crm", 0, 0, "required aud"},
    {"migrations_dir", CONFIG_DIR, K(migrations_dir), NULL, 0, 0, "the service's migrations"},
    {"workers", CONFIG_INT, K(workers), "4", 1, 256, "worker threads"},
    {"queue_max", CONFIG_INT, K(queue_max), "256", 1, 100000, "waiting jobs before 503"},
    {"debug_endpoints", CONFIG_BOOL, K(debug_endpoints), "false", 0, 0, "test-only routes"},
    {"log_level", CONFIG_STRING, K(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"outbox_keep_hours", CONFIG_INT, K(outbox_keep_hours), "168", 0, 87600,
     "keep published outbox rows this long (0: forever)"},
    {"stream_trim_above", CONFIG_INT, K(stream_trim_above), "10000", 0, 100000000,
     "a longer stream loses its read entries (unread ones never)"},
    CONFIG_END,
};
#undef K

/* ------------------------------------------------------------------------------------------ */
/* identity                                                                                    */

static void identity_free(void *p)
{
    struct svc_identity *id = p;
    json_decref(id->roles);
    json_decref(id->perms);
    json_decref(id->claims);
    free(id);
}

bool svc_has_perm(const struct http_request *req, const char *permission)
{
    const struct svc_identity *id = req->user;
    return id != NULL && routes_perms_allow(id->perms, permission);
}

const struct svc_identity *svc_identity(const struct http_request *req)
{
    return req->user;
}

/* Verify the bearer token (signature, claims, revocation) and the route's permission before an
 * API handler runs (authz_request): the gateway checked too, but a service trusts nobody's word
 * for it. Then keep the caller's identity on the request. */
static bool svc_pre(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    json_t *claims = NULL;
    if (!authz_request(req, &s->jwt, s->revoke, NULL, &claims))
        return false;
    if (claims == NULL) /* a public route */
        return true;
    struct svc_identity *id = xcalloc(1, sizeof(*id));
    req->user = id;
    req->user_free = identity_free;
    id->claims = claims;
    snprintf(id->user_id, sizeof(id->user_id), "%s",
             json_string_value(json_object_get(claims, "sub")));
    const char *name = json_string_value(json_object_get(claims, "name"));
    snprintf(id->name, sizeof(id->name), "%s", name ? name : "");
    id->dept_id = (long)json_integer_value(json_object_get(claims, "dept_id"));
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    snprintf(id->scope, sizeof(id->scope), "%s", scope ? scope : "SELF");
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    snprintf(id->jti, sizeof(id->jti), "%s", jti ? jti : "");
    json_t *iat_ms = json_object_get(claims, "iat_ms");
    id->iat_ms = json_is_integer(iat_ms)
                     ? json_integer_value(iat_ms)
                     : json_integer_value(json_object_get(claims, "iat")) * 1000;
    json_t *roles = json_object_get(claims, "roles");
    id->roles = json_is_array(roles) ? json_incref(roles) : json_array();
    json_t *perms = json_object_get(claims, "perms");
    id->perms = json_is_array(perms) ? json_incref(perms) : json_array();
    return true;
}

int svc_route(struct svc *s, const char *method, const char *pattern, router_handler_fn fn)
{
    const struct routes_entry *e = routes_find(method, pattern);
    if (e == NULL || (strcmp(e->service, s->name) != 0 && strcmp(e->service, "any") != 0)) {
        log_error(NULL, "bug: %s %s is not declared for %s in shared/routes.def", method, pattern,
                  s->name);
        return -1;
    }
    return router_add(&s->router, method, pattern, fn, s, e->permission,
                      routes_is_public(e->permission) ? ROUTE_PUBLIC : 0);
}

void svc_events_committed(struct svc *s)
{
    events_relay_wake(s->relay);
}

int svc_route_public(struct svc *s, const char *method, const char *pattern, router_handler_fn fn)
{
    return router_add(&s->router, method, pattern, fn, s, NULL, ROUTE_PUBLIC);
}

/* ------------------------------------------------------------------------------------------ */
/* jobs                                                                                        */

void svc_job_ok(struct svc_job *job, int status, json_t *body)
{
    job->status = status;
    json_decref(job->body);
    job->body = body;
}

void svc_job_fail(struct svc_job *job, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    job->status = status;
    job->code = code;
    va_start(ap, fmt);
    vsnprintf(job->detail, sizeof(job->detail), fmt, ap);
    va_end(ap);
}

void svc_job_db_error(struct svc_job *job, struct svc_worker *w)
{
    log_error(job->req ? job->req->request_id : NULL, "database error %u: %s", w->db.last_errno,
              w->db.last_error);
    if (w->db.mysql == NULL)
        svc_job_fail(job, 503, "database_unavailable", "the database is not reachable");
    else
        svc_job_fail(job, 500, "internal", "the request could not be completed");
}

static void svc_job_work(void *thread_ctx, void *arg)
{
    struct svc_job *job = arg;
    job->work(thread_ctx, job);
}

static void svc_job_done(void *arg)
{
    struct svc_job *job = arg;
    if (job->status == 503 || job->status == 429) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", job->retry_after > 0 ? job->retry_after : 1);
        http_add_header(job->req, "Retry-After", ra);
    }
    /* a failure with a body of its own (a 503 readiness report) keeps it */
    if (job->status >= 400 && job->body == NULL) {
        http_reply_problem(job->req, job->status, job->code ? job->code : "internal",
                           job->detail[0] ? job->detail : NULL, job->errors);
        job->errors = NULL;
    } else if (job->body) {
        http_reply_json(job->req, job->status, job->body);
        job->body = NULL;
    } else {
        http_reply(job->req, job->status, NULL, NULL, 0);
    }
    json_decref(job->body);
    json_decref(job->errors);
    if (job->data_free)
        job->data_free(job->data);
    free(job);
}

void svc_submit(struct svc *s, struct http_request *req,
                void (*work)(struct svc_worker *w, struct svc_job *job), void *data,
                void (*data_free)(void *))
{
    svc_submit_to(s, s->pool, req, work, data, data_free);
}

void svc_submit_to(struct svc *s, struct pool *pool, struct http_request *req,
                   void (*work)(struct svc_worker *w, struct svc_job *job), void *data,
                   void (*data_free)(void *))
{
    struct svc_job *job = xcalloc(1, sizeof(*job));
    job->svc = s;
    job->req = req;
    job->work = work;
    job->status = 500;
    job->data = data;
    job->data_free = data_free;
    if (pool_submit(pool, svc_job_work, svc_job_done, job) != 0) {
        http_add_header(req, "Retry-After", "1");
        http_reply_problem(req, 503, "overloaded", "the service is busy; retry shortly", NULL);
        if (data_free)
            data_free(data);
        free(job);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* workers                                                                                     */

static void *svc_worker_init(void *arg, int index)
{
    struct svc *s = arg;
    struct svc_worker *w = xcalloc(1, sizeof(*w));
    mysql_thread_init();
    w->svc = s;
    w->index = index;
    db_init(&w->db, &s->dbcfg);
    rds_init(&w->rds, s->cfg.redis_host, (int)s->cfg.redis_port, (int)s->cfg.redis_timeout_ms);
    return w;
}

static void svc_worker_cleanup(void *ctx)
{
    struct svc_worker *w = ctx;
    db_cleanup(&w->db);
    rds_cleanup(&w->rds);
    free(w);
    mysql_thread_end();
}

struct pool *svc_pool_new(struct svc *s, int threads, int queue_max)
{
    return pool_new(s->base, threads, queue_max, svc_worker_init, svc_worker_cleanup, s);
}

/* ------------------------------------------------------------------------------------------ */
/* built-in routes                                                                             */

static void svc_healthz(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *svc_health_json(const struct svc_health *h)
{
    return json_pack("{s:s, s:s}", "db", h->db_ok ? "ok" : "down", "redis",
                     h->redis_ok ? "ok" : "down");
}

/* Probe the database and Redis from a worker, with its own connections. */
static void svc_probe(struct svc_worker *w, struct svc_health *h)
{
    h->db_ok = db_ping(&w->db) == 0;
    h->redis_ok = rds_ping(&w->rds);
    h->checked_at = util_wall_s();
}

static void svc_readyz_work(struct svc_worker *w, struct svc_job *job)
{
    struct svc_health h;
    svc_probe(w, &h);
    bool ready = h.db_ok && h.redis_ok;
    svc_job_ok(job, ready ? 200 : 503,
               json_pack("{s:s, s:o}", "status", ready ? "ready" : "degraded", "checks",
                         svc_health_json(&h)));
}

static void svc_readyz(struct http_request *req, void *arg)
{
    svc_submit(arg, req, svc_readyz_work, NULL, NULL);
}

static void svc_metrics(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    struct evbuffer *out = evbuffer_new();
    char labels[64];
    snprintf(labels, sizeof(labels), "svc=\"%s\"", s->name);
    metrics_render(s->metrics, out);
    metrics_render_gauge(out, "crm_worker_queue_depth", "Jobs waiting for a worker.", labels,
                         pool_queue_depth(s->pool));
    metrics_render_gauge(out, "crm_worker_busy", "Workers running a job.", labels,
                         pool_running(s->pool));
    metrics_render_gauge(out, "crm_worker_threads", "Worker threads.", labels,
                         pool_threads(s->pool));
    metrics_render_gauge(out, "crm_http_connections", "Open client connections.", labels,
                         (double)http_server_connections(s->http));
    char dep[96];
    snprintf(dep, sizeof(dep), "svc=\"%s\",dep=\"db\"", s->name);
    metrics_render_gauge(out, "crm_dependency_up", "Dependency reachable at the last probe.", dep,
                         s->health.db_ok);
    evbuffer_add_printf(out, "crm_dependency_up{svc=\"%s\",dep=\"redis\"} %d\n", s->name,
                        s->health.redis_ok);
    if (s->relay) {
        metrics_render_gauge(out, "crm_outbox_backlog", "Outbox rows waiting to be published.",
                             labels, (double)events_relay_backlog(s->relay));
        evbuffer_add_printf(out,
                            "# HELP crm_events_published_total Events published to the stream.\n"
                            "# TYPE crm_events_published_total counter\n"
                            "crm_events_published_total{%s} %llu\n",
                            labels, (unsigned long long)events_relay_published(s->relay));
        evbuffer_add_printf(out,
                            "# HELP crm_outbox_purged_total Published outbox rows deleted after"
                            " outbox_keep_hours.\n"
                            "# TYPE crm_outbox_purged_total counter\n"
                            "crm_outbox_purged_total{%s} %llu\n",
                            labels, (unsigned long long)events_relay_purged(s->relay));
    }
    metrics_render_gauge(out, "crm_jwt_cache_hits", "Verified-token cache hits.", labels,
                         (double)s->jwt.cache_hits);
    if (s->def->metrics)
        s->def->metrics(s, out);
    http_reply_evbuf(req, 200, "text/plain; version=0.0.4; charset=utf-8", out);
    evbuffer_free(out);
}

/* GET /api/v1/system/<svc>/info: what an administrator's status page shows. In memory only. */
static void svc_info(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    const struct svc_identity *id = svc_identity(req);
    const char *which = router_param(&req->params, "service");
    if (which == NULL || strcmp(which, s->name) != 0) {
        http_reply_problem(req, 404, "not_found", "no such service here", NULL);
        return;
    }
    char started[32];
    util_format_time(s->started_at, started, sizeof(started));
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:s, s:s, s:{s:s, s:s}}", "service", s->name,
        "version", s->version, "started_at", started, "uptime_s",
        (json_int_t)(util_wall_s() - s->started_at), "workers", pool_threads(s->pool),
        "queue_depth", pool_queue_depth(s->pool), "queue_max", pool_queue_max(s->pool), "db",
        s->health.db_ok ? "ok" : "down", "redis", s->health.redis_ok ? "ok" : "down", "caller",
        "user_id", id->user_id, "name", id->name);
    http_reply_json(req, 200, body);
}

/* Test-only: park a worker in the database for 'ms' milliseconds. */
static void svc_debug_sleep_work(struct svc_worker *w, struct svc_job *job)
{
    long ms = (long)(intptr_t)job->data;
    struct db_param p[] = {{DB_DOUBLE, 0, NULL, 0, (double)ms / 1000.0}};
    json_t *rows = NULL;
    if (db_query(&w->db, "SELECT SLEEP(?) AS slept", p, 1, &rows) != 0) {
        svc_job_db_error(job, w);
        return;
    }
    json_decref(rows);
    svc_job_ok(job, 200, json_pack("{s:i}", "slept_ms", (int)ms));
}

static void svc_debug_sleep(struct http_request *req, void *arg)
{
    long ms = 0;
    const char *v = http_query_get(&req->query, "ms");
    if (v == NULL || util_parse_long(v, 0, 60000, &ms) != 0) {
        json_t *errs = json_array();
        json_array_append_new(errs, json_pack("{s:s,s:s}", "field", "ms", "message",
                                              "must be an integer from 0 to 60000"));
        http_reply_problem(req, 422, "validation_failed", "invalid query", errs);
        return;
    }
    svc_submit(arg, req, svc_debug_sleep_work, (void *)(intptr_t)ms, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* dependency probe timer                                                                      */

static void svc_probe_work(void *thread_ctx, void *arg)
{
    struct svc_worker *w = thread_ctx;
    struct svc_health *h = arg;
    svc_probe(w, h);
}

static void svc_probe_done(void *arg)
{
    struct svc_health *h = arg;
    struct svc *s = *(struct svc **)(h + 1);
    s->health = *h;
    s->probe_running = false;
    free(h);
}

static void svc_probe_tick(evutil_socket_t fd, short what, void *arg)
{
    struct svc *s = arg;
    (void)fd;
    (void)what;
    /* a key added to the directory (rotation) verifies here within a tick */
    int added = jwtv_refresh_dir(&s->jwt, s->cfg.jwt_keys_dir, false, &s->keys_mtime);
    if (added > 0)
        log_info(NULL, "%d new verification key(s) loaded", added);
    if (s->probe_running)
        return;
    /* a health record followed by its owner, freed in svc_probe_done */
    struct svc_health *h = xcalloc(1, sizeof(*h) + sizeof(struct svc *));
    *(struct svc **)(h + 1) = s;
    if (pool_submit(s->pool, svc_probe_work, svc_probe_done, h) == 0)
        s->probe_running = true;
    else
        free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* start and stop                                                                              */

static void svc_on_drained(void *arg)
{
    struct svc *s = arg;
    log_info(NULL, "drained; stopping");
    event_base_loopexit(s->base, NULL);
}

static void svc_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct svc *s = arg;
    (void)what;
    log_info(NULL, "signal %d: draining", (int)sig);
    event_del(s->probe_timer);
    http_server_drain(s->http, svc_on_drained, s);
}

static void svc_usage(const char *prog)
{
    fprintf(stderr, "usage: %s --config FILE [--check-config]\n", prog);
}

/* Apply migrations, waiting for the database for up to a minute (it may still be starting). */
static int svc_migrate(struct svc *s)
{
    char err[512];
    for (int attempt = 0; attempt < 60; attempt++) {
        int n = migrate_run(&s->dbcfg, s->cfg.migrations_dir, err, sizeof(err));
        if (n >= 0) {
            log_info(NULL, "migrations: %d applied", n);
            return 0;
        }
        if (strncmp(err, "database unavailable", 20) != 0) {
            log_error(NULL, "migrations failed: %s", err);
            return -1;
        }
        if (attempt % 10 == 0)
            log_warn(NULL, "waiting for the database: %s", err);
        sleep(1);
    }
    log_error(NULL, "database unavailable for a minute; giving up");
    return -1;
}

int svc_main(int argc, char **argv, const struct svc_def *def)
{
    struct svc s;
    const char *config_path = NULL;
    bool check_only = false;
    char err[512];
    int rc = 1;

    memset(&s, 0, sizeof(s));
    s.def = def;
    s.name = def->name;
    s.version = def->version;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0)
            check_only = true;
        else {
            svc_usage(argv[0]);
            return 2;
        }
    }
    crmlog_init(def->name, CRMLOG_INFO);
    static const struct config_entry no_keys[] = {CONFIG_END};
    s.config = xcalloc(1, def->config_size ? def->config_size : 1);
    const struct config_entry *const tables[] = {svc_config_table, http_config_table,
                                                 def->config ? def->config : no_keys, NULL};
    void *const targets[] = {&s.cfg, &s.http_cfg, s.config, NULL};
    if (config_loadv(tables, targets, config_path, err, sizeof(err)) != 0) {
        log_error(NULL, "%s", err);
        config_free(svc_config_table, &s.cfg);
        if (def->config)
            config_free(def->config, s.config);
        free(s.config);
        return 2;
    }
    enum crmlog_level lvl;
    if (crmlog_parse_level(s.cfg.log_level, &lvl) != 0) {
        log_error(NULL, "config key 'log_level': '%s' is not debug, info, warn or error",
                  s.cfg.log_level);
        rc = 2;
        goto out;
    }
    crmlog_init(def->name, lvl);
    size_t plen = 0;
    s.db_password = util_read_file(s.cfg.db_password_file, 4096, &plen);
    if (s.db_password == NULL) {
        log_error(NULL, "config key 'db_password_file': cannot read '%s'", s.cfg.db_password_file);
        rc = 2;
        goto out;
    }
    while (plen > 0 && (s.db_password[plen - 1] == '\n' || s.db_password[plen - 1] == '\r'))
        s.db_password[--plen] = '\0';
    jwtv_init(&s.jwt, s.cfg.jwt_issuer, s.cfg.jwt_audience, SVC_JWT_CACHE);
    int nkeys = jwtv_load_dir(&s.jwt, s.cfg.jwt_keys_dir, false, err, sizeof(err));
    if (nkeys < 0) {
        log_error(NULL, "config key 'jwt_keys_dir': %s", err);
        rc = 2;
        goto out;
    }
    if (check_only) {
        fprintf(stdout, "config ok\n");
        rc = 0;
        goto out;
    }
    log_info(NULL, "starting %s %s with %d verification keys", def->name, def->version, nkeys);
    signal(SIGPIPE, SIG_IGN);
    s.dbcfg = (struct db_config){s.cfg.db_host, (int)s.cfg.db_port, s.cfg.db_user,
                                 s.db_password, s.cfg.db_name,      (int)s.cfg.db_timeout_s};
    if (svc_migrate(&s) != 0)
        goto out;

    evthread_use_pthreads();
    s.base = event_base_new();
    s.started_at = util_wall_s();
    router_init(&s.router);
    s.metrics = metrics_new(def->name);
    struct http_limits lim;
    http_limits_from_config(&s.http_cfg, &lim);
    s.http = http_server_new(s.base, def->name, &lim, &s.router, s.metrics);
    http_server_set_hooks(s.http, svc_pre, NULL, &s);
    s.pool = pool_new(s.base, (int)s.cfg.workers, (int)s.cfg.queue_max, svc_worker_init,
                      svc_worker_cleanup, &s);

    if (svc_route_public(&s, "GET", "/healthz", svc_healthz) != 0 ||
        svc_route_public(&s, "GET", "/readyz", svc_readyz) != 0 ||
        svc_route_public(&s, "GET", "/metrics", svc_metrics) != 0 ||
        svc_route(&s, "GET", "/api/v1/system/{service}/info", svc_info) != 0 ||
        (s.cfg.debug_endpoints &&
         svc_route_public(&s, "GET", "/_debug/sleep", svc_debug_sleep) != 0)) {
        log_error(NULL, "bug: a built-in route is malformed");
        goto out;
    }
    s.revoke = revoke_new(s.base, s.cfg.redis_host, (int)s.cfg.redis_port);
    if (def->produces_events) {
        struct events_relay_config relay_cfg = {&s.dbcfg,
                                                s.cfg.redis_host,
                                                (int)s.cfg.redis_port,
                                                (int)s.cfg.redis_timeout_ms,
                                                def->name,
                                                1000,
                                                s.cfg.stream_trim_above,
                                                s.cfg.outbox_keep_hours};
        s.relay = events_relay_start(&relay_cfg);
    }
    if (def->setup && def->setup(&s) != 0)
        goto out;
    if (http_server_listen(s.http, &s.cfg.listen, NULL) != 0)
        goto out;

    s.sig_term = evsignal_new(s.base, SIGTERM, svc_on_signal, &s);
    s.sig_int = evsignal_new(s.base, SIGINT, svc_on_signal, &s);
    event_add(s.sig_term, NULL);
    event_add(s.sig_int, NULL);
    s.probe_timer = event_new(s.base, -1, EV_PERSIST, svc_probe_tick, &s);
    struct timeval ptv = {SVC_PROBE_INTERVAL_MS / 1000, 0};
    event_add(s.probe_timer, &ptv);
    svc_probe_tick(-1, 0, &s);

    event_base_dispatch(s.base);
    rc = 0;
out:
    /* Workers first: their last completions still reply through live connections. */
    if (s.pool)
        pool_free(s.pool);
    if (def->teardown && s.base)
        def->teardown(&s);
    events_relay_stop(s.relay);
    revoke_free(s.revoke);
    if (s.http)
        http_server_free(s.http);
    if (s.probe_timer)
        event_free(s.probe_timer);
    if (s.sig_term)
        event_free(s.sig_term);
    if (s.sig_int)
        event_free(s.sig_int);
    if (s.metrics)
        metrics_free(s.metrics);
    router_cleanup(&s.router);
    jwtv_cleanup(&s.jwt);
    if (s.base)
        event_base_free(s.base);
    free(s.db_password);
    config_free(svc_config_table, &s.cfg);
    config_free(http_config_table, &s.http_cfg);
    if (def->config)
        config_free(def->config, s.config);
    free(s.config);
    log_info(NULL, "stopped");
    return rc;
}
