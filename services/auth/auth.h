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

/* ---- handlers ---- */
int session_routes(struct svc *s);
int users_routes(struct svc *s);
int org_routes(struct svc *s);

/* ---- helpers shared by the handlers ---- */
struct auth_ctx *auth_of(struct svc *s);
/* How long a lock lasts: lockout_seconds when set, else lockout_minutes. */
long auth_lockout_s(const struct auth_ctx *a);
/* The request body as a strict JSON object, or a 422 reply (returns NULL then). */
json_t *auth_body(struct http_request *req, const struct jsonv_field *fields);
/* A path id parameter as a positive integer, or a 404 reply (returns 0 then). */
long long auth_path_id(struct http_request *req, const char *name);
/* [{field, before, after}] for the 'fields' whose value differs between the two records. */
json_t *auth_changes(json_t *before, json_t *after, const char *const *fields);
/* The actor of events from a job's request. */
struct events_actor auth_actor(const struct svc_job *job);
/* Revoke every token of 'user_id' now: access tokens (Redis) and refresh tokens (database, in
 * the caller's transaction). */
int auth_revoke_user(struct svc_worker *w, long long user_id) __attribute__((warn_unused_result));
/* Revoke the access tokens of 'user_id' issued until now (Redis); refresh tokens stay, so a
 * refresh picks up new roles and permissions. */
int auth_revoke_access(struct svc_worker *w, long long user_id) __attribute__((warn_unused_result));

#endif
