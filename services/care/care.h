/* SPDX-License-Identifier: Apache-2.0 */
/* care: the care service's own declarations: the task's states and their one transition
 * function, the contacts' projection (consume.c), the repository (every SQL statement is in
 * repo_care.c), the routes (handlers_tasks.c, handlers_plans.c) and the background work of the
 * daily birthday scan, the due tasks and the repeating plans (scan.c). */
#ifndef CARE_H
#define CARE_H

#include <jansson.h>
#include <stdbool.h>

#include "kit.h"
#include "ownerproj.h"

#define CARE_TYPE_DICT     "care_type"
#define CARE_BIRTHDAY_TYPE "birthday" /* the care_type of the scan's tasks */
#define CARE_TASK_SCAN     "scan"
#define CARE_CATCH_UP_DAYS 7   /* a scan missed this many days back is still made up */
#define CARE_PLAN_CONTACTS 500 /* contacts one plan names, or a filter makes tasks for */
#define CARE_TITLE_MAX     100
#define CARE_CONTENT_MAX   2000
#define CARE_FEEDBACK_MAX  1000
#define CARE_REASON_MAX    200
#define CARE_LEAD_DAYS_MAX 30

/* ---- the service's config and context ---- */

struct care_config {
    char *scan_time; /* "06:00": the daily scan runs at or after this local time */
    char *scan_tz;   /* "Asia/Shanghai": the zone of the scan's day (TZ of the process) */
    long lead_days;  /* birthdays this many days ahead get their task today */
};

struct care_app {
    struct svc *svc;
    const struct care_config *cfg;
};

/* ---- the task's states ---- */

enum care_status { CARE_PENDING, CARE_DONE, CARE_CANCELLED };
enum care_action {
    CARE_RECORD,   /* what was done, still pending */
    CARE_FEEDBACK, /* the customer's feedback and satisfaction (pending or done) */
    CARE_COMPLETE, /* done */
    CARE_CANCEL,   /* cancelled with a reason */
    CARE_REOPEN,   /* a task the system cancelled comes back (its customer restored) */
};
const char *care_status_name(enum care_status s);
int care_status_parse(const char *s, enum care_status *out) __attribute__((warn_unused_result));
/* The one transition function: the status 'action' leaves a task in that is in 'from', or -1
 * when the action is not allowed there (a done task is not cancelled, a cancelled one not
 * completed; only the system reopens). */
int care_transition(enum care_status from, enum care_action action, enum care_status *to)
    __attribute__((warn_unused_result));

/* The local day (the process's TZ, set from scan_tz at start) 'days_ahead' days from now, as
 * "YYYY-MM-DD", and the UTC DATETIME texts of its start and end. */
void care_local_day(int days_ahead, char day[16], char start[32], char end[32]);
/* Now as a UTC DATETIME text. */
void care_now_text(char out[32]);
/* The same for a given day "YYYY-MM-DD" (false when it is not a date). */
bool care_day_bounds(const char *day, char start[32], char end[32]);

/* ---- consume.c ---- */

int care_consume(struct db *db, const char *stream, const char *entry_id, json_t *event, void *arg)
    __attribute__((warn_unused_result));
void care_consume_after(struct db *db, void *arg);

/* ---- repo_care.c ---- */

/* The filters of GET /api/v1/care/tasks ("" and 0: not given). */
struct task_filter {
    char view[16]; /* today, overdue, upcoming, done, cancelled, all */
    long long manager_id, customer_id, contact_id, plan_id;
    char kind[16], care_type[72];
    char day_start[32], day_end[32]; /* the caller's today (view today/overdue/upcoming) */
    char from[32], to[32];           /* planned between */
    bool mine;                       /* the caller's own (manager_id = caller) */
    long long me;
};
int repo_tasks_list(struct db *db, struct scope *sc, const struct task_filter *f,
                    const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));
/* Task 'id' as the API shows it, when 'sc' covers its manager (NULL: any); '*row' NULL when
 * not. */
int repo_task_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
    __attribute__((warn_unused_result));
/* The counts of the caller's own tasks: {today, overdue, upcoming, done_month}. */
int repo_task_counts(struct db *db, long long manager_id, const char *day_start,
                     const char *day_end, const char *month_start, json_t **row)
    __attribute__((warn_unused_result));
/* Care done per week, the last 'weeks' weeks up to 'week_end' (UTC DATETIME): [{week, done}]. */
int repo_done_per_week(struct db *db, long long manager_id, const char *week_end, int weeks,
                       json_t **rows) __attribute__((warn_unused_result));
/* Insert task 'v' {kind, plan_id?, occurrence?, birthday_year?, customer_id, contact_id?,
 * manager_id, care_type, title, planned_at, content?, created_by?}; '*id' 0 when its unique key
 * says it exists already (a second scan). */
int repo_task_insert(struct db *db, json_t *v, long long *id) __attribute__((warn_unused_result));
/* Apply the prepared fields of 'v' (status, content, feedback, satisfaction, done_at,
 * cancel_reason, cancelled_by_system, care_type, manager_id) to task 'id' at 'version'. */
int repo_task_update(struct db *db, long long id, long long version, json_t *v, uint64_t *affected)
    __attribute__((warn_unused_result));

/* A contact of the projection with its customer's owner, when 'sc' covers the owner (NULL:
 * any) and neither is deleted: {contact_id, customer_id, name, customer_name, manager_id}. */
int repo_contact_get(struct db *db, struct scope *sc, long long contact_id, json_t **row)
    __attribute__((warn_unused_result));
/* The live customer 'id' in 'sc': {customer_id, name, manager_id}. */
int repo_customer_get(struct db *db, struct scope *sc, long long id, json_t **row)
    __attribute__((warn_unused_result));
/* The contacts a plan's filter {level, industry, decision_maker, customer_id} matches in 'sc',
 * at most 'limit', each as repo_contact_get's rows. */
int repo_contacts_matching(struct db *db, struct scope *sc, json_t *filter, int limit,
                           json_t **rows) __attribute__((warn_unused_result));
/* The contacts in 'sc' whose birthday is within the next 'days' days of 'from' (a local
 * "YYYY-MM-DD"), soonest first: {contact_id, name, customer_id, customer_name, manager_id,
 * birth_month, birth_day, birth_year, on}. */
int repo_birthdays(struct db *db, struct scope *sc, const char *from, int days, json_t **rows)
    __attribute__((warn_unused_result));
/* How many contacts repo_birthdays would list, all of them (it lists at most 200). */
int repo_birthday_count(struct db *db, struct scope *sc, const char *from, int days,
                        long long *count) __attribute__((warn_unused_result));
/* Inside the consumer's transaction: the contacts of customer 'customer_id' take its owner from
 * customer_owners (care_contacts.manager_id, the copy ix_care_contacts_manager_birthday reads
 * by); after anything that can change either. 0 or -1. */
int repo_contacts_owner_sync(struct db *db, long long customer_id)
    __attribute__((warn_unused_result));

/* ---- the scan, the due tasks, the plans (scan.c) ---- */

/* Make the birthday tasks of local day 'day' ("YYYY-MM-DD"; their birthdays are 'lead_days'
 * later) that do not exist yet: '*made' new tasks ('*already' true when the day was scanned
 * before). In its own transaction. 0 or -1. */
int care_scan_day(struct svc_worker *w, const struct care_app *app, const char *day,
                  long long *made, bool *already) __attribute__((warn_unused_result));
/* The background round: the scan of every day not done since the last (at most
 * CARE_CATCH_UP_DAYS back) once the scan time has come, care.due of the tasks whose day came,
 * and the next occurrences of repeating plans. */
int care_round(struct svc_worker *w, void *app);
/* Make the tasks of plan 'plan' (a row of care_plans) for its occurrence 'occurrence' planned at
 * 'at', with the actor 'actor' (NULL: the system); '*made' how many. In the open transaction. */
int care_plan_occurrence(struct svc_worker *w, json_t *plan, long long occurrence, const char *at,
                         const struct events_actor *actor, long long *made)
    __attribute__((warn_unused_result));
/* Plan 'plan_id' (locked here): the tasks of its next occurrence (planned at its next_at), and
 * next_at moved on by its repeat (none left, or past 'until': the plan ends). Nothing for a
 * plan ended or with no next time. '*made' (may be NULL) the tasks made. In the open
 * transaction. */
int care_plan_advance(struct svc_worker *w, long long plan_id, const struct events_actor *actor,
                      long long *made) __attribute__((warn_unused_result));
/* The event data of task 'row' (care.created, care.due, care.done, ...). New. */
json_t *care_task_event_data(json_t *row);

int tasks_routes(struct svc *s) __attribute__((warn_unused_result));
int plans_routes(struct svc *s) __attribute__((warn_unused_result));

#endif
