/* SPDX-License-Identifier: Apache-2.0 */
/* task: a background thread that runs a service's round of work again and again (task.h). */
#include "task.h"
#include "crmlog.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct task {
    struct task_config cfg;
    char name[48];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping; /* under mu */
    bool woken;    /* under mu: a wake came while a round ran */
    _Atomic uint64_t rounds, failures;
};

static void task_wait(struct task *t, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->mu);
    while (!t->stopping && !t->woken) {
        if (pthread_cond_timedwait(&t->cv, &t->mu, &until) == ETIMEDOUT)
            break;
    }
    t->woken = false;
    pthread_mutex_unlock(&t->mu);
}

static bool task_stopping(struct task *t)
{
    pthread_mutex_lock(&t->mu);
    bool s = t->stopping;
    pthread_mutex_unlock(&t->mu);
    return s;
}

static void *task_main(void *arg)
{
    struct task *t = arg;
    void *ctx = t->cfg.ctx_new ? t->cfg.ctx_new(t->cfg.ctx_arg) : NULL;
    log_info(NULL, "task %s started", t->name);
    while (!task_stopping(t)) {
        int more = t->cfg.run(ctx, t->cfg.arg);
        atomic_fetch_add(&t->rounds, 1);
        if (more < 0)
            atomic_fetch_add(&t->failures, 1);
        if (more <= 0)
            task_wait(t, t->cfg.interval_ms);
    }
    if (t->cfg.ctx_free)
        t->cfg.ctx_free(ctx);
    log_info(NULL, "task %s stopped", t->name);
    return NULL;
}

struct task *task_start(const struct task_config *cfg)
{
    struct task *t = xcalloc(1, sizeof(*t));
    t->cfg = *cfg;
    snprintf(t->name, sizeof(t->name), "%s", cfg->name);
    t->cfg.name = t->name;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, task_main, t) != 0)
        abort();
    return t;
}

void task_wake(struct task *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->woken = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

uint64_t task_rounds(const struct task *t)
{
    return atomic_load(&((struct task *)t)->rounds);
}

uint64_t task_failures(const struct task *t)
{
    return atomic_load(&((struct task *)t)->failures);
}

const char *task_name(const struct task *t)
{
    return t->name;
}

void task_stop(struct task *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
