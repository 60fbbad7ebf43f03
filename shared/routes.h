/* SPDX-License-Identifier: Apache-2.0 */
/* routes: the product's route table (routes.def) as data, and the permission checks on it. */
#ifndef CRM_ROUTES_H
#define CRM_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct routes_entry {
    const char *method;
    const char *pattern;
    const char *service; /* "any": the {service} path parameter names it */
    const char *permission;
};

extern const struct routes_entry routes_table[];
extern const size_t routes_count;

/* The entry for exactly this method and pattern, or NULL. */
const struct routes_entry *routes_find(const char *method, const char *pattern);

bool routes_is_public(const char *permission);
bool routes_is_authenticated_only(const char *permission);

/* True when 'perms' (the token's "perms" array) holds 'permission'. */
bool routes_perms_allow(json_t *perms, const char *permission);

#endif
