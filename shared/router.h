/* SPDX-License-Identifier: Apache-2.0 */
/* router: method + path patterns with {parameters}, matched segment by segment. */
#ifndef CRM_ROUTER_H
#define CRM_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_SEGS      16
#define ROUTER_MAX_PARAMS    8
#define ROUTER_MAX_PARAM_LEN 256

struct http_request;
typedef void (*router_handler_fn)(struct http_request *req, void *arg);

/* Route flags. */
enum {
    ROUTE_PUBLIC = 1 << 0, /* no bearer token needed */
};

struct router_route {
    char method[8];
    char *pattern;
    char *segs[ROUTER_MAX_SEGS];
    size_t nsegs;
    bool tail; /* the pattern ends in a star segment: matches any rest */
    router_handler_fn fn;
    void *arg;
    char *permission; /* module:resource:action, or NULL for public/any authenticated */
    char *segbuf;     /* owned storage the segs point into */
    unsigned flags;
};

struct router {
    struct router_route *routes;
    size_t n, cap;
};

struct router_params {
    struct {
        const char *name;
        char value[ROUTER_MAX_PARAM_LEN];
    } p[ROUTER_MAX_PARAMS];
    size_t n;
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

void router_init(struct router *r);
void router_cleanup(struct router *r);

/* Add a route; 'method' "*" matches every method. 'pattern' like "/api/v1/users/{id}" or "/assets/
 * *" (a final star segment). Returns -1 on a malformed pattern (which is a programming error the
 * caller should assert on). */
int router_add(struct router *r, const char *method, const char *pattern, router_handler_fn fn,
               void *arg, const char *permission, unsigned flags)
    __attribute__((warn_unused_result));

/*
 * Match 'method' and the raw 'path' (no query). Parameters are percent-decoded into 'params'.
 * On ROUTER_METHOD_NOT_ALLOWED 'allow' lists the methods the path has ("GET, POST").
 */
enum router_result router_match(const struct router *r, const char *method, const char *path,
                                const struct router_route **out, struct router_params *params,
                                char *allow, size_t allowlen);

const char *router_param(const struct router_params *p, const char *name);

#endif
