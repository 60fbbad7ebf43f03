// SPDX-License-Identifier: Apache-2.0
// Calls of the auth service (users, roles, permissions, departments, data dictionary, own
// password). Pages use these functions, never the URLs; list pages hand the *_PATH constants
// to PageTable, which pages through them with the same client.
//
// Writes that carry a "version" are sent with { silent: isVersionConflict }: a stale version
// is explained by the page (FormDialog offers to reload), every other error is shown by the
// client as usual.
import api, { isVersionConflict } from './client'

export const USERS_PATH = '/users'
export const ROLES_PATH = '/roles'

export { isVersionConflict }

const enc = encodeURIComponent
const versioned = { silent: isVersionConflict }

/** Returns a copy without the keys whose value is undefined, null or '' (optional fields). */
export function compact(obj) {
  const out = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') out[k] = v
  return out
}

// ---- own account ---------------------------------------------------------------------------

/** body: {version, display_name?, phone?, email?} -> 200 the account (PATCH /auth/me) */
export const updateMe = (body) => api.patch('/auth/me', body, versioned)

// ---- sessions: online users (any user in scope) and one's own --------------------------------

export const SESSIONS_PATH = '/sessions'
export const MY_SESSIONS_PATH = '/auth/sessions'
/** Ends a session at once (its refresh and access tokens); 404 when it ended already. */
export const endSession = (id) => api.del(`${SESSIONS_PATH}/${id}`)
export const endMySession = (id) => api.del(`${MY_SESSIONS_PATH}/${id}`)

/**
 * POST /auth/password. On success (204) every token of the user is revoked: the caller ends
 * the session locally. A wrong old password must not be mistaken for an expired session, so
 * the first attempt does not refresh on 401; a 401 that is about the token ("unauthorized")
 * is retried once through the normal refresh path.
 */
export async function changePassword(oldPassword, newPassword, opts = {}) {
  const body = { old_password: oldPassword, new_password: newPassword }
  try {
    return await api.post('/auth/password', body, { ...opts, refresh: false, silent: true })
  } catch (err) {
    if (err?.status === 401 && (!err.code || err.code === 'unauthorized')) return api.post('/auth/password', body, opts)
    throw err
  }
}

// ---- users ---------------------------------------------------------------------------------

export const getUser = (id, opts) => api.get(`${USERS_PATH}/${id}`, undefined, opts)
/** body: {username, display_name, password, phone?, email?, dept_id?, role_ids?} -> 201 user */
export const createUser = (body) => api.post(USERS_PATH, body)
/** body: {version, display_name?, phone?, email?, dept_id?, role_ids?} -> 200 user */
export const updateUser = (id, body) => api.patch(`${USERS_PATH}/${id}`, body, versioned)
export const disableUser = (id, opts) => api.post(`${USERS_PATH}/${id}/disable`, undefined, opts)
export const enableUser = (id, opts) => api.post(`${USERS_PATH}/${id}/enable`, undefined, opts)
export const unlockUser = (id) => api.post(`${USERS_PATH}/${id}/unlock`)
export const resetUserPassword = (id, newPassword) =>
  api.post(`${USERS_PATH}/${id}/reset-password`, { new_password: newPassword })
export const forceLogoutUser = (id) => api.post(`${USERS_PATH}/${id}/force-logout`)

// ---- roles and permissions -----------------------------------------------------------------

export const getRole = (id, opts) => api.get(`${ROLES_PATH}/${id}`, undefined, opts)
/** body: {code, name, data_scope, description?, permissions?} -> 201 role */
export const createRole = (body) => api.post(ROLES_PATH, body)
/** body: {version, name?, data_scope?, description?, permissions?} -> 200 role */
export const updateRole = (id, body) => api.patch(`${ROLES_PATH}/${id}`, body, versioned)
export const deleteRole = (id) => api.del(`${ROLES_PATH}/${id}`)

/** Every role (the list is paged, at most 100 a page): for selects and filters. */
export async function listAllRoles(opts) {
  const all = []
  for (let page = 1; page <= 50; page++) {
    const resp = await api.get(ROLES_PATH, { page, page_size: 100 }, opts)
    const items = Array.isArray(resp?.items) ? resp.items : []
    all.push(...items)
    if (!items.length || all.length >= (Number(resp?.total) || 0)) break
  }
  return all
}

/** GET /permissions -> [{code, kind, name_zh, name_en}] */
export async function listPermissions(opts) {
  const resp = await api.get('/permissions', undefined, opts)
  return Array.isArray(resp?.items) ? resp.items : []
}

// ---- departments ---------------------------------------------------------------------------

/** GET /departments -> the tree [{id, parent_id, name, sort_order, version, children}] */
export async function listDepartments(opts) {
  const resp = await api.get('/departments', undefined, opts)
  return Array.isArray(resp?.items) ? resp.items : []
}
/** body: {name, parent_id?, leader_id?, phone?, email?, status?, sort_order?} -> 201 */
export const createDepartment = (body) => api.post('/departments', body)
/** body: {version, name?, parent_id?, leader_id?, phone?, email?, status?, sort_order?} -> 200;
 * a move under itself is a 422 on parent_id */
export const updateDepartment = (id, body) => api.patch(`/departments/${id}`, body, versioned)
/** A 409 conflict for a department still in use carries the counts 'children' and 'users' (err.problem) */
export const deleteDepartment = (id, opts) => api.del(`/departments/${id}`, opts)

// ---- data dictionary -----------------------------------------------------------------------

/** GET /dicts -> [{id, code, name_zh, name_en, builtin, version}] */
export async function listDicts(opts) {
  const resp = await api.get('/dicts', undefined, opts)
  return Array.isArray(resp?.items) ? resp.items : []
}
/** GET /dicts/{code}/items -> [{id, value, label_zh, label_en, sort_order, enabled, version}] */
export async function listDictItems(code, query, opts) {
  const resp = await api.get(`/dicts/${enc(code)}/items`, query, opts)
  return Array.isArray(resp?.items) ? resp.items : []
}
/** body: {code, name_zh, name_en} -> 201 */
export const createDict = (body) => api.post('/dicts', body)
/** body: {value, label_zh, label_en, sort_order?, enabled?} -> 201 */
export const createDictItem = (code, body) => api.post(`/dicts/${enc(code)}/items`, body)
/** body: {version, label_zh?, label_en?, sort_order?, enabled?} -> 200 */
export const updateDictItem = (code, id, body) => api.patch(`/dicts/${enc(code)}/items/${id}`, body, versioned)
