/* SPDX-License-Identifier: Apache-2.0 */
/* events: the transactional outbox (write an event with the business rows, in one transaction)
 * and the relay thread that publishes pending rows to the service's Redis stream, in order. */
#ifndef CRM_EVENTS_H
#define CRM_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "migrate.h"

#define EVENTS_ENVELOPE_VERSION 1

/* libcrm's migration of every producer: the outbox table. */
extern const struct migrate_unit events_migration;

/* libcrm's migration of a producer that keeps its records' history (svc_def.history). */
extern const struct migrate_unit events_history_migration;

/*
 * The history of a service's records (修改记录) as its users see it, kept by the service beside
 * its outbox, in the same transaction, and never purged: the outbox rows go once published and
 * the audit log is the administrators'. Every event the process writes is also a history row
 * of one record: of its subject when the subject is a 'parent_type' or has no parent, else of
 * the 'parent_type' whose id the event's data holds under 'parent_key' (a contact's and a
 * follow-up's events are their customer's history: "customer", "customer_id"). Set once at
 * start, before any thread writes; NULL turns it off.
 */
void events_history_enable(const char *parent_type, const char *parent_key);

struct events_actor {
    const char *user_id; /* NULL for the system itself */
    const char *ip;
};

/*
 * Add one event to the outbox through 'db', which must be inside the caller's transaction, so
 * the event exists exactly when the business change does. Builds the envelope
 * {id, type, version, occurred_at, producer, actor, subject, data, request_id}. Takes the
 * reference to 'data'. Writes the new event id (a UUID) into 'event_id' when not NULL.
 */
int events_outbox_add(struct db *db, const char *producer, const char *type,
                      const struct events_actor *actor, const char *subject_type,
                      const char *subject_id, json_t *data, const char *request_id,
                      char event_id[37]) __attribute__((warn_unused_result));

/*
 * Events staged in memory and written together: events_batch_add builds an event's envelope
 * (and its history row) as events_outbox_add does and keeps them; events_batch_write writes
 * every staged event through 'db', inside the caller's transaction, in the order they were
 * added (their outbox ids, hence their order on the stream, follow it), with a few multi-row
 * INSERTs (db_insert_rows) instead of one or two statements per event, and empties the batch
 * whether it succeeded or not. For a producer that writes hundreds of events in one
 * transaction (a hand-over round, a consumer's batch). Pair events_batch_init with
 * events_batch_cleanup.
 */
struct events_staged;
struct events_batch {
    struct events_staged *rows;
    size_t n, cap;
};
void events_batch_init(struct events_batch *b);
void events_batch_cleanup(struct events_batch *b);
/* Drop what is staged (keeps the memory for the next ones). */
void events_batch_clear(struct events_batch *b);
/* Stage one event; the arguments are those of events_outbox_add (it takes 'data'; the strings
 * are copied). 'event_id' receives its id at once. 0, or -1 (out of memory for the JSON). */
int events_batch_add(struct events_batch *b, const char *producer, const char *type,
                     const struct events_actor *actor, const char *subject_type,
                     const char *subject_id, json_t *data, const char *request_id,
                     char event_id[37]) __attribute__((warn_unused_result));
/* Write and empty the batch. 0, or -1 (db->last_errno says why): roll the transaction back. */
int events_batch_write(struct db *db, struct events_batch *b) __attribute__((warn_unused_result));

/* The "after" of field 'name' in the "changes" list of an event's 'data' (borrowed), or NULL
 * when the event did not change it: what a projection applies of an *.updated event. */
json_t *events_changed(json_t *data, const char *name);

/* A random (version 4) UUID into 'out'. */
void events_uuid(char out[37]);
/* A time-ordered UUID (version 7: Unix milliseconds, then random bits) for event ids: rows
 * keyed by it are inserted near each other, so the indexes on event ids stay in memory. */
void events_uuid_v7(char out[37]);

struct events_relay;

struct events_relay_config {
    const struct db_config *db;
    const char *redis_host;
    int redis_port;
    int redis_timeout_ms;
    const char *producer; /* stream crm:stream:<producer> */
    long idle_poll_ms;    /* poll interval when nobody wakes the relay */
    long trim_above;      /* longer than this, read entries are trimmed */
    long keep_hours;      /* delete published outbox rows older than this; 0 keeps them */
};

/* Stream trimming, one script for every producer (the relays and the gateway's operation log):
 * EVAL EVENTS_TRIM_LUA 1 <stream> <above> <chunk>. While the stream holds more than 'above'
 * entries, each call removes at most 'chunk' of the oldest entries every consumer group is done
 * with (below the smallest of each group's oldest pending id and last-delivered id), in whole radix
 * nodes (XTRIM MINID ~ LIMIT: about 1 ms of Redis per 1,000). An entry a group has not read,
 * or has not acknowledged, is never removed; a stream without a group is not trimmed (nobody
 * has read anything). Answers the entries removed. */
extern const char EVENTS_TRIM_LUA[];
#define EVENTS_TRIM_CHUNK 1000

/* Start the relay thread. It publishes whatever is pending at once. */
struct events_relay *events_relay_start(const struct events_relay_config *cfg);
/* Tell the relay that a transaction with events committed (cheap; call from any thread). */
void events_relay_wake(struct events_relay *r);
/* Rows waiting in the outbox at the last look. */
long events_relay_backlog(struct events_relay *r);
/* Whether this relay holds its producer's relay lock and publishes (one instance of a service
 * does; the others stand by and take over within a second or two of its end). */
bool events_relay_leader(struct events_relay *r);
uint64_t events_relay_published(struct events_relay *r);
uint64_t events_relay_purged(struct events_relay *r);
void events_relay_stop(struct events_relay *r);

#endif
