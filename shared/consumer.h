/* SPDX-License-Identifier: Apache-2.0 */
/* consumer: a consumer-group reader of Redis streams that applies each event exactly once. */
#ifndef CRM_CONSUMER_H
#define CRM_CONSUMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "migrate.h"

#define CONSUMER_MAX_STREAMS 8

/* libcrm's migration of every consumer: processed_events, the ids of the applied events. */
extern const struct migrate_unit consumer_migration;

/* What a consuming service does with events, all on the consumer's thread and its 'db':
 * - apply: one event, inside the open transaction; 0 to go on, -1 to roll back and retry
 *   later. The event's id is recorded in processed_events in the same transaction by the
 *   consumer, so a redelivered event never reaches this again. It may write its rows at once
 *   or stage them for 'flush'.
 * - flush (optional): before each commit, write what 'apply' staged (a whole batch's rows in a
 *   few multi-row statements); 0, or -1 to roll back.
 * - after (optional): after every attempt, committed or rolled back: release what 'apply' took
 *   and drop what it staged. */
struct consumer_hooks {
    int (*apply)(struct db *db, const char *stream, const char *entry_id, json_t *event, void *arg);
    int (*flush)(struct db *db, void *arg);
    void (*after)(struct db *db, void *arg);
    void *arg;
};

struct consumer_config {
    const struct db_config *db;
    const char *redis_host;
    int redis_port;
    int redis_timeout_ms;
    const char *group; /* one group per consuming service */
    const char *name;  /* this consumer in the group; stable across restarts */
    const char *streams[CONSUMER_MAX_STREAMS];
    size_t nstreams;
    long claim_idle_ms;  /* entries idle this long at a dead consumer are claimed */
    long max_deliveries; /* after this many failed deliveries an entry goes to crm:dead:<group> */
    long batch;
};

struct consumer_stats {
    uint64_t applied, duplicates, dead, claimed, failures;
    long long lag[CONSUMER_MAX_STREAMS];     /* entries not yet delivered to the group */
    long long pending[CONSUMER_MAX_STREAMS]; /* delivered, not acknowledged */
    bool redis_ok;
};

struct consumer;

struct consumer *consumer_start(const struct consumer_config *cfg,
                                const struct consumer_hooks *hooks);
void consumer_stats(struct consumer *c, struct consumer_stats *out);
void consumer_stop(struct consumer *c);

#endif
