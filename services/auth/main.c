/* SPDX-License-Identifier: Apache-2.0 */
/* crm-auth: accounts, departments, roles and permissions, the data dictionary, logins and
 * tokens. This file only wires: on start it makes its signing key when there is none, seeds the
 * catalogue (catalogue.c) and registers the handlers of each area. */
#include "auth.h"
#include "crmlog.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K(field) offsetof(struct auth_config, field)
static const struct config_entry auth_config_table[] = {
    {"lockout_threshold", CONFIG_INT, K(lockout_threshold), "5", 1, 100, "failures that lock"},
    {"lockout_minutes", CONFIG_INT, K(lockout_minutes), "15", 1, 10080, "lock duration"},
    {"lockout_seconds", CONFIG_INT, K(lockout_seconds), "0", 0, 604800,
     "lock duration in seconds; 0: lockout_minutes (the test stack locks for a few seconds)"},
    {"password_min_length", CONFIG_INT, K(password_min_length), "12", 8, 128, "policy"},
    /* at most what the revocation sets of every process remember (revoke.h) */
    {"access_ttl_s", CONFIG_INT, K(access_ttl_s), "900", 60, REVOKE_MAX_TTL_S, "access token life"},
    {"refresh_ttl_s", CONFIG_INT, K(refresh_ttl_s), "604800", 600, 7776000, "refresh life"},
    {"login_per_ip_per_min", CONFIG_INT, K(login_per_ip_per_min), "30", 1, 1000000, ""},
    {"login_per_account_per_min", CONFIG_INT, K(login_per_account_per_min), "10", 1, 1000000, ""},
    {"argon2_memory_kib", CONFIG_INT, K(argon2_memory_kib), "19456", 19456, 4194304, ""},
    {"argon2_iterations", CONFIG_INT, K(argon2_iterations), "2", 2, 100, ""},
    {"hash_threads", CONFIG_INT, K(hash_threads), "1", 1, 64, "concurrent password hashes"},
    {"catalogue_dir", CONFIG_DIR, K(catalogue_dir), NULL, 0, 0, "permissions/menus/dicts"},
    {"bootstrap_admin_password_file", CONFIG_FILE, K(bootstrap_admin_password_file), "", 0, 0,
     "first administrator's password"},
    CONFIG_END,
};
#undef K

/* The auth service reads its own tables for the data scope of user administration. */
static const struct scope_source auth_scope_source = {"departments", "users", "id"};

struct auth_ctx *auth_of(struct svc *s)
{
    return s->app;
}

long auth_lockout_s(const struct auth_ctx *a)
{
    return a->cfg->lockout_seconds > 0 ? a->cfg->lockout_seconds : a->cfg->lockout_minutes * 60;
}

static void auth_on_key_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tokens_refresh(arg);
}

/* The verifier 'arg' trusts signing key 'key' (a key made just now included). */
static int auth_trust_key(void *arg, const struct jwtv_key *key)
{
    struct jwtv *v = arg;
    for (size_t k = 0; k < v->nkeys; k++) {
        if (strcmp(v->keys[k].kid, key->kid) == 0)
            return 0;
    }
    return jwtv_add_key(v, key->kid, key->pub_pem, NULL);
}

/* ---- the revocation sweep: a job on the main pool, one at a time ---- */

static void auth_sweep_work(void *thread_ctx, void *arg)
{
    (void)arg;
    /* what fails waits for the next sweep; tokens_revoke_pending said why in the log */
    bool done = tokens_revoke_pending(thread_ctx) == 0;
    (void)done;
}

static void auth_sweep_done(void *arg)
{
    struct auth_ctx *a = arg;
    a->revoke_sweeping = false;
}

static void auth_on_revoke_timer(evutil_socket_t fd, short what, void *arg)
{
    struct auth_ctx *a = arg;
    (void)fd;
    (void)what;
    if (a->revoke_sweeping)
        return;
    a->revoke_sweeping = pool_submit(a->svc->pool, auth_sweep_work, auth_sweep_done, a) == 0;
}

static int auth_setup(struct svc *s)
{
    struct auth_ctx *a = xcalloc(1, sizeof(*a));
    char err[512];
    s->app = a;
    a->svc = s;
    a->cfg = s->config;
    if (catalogue_load(a) != 0)
        return -1;
    if (tokens_load_or_create_key(a, s->cfg.jwt_keys_dir, err, sizeof(err)) != 0) {
        log_error(NULL, "config key 'jwt_keys_dir': %s", err);
        return -1;
    }
    if (tokens_each_key(a, auth_trust_key, &s->proc.jwt) != 0 ||
        password_hash(a, "not a password: makes unknown users cost a verification", a->dummy_hash,
                      sizeof(a->dummy_hash)) != 0 ||
        catalogue_seed(a) != 0)
        return -1;
    a->hash_pool = svc_pool_new(s, (int)a->cfg->hash_threads, 64);
    a->password_slots = json_object();
    a->key_timer = event_new(s->base, -1, EV_PERSIST, auth_on_key_timer, a);
    struct timeval ktv = {5, 0};
    event_add(a->key_timer, &ktv);
    a->revoke_timer = event_new(s->base, -1, EV_PERSIST, auth_on_revoke_timer, a);
    struct timeval rtv = {2, 0};
    event_add(a->revoke_timer, &rtv);
    return session_routes(s) || sessions_routes(s) || users_routes(s) || depts_routes(s) ||
                   roles_routes(s) || dicts_routes(s)
               ? -1
               : 0;
}

static void auth_teardown(struct svc *s)
{
    struct auth_ctx *a = s->app;
    if (a == NULL)
        return;
    pool_free(a->hash_pool);
    if (a->key_timer)
        event_free(a->key_timer);
    if (a->revoke_timer)
        event_free(a->revoke_timer);
    tokens_cleanup(a);
    json_decref(a->password_slots);
    catalogue_free(a);
    free(a);
    s->app = NULL;
}

int main(int argc, char **argv)
{
    static const struct svc_def def = {
        .name = "auth",
        .version = CRM_VERSION,
        .setup = auth_setup,
        .teardown = auth_teardown,
        .scope_source = &auth_scope_source,
        .config = auth_config_table,
        .config_size = sizeof(struct auth_config),
    };
    return svc_main(argc, argv, &def);
}
