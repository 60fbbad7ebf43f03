/* SPDX-License-Identifier: Apache-2.0 */
/* revset: the in-memory table of revoke.c (revoked token ids, or users with a not-before
 * time): open addressing that prunes what can no longer matter, grows up to a bound, and fails
 * closed past it. One thread (the event loop) uses a table. */
#ifndef CRM_REVSET_H
#define CRM_REVSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVSET_KEY_MAX 71 /* a jti (a UUID) or a user id fits with room to spare */

struct revset_entry {
    char key[REVSET_KEY_MAX + 1];
    int64_t value;
};

struct revset {
    struct revset_entry *slots;
    size_t cap;     /* a power of two */
    size_t max_cap; /* it grows up to this, and no further */
    size_t used;
    int64_t per_second;   /* values are seconds (1) or milliseconds (1000) */
    int64_t keep_s;       /* an entry matters until its value (in seconds) plus this */
    int64_t lost_until_s; /* an entry could not be kept: everything counts as revoked until then */
};

/* 'initial' and 'max_slots' are powers of two, 'initial' <= 'max_slots'. */
void revset_init(struct revset *t, size_t initial, size_t max_slots, int64_t per_second,
                 int64_t keep_s);
void revset_cleanup(struct revset *t);

/* Set 'key' to 'value' (keeping the larger value) at wall time 'now_s'. When the table is
 * three quarters full it first drops what no longer matters, then doubles up to max_slots.
 * Past that, or for a key too long to keep, the entry is lost and the table fails closed
 * (revset_failing) until the lost entry could no longer matter. False when it was lost. */
bool revset_put(struct revset *t, const char *key, int64_t value, int64_t now_s);
bool revset_get(const struct revset *t, const char *key, int64_t *value);
/* True while an entry this table lost could still matter: a check must answer "revoked". */
bool revset_failing(const struct revset *t, int64_t now_s);

#endif
