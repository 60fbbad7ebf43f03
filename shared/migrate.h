/* SPDX-License-Identifier: Apache-2.0 */
/* migrate: apply a service's migrations/NNNN_*.sql once each, in order, recorded. */
#ifndef CRM_MIGRATE_H
#define CRM_MIGRATE_H

#include "db.h"

#include <stddef.h>

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

/*
 * Apply the pending migrations of 'dir' over a dedicated connection made from 'cfg'. Holds a
 * named lock so two instances never migrate at once; refuses to start when an applied file has
 * changed (its SHA-256 differs). Returns the number applied or -1 (reason in 'err').
 */
int migrate_run(const struct db_config *cfg, const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
