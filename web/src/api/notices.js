// SPDX-License-Identifier: Apache-2.0
// Calls of the bell's notices (care service; the stream's ticket is the gateway's), and how a
// notice reads in the user's language: its text is data (kind + data), rendered here.
import api from './client'

export const NOTICES_PATH = '/notices'

/** GET /notices: a page of the caller's notices, newest first ('query': unread, page, page_size). */
export const listNotices = (query, opts) => api.get(NOTICES_PATH, query, opts)
/** GET /notices/unread-count -> {unread}. */
export const unreadCount = (opts) => api.get(`${NOTICES_PATH}/unread-count`, undefined, opts)
/** POST /notices/{id}/read -> the notice. */
export const readNotice = (id, opts) => api.post(`${NOTICES_PATH}/${encodeURIComponent(id)}/read`, undefined, opts)
/** POST /notices/read-all -> {updated, unread}. */
export const readAllNotices = (opts) => api.post(`${NOTICES_PATH}/read-all`, undefined, opts)
/**
 * POST /notices/ticket -> {ticket, expires_in, url}: EventSource cannot send the token, so the
 * stream is opened with a one-use ticket the gateway swaps for it (the token never goes into
 * a URL, where logs would keep it).
 */
export const streamTicket = (opts) => api.post(`${NOTICES_PATH}/ticket`, undefined, opts)

/**
 * The sentence of notice 'n' in the user's language ('t' of vue-i18n): notices.text.<kind>
 * with the names and numbers of its data; an unknown kind falls back to its English title.
 */
export function noticeText(n, t, te) {
  const d = n?.data || {}
  const kind = n?.kind
  if (kind === 'customer_moved') {
    return (d.count || 1) > 1
      ? t('notices.text.customerMovedMany', { count: d.count, name: d.customer_name || '' })
      : t('notices.text.customerMoved', { name: d.customer_name || '' })
  }
  if (kind === 'handover_finished') {
    return t(d.status === 'failed' ? 'notices.text.handoverFailed' : 'notices.text.handoverFinished', {
      done: d.done ?? 0,
      total: d.total ?? 0,
      failed: d.failed ?? 0,
    })
  }
  if (kind === 'care_due') {
    if ((d.count || 1) > 1) return t('notices.text.careDueMany', { count: d.count })
    const what = d.title || d.care_type_label || d.care_type || ''
    const who = [d.customer_name, d.contact_name].filter(Boolean).join(' · ')
    return t('notices.text.careDue', { what, who })
  }
  return te && te(`notices.kind.${kind}`) ? t(`notices.kind.${kind}`) : n?.title || ''
}

/** The console path a notice opens (its 'link' when it is one of ours). */
export function noticeLink(n) {
  const l = n?.link
  return typeof l === 'string' && l.startsWith('/') && !l.startsWith('//') ? l : null
}
