/* SPDX-License-Identifier: Apache-2.0 */
/* auth: the service's context and the pieces its files share. */
#ifndef CRM_AUTH_H
#define CRM_AUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "jsonv.h"
#include "jwtv.h"
#include "pool.h"
#include "svc.h"

struct auth_config {
    long lockout_threshold;
    long lockout_minutes;
    long lockout_seconds;
    long password_min_length;
    long access_ttl_s;
    long refresh_ttl_s;
    long login_per_ip_per_min;
    long login_per_account_per_min;
    long argon2_memory_kib;
    long argon2_iterations;
    long hash_threads;
    char *catalogue_dir;
    char *bootstrap_admin_password_file;
};

struct auth_ctx {
    struct svc *svc;
    struct auth_config *cfg;
    struct jwtv signer; /* private keys; the newest signs */
    char kid[64];
    struct pool *hash_pool;   /* logins and password changes: argon2id is kept off the main pool */
    char dummy_hash[160];     /* verified for unknown users, so they take as long as known ones */
    json_t *catalogue;        /* [{code, kind, name_zh, name_en, roles}] */
    json_t *menus;            /* [{key, parent, path, icon, permission, sort}] */
    json_t *common_passwords; /* object used as a set */
    struct event *key_timer;  /* picks up a rotated-in signing key */
    long long keys_mtime;
};

/* ---- password.c ---- */
int password_hash(const struct auth_ctx *a, const char *pw, char *out, size_t outlen)
    __attribute__((warn_unused_result));
bool password_verify(const char *encoded, const char *pw);
/* NULL when acceptable, else the message for the field. */
const char *password_policy(const struct auth_ctx *a, const char *pw);

/* ---- tokens.c ---- */
int tokens_load_or_create_key(struct auth_ctx *a, const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Re-read the key directory when it changed: the newest private key signs from then on. */
void tokens_refresh(struct auth_ctx *a);
/* Issue an access token for 'user' (row with id, display_name, dept_id) with 'roles' (array of
 * role rows with code, data_scope) and 'perms' (array of codes). Sets '*exp'. */
char *tokens_access(const struct auth_ctx *a, json_t *user, json_t *roles, json_t *perms,
                    int64_t *exp);
/* A new opaque refresh token (base64url of 32 random bytes) and its SHA-256. */
void tokens_refresh_new(char out[64], unsigned char hash[32]);
void tokens_refresh_hash(const char *token, unsigned char hash[32]);
json_t *tokens_jwks(const struct auth_ctx *a);
/* The widest data scope of 'roles'. */
const char *tokens_widest_scope(json_t *roles);

/* ---- tokens.c: revocation ---- */
/* Revoke every token of 'user_id' now: access tokens (Redis) and refresh tokens (database, in
 * the caller's transaction). */
int tokens_revoke_user(struct svc_worker *w, long long user_id) __attribute__((warn_unused_result));
/* Revoke the access tokens of 'user_id' issued until now (Redis); refresh tokens stay, so a
 * refresh picks up new roles and permissions. */
int tokens_revoke_access(struct svc_worker *w, long long user_id)
    __attribute__((warn_unused_result));

/* ---- handlers_users.c: a user's status, one table of names ---- */
enum user_status { USER_ENABLED, USER_DISABLED, USER_LOCKED, USER_STATUS_SAME };
const char *user_status_name(enum user_status s);
/* USER_ENABLED for anything unknown (the column's values are the three names). */
enum user_status user_status_parse(const char *name);

/* ---- catalogue.c: the permission catalogue, menus, dictionary seed, first administrator ---- */
/* Read permissions.tsv, menus.tsv and common-passwords.txt of catalogue_dir; 0 or -1. */
int catalogue_load(struct auth_ctx *a) __attribute__((warn_unused_result));
void catalogue_free(struct auth_ctx *a);
/* Seed the catalogue, the built-in roles and the dictionary; create the first administrator. */
int catalogue_seed(struct auth_ctx *a) __attribute__((warn_unused_result));
/* A code of a role or dictionary: a-z, 0-9 and _ only (NULL: nothing to check). */
bool auth_valid_code(const char *code);

/* ---- handlers ---- */
int session_routes(struct svc *s);
int users_routes(struct svc *s);
int depts_routes(struct svc *s);
int roles_routes(struct svc *s);
int dicts_routes(struct svc *s);

struct auth_ctx *auth_of(struct svc *s);
/* How long a lock lasts: lockout_seconds when set, else lockout_minutes. */
long auth_lockout_s(const struct auth_ctx *a);

#endif
