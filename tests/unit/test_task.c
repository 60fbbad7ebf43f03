/* SPDX-License-Identifier: Apache-2.0 */
/* test_task: a background task runs again at once while it has more, waits its interval when
 * idle, starts a round early when woken, makes and frees its context on its own thread, and
 * stops after the round in progress. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "task.h"

struct probe {
    _Atomic int rounds;
    _Atomic int backlog; /* rounds that say "more" */
    _Atomic int ctx_made, ctx_freed;
    pthread_t ctx_thread;
    _Atomic bool wrong_thread;
};

static void *ctx_new(void *arg)
{
    struct probe *p = arg;
    p->ctx_thread = pthread_self();
    atomic_fetch_add(&p->ctx_made, 1);
    return p;
}

static void ctx_free(void *ctx)
{
    struct probe *p = ctx;
    if (!pthread_equal(p->ctx_thread, pthread_self()))
        p->wrong_thread = true;
    atomic_fetch_add(&p->ctx_freed, 1);
}

static int round_fn(void *ctx, void *arg)
{
    struct probe *p = arg;
    if (ctx != p || !pthread_equal(p->ctx_thread, pthread_self()))
        p->wrong_thread = true;
    atomic_fetch_add(&p->rounds, 1);
    if (atomic_load(&p->backlog) > 0) {
        atomic_fetch_sub(&p->backlog, 1);
        return 1;
    }
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait until the probe has run 'n' rounds, at most 'ms'; the time it took */
static long long wait_rounds(struct probe *p, int n, int ms)
{
    long long start = now_ms();
    while (atomic_load(&p->rounds) < n && now_ms() - start < ms)
        usleep(1000);
    return now_ms() - start;
}

static struct task *start(struct probe *p, int interval_ms)
{
    const struct task_config cfg = {"probe", interval_ms, round_fn, p, ctx_new, ctx_free, p};
    return task_start(&cfg);
}

static void test_more_runs_at_once_idle_waits(void **state)
{
    (void)state;
    struct probe p = {0};
    p.backlog = 5;
    struct task *t = start(&p, 60000);
    /* the first round and the five with more come at once; then it waits the minute */
    assert_true(wait_rounds(&p, 6, 5000) < 5000);
    usleep(200 * 1000);
    assert_int_equal(atomic_load(&p.rounds), 6);
    assert_int_equal(task_rounds(t), 6);
    assert_int_equal(task_failures(t), 0);
    assert_string_equal(task_name(t), "probe");
    task_stop(t);
    assert_int_equal(p.ctx_made, 1);
    assert_int_equal(p.ctx_freed, 1);
    assert_false(p.wrong_thread);
}

static void test_wake_starts_a_round_early(void **state)
{
    (void)state;
    struct probe p = {0};
    struct task *t = start(&p, 60000);
    wait_rounds(&p, 1, 5000);
    usleep(50 * 1000);
    task_wake(t);
    assert_true(wait_rounds(&p, 2, 5000) < 5000);
    /* a wake while nobody waits is not lost: the next wait returns at once */
    atomic_store(&p.backlog, 1);
    task_wake(t);
    assert_true(wait_rounds(&p, 4, 5000) < 5000);
    task_stop(t);
}

static void test_idle_interval_then_stop_is_prompt(void **state)
{
    (void)state;
    struct probe p = {0};
    struct task *t = start(&p, 100);
    /* idle rounds every 100 ms: 4 rounds take about 300 ms, never 0 */
    long long took = wait_rounds(&p, 4, 5000);
    assert_true(took >= 250);
    assert_true(took < 5000);
    struct task *slow = start(&p, 60000);
    long long before = now_ms();
    task_stop(slow); /* waiting a minute, it stops at once */
    assert_true(now_ms() - before < 2000);
    task_stop(t);
    task_stop(NULL);
    task_wake(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_more_runs_at_once_idle_waits),
        cmocka_unit_test(test_wake_starts_a_round_early),
        cmocka_unit_test(test_idle_interval_then_stop_is_prompt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
