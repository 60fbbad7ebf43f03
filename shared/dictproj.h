/* SPDX-License-Identifier: Apache-2.0 */
/* dictproj: each service's projection of the data dictionary (industry, source, level, ...),
 * kept current from the auth service's dict.* events, so a service checks a dictionary value
 * in its own schema without asking auth. */
#ifndef CRM_DICTPROJ_H
#define CRM_DICTPROJ_H

#include <jansson.h>
#include <stdbool.h>

#include "db.h"
#include "migrate.h"

/* libcrm's migration of every service that consumes crm:stream:auth: the table dict_items_proj
 * (dict, value, label_zh, label_en, enabled). */
extern const struct migrate_unit dictproj_migration;

/* Inside the consumer's transaction: apply one event of crm:stream:auth (dict.item_created,
 * dict.item_updated) to the projection. Other events change nothing. 0 or -1. */
int dictproj_apply(struct db *db, json_t *event) __attribute__((warn_unused_result));

/* Whether 'value' is an enabled item of dictionary 'dict' in the projection. 0 or -1. */
int dictproj_valid(struct db *db, const char *dict, const char *value, bool *valid)
    __attribute__((warn_unused_result));

#endif
