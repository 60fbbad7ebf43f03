/* SPDX-License-Identifier: Apache-2.0 */
/* events: the transactional outbox (write an event with the business rows, in one transaction)
 * and the relay thread that publishes pending rows to the service's Redis stream, in order. */
#include "events.h"
#include "crmlog.h"
#include "rds.h"
#include "util.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RELAY_BATCH       200
#define LEADER_RETRY_MS   1000 /* a standby relay tries for the lead this often */
#define RELAY_PURGE_SLICE 1000
#define TRIM_CALLS        4     /* XTRIM calls of one trim pass */
#define TRIM_EVERY_MS     1000  /* between trim passes */
#define PURGE_EVERY_MS    10000 /* between outbox purges */
#define STAMP_SLICE       50    /* ids per stamping statement: at most DB_MAX_PARAMS */
_Static_assert(STAMP_SLICE <= DB_MAX_PARAMS, "STAMP_SLICE too large");

static void uuid_format(const unsigned char b[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

const struct migrate_unit events_migration = {
    "outbox.1",
    /* business rows and their event are written in one transaction; the relay publishes
     * pending rows to the service stream in id order and stamps published_at */
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " event_id CHAR(36) NOT NULL,"
    " event_type VARCHAR(64) NOT NULL,"
    " envelope LONGTEXT NOT NULL CHECK (JSON_VALID(envelope)),"
    " created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
    " published_at DATETIME(3) NULL,"
    " UNIQUE KEY uq_outbox_event (event_id),"
    " KEY ix_outbox_pending (published_at, id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

const struct migrate_unit events_history_migration = {
    "record_history.1",
    /* one row per event about a record (or a record below it), for its history page */
    "CREATE TABLE IF NOT EXISTS record_history ("
    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " record_type VARCHAR(32) NOT NULL,"
    " record_id BIGINT UNSIGNED NOT NULL,"
    " event_id CHAR(36) NOT NULL,"
    " event_type VARCHAR(64) NOT NULL,"
    " subject_type VARCHAR(32) NOT NULL,"
    " subject_id VARCHAR(64) NOT NULL,"
    " actor_user_id BIGINT UNSIGNED NULL,"
    " data LONGTEXT NOT NULL CHECK (JSON_VALID(data)),"
    " occurred_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
    " KEY ix_record_history (record_type, record_id, id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

/* events_history_enable: written once before the threads start, read-only afterwards */
static const char *history_parent_type, *history_parent_key;

void events_history_enable(const char *parent_type, const char *parent_key)
{
    history_parent_type = parent_type;
    history_parent_key = parent_key;
}

void events_uuid(char out[37])
{
    unsigned char b[16];
    util_random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void events_uuid_v7(char out[37])
{
    unsigned char b[16];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint64_t ms = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
    util_random_bytes(b, sizeof(b));
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

json_t *events_changed(json_t *data, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(data, "changes"), i, c)
    {
        const char *f = json_string_value(json_object_get(c, "field"));
        if (f && strcmp(f, name) == 0)
            return json_object_get(c, "after");
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the outbox: events staged, then written in a few multi-row INSERTs                         */

/* One staged event: its outbox row and, when it has one, its history row. */
struct events_staged {
    char id[37];
    char *type, *envelope;
    bool history;
    const char *rtype; /* history_parent_type or 'stype' */
    long rid, uid;
    char *stype, *sid, *data;
};

void events_batch_init(struct events_batch *b)
{
    memset(b, 0, sizeof(*b));
}

void events_batch_clear(struct events_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct events_staged *e = &b->rows[i];
        free(e->type);
        free(e->envelope);
        free(e->stype);
        free(e->sid);
        free(e->data);
    }
    b->n = 0;
}

void events_batch_cleanup(struct events_batch *b)
{
    events_batch_clear(b);
    free(b->rows);
    memset(b, 0, sizeof(*b));
}

/* The history row of an event (events_history_enable) into 'e': events about no numeric
 * record (a login) have none. */
static void history_stage(struct events_staged *e, const struct events_actor *actor,
                          const char *subject_type, const char *subject_id, json_t *data)
{
    json_t *parent = json_object_get(data, history_parent_key);
    e->rtype = e->stype;
    if (strcmp(subject_type, history_parent_type) != 0 && json_is_integer(parent) &&
        json_integer_value(parent) > 0) {
        e->rtype = history_parent_type;
        e->rid = (long)json_integer_value(parent);
    } else if (util_parse_long(subject_id, 1, (long)(~0UL >> 1), &e->rid) != 0) {
        return;
    }
    if (actor == NULL || actor->user_id == NULL ||
        util_parse_long(actor->user_id, 1, (long)(~0UL >> 1), &e->uid) != 0)
        e->uid = 0;
    e->data = json_dumps(data, JSON_COMPACT);
    e->history = true;
}

int events_batch_add(struct events_batch *b, const char *producer, const char *type,
                     const struct events_actor *actor, const char *subject_type,
                     const char *subject_id, json_t *data, const char *request_id,
                     char event_id[37])
{
    char ts[80];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->rows = xrealloc(b->rows, b->cap * sizeof(*b->rows));
    }
    struct events_staged *e = &b->rows[b->n];
    memset(e, 0, sizeof(*e));
    events_uuid_v7(e->id);
    if (data == NULL)
        data = json_object();
    e->type = xstrdup(type);
    e->stype = xstrdup(subject_type);
    e->sid = xstrdup(subject_id);
    if (history_parent_type)
        history_stage(e, actor, subject_type, subject_id, data);
    json_t *env = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:{s:s?, s:s?}, s:{s:s, s:s}, s:o, s:s?}", "id", e->id, "type",
        type, "version", EVENTS_ENVELOPE_VERSION, "occurred_at", ts, "producer", producer, "actor",
        "user_id", actor ? actor->user_id : NULL, "ip", actor ? actor->ip : NULL, "subject", "type",
        subject_type, "id", subject_id, "data", data, "request_id", request_id);
    e->envelope = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    b->n++; /* cleared with the rest, written or not */
    if (e->envelope == NULL || (e->history && e->data == NULL))
        return -1;
    if (event_id)
        memcpy(event_id, e->id, 37);
    return 0;
}

int events_batch_write(struct db *db, struct events_batch *b)
{
    size_t nh = 0;
    int rc = -1;
    struct db_param *hp = xcalloc(b->n ? 8 * b->n : 1, sizeof(*hp));
    struct db_param *op = xcalloc(b->n ? 3 * b->n : 1, sizeof(*op));
    for (size_t i = 0; i < b->n; i++) {
        struct events_staged *e = &b->rows[i];
        if (e->history) {
            struct db_param *h = &hp[8 * nh++];
            h[0] = DBP_STR(e->rtype);
            h[1] = DBP_INT(e->rid);
            h[2] = DBP_STR(e->id);
            h[3] = DBP_STR(e->type);
            h[4] = DBP_STR(e->stype);
            h[5] = DBP_STR(e->sid);
            h[6] = e->uid ? DBP_INT(e->uid) : DBP_NULL;
            h[7] = DBP_STR(e->data);
        }
        op[3 * i] = DBP_STR(e->id);
        op[3 * i + 1] = DBP_STR(e->type);
        op[3 * i + 2] = DBP_STR(e->envelope);
    }
    if (nh && db_insert_rows(db,
                             "INSERT INTO record_history (record_type, record_id, event_id,"
                             " event_type, subject_type, subject_id, actor_user_id, data) VALUES ",
                             "(?,?,?,?,?,?,?,?)", 8, hp, nh) != 0)
        goto out;
    if (b->n && db_insert_rows(db, "INSERT INTO outbox (event_id, event_type, envelope) VALUES ",
                               "(?,?,?)", 3, op, b->n) != 0)
        goto out;
    rc = 0;
out:
    free(hp);
    free(op);
    events_batch_clear(b);
    return rc;
}

int events_outbox_add(struct db *db, const char *producer, const char *type,
                      const struct events_actor *actor, const char *subject_type,
                      const char *subject_id, json_t *data, const char *request_id,
                      char event_id[37])
{
    struct events_batch b;
    events_batch_init(&b);
    int rc = events_batch_add(&b, producer, type, actor, subject_type, subject_id, data, request_id,
                              event_id) == 0 &&
                     events_batch_write(db, &b) == 0
                 ? 0
                 : -1;
    events_batch_cleanup(&b);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* relay                                                                                       */

struct events_relay {
    struct events_relay_config cfg;
    char stream[96];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
    bool stopping;
    atomic_long backlog;
    atomic_bool redis_ok;
    atomic_ullong published;
    atomic_ullong purged;
    uint64_t last_trim_ms, last_purge_ms, trim_warned_ms;
    atomic_bool leader;        /* holds the relay lock: publishes */
    unsigned long lock_conn;   /* the connection (session) that holds it */
    uint64_t next_lead_try_ms; /* a standby's next try */
    char lock_name[96];
    char stamp_sql[64 + 2 * STAMP_SLICE]; /* UPDATE ... WHERE id IN (?,?,...) */
};

void events_relay_wake(struct events_relay *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->woken = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

long events_relay_backlog(struct events_relay *r)
{
    return r ? atomic_load(&r->backlog) : 0;
}

bool events_relay_leader(struct events_relay *r)
{
    return r ? atomic_load(&r->leader) : false;
}

uint64_t events_relay_published(struct events_relay *r)
{
    return r ? atomic_load(&r->published) : 0;
}

uint64_t events_relay_purged(struct events_relay *r)
{
    return r ? atomic_load(&r->purged) : 0;
}

const char EVENTS_TRIM_LUA[] =
    "local above, chunk = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "if redis.call('XLEN', KEYS[1]) <= above then return 0 end\n"
    "local function before(a, b)\n"
    "  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
    "  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
    "  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n"
    "  return am < bm or (am == bm and as < bs)\n"
    "end\n"
    "local min = nil\n"
    "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  local need = f['last-delivered-id']\n"
    "  local p = redis.call('XPENDING', KEYS[1], f['name'])\n"
    "  if p[2] then need = p[2] end\n"
    "  if min == nil or before(need, min) then min = need end\n"
    "end\n"
    "if min == nil then return 0 end\n"
    "return redis.call('XTRIM', KEYS[1], 'MINID', '~', min, 'LIMIT', chunk)\n";

/* A trim pass: up to TRIM_CALLS calls of the script, each a separate command, so other clients
 * are served between them. A single pass that removed ~100,000 entries (10 calls of 10,000,
 * ~10 ms of Redis each) kept this relay from publishing for ~100 ms; passes come every
 * TRIM_EVERY_MS, so the stream is trimmed faster than the services write and never by much at
 * once. */
static void relay_trim(struct events_relay *r, struct rds *rds)
{
    for (int i = 0; i < TRIM_CALLS; i++) {
        redisReply *t = rds_command(rds, "EVAL %s 1 %s %ld %d", EVENTS_TRIM_LUA, r->stream,
                                    r->cfg.trim_above, EVENTS_TRIM_CHUNK);
        bool more = t && t->type == REDIS_REPLY_INTEGER && t->integer >= EVENTS_TRIM_CHUNK;
        if (t && t->type == REDIS_REPLY_ERROR && util_now_ms() - r->trim_warned_ms >= 60000) {
            log_warn(NULL, "trimming %s: %s", r->stream, t->str); /* at most a line a minute */
            r->trim_warned_ms = util_now_ms();
        }
        if (t)
            freeReplyObject(t);
        if (!more)
            break;
    }
}

/* Publish one batch; returns rows published, 0 when nothing is pending, -1 on failure.
 * The XADDs of a batch go to Redis in one pipelined write; the rows whose XADD succeeded (a
 * prefix of the batch, so the stream keeps the outbox order) are then stamped by one UPDATE.
 * A crash between the XADDs and the stamp publishes them again: duplicates, which consumers
 * drop by event id; never a loss. */
static int relay_batch(struct events_relay *r, struct db *db, struct rds *rds)
{
    json_t *rows = NULL;
    struct db_param lim[] = {DBP_INT(RELAY_BATCH)};
    if (db_query(db,
                 "SELECT id, envelope FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?",
                 lim, 1, &rows) != 0)
        return -1;
    /* that query may have reconnected silently (outside a transaction db_run does): a new
     * session does not hold the relay lock, so publish nothing until the lead is won again */
    if (db->mysql == NULL || mysql_thread_id(db->mysql) != r->lock_conn) {
        json_decref(rows);
        return -1;
    }
    size_t n = json_array_size(rows);
    atomic_store(&r->backlog, (long)n);
    if (n == 0) {
        json_decref(rows);
        return 0;
    }
    size_t queued = 0, published = 0;
    for (; queued < n; queued++) {
        const char *env =
            json_string_value(json_object_get(json_array_get(rows, queued), "envelope"));
        const char *argv[] = {"XADD", r->stream, "*", "event", env ? env : "{}"};
        size_t argl[] = {4, strlen(r->stream), 1, 5, strlen(argv[4])};
        if (rds_append(rds, 5, argv, argl) != 0)
            break;
    }
    for (size_t i = 0; i < queued; i++) {
        redisReply *rep = rds_reply(rds);
        if (rep && rep->type == REDIS_REPLY_STRING && published == i)
            published++;
        if (rep)
            freeReplyObject(rep);
    }
    atomic_store(&r->redis_ok, queued == n && published == n);
    /* The stamps go in slices of STAMP_SLICE ids, one statement text for any slice (unused
     * places repeat the slice's first id), all in one transaction: one log flush per batch. */
    long long ids[RELAY_BATCH];
    for (size_t i = 0; i < published; i++)
        ids[i] = json_integer_value(json_object_get(json_array_get(rows, i), "id"));
    json_decref(rows);
    /* one slice is one statement: autocommit; more go in one transaction */
    bool tx = published > STAMP_SLICE;
    if (published == 0 || (tx && db_begin(db) != 0))
        return -1;
    for (size_t at = 0; at < published; at += STAMP_SLICE) {
        struct db_param p[STAMP_SLICE];
        for (size_t k = 0; k < STAMP_SLICE; k++)
            p[k] = DBP_INT(ids[at + k < published ? at + k : at]);
        if (db_exec(db, r->stamp_sql, p, STAMP_SLICE, NULL, NULL) != 0) {
            log_warn(NULL, "outbox: cannot mark published rows: %s", db->last_error);
            if (tx)
                db_rollback(db);
            return -1;
        }
    }
    if (tx && db_commit(db) != 0)
        return -1;
    long backlog = (long)(n - published);
    if (n == RELAY_BATCH) { /* more may wait than one batch holds: count them */
        json_t *cnt = NULL;
        if (db_query(db, "SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL", NULL, 0,
                     &cnt) == 0)
            backlog = (long)json_integer_value(json_object_get(json_array_get(cnt, 0), "n"));
        json_decref(cnt);
    }
    atomic_store(&r->backlog, backlog);
    atomic_fetch_add(&r->published, (unsigned long long)published);
    return published == n ? (int)published : -1;
}

/* Delete published rows older than the configured retention, a slice at a time (short
 * transactions, the relay stays responsive). Unpublished rows are never touched. */
static void relay_purge(struct events_relay *r, struct db *db)
{
    if (r->cfg.keep_hours <= 0)
        return;
    struct db_param p[] = {DBP_INT(r->cfg.keep_hours), DBP_INT(RELAY_PURGE_SLICE)};
    uint64_t affected = RELAY_PURGE_SLICE;
    for (int slices = 0; slices < 50 && affected == RELAY_PURGE_SLICE; slices++) {
        affected = 0;
        if (db_exec(db,
                    "DELETE FROM outbox WHERE published_at IS NOT NULL"
                    " AND published_at < NOW(3) - INTERVAL ? HOUR ORDER BY published_at LIMIT ?",
                    p, 2, &affected, NULL) != 0)
            return;
        atomic_fetch_add(&r->purged, affected);
    }
}

/*
 * One relay of a service publishes at a time (two instances side by side would both publish
 * every row): the leader holds the named lock crm.<producer>.relay on its own session. A
 * standby tries again every LEADER_RETRY_MS; a killed leader's session ends, MariaDB frees its
 * lock, and a standby takes over within that interval. A reconnect is a new session that does
 * not hold the lock: the relay notices by the connection id and competes again. True while this
 * relay leads.
 */
static bool relay_lead(struct events_relay *r, struct db *db)
{
    bool was = atomic_load(&r->leader);
    if (was && db->mysql && mysql_thread_id(db->mysql) == r->lock_conn)
        return true;
    if (was) {
        log_warn(NULL, "relay of %s: lost its session and the lead; competing again", r->stream);
        atomic_store(&r->leader, false);
    }
    uint64_t now = util_now_ms();
    if (now < r->next_lead_try_ms)
        return false;
    r->next_lead_try_ms = now + LEADER_RETRY_MS;
    json_t *row = NULL;
    if (db_query_one(db, "SELECT GET_LOCK(?, 0) AS got", &DBP_STR(r->lock_name), 1, &row) != 0)
        return false;
    bool got = json_integer_value(json_object_get(row, "got")) == 1;
    json_decref(row);
    if (got) {
        r->lock_conn = mysql_thread_id(db->mysql);
        atomic_store(&r->leader, true);
        log_info(NULL, "relay of %s: leading (lock %s)", r->stream, r->lock_name);
    }
    return got;
}

static void *relay_main(void *arg)
{
    struct events_relay *r = arg;
    struct db db;
    struct rds rds;
    mysql_thread_init();
    db_init(&db, r->cfg.db);
    rds_init(&rds, r->cfg.redis_host, r->cfg.redis_port, r->cfg.redis_timeout_ms);
    long wait_ms = 0;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (!r->woken && !r->stopping && wait_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        bool stopping = r->stopping;
        r->woken = false;
        pthread_mutex_unlock(&r->mu);

        if (!relay_lead(r, &db)) {
            if (stopping)
                break;
            /* A standby only tries for the lead, when its next try is due. Waiting a whole
             * interval from here would let each commit's wake-up (this instance takes writes
             * too) put the try off again: a takeover took up to two intervals. */
            uint64_t now = util_now_ms();
            wait_ms = r->next_lead_try_ms > now ? (long)(r->next_lead_try_ms - now) : 1;
            continue;
        }
        /* Go on while batches come back full; after a partial one the outbox was drained up
         * to what had committed, and a commit since then has set 'woken' (no wait below). */
        int rc;
        while ((rc = relay_batch(r, &db, &rds)) == RELAY_BATCH)
            ;
        if (rc >= 0 && atomic_load(&r->redis_ok) &&
            util_now_ms() - r->last_trim_ms > TRIM_EVERY_MS) {
            relay_trim(r, &rds);
            r->last_trim_ms = util_now_ms();
        }
        if (rc >= 0 && util_now_ms() - r->last_purge_ms > PURGE_EVERY_MS) {
            relay_purge(r, &db);
            r->last_purge_ms = util_now_ms();
        }
        if (stopping)
            break;
        /* after a failure retry soon, otherwise sleep until woken */
        wait_ms = rc < 0 ? 500 : r->cfg.idle_poll_ms;
    }
    db_cleanup(&db);
    rds_cleanup(&rds);
    mysql_thread_end();
    return NULL;
}

struct events_relay *events_relay_start(const struct events_relay_config *cfg)
{
    struct events_relay *r = xcalloc(1, sizeof(*r));
    r->cfg = *cfg;
    snprintf(r->stream, sizeof(r->stream), "crm:stream:%s", cfg->producer);
    snprintf(r->lock_name, sizeof(r->lock_name), "crm.%s.relay", cfg->producer);
    size_t at = (size_t)snprintf(r->stamp_sql, sizeof(r->stamp_sql),
                                 "UPDATE outbox SET published_at = NOW(3) WHERE id IN (?");
    for (int i = 1; i < STAMP_SLICE; i++)
        at += (size_t)snprintf(r->stamp_sql + at, sizeof(r->stamp_sql) - at, ",?");
    snprintf(r->stamp_sql + at, sizeof(r->stamp_sql) - at, ")");
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    atomic_store(&r->redis_ok, true);
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0)
        abort();
    return r;
}

void events_relay_stop(struct events_relay *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
