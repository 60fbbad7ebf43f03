/* SPDX-License-Identifier: Apache-2.0 */
/* httpparse: strict HTTP/1.1 message-head, path and query parsing (no I/O; fuzzed). */
#ifndef CRM_HTTPPARSE_H
#define CRM_HTTPPARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS      100
#define HTTP_MAX_QUERY_PARAMS 64

struct http_header {
    char *name; /* points into the owning head's buffer */
    char *value;
};

struct http_head {
    char *buf; /* owned copy of the head, NUL-separated by the parser */
    char *method;
    char *target; /* request-target as sent (requests) */
    int status;   /* status code (responses) */
    int minor;    /* HTTP/1.<minor> */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    char *added[4]; /* headers added after parsing (http_head_add), owned */
    size_t nadded;
};

/* Results of the parsers: 0 ok, or the HTTP status to answer with (400, 431, 501, 505). */
int http_parse_request_head(const char *data, size_t len, struct http_head *out);
int http_parse_response_head(const char *data, size_t len, struct http_head *out);
void http_head_cleanup(struct http_head *h);

/* Add header 'name: value' to a parsed head (the gateway's exchange of a stream ticket for the
 * token it stands for); at most 4 such. 0, or -1 when the head is full. */
int http_head_add(struct http_head *h, const char *name, const char *value)
    __attribute__((warn_unused_result));

/* Case-insensitive header lookup; NULL when absent. */
const char *http_head_get(const struct http_head *h, const char *name);
/* Number of headers with this name (duplicates of Content-Length are an attack signal). */
size_t http_head_count(const struct http_head *h, const char *name);

/* Content-Length value: 0 ok (*out set), -1 malformed. */
int http_parse_content_length(const char *v, size_t *out) __attribute__((warn_unused_result));

/* Percent-decode 'len' bytes of 'in' into 'out' (room for len+1). '+' becomes space when
 * 'plus_space'. Rejects bad escapes and decoded NUL bytes. Returns decoded length or -1. */
long http_url_decode(const char *in, size_t len, char *out, bool plus_space);

struct http_query {
    char *buf; /* owned storage of decoded keys and values */
    struct http_header params[HTTP_MAX_QUERY_PARAMS];
    size_t n;
};

/* Parse a query string (without '?'); 0 ok, -1 malformed or too many parameters. */
int http_query_parse(const char *query, struct http_query *out) __attribute__((warn_unused_result));
const char *http_query_get(const struct http_query *q, const char *key);
void http_query_cleanup(struct http_query *q);

/* A path is acceptable when it starts with '/', has no NUL/CTL/space, no '..' or '.' segment and
 * decodes cleanly. */
bool http_path_is_clean(const char *path, size_t len);

#endif
