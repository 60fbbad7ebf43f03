/* SPDX-License-Identifier: Apache-2.0 */
/* services: the product's services (services.def) as data: ports, who produces, who consumes. */
#ifndef CRM_SERVICES_H
#define CRM_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

/* Room for one stream name, "crm:stream:<producer>" and its NUL. */
#define SERVICES_STREAM_LEN 64

struct services_entry {
    const char *name;
    int port;             /* default HTTP port */
    bool produces;        /* has an outbox and the stream crm:stream:<name> */
    const char *consumes; /* producers it reads, space separated; "" for none */
};

extern const struct services_entry services_table[];
extern const size_t services_count;

/* The entry of the service called 'name', or NULL (also for NULL and for "gateway"). */
const struct services_entry *services_find(const char *name);

/*
 * The streams service 'e' consumes, "crm:stream:<producer>" in the order of its 'consumes',
 * written to 'out' (at most 'max' of them). Returns how many it consumes, which may be more
 * than 'max': the caller compares to see that nothing was cut.
 */
size_t services_streams(const struct services_entry *e, char out[][SERVICES_STREAM_LEN],
                        size_t max);

#endif
