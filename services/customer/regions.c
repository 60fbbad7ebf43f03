/* SPDX-License-Identifier: Apache-2.0 */
/* regions: the region dictionary in memory, its tree answer and the customer's region rule
 * (see regions.h). */
#include "regions.h"
#include "crmlog.h"
#include "customer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three levels: a province, its cities, their districts. */
#define REGIONS_LEVELS 3
/* "Cache-Control" of the tree: the console fetches it once a day and revalidates it then. */
#define REGIONS_CACHE_CONTROL "private, max-age=86400"

struct region {
    char code[7];
    char *name;
    int level;                     /* 1 province, 2 city, 3 district */
    int parent;                    /* index of the parent in regions.all, -1 for a province */
    int first_child, next_sibling; /* -1: none */
};

struct regions {
    struct region *all; /* by code, so a parent comes before its children */
    size_t n;
    int first_province;
    char *body; /* the answer of GET /api/v1/regions, compact JSON */
    size_t body_len;
    char etag[40]; /* "<32 hex digits of the SHA-256 of body>" with its quotes */
};

/* ------------------------------------------------------------------------------------------ */
/* loading                                                                                     */

/* The index of the region with code 'code' among the first 'n' of 'all' (sorted by code), or
 * -1. */
static int find_code(const struct region *all, size_t n, const char *code)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(all[mid].code, code);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The child of 'parent' (-1: the provinces) named 'name', or -1. */
static int find_child(const struct regions *r, int parent, const char *name)
{
    int i = parent < 0 ? r->first_province : r->all[parent].first_child;
    for (; i >= 0; i = r->all[i].next_sibling) {
        if (strcmp(r->all[i].name, name) == 0)
            return i;
    }
    return -1;
}

/* [{code, name, children?}] of the children of 'parent' (-1: the provinces); a leaf has no
 * "children" member. */
static json_t *tree_json(const struct regions *r, int parent)
{
    json_t *items = json_array();
    int i = parent < 0 ? r->first_province : r->all[parent].first_child;
    for (; i >= 0; i = r->all[i].next_sibling) {
        const struct region *g = &r->all[i];
        json_t *item = json_pack("{s:s, s:s}", "code", g->code, "name", g->name);
        if (g->first_child >= 0)
            json_object_set_new(item, "children", tree_json(r, i));
        json_array_append_new(items, item);
    }
    return items;
}

/* Link each region of 'r' (sorted by code) to its parent, the parent_code of the same row of
 * 'rows', keeping the children in code order. 0, or -1 when a row's parent is missing or not one
 * level up. */
static int regions_link(struct regions *r, json_t *rows)
{
    int *tail = xcalloc(r->n, sizeof(*tail)); /* each region's last child so far */
    int rc = -1, last_province = -1;
    for (size_t i = 0; i < r->n; i++) {
        json_t *row = json_array_get(rows, i);
        const char *parent = json_string_value(json_object_get(row, "parent_code"));
        struct region *g = &r->all[i];
        g->first_child = g->next_sibling = -1;
        tail[i] = -1;
        if (g->level == 1 && parent == NULL) {
            g->parent = -1;
            if (last_province < 0)
                r->first_province = (int)i;
            else
                r->all[last_province].next_sibling = (int)i;
            last_province = (int)i;
            continue;
        }
        int p = parent ? find_code(r->all, i, parent) : -1;
        if (p < 0 || r->all[p].level != g->level - 1) {
            log_error(NULL, "regions: %s %s has no parent %s one level up", g->code, g->name,
                      parent ? parent : "(none)");
            goto out;
        }
        g->parent = p;
        if (tail[p] < 0)
            r->all[p].first_child = (int)i;
        else
            r->all[tail[p]].next_sibling = (int)i;
        tail[p] = (int)i;
    }
    rc = r->first_province >= 0 ? 0 : -1;
out:
    free(tail);
    return rc;
}

int regions_load(struct db *db, struct regions **out)
{
    json_t *rows = NULL, *tree = NULL;
    struct regions *r = xcalloc(1, sizeof(*r));
    int rc = -1;
    r->first_province = -1;
    if (db_query(db, "SELECT code, name, parent_code, level FROM regions ORDER BY code", NULL, 0,
                 &rows) != 0) {
        log_error(NULL, "regions: cannot read the table: %s", db->last_error);
        goto out;
    }
    r->n = json_array_size(rows);
    r->all = xcalloc(r->n ? r->n : 1, sizeof(*r->all));
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        struct region *g = &r->all[i];
        snprintf(g->code, sizeof(g->code), "%s", json_string_value(json_object_get(row, "code")));
        g->name = xstrdup(json_string_value(json_object_get(row, "name")));
        g->level = (int)json_integer_value(json_object_get(row, "level"));
    }
    if (r->n == 0 || regions_link(r, rows) != 0) {
        log_error(NULL, "regions: the table is empty or inconsistent (%zu rows)", r->n);
        goto out;
    }
    tree = json_pack("{s:o}", "items", tree_json(r, -1));
    r->body = json_dumps(tree, JSON_COMPACT);
    if (r->body == NULL)
        abort(); /* out of memory */
    r->body_len = strlen(r->body);
    char hex[65];
    util_sha256_hex(r->body, r->body_len, hex);
    snprintf(r->etag, sizeof(r->etag), "\"%.32s\"", hex);
    log_info(NULL, "regions: %zu loaded, the tree is %zu bytes, ETag %s", r->n, r->body_len,
             r->etag);
    *out = r;
    r = NULL;
    rc = 0;
out:
    regions_free(r);
    json_decref(rows);
    json_decref(tree);
    return rc;
}

void regions_free(struct regions *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->all[i].name);
    free(r->all);
    free(r->body);
    free(r);
}

/* ------------------------------------------------------------------------------------------ */
/* the customer's region                                                                       */

static const char *const level_fields[REGIONS_LEVELS] = {"province", "city", "district"};

/* Field 'field' as the customer will hold it: the body's when it has one, else 'before''s. */
static const char *region_value(json_t *before, json_t *body, const char *field)
{
    json_t *v = json_object_get(body, field);
    if (v == NULL)
        v = json_object_get(before, field);
    return json_is_string(v) ? json_string_value(v) : "";
}

void regions_check_customer(const struct regions *r, json_t *before, json_t *body, json_t *errors)
{
    const char *v[REGIONS_LEVELS];
    bool changed = false;
    for (int l = 0; l < REGIONS_LEVELS; l++) {
        changed = changed || json_object_get(body, level_fields[l]) != NULL;
        v[l] = region_value(before, body, level_fields[l]);
    }
    if (!changed)
        return;
    int lowest = -1; /* the lowest level given */
    for (int l = 0; l < REGIONS_LEVELS; l++) {
        if (v[l][0] != '\0')
            lowest = l;
    }
    bool missing = false; /* a level above the lowest given is not */
    for (int l = 0; l < lowest; l++) {
        if (v[l][0] == '\0') {
            char msg[64];
            snprintf(msg, sizeof(msg), "is required with a %s", level_fields[lowest]);
            jsonv_error_add(errors, level_fields[l], JSONV_E_required, msg);
            missing = true;
        }
    }
    if (missing)
        return;
    int parent = -1; /* the region found one level up (-1: China) */
    for (int l = 0; l <= lowest; l++) {
        int found = find_child(r, parent, v[l]);
        if (found < 0) {
            char msg[160];
            if (parent < 0) {
                jsonv_error_add(errors, level_fields[l], JSONV_E_no_such_region,
                                "is not a province of China (a name such as 广东省)");
            } else {
                snprintf(msg, sizeof(msg), "is not a %s of %s", level_fields[l],
                         r->all[parent].name);
                jsonv_error_addp(errors, level_fields[l], JSONV_E_not_in_region,
                                 json_pack("{s:s}", "parent", r->all[parent].name), msg);
            }
            return; /* what lies below an unknown region cannot be checked */
        }
        parent = found;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/v1/regions                                                                         */

/*
 * Whether the If-None-Match value 'inm' (NULL: absent) names 'etag' ("x", quotes included):
 * "*", or an entry equal to it, weak (W/) or strong, or to it as the gateway renames it for a
 * compressed copy ("x-gz", "x-br": gateway/encoding.c; the coding's bytes differ, the tree
 * does not).
 */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = inm; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        const char *t = p;
        size_t m = n;
        while (m > 0 && (t[m - 1] == ' ' || t[m - 1] == '\t'))
            m--;
        p += n;
        if (m == 1 && t[0] == '*')
            return true;
        if (m > 2 && t[0] == 'W' && t[1] == '/') {
            t += 2;
            m -= 2;
        }
        if (m == elen && memcmp(t, etag, m) == 0)
            return true;
        /* "x-<coding>": the tag without its closing quote, '-', letters, the quote */
        if (m > elen + 1 && memcmp(t, etag, elen - 1) == 0 && t[elen - 1] == '-' &&
            t[m - 1] == '"') {
            size_t letters = 0;
            while (elen + letters < m - 1 && t[elen + letters] >= 'a' && t[elen + letters] <= 'z')
                letters++;
            if (letters > 0 && elen + letters == m - 1)
                return true;
        }
    }
    return false;
}

/* The tree, built at start: no worker, no database. 304 when the client has it already. */
static void regions_get(struct http_request *req, void *arg)
{
    const struct regions *r = customer_regions(arg);
    http_add_header(req, "ETag", r->etag);
    http_add_header(req, "Cache-Control", REGIONS_CACHE_CONTROL);
    if (etag_matches(http_req_header(req, "If-None-Match"), r->etag))
        http_reply(req, 304, NULL, NULL, 0);
    else
        http_reply(req, 200, "application/json", r->body, r->body_len);
}

int regions_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/regions", regions_get);
}
