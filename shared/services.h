/* SPDX-License-Identifier: Apache-2.0 */
/* services: the table of services (shared/services.def). PROVISIONAL */
#ifndef CRM_SERVICES_H
#define CRM_SERVICES_H
#include <stdbool.h>
#include <stddef.h>
struct services_entry {
    const char *name;
    int port;
    bool produces;
    const char *consumes;
};
extern const struct services_entry services_table[];
extern const size_t services_count;
const struct services_entry *services_find(const char *name);
size_t services_streams(const struct services_entry *e, char out[][64], size_t max);
#endif
