/* SPDX-License-Identifier: Apache-2.0 */
/* ratelimit: a token bucket per client address, in the gateway's memory. */
#include "ratelimit.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A fixed table: memory stays bounded however many addresses come. A slot whose bucket is full
 * again (idle long enough) can be taken over by another address without changing anything. */
#define RL_SLOTS 65536
#define RL_PROBE 8

struct rl_slot {
    char addr[46];
    double tokens;
    uint64_t last_us;
};

struct gw_ratelimit {
    double rps, burst;
    struct rl_slot *slots;
};

struct gw_ratelimit *gw_ratelimit_new(long rps, long burst)
{
    struct gw_ratelimit *rl = xcalloc(1, sizeof(*rl));
    rl->rps = (double)rps;
    rl->burst = (double)(burst > 0 ? burst : rps);
    rl->slots = rps > 0 ? xcalloc(RL_SLOTS, sizeof(*rl->slots)) : NULL;
    return rl;
}

void gw_ratelimit_free(struct gw_ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->slots);
    free(rl);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

bool gw_ratelimit_take(struct gw_ratelimit *rl, const char *addr, uint64_t now_us,
                       long *retry_after_s)
{
    if (rl->slots == NULL)
        return true;
    uint32_t h = fnv1a(addr);
    struct rl_slot *slot = NULL, *oldest = NULL;
    for (int i = 0; i < RL_PROBE; i++) {
        struct rl_slot *s = &rl->slots[(h + (uint32_t)i) & (RL_SLOTS - 1)];
        if (strcmp(s->addr, addr) == 0) {
            slot = s;
            break;
        }
        if (oldest == NULL || s->last_us < oldest->last_us)
            oldest = s;
    }
    if (slot == NULL) {
        /* Take over the stalest slot; if it was still limiting someone, that address starts
         * over with a full bucket, which errs on the side of serving. */
        slot = oldest;
        strncpy(slot->addr, addr, sizeof(slot->addr) - 1);
        slot->addr[sizeof(slot->addr) - 1] = '\0';
        slot->tokens = rl->burst;
        slot->last_us = now_us;
    }
    double elapsed = (double)(now_us - slot->last_us) / 1e6;
    slot->tokens += elapsed * rl->rps;
    if (slot->tokens > rl->burst)
        slot->tokens = rl->burst;
    slot->last_us = now_us;
    if (slot->tokens >= 1.0) {
        slot->tokens -= 1.0;
        return true;
    }
    double wait = (1.0 - slot->tokens) / rl->rps;
    *retry_after_s = (long)wait + 1;
    return false;
}
