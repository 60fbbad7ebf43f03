/* SPDX-License-Identifier: Apache-2.0 */
/* ratelimit: a token bucket per client address, in the gateway's memory. */
#ifndef CRM_RATELIMIT_H
#define CRM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct gw_ratelimit;

/* 'rps' tokens a second, at most 'burst' saved; 'rps' 0 disables limiting. */
struct gw_ratelimit *gw_ratelimit_new(long rps, long burst);
void gw_ratelimit_free(struct gw_ratelimit *rl);

/* Take a token for 'addr' at 'now_us'. False when none is left; then '*retry_after_s' says when
 * the next one comes. */
bool gw_ratelimit_take(struct gw_ratelimit *rl, const char *addr, uint64_t now_us,
                       long *retry_after_s);

#endif
