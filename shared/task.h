/* SPDX-License-Identifier: Apache-2.0 */
/* task: background work of a service on a thread of its own (a transfer hand-over job, the
 * care scheduler), run again and again: at once while it says there is more, else after its
 * interval or when woken. Its state lives in the database, so a restart resumes it. */
#ifndef CRM_TASK_H
#define CRM_TASK_H

#include <stdbool.h>
#include <stdint.h>

struct task;

/* One round of the task on its thread with its own context ('ctx': a worker's connections).
 * Returns 1 when more work is waiting (the next round starts at once), 0 when there is nothing
 * to do for now, -1 on a failure (logged by the task; the next round waits the interval). */
typedef int (*task_fn)(void *ctx, void *arg);

struct task_config {
    const char *name; /* for the log and /metrics: "handover" */
    int interval_ms;  /* the wait after an idle or failed round */
    task_fn run;
    void *arg;
    /* the thread's own context, made and freed on the thread (NULL: none) */
    void *(*ctx_new)(void *ctx_arg);
    void (*ctx_free)(void *ctx);
    void *ctx_arg;
};

/* Start the thread (its first round at once). */
struct task *task_start(const struct task_config *cfg);
/* Start the next round now if the task is waiting (any thread): new work was queued. */
void task_wake(struct task *t);
/* Rounds run, failed rounds, and whether one is running (for /metrics). */
uint64_t task_rounds(const struct task *t);
uint64_t task_failures(const struct task *t);
const char *task_name(const struct task *t);
/* Finish the round in progress, stop and free (NULL: nothing). */
void task_stop(struct task *t);

#endif
