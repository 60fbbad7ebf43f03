/* SPDX-License-Identifier: Apache-2.0 */
/* services: the product's services (services.def) as data: ports, who produces, who consumes. */
#include "services.h"

#include <assert.h>
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
    for (size_t i = 0; name && i < services_count; i++) {
        if (strcmp(services_table[i].name, name) == 0)
            return &services_table[i];
    }
    return NULL;
}

size_t services_streams(const struct services_entry *e, char out[][SERVICES_STREAM_LEN], size_t max)
{
    size_t n = 0;
    const char *p = e->consumes;
    for (;;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        if (n < max) {
            /* the table is compiled in: a producer name too long for a stream is a typo there */
            int w = snprintf(out[n], SERVICES_STREAM_LEN, "crm:stream:%.*s", (int)len, p);
            assert(w > 0 && w < SERVICES_STREAM_LEN);
            (void)w;
        }
        n++;
        p += len;
    }
    return n;
}
