/* SPDX-License-Identifier: Apache-2.0 */
/* rds: a synchronous Redis connection with timeouts on every command and reconnect backoff. */
#ifndef CRM_RDS_H
#define CRM_RDS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

struct rds {
    redisContext *c;
    char host[64];
    int port;
    int timeout_ms;
    uint64_t next_try_ms;
    int backoff_ms;
};

/*
 * Who this process is at Redis: the ACL user 'user' with the password in 'password_file' (its
 * trailing newline cut). Set once by proc_start, before any connection or thread, and read-only
 * afterwards: like the log's service name it is the process's identity, not state, so it is not
 * threaded through every connection's config. Every connection (rds, the revocation feed, the
 * gateway's operation log) then starts with AUTH. An empty 'user' keeps the default user (no
 * AUTH). 0 or -1 (said, naming the config key).
 */
int rds_identity_load(const char *user, const char *password_file)
    __attribute__((warn_unused_result));

/* Queue AUTH as the first command of the new async connection 'ac' (hiredis sends queued
 * commands in order once connected); nothing without an identity. A refused AUTH is logged,
 * and the commands after it fail with NOAUTH. */
struct redisAsyncContext;
void rds_async_auth(struct redisAsyncContext *ac);

void rds_init(struct rds *r, const char *host, int port, int timeout_ms);
void rds_cleanup(struct rds *r);

/* Run a command (printf-style as hiredis). Connects when needed, waiting out the backoff after
 * a failure (returns NULL meanwhile). A transport error drops the link for a later reconnect;
 * a link Redis closed (restart, CLIENT KILL, idle timeout) is replaced at once and the command
 * sent again, once.
 * The caller frees the reply with freeReplyObject. */
redisReply *rds_command(struct rds *r, const char *fmt, ...);
redisReply *rds_commandv(struct rds *r, int argc, const char **argv, const size_t *argvlen);

/* Pipelining: queue commands with rds_append (nothing is sent yet), then read one reply per
 * queued command, in order, with rds_reply (the first call sends them all in one write). After
 * a transport failure rds_reply returns NULL for this and the remaining replies. rds_append
 * fails (-1) while Redis is in its reconnect backoff. */
int rds_append(struct rds *r, int argc, const char **argv, const size_t *argvlen);
redisReply *rds_reply(struct rds *r);

/* PING; true when Redis answered PONG. */
bool rds_ping(struct rds *r);

#endif
