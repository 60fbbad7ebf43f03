/* SPDX-License-Identifier: Apache-2.0 */
/* idem: Idempotency-Key on the POSTs that create records: a repeat of one key by one user within
 * 24 hours gets the first answer again and creates nothing. */
#ifndef CRM_IDEM_H
#define CRM_IDEM_H

#include <jansson.h>
#include <stdbool.h>

#include "migrate.h"

struct svc_worker;
struct svc_job;

#define IDEM_KEY_MAX 128 /* bytes of a key: 1..128 visible ASCII characters */

/* What a job knows of its key: set by idem_begin, read by the commit and by the platform. */
struct idem_state {
    bool on;       /* the request carries a valid key: the answer is stored with the commit */
    bool replayed; /* the answer is the stored one (the reply says Idempotent-Replayed: true) */
    char key[IDEM_KEY_MAX + 1];
    char hash[65]; /* SHA-256 of method, path and body: a key reused for another request */
};

/* The table idempotency_keys, one of libcrm's migrations (every service has it). */
extern const struct migrate_unit idem_migration;

/*
 * On the worker, first in a create's work: when the request has an Idempotency-Key, check it
 * (422 when malformed), and when this user used it within 24 hours answer the job with the
 * stored answer (or 422 idempotency_key_reused when the key came with another request). True
 * when the job is answered (the work does nothing more); false to go on, with 'job->idem' set
 * so that idem_store records the answer.
 */
bool idem_begin(struct svc_worker *w, struct svc_job *job);

/* Inside the create's transaction, before its commit: record 'status' and 'body' (borrowed)
 * under the job's key. A concurrent request with the same key that commits first makes this
 * fail with a duplicate key; the platform then answers with that request's answer
 * (idem_replay). 0 (also when the job has no key) or -1. */
int idem_store(struct svc_worker *w, struct svc_job *job, int status, json_t *body)
    __attribute__((warn_unused_result));

/* After a job with a key failed: when a request with the same key and body committed meanwhile
 * (a retry racing its first try), answer with its answer instead. True when it did. */
bool idem_replay(struct svc_worker *w, struct svc_job *job);

#endif
