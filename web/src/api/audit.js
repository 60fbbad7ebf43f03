// SPDX-License-Identifier: Apache-2.0
// Calls of the audit service (audit, login and operation logs, one record's history, the chain
// check), and what the audit pages need to talk about them: the event types and subject types
// the producers write (proto-docs/asyncapi.yaml) and the time filters' form.
// List pages hand the *_PATH constants to PageTable, which pages through them.
import api from './client'

export const AUDIT_LOGS_PATH = '/audit/logs'
export const LOGIN_LOGS_PATH = '/audit/logins'
export const OPERATION_LOGS_PATH = '/audit/operations'

/** Permissions of the audit pages and of the chain check (openapi.yaml x-permission). */
export const AUDIT_PERM = {
  logs: 'audit:log:read',
  logins: 'audit:login:read',
  operations: 'audit:operation:read',
  verify: 'audit:chain:verify',
}

const enc = encodeURIComponent

/**
 * GET /audit/history/{subject_type}/{subject_id}: the record's entries, newest first, in pages
 * like /audit/logs ('query': page, page_size, actor, event_type, from, to).
 */
export const getAuditHistory = (subjectType, subjectId, query, opts) =>
  api.get(`/audit/history/${enc(subjectType)}/${enc(subjectId)}`, query, opts)

/**
 * GET /audit/verify?after_id=N: one window of the chain walk (at most the service's time budget).
 * Answers {ok: true, complete, checked, last_id, max_id, head} or {ok: false, complete: true,
 * checked, last_id, max_id, first_bad: {id, event_id, event_type, reason}}; both are 200. While
 * 'complete' is false, the next window starts after 'last_id'.
 */
export const verifyAuditWindow = (afterId, opts) => api.get('/audit/verify', { after_id: afterId }, opts)

/**
 * The whole walk, window after window: 'onProgress' gets {checked, last_id, max_id} after each.
 * Resolves with the last window's answer and 'checked' summed over all windows.
 */
export async function verifyAuditChain(onProgress, opts) {
  let after = 0
  let checked = 0
  for (;;) {
    const r = await verifyAuditWindow(after, opts)
    checked += Number(r?.checked) || 0
    if (!r || r.ok !== true || r.complete !== false) return { ...r, checked }
    if (!(r.last_id > after)) return { ...r, checked } // no progress: show what came back
    after = r.last_id
    onProgress?.({ checked, last_id: r.last_id, max_id: r.max_id })
  }
}

/** The two reasons /audit/verify gives for a broken entry, as keys of audit.chain.reason.*. */
export const CHAIN_REASONS = {
  'its link to the previous entry is broken': 'link',
  'its content no longer matches its hash': 'content',
}

/**
 * The event types the audit log records, by producer (asyncapi.yaml, streams crm:stream:auth,
 * customer, transfer and care). The filter offers them; any other type can still be typed.
 */
export const EVENT_TYPES = {
  auth: [
    'auth.login_succeeded', 'auth.login_failed', 'auth.logout', 'auth.password_changed', 'auth.token_reuse_detected',
    'user.created', 'user.updated', 'user.disabled', 'user.enabled', 'user.locked', 'user.unlocked',
    'user.password_reset', 'user.force_logout',
    'role.created', 'role.updated', 'role.deleted',
    'department.created', 'department.updated', 'department.deleted',
    'dict.created', 'dict.item_created', 'dict.item_updated',
  ],
  customer: ['customer.created', 'customer.updated', 'customer.deleted', 'contact.created', 'contact.updated', 'followup.created'],
  transfer: ['transfer.completed'],
  care: ['care.due', 'care.task_created', 'care.task_completed'],
}

/** The kinds of record events are about (the events' subject.type). */
export const SUBJECT_TYPES = ['user', 'role', 'department', 'dict', 'dict_item', 'customer', 'contact', 'followup', 'care_task']

export const LOGIN_RESULTS = ['success', 'failure', 'logout']
export const LOGIN_REASONS = ['bad_credentials', 'locked', 'disabled', 'unknown_user']
export const OPERATION_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE']

/**
 * A time for the 'from' / 'to' filters: RFC 3339 in UTC with 'Z' and milliseconds, the only
 * form the audit lists accept. undefined for no date or an invalid one.
 */
export function toApiTime(date) {
  if (date === undefined || date === null || date === '') return undefined
  const d = date instanceof Date ? date : new Date(date)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}
