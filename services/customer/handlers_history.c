/* SPDX-License-Identifier: Apache-2.0 */
/* handlers_history: GET /api/v1/customers/{id}/history, the change history (修改记录) of a
 * customer with its contacts and follow-ups, for whoever may see the customer: every event the
 * service wrote about them (record_history, written with the outbox row; see events.h), newest
 * first, with who did it and the field-level changes. Outside the scope, or in the recycle bin,
 * it is 404 like the customer. The audit log stays the administrators' tamper-evident copy. */
#include "customer.h"

static void history_work(struct svc_worker *w, struct svc_job *job)
{
    struct kit_in *in = job->data;
    struct scope sc = kit_scope(job);
    json_t *row = NULL;
    if (repo_customer_get(&w->db, &sc, in->id, false, false, &row) != 0)
        goto out;
    if (row == NULL) {
        svc_job_fail(job, 404, "not_found", "no such customer");
        goto out;
    }
    if (kit_history_page(w, job, "customer", in->id) != 0)
        goto out;
out:
    json_decref(row);
}

static void history(struct http_request *req, void *arg)
{
    long long id = kit_path_id(req, "id");
    if (id == 0)
        return;
    json_t *errors = json_array();
    struct kit_in *in = kit_in_new(NULL, id);
    kit_list_params(req, kit_history_sorts, &in->page, errors);
    if (kit_reject(req, errors)) {
        kit_in_free(in);
        return;
    }
    svc_submit(arg, req, history_work, in, kit_in_free);
}

int history_routes(struct svc *s)
{
    return svc_route(s, "GET", "/api/v1/customers/{id}/history", history);
}
