/* SPDX-License-Identifier: Apache-2.0 */
/* router: method + path patterns with {parameters}, matched segment by segment. */
#include "router.h"
#include "httpparse.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void router_init(struct router *r)
{
    memset(r, 0, sizeof(*r));
}

static void route_cleanup(struct router_route *rt)
{
    free(rt->pattern);
    free(rt->permission);
    free(rt->segbuf);
}

void router_cleanup(struct router *r)
{
    for (size_t i = 0; i < r->n; i++)
        route_cleanup(&r->routes[i]);
    free(r->routes);
    memset(r, 0, sizeof(*r));
}

int router_add(struct router *r, const char *method, const char *pattern, router_handler_fn fn,
               void *arg, const char *permission, unsigned flags)
{
    struct router_route rt;
    size_t nparams = 0;
    char *save = NULL;

    memset(&rt, 0, sizeof(rt));
    if (strlen(method) >= sizeof(rt.method) || pattern[0] != '/')
        return -1;
    strcpy(rt.method, method);
    rt.pattern = xstrdup(pattern);
    rt.permission = permission ? xstrdup(permission) : NULL;
    rt.segbuf = xstrdup(pattern + 1);
    rt.fn = fn;
    rt.arg = arg;
    rt.flags = flags;
    for (char *s = strtok_r(rt.segbuf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (rt.tail || rt.nsegs == ROUTER_MAX_SEGS)
            goto bad;
        if (strcmp(s, "*") == 0) {
            rt.tail = true;
            continue;
        }
        if (s[0] == '{' && (s[strlen(s) - 1] != '}' || ++nparams > ROUTER_MAX_PARAMS))
            goto bad;
        rt.segs[rt.nsegs++] = s;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->routes = xrealloc(r->routes, r->cap * sizeof(*r->routes));
    }
    r->routes[r->n++] = rt;
    return 0;
bad:
    route_cleanup(&rt);
    return -1;
}

/* Match one route against the path's segments; fills 'params' on success. */
static bool route_matches(const struct router_route *rt, char **segs, size_t nsegs,
                          struct router_params *params)
{
    if (rt->tail ? nsegs < rt->nsegs : nsegs != rt->nsegs)
        return false;
    params->n = 0;
    for (size_t i = 0; i < rt->nsegs; i++) {
        const char *ps = rt->segs[i];
        if (ps[0] == '{') {
            size_t slen = strlen(segs[i]);
            if (slen == 0 || slen >= ROUTER_MAX_PARAM_LEN)
                return false;
            char *dst = params->p[params->n].value;
            if (http_url_decode(segs[i], slen, dst, false) <= 0)
                return false;
            params->p[params->n].name = ps + 1;
            params->n++;
        } else if (strcmp(ps, segs[i]) != 0) {
            return false;
        }
    }
    return true;
}

enum router_result router_match(const struct router *r, const char *method, const char *path,
                                const struct router_route **out, struct router_params *params,
                                char *allow, size_t allowlen)
{
    char buf[2048];
    char *segs[ROUTER_MAX_SEGS + 1];
    size_t nsegs = 0;
    size_t plen = strlen(path);
    bool path_known = false;

    *out = NULL;
    if (allowlen)
        allow[0] = '\0';
    if (plen == 0 || path[0] != '/' || plen >= sizeof(buf))
        return ROUTER_NOT_FOUND;
    memcpy(buf, path + 1, plen);
    /* Split on '/', keeping empty segments so "/a//b" never equals "/a/b". */
    char *s = buf;
    if (*s != '\0' || plen > 1) {
        for (;;) {
            if (nsegs == ROUTER_MAX_SEGS + 1)
                return ROUTER_NOT_FOUND;
            segs[nsegs++] = s;
            char *slash = strchr(s, '/');
            if (slash == NULL)
                break;
            *slash = '\0';
            s = slash + 1;
        }
    }
    /* A trailing slash is not the same resource: "/users/" does not match "/users". */
    for (size_t i = 0; i < r->n; i++) {
        const struct router_route *rt = &r->routes[i];
        if (!route_matches(rt, segs, nsegs, params))
            continue;
        if (strcmp(rt->method, method) == 0 || strcmp(rt->method, "*") == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            *out = rt;
            return ROUTER_FOUND;
        }
        path_known = true;
        if (allowlen && strstr(allow, rt->method) == NULL) {
            size_t al = strlen(allow);
            snprintf(allow + al, allowlen - al, "%s%s", al ? ", " : "", rt->method);
        }
    }
    params->n = 0;
    return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

const char *router_param(const struct router_params *p, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < p->n; i++) {
        /* stored names look like "id}" (the pattern segment after '{') */
        if (strncmp(p->p[i].name, name, n) == 0 && p->p[i].name[n] == '}')
            return p->p[i].value;
    }
    return NULL;
}
