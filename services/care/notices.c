/* SPDX-License-Identifier: Apache-2.0 */
/* notices: the bell's notices (通知) of each user: made from events and care tasks, listed and
 * marked read over the API, and pushed to the user's open server-sent-event streams.
 *
 * How a notice reaches an open stream: whoever writes notices (the consumer thread, a care
 * task's thread, any worker) takes the next value of the notice clock (notice_clock) in its own
 * transaction and stamps the notice with it (seq). The clock row stays locked until that
 * transaction ends, so values become visible in order: once a reader sees seq N, every smaller
 * value is committed or rolled back. The loop keeps each open stream's last seq and, once a
 * second while streams are open (and at once after notices_committed), one worker reads the
 * notices with seq above the smallest of them (one indexed range read for all streams,
 * whatever their number) and the loop writes each to its user's streams. Chosen over an
 * in-process pub/sub because a notice may be written by any thread or by another instance of
 * the service (the consumer group hands an event to one instance, the user's stream may be on
 * another), and a commit is not a moment the writer can announce from inside the consumer's
 * transaction; the poll costs one cheap query a second per process, not per stream, and the
 * wake-up makes a transfer's notice arrive in tens of milliseconds after the consumer commits.
 *
 * The process's notices are one context ('notices_ctx'), set by notices_routes: notice_add
 * and notices_consume are called with a database handle only, from threads that hold no
 * service context, and a wake-up needs the loop's event. */
#include "notices.h"
#include "crmlog.h"
#include "jsonv.h"
#include "kit.h"
#include "listq.h"
#include "util.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE_TRANSFER_STREAM "crm:stream:transfer"
#define NOTICE_POLL_MS         1000
#define NOTICE_HEARTBEAT_S     15
#define NOTICE_POLL_BATCH      200 /* rows a poll reads; a full batch polls again at once */
#define NOTICE_CATCHUP_MAX     100 /* notices a resumed stream is sent of what it missed */
#define NOTICE_RETRY_MS        "3000"

/* What a notice shows (its columns in every query). */
#define NOTICE_COLS                                                                                \
    "n.id, n.user_id, n.kind, n.title, n.body, n.link, n.data, n.seq, n.created_at, "              \
    "n.updated_at, n.read_at"

struct notice_stream {
    struct notices *n;
    struct http_stream *st;
    long long user_id;
    long long last; /* seq: every notice up to it was sent, or is not this user's */
    struct notice_stream *prev, *next;
};

struct notices {
    struct svc *svc;
    struct event *poll_ev; /* every NOTICE_POLL_MS, and made active by notices_committed */
    struct event *beat_ev; /* heartbeat comments on every stream */
    struct notice_stream *streams;
    long nstreams;
    bool polling; /* a poll is on a worker */
    bool again;   /* poll again when it is back */
};

static struct notices *notices_ctx;

/* ------------------------------------------------------------------------------------------ */
/* rows                                                                                        */

/* The caller's user id (the token's subject); 0 when it is not a number. */
static long long caller_id(const struct http_request *req)
{
    const struct svc_identity *id = svc_identity(req);
    long v = 0;
    if (id == NULL || util_parse_long(id->user_id, 1, KIT_ID_MAX, &v) != 0)
        return 0;
    return v;
}

/* A notice row as the API shows it, in place: data as an object, "read" beside read_at. */
static json_t *notice_json(json_t *row)
{
    json_t *data = json_object_get(row, "data");
    if (json_is_string(data)) {
        json_t *obj = json_loads(json_string_value(data), 0, NULL);
        json_object_set_new(row, "data", json_is_object(obj) ? obj : json_object());
        if (obj && !json_is_object(obj))
            json_decref(obj);
    }
    json_t *read_at = json_object_get(row, "read_at");
    json_object_set_new(row, "read", json_boolean(read_at != NULL && !json_is_null(read_at)));
    return row;
}

static long long data_int(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);
    long id = 0;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v) && util_parse_long(json_string_value(v), 0, KIT_ID_MAX, &id) == 0)
        return id;
    return 0;
}

static const char *data_str(json_t *data, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(data, key));
    return s ? s : dflt;
}

/* The short English title of a notice of 'kind' with 'data' (for API users; the console makes
 * its own text from kind and data) into 'out'. */
static void notice_title(const char *kind, json_t *data, char *out, size_t len)
{
    long long count = data_int(data, "count");
    if (strcmp(kind, NOTICE_CUSTOMER_MOVED) == 0 && count > 1)
        snprintf(out, len, "%lld customers were moved to you", count);
    else if (strcmp(kind, NOTICE_CUSTOMER_MOVED) == 0)
        snprintf(out, len, "Customer %s was moved to you", data_str(data, "customer_name", ""));
    else if (strcmp(kind, NOTICE_HANDOVER_FINISHED) == 0)
        snprintf(out, len, "Hand-over finished: %lld of %lld customers moved",
                 data_int(data, "done"), data_int(data, "total"));
    else if (strcmp(kind, NOTICE_CARE_DUE) == 0)
        snprintf(out, len, "Care task due: %s",
                 data_str(data, "title", data_str(data, "customer_name", "")));
    else
        snprintf(out, len, "%s", kind);
}

/* Cut 's' to at most 'max' bytes on a UTF-8 character boundary (VARCHAR(200) counts
 * characters, so bytes are a safe bound). */
static void utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

/* The next value of the notice clock, taken under its row lock held to the end of the open
 * transaction (see the top of the file). 0 or -1. */
static int clock_next(struct db *db, long long *seq)
{
    json_t *row = NULL;
    if (db_exec(db, "UPDATE notice_clock SET seq = LAST_INSERT_ID(seq + 1) WHERE id = 1", NULL, 0,
                NULL, NULL) != 0 ||
        db_query_one(db, "SELECT LAST_INSERT_ID() AS seq", NULL, 0, &row) != 0)
        return -1;
    *seq = (long long)json_integer_value(json_object_get(row, "seq"));
    json_decref(row);
    return *seq > 0 ? 0 : -1;
}

/*
 * Write a notice of 'kind' for 'user_id', inside the open transaction. With 'group_key' the
 * notice of (user, kind, group_key) grows when it exists: 'grow' (may be NULL) makes the new
 * data from the old (borrowed) and 'data' (borrowed), and the notice is unread again. 0 or -1.
 */
static int notice_put(struct db *db, long long user_id, const char *kind, const char *group_key,
                      json_t *data, const char *link, json_t *(*grow)(json_t *old, json_t *data),
                      const char *(*grown_link)(json_t *data, char *buf, size_t len))
{
    json_t *row = NULL, *merged = NULL;
    char *text = NULL;
    char title[256], linkbuf[128];
    long long seq = 0;
    int rc = -1;

    if (clock_next(db, &seq) != 0)
        goto out;
    if (group_key) {
        struct db_param k[] = {DBP_INT(user_id), DBP_STR(kind), DBP_STR(group_key)};
        if (db_query_one(db,
                         "SELECT id, data FROM notices WHERE user_id = ? AND kind = ? AND "
                         "group_key = ? FOR UPDATE",
                         k, 3, &row) != 0)
            goto out;
    }
    if (row) {
        json_t *old = json_loads(data_str(row, "data", "{}"), 0, NULL);
        merged = grow ? grow(old, data) : json_incref(data);
        json_decref(old);
        notice_title(kind, merged, title, sizeof(title));
        utf8_cut(title, 200);
        text = json_dumps(merged, JSON_COMPACT);
        if (text == NULL)
            goto out;
        const char *l = grown_link ? grown_link(merged, linkbuf, sizeof(linkbuf)) : link;
        struct db_param p[] = {DBP_STR(title), DBP_STR(text), l ? DBP_STR(l) : DBP_NULL,
                               DBP_INT(seq), DBP_INT(data_int(row, "id"))};
        if (db_exec(db,
                    "UPDATE notices SET title = ?, data = ?, link = ?, seq = ?, "
                    "updated_at = NOW(3), read_at = NULL WHERE id = ?",
                    p, 5, NULL, NULL) != 0)
            goto out;
        rc = 0;
        goto out;
    }
    notice_title(kind, data, title, sizeof(title));
    utf8_cut(title, 200);
    text = json_dumps(data, JSON_COMPACT);
    if (text == NULL)
        goto out;
    struct db_param p[] = {DBP_INT(seq),
                           DBP_INT(user_id),
                           DBP_STR(kind),
                           group_key ? DBP_STR(group_key) : DBP_NULL,
                           DBP_STR(title),
                           DBP_STR(text),
                           link ? DBP_STR(link) : DBP_NULL,
                           DBP_INT(seq)};
    if (db_exec(db,
                "INSERT INTO notices (id, user_id, kind, group_key, title, data, link, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                p, 8, NULL, NULL) != 0)
        goto out;
    rc = 0;
out:
    free(text);
    json_decref(row);
    json_decref(merged);
    return rc;
}

/* One more of a grouped notice: the latest 'data' with the count of the old one plus one (a
 * further customer of a transfer to the same receiver is the one named). */
static json_t *count_grow(json_t *old, json_t *data)
{
    json_t *m = json_deep_copy(data);
    long long count = json_is_object(old) ? data_int(old, "count") : 0;
    json_object_set_new(m, "count", json_integer(count + 1));
    return m;
}

int notice_bump(struct db *db, long long user_id, const char *kind, const char *group_key,
                json_t *data, const char *link)
{
    if (user_id <= 0 || kind == NULL || kind[0] == '\0' || strlen(kind) > 32 ||
        !json_is_object(data) || group_key == NULL || group_key[0] == '\0' ||
        strlen(group_key) > 64)
        return -1;
    json_t *first = json_deep_copy(data);
    json_object_set_new(first, "count", json_integer(1));
    int rc = notice_put(db, user_id, kind, group_key, first, link, count_grow, NULL);
    json_decref(first);
    return rc;
}

int notice_add(struct db *db, long long user_id, const char *kind, json_t *data, const char *link)
{
    json_t *d = json_is_object(data) ? data : NULL;
    if (user_id <= 0 || kind == NULL || kind[0] == '\0' || strlen(kind) > 32)
        return -1;
    json_t *empty = d ? NULL : json_object();
    int rc = notice_put(db, user_id, kind, NULL, d ? d : empty, link, NULL, NULL);
    json_decref(empty);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* from events                                                                                 */

/* One customer: its page; several: the transfer's. */
static const char *moved_link(json_t *data, char *buf, size_t len)
{
    if (data_int(data, "count") > 1)
        snprintf(buf, len, "/transfers/%lld", data_int(data, "transfer_id"));
    else
        snprintf(buf, len, "/customers/%lld", data_int(data, "customer_id"));
    return buf;
}

static long long actor_id(json_t *event)
{
    return data_int(json_object_get(event, "actor"), "user_id");
}

static int apply_completed(struct db *db, json_t *event)
{
    json_t *data = json_object_get(event, "data");
    long long to = data_int(data, "to_manager_id"), tid = data_int(data, "transfer_id");
    long long cid = data_int(data, "customer_id");
    char key[64], link[128];
    if (to <= 0 || tid <= 0 || cid <= 0) {
        log_warn(NULL, "transfer.completed %s has no receiver, transfer or customer: no notice",
                 data_str(event, "id", "?"));
        return 0;
    }
    if (actor_id(event) == to)
        return 0; /* who moved it to themself needs no telling */
    json_t *d = json_pack("{s:I, s:I, s:I, s:s, s:I, s:I}", "transfer_id", (json_int_t)tid, "count",
                          (json_int_t)1, "customer_id", (json_int_t)cid, "customer_name",
                          data_str(data, "customer_name", ""), "from_manager_id",
                          (json_int_t)data_int(data, "from_manager_id"), "actor_id",
                          (json_int_t)actor_id(event));
    snprintf(key, sizeof(key), "transfer:%lld", tid);
    int rc = notice_put(db, to, NOTICE_CUSTOMER_MOVED, key, d, moved_link(d, link, sizeof(link)),
                        count_grow, moved_link);
    json_decref(d);
    return rc;
}

static int apply_finished(struct db *db, json_t *event)
{
    json_t *data = json_object_get(event, "data");
    long long to = actor_id(event), tid = data_int(data, "transfer_id");
    char key[64], link[128];
    if (to <= 0 || tid <= 0)
        return 0; /* a job of the system itself has nobody to tell */
    json_t *d = json_pack(
        "{s:I, s:s, s:I, s:I, s:I}", "transfer_id", (json_int_t)tid, "status",
        data_str(data, "status", "done"), "done", (json_int_t)data_int(data, "done"), "failed",
        (json_int_t)data_int(data, "failed"), "total", (json_int_t)data_int(data, "total"));
    snprintf(key, sizeof(key), "transfer:%lld", tid);
    snprintf(link, sizeof(link), "/transfers/%lld", tid);
    int rc = notice_put(db, to, NOTICE_HANDOVER_FINISHED, key, d, link, NULL, NULL);
    json_decref(d);
    return rc;
}

int notices_consume(struct db *db, const char *stream, json_t *event)
{
    const char *type = json_string_value(json_object_get(event, "type"));
    if (stream == NULL || type == NULL || strcmp(stream, NOTICE_TRANSFER_STREAM) != 0)
        return 0;
    if (strcmp(type, "transfer.completed") == 0)
        return apply_completed(db, event);
    if (strcmp(type, "transfer.handover_finished") == 0)
        return apply_finished(db, event);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the API                                                                                     */

static const struct listq_sort notice_sorts[] = {
    {"id", "n.id", LISTQ_INT, true},
    {NULL, NULL, LISTQ_INT, false},
};

static const struct listq_spec notice_list = {
    .from = "notices n", .id = "n.id", .columns = NOTICE_COLS, .joins = ""};

static void list_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct listq q;
    struct listq_result res = {0};
    struct db_param uid = DBP_INT(caller_id(job->req)); /* 0 (no such user) matches nothing */
    listq_init(&q);
    listq_add(&q, "n.user_id = ?", &uid, 1);
    if (in->flag)
        listq_add(&q, "n.read_at IS NULL", NULL, 0);
    if (listq_run(&w->db, &notice_list, &q, &in->page, &res) != 0)
        return;
    size_t i;
    json_t *row;
    json_array_foreach(res.items, i, row)
    {
        notice_json(row);
    }
    svc_job_ok(job, 200, listq_result_json(&res, &in->page));
}

static void list(struct http_request *req, void *arg)
{
    json_t *errors = json_array();
    struct kit_in *in = kit_in_new(NULL, 0);
    kit_list_params(req, notice_sorts, &in->page, errors);
    const char *unread = kit_query(req, "unread", 8, errors);
    if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0)
        jsonv_error_addp(errors, "unread", JSONV_E_one_of,
                         json_pack("{s:s}", "allowed", "true,false"), "must be true or false");
    in->flag = unread && strcmp(unread, "true") == 0;
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, list_work, in, kit_in_free);
}

/* The caller's unread count into '*n'; 0 or -1. */
static int unread_count(struct db *db, long long user_id, long long *n)
{
    json_t *row = NULL;
    struct db_param p[] = {DBP_INT(user_id)};
    if (db_query_one(db,
                     "SELECT COUNT(*) AS unread FROM notices WHERE user_id = ? AND read_at IS NULL",
                     p, 1, &row) != 0)
        return -1;
    *n = (long long)json_integer_value(json_object_get(row, "unread"));
    json_decref(row);
    return 0;
}

static void count_work(struct svc_worker *w, struct svc_job *job)
{
    long long n = 0;
    if (unread_count(&w->db, caller_id(job->req), &n) == 0)
        svc_job_ok(job, 200, json_pack("{s:I}", "unread", (json_int_t)n));
}

static void count(struct http_request *req, void *arg)
{
    svc_submit(arg, req, count_work, NULL, NULL);
}

/* POST /api/v1/notices/{id}/read: the caller's own notice only (another's is 404, as one that
 * does not exist); reading it twice keeps the first read_at. 200 with the notice. */
static void read_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    long long uid = caller_id(job->req);
    json_t *row = NULL;
    struct db_param p[] = {DBP_INT(in->id), DBP_INT(uid)};
    if (db_exec(&w->db,
                "UPDATE notices SET read_at = NOW(3) WHERE id = ? AND user_id = ? AND "
                "read_at IS NULL",
                p, 2, NULL, NULL) != 0 ||
        db_query_one(&w->db,
                     "SELECT " NOTICE_COLS " FROM notices n WHERE n.id = ? AND n.user_id = ?", p, 2,
                     &row) != 0)
        return;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such notice");
        return;
    }
    svc_job_ok(job, 200, notice_json(row));
}

static void read_one(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id == 0)
        return;
    kit_submit(arg, req, read_work, NULL, id);
}

static void read_all_work(struct svc_worker *w, struct svc_job *job)
{
    uint64_t affected = 0;
    struct db_param p[] = {DBP_INT(caller_id(job->req))};
    if (db_exec(&w->db, "UPDATE notices SET read_at = NOW(3) WHERE user_id = ? AND read_at IS NULL",
                p, 1, &affected, NULL) != 0)
        return;
    svc_job_ok(job, 200, json_pack("{s:I, s:i}", "updated", (json_int_t)affected, "unread", 0));
}

static void read_all(struct http_request *req, void *arg)
{
    svc_submit(arg, req, read_all_work, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* streams                                                                                     */

/* The SSE event of notice 'row' (shown as the API shows it) into 'out': its id is the seq. */
static void sse_event(struct evbuffer *out, json_t *row)
{
    long long seq = (long long)json_integer_value(json_object_get(row, "seq"));
    char *text = json_dumps(row, JSON_COMPACT);
    if (text == NULL)
        return;
    /* JSON_COMPACT has no newline: one data line */
    evbuffer_add_printf(out, "id: %lld\nevent: notice\ndata: %s\n\n", seq, text);
    free(text);
}

static void stream_unlink(struct notice_stream *ns)
{
    struct notices *n = ns->n;
    if (ns->prev)
        ns->prev->next = ns->next;
    else
        n->streams = ns->next;
    if (ns->next)
        ns->next->prev = ns->prev;
    n->nstreams--;
    free(ns);
}

static void stream_on_close(struct http_stream *st, void *arg)
{
    (void)st;
    stream_unlink(arg);
}

/* Write 'len' bytes of 'buf' to 'ns'; false when the stream ended ('ns' is gone). */
static bool stream_send(struct notice_stream *ns, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    return http_stream_write(ns->st, evbuffer_pullup(buf, (ev_ssize_t)len), len) == 0;
}

struct notice_poll {
    struct notices *n;
    long long from;
    json_t *rows;
    bool ok;
};

static void poll_work(void *thread_ctx, void *arg)
{
    struct svc_worker *w = thread_ctx;
    struct notice_poll *p = arg;
    struct db_param q[] = {DBP_INT(p->from), DBP_INT(NOTICE_POLL_BATCH)};
    p->ok = db_query(&w->db,
                     "SELECT " NOTICE_COLS " FROM notices n WHERE n.seq > ? ORDER BY n.seq LIMIT ?",
                     q, 2, &p->rows) == 0;
}

static void poll_start(struct notices *n);

/* On the loop: every row to the streams of its user that have not had it; then every stream
 * the poll covered (last >= from) has seen everything up to the last row. */
static void poll_done(void *arg)
{
    struct notice_poll *p = arg;
    struct notices *n = p->n;
    struct evbuffer *buf = evbuffer_new();
    long long top = p->from;
    size_t i, nrows = p->ok ? json_array_size(p->rows) : 0;
    json_t *row;
    n->polling = false;
    json_array_foreach(p->rows, i, row)
    {
        long long uid = (long long)json_integer_value(json_object_get(row, "user_id"));
        long long seq = (long long)json_integer_value(json_object_get(row, "seq"));
        top = seq > top ? seq : top;
        evbuffer_drain(buf, evbuffer_get_length(buf));
        for (struct notice_stream *ns = n->streams, *next; ns; ns = next) {
            next = ns->next;
            if (ns->user_id != uid || seq <= ns->last)
                continue;
            if (evbuffer_get_length(buf) == 0)
                sse_event(buf, notice_json(row));
            if (stream_send(ns, buf))
                ns->last = seq;
        }
    }
    for (struct notice_stream *ns = n->streams; ns; ns = ns->next) {
        if (ns->last >= p->from && ns->last < top)
            ns->last = top;
    }
    evbuffer_free(buf);
    json_decref(p->rows);
    free(p);
    if (nrows == NOTICE_POLL_BATCH || n->again) {
        n->again = false;
        poll_start(n);
    }
}

/* Read what is new for the open streams on a worker (one poll at a time). */
static void poll_start(struct notices *n)
{
    if (n->nstreams == 0)
        return;
    if (n->polling) {
        n->again = true;
        return;
    }
    long long from = -1;
    for (struct notice_stream *ns = n->streams; ns; ns = ns->next)
        from = from < 0 || ns->last < from ? ns->last : from;
    struct notice_poll *p = xcalloc(1, sizeof(*p));
    p->n = n;
    p->from = from;
    if (pool_submit(n->svc->pool, poll_work, poll_done, p) != 0) {
        free(p); /* the workers are full: the next tick tries again */
        return;
    }
    n->polling = true;
}

static void poll_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    poll_start(arg);
}

static void beat_tick(evutil_socket_t fd, short what, void *arg)
{
    struct notices *n = arg;
    (void)fd;
    (void)what;
    for (struct notice_stream *ns = n->streams, *next; ns; ns = next) {
        next = ns->next;
        (void)!http_stream_write(ns->st, ": heartbeat\n\n", 13); /* a failure unlinks it */
    }
}

void notices_committed(void)
{
    if (notices_ctx)
        event_active(notices_ctx->poll_ev, EV_TIMEOUT, 0);
}

/* A stream being opened: where it resumes, and what it missed. */
struct notice_open {
    struct notices *n;
    struct http_request *req;
    long long user_id;
    long long after; /* Last-Event-ID, -1 when none */
    long long clock;
    json_t *rows;
    bool ok;
};

static void open_work(void *thread_ctx, void *arg)
{
    struct svc_worker *w = thread_ctx;
    struct notice_open *o = arg;
    json_t *row = NULL;
    o->ok = false;
    if (db_query_one(&w->db, "SELECT seq FROM notice_clock WHERE id = 1", NULL, 0, &row) != 0)
        return;
    o->clock = (long long)json_integer_value(json_object_get(row, "seq"));
    json_decref(row);
    if (o->after >= 0 && o->after < o->clock) {
        struct db_param p[] = {DBP_INT(o->user_id), DBP_INT(o->after), DBP_INT(o->clock),
                               DBP_INT(NOTICE_CATCHUP_MAX)};
        if (db_query(&w->db,
                     "SELECT " NOTICE_COLS " FROM notices n WHERE n.user_id = ? AND n.seq > ? AND "
                     "n.seq <= ? ORDER BY n.seq LIMIT ?",
                     p, 4, &o->rows) != 0)
            return;
    }
    o->ok = true;
}

static void open_done(void *arg)
{
    struct notice_open *o = arg;
    struct notices *n = o->n;
    struct http_stream *st = NULL;
    struct evbuffer *buf = NULL;
    if (!o->ok) {
        http_add_header(o->req, "Retry-After", "1");
        http_reply_problem(o->req, 503, "database_unavailable", "the notices cannot be read now",
                           NULL);
        goto out;
    }
    struct notice_stream *ns = xcalloc(1, sizeof(*ns));
    ns->n = n;
    ns->user_id = o->user_id;
    ns->last = o->clock;
    st = http_stream_start(o->req, 200, "text/event-stream; charset=utf-8", stream_on_close, ns);
    if (st == NULL) {
        free(ns);
        goto out;
    }
    ns->st = st;
    ns->next = n->streams;
    if (n->streams)
        n->streams->prev = ns;
    n->streams = ns;
    n->nstreams++;
    buf = evbuffer_new();
    /* the reconnection delay, and a first comment so that every proxy passes the head on */
    evbuffer_add_printf(buf, "retry: %s\n: open\n\n", NOTICE_RETRY_MS);
    size_t i;
    json_t *row;
    json_array_foreach(o->rows, i, row) sse_event(buf, notice_json(row));
    if (stream_send(ns, buf))
        poll_start(n); /* what the poll saw meanwhile was not read for this stream */
out:
    if (buf)
        evbuffer_free(buf);
    json_decref(o->rows);
    free(o);
}

/* GET /api/v1/notices/stream: the caller's new notices as server-sent events ("notice", the
 * notice as the API shows it, id its seq) and a heartbeat comment every 15 s. Last-Event-ID
 * (or ?last_event_id= for a client that cannot set headers) resumes after that seq: what was
 * made or grown since then comes first, up to NOTICE_CATCHUP_MAX. */
static void stream(struct http_request *req, void *arg)
{
    struct svc *s = arg;
    struct notices *n = notices_ctx;
    long after = -1;
    const char *lei = http_req_header(req, "Last-Event-ID");
    if (lei == NULL)
        lei = http_query_get(&req->query, "last_event_id");
    if (lei && util_parse_long(lei, 0, KIT_ID_MAX, &after) != 0) {
        json_t *errors = json_array();
        jsonv_error_add(errors, "last_event_id", JSONV_E_not_id,
                        "must be the id of an event of this stream");
        (void)kit_reject(req, errors);
        return;
    }
    struct notice_open *o = xcalloc(1, sizeof(*o));
    o->n = n;
    o->req = req;
    o->user_id = caller_id(req);
    o->after = after;
    if (pool_submit(s->pool, open_work, open_done, o) != 0) {
        free(o);
        http_add_header(req, "Retry-After", "1");
        http_reply_problem(req, 503, "overloaded", "the service is busy; retry shortly", NULL);
    }
}

int notices_routes(struct svc *s)
{
    if (notices_ctx != NULL)
        return -1; /* once per process */
    struct notices *n = xcalloc(1, sizeof(*n));
    n->svc = s;
    n->poll_ev = event_new(s->base, -1, EV_PERSIST, poll_tick, n);
    n->beat_ev = event_new(s->base, -1, EV_PERSIST, beat_tick, n);
    struct timeval ptv = {NOTICE_POLL_MS / 1000, (NOTICE_POLL_MS % 1000) * 1000};
    struct timeval btv = {NOTICE_HEARTBEAT_S, 0};
    event_add(n->poll_ev, &ptv);
    event_add(n->beat_ev, &btv);
    notices_ctx = n;
    return svc_route(s, "GET", "/api/v1/notices", list) ||
                   svc_route(s, "GET", "/api/v1/notices/unread-count", count) ||
                   svc_route(s, "GET", "/api/v1/notices/stream", stream) ||
                   svc_route(s, "POST", "/api/v1/notices/read-all", read_all) ||
                   svc_route(s, "POST", "/api/v1/notices/{id}/read", read_one)
               ? -1
               : 0;
}

void notices_teardown(void)
{
    struct notices *n = notices_ctx;
    if (n == NULL)
        return;
    while (n->streams) {
        struct notice_stream *ns = n->streams;
        n->streams = ns->next;
        http_stream_end(ns->st);
        free(ns);
    }
    event_free(n->poll_ev);
    event_free(n->beat_ev);
    notices_ctx = NULL;
    free(n);
}
