/* SPDX-License-Identifier: Apache-2.0 */
/* transfer: the transfer service's own declarations: its repository (every SQL statement is in
 * repo_transfers.c), its routes (handlers_transfers.c) and the hand-over task (handover.c). */
#ifndef TRANSFER_H
#define TRANSFER_H

#include <jansson.h>
#include <stdbool.h>

#include "kit.h"
#include "ownerproj.h"

#define TRANSFER_REASON_MAX    500 /* characters */
#define TRANSFER_SELECT_MAX    200 /* customers one request picks */
#define TRANSFER_RECEIVERS_MAX 50  /* receivers of one hand-over */
#define TRANSFER_CHUNK         500 /* customers one round of a hand-over moves */
#define TRANSFER_RECEIVER_ROLE "customer_manager"
#define TRANSFER_TASK          "handover"

/* ---- repo_transfers.c ---- */

/* What a hand-over selects by, besides the owner ("" and 0: not given). */
struct owner_filter {
    long long manager_id;
    char industry[72], source[72], level[72], status[16], province[40], city[40];
    long long exclude[TRANSFER_RECEIVERS_MAX]; /* owners left out (a hand-over's receivers) */
    size_t nexclude;
    /* a hand-over's own id: customers a later transfer moved meanwhile are not its to move */
    long long before_transfer;
};

/* The live customers among 'ids' (a JSON array of ids) that 'sc' covers, locked, in id order:
 * each {customer_id, name, manager_id}. */
int repo_owners_lock(struct db *db, struct scope *sc, json_t *ids, json_t **rows)
    __attribute__((warn_unused_result));
/* The next at most 'limit' live customers after 'cursor' (id order) matching 'f' in 'sc',
 * locked (SKIP LOCKED is not used: a customer being transferred waits, then is checked). */
int repo_owners_chunk(struct db *db, struct scope *sc, const struct owner_filter *f,
                      long long cursor, int limit, json_t **rows)
    __attribute__((warn_unused_result));
/* How many live customers match 'f' in 'sc' (the preview and a job's total). */
int repo_owners_count(struct db *db, struct scope *sc, const struct owner_filter *f, long long *n)
    __attribute__((warn_unused_result));

/* A new transfer row from 'v' {kind, status, reason, operator_id, operator_scope,
 * from_manager_id?, receivers?, filter?, total}. */
int repo_transfer_insert(struct db *db, json_t *v, long long *id)
    __attribute__((warn_unused_result));
/* One item (completed, or failed with 'error'). */
int repo_item_insert(struct db *db, long long transfer_id, json_t *customer, long long to,
                     const char *error, long long *id) __attribute__((warn_unused_result));
/* The completed items of 'customers' (rows as repo_owners_chunk gives them), customer i moved
 * to 'to[i]', in a few multi-row INSERTs. */
int repo_items_insert(struct db *db, long long transfer_id, json_t *customers, const long long *to)
    __attribute__((warn_unused_result));
/* Transfer 'id' as the API shows it, when 'sc' covers its operator, its giver or a receiver
 * (NULL: any); '*row' NULL otherwise. */
int repo_transfer_get(struct db *db, struct scope *sc, long long id, json_t **row)
    __attribute__((warn_unused_result));

/* The filters of GET /api/v1/transfers (the items: one customer moved each). */
struct item_filter {
    long long customer_id, from_manager_id, to_manager_id, manager_id, transfer_id;
    char created_from[32], created_to[32];
    char keyword[128]; /* in the reason or the customer's name */
    char status[16];
};
/* The hand-overs the caller may read (repo_transfer_get's scope), newest first; each with
 * receiver_names beside receivers. */
int repo_handovers_list(struct db *db, struct scope *sc, const struct listq_page *pg,
                        struct listq_result *out) __attribute__((warn_unused_result));
int repo_items_list(struct db *db, struct scope *sc, const struct item_filter *f,
                    const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));

/* The receivers picker: at most 20 active users holding role 'role' whose name or username
 * holds 'keyword' ("" : any), inside 'sc' (NULL: anywhere), each {id, username, display_name,
 * dept_id, dept_name}. */
int repo_receivers(struct db *db, struct scope *sc, const char *keyword, const char *role,
                   json_t **rows) __attribute__((warn_unused_result));

/* ---- the hand-over jobs ---- */

/* Claim the oldest queued or running hand-over whose lease is free or ours ('owner': this
 * instance), for 'lease_s' seconds; a lease of ours with more than 'keep_s' seconds left stays
 * as it is (nothing written). '*job' NULL when none. */
int repo_job_claim(struct db *db, const char *owner, int lease_s, int keep_s, json_t **job)
    __attribute__((warn_unused_result));
/* Record a round's progress (and 'status' when it changes: done). */
int repo_job_progress(struct db *db, long long id, long long cursor, long long next_receiver,
                      long long done, long long failed, const char *status)
    __attribute__((warn_unused_result));

/* 'f' from a hand-over's owner ('from', 0: any) and filter object; the receivers 'ids' left
 * out (their own customers do not move between them). */
void handover_filter(long long from, json_t *filter, struct owner_filter *f);
void handover_exclude(struct owner_filter *f, json_t *ids);
/* The data of transfer.completed of customer 'c' ({customer_id, name, manager_id}) moved to
 * 'to' (of department 'to_dept') by transfer 'transfer_id'. */
json_t *transfer_completed_data(long long transfer_id, json_t *c, long long to, long long to_dept,
                                const char *reason);

int transfers_routes(struct svc *s) __attribute__((warn_unused_result));
/* The hand-over task's round (svc_def.tasks). */
int handover_round(struct svc_worker *w, void *app);

#endif
