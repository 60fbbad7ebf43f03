/* SPDX-License-Identifier: Apache-2.0 */
/* consumer: a consumer-group reader of Redis streams that applies each event exactly once.
 *
 * One thread with its own MySQL and Redis connections. On start it re-reads its own pending
 * entries (delivered before a crash, never acknowledged) before new ones; every few seconds it
 * claims entries left pending by a dead consumer (XAUTOCLAIM); an entry that keeps failing is
 * moved to crm:dead:<group>. Applying an event and recording its id are one transaction, and
 * the acknowledgement comes after the commit: a crash between them redelivers an event whose id
 * is already recorded, which is then only acknowledged. */
#include "consumer.h"
#include "crmlog.h"
#include "rds.h"
#include "util.h"

#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct migrate_unit consumer_migration = {
    "processed_events.1",
    /* an event is applied and its id recorded in one transaction, so a redelivered event
     * finds its id here and changes nothing */
    "CREATE TABLE IF NOT EXISTS processed_events ("
    " event_id CHAR(36) NOT NULL PRIMARY KEY,"
    " stream VARCHAR(64) NOT NULL,"
    " stream_entry_id VARCHAR(32) NOT NULL,"
    " processed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

struct consumer {
    struct consumer_config cfg;
    struct consumer_hooks hooks;
    pthread_t thread;
    atomic_bool stopping;
    pthread_mutex_t mu;
    struct consumer_stats stats;
    char dead_stream[96];
};

void consumer_stats(struct consumer *c, struct consumer_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}

static void stat_add(struct consumer *c, uint64_t *field)
{
    pthread_mutex_lock(&c->mu);
    (*field)++;
    pthread_mutex_unlock(&c->mu);
}

static void ensure_groups(struct consumer *c, struct rds *r)
{
    for (size_t i = 0; i < c->cfg.nstreams; i++) {
        redisReply *rep =
            rds_command(r, "XGROUP CREATE %s %s 0 MKSTREAM", c->cfg.streams[i], c->cfg.group);
        if (rep)
            freeReplyObject(rep); /* BUSYGROUP when it exists: fine */
    }
}

static void ack(struct rds *r, const char *stream, const char *group, const char *id)
{
    redisReply *rep = rds_command(r, "XACK %s %s %s", stream, group, id);
    if (rep)
        freeReplyObject(rep);
}

/* How many times the group delivered 'id' (XPENDING); 0 when unknown. */
static long long deliveries(struct rds *r, const char *stream, const char *group, const char *id)
{
    long long n = 0;
    redisReply *rep = rds_command(r, "XPENDING %s %s %s %s 1", stream, group, id, id);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements >= 4)
        n = rep->element[0]->element[3]->integer;
    if (rep)
        freeReplyObject(rep);
    return n;
}

/* Park an entry that cannot be applied in crm:dead:<group> (with why), then acknowledge it. */
static void dead_letter(struct consumer *c, struct rds *r, const char *stream, const char *id,
                        const char *payload, const char *why)
{
    const char *argv[] = {
        "XADD",  c->dead_stream,        "*", "stream", stream, "entry_id", id, "reason", why,
        "event", payload ? payload : ""};
    size_t argl[11];
    for (size_t i = 0; i < 11; i++)
        argl[i] = strlen(argv[i]);
    redisReply *rep = rds_commandv(r, 11, argv, argl);
    bool ok = rep && rep->type == REDIS_REPLY_STRING;
    if (rep)
        freeReplyObject(rep);
    if (!ok)
        return; /* stays pending; tried again later */
    ack(r, stream, c->cfg.group, id);
    stat_add(c, &c->stats.dead);
    log_error(NULL, "event %s of %s moved to %s: %s", id, stream, c->dead_stream, why);
}

static int flush(struct consumer *c, struct db *db)
{
    return c->hooks.flush ? c->hooks.flush(db, c->hooks.arg) : 0;
}

/* Apply one entry (its fields in 'fields', a flat array of name, value). */
static void handle_entry(struct consumer *c, struct db *db, struct rds *r, const char *stream,
                         redisReply *entry, bool fresh)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *id = entry->element[0]->str;
    redisReply *fields = entry->element[1];
    const char *payload = NULL;
    for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2) {
        if (fields->element[i]->str && strcmp(fields->element[i]->str, "event") == 0)
            payload = fields->element[i + 1]->str;
    }
    json_t *ev = payload ? json_loads(payload, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *event_id = json_string_value(json_object_get(ev, "id"));
    if (ev == NULL || event_id == NULL || strlen(event_id) > 36) {
        dead_letter(c, r, stream, id, payload, "not an event envelope");
        json_decref(ev);
        return;
    }
    /* a first delivery cannot have failed before: only redeliveries are counted */
    if (!fresh && deliveries(r, stream, c->cfg.group, id) > c->cfg.max_deliveries) {
        dead_letter(c, r, stream, id, payload, "failed too many times");
        json_decref(ev);
        return;
    }
    struct db_param p[] = {DBP_STR(event_id), DBP_STR(stream), DBP_STR(id)};
    bool applied = false, duplicate = false;
    if (db_begin(db) == 0) {
        if (db_exec(db,
                    "INSERT INTO processed_events (event_id, stream, stream_entry_id)"
                    " VALUES (?,?,?)",
                    p, 3, NULL, NULL) != 0) {
            duplicate = db->last_errno == DB_ER_DUP_ENTRY;
            db_rollback(db);
        } else if (c->hooks.apply(db, stream, id, ev, c->hooks.arg) == 0 && flush(c, db) == 0 &&
                   db_commit(db) == 0) {
            applied = true;
        } else {
            db_rollback(db);
        }
        if (c->hooks.after)
            c->hooks.after(db, c->hooks.arg);
    }
    if (applied || duplicate) {
        ack(r, stream, c->cfg.group, id);
        stat_add(c, applied ? &c->stats.applied : &c->stats.duplicates);
    } else {
        stat_add(c, &c->stats.failures);
        log_warn(NULL, "event %s of %s not applied (%s); it will be retried", id, stream,
                 db->last_error);
    }
    json_decref(ev);
}

/* Handle the entries of an XREADGROUP/XAUTOCLAIM reply: [[stream, [entries]], ...]. */
static size_t handle_read(struct consumer *c, struct db *db, struct rds *r, redisReply *rep,
                          bool fresh)
{
    size_t n = 0;
    for (size_t s = 0; rep && rep->type == REDIS_REPLY_ARRAY && s < rep->elements; s++) {
        redisReply *sr = rep->element[s];
        if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2)
            continue;
        for (size_t e = 0; e < sr->element[1]->elements && !atomic_load(&c->stopping); e++) {
            handle_entry(c, db, r, sr->element[0]->str, sr->element[1]->element[e], fresh);
            n++;
        }
    }
    return n;
}

/* Apply the fresh entries of one stream read in ONE transaction: their ids go to
 * processed_events in a few multi-row INSERTs, 'apply' runs for each, 'flush' writes what they
 * staged, one commit, one XACK of all of them. Per batch that is a handful of round trips
 * instead of a transaction per event. Any failure, a duplicate id included (a redelivery: the
 * multi-row INSERT fails as a whole), rolls the batch back and the entries go through
 * handle_entry one by one, which skips duplicates and finds the entry that fails. */
static void handle_batch(struct consumer *c, struct db *db, struct rds *r, const char *stream,
                         redisReply *entries)
{
    size_t n = entries->elements;
    json_t **evs = xcalloc(n ? n : 1, sizeof(*evs));
    struct db_param *ids = xcalloc(n ? 3 * n : 1, sizeof(*ids));
    bool ok = n > 0;
    for (size_t e = 0; ok && e < n; e++) {
        redisReply *entry = entries->element[e];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
            entry->element[0]->type != REDIS_REPLY_STRING ||
            entry->element[1]->type != REDIS_REPLY_ARRAY) {
            ok = false;
            break;
        }
        redisReply *fields = entry->element[1];
        const char *payload = NULL;
        for (size_t i = 0; i + 1 < fields->elements; i += 2) {
            if (fields->element[i]->str && strcmp(fields->element[i]->str, "event") == 0)
                payload = fields->element[i + 1]->str;
        }
        evs[e] = payload ? json_loads(payload, JSON_REJECT_DUPLICATES, NULL) : NULL;
        const char *event_id = json_string_value(json_object_get(evs[e], "id"));
        if (event_id == NULL || strlen(event_id) > 36) {
            ok = false; /* a malformed entry: the one-by-one path dead-letters it */
            break;
        }
        ids[3 * e] = DBP_STR(event_id);
        ids[3 * e + 1] = DBP_STR(stream);
        ids[3 * e + 2] = DBP_STR(entry->element[0]->str);
    }
    ok = ok && db_begin(db) == 0;
    ok = ok && db_insert_rows(
                   db, "INSERT INTO processed_events (event_id, stream, stream_entry_id) VALUES ",
                   "(?,?,?)", 3, ids, n) == 0;
    for (size_t e = 0; ok && e < n; e++)
        ok = c->hooks.apply(db, stream, entries->element[e]->element[0]->str, evs[e],
                            c->hooks.arg) == 0;
    if (ok && flush(c, db) == 0 && db_commit(db) == 0) {
        if (c->hooks.after)
            c->hooks.after(db, c->hooks.arg);
        const char **argv = xcalloc(n + 3, sizeof(*argv));
        size_t *argl = xcalloc(n + 3, sizeof(*argl));
        argv[0] = "XACK";
        argv[1] = stream;
        argv[2] = c->cfg.group;
        for (size_t e = 0; e < n; e++)
            argv[3 + e] = entries->element[e]->element[0]->str;
        for (size_t i = 0; i < n + 3; i++)
            argl[i] = strlen(argv[i]);
        redisReply *rep = rds_commandv(r, (int)(n + 3), argv, argl);
        if (rep)
            freeReplyObject(rep);
        free(argv);
        free(argl);
        pthread_mutex_lock(&c->mu);
        c->stats.applied += n;
        pthread_mutex_unlock(&c->mu);
    } else {
        if (db->in_tx)
            db_rollback(db);
        if (c->hooks.after)
            c->hooks.after(db, c->hooks.arg);
        for (size_t e = 0; e < n && !atomic_load(&c->stopping); e++)
            handle_entry(c, db, r, stream, entries->element[e], true);
    }
    for (size_t e = 0; e < n; e++)
        json_decref(evs[e]);
    free(evs);
    free(ids);
}

/* XREADGROUP over all streams from 'start' ("0": my pending entries; ">": new ones). */
static redisReply *read_group(struct consumer *c, struct rds *r, const char *start, long block)
{
    const char *argv[8 + 2 * CONSUMER_MAX_STREAMS];
    size_t argl[8 + 2 * CONSUMER_MAX_STREAMS];
    char count[24], blk[24];
    int n = 0;
    snprintf(count, sizeof(count), "%ld", c->cfg.batch);
    snprintf(blk, sizeof(blk), "%ld", block);
    argv[n++] = "XREADGROUP";
    argv[n++] = "GROUP";
    argv[n++] = c->cfg.group;
    argv[n++] = c->cfg.name;
    argv[n++] = "COUNT";
    argv[n++] = count;
    if (block > 0) {
        argv[n++] = "BLOCK";
        argv[n++] = blk;
    }
    argv[n++] = "STREAMS";
    for (size_t i = 0; i < c->cfg.nstreams; i++)
        argv[n++] = c->cfg.streams[i];
    for (size_t i = 0; i < c->cfg.nstreams; i++)
        argv[n++] = start;
    for (int i = 0; i < n; i++)
        argl[i] = strlen(argv[i]);
    return rds_commandv(r, n, argv, argl);
}

/* Take over entries idle at other (dead) consumers. */
static void claim(struct consumer *c, struct db *db, struct rds *r)
{
    char idle[24];
    snprintf(idle, sizeof(idle), "%ld", c->cfg.claim_idle_ms);
    for (size_t i = 0; i < c->cfg.nstreams; i++) {
        redisReply *rep = rds_command(r, "XAUTOCLAIM %s %s %s %s 0-0 COUNT %ld", c->cfg.streams[i],
                                      c->cfg.group, c->cfg.name, idle, c->cfg.batch);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
            rep->element[1]->type == REDIS_REPLY_ARRAY) {
            redisReply *entries = rep->element[1];
            for (size_t e = 0; e < entries->elements; e++) {
                if (entries->element[e]->type != REDIS_REPLY_ARRAY)
                    continue; /* deleted entry */
                stat_add(c, &c->stats.claimed);
                handle_entry(c, db, r, c->cfg.streams[i], entries->element[e], false);
            }
        }
        if (rep)
            freeReplyObject(rep);
    }
}

/*
 * Lag (entries not yet delivered to the group) and pending per stream, for /metrics. Redis
 * 7.0's XINFO lag rests on a counter that goes wrong for good once a group reads after the
 * stream was trimmed past its position (redis#13957: our relay never trims that far, but an
 * operator's XTRIM can), and then it never reads 0 again. The script
 * corrects it: a group that has been delivered the stream's last entry has lag 0 by
 * definition, and its counter is reset to match (XGROUP SETID to the same id, so nothing is
 * redelivered); a lag above the stream's length is capped to it; unknown is -1.
 */
static const char LAG_LUA[] =
    "local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])\n"
    "if not ok then return {-1, 0} end\n"
    "local last, added, len = '', 0, 0\n"
    "for i = 1, #info, 2 do\n"
    "  if info[i] == 'last-generated-id' then last = info[i + 1] end\n"
    "  if info[i] == 'entries-added' then added = info[i + 1] end\n"
    "  if info[i] == 'length' then len = info[i + 1] end\n"
    "end\n"
    "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  if f['name'] == ARGV[1] then\n"
    "    local lag = f['lag']\n"
    "    if f['last-delivered-id'] == last then\n"
    "      if lag ~= 0 then\n"
    "        redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], last, 'ENTRIESREAD', added)\n"
    "      end\n"
    "      lag = 0\n"
    "    elseif not lag then\n"
    "      lag = -1\n"
    "    elseif lag > len then\n"
    "      lag = len\n"
    "    end\n"
    "    return {lag, f['pending']}\n"
    "  end\n"
    "end\n"
    "return {-1, 0}\n";

static void refresh_lag(struct consumer *c, struct rds *r)
{
    for (size_t i = 0; i < c->cfg.nstreams; i++) {
        redisReply *rep =
            rds_command(r, "EVAL %s 1 %s %s", LAG_LUA, c->cfg.streams[i], c->cfg.group);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_INTEGER &&
            rep->element[1]->type == REDIS_REPLY_INTEGER) {
            pthread_mutex_lock(&c->mu);
            c->stats.lag[i] = rep->element[0]->integer;
            c->stats.pending[i] = rep->element[1]->integer;
            pthread_mutex_unlock(&c->mu);
        }
        if (rep)
            freeReplyObject(rep);
    }
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct db db;
    struct rds r;
    mysql_thread_init();
    db_init(&db, c->cfg.db);
    /* the blocking read waits up to 1 s; the socket timeout must be longer */
    rds_init(&r, c->cfg.redis_host, c->cfg.redis_port, c->cfg.redis_timeout_ms + 1500);
    bool groups_ok = false, own_done = false;
    uint64_t last_claim = 0, last_lag = 0, last_own = 0;
    while (!atomic_load(&c->stopping)) {
        if (!groups_ok) {
            ensure_groups(c, &r);
            groups_ok = r.c != NULL;
            if (!groups_ok) {
                pthread_mutex_lock(&c->mu);
                c->stats.redis_ok = false;
                pthread_mutex_unlock(&c->mu);
                usleep(200 * 1000);
                continue;
            }
        }
        uint64_t now = util_now_ms();
        /* my own pending entries first (after a restart), then again every few seconds to
         * retry the ones whose apply failed */
        if (!own_done || now - last_own > 5000) {
            redisReply *rep = read_group(c, &r, "0", 0);
            size_t n = handle_read(c, &db, &r, rep, false);
            if (rep)
                freeReplyObject(rep);
            own_done = rep != NULL && n < (size_t)c->cfg.batch;
            last_own = now;
            if (rep == NULL) {
                groups_ok = false;
                continue;
            }
        }
        if (now - last_claim > (uint64_t)(c->cfg.claim_idle_ms / 2 + 1)) {
            claim(c, &db, &r);
            last_claim = now;
        }
        if (now - last_lag > 1000) {
            refresh_lag(c, &r);
            last_lag = now;
        }
        redisReply *rep = read_group(c, &r, ">", 1000);
        pthread_mutex_lock(&c->mu);
        c->stats.redis_ok = rep != NULL;
        pthread_mutex_unlock(&c->mu);
        if (rep == NULL) {
            groups_ok = false; /* reconnect (with backoff) and re-create groups if needed */
            usleep(100 * 1000);
            continue;
        }
        for (size_t s = 0; rep->type == REDIS_REPLY_ARRAY && s < rep->elements; s++) {
            redisReply *sr = rep->element[s];
            if (sr->type == REDIS_REPLY_ARRAY && sr->elements == 2 &&
                sr->element[1]->type == REDIS_REPLY_ARRAY)
                handle_batch(c, &db, &r, sr->element[0]->str, sr->element[1]);
        }
        freeReplyObject(rep);
    }
    db_cleanup(&db);
    rds_cleanup(&r);
    mysql_thread_end();
    return NULL;
}

struct consumer *consumer_start(const struct consumer_config *cfg,
                                const struct consumer_hooks *hooks)
{
    struct consumer *c = xcalloc(1, sizeof(*c));
    c->cfg = *cfg;
    c->hooks = *hooks;
    snprintf(c->dead_stream, sizeof(c->dead_stream), "crm:dead:%s", cfg->group);
    pthread_mutex_init(&c->mu, NULL);
    c->stats.redis_ok = true;
    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0)
        abort();
    return c;
}

void consumer_stop(struct consumer *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stopping, true);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
