/* SPDX-License-Identifier: Apache-2.0 */
/* revset: the in-memory revocation table (see revset.h). */
#include "revset.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void revset_init(struct revset *t, size_t initial, size_t max_slots, int64_t per_second,
                 int64_t keep_s)
{
    memset(t, 0, sizeof(*t));
    t->cap = initial;
    t->max_cap = max_slots;
    t->per_second = per_second;
    t->keep_s = keep_s;
    t->slots = xcalloc(t->cap, sizeof(*t->slots));
}

void revset_cleanup(struct revset *t)
{
    free(t->slots);
    t->slots = NULL;
}

/* Until when (seconds) an entry of 'value' matters. */
static int64_t matters_until(const struct revset *t, int64_t value)
{
    return value / t->per_second + t->keep_s;
}

/* Put into a table known to have room (no pruning, no growth). */
static void put_slot(struct revset *t, const char *key, int64_t value)
{
    uint32_t h = hash_str(key);
    for (size_t i = 0; i < t->cap; i++) {
        struct revset_entry *e = &t->slots[(h + i) & (t->cap - 1)];
        if (e->key[0] == '\0') {
            snprintf(e->key, sizeof(e->key), "%s", key);
            e->value = value;
            t->used++;
            return;
        }
        if (strcmp(e->key, key) == 0) {
            if (value > e->value)
                e->value = value;
            return;
        }
    }
}

/* Rebuild into 'cap' slots, keeping what still matters at 'now_s'. */
static void rebuild(struct revset *t, size_t cap, int64_t now_s)
{
    struct revset_entry *old = t->slots;
    size_t old_cap = t->cap;
    t->slots = xcalloc(cap, sizeof(*t->slots));
    t->cap = cap;
    t->used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key[0] && matters_until(t, old[i].value) >= now_s)
            put_slot(t, old[i].key, old[i].value);
    }
    free(old);
}

static bool full(const struct revset *t)
{
    return t->used * 4 >= t->cap * 3;
}

static void lose(struct revset *t, int64_t value)
{
    int64_t until = matters_until(t, value);
    if (until > t->lost_until_s)
        t->lost_until_s = until;
}

bool revset_put(struct revset *t, const char *key, int64_t value, int64_t now_s)
{
    int64_t known;
    if (strlen(key) > REVSET_KEY_MAX) {
        lose(t, value);
        return false;
    }
    if (revset_get(t, key, &known)) {
        put_slot(t, key, value); /* keeps the larger value; no new slot */
        return true;
    }
    if (full(t))
        rebuild(t, t->cap, now_s); /* first drop what no longer matters */
    while (full(t) && t->cap < t->max_cap)
        rebuild(t, t->cap * 2, now_s);
    if (full(t)) {
        lose(t, value);
        return false;
    }
    put_slot(t, key, value);
    return true;
}

bool revset_get(const struct revset *t, const char *key, int64_t *value)
{
    uint32_t h = hash_str(key);
    for (size_t i = 0; i < t->cap; i++) {
        const struct revset_entry *e = &t->slots[(h + i) & (t->cap - 1)];
        if (e->key[0] == '\0')
            return false;
        if (strcmp(e->key, key) == 0) {
            *value = e->value;
            return true;
        }
    }
    return false;
}

bool revset_failing(const struct revset *t, int64_t now_s)
{
    return now_s <= t->lost_until_s;
}
