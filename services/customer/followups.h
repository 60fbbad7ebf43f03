/* SPDX-License-Identifier: Apache-2.0 */
/* followups: follow-up records (跟进记录) of a customer, the caller's to-dos (待办) and the
 * consumer of transfer.completed: their routes (handlers_followups.c), their SQL
 * (repo_followups.c) and the consumer's hooks (consume.c). A follow-up is seen through its
 * customer: every statement joins the live customer and applies the scope on its manager. */
#ifndef CUSTOMER_FOLLOWUPS_H
#define CUSTOMER_FOLLOWUPS_H

#include <jansson.h>
#include <stdbool.h>

#include "customer.h"

#define FOLLOWUP_CONTENT_MAX    2000 /* characters of what was said */
#define FOLLOWUP_LAST_CONTENT   500 /* characters of it the customer keeps (last_contact_content) */
#define FOLLOWUP_CONTACTS_MAX   50  /* contacts named in one follow-up */
#define FOLLOWUP_EDIT_HOURS     24  /* the author may edit it this long after created_at */
#define FOLLOWUP_SKEW_SECONDS   300 /* a contact time this much after now is clock skew */
#define FOLLOWUP_METHOD_DICT    "followup_method"
#define TODO_TZ_DEFAULT_MINUTES 480 /* the caller's day when no tz is given: China (UTC+8) */
#define TODO_MOVED_DAYS         7   /* "moved to me": received by a transfer this recently */

/* The filters of GET /api/v1/followups (0 and "" are "not given"). */
struct followup_filter {
    long long customer_id, author_id;
    char method[72];
    char contact_from[32], contact_to[32]; /* [from, to) as DATETIME texts */
};

/* ---- repo_followups.c ---- */

/* Follow-up 'id' as the API shows it (with customer_name, author_name, contacts [{id, name}]
 * and "fresh": created less than FOLLOWUP_EDIT_HOURS ago), '*row' NULL when absent, its
 * customer deleted, or outside 'sc' (NULL: no scope). 'lock' locks the follow-up's row. */
int repo_followup_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
    __attribute__((warn_unused_result));
/* Insert the prepared values 'v' (customer_id, contact_at, method, content, next_contact_at as
 * DATETIME texts or null) written by 'author'; '*id' is the new id. */
int repo_followup_insert(struct db *db, json_t *v, long long author, long long *id)
    __attribute__((warn_unused_result));
/* The kit_patch update: the prepared fields of 'v' at 'version'; '*affected' 0 when stale. */
int repo_followup_update(struct db *db, long long id, long long version, json_t *v,
                         uint64_t *affected) __attribute__((warn_unused_result));
/* The contacts who took part become exactly 'ids' (an array of contact ids). */
int repo_followup_set_contacts(struct db *db, long long id, json_t *ids)
    __attribute__((warn_unused_result));
/* Which of 'ids' are contacts of customer 'customer_id': '*found' a new array of those ids. */
int repo_customer_contacts_of(struct db *db, long long customer_id, json_t *ids, json_t **found)
    __attribute__((warn_unused_result));
/* One page of follow-ups in 'sc' (of live customers) matching 'f', newest contact first. */
int repo_followups_list(struct db *db, struct scope *sc, const struct followup_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));

/* The customer's follow-up columns after a follow-up was written: last_contact_at and
 * last_contact_content (cut to FOLLOWUP_LAST_CONTENT) from its latest follow-up, and, when
 * 'set_next', next_contact_at = 'next' (a DATETIME text, NULL: none); else a next contact
 * planned at or before 'met_at' (the new follow-up's contact_at, NULL: none) is cleared, it
 * happened. 'followed' sets followed_up. The version moves only when a column did:
 * '*changed' says whether. */
int repo_customer_follow(struct db *db, long long customer_id, bool set_next, const char *next,
                         const char *met_at, bool followed, bool *changed)
    __attribute__((warn_unused_result));

/* {today, overdue, not_followed, moved} of manager 'manager_id''s live customers: next contact in
 * ['day_start', 'day_end'), before 'day_start', and not followed up since assigned. */
int repo_todo_counts(struct db *db, long long manager_id, const char *day_start,
                     const char *day_end, const char *moved_from, json_t **row)
    __attribute__((warn_unused_result));

/* The workbench's numbers of manager 'manager_id''s live customers: {customers, by_level,
 * by_industry}, each by_ a list [{value, count}] of the values they hold, largest first, at
 * most CUSTOMER_NUMBERS_MAX. */
#define CUSTOMER_NUMBERS_MAX 500
int repo_customer_numbers(struct db *db, long long manager_id, json_t **out)
    __attribute__((warn_unused_result));

/* ---- handlers_followups.c ---- */

int followups_routes(struct svc *s) __attribute__((warn_unused_result));
/* GET /api/v1/customers?todo=today|overdue|not_followed (&tz=minutes east of UTC): the
 * caller's own customers of that to-do, as filters of 'f'; field errors to 'errors'. */
void followups_todo_filter(struct http_request *req, struct customer_filter *f, json_t *errors);

/* ---- consume.c: the hooks of svc_def.consume (arg: struct customer_app) ---- */

int customer_consume_apply(struct db *db, const char *stream, const char *entry_id, json_t *event,
                           void *arg) __attribute__((warn_unused_result));
int customer_consume_flush(struct db *db, void *arg) __attribute__((warn_unused_result));
void customer_consume_after(struct db *db, void *arg);
/* Drop what is staged (the events' references, the staged customer.updated). */
void consume_stage_clear(struct consume_stage *st);

#endif
