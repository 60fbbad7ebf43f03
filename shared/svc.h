/* SPDX-License-Identifier: Apache-2.0 */
/* svc: what every CRM service process shares: config, HTTP, workers with MySQL and Redis, JWT
 * identity, health/readiness/metrics, migrations at start and a graceful drain on SIGTERM. */
#ifndef CRM_SVC_H
#define CRM_SVC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "consumer.h"
#include "db.h"
#include "events.h"
#include "http.h"
#include "idem.h"
#include "jwtv.h"
#include "pool.h"
#include "proc.h"
#include "rds.h"
#include "revoke.h"
#include "router.h"
#include "scope.h"
#include "services.h"

struct svc_config {
    struct config_addr listen;
    char *db_host;
    long db_port;
    char *db_name;
    char *db_user;
    char *db_password_file;
    char *db_migrate_user;
    char *db_migrate_password_file;
    long db_timeout_s;
    char *redis_host;
    long redis_port;
    long redis_timeout_ms;
    char *redis_user;
    char *redis_password_file;
    char *jwt_keys_dir;
    char *jwt_issuer;
    char *jwt_audience;
    char *migrations_dir;
    long workers;
    long queue_max;
    bool debug_endpoints;
    char *log_level;
    long outbox_keep_hours;
    long stream_trim_above;
    char *consumer_name;
    long claim_idle_ms;
    long max_deliveries;
};

/* The caller's identity, verified from its bearer token by this process itself. */
struct svc_identity {
    char user_id[32];
    char name[128];
    long dept_id;
    enum scope_kind scope; /* the widest of the caller's roles (from the token) */
    char jti[64];
    int64_t iat_ms;
    json_t *roles;  /* array of role codes */
    json_t *perms;  /* array of permission codes */
    json_t *claims; /* the whole payload */
};

/* One worker thread's own connections. */
struct task;
#define SVC_MAX_TASKS 4 /* background tasks of a service (svc_def.tasks) */

struct svc_worker {
    struct svc *svc;
    struct db db;
    struct rds rds;
    int index;
};

/* The last health probe of the dependencies, refreshed by a timer on a worker. */
struct svc_health {
    struct svc *svc; /* whose (a probe in flight carries it to the loop) */
    bool db_ok;
    bool redis_ok;
    int64_t checked_at;
};

struct svc {
    const struct svc_def *def;
    const struct services_entry *entry; /* its line of shared/services.def */
    const char *name;
    const char *version;
    struct proc proc; /* config, loop, router, metrics, HTTP server, JWT keys, revocations */
    struct svc_config cfg;
    struct http_config http_cfg;
    char *db_password;
    char *db_migrate_password; /* NULL unless db_migrate_user is set */
    struct db_config dbcfg;
    struct event_base *base; /* proc.base */
    struct pool *pool;
    struct svc_health health;
    struct events_relay *relay; /* outbox publisher, for services that produce events */
    struct consumer *consumer;  /* for services that consume streams ... */
    char streams[CONSUMER_MAX_STREAMS]
                [SERVICES_STREAM_LEN]; /* ... these, from its services.def line */
    size_t nstreams;
    char consumer_name[96];
    const struct scope_source *scope_src; /* where its department tree is (data scope) */
    bool probe_running;
    struct event *probe_timer;
    struct task *tasks[SVC_MAX_TASKS]; /* svc_def.tasks, running */
    struct svc_task_run {
        struct svc *svc;
        const struct svc_task_def *def;
    } task_runs[SVC_MAX_TASKS];
    void *app;    /* the service's own context */
    void *config; /* the service's own config block (svc_def.config) */
};

/* A unit of blocking work for one request: 'work' runs on a worker and fills the reply fields,
 * then the loop sends exactly one reply from them. */
struct svc_job {
    struct svc *svc;
    struct http_request *req;
    void (*work)(struct svc_worker *w, struct svc_job *job);
    int status;             /* reply status, 500 until the work says otherwise */
    json_t *body;           /* success body (taken) */
    const char *code;       /* problem code when status >= 400 */
    char detail[256];       /* problem detail */
    json_t *errors;         /* field errors (taken) */
    json_t *extra;          /* further members of the problem (taken), e.g. "current" of a 409 */
    long retry_after;       /* seconds, for 429 and 503 (1 when 0) */
    void *data;             /* handler's own input */
    struct idem_state idem; /* its Idempotency-Key (idem.h) */
    void (*data_free)(void *);
};

/*
 * What a service is, besides its line in shared/services.def (its port, whether it produces
 * events, the streams it consumes). The platform does the rest: for a producer the outbox table
 * (libcrm's migration) and its relay; for a consumer processed_events, the consumer thread on
 * the streams of its line with claims, dead letters and metrics, calling 'consume' (whose arg
 * is set to svc->app after setup), and, when it consumes crm:stream:auth, the projection of
 * departments and users its data scope reads (applied before 'consume.apply' in the same
 * transaction).
 */
/* Background work of a service (task.h): 'run' is called on a thread of its own with its own
 * connections, again at once while it returns 1, after 'interval_ms' when it returns 0 (idle)
 * or -1 (failed, logged), or sooner after svc_task_wake. Its state is in the database, so
 * another instance or a restart carries on (claim work with a lease). */
struct svc_task_def {
    const char *name;
    int interval_ms;
    int (*run)(struct svc_worker *w, void *app);
};

struct svc_def {
    const char *name;
    const char *version;
    /* Register the service's routes and make its context (svc->app); 0 or -1. */
    int (*setup)(struct svc *s);
    void (*teardown)(struct svc *s);
    struct consumer_hooks consume; /* apply may be NULL: only the platform's own use */
    /* where the department tree and users are: NULL = the projection (scope_projection) */
    const struct scope_source *scope_source;
    /* Append the service's own series to /metrics (may be NULL). */
    void (*metrics)(struct svc *s, struct evbuffer *out);
    const struct config_entry *config; /* the service's own keys (may be NULL) ... */
    size_t config_size;                /* ... loaded into a block of this size: svc->config */
    /* keep its own view of who manages which customer (ownerproj.h), applied from
     * crm:stream:customer by the platform before 'consume.apply' */
    bool customer_owners;
    /* keep the history of its records (events.h, events_history_enable): the record type
     * whose history the events of records below it join, and the data key naming it */
    const char *history_parent_type, *history_parent_key;
    const struct svc_task_def *tasks; /* background work (may be NULL), started after setup */
    size_t ntasks;
};

int svc_main(int argc, char **argv, const struct svc_def *def);

/* Register the handler of an API route declared in shared/routes.def; its permission comes
 * from there (a route missing from the table is refused: every route is declared once). */
int svc_route(struct svc *s, const char *method, const char *pattern, router_handler_fn fn)
    __attribute__((warn_unused_result));
/* Register an operational route outside /api (health, metrics) that anyone may call. */
int svc_route_public(struct svc *s, const char *method, const char *pattern, router_handler_fn fn)
    __attribute__((warn_unused_result));

/* Start the round of task 'name' (svc_def.tasks) now if it waits: work was queued (any
 * thread). */
void svc_task_wake(struct svc *s, const char *name);

/* Tell the relay that a transaction with events committed (any thread). */
void svc_events_committed(struct svc *s);

/* The verified identity of the request (NULL on public routes). */
const struct svc_identity *svc_identity(const struct http_request *req);

/* Queue 'work' for 'req' on the worker pool; replies 503 + Retry-After itself when full. */
void svc_submit(struct svc *s, struct http_request *req,
                void (*work)(struct svc_worker *w, struct svc_job *job), void *data,
                void (*data_free)(void *));
/* The same on another pool made with svc_pool_new (say, one for password hashing). */
void svc_submit_to(struct svc *s, struct pool *pool, struct http_request *req,
                   void (*work)(struct svc_worker *w, struct svc_job *job), void *data,
                   void (*data_free)(void *));
/* A further pool whose workers have their own MySQL and Redis connections like the main one. */
struct pool *svc_pool_new(struct svc *s, int threads, int queue_max);

/* Helpers for work functions to set the outcome. */
void svc_job_ok(struct svc_job *job, int status, json_t *body);
void svc_job_fail(struct svc_job *job, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Map the worker's last database failure onto the job, the one place that does: a duplicate
 * key is 409 conflict, a deadlock or lock wait 503 busy (retry; a deadlock victim that committed
 * nothing was run again twice first, svc_job_work), a database away 503
 * database_unavailable, anything else 500; the SQL error goes to the log, never to the client.
 * The platform calls it for a job that ends at status 500 without a code. */
void svc_job_db_error(struct svc_job *job, struct svc_worker *w);

#endif
