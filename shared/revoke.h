/* SPDX-License-Identifier: Apache-2.0 */
/* revoke: revoked access tokens, known to every process at once. Auth records a revocation in
 * Redis (a sorted set each) and publishes it; every process keeps the live set in memory, loaded
 * on connect and kept current by the subscription, so a check costs a hash lookup. */
#ifndef CRM_REVOKE_H
#define CRM_REVOKE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "rds.h"

#define REVOKE_CHANNEL  "crm:revocations"
#define REVOKE_JTI_KEY  "crm:revoked:jti"  /* member jti, score exp */
#define REVOKE_USER_KEY "crm:revoked:user" /* member user id, score not-before (unix ms) */
/* The longest life of an access token: auth's access_ttl_s cannot be set above it, and a
 * user's revocation is kept this long (a token issued before it may live this long). */
#define REVOKE_MAX_TTL_S 86400

struct revoke;

/* Subscribe on the loop 'base' (async hiredis), reconnecting with backoff. */
struct revoke *revoke_new(struct event_base *base, const char *host, int port);
void revoke_free(struct revoke *r);

/* True when the token 'jti' was revoked, or 'sub' had all tokens issued before some moment
 * revoked and this one (issued at 'iat_ms', milliseconds: a token issued a moment before a
 * password change in the same second must still die) is older. */
bool revoke_is_revoked(const struct revoke *r, const char *jti, const char *sub, int64_t iat_ms);
/* True once the set is loaded and the subscription is live. */
bool revoke_ready(const struct revoke *r);

/* Writers (auth, on a worker thread with its own connection): record and publish. */
int revoke_token(struct rds *rds, const char *jti, int64_t exp) __attribute__((warn_unused_result));
int revoke_user_before(struct rds *rds, const char *user_id, int64_t not_before_ms)
    __attribute__((warn_unused_result));

#endif
