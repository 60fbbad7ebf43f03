// SPDX-License-Identifier: Apache-2.0
// Calls of the customer service: customers (list, picker, recycle bin), their contacts and
// follow-ups, the caller's to-dos, and the region tree. The shapes are those of
// proto-docs/openapi.yaml; list pages hand the *_PATH constants to PageTable, which pages them.
import api from './client'

export const CUSTOMERS_PATH = '/customers'
export const CUSTOMER_BIN_PATH = '/customers/recycle-bin'
export const CONTACTS_PATH = '/contacts'
export const FOLLOWUPS_PATH = '/followups'

/** The permissions of the customer pages (shared/routes.def). */
export const CUSTOMER_PERM = {
  read: 'customer:customer:read',
  create: 'customer:customer:create',
  update: 'customer:customer:update',
  delete: 'customer:customer:delete',
  restore: 'customer:customer:restore',
  forceDuplicate: 'customer:customer:force_duplicate',
  contactRead: 'customer:contact:read',
  contactCreate: 'customer:contact:create',
  contactUpdate: 'customer:contact:update',
  contactDelete: 'customer:contact:delete',
  followupRead: 'customer:followup:read',
  followupCreate: 'customer:followup:create',
  followupUpdate: 'customer:followup:update',
}

// A stale version is shown by the form that sent it (FormDialog), not as a toast.
const versioned = { silent: (err) => err?.status === 409 }
const items = (resp) => (Array.isArray(resp?.items) ? resp.items : [])

/** The browser's offset from UTC in minutes east (480 in China): "today" is the user's day. */
export const tzOffset = () => -new Date().getTimezoneOffset()

// ---- customers -------------------------------------------------------------------------------

export const getCustomer = (id, opts) => api.get(`/customers/${id}`, undefined, opts)
/** A 409 `duplicate` carries {duplicates: [{id, name, manager_name, rule, in_recycle_bin}], can_force}
 * in err.problem; the body may then be sent again with force_duplicate: true. */
export const createCustomer = (body, opts) => api.post(CUSTOMERS_PATH, body, opts)
export const updateCustomer = (id, body, opts) => api.patch(`/customers/${id}`, body, { ...versioned, ...opts })
export const deleteCustomer = (id, opts) => api.del(`/customers/${id}`, opts)
export const restoreCustomer = (id, opts) => api.post(`/customers/${id}/restore`, undefined, opts)
/** GET /customers/options?keyword= -> the top 20 of the caller's scope [{id, name, ...}] */
export const customerOptions = async (keyword, opts) => items(await api.get('/customers/options', { keyword: keyword || undefined }, opts))

/** GET /customers/{id}/history -> a page of {id, event_type, subject_type, subject_id, actor_name,
 * data: {changes?: [{field, before, after}], ...}, occurred_at}, newest first */
export const listCustomerHistory = (id, query, opts) => api.get(`/customers/${id}/history`, query, opts)

/** True for the 409 of the duplicate rule. */
export const isDuplicate = (err) => err?.status === 409 && err?.code === 'duplicate'

/** GET /customers/todos -> {today, overdue, not_followed, moved} counts for the caller. */
export const getTodos = (opts) => api.get('/customers/todos', { tz: tzOffset() }, opts)

// ---- contacts --------------------------------------------------------------------------------

export const listCustomerContacts = async (customerId, opts) => items(await api.get(`/customers/${customerId}/contacts`, undefined, opts))
export const createContact = (body, opts) => api.post(CONTACTS_PATH, body, opts)
export const updateContact = (id, body, opts) => api.patch(`/contacts/${id}`, body, { ...versioned, ...opts })
export const deleteContact = (id, opts) => api.del(`/contacts/${id}`, opts)
export const getContact = (id, opts) => api.get(`/contacts/${id}`, undefined, opts)

// ---- follow-ups ------------------------------------------------------------------------------

/** GET /customers/{id}/followups -> a page, newest first */
export const listCustomerFollowups = (customerId, query, opts) => api.get(`/customers/${customerId}/followups`, query, opts)
/** body: {customer_id, contact_at, method, content, contact_ids, next_contact_at} */
export const createFollowup = (body, opts) => api.post(FOLLOWUPS_PATH, body, opts)
export const updateFollowup = (id, body, opts) => api.patch(`/followups/${id}`, body, { ...versioned, ...opts })
export const getFollowup = (id, opts) => api.get(`/followups/${id}`, undefined, opts)

// ---- regions ---------------------------------------------------------------------------------

let regions = null // one load per page load: the tree does not change while the console runs

/** GET /regions -> provinces > cities > districts [{code, name, children}]; [] when it fails. */
export function loadRegions() {
  regions ||= api
    .get('/regions', undefined, { silent: true })
    .then(items)
    .catch(() => {
      regions = null // asked again next time
      return []
    })
  return regions
}
