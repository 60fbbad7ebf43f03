/* SPDX-License-Identifier: Apache-2.0 */
/* idem: Idempotency-Key on the POSTs that create records (see idem.h).
 *
 * The key's row is written inside the creating transaction, just before its commit, with the
 * answer: a record and its key exist together or not at all, so a crash can neither leave a
 * key that answers for nothing nor a record a retry creates again. Two tries of one key at once
 * both run; the second's insert of the key waits on the first's uncommitted row and then fails
 * as a duplicate, its transaction (and record) is rolled back and it answers with the first's
 * answer. Failures are not stored: a request that failed changed nothing, and its repeat runs
 * again. */
#include "idem.h"
#include "crmlog.h"
#include "db.h"
#include "jsonv.h"
#include "svc.h"
#include "util.h"

#include <string.h>

const struct migrate_unit idem_migration = {
    "idempotency_keys.1",
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    " user_id VARCHAR(32) CHARACTER SET ascii NOT NULL,"
    " idem_key VARBINARY(128) NOT NULL,"
    " request_hash CHAR(64) CHARACTER SET ascii NOT NULL,"
    " status SMALLINT UNSIGNED NOT NULL,"
    " body MEDIUMTEXT NOT NULL,"
    " created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
    " PRIMARY KEY (user_id, idem_key),"
    " KEY ix_idempotency_created (created_at)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
};

static bool idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    }
    return true;
}

/* The request's fingerprint: a key sent again with another method, path or body is a
 * different request, refused rather than answered with the first one's answer. */
static void idem_request_hash(const struct http_request *req, char out[65])
{
    size_t mlen = strlen(req->head.method), plen = strlen(req->path);
    char *buf = xmalloc(mlen + plen + req->body_len + 2);
    memcpy(buf, req->head.method, mlen);
    buf[mlen] = ' ';
    memcpy(buf + mlen + 1, req->path, plen);
    buf[mlen + 1 + plen] = '\n';
    if (req->body_len)
        memcpy(buf + mlen + plen + 2, req->body, req->body_len);
    util_sha256_hex(buf, mlen + plen + req->body_len + 2, out);
    free(buf);
}

/* The stored answer of the job's key within 24 hours: 1 (in '*row'), 0 (none) or -1. */
static int idem_lookup(struct svc_worker *w, const struct svc_job *job, json_t **row)
{
    const struct svc_identity *id = svc_identity(job->req);
    struct db_param p[] = {DBP_STR(id->user_id), DBP_STR(job->idem.key)};
    *row = NULL;
    if (db_query_one(&w->db,
                     "SELECT request_hash, status, body FROM idempotency_keys"
                     " WHERE user_id = ? AND idem_key = ? AND created_at > NOW(3) - INTERVAL 1 DAY",
                     p, 2, row) != 0)
        return -1;
    return *row != NULL;
}

/* Answer 'job' with the stored answer 'row' (or refuse a key reused for another request). */
static void idem_answer(struct svc_job *job, json_t *row)
{
    const char *hash = json_string_value(json_object_get(row, "request_hash"));
    job->code = NULL;
    job->detail[0] = '\0';
    json_decref(job->errors);
    job->errors = NULL;
    job->retry_after = 0;
    if (hash == NULL || strcmp(hash, job->idem.hash) != 0) {
        svc_job_fail(job, 422, "idempotency_key_reused",
                     "this Idempotency-Key was used for a different request");
        return;
    }
    json_t *body = json_loads(json_string_value(json_object_get(row, "body")), 0, NULL);
    svc_job_ok(job, (int)json_integer_value(json_object_get(row, "status")), body);
    job->idem.replayed = true;
}

bool idem_begin(struct svc_worker *w, struct svc_job *job)
{
    const char *key = http_head_get(&job->req->head, "Idempotency-Key");
    json_t *row = NULL;
    bool answered = false;
    if (key == NULL || svc_identity(job->req) == NULL)
        goto out;
    if (!idem_key_valid(key)) {
        job->errors = json_array();
        jsonv_error_addp(job->errors, "Idempotency-Key", JSONV_E_bad_header, jsonv_range(1, 128),
                         "must be 1 to 128 visible ASCII characters");
        svc_job_fail(job, 422, "validation_failed", "the Idempotency-Key header is not valid");
        answered = true;
        goto out;
    }
    snprintf(job->idem.key, sizeof(job->idem.key), "%s", key);
    idem_request_hash(job->req, job->idem.hash);
    /* now and then, keys older than a day go (in small batches, outside any transaction) */
    if (util_now_us() % 32 == 0 &&
        db_exec(&w->db,
                "DELETE FROM idempotency_keys WHERE created_at < NOW(3) - INTERVAL 1 DAY LIMIT 200",
                NULL, 0, NULL, NULL) != 0)
        log_warn(job->req->request_id, "idempotency keys: purge failed: %s", w->db.last_error);
    int found = idem_lookup(w, job, &row);
    if (found < 0) {
        answered = true; /* status 500 without a code: the platform maps the database's failure */
        goto out;
    }
    if (found) {
        idem_answer(job, row);
        answered = true;
        goto out;
    }
    job->idem.on = true;
out:
    json_decref(row);
    return answered;
}

int idem_store(struct svc_worker *w, struct svc_job *job, int status, json_t *body)
{
    if (!job->idem.on)
        return 0;
    const struct svc_identity *id = svc_identity(job->req);
    char *text = json_dumps(body, JSON_COMPACT);
    int rc = -1;
    struct db_param p[] = {DBP_STR(id->user_id), DBP_STR(job->idem.key), DBP_STR(job->idem.hash),
                           DBP_INT(status), DBP_STR(text ? text : "null")};
    /* the same key from more than a day ago is free again */
    if (db_exec(&w->db,
                "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?"
                " AND created_at <= NOW(3) - INTERVAL 1 DAY",
                p, 2, NULL, NULL) != 0 ||
        db_exec(&w->db,
                "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body)"
                " VALUES (?, ?, ?, ?, ?)",
                p, 5, NULL, NULL) != 0)
        goto out;
    rc = 0;
out:
    free(text);
    return rc;
}

bool idem_replay(struct svc_worker *w, struct svc_job *job)
{
    json_t *row = NULL;
    bool done = false;
    if (!job->idem.on || job->idem.replayed)
        return false;
    if (idem_lookup(w, job, &row) == 1) {
        log_info(job->req->request_id, "idempotency key: answered with the concurrent first try");
        idem_answer(job, row);
        done = true;
    }
    json_decref(row);
    return done;
}
