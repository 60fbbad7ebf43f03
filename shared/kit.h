/* SPDX-License-Identifier: Apache-2.0 */
/* kit: what every request handler of a service uses: the request body as validated JSON, path
 * ids, list parameters, field errors, field-level changes, "write the event and commit", and
 * the patch and delete skeletons.
 *
 * A work function follows one pattern (kore's): the job's status starts at 500; the work sets
 * success (svc_job_ok) only at the end, or a failure (kit_fail*), and leaves through one 'out:'
 * that frees its own references. After it returns, the platform rolls back a transaction still
 * open and maps a database failure (status still 500 with no code) onto one problem+json
 * answer, and the loop sends exactly one reply. */
#ifndef CRM_KIT_H
#define CRM_KIT_H

#include <jansson.h>
#include <stdbool.h>

#include "events.h"
#include "jsonv.h"
#include "listq.h"
#include "scope.h"
#include "svc.h"

#define KIT_ID_MAX ((long)(~0UL >> 1))

/* ---- input, on the loop, before a job exists ---- */

/* The request body as a strict JSON object checked against 'fields'; NULL after replying 415
 * (not application/json) or 422 (with field errors). */
json_t *kit_body(struct http_request *req, const struct jsonv_field *fields);
/* Path parameter 'name' as a positive id; 0 after replying 404 (an id that cannot exist is a
 * record that does not). */
long long kit_path_id(struct http_request *req, const char *name);
/* ?page ?page_size ?sort ?order ?cursor against the whitelist 'sorts' into 'pg'; field errors
 * are added to 'errors'. */
void kit_list_params(struct http_request *req, const struct listq_sort *sorts,
                     struct listq_page *pg, json_t *errors);
/* Query parameter 'key' when given, at most 'maxlen' bytes (else a field error and NULL). */
const char *kit_query(struct http_request *req, const char *key, size_t maxlen, json_t *errors);
/* Query parameter 'key' as an id (0 when absent; a field error when not an id). */
long long kit_query_id(struct http_request *req, const char *key, json_t *errors);
/* Query parameter 'key' into 'out' ('size' bytes; longer: a field error), "" when absent. */
void kit_query_copy(struct http_request *req, const char *key, char *out, size_t size,
                    json_t *errors);
/* Query parameter 'key', when given, as a date (midnight UTC) or an RFC 3339 time into 'out'
 * as a UTC DATETIME text ("" when absent; a field error when it is neither). */
void kit_query_time(struct http_request *req, const char *key, char out[32], json_t *errors);
/* Reply 422 with 'errors' (taken) when it holds any and return true; else free it. */
bool kit_reject(struct http_request *req, json_t *errors);

/* The input of a job: the body, the path id, a path key (a dictionary's code) and a flag. */
struct kit_in {
    json_t *body;
    long long id;
    char key[72];
    bool flag;
    int variant;            /* which of a handler's variants (an action) */
    struct listq_page page; /* lists */
    void *extra;            /* the handler's own (freed with free()) */
    const void *ops;        /* the handler's own table (not freed) */
};
struct kit_in *kit_in_new(json_t *body, long long id);
void kit_in_free(void *p);
/* Queue 'work' with a kit_in of 'body' (taken) and 'id'. */
void kit_submit(struct svc *s, struct http_request *req,
                void (*work)(struct svc_worker *w, struct svc_job *job), json_t *body,
                long long id);

/* kit_path_id's id of path parameter "id", then kit_submit with no body; nothing more after
 * kit_path_id replied 404. */
void kit_submit_id(struct svc *s, struct http_request *req,
                   void (*work)(struct svc_worker *w, struct svc_job *job));

/* ---- on the worker ---- */

/* The caller's data scope (see scope.h) with the service's source of the department tree. */
struct scope kit_scope(const struct svc_job *job);
/* Whether the caller holds permission 'perm' (beyond the route's own, which the gateway and
 * the platform checked): a variant of an action, such as saving a duplicate anyway. */
bool kit_can(const struct svc_job *job, const char *perm);
/* The actor of events: the caller and its address. */
struct events_actor kit_actor(const struct svc_job *job);

/* Fail the job with 'status'/'code'/'detail' and, when 'field' is not NULL, one field error
 * 'fcode' (errcodes.def) with the English 'message'. */
void kit_fail(struct svc_job *job, int status, const char *code, const char *detail,
              const char *field, enum jsonv_code fcode, const char *message);
/* Fail with 422 validation_failed and the field errors 'errors' (taken). */
void kit_fail_fields(struct svc_job *job, json_t *errors, const char *detail);

/* Add the members of 'extra' (taken) to the problem of a failed job: the record a 409 is
 * about ("current", "duplicate"). */
void kit_fail_extra(struct svc_job *job, json_t *extra);

/* [{field, before, after}] for the 'fields' (NULL-terminated) that differ between the records. */
json_t *kit_changes(json_t *before, json_t *after, const char *const *fields);

/* Write event 'type' about 'subject_type' 'subject_id' into the outbox of the transaction open
 * on 'w', without committing: one of several events of a write (a transfer of several
 * customers). 'data' and 'changes' as kit_commit. 0 or -1. */
int kit_event(struct svc_worker *w, struct svc_job *job, const char *subject_type,
              long long subject_id, const char *type, json_t *data, json_t *changes)
    __attribute__((warn_unused_result));

/*
 * Write event 'type' about 'subject_type' 'subject_id' into the outbox of the transaction open
 * on 'w', commit, and wake the relay. 'data' (taken; NULL: {}) is the event's data; 'changes'
 * (taken, may be NULL) becomes data.changes. 'type' NULL: no further event (the write's events
 * went in with kit_event). On failure the transaction is rolled back and -1 returned; the job
 * stays at 500, so the platform answers with the database's failure.
 */
int kit_commit(struct svc_worker *w, struct svc_job *job, const char *subject_type,
               long long subject_id, const char *type, json_t *data, json_t *changes)
    __attribute__((warn_unused_result));

/*
 * kit_commit for a create that answers 'status' with 'body' (taken): the answer is recorded
 * under the request's Idempotency-Key in the same transaction (a repeat of the key gets it
 * again and creates nothing, see idem.h), and on success the job answers with it.
 */
int kit_commit_created(struct svc_worker *w, struct svc_job *job, const char *subject_type,
                       long long subject_id, const char *type, json_t *data, int status,
                       json_t *body) __attribute__((warn_unused_result));

/* GET .../{id}/history of a record: 'get' finds record in->id in the caller's scope (else 404
 * "no such 'subject'"), then one page of its history (kit_history_page). */
struct kit_history_of {
    const char *record_type; /* "customer" */
    const char *subject;     /* "customer", for the 404 */
    int (*get)(struct db *db, struct scope *sc, const struct kit_in *in, bool lock, json_t **row);
};
/* The route handler's body: path id 'id', the page parameters, then the work. */
void kit_history_submit(struct svc *s, struct http_request *req, const struct kit_history_of *h);

/* The sort of a record's history (kit_history_page): newest first. */
extern const struct listq_sort kit_history_sorts[];
/* One page ('in->page', parsed against kit_history_sorts) of the history of record
 * 'record_type' 'record_id' (events.h, events_history_enable), newest first, each row {id,
 * event_type, subject_type, subject_id, actor_user_id, actor_name, data, occurred_at}; the
 * caller checked that the caller may see the record. Sets the job's answer; 0 or -1. */
int kit_history_page(struct svc_worker *w, struct svc_job *job, const char *record_type,
                     long long record_id) __attribute__((warn_unused_result));

/* ---- skeletons ---- */

/* A list: 'list' the page in->page of the rows the caller's scope covers, with the filters in
 * in->extra; 200 with listq_result_json. */
void kit_list_work(struct svc_worker *w, struct svc_job *job,
                   int (*list)(struct db *db, struct scope *sc, const struct kit_in *in,
                               struct listq_result *out));

/* GET by id: 'get' the record in->id in the caller's scope (unlocked); 200 with it, or 404 "no
 * such 'subject'" when it is absent or outside the scope. */
void kit_get_work(struct svc_worker *w, struct svc_job *job, const char *subject,
                  int (*get)(struct db *db, struct scope *sc, const struct kit_in *in, bool lock,
                             json_t **row));

/*
 * PATCH of a versioned record: read it locked (in the caller's scope: outside it is 404), let
 * 'check' refuse the change, update it when the version matches (409 version_conflict when
 * not), read it again, and emit 'event' with the changes of 'fields' and commit. 200 with the
 * record. The body holds "version" and the changed fields. A stale version's 409 carries the
 * record as it is now in "current".
 */
struct kit_patch {
    const char *subject; /* "department": the event's subject type and the 404 text */
    const char *event;   /* "department.updated" */
    const char *const *fields;
    /* the record in->id as the API shows it ('*row' NULL when absent or outside 'sc') */
    int (*get)(struct db *db, struct scope *sc, const struct kit_in *in, bool lock, json_t **row);
    /* NULL, or: refuse with kit_fail (return -1) or fail on the database (-1, job untouched) */
    int (*check)(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body);
    int (*update)(struct db *db, long long id, long long version, json_t *body, uint64_t *affected);
    /* a unique key the update may hit: 409 conflict with this field error (NULL: none) */
    const char *dup_field, *dup_message;
    /* NULL, or: writes that come with the update (a role's permissions); 0 or -1 */
    int (*also)(struct svc_worker *w, struct svc_job *job, json_t *before, json_t *body);
    /* NULL, or: after the changes are known, before the commit (record what to revoke); 0 or
     * -1 */
    int (*changed)(struct svc_worker *w, struct svc_job *job, json_t *after, json_t *changes);
    /* NULL, or: after the commit, outside the transaction (publish a revocation: see auth's
     * tokens.c for why not before). Cannot fail the request any more: what it could not do
     * it leaves for a retry of its own. */
    void (*committed)(struct svc_worker *w, struct svc_job *job, json_t *after);
    /* the event's data besides "changes" (a new object), e.g. {"name": ...} */
    json_t *(*event_data)(json_t *after, const struct kit_in *in);
};
void kit_patch_work(struct svc_worker *w, struct svc_job *job, const struct kit_patch *p);

/*
 * DELETE: read the record locked (404 when absent or outside the scope), let 'check' refuse
 * (409 when in use, say), delete it and emit 'event' with 'event_data' of the deleted record.
 * 204.
 */
struct kit_delete {
    const char *subject;
    const char *event;
    int (*get)(struct db *db, struct scope *sc, const struct kit_in *in, bool lock, json_t **row);
    int (*check)(struct svc_worker *w, struct svc_job *job, json_t *row);
    int (*remove)(struct db *db, long long id);
    json_t *(*event_data)(json_t *row, const struct kit_in *in);
};
void kit_delete_work(struct svc_worker *w, struct svc_job *job, const struct kit_delete *d);

#endif
