/* SPDX-License-Identifier: Apache-2.0 */
/* svc: what every CRM service process shares: config, HTTP, workers with MySQL and Redis, JWT
 * identity, health/readiness/metrics, migrations at start and a graceful drain on SIGTERM. */
#include "svc.h"
#include "dictproj.h"
#include "authz.h"
#include "proc.h"
#include "crmlog.h"
#include "jsonv.h"
#include "metrics.h"
#include "migrate.h"
#include "ownerproj.h"
#include "routes.h"
#include "task.h"
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
    {"db_migrate_user", CONFIG_STRING, K(db_migrate_user), "", 0, 0,
     "the database user that applies migrations (DDL on the schema); empty: db_user"},
    {"db_migrate_password_file", CONFIG_FILE, K(db_migrate_password_file), "", 0, 0,
     "file with db_migrate_user's password (required with it)"},
    {"db_timeout_s", CONFIG_INT, K(db_timeout_s), "5", 1, 300, "database I/O timeout"},
    {"redis_host", CONFIG_STRING, K(redis_host), "127.0.0.1", 0, 0, "Redis host"},
    {"redis_port", CONFIG_INT, K(redis_port), "6380", 1, 65535, "Redis port"},
    {"redis_timeout_ms", CONFIG_INT, K(redis_timeout_ms), "1000", 10, 60000, "Redis timeout"},
    {"redis_user", CONFIG_STRING, K(redis_user), "", 0, 0,
     "the service's Redis ACL user (its own stream, what it consumes); empty: the default user"},
    {"redis_password_file", CONFIG_FILE, K(redis_password_file), "", 0, 0,
     "file with redis_user's password (required with it)"},
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
    {"consumer_name", CONFIG_STRING, K(consumer_name), "", 0, 0,
     "this consumer in its group, stable across restarts; empty: <service>-<listen port>"},
    {"claim_idle_ms", CONFIG_INT, K(claim_idle_ms), "30000", 100, 3600000,
     "pending entries of a dead consumer are claimed after this"},
    {"max_deliveries", CONFIG_INT, K(max_deliveries), "10", 1, 1000,
     "an entry failing this often goes to crm:dead:<group>"},
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
    if (!authz_request(req, &s->proc.jwt, s->proc.revoke, NULL, &claims))
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
    /* a token without a known scope sees only its own records */
    if (scope_parse(json_string_value(json_object_get(claims, "scope")), &id->scope) != 0)
        id->scope = SCOPE_SELF;
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    snprintf(id->jti, sizeof(id->jti), "%s", jti ? jti : "");
    id->iat_ms = authz_issued_ms(claims);
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
    return router_add(&s->proc.router, method, pattern, fn, s, e->permission,
                      routes_is_public(e->permission) ? ROUTE_PUBLIC : 0);
}

void svc_events_committed(struct svc *s)
{
    events_relay_wake(s->relay);
}

int svc_route_public(struct svc *s, const char *method, const char *pattern, router_handler_fn fn)
{
    return router_add(&s->proc.router, method, pattern, fn, s, NULL, ROUTE_PUBLIC);
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
    const char *rid = job->req ? job->req->request_id : NULL;
    if (w->db.last_errno == DB_ER_DUP_ENTRY) {
        log_info(rid, "duplicate key: %s", w->db.last_error);
        svc_job_fail(job, 409, "conflict", "a record with this value exists already");
        return;
    }
    log_error(rid, "database error %u: %s", w->db.last_errno, w->db.last_error);
    if (db_error_retryable(&w->db)) {
        job->retry_after = 1;
        svc_job_fail(job, 503, "busy", "the record is busy; retry shortly");
    } else if (w->db.mysql == NULL) {
        svc_job_fail(job, 503, "database_unavailable", "the database is not reachable");
    } else {
        svc_job_fail(job, 500, "internal", "the request could not be completed");
    }
}

/* Run the job's work, then close what it left: a transaction still open is rolled back (the
 * work failed on its way), and a job still at 500 without a code failed on the database. A POST
 * with an Idempotency-Key that this user sent before is answered from the stored answer without
 * running the work (the creates store theirs with kit_commit_created). */
/* A deadlock's victim is run again, twice at most: InnoDB rolled its transaction back whole, so
 * nothing of it happened, and two concurrent inserts into neighbouring index gaps (two creates
 * at once) can deadlock without anybody doing wrong. Only when the work had committed nothing
 * (a job of several transactions is not made to repeat its first) and was failing on the
 * database (500, no code, no body): the reply fields go back to what svc_submit set. */
#define SVC_DEADLOCK_RETRIES 2
static bool svc_job_rerun(struct svc_worker *w, struct svc_job *job, uint64_t commits_before)
{
    if (job->status != 500 || job->code != NULL || job->body != NULL ||
        w->db.last_errno != DB_ER_LOCK_DEADLOCK || w->db.commits != commits_before)
        return false;
    log_info(job->req->request_id, "deadlock victim: running the request again");
    json_decref(job->errors);
    json_decref(job->extra);
    job->errors = job->extra = NULL;
    job->detail[0] = '\0';
    job->retry_after = 0;
    w->db.last_errno = 0;
    w->db.last_error[0] = '\0';
    return true;
}

static void svc_job_work(void *thread_ctx, void *arg)
{
    struct svc_worker *w = thread_ctx;
    struct svc_job *job = arg;
    /* a failure is this job's own, never the last job's on this connection */
    w->db.last_errno = 0;
    w->db.last_error[0] = '\0';
    if (strcmp(job->req->head.method, "POST") != 0 || !idem_begin(w, job)) {
        for (int attempt = 0;; attempt++) {
            uint64_t commits = w->db.commits;
            job->work(w, job);
            if (w->db.in_tx)
                db_rollback(&w->db);
            if (attempt == SVC_DEADLOCK_RETRIES || !svc_job_rerun(w, job, commits))
                break;
        }
    }
    if (w->db.in_tx)
        db_rollback(&w->db);
    /* a retry that lost the race with its first try answers with the first try's answer */
    if (job->status >= 400 && idem_replay(w, job))
        return;
    if (job->status == 500 && job->code == NULL)
        svc_job_db_error(job, w);
}

static void svc_job_done(void *arg)
{
    struct svc_job *job = arg;
    if (job->status == 503 || job->status == 429) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", job->retry_after > 0 ? job->retry_after : 1);
        http_add_header(job->req, "Retry-After", ra);
    }
    if (job->idem.replayed)
        http_add_header(job->req, "Idempotent-Replayed", "true");
    /* a failure with a body of its own (a 503 readiness report) keeps it */
    if (job->status >= 400 && job->body == NULL) {
        http_reply_problem_with(job->req, job->status, job->code ? job->code : "internal",
                                job->detail[0] ? job->detail : NULL, job->errors, job->extra);
        job->errors = NULL;
        job->extra = NULL;
    } else if (job->body) {
        http_reply_json(job->req, job->status, job->body);
        job->body = NULL;
    } else {
        http_reply(job->req, job->status, NULL, NULL, 0);
    }
    json_decref(job->body);
    json_decref(job->errors);
    json_decref(job->extra);
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
/* background tasks                                                                            */

static void *svc_task_ctx_new(void *arg)
{
    return svc_worker_init(arg, -1);
}

static int svc_task_round(void *ctx, void *arg)
{
    struct svc_task_run *r = arg;
    return r->def->run(ctx, r->svc->app);
}

static void svc_tasks_start(struct svc *s)
{
    for (size_t i = 0; i < s->def->ntasks && i < SVC_MAX_TASKS; i++) {
        s->task_runs[i] = (struct svc_task_run){s, &s->def->tasks[i]};
        const struct task_config tc = {
            .name = s->def->tasks[i].name,
            .interval_ms = s->def->tasks[i].interval_ms,
            .run = svc_task_round,
            .arg = &s->task_runs[i],
            .ctx_new = svc_task_ctx_new,
            .ctx_free = svc_worker_cleanup,
            .ctx_arg = s,
        };
        s->tasks[i] = task_start(&tc);
    }
}

static void svc_tasks_stop(struct svc *s)
{
    for (size_t i = 0; i < SVC_MAX_TASKS; i++) {
        task_stop(s->tasks[i]);
        s->tasks[i] = NULL;
    }
}

void svc_task_wake(struct svc *s, const char *name)
{
    for (size_t i = 0; i < SVC_MAX_TASKS; i++) {
        if (s->tasks[i] && strcmp(task_name(s->tasks[i]), name) == 0)
            task_wake(s->tasks[i]);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* declared consumers                                                                          */

/* The platform's hooks around the service's: the scope projection first, in the same
 * transaction, for a service that reads its department tree from crm:stream:auth. */
static int svc_consume_apply(struct db *db, const char *stream, const char *entry_id, json_t *event,
                             void *arg)
{
    struct svc *s = arg;
    if (s->scope_src == &scope_projection && strcmp(stream, "crm:stream:auth") == 0 &&
        (scope_projection_apply(db, event) != 0 || dictproj_apply(db, event) != 0))
        return -1;
    if (s->def->customer_owners && strcmp(stream, "crm:stream:customer") == 0 &&
        ownerproj_apply(db, event) != 0)
        return -1;
    const struct consumer_hooks *h = &s->def->consume;
    return h->apply ? h->apply(db, stream, entry_id, event, s->app) : 0;
}

static int svc_consume_flush(struct db *db, void *arg)
{
    struct svc *s = arg;
    return s->def->consume.flush ? s->def->consume.flush(db, s->app) : 0;
}

static void svc_consume_after(struct db *db, void *arg)
{
    struct svc *s = arg;
    if (s->def->consume.after)
        s->def->consume.after(db, s->app);
}

/* Start the consumer of the streams the service's services.def line names (none: nothing). */
static void svc_consumer_start(struct svc *s)
{
    if (s->nstreams == 0)
        return;
    struct consumer_config cc = {
        .db = &s->dbcfg,
        .redis_host = s->cfg.redis_host,
        .redis_port = (int)s->cfg.redis_port,
        .redis_timeout_ms = (int)s->cfg.redis_timeout_ms,
        .group = s->name,
        .name = s->consumer_name,
        .nstreams = s->nstreams,
        .claim_idle_ms = s->cfg.claim_idle_ms,
        .max_deliveries = s->cfg.max_deliveries,
        .batch = 100,
    };
    for (size_t i = 0; i < s->nstreams; i++)
        cc.streams[i] = s->streams[i];
    const struct consumer_hooks hooks = {svc_consume_apply, svc_consume_flush, svc_consume_after,
                                         s};
    s->consumer = consumer_start(&cc, &hooks);
    log_info(NULL, "consuming %zu streams as %s in group %s", s->nstreams, s->consumer_name,
             s->name);
}

/* Consumer progress for /metrics: lag and pending per stream, outcomes, dead letters. */
static void svc_consumer_metrics(struct svc *s, struct evbuffer *out)
{
    struct consumer_stats st;
    consumer_stats(s->consumer, &st);
    evbuffer_add_printf(out, "# HELP crm_consumer_lag Entries not yet delivered to the group.\n"
                             "# TYPE crm_consumer_lag gauge\n");
    for (size_t i = 0; i < s->nstreams; i++)
        evbuffer_add_printf(out, "crm_consumer_lag{group=\"%s\",stream=\"%s\"} %lld\n", s->name,
                            s->streams[i], st.lag[i]);
    evbuffer_add_printf(out, "# HELP crm_consumer_pending Delivered, not yet acknowledged.\n"
                             "# TYPE crm_consumer_pending gauge\n");
    for (size_t i = 0; i < s->nstreams; i++)
        evbuffer_add_printf(out, "crm_consumer_pending{group=\"%s\",stream=\"%s\"} %lld\n", s->name,
                            s->streams[i], st.pending[i]);
    static const char *const outcomes[] = {"applied", "duplicate", "failed", "claimed"};
    const uint64_t counts[] = {st.applied, st.duplicates, st.failures, st.claimed};
    evbuffer_add_printf(out, "# HELP crm_consumer_events_total Events by outcome.\n"
                             "# TYPE crm_consumer_events_total counter\n");
    for (size_t i = 0; i < ARRAY_LEN(outcomes); i++)
        evbuffer_add_printf(out, "crm_consumer_events_total{group=\"%s\",outcome=\"%s\"} %llu\n",
                            s->name, outcomes[i], (unsigned long long)counts[i]);
    evbuffer_add_printf(out,
                        "# HELP crm_consumer_dead_total Events moved to crm:dead:<group>.\n"
                        "# TYPE crm_consumer_dead_total counter\n"
                        "crm_consumer_dead_total{group=\"%s\"} %llu\n",
                        s->name, (unsigned long long)st.dead);
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
    h->svc = w->svc;
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
    metrics_render(s->proc.metrics, out);
    metrics_render_gauge(out, "crm_worker_queue_depth", "Jobs waiting for a worker.", labels,
                         pool_queue_depth(s->pool));
    metrics_render_gauge(out, "crm_worker_busy", "Workers running a job.", labels,
                         pool_running(s->pool));
    metrics_render_gauge(out, "crm_worker_threads", "Worker threads.", labels,
                         pool_threads(s->pool));
    metrics_render_gauge(out, "crm_http_connections", "Open client connections.", labels,
                         (double)http_server_connections(s->proc.http));
    metrics_render_gauge(out, "crm_http_streams", "Open streaming answers (server-sent events).",
                         labels, (double)http_server_streams(s->proc.http));
    char dep[96];
    snprintf(dep, sizeof(dep), "svc=\"%s\",dep=\"db\"", s->name);
    metrics_render_gauge(out, "crm_dependency_up", "Dependency reachable at the last probe.", dep,
                         s->health.db_ok);
    evbuffer_add_printf(out, "crm_dependency_up{svc=\"%s\",dep=\"redis\"} %d\n", s->name,
                        s->health.redis_ok);
    if (s->relay) {
        metrics_render_gauge(out, "crm_outbox_backlog", "Outbox rows waiting to be published.",
                             labels, (double)events_relay_backlog(s->relay));
        metrics_render_gauge(out, "crm_relay_leader",
                             "1 when this instance's relay publishes the outbox (holds the lock).",
                             labels, events_relay_leader(s->relay));
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
                         (double)s->proc.jwt.cache_hits);
    if (s->consumer)
        svc_consumer_metrics(s, out);
    for (size_t i = 0; i < SVC_MAX_TASKS && s->tasks[i]; i++) {
        if (i == 0)
            evbuffer_add_printf(out, "# HELP crm_task_rounds_total Rounds of a background task.\n"
                                     "# TYPE crm_task_rounds_total counter\n"
                                     "# HELP crm_task_failures_total Failed rounds of a"
                                     " background task.\n"
                                     "# TYPE crm_task_failures_total counter\n");
        evbuffer_add_printf(out, "crm_task_rounds_total{%s,task=\"%s\"} %llu\n", labels,
                            task_name(s->tasks[i]), (unsigned long long)task_rounds(s->tasks[i]));
        evbuffer_add_printf(out, "crm_task_failures_total{%s,task=\"%s\"} %llu\n", labels,
                            task_name(s->tasks[i]), (unsigned long long)task_failures(s->tasks[i]));
    }
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
    util_format_time(s->proc.started_at, started, sizeof(started));
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:s, s:s, s:{s:s, s:s}}", "service", s->name,
        "version", s->version, "started_at", started, "uptime_s",
        (json_int_t)(util_wall_s() - s->proc.started_at), "workers", pool_threads(s->pool),
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
        jsonv_error_addp(errs, "ms", JSONV_E_out_of_range, jsonv_range(0, 60000),
                         "must be an integer from 0 to 60000");
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
    struct svc *s = h->svc;
    s->health = *h;
    s->probe_running = false;
    free(h);
}

static void svc_probe_tick(evutil_socket_t fd, short what, void *arg)
{
    struct svc *s = arg;
    (void)fd;
    (void)what;
    proc_refresh_keys(&s->proc); /* a key added or removed takes effect within a tick */
    if (s->probe_running)
        return;
    /* the probe's own record, freed in svc_probe_done */
    struct svc_health *h = xcalloc(1, sizeof(*h));
    h->svc = s;
    if (pool_submit(s->pool, svc_probe_work, svc_probe_done, h) == 0)
        s->probe_running = true;
    else
        free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* start and stop                                                                              */

/* A signal starts the drain: no more probes. */
static void svc_on_signal(struct proc *p, void *arg)
{
    struct svc *s = arg;
    (void)p;
    event_del(s->probe_timer);
}

/* Apply libcrm's migrations the service needs (idempotency keys, the outbox of a producer,
 * processed_events of a consumer, the scope projection of a consumer of crm:stream:auth) and then
 * its own, waiting for the database for up to a minute (it may still be starting). */
static int svc_migrate(struct svc *s)
{
    char err[512];
    struct migrate_unit units[8];
    size_t nunits = 0;
    units[nunits++] = idem_migration; /* every service: its creates take an Idempotency-Key */
    /* DDL runs as its own user where one is configured: the running service's user then needs
     * no right to create, alter or drop anything */
    struct db_config cfg = s->dbcfg;
    if (s->cfg.db_migrate_user[0] != '\0') {
        cfg.user = s->cfg.db_migrate_user;
        cfg.password = s->db_migrate_password;
    }
    if (s->entry->produces)
        units[nunits++] = events_migration;
    if (s->def->customer_owners)
        units[nunits++] = ownerproj_migration;
    if (s->entry->produces && s->def->history_parent_type)
        units[nunits++] = events_history_migration;
    if (s->nstreams > 0)
        units[nunits++] = consumer_migration;
    if (s->scope_src == &scope_projection) {
        units[nunits++] = scope_migration;
        units[nunits++] = scope_migration_users;
        units[nunits++] = dictproj_migration; /* the dictionary values it checks */
    }
    for (int attempt = 0; attempt < 60; attempt++) {
        int n = migrate_run(&cfg, s->cfg.migrations_dir, units, nunits, err, sizeof(err));
        if (n >= 0) {
            log_info(NULL, "migrations: %d applied as %s", n, cfg.user);
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

/* Register the built-in routes: health, readiness, metrics, the service's info (and, on a test
 * stack, the debug sleep). 0 or -1. */
static int svc_builtin_routes(struct svc *s)
{
    return svc_route_public(s, "GET", "/healthz", svc_healthz) ||
                   svc_route_public(s, "GET", "/readyz", svc_readyz) ||
                   svc_route_public(s, "GET", "/metrics", svc_metrics) ||
                   svc_route(s, "GET", "/api/v1/system/{service}/info", svc_info) ||
                   (s->cfg.debug_endpoints &&
                    svc_route_public(s, "GET", "/_debug/sleep", svc_debug_sleep))
               ? -1
               : 0;
}

/* The service's row of shared/services.def and the streams it consumes; 0 or -1. */
static int svc_declare(struct svc *s, const struct svc_def *def)
{
    s->def = def;
    s->name = def->name;
    s->version = def->version;
    s->entry = services_find(def->name);
    if (s->entry == NULL) {
        fprintf(stderr, "bug: service '%s' has no line in shared/services.def\n", def->name);
        return -1;
    }
    s->nstreams = services_streams(s->entry, s->streams, CONSUMER_MAX_STREAMS);
    if (s->nstreams > CONSUMER_MAX_STREAMS) {
        fprintf(stderr, "bug: '%s' consumes more than %d streams\n", def->name,
                CONSUMER_MAX_STREAMS);
        return -1;
    }
    s->scope_src = def->scope_source ? def->scope_source : &scope_projection;
    return 0;
}

/* The secret in file 'path' (config key 'key'), its trailing newline cut, or NULL (said). */
static char *svc_read_secret(const char *key, const char *path)
{
    size_t plen = 0;
    char *secret = util_read_file(path, 4096, &plen);
    if (secret == NULL) {
        log_error(NULL, "config key '%s': cannot read '%s'", key, path);
        return NULL;
    }
    while (plen > 0 && (secret[plen - 1] == '\n' || secret[plen - 1] == '\r'))
        secret[--plen] = '\0';
    return secret;
}

/* The database passwords from db_password_file (and db_migrate_password_file); 0 or -1. */
static int svc_read_password(struct svc *s)
{
    s->db_password = svc_read_secret("db_password_file", s->cfg.db_password_file);
    if (s->db_password == NULL)
        return -1;
    if (s->cfg.db_migrate_user[0] != '\0') {
        if (s->cfg.db_migrate_password_file[0] == '\0') {
            log_error(NULL, "config key 'db_migrate_user' needs 'db_migrate_password_file'");
            return -1;
        }
        s->db_migrate_password =
            svc_read_secret("db_migrate_password_file", s->cfg.db_migrate_password_file);
        if (s->db_migrate_password == NULL)
            return -1;
    }
    s->dbcfg = (struct db_config){s->cfg.db_host, (int)s->cfg.db_port, s->cfg.db_user,
                                  s->db_password, s->cfg.db_name,      (int)s->cfg.db_timeout_s};
    return 0;
}

int svc_main(int argc, char **argv, const struct svc_def *def)
{
    static const struct config_entry no_keys[] = {CONFIG_END};
    struct svc s;
    int rc = 1;

    memset(&s, 0, sizeof(s));
    if (svc_declare(&s, def) != 0)
        return 2;
    s.config = xcalloc(1, def->config_size ? def->config_size : 1);
    const struct config_entry *const tables[] = {svc_config_table, http_config_table,
                                                 def->config ? def->config : no_keys, NULL};
    void *const targets[] = {&s.cfg, &s.http_cfg, s.config, NULL};
    const struct proc_spec spec = {def->name,
                                   tables,
                                   targets,
                                   &s.cfg.log_level,
                                   &s.cfg.jwt_keys_dir,
                                   &s.cfg.jwt_issuer,
                                   &s.cfg.jwt_audience,
                                   SVC_JWT_CACHE,
                                   &s.cfg.redis_user,
                                   &s.cfg.redis_password_file,
                                   &s.http_cfg,
                                   false};
    rc = proc_start(&s.proc, &spec, argc, argv, svc_pre, NULL, &s);
    if (rc != 0 || svc_read_password(&s) != 0) {
        rc = 2;
        goto out;
    }
    if (s.proc.check_only) {
        fprintf(stdout, "config ok\n");
        goto out;
    }
    rc = 1;
    log_info(NULL, "starting %s %s with %d verification keys", def->name, def->version,
             s.proc.nkeys);
    if (s.cfg.consumer_name[0])
        snprintf(s.consumer_name, sizeof(s.consumer_name), "%s", s.cfg.consumer_name);
    else
        snprintf(s.consumer_name, sizeof(s.consumer_name), "%s-%d", s.name, s.cfg.listen.port);
    if (svc_migrate(&s) != 0)
        goto out;
    if (def->history_parent_type)
        events_history_enable(def->history_parent_type, def->history_parent_key);
    s.base = s.proc.base;
    s.pool = pool_new(s.base, (int)s.cfg.workers, (int)s.cfg.queue_max, svc_worker_init,
                      svc_worker_cleanup, &s);
    if (svc_builtin_routes(&s) != 0) {
        log_error(NULL, "bug: a built-in route is malformed");
        goto out;
    }
    proc_revocations(&s.proc, s.cfg.redis_host, (int)s.cfg.redis_port);
    if (s.entry->produces) {
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
    if ((def->setup && def->setup(&s) != 0) || proc_listen(&s.proc, &s.cfg.listen, NULL) != 0)
        goto out;
    svc_consumer_start(&s);
    svc_tasks_start(&s);
    s.proc.on_signal = svc_on_signal;
    s.proc.arg = &s;
    s.probe_timer = event_new(s.base, -1, EV_PERSIST, svc_probe_tick, &s);
    struct timeval ptv = {SVC_PROBE_INTERVAL_MS / 1000, 0};
    event_add(s.probe_timer, &ptv);
    svc_probe_tick(-1, 0, &s);
    proc_run(&s.proc);
    rc = 0;
out:
    /* Workers first: their last completions still reply through live connections. */
    if (s.pool)
        pool_free(s.pool);
    svc_tasks_stop(&s);        /* the same */
    consumer_stop(s.consumer); /* before the teardown: its hooks use the service's context */
    if (def->teardown && s.base)
        def->teardown(&s);
    events_relay_stop(s.relay);
    if (s.probe_timer)
        event_free(s.probe_timer);
    free(s.db_password);
    free(s.db_migrate_password);
    proc_stop(&s.proc);
    free(s.config);
    log_info(NULL, "stopped");
    return rc;
}
