/* SPDX-License-Identifier: Apache-2.0 */
/* static: serve the built web front end (web/dist) with content types, caching and fallback. */
#include "static.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STATIC_MAX_FILE (16 * 1024 * 1024)
#define STATIC_CACHE    256

/* Files are small and few; they are read once and kept, re-read when size or mtime change. */
struct static_file {
    char *path; /* web path */
    char *data;
    size_t len;
    struct timespec mtime;
    char etag[48];
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

void gw_static_free(struct gw_static *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->files[i].path);
        free(st->files[i].data);
    }
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

/* The cached file for 'web_path', loading or refreshing it; NULL when absent. */
static struct static_file *static_load(struct gw_static *st, const char *web_path)
{
    char *fs = xasprintf("%s%s", st->root, web_path);
    struct stat sb;
    struct static_file *f = NULL;
    if (stat(fs, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > STATIC_MAX_FILE)
        goto out;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->files[i].path, web_path) == 0) {
            f = &st->files[i];
            break;
        }
    }
    if (f && f->len == (size_t)sb.st_size && f->mtime.tv_sec == sb.st_mtim.tv_sec &&
        f->mtime.tv_nsec == sb.st_mtim.tv_nsec)
        goto out;
    size_t len = 0;
    char *data = util_read_file(fs, STATIC_MAX_FILE, &len);
    if (data == NULL) {
        f = NULL;
        goto out;
    }
    if (f == NULL) {
        if (st->n == STATIC_CACHE) {
            /* A build with more files than the cache: serve uncached slots round-robin. */
            f = &st->files[util_now_us() % STATIC_CACHE];
            free(f->path);
            free(f->data);
        } else {
            f = &st->files[st->n++];
        }
        f->path = xstrdup(web_path);
    } else {
        free(f->data);
    }
    f->data = data;
    f->len = len;
    f->mtime = sb.st_mtim;
    snprintf(f->etag, sizeof(f->etag), "\"%lx-%lx-%zx\"", (unsigned long)sb.st_mtim.tv_sec,
             (unsigned long)sb.st_mtim.tv_nsec, len);
out:
    free(fs);
    return f;
}

void gw_static_serve(struct gw_static *st, struct http_request *req)
{
    const char *path = req->path;
    const char *last = strrchr(path, '/');
    bool has_ext = last && strchr(last, '.') != NULL;
    struct static_file *f = NULL;

    if (strcmp(path, "/") != 0 && safe_web_path(path))
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
    bool immutable = strncmp(f->path, "/assets/", 8) == 0;
    http_add_header(req, "Cache-Control",
                    immutable ? "public, max-age=31536000, immutable" : "no-cache");
    http_add_header(req, "ETag", f->etag);
    if (strcmp(f->path, "/index.html") == 0) {
        http_add_header(req, "X-Frame-Options", "DENY");
        http_add_header(req, "Referrer-Policy", "same-origin");
        http_add_header(req, "Content-Security-Policy",
                        "default-src 'self'; img-src 'self' data:; style-src 'self' "
                        "'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'");
    }
    const char *inm = http_req_header(req, "If-None-Match");
    if (inm && strcmp(inm, f->etag) == 0) {
        http_reply(req, 304, NULL, NULL, 0);
        return;
    }
    http_reply(req, 200, content_type(f->path), f->data, f->len);
}
