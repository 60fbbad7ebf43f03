/* SPDX-License-Identifier: Apache-2.0 */
/* encoding: content codings of the gateway's answers: what a client's Accept-Encoding allows,
 * and gzip of an answer body (zlib). */
#include "encoding.h"
#include "util.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib's output is written in pieces of this size at least. */
#define GZIP_OUT_CHUNK (16 * 1024)

static const struct {
    const char *name, *alias, *etag_suffix;
} encodings[GW_ENCODINGS] = {
    [GW_ENCODING_IDENTITY] = {NULL, NULL, ""},
    [GW_ENCODING_GZIP] = {"gzip", "x-gzip", "-gz"},
    [GW_ENCODING_BR] = {"br", NULL, "-br"},
};

const char *gw_encoding_name(enum gw_encoding e)
{
    assert(e < GW_ENCODINGS);
    return encodings[e].name;
}

const char *gw_encoding_etag_suffix(enum gw_encoding e)
{
    assert(e < GW_ENCODINGS);
    return encodings[e].etag_suffix;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The qvalue of RFC 9110 ("0", "0.5", "1", "1.000") in thousandths, or -1 when malformed. */
static int parse_qvalue(const char *s, size_t n)
{
    int q = -1;
    if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.') || n > 5)
        goto out;
    int v = (s[0] - '0') * 1000;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            goto out;
        v += (s[i] - '0') * scale;
    }
    if (v > 1000)
        goto out;
    q = v;
out:
    return q;
}

/* The q of one list element 'el' ('n' bytes, "coding *( OWS ; OWS param )"): 1000 by default,
 * 0 when its q parameter is malformed (a coding the client did not clearly allow is not used). */
static int element_q(const char *el, size_t n)
{
    int q = 1000;
    const char *end = el + n;
    const char *p = memchr(el, ';', n);
    while (p != NULL && p < end) {
        p++;
        while (p < end && is_ows(*p))
            p++;
        /* p <= end here; said explicitly for gcc -O2, whose bound check cannot see it */
        size_t rest = p < end ? (size_t)(end - p) : 0;
        const char *pe = rest ? memchr(p, ';', rest) : NULL;
        const char *stop = pe ? pe : end;
        const char *ve = stop;
        while (ve > p && is_ows(ve[-1]))
            ve--;
        if (ve - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            int v = parse_qvalue(p + 2, (size_t)(ve - p - 2));
            q = v < 0 ? 0 : v;
        }
        p = pe;
    }
    return q;
}

enum gw_encoding gw_encoding_choose(const char *accept, unsigned offered)
{
    /* q of each coding as the client named it (-1: not named), and of '*' */
    int named[GW_ENCODINGS] = {-1, -1, -1};
    int star = -1;
    enum gw_encoding best = GW_ENCODING_IDENTITY;
    int best_q = 0;

    if (accept == NULL)
        goto out;
    for (const char *p = accept; *p;) {
        while (*p == ',' || is_ows(*p))
            p++;
        size_t n = strcspn(p, ",");
        if (n == 0)
            break;
        size_t name_len = strcspn(p, ";, \t");
        int q = element_q(p, n);
        if (name_len == 1 && p[0] == '*')
            star = q;
        for (int e = GW_ENCODING_GZIP; e < GW_ENCODINGS; e++) {
            const char *alias = encodings[e].alias;
            if ((strlen(encodings[e].name) == name_len &&
                 strncasecmp(p, encodings[e].name, name_len) == 0) ||
                (alias && strlen(alias) == name_len && strncasecmp(p, alias, name_len) == 0))
                named[e] = q > named[e] ? q : named[e];
        }
        p += n;
    }
    /* br is looked at last, so it wins a tie */
    for (int e = GW_ENCODING_GZIP; e < GW_ENCODINGS; e++) {
        int q = named[e] >= 0 ? named[e] : star;
        if ((offered & (1u << e)) && q > 0 && q >= best_q) {
            best = (enum gw_encoding)e;
            best_q = q;
        }
    }
out:
    return best;
}

int gw_encoding_gzip(struct evbuffer *in, int level, struct evbuffer *out)
{
    z_stream zs;
    struct evbuffer_iovec *v = NULL;
    bool inited = false;
    int rc = -1;

    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto out;
    inited = true;
    int n = evbuffer_peek(in, -1, NULL, NULL, 0);
    v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*v));
    n = evbuffer_peek(in, -1, NULL, v, n);
    for (int i = 0; i <= n; i++) {
        bool last = i == n;
        assert(last || v[i].iov_len <= UINT_MAX);
        zs.next_in = last ? NULL : v[i].iov_base;
        zs.avail_in = last ? 0 : (uInt)v[i].iov_len;
        int zr;
        do {
            struct evbuffer_iovec o;
            if (evbuffer_reserve_space(out, GZIP_OUT_CHUNK, &o, 1) != 1)
                goto out;
            size_t room = o.iov_len < UINT_MAX ? o.iov_len : UINT_MAX;
            zs.next_out = o.iov_base;
            zs.avail_out = (uInt)room;
            zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
            o.iov_len = room - zs.avail_out;
            if (evbuffer_commit_space(out, &o, 1) != 0 || zr == Z_STREAM_ERROR)
                goto out;
            /* a piece of input is done when zlib left room; the stream when it says so */
        } while (last ? zr != Z_STREAM_END : zs.avail_out == 0);
    }
    rc = 0;
out:
    if (inited)
        deflateEnd(&zs);
    free(v);
    return rc;
}

bool gw_encoding_etag_match(const char *inm, const char *etag)
{
    bool match = false;
    size_t elen = strlen(etag);
    if (inm == NULL)
        goto out;
    if (strncmp(etag, "W/", 2) == 0) {
        etag += 2;
        elen -= 2;
    }
    for (const char *p = inm; *p;) {
        while (*p == ',' || is_ows(*p))
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && is_ows(p[m - 1]))
            m--;
        const char *t = p;
        if (m == 1 && t[0] == '*') {
            match = true;
            goto out;
        }
        if (m >= 2 && strncmp(t, "W/", 2) == 0) {
            t += 2;
            m -= 2;
        }
        if (m > 0 && m == elen && memcmp(t, etag, m) == 0) {
            match = true;
            goto out;
        }
        p += n;
    }
out:
    return match;
}
