/* SPDX-License-Identifier: Apache-2.0 */
/* migrate: apply a service's migrations/NNNN_*.sql once each, in order, recorded. */
#ifndef CRM_MIGRATE_H
#define CRM_MIGRATE_H

#include "db.h"

#include <stddef.h>

/* How long the runner waits for one migration file's statements to answer. */
#define MIGRATE_READ_TIMEOUT_S 3600

struct migrate_file {
    int version;
    char name[256];
};

/*
 * List 'dir' for files named NNNN_name.sql (four digits, a name, .sql), sorted by version.
 * Two files with one version are an error. Returns the count (files in '*out', caller frees)
 * or -1 with a reason in 'err'.
 */
int migrate_list(const char *dir, struct migrate_file **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* One of libcrm's own migrations: the tables the platform keeps in every service's schema that
 * needs them (the outbox of a producer, processed_events of a consumer, the scope projection).
 * 'name' is unique and never reused ("outbox.1"); 'sql' is idempotent (IF NOT EXISTS), so it
 * also runs where a service's own migration made the same table before libcrm owned it. */
struct migrate_unit {
    const char *name;
    const char *sql;
};

/*
 * Apply libcrm's 'units' not yet applied (recorded by name in libcrm_migrations), then the
 * pending migrations of 'dir' (recorded by version in schema_migrations), over a dedicated
 * connection made from 'cfg'. Holds a named lock so two instances never migrate at once;
 * refuses to start when an applied file or unit has changed (its SHA-256 differs). Returns the
 * number applied or -1 (reason in 'err').
 */
int migrate_run(const struct db_config *cfg, const char *dir, const struct migrate_unit *units,
                size_t nunits, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
