/* SPDX-License-Identifier: Apache-2.0 */
/* scope: the data scope of a caller (ALL, DEPT_AND_CHILD, DEPT, SELF) as a SQL predicate on an
 * owner column, and each service's projection of the department tree and of who belongs where,
 * kept current from the auth service's events. */
#ifndef CRM_SCOPE_H
#define CRM_SCOPE_H

#include <jansson.h>
#include <stdbool.h>

#include "db.h"
#include "listq.h"
#include "migrate.h"

/* libcrm's migrations of every service that consumes crm:stream:auth: the projection (the tree
 * and who belongs where), then each user's status and role codes. */
extern const struct migrate_unit scope_migration;
extern const struct migrate_unit scope_migration_users;

/* Narrowest first: a wider scope has a larger value. */
enum scope_kind { SCOPE_SELF, SCOPE_DEPT, SCOPE_DEPT_AND_CHILD, SCOPE_ALL };

/* "SELF", "DEPT", "DEPT_AND_CHILD", "ALL". */
const char *scope_name(enum scope_kind k);
/* 0, or -1 when 's' is none of the names. */
int scope_parse(const char *s, enum scope_kind *out) __attribute__((warn_unused_result));

/* Where a service finds departments (id, parent_id) and users (their id column and dept_id).
 * Every service but auth reads its projection (scope_projection: the tables scope_depts and
 * scope_users of libcrm's migration); auth, which owns the real ones, names its own. */
struct scope_source {
    const char *depts;    /* table with columns id, parent_id */
    const char *users;    /* table with columns <user_col>, dept_id */
    const char *user_col; /* the user id column of 'users' */
};
extern const struct scope_source scope_projection;
/* For a service whose records belong to nobody (audit: the administrators' logs): no
 * projection is kept. */
extern const struct scope_source scope_unscoped;

#define SCOPE_MAX_DEPTS 128 /* departments a scope lists; beyond, the tree is read in SQL */

/* A caller's scope: who, which kind, and where the tree is; and, once resolved (on its first
 * use, from the source's current tree), the departments it covers. */
struct scope {
    enum scope_kind kind;
    long long user_id;
    const struct scope_source *src;
    bool resolved; /* 'depts' holds every department covered */
    bool too_many; /* more than SCOPE_MAX_DEPTS: the predicate walks the tree in SQL */
    size_t ndepts;
    long long depts[SCOPE_MAX_DEPTS];
};

/* Read the departments 'sc' covers (DEPT: the caller's current department; DEPT_AND_CHILD: it
 * and every one below it) into 'sc', once: one small query on the source's tree. Nothing for
 * ALL and SELF. 0 or -1. */
int scope_resolve(struct db *db, struct scope *sc) __attribute__((warn_unused_result));

/*
 * AND to 'q' (after scope_resolve) the predicate that keeps only the records 'sc' covers: records
 * owned by a user
 * ('owner_col' holds a user id: customers.manager_id) or records that lie in a department
 * ('dept_col' holds a department id: users.dept_id). Give one of them or both: SELF uses
 * 'owner_col' (a record with no owner column is covered by SELF only when it is the caller's:
 * 'owner_col' then is the record's own user id), DEPT and DEPT_AND_CHILD use 'dept_col' when
 * given, else the owner's department. The departments are those scope_resolve read from the
 * source's current tree (the caller's department as it is now, not as the token says), bound
 * as a list: an index on the column serves it. ALL adds nothing. Used for lists, counts and
 * by-id reads alike: a record outside the scope is never read, and a by-id read of one finds
 * nothing (404). 0, or -1 when resolving failed.
 */
int scope_where(struct db *db, struct listq *q, struct scope *sc, const char *owner_col,
                const char *dept_col) __attribute__((warn_unused_result));

/* scope_where for a record that two owners share (a transfer: its giver and its receiver):
 * it is covered when either owner column is. 0 or -1. */
int scope_where_either(struct db *db, struct listq *q, struct scope *sc, const char *owner_a,
                       const char *owner_b) __attribute__((warn_unused_result));

/* Whether department 'dept_id' lies inside 'sc' (true for ALL; SELF covers no department but
 * the caller's own, so a SELF caller may not place a record elsewhere). 0 or -1. */
int scope_covers_dept(struct db *db, struct scope *sc, long long dept_id, bool *covered)
    __attribute__((warn_unused_result));

/* The projection, inside the consumer's transaction: apply one event of crm:stream:auth
 * (department.created/updated/deleted, user.created/updated/disabled/enabled) to scope_depts
 * and scope_users. Other events change nothing. 0 or -1. */
int scope_projection_apply(struct db *db, json_t *event) __attribute__((warn_unused_result));

#define SCOPE_ROLE_CODES_LEN 512

/* A user of the projection, as the owner a record may be given to. */
struct scope_user {
    bool found;        /* in the projection and inside the scope asked about */
    bool enabled;      /* not disabled */
    long long dept_id; /* 0: none */
    char display_name[72];
    char role_codes[SCOPE_ROLE_CODES_LEN]; /* "customer_manager,readonly" */
};

/* User 'user_id' as the projection knows them, when 'sc' covers them (NULL: any scope); 'found'
 * false when absent or outside. Every service that gives records an owner asks this (a
 * customer's manager, the receiver of a transfer). 0 or -1. */
int scope_user_get(struct db *db, struct scope *sc, long long user_id, struct scope_user *out)
    __attribute__((warn_unused_result));
/* Whether 'u' holds the role whose code is 'code'. */
bool scope_user_has_role(const struct scope_user *u, const char *code);
/* The role codes of a user event ('codes': a JSON array of strings, NULL: none) as the
 * projection keeps them: comma-separated, cut at the column's size. */
void scope_role_codes_csv(json_t *codes, char out[SCOPE_ROLE_CODES_LEN]);

#endif
