/* SPDX-License-Identifier: Apache-2.0 */
/* audit: the service's context and what its files share. */
#ifndef CRM_AUDIT_H
#define CRM_AUDIT_H

#include <jansson.h>
#include <stdbool.h>

#include "consumer.h"
#include "db.h"
#include "listq.h"
#include "svc.h"

#define AUDIT_HASH_HEX 65

/* audit_log.chain_version: how an entry's hash was made. Entries written before the chain was
 * keyed are plain SHA-256 and may only come before the first keyed one (whose HMAC covers their
 * last hash, so they cannot be rewritten either); every entry written now is keyed. */
#define AUDIT_CHAIN_UNKEYED 1 /* SHA-256(prev, fields) */
#define AUDIT_CHAIN_KEYED   2 /* HMAC-SHA256(chain key; prev, fields) */
#define AUDIT_CHAIN_KEY_MIN 32

struct audit_config {
    long verify_budget_ms;
    char *chain_key_file;
};

struct audit_ctx {
    struct svc *svc;
    struct audit_config *cfg;
    /* the HMAC key of the chain, from chain_key_file (never in the database); read-only after
     * setup, shared by the consumer and the workers */
    unsigned char *chain_key;
    size_t chain_key_len;
    /* the consumer thread's chain state within one transaction: the lock is taken once and
     * the head hash read once, then carried from entry to entry (audit_after drops both) */
    bool chain_locked;
    char chain_head[AUDIT_HASH_HEX];
    /* rows of the open transaction not written yet: audit_flush writes each table's in a few
     * multi-row INSERTs, in this order (the chain's order); audit_after empties them */
    json_t *staged_audit, *staged_ops;
};

/* apply.c: turn one event into log rows (inside the consumer's transaction). */
int audit_apply(struct db *db, const char *stream, const char *entry_id, json_t *event, void *arg);
int audit_flush(struct db *db, void *arg);
void audit_after(struct db *db, void *arg);
/* The chain hash of one entry (the fields as stored, 'prev' the previous entry's hash): keyed
 * with the 'keylen' bytes of 'key' (AUDIT_CHAIN_KEYED), or plain SHA-256 when 'key' is NULL
 * (AUDIT_CHAIN_UNKEYED, how entries were hashed before). 0 or -1. */
int audit_hash(json_t *row, const char *prev, const unsigned char *key, size_t keylen,
               char out[AUDIT_HASH_HEX]) __attribute__((warn_unused_result));
/* Drop passwords, tokens, secrets and hashes from event data, at any depth. */
void audit_redact(json_t *v);

/* handlers.c */
int audit_routes(struct svc *s);

/* repo_audit.c: all SQL */
int repo_chain_lock(struct db *db) __attribute__((warn_unused_result));
void repo_chain_unlock(struct db *db);
int repo_chain_last_hash(struct db *db, char out[AUDIT_HASH_HEX])
    __attribute__((warn_unused_result));
/* 'rows': a JSON array of row objects, written in order */
int repo_audit_insert(struct db *db, json_t *rows) __attribute__((warn_unused_result));
int repo_login_insert(struct db *db, json_t *row) __attribute__((warn_unused_result));
int repo_operation_insert(struct db *db, json_t *rows) __attribute__((warn_unused_result));

struct repo_audit_filter {
    const char *actor, *subject_type, *subject_id, *event_type, *request_id, *from, *to;
    const char *user, *result, *method, *path_prefix;
    long status;
    bool failed_refresh; /* operations: also the failed anonymous token refreshes */
};
int repo_audit_list(struct db *db, const struct repo_audit_filter *f, const struct listq_page *pg,
                    struct listq_result *out) __attribute__((warn_unused_result));
int repo_login_list(struct db *db, const struct repo_audit_filter *f, const struct listq_page *pg,
                    struct listq_result *out) __attribute__((warn_unused_result));
int repo_operation_list(struct db *db, const struct repo_audit_filter *f,
                        const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));
/* One name row of subject 'type'/'id' (subject_names), told by event 'event_id'. */
int repo_name_insert(struct db *db, const char *event_id, const char *type, const char *id,
                     const char *username, const char *name) __attribute__((warn_unused_result));
/* The names of the subjects of 'type' whose ids are the keys of the object 'ids' (at most 256):
 * each key that has any becomes {"username"?, "name"?}, the newest non-empty of each. */
int repo_names_of(struct db *db, const char *type, json_t *ids) __attribute__((warn_unused_result));
/* The stored hash and chain_version of entry 'id' ('found' false when there is none), and the
 * newest entry's id (0 when the log is empty). */
int repo_chain_hash_at(struct db *db, long long id, char out[AUDIT_HASH_HEX], int *version,
                       bool *found) __attribute__((warn_unused_result));
int repo_chain_max_id(struct db *db, long long *id) __attribute__((warn_unused_result));
/* Rows of the chain after 'after_id' in id order, at most 'limit'. */
int repo_chain_rows(struct db *db, long long after_id, long limit, json_t **rows)
    __attribute__((warn_unused_result));

#endif
