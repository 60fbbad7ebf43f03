/* SPDX-License-Identifier: Apache-2.0 */
/* ticket: one-use, short-lived tickets for the notice stream's URL, in the gateway's memory. */
#include "ticket.h"
#include "util.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_BUCKETS 256

struct ticket {
    char id[GW_TICKET_LEN + 1];
    char ip[64];
    char *authorization;
    uint64_t expires_ms;
    struct ticket *next;
};

struct gw_tickets {
    struct ticket *buckets[TICKET_BUCKETS];
    long live, max, ttl_ms;
};

struct gw_tickets *gw_tickets_new(long max, long ttl_ms)
{
    struct gw_tickets *t = xcalloc(1, sizeof(*t));
    t->max = max;
    t->ttl_ms = ttl_ms;
    return t;
}

static void ticket_free(struct ticket *k)
{
    /* the token is a credential: not left behind in freed memory */
    OPENSSL_cleanse(k->authorization, strlen(k->authorization));
    free(k->authorization);
    OPENSSL_cleanse(k->id, sizeof(k->id));
    free(k);
}

void gw_tickets_free(struct gw_tickets *t)
{
    if (t == NULL)
        return;
    gw_tickets_prune(t, UINT64_MAX);
    free(t);
}

/* The bucket of ticket 'id' (random hex: its first two characters spread well enough). */
static struct ticket **bucket(struct gw_tickets *t, const char *id)
{
    unsigned h = 0;
    for (int i = 0; i < 2 && id[i]; i++)
        h = h * 16 + (unsigned)(id[i] <= '9' ? id[i] - '0' : (id[i] | 0x20) - 'a' + 10);
    return &t->buckets[h % TICKET_BUCKETS];
}

int gw_ticket_issue(struct gw_tickets *t, const char *authorization, const char *ip,
                    uint64_t now_ms, char out[GW_TICKET_LEN + 1])
{
    if (t->live >= t->max)
        gw_tickets_prune(t, now_ms);
    if (t->live >= t->max)
        return -1;
    struct ticket *k = xcalloc(1, sizeof(*k));
    util_random_hex(k->id, GW_TICKET_LEN);
    snprintf(k->ip, sizeof(k->ip), "%s", ip);
    k->authorization = xasprintf("%s", authorization);
    k->expires_ms = now_ms + (uint64_t)t->ttl_ms;
    struct ticket **b = bucket(t, k->id);
    k->next = *b;
    *b = k;
    t->live++;
    memcpy(out, k->id, GW_TICKET_LEN + 1);
    return 0;
}

char *gw_ticket_take(struct gw_tickets *t, const char *ticket, const char *ip, uint64_t now_ms)
{
    if (ticket == NULL || strlen(ticket) != GW_TICKET_LEN)
        return NULL;
    for (struct ticket **pp = bucket(t, ticket); *pp; pp = &(*pp)->next) {
        struct ticket *k = *pp;
        if (CRYPTO_memcmp(k->id, ticket, GW_TICKET_LEN) != 0)
            continue;
        *pp = k->next; /* one use, whatever comes of it */
        t->live--;
        char *auth = NULL;
        if (k->expires_ms > now_ms && strcmp(k->ip, ip) == 0)
            auth = xasprintf("%s", k->authorization);
        ticket_free(k);
        return auth;
    }
    return NULL;
}

void gw_tickets_prune(struct gw_tickets *t, uint64_t now_ms)
{
    for (size_t i = 0; i < TICKET_BUCKETS; i++) {
        for (struct ticket **pp = &t->buckets[i]; *pp;) {
            struct ticket *k = *pp;
            if (k->expires_ms > now_ms) {
                pp = &k->next;
                continue;
            }
            *pp = k->next;
            t->live--;
            ticket_free(k);
        }
    }
}

long gw_tickets_live(const struct gw_tickets *t)
{
    return t->live;
}

long gw_tickets_ttl_s(const struct gw_tickets *t)
{
    return t->ttl_ms / 1000;
}
