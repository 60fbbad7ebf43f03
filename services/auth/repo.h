/* SPDX-License-Identifier: Apache-2.0 */
/* repo: every SQL statement of the auth service (users, tokens, departments, roles, dictionary). */
#ifndef CRM_AUTH_REPO_H
#define CRM_AUTH_REPO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "listq.h"
#include "scope.h"

#define WUR __attribute__((warn_unused_result))

/* ---- users (repo_users.c) ---- */
int repo_user_for_login(struct db *db, const char *username, json_t **row) WUR;
/* One user as the API shows it (NULL row when absent or outside 'sc'; 'sc' NULL: any user);
 * 'lock' takes a row lock. */
int repo_user_get(struct db *db, struct scope *sc, long long id, bool lock, json_t **row) WUR;
int repo_user_roles(struct db *db, long long id, json_t **roles) WUR;
int repo_user_perms(struct db *db, long long id, json_t **codes) WUR;
int repo_user_password_hash(struct db *db, long long id, json_t **row) WUR;
/* Count a wrong password (a login or a password change): at 'threshold' failures the account
 * locks for 'seconds'. After a lock has ended the count starts afresh, so one more failure does
 * not lock it again at once. */
int repo_user_login_failed(struct db *db, long long id, long threshold, long seconds) WUR;
int repo_user_login_succeeded(struct db *db, long long id) WUR;

struct repo_user_filter {
    const char *q;              /* username or display name contains */
    long long dept_id, role_id; /* 0 = any */
    bool dept_children;         /* dept_id and every department below it */
    const char *status;         /* NULL = any */
};
/* A page of the users 'sc' covers, each with its roles. */
int repo_users_list(struct db *db, struct scope *sc, const struct repo_user_filter *f,
                    const struct listq_page *pg, struct listq_result *out) WUR;
int repo_user_insert(struct db *db, json_t *u, const char *hash, long long *id) WUR;
/* Apply the fields present in 'patch' when 'version' matches; '*affected' 0 means stale. */
int repo_user_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected) WUR;
int repo_user_set_roles(struct db *db, long long id, json_t *role_ids) WUR;
int repo_user_set_status(struct db *db, long long id, const char *status) WUR;
int repo_user_set_password(struct db *db, long long id, const char *hash) WUR;
int repo_user_count_admins(struct db *db, long long *n) WUR;
/* Holders of the administrator role other than 'except' that are not disabled, counted under
 * a lock on that role (two concurrent checks cannot both see the other one as the survivor). */
int repo_user_other_active_admins(struct db *db, long long except, long long *n) WUR;
int repo_username_taken(struct db *db, const char *username, bool *taken) WUR;

/* ---- revocations to publish after the commit (repo_users.c; tokens.c says why) ---- */
int repo_revocation_add(struct db *db, long long user_id) WUR;
int repo_revocations_pending(struct db *db, json_t **rows) WUR;
int repo_revocation_done(struct db *db, long long id) WUR;

/* ---- refresh tokens (repo_users.c: they belong to a user) ---- */
int repo_refresh_insert(struct db *db, const unsigned char hash[32], const char *family,
                        long long user_id, long ttl_s, const char *ip, const char *ua,
                        const char *access_jti, int64_t access_exp) WUR;

/* ---- sessions: refresh-token families in use (repo_users.c) ---- */
struct repo_session_filter {
    long long user_id; /* 0 = any */
};
/* A page of the sessions in use of users 'sc' covers: {id (the family's first token), user_id,
 * username, display_name, dept_name, login_at, last_used_at, expires_at, ip, user_agent,
 * access_jti}, the latest used first. */
int repo_sessions_list(struct db *db, struct scope *sc, const struct repo_session_filter *f,
                       const struct listq_page *pg, struct listq_result *out) WUR;
/* Session 'id' in use, locked, when its user is within 'sc' (and is 'user_id' unless 0):
 * {id, user_id, username, family_id, ip, user_agent, access_jti, access_exp}, else NULL. */
int repo_session_get(struct db *db, struct scope *sc, long long id, long long user_id,
                     json_t **row) WUR;
int repo_refresh_find(struct db *db, const unsigned char hash[32], json_t **row) WUR;
int repo_refresh_mark_used(struct db *db, long long id) WUR;
int repo_refresh_revoke_family(struct db *db, const char *family) WUR;
int repo_refresh_revoke_user(struct db *db, long long user_id) WUR;

/* ---- departments, roles, permissions, dictionary (repo_org.c) ---- */
int repo_depts_all(struct db *db, json_t **rows) WUR;
int repo_dept_get(struct db *db, long long id, bool lock, json_t **row) WUR;
/* A department of the fields of 'd' (name, parent_id, leader_id, phone, email, status,
 * sort_order; absent ones take their defaults). */
int repo_dept_insert(struct db *db, json_t *d, long long *id) WUR;
int repo_dept_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected) WUR;
int repo_dept_delete(struct db *db, long long id) WUR;
int repo_dept_usage(struct db *db, long long id, long long *children, long long *users) WUR;
int repo_dept_by_name(struct db *db, long long parent_id, const char *name, json_t **row) WUR;

int repo_roles_list(struct db *db, const struct listq_page *pg, struct listq_result *out) WUR;
int repo_role_get(struct db *db, long long id, bool lock, json_t **row) WUR;
int repo_role_by_code(struct db *db, const char *code, json_t **row) WUR;
int repo_role_insert(struct db *db, json_t *r, bool builtin, long long *id) WUR;
int repo_role_update(struct db *db, long long id, long long version, json_t *patch,
                     uint64_t *affected) WUR;
int repo_role_delete(struct db *db, long long id) WUR;
int repo_role_perms(struct db *db, long long id, json_t **codes) WUR;
int repo_role_set_perms(struct db *db, long long id, json_t *codes) WUR;
int repo_role_grant(struct db *db, long long id, const char *code) WUR;
int repo_role_user_count(struct db *db, long long id, long long *n) WUR;
int repo_role_members(struct db *db, long long id, json_t **user_ids) WUR;

int repo_perms_all(struct db *db, json_t **rows) WUR;
int repo_perm_upsert(struct db *db, json_t *p, long sort, bool *is_new) WUR;

int repo_dict_types(struct db *db, json_t **rows) WUR;
int repo_dict_type_by_code(struct db *db, const char *code, json_t **row) WUR;
int repo_dict_type_insert(struct db *db, json_t *t, bool builtin, long long *id) WUR;
int repo_dict_items(struct db *db, long long type_id, bool only_enabled, json_t **rows) WUR;
int repo_dict_item_get(struct db *db, long long type_id, long long id, json_t **row) WUR;
int repo_dict_item_insert(struct db *db, long long type_id, json_t *item, long long *id) WUR;
int repo_dict_item_update(struct db *db, long long id, long long version, json_t *patch,
                          uint64_t *affected) WUR;

/* Run a query of one column "code" and return the codes as an array of strings. */
int repo_query_codes(struct db *db, const char *sql, const struct db_param *p, size_t n,
                     json_t **codes) WUR;
/* Run a "SELECT COUNT(*) AS n ..." and return n. */
int repo_query_count(struct db *db, const char *sql, const struct db_param *p, size_t n,
                     long long *out) WUR;
/* A field of a PATCH body as a parameter, NULL when absent (COALESCE keeps the column). */
struct db_param repo_opt_str(json_t *patch, const char *k);
struct db_param repo_opt_int(json_t *patch, const char *k);

#endif
