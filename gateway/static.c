/* SPDX-License-Identifier: Apache-2.0 */
/* static: serve the built web front end (web/dist) with content types, caching, fallback and the
 * precompressed .gz/.br files of the build chosen by Accept-Encoding. */
#include "static.h"
#include "encoding.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STATIC_MAX_FILE (16 * 1024 * 1024)
/* Resources kept (each with its .gz and .br); a build has about a hundred. */
#define STATIC_CACHE 1024

/* One stored representation of a file: the file itself or its precompressed .gz or .br. */
struct static_body {
    char *data; /* NULL: there is no such file */
    size_t len;
    struct timespec mtime;
    char etag[56];
};

/* Files are small and few; they are read once and kept, re-read when size or mtime change. */
struct static_file {
    char *path;                            /* web path */
    struct static_body body[GW_ENCODINGS]; /* by enum gw_encoding */
};

struct gw_static {
    char *root;
    struct static_file files[STATIC_CACHE];
    size_t n;
};

struct gw_static *gw_static_new(const char *root)
{
    struct gw_static *st = xcalloc(1, sizeof(*st));
    st->root = xstrdup(root);
    return st;
}

static void static_file_cleanup(struct static_file *f)
{
    free(f->path);
    for (int e = 0; e < GW_ENCODINGS; e++)
        free(f->body[e].data);
    memset(f, 0, sizeof(*f));
}

void gw_static_free(struct gw_static *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++)
        static_file_cleanup(&st->files[i]);
    free(st->root);
    free(st);
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < ARRAY_LEN(types); i++) {
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Only plain names reach the file system: letters, digits and . _ - / (no '..' thanks to the
 * server's path check, no percent escapes, no hidden files). */
static bool safe_web_path(const char *p)
{
    if (strstr(p, "/.") != NULL)
        return false;
    for (; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

/* Bring 'b' in line with the file 'fs' (re-read when its size or mtime changed); 'suffix' ends
 * its ETag, so that each coding of a resource has its own. False when there is no such file
 * (then 'b' is emptied). */
static bool static_body_refresh(struct static_body *b, const char *fs, const char *suffix)
{
    struct stat sb;
    bool ok = false;
    char *data = NULL;
    size_t len = 0;
    if (stat(fs, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > STATIC_MAX_FILE)
        goto out;
    if (b->data && b->len == (size_t)sb.st_size && b->mtime.tv_sec == sb.st_mtim.tv_sec &&
        b->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
        ok = true;
        goto out;
    }
    if ((data = util_read_file(fs, STATIC_MAX_FILE, &len)) == NULL)
        goto out;
    free(b->data);
    b->data = data;
    data = NULL;
    b->len = len;
    b->mtime = sb.st_mtim;
    snprintf(b->etag, sizeof(b->etag), "\"%lx-%lx-%zx%s\"", (unsigned long)sb.st_mtim.tv_sec,
             (unsigned long)sb.st_mtim.tv_nsec, len, suffix);
    ok = true;
out:
    if (!ok) {
        free(b->data);
        memset(b, 0, sizeof(*b));
    }
    free(data);
    return ok;
}

/* The cached resource for 'web_path' with its precompressed variants (web_path.gz and
 * web_path.br, written by the build), loading or refreshing them; NULL when the file is
 * absent. */
static struct static_file *static_load(struct gw_static *st, const char *web_path)
{
    char *fs = xasprintf("%s%s", st->root, web_path);
    char *variant = NULL;
    struct static_file *f = NULL;
    struct stat sb;
    if (stat(fs, &sb) != 0 || !S_ISREG(sb.st_mode))
        goto out;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->files[i].path, web_path) == 0) {
            f = &st->files[i];
            break;
        }
    }
    if (f == NULL) {
        if (st->n == STATIC_CACHE) {
            /* A build with more files than the cache: serve uncached slots round-robin. */
            f = &st->files[util_now_us() % STATIC_CACHE];
            static_file_cleanup(f);
        } else {
            f = &st->files[st->n++];
        }
        f->path = xstrdup(web_path);
    }
    if (!static_body_refresh(&f->body[GW_ENCODING_IDENTITY], fs, "")) {
        f = NULL; /* its slot stays, empty, and is refreshed when the file comes back */
        goto out;
    }
    for (int e = GW_ENCODING_GZIP; e < GW_ENCODINGS; e++) {
        free(variant);
        variant = xasprintf("%s.%s", fs, e == GW_ENCODING_GZIP ? "gz" : "br");
        (void)static_body_refresh(&f->body[e], variant, gw_encoding_etag_suffix(e));
    }
out:
    free(variant);
    free(fs);
    return f;
}

/* Whether 'path' names a precompressed variant (x.js.gz, x.js.br): those are codings of a
 * resource, sent by Accept-Encoding under the resource's own name, never resources. */
static bool is_variant_path(const char *path)
{
    size_t n = strlen(path);
    return (n > 3 && strcmp(path + n - 3, ".gz") == 0) ||
           (n > 3 && strcmp(path + n - 3, ".br") == 0);
}

void gw_static_serve(struct gw_static *st, struct http_request *req)
{
    const char *path = req->path;
    const char *last = strrchr(path, '/');
    bool has_ext = last && strchr(last, '.') != NULL;
    struct static_file *f = NULL;

    if (strcmp(path, "/") != 0 && safe_web_path(path) && !is_variant_path(path))
        f = static_load(st, path);
    if (f == NULL) {
        if (has_ext) {
            http_reply_problem(req, 404, "not_found", "no such file", NULL);
            return;
        }
        /* A browser route of the single-page app: the app decides what to show. */
        f = static_load(st, "/index.html");
        if (f == NULL) {
            http_reply_problem(req, 404, "web_not_built",
                               "the web front end is not built (run: deploy/crm up)", NULL);
            return;
        }
    }
    unsigned offered = 0;
    for (int e = GW_ENCODING_GZIP; e < GW_ENCODINGS; e++) {
        if (f->body[e].data)
            offered |= 1u << e;
    }
    enum gw_encoding enc = gw_encoding_choose(http_req_header(req, "Accept-Encoding"), offered);
    const struct static_body *b = &f->body[enc];
    bool immutable = strncmp(f->path, "/assets/", 8) == 0;
    http_add_header(req, "Cache-Control",
                    immutable ? "public, max-age=31536000, immutable" : "no-cache");
    http_add_header(req, "ETag", b->etag);
    /* a cache must keep the codings apart, even the identity answer of a file that has others */
    if (offered)
        http_add_header(req, "Vary", "Accept-Encoding");
    if (enc != GW_ENCODING_IDENTITY)
        http_add_header(req, "Content-Encoding", gw_encoding_name(enc));
    if (strcmp(f->path, "/index.html") == 0) {
        http_add_header(req, "X-Frame-Options", "DENY");
        http_add_header(req, "Referrer-Policy", "same-origin");
        http_add_header(req, "Content-Security-Policy",
                        "default-src 'self'; img-src 'self' data:; style-src 'self' "
                        "'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'");
    }
    if (gw_encoding_etag_match(http_req_header(req, "If-None-Match"), b->etag)) {
        http_reply(req, 304, NULL, NULL, 0);
        return;
    }
    /* HEAD: the same head, Content-Length of this coding, no body (http.c) */
    http_reply(req, 200, content_type(f->path), b->data, b->len);
}
