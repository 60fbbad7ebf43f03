/* SPDX-License-Identifier: Apache-2.0 */
/* pool: a bounded pool of worker threads for blocking work, results handed back to the loop. */
#ifndef CRM_POOL_H
#define CRM_POOL_H

#include <event2/event.h>
#include <stddef.h>

struct pool;

/* Runs on a worker thread with that thread's own context (its MySQL connection, say). */
typedef void (*pool_work_fn)(void *thread_ctx, void *job);
/* Runs on the event-loop thread after 'work' finished. */
typedef void (*pool_done_fn)(void *job);
/* Make and free a worker's context, on the worker thread itself. */
typedef void *(*pool_thread_init_fn)(void *arg, int index);
typedef void (*pool_thread_cleanup_fn)(void *thread_ctx);

/*
 * Start 'nthreads' workers with a queue of at most 'queue_max' waiting jobs. 'init' may be NULL.
 */
struct pool *pool_new(struct event_base *base, int nthreads, int queue_max,
                      pool_thread_init_fn init, pool_thread_cleanup_fn cleanup, void *arg);

/* Queue a job. Returns -1 (nothing queued) when the queue is full or the pool is stopping:
 * the caller answers 503 with Retry-After. */
int pool_submit(struct pool *p, pool_work_fn work, pool_done_fn done, void *job)
    __attribute__((warn_unused_result));

/* Jobs waiting, jobs running, and the limits (for /metrics and readiness). */
int pool_queue_depth(struct pool *p);
int pool_running(struct pool *p);
int pool_threads(struct pool *p);
int pool_queue_max(struct pool *p);

/* Finish queued jobs, join the workers, deliver remaining completions, free. */
void pool_free(struct pool *p);

#endif
