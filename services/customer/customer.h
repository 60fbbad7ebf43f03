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
/* Insert the prepared values 'v' (rules applied, times as DATETIME texts, the derived columns
 * name_search, name_norm and telephone_digits set) and the keyword index; '*id' is the new id. */
int repo_customer_insert(struct db *db, json_t *v, long long *id)
    __attribute__((warn_unused_result));
/* Update the prepared fields of 'v' of live customer 'id' at 'version'; '*affected' 0 when the
 * version is stale. The kit_patch update. */
int repo_customer_update(struct db *db, long long id, long long version, json_t *v,
                         uint64_t *affected) __attribute__((warn_unused_result));
/* Rewrite the keyword index of customer 'id' from its folded name 'name_search'. */
int repo_customer_index(struct db *db, long long id, const char *name_search)
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
/* Query parameter 'key', when given, as a time or date into 'out' (a DATETIME text); a field
 * error when it is neither. */
void customers_query_time(struct http_request *req, const char *key, char out[32], json_t *errors);

/* The service's context (svc->app), made at setup and freed at teardown. */
struct customer_app {
    struct svc *svc;         /* the consumer wakes the relay through it */
    struct regions *regions; /* the region dictionary (regions.h), read-only after start */
};
/* The region dictionary of service 's'. */
static inline const struct regions *customer_regions(const struct svc *s)
{
    return ((const struct customer_app *)s->app)->regions;
}

#endif
