/* SPDX-License-Identifier: Apache-2.0 */
/* pool: a bounded pool of worker threads for blocking work, results handed back to the loop. */
#include "pool.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct pool_job {
    pool_work_fn work;
    pool_done_fn done;
    void *job;
    struct pool_job *next;
};

struct pool_worker {
    struct pool *pool;
    pthread_t thread;
    int index;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pool_job *head, *tail; /* waiting jobs */
    int depth;
    int queue_max;
    bool stopping;
    atomic_int running;

    struct pool_job *done_head, *done_tail; /* finished, to hand to the loop */
    int efd;
    struct event *done_ev;

    pool_thread_init_fn init;
    pool_thread_cleanup_fn cleanup;
    void *arg;
    struct pool_worker *workers;
    int nthreads;
};

static void *pool_worker_main(void *arg)
{
    struct pool_worker *w = arg;
    struct pool *p = w->pool;
    void *ctx = p->init ? p->init(p->arg, w->index) : NULL;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        struct pool_job *j = p->head;
        if (j == NULL) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->depth--;
        atomic_fetch_add(&p->running, 1);
        pthread_mutex_unlock(&p->mu);

        j->work(ctx, j->job);

        j->next = NULL;
        pthread_mutex_lock(&p->mu);
        if (p->done_tail)
            p->done_tail->next = j;
        else
            p->done_head = j;
        p->done_tail = j;
        atomic_fetch_sub(&p->running, 1);
        pthread_mutex_unlock(&p->mu);
        uint64_t one = 1;
        (void)!write(p->efd, &one, sizeof(one));
    }
    if (p->cleanup)
        p->cleanup(ctx);
    return NULL;
}

/* Deliver finished jobs to their 'done' callbacks on the loop thread. */
static void pool_deliver(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    struct pool_job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    while (j) {
        struct pool_job *next = j->next;
        if (j->done)
            j->done(j->job);
        free(j);
        j = next;
    }
}

static void pool_on_done(evutil_socket_t fd, short what, void *arg)
{
    uint64_t n;
    (void)what;
    (void)!read(fd, &n, sizeof(n));
    pool_deliver(arg);
}

struct pool *pool_new(struct event_base *base, int nthreads, int queue_max,
                      pool_thread_init_fn init, pool_thread_cleanup_fn cleanup, void *arg)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->queue_max = queue_max;
    p->init = init;
    p->cleanup = cleanup;
    p->arg = arg;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0)
        abort();
    p->done_ev = event_new(base, p->efd, EV_READ | EV_PERSIST, pool_on_done, p);
    event_add(p->done_ev, NULL);
    p->nthreads = nthreads;
    p->workers = xcalloc((size_t)nthreads, sizeof(*p->workers));
    for (int i = 0; i < nthreads; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i;
        if (pthread_create(&p->workers[i].thread, NULL, pool_worker_main, &p->workers[i]) != 0)
            abort();
    }
    return p;
}

int pool_submit(struct pool *p, pool_work_fn work, pool_done_fn done, void *job)
{
    struct pool_job *j = xmalloc(sizeof(*j));
    j->work = work;
    j->done = done;
    j->job = job;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->depth >= p->queue_max) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->depth++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int pool_queue_depth(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    int d = p->depth;
    pthread_mutex_unlock(&p->mu);
    return d;
}

int pool_running(struct pool *p)
{
    return atomic_load(&p->running);
}

int pool_threads(struct pool *p)
{
    return p->nthreads;
}

int pool_queue_max(struct pool *p)
{
    return p->queue_max;
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->workers[i].thread, NULL);
    pool_deliver(p);
    event_free(p->done_ev);
    close(p->efd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->workers);
    free(p);
}
