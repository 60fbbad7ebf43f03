/* SPDX-License-Identifier: Apache-2.0 */
/* listq: the filtered, sorted, paged lists of every service: a WHERE clause of only the filters
 * given (all values bound), a sort from a whitelist with a unique tie-breaker, deferred-join or
 * keyset paging, and a total that is exact up to a cap. */
#ifndef CRM_LISTQ_H
#define CRM_LISTQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"

#define LISTQ_MAX_PARAMS 200   /* bound values of one WHERE clause (a scope lists up to 128) */
#define LISTQ_COUNT_CAP  10000 /* totals are exact up to this, then "total_capped" */
#define LISTQ_PAGE_MAX   100   /* page_size at most */
/* A text sort value a keyset cursor carries: VARCHAR(64) in utf8mb4 is at most 256 bytes. */
#define LISTQ_CURSOR_VALUE_MAX 256
/* An opaque keyset cursor, base64url, with its NUL: room for any value of at most
 * LISTQ_CURSOR_VALUE_MAX bytes even when JSON escapes each byte as \u00XX (6 x 256), a sort
 * name of up to 64 bytes and the id: (1538 + 66 + 7 + 20 + 5) / 3 * 4 < 2304. */
#define LISTQ_CURSOR_MAX 2304

/* How a sort column compares (for its keyset cursor). */
enum listq_type { LISTQ_INT, LISTQ_STR, LISTQ_TIME };

/* One column a client may sort by: the name it sends (?sort=name) and the SQL expression. A
 * list's table of these is its whitelist; the first entry is its default sort. The column is
 * NOT NULL, and a LISTQ_STR one holds at most LISTQ_CURSOR_VALUE_MAX bytes (its cursors carry
 * the value). */
struct listq_sort {
    const char *name;
    const char *column;
    enum listq_type type;
    bool desc; /* the default direction */
};

/* What the client asked for: ?page=&page_size=&sort=&order=asc|desc&cursor= */
struct listq_page {
    long page, page_size;
    const struct listq_sort *sort;
    bool desc;
    char cursor[LISTQ_CURSOR_MAX]; /* "" unless given: then it, not 'page', says where */
};

/* A WHERE clause under construction. Conditions are ANDed; each holds as many '?' as values. */
struct listq {
    char where[4096];
    size_t len;
    struct db_param p[LISTQ_MAX_PARAMS + 8]; /* 8 more for the keyset and the LIMIT/OFFSET */
    _Static_assert(LISTQ_MAX_PARAMS + 8 <= DB_MAX_PARAMS, "a list's statement binds them all");
    size_t n;
    char store[2048]; /* copies of derived values (LIKE patterns) */
    size_t used;
};

void listq_init(struct listq *q);
/* AND 'cond' holding 'nvals' placeholders for 'vals'. Too many values for the builder is a bug
 * in the caller and aborts. String values must outlive the query (see listq_copy). */
void listq_add(struct listq *q, const char *cond, const struct db_param *vals, size_t nvals);
/* 'col = ?' when 'v' is given (not NULL and not empty); 'listq_eq_int' when 'v' != 0. */
void listq_eq_str(struct listq *q, const char *col, const char *v);
void listq_eq_int(struct listq *q, const char *col, long long v);
/* (c1 LIKE '%v%' OR c2 LIKE '%v%' ...) with % _ and \ in 'v' taken literally; 'cols' ends with
 * NULL. Nothing when 'v' is NULL or empty. */
void listq_contains(struct listq *q, const char *const *cols, const char *v);
/* 'col LIKE 'v%'' with 'v' taken literally. */
void listq_prefix(struct listq *q, const char *col, const char *v);
/* 'v' as a LIKE pattern with % _ and \ taken literally, after a '%' when 'pre' and before one
 * when 'post': a copy inside the builder (for conditions a caller writes itself). */
const char *listq_like(struct listq *q, const char *v, bool pre, bool post);
/* A copy of 'v' inside the builder (for values made on the stack). */
const char *listq_copy(struct listq *q, const char *v);
/* " WHERE a AND b" (or "") and its values. */
const char *listq_sql(const struct listq *q);

/* The table of a list. */
struct listq_spec {
    const char *from;    /* "users u": the filtered table and its alias */
    const char *id;      /* "u.id": its unique key, the sort's tie-breaker */
    const char *columns; /* what a row shows: "u.id, u.username, d.name AS dept_name" */
    const char *joins;   /* joined for the rows of the page only: " LEFT JOIN departments d ..." */
    long count_cap;      /* 0: LISTQ_COUNT_CAP */
    /* NULL: 'from'. What the count reads, when it must differ from what the page reads: an index
     * hint that suits counting (index entries only) and not the page's order */
    const char *count_from;
};

struct listq_result {
    json_t *items; /* the rows of the page */
    long long total;
    bool capped;                        /* more than 'total' rows match */
    char next_cursor[LISTQ_CURSOR_MAX]; /* "" on the last page */
};

/*
 * One page of 'spec' filtered by 'q', sorted by 'pg'. The ids of the page come from the index
 * first (a deferred join: OFFSET skips index entries, not rows) or, with a cursor, from a
 * keyset seek (the cost of page 1 whatever the depth); then only those rows are read with their
 * joins. The total counts at most count_cap + 1 rows. 'q' is left as it was. 0 or -1.
 */
int listq_run(struct db *db, const struct listq_spec *spec, struct listq *q,
              const struct listq_page *pg, struct listq_result *out)
    __attribute__((warn_unused_result));

/* {"items", "total", "total_capped", "page", "page_size", "next_cursor"}; takes the items. */
json_t *listq_result_json(struct listq_result *r, const struct listq_page *pg);

/* Parse 'sort', 'order', 'page', 'page_size' and 'cursor' (any may be NULL) against the
 * whitelist 'sorts' (ends with a NULL name); field errors go to 'errors'. */
void listq_page_parse(const struct listq_sort *sorts, const char *sort, const char *order,
                      const char *page, const char *page_size, const char *cursor,
                      struct listq_page *out, json_t *errors);

#endif
