/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the HTTP request-head, response-head, path and query parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpparse.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_head h;
    if (http_parse_request_head((const char *)data, size, &h) == 0) {
        const char *q = strchr(h.target, '?');
        size_t plen = q ? (size_t)(q - h.target) : strlen(h.target);
        (void)http_path_is_clean(h.target, plen);
        struct http_query query;
        if (http_query_parse(q ? q + 1 : NULL, &query) == 0)
            (void)http_query_get(&query, "page");
        http_query_cleanup(&query);
        (void)http_head_get(&h, "Content-Length");
    }
    http_head_cleanup(&h);
    if (http_parse_response_head((const char *)data, size, &h) == 0)
        (void)http_head_get(&h, "Content-Type");
    http_head_cleanup(&h);

    /* the input as a path through a router with parameters and a tail */
    static struct router r;
    static int ready;
    if (!ready) {
        router_init(&r);
        if (router_add(&r, "GET", "/api/v1/customers/{id}/contacts/{cid}", NULL, NULL, NULL, 0) ||
            router_add(&r, "*", "/api/v1/care/*", NULL, NULL, NULL, 0))
            abort();
        ready = 1;
    }
    char *path = malloc(size + 1);
    memcpy(path, data, size);
    path[size] = '\0';
    const struct router_route *rt;
    struct router_params p;
    char allow[64];
    (void)router_match(&r, "GET", path, &rt, &p, allow, sizeof(allow));
    free(path);
    return 0;
}
