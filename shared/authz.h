/* SPDX-License-Identifier: Apache-2.0 */
/* authz: the one bearer-token check of a request, made by the gateway and by every service. */
#ifndef CRM_AUTHZ_H
#define CRM_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "jwtv.h"
#include "revoke.h"

/*
 * Called by authz_request as soon as the token verified, before a revocation or permission
 * refusal can be sent, to attach who is calling to 'req': sending a reply runs the done hook at
 * once, and that may log the caller. 'claims' is borrowed.
 */
typedef void (*authz_caller_fn)(struct http_request *req, json_t *claims);

/*
 * Decide whether the caller of 'req' may reach its route; meant for a pre-handler hook.
 *
 * A public route (ROUTE_PUBLIC) passes unchecked. Any other needs 'Authorization: Bearer
 * <token>' where the token verifies with 'v' at the wall-clock now (jwtv_verify; the gateway's
 * proven requests with jwtv_verify_vouched, the signature checked there), is not revoked
 * in 'rv' (its 'jti', or its 'sub' since after it was issued: 'iat_ms', else 'iat' * 1000), and
 * has the route's permission in its 'perms' claim (routes_perms_allow). 'on_caller' (may be
 * NULL) sees the claims of every token that verified, refused afterwards or not.
 *
 * Returns true when the request may go on, with a new reference to the token's claims in
 * '*claims_out' (NULL on a public route; 'claims_out' may be NULL when they are not wanted).
 * Returns false, '*claims_out' NULL, when it has sent the one reply: 401 'unauthorized' with
 * 'WWW-Authenticate: Bearer' (no Authorization header) or 'Bearer error="invalid_token"' (bad or
 * revoked token), or 403 'forbidden'.
 */
bool authz_request(struct http_request *req, struct jwtv *v, const struct revoke *rv,
                   authz_caller_fn on_caller, json_t **claims_out)
    __attribute__((warn_unused_result));

/* When the token of 'claims' was issued, in Unix milliseconds ('iat_ms', else 'iat' * 1000):
 * what revocations compare with. */
int64_t authz_issued_ms(json_t *claims);

#endif
