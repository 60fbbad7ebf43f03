/* SPDX-License-Identifier: Apache-2.0 */
/* routes: the product's route table (routes.def) as data, and the permission checks on it. */
#include "routes.h"

#include <string.h>

const struct routes_entry routes_table[] = {
#define ROUTE(method, pattern, service, permission) {method, pattern, #service, permission},
#include "routes.def"
#undef ROUTE
};
const size_t routes_count = sizeof(routes_table) / sizeof(routes_table[0]);

const struct routes_entry *routes_find(const char *method, const char *pattern)
{
    for (size_t i = 0; i < routes_count; i++) {
        if (strcmp(routes_table[i].method, method) == 0 &&
            strcmp(routes_table[i].pattern, pattern) == 0)
            return &routes_table[i];
    }
    return NULL;
}

bool routes_is_public(const char *permission)
{
    return permission && strcmp(permission, "public") == 0;
}

bool routes_is_authenticated_only(const char *permission)
{
    return permission && strcmp(permission, "authenticated") == 0;
}

bool routes_perms_allow(json_t *perms, const char *permission)
{
    if (permission == NULL || routes_is_public(permission) ||
        routes_is_authenticated_only(permission))
        return true;
    size_t i;
    json_t *p;
    json_array_foreach(perms, i, p)
    {
        if (json_is_string(p) && strcmp(json_string_value(p), permission) == 0)
            return true;
    }
    return false;
}
