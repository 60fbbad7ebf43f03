/* SPDX-License-Identifier: Apache-2.0 */
/* proc: start-up and tear-down of every C process (see proc.h). */
#include "proc.h"
#include "crmlog.h"
#include "metrics.h"
#include "rds.h"
#include "revoke.h"
#include "util.h"

#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int proc_args(int argc, char **argv, const char **config_path, bool *check_only)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            *config_path = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0)
            *check_only = true;
        else {
            fprintf(stderr, "usage: %s --config FILE [--check-config]\n", argv[0]);
            return -1;
        }
    }
    return 0;
}

int proc_start(struct proc *p, const struct proc_spec *spec, int argc, char **argv, http_pre_fn pre,
               http_done_fn done, void *hook_arg)
{
    const char *config_path = NULL;
    char err[512];
    enum crmlog_level lvl;

    memset(p, 0, sizeof(*p));
    p->spec = spec;
    if (proc_args(argc, argv, &config_path, &p->check_only) != 0)
        return 2;
    crmlog_init(spec->name, CRMLOG_INFO);
    if (config_loadv(spec->tables, spec->targets, config_path, err, sizeof(err)) != 0) {
        log_error(NULL, "%s", err);
        return 2;
    }
    if (crmlog_parse_level(*spec->log_level, &lvl) != 0) {
        log_error(NULL, "config key 'log_level': '%s' is not debug, info, warn or error",
                  *spec->log_level);
        return 2;
    }
    crmlog_init(spec->name, lvl);
    if (rds_identity_load(*spec->redis_user, *spec->redis_password_file) != 0)
        return 2;
    jwtv_init(&p->jwt, *spec->jwt_issuer, *spec->jwt_audience, spec->jwt_cache);
    p->nkeys = jwtv_load_dir(&p->jwt, *spec->jwt_dir, false, err, sizeof(err));
    if (p->nkeys < 0) {
        log_error(NULL, "config key 'jwt_keys_dir': %s", err);
        return 2;
    }
    if (proof_key_load(&p->proof_key, "proxy_secret_file", spec->http_cfg->proxy_secret_file, err,
                       sizeof(err)) != 0) {
        log_error(NULL, "%s", err);
        return 2;
    }
    if (p->check_only)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    p->base = event_base_new();
    p->started_at = util_wall_s();
    router_init(&p->router);
    p->metrics = metrics_new(spec->name);
    struct http_limits lim;
    http_limits_from_config(spec->http_cfg, &lim);
    lim.proof_key = spec->makes_proofs ? NULL : &p->proof_key;
    p->http = http_server_new(p->base, spec->name, &lim, &p->router, p->metrics);
    http_server_set_hooks(p->http, pre, done, hook_arg);
    return 0;
}

void proc_revocations(struct proc *p, const char *host, int port)
{
    p->revoke = revoke_new(p->base, host, port);
}

void proc_refresh_keys(struct proc *p)
{
    int changed = jwtv_refresh_dir(&p->jwt, *p->spec->jwt_dir, false, &p->keys_mtime);
    if (changed > 0)
        log_info(NULL,
                 "key directory changed: %d verification key(s) added or dropped, %zu trusted",
                 changed, p->jwt.nkeys);
}

int proc_listen(struct proc *p, const struct config_addr *addr, SSL_CTX *ssl)
{
    return http_server_listen(p->http, addr, ssl);
}

static void proc_on_drained(void *arg)
{
    struct proc *p = arg;
    log_info(NULL, "drained; stopping");
    event_base_loopexit(p->base, NULL);
}

static void proc_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct proc *p = arg;
    (void)what;
    log_info(NULL, "signal %d: draining", (int)sig);
    if (p->on_signal)
        p->on_signal(p, p->arg);
    http_server_drain(p->http, proc_on_drained, p);
}

void proc_run(struct proc *p)
{
    p->sig_term = evsignal_new(p->base, SIGTERM, proc_on_signal, p);
    p->sig_int = evsignal_new(p->base, SIGINT, proc_on_signal, p);
    event_add(p->sig_term, NULL);
    event_add(p->sig_int, NULL);
    event_base_dispatch(p->base);
}

void proc_close_http(struct proc *p)
{
    if (p->http)
        http_server_free(p->http);
    p->http = NULL;
}

void proc_stop(struct proc *p)
{
    const struct proc_spec *spec = p->spec;
    revoke_free(p->revoke);
    proc_close_http(p);
    if (p->sig_term)
        event_free(p->sig_term);
    if (p->sig_int)
        event_free(p->sig_int);
    if (p->metrics)
        metrics_free(p->metrics);
    if (p->base)
        router_cleanup(&p->router);
    jwtv_cleanup(&p->jwt);
    if (p->base)
        event_base_free(p->base);
    for (size_t i = 0; spec && spec->tables[i]; i++)
        config_free(spec->tables[i], spec->targets[i]);
    memset(p, 0, sizeof(*p));
}
