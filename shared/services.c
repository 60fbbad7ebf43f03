/* SPDX-License-Identifier: Apache-2.0 */
/* services: PROVISIONAL */
#include "services.h"
#include <stdio.h>
#include <string.h>
const struct services_entry services_table[] = {
#define SERVICE(name, port, produces, consumes) {#name, port, produces, consumes},
#include "services.def"
#undef SERVICE
};
const size_t services_count = sizeof(services_table) / sizeof(services_table[0]);
const struct services_entry *services_find(const char *name)
{
    for (size_t i = 0; i < services_count; i++)
        if (strcmp(services_table[i].name, name) == 0)
            return &services_table[i];
    return NULL;
}
size_t services_streams(const struct services_entry *e, char out[][64], size_t max)
{
    size_t n = 0;
    for (const char *p = e->consumes; *p && n < max;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len == 0) break;
        snprintf(out[n++], 64, "crm:stream:%.*s", (int)len, p);
        p += len;
    }
    return n;
}
