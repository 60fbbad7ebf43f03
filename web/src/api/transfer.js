// SPDX-License-Identifier: Apache-2.0
// Calls of the transfer service (客户转移, issue 13): transfers of picked customers, the receiver
// picker, hand-over jobs and their progress, the history. Pages use these functions, never the
// URLs; the history list hands TRANSFERS_PATH to PageTable.
//
// A transfer is completed by the transfer service in the request, but the customer service
// changes the owner from its transfer.completed event, a moment later: waitApplied() tells when
// the customers show their new owner, and 'pendingCustomers' holds the ids still on their way
// so that lists can mark them "transferring".
import { reactive } from 'vue'
import api from './client'

export const TRANSFERS_PATH = '/transfers'

export const PERM = {
  read: 'transfer:transfer:read',
  create: 'transfer:transfer:create',
  handover: 'transfer:transfer:handover',
}

/** body: {customer_ids, to_manager_id, reason} -> 201 the transfer with its items */
export const createTransfer = (body, opts) => api.post(TRANSFERS_PATH, body, opts)

/** GET /transfers/receivers?keyword= -> [{id, username, display_name, dept_id, dept_name}] (at most 20) */
export async function listReceivers(keyword, opts) {
  const resp = await api.get(`${TRANSFERS_PATH}/receivers`, { keyword: keyword || undefined }, opts)
  return Array.isArray(resp?.items) ? resp.items : []
}

/** GET /transfers/{id}: a transfer, or a hand-over job with status, done, failed, total */
export const getTransfer = (id, opts) => api.get(`${TRANSFERS_PATH}/${id}`, undefined, opts)

/** body: {from_manager_id?, filter, to_manager_ids, reason} -> 202 the job */
export const startHandover = (body, opts) => api.post(`${TRANSFERS_PATH}/handover`, body, opts)

/** GET /transfers/handover/preview?from_manager_id=&level=... -> the number of customers it would move */
export async function previewHandover(query, opts) {
  const resp = await api.get(`${TRANSFERS_PATH}/handover/preview`, query, opts)
  return Number(resp?.total) || 0
}

/** A hand-over job is over (its progress stops changing). */
export const jobFinished = (job) => job?.status === 'done' || job?.status === 'failed'

// ---- the customer service applying a transfer -----------------------------------------------

/** Ids of customers transferred whose new owner the customer service has not shown yet. */
export const pendingCustomers = reactive(new Set())

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms))

/** Whether the customer service shows customer 'id' with manager 'to', or no longer to the caller. */
async function applied(id, to) {
  try {
    const c = await api.get(`/customers/${id}`, undefined, { silent: true })
    return Number(c?.manager_id) === Number(to)
  } catch (err) {
    return err?.status === 404 // a manager who gave it away may not see it any more
  }
}

/**
 * Waits until the customers of 'ids' (one transfer's, in its order) show 'to' as their manager
 * at the customer service, at most 'timeoutMs'; meanwhile the ids are in 'pendingCustomers'.
 * The events of one transfer are written in that order and applied in that order, so the last
 * customer is asked about (one request a round, not one per customer: a transfer may hold 200).
 * Returns true when it got there in time.
 */
export async function waitApplied(ids, to, { timeoutMs = 8000, everyMs = 250 } = {}) {
  if (!ids.length) return true
  ids.forEach((id) => pendingCustomers.add(id))
  const until = Date.now() + timeoutMs
  try {
    for (;;) {
      if (await applied(ids[ids.length - 1], to)) return true
      if (Date.now() + everyMs > until) return false
      await sleep(everyMs)
    }
  } finally {
    ids.forEach((id) => pendingCustomers.delete(id))
  }
}

/** GET /transfers/handover -> a page of the hand-overs the caller may read, newest first, each
 * with its progress and receiver_names (any browser, any device). */
export const listHandovers = (query, opts) => api.get(`${TRANSFERS_PATH}/handover`, query, opts)
