/* SPDX-License-Identifier: Apache-2.0 */
/* proc: the start-up and tear-down every C process shares, the gateway and each service alike:
 * arguments, config tables, the log level, the JWT verifier with its key directory, the event
 * base with router, metrics and HTTP server, the revocation set, draining on SIGTERM/SIGINT,
 * and all of it undone in reverse at the end. */
#ifndef CRM_PROC_H
#define CRM_PROC_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "jwtv.h"
#include "proof.h"
#include "router.h"

struct revoke;
struct metrics;

/* What a process is made of; the pointers name fields of its loaded config blocks. */
struct proc_spec {
    const char *name;
    const struct config_entry *const *tables; /* NULL-terminated, with 'targets' beside them */
    void *const *targets;
    char *const *log_level; /* "debug", "info", "warn" or "error" */
    char *const *jwt_dir, *const *jwt_issuer, *const *jwt_audience;
    size_t jwt_cache;                                     /* verified tokens kept */
    char *const *redis_user, *const *redis_password_file; /* this process's Redis ACL user */
    const struct http_config *http_cfg;
    bool makes_proofs; /* the gateway: it signs with proxy_secret_file and believes no proof */
};

struct proc {
    const struct proc_spec *spec;
    bool check_only; /* --check-config: the caller checks what it must, says so and stops */
    int nkeys;       /* verification keys loaded at start */
    int64_t started_at;
    struct event_base *base;
    struct router router;
    struct metrics *metrics;
    struct http_server *http;
    struct jwtv jwt;
    struct proof_key proof_key; /* from proxy_secret_file (len 0: none) */
    struct revoke *revoke;
    long long keys_mtime; /* of the key directory when last read */
    struct event *sig_term, *sig_int;
    /* called on the loop when a signal starts the drain (may be NULL) */
    void (*on_signal)(struct proc *p, void *arg);
    void *arg;
};

/*
 * Parse 'argv' (--config FILE, --check-config), load the config tables, set the log level, and
 * load the JWT keys. Unless checking only, make the event base, the router, the metrics and the
 * HTTP server with hooks 'pre'/'done' (their arg 'hook_arg'). Returns 0, or 2 (usage or a bad
 * config value, already said in the log). proc_stop undoes whatever was done.
 */
int proc_start(struct proc *p, const struct proc_spec *spec, int argc, char **argv, http_pre_fn pre,
               http_done_fn done, void *hook_arg) __attribute__((warn_unused_result));

/* The revocation set kept current from Redis at 'host':'port' (after proc_start). */
void proc_revocations(struct proc *p, const char *host, int port);

/* Trust exactly the keys of the key directory: added ones verify, removed ones stop (one stat
 * when nothing changed); from a timer. */
void proc_refresh_keys(struct proc *p);

/* Listen on 'addr' (TLS with 'ssl'); 0 or -1. */
int proc_listen(struct proc *p, const struct config_addr *addr, SSL_CTX *ssl)
    __attribute__((warn_unused_result));

/* Run the loop until a signal has drained the HTTP server. */
void proc_run(struct proc *p);

/* Close the HTTP server and its connections now (the gateway does before freeing its upstream
 * pools; a service frees its workers first, whose completions still reply through it). */
void proc_close_http(struct proc *p);

/* Undo proc_start and what came after it, the config blocks included (the HTTP server too, when
 * still open). The caller frees its own parts first; the event base goes last. */
void proc_stop(struct proc *p);

#endif
