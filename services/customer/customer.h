/* SPDX-License-Identifier: Apache-2.0 */
/* customer: the customer service's own declarations: its routes and its repository (every SQL
 * statement on customers and their keyword index is in repo_customers.c). */
#ifndef CUSTOMER_H
#define CUSTOMER_H

#include <jansson.h>
#include <stdbool.h>

#include "kit.h"

/* The filters of GET /api/v1/customers (all optional: "" and 0 are "not given"). */
struct customer_filter {
    char keyword[256];
    char industry[72], source[72], level[72], status[16], deal_status[16];
    char province[40], city[40];
    char tag[88]; /* one of the customer's tags */
    long long manager_id;
    long long mine;  /* scene=mine: the caller's id; scene=team: minus it (others than me) */
    int followed_up; /* -1 not given, 0 or 1 */
    /* [from, to) as DATETIME texts */
    char created_from[32], created_to[32];
    char last_from[32], last_to[32];
    char next_from[32], next_to[32];
    char moved_from[32]; /* received by a transfer since then (owner_time, last_transfer_id) */
    bool deleted;        /* the recycle bin instead of the live customers */
};

/* The customer 'id' as the API shows it (with manager_name), '*row' NULL when absent, outside
 * 'sc' (NULL: no scope) or not in the state 'deleted' asks for. */
int repo_customer_get(struct db *db, struct scope *sc, long long id, bool deleted, bool lock,
                      json_t **row) __attribute__((warn_unused_result));
/* The customers 'ids' (live or in the recycle bin, in no order; the absent ones missing) as
 * the API shows them, each with its last_transfer_id besides; 'lock' locks their rows first. */
int repo_customers_get_many(struct db *db, const long long *ids, size_t n, bool lock, json_t **rows)
    __attribute__((warn_unused_result));
/* transfer.completed of 'n' customers in one statement: 'moves' holds {customer id, new
 * manager, transfer id} a customer; each gets its manager, owner_time now, followed_up 0 and
 * version + 1, where that transfer is later than the last one applied to it. */
int repo_customers_transfer(struct db *db, const long long *moves, size_t n)
    __attribute__((warn_unused_result));
/* Insert the prepared values 'v' (rules applied, times as DATETIME texts, the derived columns
 * name_search, name_norm and telephone_digits set) and the keyword index; '*id' is the new id. */
int repo_customer_insert(struct db *db, json_t *v, long long *id)
    __attribute__((warn_unused_result));
/* Update the prepared fields of 'v' of live customer 'id' at 'version'; '*affected' 0 when the
 * version is stale. The kit_patch update. */
int repo_customer_update(struct db *db, long long id, long long version, json_t *v,
                         uint64_t *affected) __attribute__((warn_unused_result));
/* Rewrite the keyword index of customer 'id' from its folded name 'name_search'; 'fresh': a
 * customer made in this transaction, which has no rows to delete (the DELETE of a new id would
 * lock the gap at the end of the index, and two creates at once then deadlock on their inserts). */
int repo_customer_index(struct db *db, long long id, const char *name_search, bool fresh)
    __attribute__((warn_unused_result));
/* To the recycle bin, and back. */
int repo_customer_delete(struct db *db, long long id) __attribute__((warn_unused_result));
int repo_customer_restore(struct db *db, long long id) __attribute__((warn_unused_result));

/* The customers other than 'except' (0: none) that the duplicate rule matches: the same
 * 'credit_code' (the recycle bin included: the code stays unique), or, among live customers,
 * the same 'name_norm', 'mobile' or 'telephone_digits' (those not "" only). Each row is
 * {id, name, manager_name, rule, deleted}; at most 5. */
int repo_customer_duplicates(struct db *db, long long except, const char *credit_code,
                             const char *name_norm, const char *mobile,
                             const char *telephone_digits, json_t **rows)
    __attribute__((warn_unused_result));

/* One page of customers in 'sc' matching 'f'. */
/* Set once before the service serves (keyword_common_customers of the configuration). */
void repo_customers_tune(long keyword_common);
int repo_customers_list(struct db *db, struct scope *sc, const struct customer_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));
/* The picker: at most 20 live customers in 'sc' whose name holds 'keyword' (all when ""),
 * newest first, each {id, name, manager_id, manager_name}. */
int repo_customer_options(struct db *db, struct scope *sc, const char *keyword, json_t **rows)
    __attribute__((warn_unused_result));

/* Whether user 'user_id' (of the scope projection) lies in 'sc': a manager 'sc' may give a
 * customer to. */
int repo_user_in_scope(struct db *db, struct scope *sc, long long user_id, bool *in)
    __attribute__((warn_unused_result));

int customers_routes(struct svc *s) __attribute__((warn_unused_result));
/* GET /api/v1/customers/{id}/history (handlers_history.c). */
int history_routes(struct svc *s) __attribute__((warn_unused_result));

/* The service's context (svc->app), made at setup and freed at teardown. */
/* The transfer.completed events of the consumer's open transaction not yet applied: staged by
 * customer_consume_apply, applied together by customer_consume_flush (consume.c). */
#define CONSUME_STAGE_MAX 100 /* the consumer's batch: at most this many at a time */
struct consume_staged {
    json_t *ev;                   /* the event (a reference) */
    long long cid, to, from, tid; /* its customer, new and old manager, transfer */
};
struct consume_stage {
    struct consume_staged rows[CONSUME_STAGE_MAX];
    size_t n;
    struct events_batch out; /* their customer.updated */
};

struct customer_app {
    struct svc *svc;            /* the consumer wakes the relay through it */
    struct regions *regions;    /* the region dictionary (regions.h), read-only after start */
    struct consume_stage stage; /* the consumer thread's alone */
};
/* The region dictionary of service 's'. */
static inline const struct regions *customer_regions(const struct svc *s)
{
    return ((const struct customer_app *)s->app)->regions;
}

/* ---- the field rules customers and contacts share (fieldcheck.c) ---- */

/* A string field of 'b' when given and not empty, else NULL. */
const char *fieldcheck_given(json_t *b, const char *field);
/* The shapes of mobile, telephone, email and wechat when given in 'b', into 'errors'. */
void fieldcheck_reach(json_t *b, json_t *errors);

/* ---- contacts (repo_contacts.c, handlers_contacts.c) ---- */

/* The filters of GET /api/v1/contacts ("", 0 and -1 are "not given"). */
struct contact_filter {
    char keyword[256]; /* a prefix of the folded name, or digits: of a mobile or telephone */
    long long customer_id;
    int decision_maker; /* -1, 0 or 1 */
    int birthday_month; /* 0, or 1 to 12 */
};

/* Contact 'id' as the API shows it (with customer_name, manager_id, reports_to_name,
 * created_by_name), '*row' NULL when absent, its customer in the recycle bin, or outside 'sc'
 * (NULL: no scope). 'lock': its customer's row first, then it (every contact write does so). */
int repo_contact_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row)
    __attribute__((warn_unused_result));
/* Every contact of live customer 'customer_id' (the caller checked its scope), the primary
 * first, then by id. */
int repo_contacts_of(struct db *db, long long customer_id, json_t **rows)
    __attribute__((warn_unused_result));
/* The primary contact of 'customer_id', '*row' NULL when none. */
int repo_contact_primary(struct db *db, long long customer_id, json_t **row)
    __attribute__((warn_unused_result));
/* Ids [{id}]: those who report to contact 'id', or the oldest contact of customer 'id'. */
enum contact_ids { CONTACT_IDS_REPORTERS, CONTACT_IDS_OLDEST };
int repo_contact_ids(struct db *db, enum contact_ids which, long long id, json_t **ids)
    __attribute__((warn_unused_result));
/* Whether contact 'id' is one of customer 'customer_id'. */
int repo_contact_belongs(struct db *db, long long id, long long customer_id, bool *belongs)
    __attribute__((warn_unused_result));
/* Whether 'target' is contact 'from' or above it in its reports-to chain. */
int repo_contact_reports_up(struct db *db, long long from, long long target, bool *reaches)
    __attribute__((warn_unused_result));
/* Insert / update (at 'version'; '*affected' 0 when stale) the prepared values 'v': the
 * columns, derived ones included (name_search, telephone_digits, birth_*, is_primary). */
int repo_contact_insert(struct db *db, json_t *v, long long *id)
    __attribute__((warn_unused_result));
int repo_contact_update(struct db *db, long long id, long long version, json_t *v,
                        uint64_t *affected) __attribute__((warn_unused_result));
/* One side change of contact 'id' (its version moves): what a write on another contact does
 * to it. */
enum contact_set { CONTACT_SET_PRIMARY, CONTACT_SET_NOT_PRIMARY, CONTACT_SET_NO_REPORTS_TO };
int repo_contact_set(struct db *db, long long id, enum contact_set what)
    __attribute__((warn_unused_result));
int repo_contact_delete(struct db *db, long long id) __attribute__((warn_unused_result));
/* Whether any contact's name starts with 'folded' (a folded keyword) or, for a phone keyword,
 * any contact's mobile or telephone digits start with its digits: the customer keyword then
 * looks at contacts too. */
int repo_contacts_match(struct db *db, const char *folded, bool *any)
    __attribute__((warn_unused_result));
/* One page of contacts of live customers in 'sc' matching 'f'. */
int repo_contacts_list(struct db *db, struct scope *sc, const struct contact_filter *f,
                       const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));

int contacts_routes(struct svc *s) __attribute__((warn_unused_result));

#endif
