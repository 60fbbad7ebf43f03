/* SPDX-License-Identifier: Apache-2.0 */
/* auth: the service's context and the pieces its files share. */
#ifndef CRM_AUTH_H
#define CRM_AUTH_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

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
    /* the signing keys: an immutable set, swapped whole on a rotation (tokens.c says why) */
    pthread_mutex_t keys_lock;
    struct tokens_keys *keys;
    struct pool *hash_pool;   /* logins and password changes: argon2id is kept off the main pool */
    char dummy_hash[160];     /* verified for unknown users, so they take as long as known ones */
    json_t *catalogue;        /* [{code, kind, name_zh, name_en, roles}] */
    json_t *menus;            /* [{key, parent, path, icon, permission, sort}] */
    json_t *common_passwords; /* object used as a set */
    json_t *password_slots;   /* user ids with a password change on the hash pool (loop only) */
    struct event *key_timer;  /* picks up a rotated-in signing key */
    long long keys_mtime;     /* of the key directory, read on the loop only */
    struct event *revoke_timer; /* publishes revocations Redis could not take at the commit */
    bool revoke_sweeping;       /* a sweep is queued or running (the loop's flag) */
};

/* ---- password.c ---- */
int password_hash(const struct auth_ctx *a, const char *pw, char *out, size_t outlen)
    __attribute__((warn_unused_result));
bool password_verify(const char *encoded, const char *pw);
/* Whether 'pw' is acceptable for the account 'username' / 'display_name' (either may be
 * NULL); when not, appends the field error of 'field' (password_* of errcodes.def) to 'errors'. */
bool password_policy(const struct auth_ctx *a, const char *pw, const char *username,
                     const char *display_name, const char *field, json_t *errors);

/* ---- tokens.c ---- */
struct jwtv_key;
int tokens_load_or_create_key(struct auth_ctx *a, const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Re-read the key directory when it changed (on the loop): the newest private key signs from
 * then on. */
void tokens_refresh(struct auth_ctx *a);
void tokens_cleanup(struct auth_ctx *a);
/* Call 'fn' for each key of the current signing set until it returns non-zero (that value). */
int tokens_each_key(struct auth_ctx *a, int (*fn)(void *arg, const struct jwtv_key *k), void *arg)
    __attribute__((warn_unused_result));
/* Issue an access token for 'user' (row with id, display_name, dept_id) with 'roles' (array of
 * role rows with code, data_scope) and 'perms' (array of codes), issued at 'issued_ms' (taken
 * before the job read them: see tokens_revoke_access). Sets '*exp'. Any thread. */
char *tokens_access(struct auth_ctx *a, json_t *user, json_t *roles, json_t *perms,
                    int64_t issued_ms, int64_t *exp, char jti[37]);
/* (tokens_access writes the token's id into 'jti'.) The wall clock in milliseconds. */
int64_t tokens_now_ms(void);
/* A new opaque refresh token (base64url of 32 random bytes) and its SHA-256. */
void tokens_refresh_new(char out[64], unsigned char hash[32]);
void tokens_refresh_hash(const char *token, unsigned char hash[32]);
json_t *tokens_jwks(const struct auth_ctx *a);
/* The widest data scope of 'roles'. */
const char *tokens_widest_scope(json_t *roles);

/* ---- tokens.c: revocation ---- */
/* Revoke every token of 'user_id': refresh tokens (database) and access tokens (as
 * tokens_revoke_access), in the caller's transaction. */
int tokens_revoke_user(struct svc_worker *w, long long user_id) __attribute__((warn_unused_result));
/* Revoke the access tokens of 'user_id' once the caller's transaction commits: recorded in it
 * now, published by tokens_revoke_pending after the commit. Refresh tokens stay, so a refresh
 * picks up new roles and permissions. */
int tokens_revoke_access(struct svc_worker *w, long long user_id)
    __attribute__((warn_unused_result));
/* Outside a transaction: publish the committed revocations to Redis (each revokes the tokens
 * issued until now) and drop their rows. 0, or -1 when Redis or the database failed: the rest
 * waits for the next call (the sweep). */
int tokens_revoke_pending(struct svc_worker *w) __attribute__((warn_unused_result));
/* tokens_revoke_pending as a kit_patch 'committed' hook (a failure is logged: the sweep). */
void tokens_revoke_committed(struct svc_worker *w, struct svc_job *job, json_t *after);

/* ---- handlers_roles.c: who may grant what ---- */
/* Whether array 'a' holds a value equal to 'v' (ids, permission codes). */
bool auth_array_has(json_t *a, json_t *v);
/* Whether 'caller' may hand out 'role' (with data_scope and permissions): its data scope is no
 * wider than the caller's and the caller holds every permission of it. */
bool auth_role_grantable(const struct svc_identity *caller, json_t *role);

/* ---- handlers_users.c: a user's status, one table of names ---- */
enum user_status { USER_ENABLED, USER_DISABLED, USER_LOCKED, USER_STATUS_SAME };
const char *user_status_name(enum user_status s);
/* Field errors into 'errors' for a malformed "email" or "phone" of 'b' (users, departments). */
void auth_check_contact(json_t *b, json_t *errors);
/* Whether the caller of 'job' may act on user 'user_id' (every role of the user one it could
 * grant): 0, or -1 with the job failed (403 user_not_manageable, 404 for no such user) or on
 * the database. */
int auth_user_manageable(struct svc_worker *w, struct svc_job *job, long long user_id)
    __attribute__((warn_unused_result));

/* ---- handlers_sessions.c ---- */
int sessions_routes(struct svc *s) __attribute__((warn_unused_result));
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
/* The one spelling of a username, used to store, look up and throttle it: ASCII letters are
 * folded to lower case, and the result must match ^[a-z0-9][a-z0-9._-]{2,31}$. False (and ""
 * in 'out') for anything else: other letters, spaces, look-alikes such as U+017F. */
#define AUTH_USERNAME_MIN 3
#define AUTH_USERNAME_MAX 32
bool auth_username_canon(const char *in, char out[AUTH_USERNAME_MAX + 1]);

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
