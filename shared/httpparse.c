/* SPDX-License-Identifier: Apache-2.0 */
/* httpparse: strict HTTP/1.1 message-head, path and query parsing (no I/O; fuzzed). */
#include "httpparse.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Split the next line off '*p' (ending in CRLF or LF); NULL when none is left. */
static char *next_line(char **p, char *end)
{
    char *s = *p;
    if (s >= end)
        return NULL;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL)
        nl = end;
    char *e = nl;
    if (e > s && e[-1] == '\r')
        e--;
    *e = '\0';
    *p = nl < end ? nl + 1 : end;
    return s;
}

/* Parse header lines from '*p' to 'end' into 'h'. */
static int parse_header_lines(struct http_head *h, char **p, char *end)
{
    char *line;
    while ((line = next_line(p, end)) != NULL) {
        if (*line == '\0')
            break;
        if (*line == ' ' || *line == '\t')
            return 400; /* obsolete line folding */
        if (h->nheaders == HTTP_MAX_HEADERS)
            return 431;
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line)
            return 400;
        for (char *c = line; c < colon; c++) {
            if (!is_tchar((unsigned char)*c))
                return 400;
        }
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            *--ve = '\0';
        for (char *c = v; *c; c++) {
            unsigned char u = (unsigned char)*c;
            if ((u < 0x20 && u != '\t') || u == 0x7f)
                return 400;
        }
        h->headers[h->nheaders].name = line;
        h->headers[h->nheaders].value = v;
        h->nheaders++;
    }
    return 0;
}

static int head_copy(const char *data, size_t len, struct http_head *out, char **p, char **end)
{
    memset(out, 0, sizeof(*out));
    if (memchr(data, '\0', len) != NULL)
        return 400;
    out->buf = xstrndup(data, len);
    *p = out->buf;
    *end = out->buf + len;
    return 0;
}

static int parse_version(const char *v, int *minor)
{
    if (strncmp(v, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)v[7]) || v[8] != '\0')
        return strncmp(v, "HTTP/", 5) == 0 ? 505 : 400;
    *minor = v[7] - '0';
    return 0;
}

int http_parse_request_head(const char *data, size_t len, struct http_head *out)
{
    char *p, *end;
    int rc = head_copy(data, len, out, &p, &end);
    if (rc != 0)
        return rc;
    char *line = next_line(&p, end);
    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line. */
    if (line != NULL && *line == '\0')
        line = next_line(&p, end);
    if (line == NULL)
        return 400;
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL)
        return 400;
    char *sp2 = strchr(sp1 + 1, ' ');
    if (sp2 == NULL || strchr(sp2 + 1, ' ') != NULL)
        return 400;
    *sp1 = '\0';
    *sp2 = '\0';
    out->method = line;
    out->target = sp1 + 1;
    if (*out->method == '\0' || strlen(out->method) > 15)
        return strlen(out->method) > 15 ? 501 : 400;
    for (char *c = out->method; *c; c++) {
        if (!(*c >= 'A' && *c <= 'Z'))
            return 400;
    }
    if (out->target[0] != '/')
        return 400;
    for (char *c = out->target; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f)
            return 400;
    }
    rc = parse_version(sp2 + 1, &out->minor);
    if (rc != 0)
        return rc;
    return parse_header_lines(out, &p, end);
}

int http_parse_response_head(const char *data, size_t len, struct http_head *out)
{
    char *p, *end;
    int rc = head_copy(data, len, out, &p, &end);
    if (rc != 0)
        return rc;
    char *line = next_line(&p, end);
    if (line == NULL)
        return 400;
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL)
        return 400;
    *sp1 = '\0';
    rc = parse_version(line, &out->minor);
    if (rc != 0)
        return 400;
    /* "HTTP/1.1 200 OK": exactly three digits, then the end or a space */
    const char *digits = sp1 + 1;
    if (strnlen(digits, 4) < 3 || (digits[3] != '\0' && digits[3] != ' '))
        return 400;
    char code[4] = {digits[0], digits[1], digits[2], '\0'};
    long st;
    if (util_parse_long(code, 100, 599, &st) != 0)
        return 400;
    out->status = (int)st;
    return parse_header_lines(out, &p, end);
}

void http_head_cleanup(struct http_head *h)
{
    for (size_t i = 0; i < h->nadded; i++)
        free(h->added[i]);
    free(h->buf);
    memset(h, 0, sizeof(*h));
}

int http_head_add(struct http_head *h, const char *name, const char *value)
{
    if (h->nheaders >= HTTP_MAX_HEADERS || h->nadded >= sizeof(h->added) / sizeof(h->added[0]))
        return -1;
    size_t nl = strlen(name), vl = strlen(value);
    char *b = xmalloc(nl + vl + 2);
    memcpy(b, name, nl + 1);
    memcpy(b + nl + 1, value, vl + 1);
    h->added[h->nadded++] = b;
    h->headers[h->nheaders].name = b;
    h->headers[h->nheaders].value = b + nl + 1;
    h->nheaders++;
    return 0;
}

const char *http_head_get(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->nheaders; i++) {
        if (strcasecmp(h->headers[i].name, name) == 0)
            return h->headers[i].value;
    }
    return NULL;
}

size_t http_head_count(const struct http_head *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nheaders; i++)
        n += strcasecmp(h->headers[i].name, name) == 0;
    return n;
}

int http_parse_content_length(const char *v, size_t *out)
{
    size_t n = 0;
    if (*v == '\0' || strlen(v) > 15)
        return -1;
    for (; *v; v++) {
        if (!isdigit((unsigned char)*v))
            return -1;
        n = n * 10 + (size_t)(*v - '0');
    }
    *out = n;
    return 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long http_url_decode(const char *in, size_t len, char *out, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval((unsigned char)in[i + 1]);
            int lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            if (c == 0)
                return -1;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        } else if (c == 0) {
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (long)o;
}

int http_query_parse(const char *query, struct http_query *out)
{
    memset(out, 0, sizeof(*out));
    if (query == NULL || *query == '\0')
        return 0;
    size_t len = strlen(query);
    out->buf = xmalloc(len * 2 + 2);
    char *w = out->buf;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > 0) {
            if (out->n == HTTP_MAX_QUERY_PARAMS)
                return -1;
            const char *eq = memchr(p, '=', plen);
            size_t klen = eq ? (size_t)(eq - p) : plen;
            long kd = http_url_decode(p, klen, w, true);
            if (kd <= 0)
                return -1;
            out->params[out->n].name = w;
            w += kd + 1;
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - klen - 1 : 0;
            long vd = http_url_decode(v, vlen, w, true);
            if (vd < 0)
                return -1;
            out->params[out->n].value = w;
            w += vd + 1;
            out->n++;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return 0;
}

const char *http_query_get(const struct http_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].name, key) == 0)
            return q->params[i].value;
    }
    return NULL;
}

void http_query_cleanup(struct http_query *q)
{
    free(q->buf);
    memset(q, 0, sizeof(*q));
}

bool http_path_is_clean(const char *path, size_t len)
{
    if (len == 0 || path[0] != '/')
        return false;
    size_t seg_start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t sl = i - seg_start;
            const char *seg = path + seg_start;
            if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            /* Encoded dots and slashes are refused outright: they only serve to confuse. */
            for (size_t k = 0; k + 2 < sl; k++) {
                if (seg[k] == '%' && seg[k + 1] == '2' &&
                    (seg[k + 2] == 'e' || seg[k + 2] == 'E' || seg[k + 2] == 'f' ||
                     seg[k + 2] == 'F'))
                    return false;
            }
            seg_start = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)path[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return false;
        if (c == '%' && (i + 2 >= len || hexval((unsigned char)path[i + 1]) < 0 ||
                         hexval((unsigned char)path[i + 2]) < 0))
            return false;
    }
    return true;
}
