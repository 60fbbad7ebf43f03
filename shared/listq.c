/* SPDX-License-Identifier: Apache-2.0 */
/* listq: filtered, sorted, paged lists with only the given filters in the WHERE clause. */
#include "listq.h"
#include "crmlog.h"
#include "jsonv.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void listq_init(struct listq *q)
{
    memset(q, 0, sizeof(*q));
}

void listq_add(struct listq *q, const char *cond, const struct db_param *vals, size_t nvals)
{
    size_t need = strlen(cond) + 8;
    if (q->n + nvals > LISTQ_MAX_PARAMS || q->len + need >= sizeof(q->where))
        abort(); /* a bug: a list with more filters than the builder holds */
    q->len += (size_t)snprintf(q->where + q->len, sizeof(q->where) - q->len, "%s(%s)",
                               q->len ? " AND " : " WHERE ", cond);
    for (size_t i = 0; i < nvals; i++)
        q->p[q->n++] = vals[i];
}

void listq_eq_str(struct listq *q, const char *col, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    char cond[160];
    snprintf(cond, sizeof(cond), "%s = ?", col);
    listq_add(q, cond, &DBP_STR(v), 1);
}

void listq_eq_int(struct listq *q, const char *col, long long v)
{
    if (v == 0)
        return;
    char cond[160];
    snprintf(cond, sizeof(cond), "%s = ?", col);
    listq_add(q, cond, &DBP_INT(v), 1);
}

const char *listq_copy(struct listq *q, const char *v)
{
    size_t n = strlen(v) + 1;
    if (q->used + n > sizeof(q->store))
        abort(); /* a bug: callers bound their inputs (64 characters a filter) */
    char *out = q->store + q->used;
    memcpy(out, v, n);
    q->used += n;
    return out;
}

/* 'v' with LIKE's wildcards and escape taken literally, between 'pre' and 'post' ("%"). */
static const char *like_pattern(struct listq *q, const char *v, bool pre, bool post)
{
    char buf[512];
    size_t n = 0;
    if (pre)
        buf[n++] = '%';
    for (const char *c = v; *c && n + 4 < sizeof(buf); c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            buf[n++] = '\\';
        buf[n++] = *c;
    }
    if (post)
        buf[n++] = '%';
    buf[n] = '\0';
    return listq_copy(q, buf);
}

const char *listq_like(struct listq *q, const char *v, bool pre, bool post)
{
    return like_pattern(q, v, pre, post);
}

void listq_contains(struct listq *q, const char *const *cols, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    const char *pat = like_pattern(q, v, true, true);
    char cond[512];
    size_t len = 0, n = 0;
    struct db_param vals[8];
    for (const char *const *c = cols; *c && n < ARRAY_LEN(vals); c++, n++) {
        len += (size_t)snprintf(cond + len, sizeof(cond) - len, "%s%s LIKE ?", n ? " OR " : "", *c);
        vals[n] = DBP_STR(pat);
    }
    listq_add(q, cond, vals, n);
}

void listq_prefix(struct listq *q, const char *col, const char *v)
{
    if (v == NULL || *v == '\0')
        return;
    char cond[160];
    snprintf(cond, sizeof(cond), "%s LIKE ?", col);
    listq_add(q, cond, &DBP_STR(like_pattern(q, v, false, true)), 1);
}

const char *listq_sql(const struct listq *q)
{
    return q->where;
}

/* ------------------------------------------------------------------------------------------ */
/* keyset cursors: base64url of [sort name, "asc"|"desc", last sort value, last id]            */

/* The cursor after 'row'. It fits for every value cursor_read takes back (LISTQ_CURSOR_MAX is
 * sized for them): an empty cursor tells the client that this was the last page. */
static void cursor_make(const struct listq_page *pg, json_t *row, char out[LISTQ_CURSOR_MAX])
{
    json_t *v = json_object_get(row, "k_sort");
    json_t *c = json_pack("[s, s, O, O]", pg->sort->name, pg->desc ? "desc" : "asc", v,
                          json_object_get(row, "k_id"));
    char *text = json_dumps(c, JSON_COMPACT);
    char *b64 = util_b64url_encode((const unsigned char *)text, strlen(text));
    if (strlen(b64) < LISTQ_CURSOR_MAX && json_string_length(v) <= LISTQ_CURSOR_VALUE_MAX)
        snprintf(out, LISTQ_CURSOR_MAX, "%s", b64);
    else /* the list ends here for the client: said loudly, but no reason to stop a service */
        log_error(NULL, "bug: sort '%s' has a value no cursor carries (see listq_sort)",
                  pg->sort->name);
    free(b64);
    free(text);
    json_decref(c);
}

/* The cursor's last value and id as parameters; false when it is not one of this sort's. With
 * 'q' NULL only checks. */
static bool cursor_read(struct listq *q, const struct listq_page *pg, struct db_param *val,
                        struct db_param *id)
{
    size_t n = 0;
    unsigned char *raw = util_b64url_decode(pg->cursor, strlen(pg->cursor), &n);
    if (raw == NULL)
        return false;
    json_t *c = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    bool ok = false;
    const char *name = json_string_value(json_array_get(c, 0));
    const char *dir = json_string_value(json_array_get(c, 1));
    json_t *v = json_array_get(c, 2), *k = json_array_get(c, 3);
    if (json_array_size(c) == 4 && name && strcmp(name, pg->sort->name) == 0 && dir &&
        strcmp(dir, pg->desc ? "desc" : "asc") == 0 && json_is_integer(k)) {
        *id = DBP_INT(json_integer_value(k));
        if (pg->sort->type == LISTQ_INT && json_is_integer(v)) {
            *val = DBP_INT(json_integer_value(v));
            ok = true;
        } else if (pg->sort->type != LISTQ_INT && json_is_string(v) &&
                   json_string_length(v) <= LISTQ_CURSOR_VALUE_MAX) {
            char buf[LISTQ_CURSOR_VALUE_MAX + 1];
            snprintf(buf, sizeof(buf), "%s", json_string_value(v));
            size_t len = strlen(buf);
            /* a time goes back as the database writes it: "YYYY-MM-DD HH:MM:SS[.fff]" */
            if (pg->sort->type == LISTQ_TIME && len >= 20 && buf[10] == 'T' &&
                buf[len - 1] == 'Z') {
                buf[10] = ' ';
                buf[len - 1] = '\0';
            }
            *val = DBP_STR(q ? listq_copy(q, buf) : "");
            ok = true;
        }
    }
    json_decref(c);
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* the page                                                                                    */

static int count_rows(struct db *db, const struct listq_spec *spec, const struct listq *q,
                      struct listq_result *out)
{
    long cap = spec->count_cap > 0 ? spec->count_cap : LISTQ_COUNT_CAP;
    char *sql = xasprintf("SELECT COUNT(*) AS n FROM (SELECT 1 FROM %s%s LIMIT %ld) c",
                          spec->count_from ? spec->count_from : spec->from, q->where, cap + 1);
    json_t *row = NULL;
    int rc = db_query_one(db, sql, q->p, q->n, &row);
    free(sql);
    if (rc != 0)
        return -1;
    out->total = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    out->capped = out->total > cap;
    if (out->capped)
        out->total = cap;
    return 0;
}

int listq_run(struct db *db, const struct listq_spec *spec, struct listq *q,
              const struct listq_page *pg, struct listq_result *out)
{
    const char *dir = pg->desc ? "DESC" : "ASC";
    char *sql = NULL;
    size_t saved_len = q->len, saved_n = q->n, saved_used = q->used; /* the cursor's copies */
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (count_rows(db, spec, q, out) != 0)
        return -1;
    long offset = (pg->page - 1) * pg->page_size;
    if (pg->cursor[0]) {
        struct db_param v, id;
        if (!cursor_read(q, pg, &v, &id))
            abort(); /* a bug: listq_page_parse checked it */
        char cond[512];
        const char *cmp = pg->desc ? "<" : ">";
        snprintf(cond, sizeof(cond), "%s %s ? OR (%s = ? AND %s %s ?)", pg->sort->column, cmp,
                 pg->sort->column, spec->id, cmp);
        struct db_param vals[] = {v, v, id};
        listq_add(q, cond, vals, 3);
        offset = 0;
    }
    /* one more row than the page: whether there is a next page, without a second query */
    q->p[q->n] = DBP_INT(pg->page_size + 1);
    q->p[q->n + 1] = DBP_INT(offset);
    sql = xasprintf("SELECT %s, pg.k_sort, pg.k_id FROM (SELECT %s AS k_id, %s AS k_sort FROM %s%s"
                    " ORDER BY %s %s, %s %s LIMIT ? OFFSET ?) pg JOIN %s ON %s = pg.k_id%s"
                    " ORDER BY pg.k_sort %s, pg.k_id %s",
                    spec->columns, spec->id, pg->sort->column, spec->from, q->where,
                    pg->sort->column, dir, spec->id, dir, spec->from, spec->id,
                    spec->joins ? spec->joins : "", dir, dir);
    rc = db_query(db, sql, q->p, q->n + 2, &out->items);
    if (rc == 0) {
        size_t n = json_array_size(out->items);
        if (n > (size_t)pg->page_size) {
            json_array_remove(out->items, n - 1);
            cursor_make(pg, json_array_get(out->items, n - 2), out->next_cursor);
        }
        size_t i;
        json_t *row;
        json_array_foreach(out->items, i, row)
        {
            json_object_del(row, "k_sort");
            json_object_del(row, "k_id");
        }
    }
    free(sql);
    q->len = saved_len;
    q->where[saved_len] = '\0';
    q->n = saved_n;
    q->used = saved_used;
    return rc;
}

json_t *listq_result_json(struct listq_result *r, const struct listq_page *pg)
{
    json_t *out =
        json_pack("{s:o, s:I, s:b, s:i, s:i}", "items", r->items ? r->items : json_array(), "total",
                  (json_int_t)r->total, "total_capped", r->capped, "page", (int)pg->page,
                  "page_size", (int)pg->page_size);
    r->items = NULL;
    json_object_set_new(out, "next_cursor",
                        r->next_cursor[0] ? json_string(r->next_cursor) : json_null());
    return out;
}

void listq_page_parse(const struct listq_sort *sorts, const char *sort, const char *order,
                      const char *page, const char *page_size, const char *cursor,
                      struct listq_page *out, json_t *errors)
{
    memset(out, 0, sizeof(*out));
    out->page = 1;
    out->page_size = 20;
    out->sort = &sorts[0];
    if (page && util_parse_long(page, 1, 1000000, &out->page) != 0)
        jsonv_error_addp(errors, "page", JSONV_E_out_of_range, jsonv_range(1, 1000000),
                         "must be an integer from 1 to 1000000");
    if (page_size && util_parse_long(page_size, 1, LISTQ_PAGE_MAX, &out->page_size) != 0)
        jsonv_error_addp(errors, "page_size", JSONV_E_out_of_range, jsonv_range(1, LISTQ_PAGE_MAX),
                         "must be an integer from 1 to 100");
    if (sort) {
        const struct listq_sort *found = NULL;
        for (const struct listq_sort *s = sorts; s->name && !found; s++)
            found = strcmp(s->name, sort) == 0 ? s : NULL;
        if (found)
            out->sort = found;
        else {
            char msg[256], allowed[240] = "";
            size_t len = 0;
            for (const struct listq_sort *s = sorts; s->name && len < sizeof(allowed); s++)
                len += (size_t)snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
                                        s == sorts ? "" : ", ", s->name);
            snprintf(msg, sizeof(msg), "must be one of: %s", allowed);
            jsonv_error_addp(errors, "sort", JSONV_E_one_of, json_pack("{s:s}", "allowed", allowed),
                             msg);
        }
    }
    out->desc = out->sort->desc;
    if (order) {
        if (strcmp(order, "asc") == 0)
            out->desc = false;
        else if (strcmp(order, "desc") == 0)
            out->desc = true;
        else
            jsonv_error_addp(errors, "order", JSONV_E_one_of,
                             json_pack("{s:s}", "allowed", "asc, desc"), "must be asc or desc");
    }
    if (cursor) {
        struct db_param v, id;
        if (strlen(cursor) > 0 && strlen(cursor) < LISTQ_CURSOR_MAX)
            snprintf(out->cursor, sizeof(out->cursor), "%s", cursor);
        if (out->cursor[0] == '\0' || !cursor_read(NULL, out, &v, &id)) {
            out->cursor[0] = '\0';
            jsonv_error_add(errors, "cursor", JSONV_E_bad_cursor,
                            "is not a cursor of this list in this sort order (take next_cursor)");
        }
    }
}
