/* SPDX-License-Identifier: Apache-2.0 */
/* authz: the one bearer-token check of a request, made by the gateway and by every service. */
#include "authz.h"
#include "router.h"
#include "routes.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <strings.h>

/* When the token was issued, in unix ms: 'iat_ms' when present (a token issued a moment before
 * a revocation in the same second must still die), else 'iat' seconds. */
int64_t authz_issued_ms(json_t *claims)
{
    json_t *iat_ms = json_object_get(claims, "iat_ms");
    return json_is_integer(iat_ms) ? json_integer_value(iat_ms)
                                   : json_integer_value(json_object_get(claims, "iat")) * 1000;
}

bool authz_request(struct http_request *req, struct jwtv *v, const struct revoke *rv,
                   authz_caller_fn on_caller, json_t **claims_out)
{
    const char *www = "Bearer error=\"invalid_token\"", *code = "unauthorized", *detail = NULL;
    char forbidden[160];
    int status = 401;
    json_t *claims = NULL;
    enum jwtv_result r = JWTV_MALFORMED;
    bool ok = false;

    if (req->route->flags & ROUTE_PUBLIC) {
        ok = true;
        goto out;
    }
    const char *auth = http_req_header(req, "Authorization");
    if (auth == NULL) {
        www = "Bearer";
        detail = "a bearer token is required";
        goto out;
    }
    /* A request the gateway proved carries a token it verified: the proof binds that very token
     * (proof.h), so its signature is not checked twice; everything else still is. */
    if (strncasecmp(auth, "Bearer ", 7) == 0)
        r = req->proven ? jwtv_verify_vouched(v, auth + 7, util_wall_s(), &claims)
                        : jwtv_verify(v, auth + 7, util_wall_s(), &claims);
    if (r != JWTV_OK) {
        detail = jwtv_strerror(r);
        goto out;
    }
    if (on_caller != NULL)
        on_caller(req, claims);
    if (revoke_is_revoked(rv, json_string_value(json_object_get(claims, "jti")),
                          json_string_value(json_object_get(claims, "sub")),
                          authz_issued_ms(claims))) {
        detail = "token revoked";
        goto out;
    }
    if (!routes_perms_allow(json_object_get(claims, "perms"), req->route->permission)) {
        snprintf(forbidden, sizeof(forbidden), "the permission %s is required",
                 req->route->permission);
        status = 403;
        code = "forbidden";
        www = NULL;
        detail = forbidden;
        goto out;
    }
    ok = true;
out:
    if (!ok) {
        if (www != NULL)
            http_add_header(req, "WWW-Authenticate", www);
        http_reply_problem(req, status, code, detail, NULL);
        json_decref(claims);
        claims = NULL;
    }
    if (claims_out != NULL)
        *claims_out = claims;
    else
        json_decref(claims);
    return ok;
}
