/* SPDX-License-Identifier: Apache-2.0 */
/* regions: the region dictionary of China (省/市/区, the table of migration 0006_regions.sql,
 * made by tools/gen-regions.mjs): read once at start, then held in memory, read-only, by every
 * thread: the tree GET /api/v1/regions serves and the rule of a customer's province, city and
 * district. */
#ifndef CUSTOMER_REGIONS_H
#define CUSTOMER_REGIONS_H

#include <jansson.h>

#include "db.h"
#include "svc.h"

struct regions;

/* Read the table 'regions' over 'db' into '*out' (the caller frees it with regions_free): the
 * tree, its JSON answer and that answer's ETag. 0, or -1 on a database error or an empty or
 * inconsistent table (logged). */
int regions_load(struct db *db, struct regions **out) __attribute__((warn_unused_result));
void regions_free(struct regions *r);

/*
 * The rule of a customer's region: province, city and district are each optional ("" is not
 * given), but a city needs its province and must be one of its cities, a district needs its
 * city and must be one of its districts. The values are those of 'body' (a create's or a
 * patch's), and for a patch the ones 'body' does not change come from 'before' (NULL for a
 * create); a patch that changes none of the three is not checked (a customer saved before the
 * dictionary keeps its free text until one of them is edited). Field errors go to 'errors':
 * no_such_region for an unknown province, not_in_region {parent} for a city or district that
 * is not in the one before it, required for the missing one before it.
 */
void regions_check_customer(const struct regions *r, json_t *before, json_t *body, json_t *errors);

/* GET /api/v1/regions, answered from memory on the loop thread from the dictionary of the
 * service's context (customer_regions). */
int regions_routes(struct svc *s) __attribute__((warn_unused_result));

#endif
