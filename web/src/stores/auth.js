// SPDX-License-Identifier: Apache-2.0
// The session: tokens (kept in sessionStorage by api/tokens.js) and the profile from /auth/me,
// whose roles, permissions and menus drive the side menu.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import api from '@/api/client'
import { loadTokens, saveTokens, clearTokens } from '@/api/tokens'
import { consoleMenus, isAvailable } from '@/utils/menu'

// A user holding this permission may do everything (RuoYi convention for the administrator).
export const ALL_PERMISSIONS = '*:*:*'

/**
 * Keeps the menu entries the user may see. An entry may name what it needs with
 * 'permission' (one string) or 'permissions' (any of a list), and 'permissionsAlso' (any of a
 * list, on top: see MANAGE_PERMISSIONS in utils/menu.js); one without either is shown. An entry
 * whose page the console does not have ('available', utils/menu.js) is dropped, and so is a
 * group whose children are all filtered out (its path is only their prefix).
 */
export function filterMenus(menus, can, available = isAvailable) {
  if (!Array.isArray(menus)) return []
  const out = []
  for (const m of menus) {
    if (!m || typeof m !== 'object' || !available(m)) continue
    const needs = [m.permission, ...(Array.isArray(m.permissions) ? m.permissions : [])].filter(Boolean)
    if (needs.length && !needs.some(can)) continue
    if (Array.isArray(m.permissionsAlso) && m.permissionsAlso.length && !m.permissionsAlso.some(can)) continue
    const children = filterMenus(m.children, can, available)
    if (Array.isArray(m.children) && m.children.length && !children.length) continue
    out.push({ ...m, children })
  }
  return out
}

export const useAuthStore = defineStore('auth', () => {
  const tokens = ref(loadTokens())
  const profile = ref(null)
  const profileError = ref(null) // ApiError of the last failed /auth/me, if any
  const profileLoading = ref(false)
  const expired = ref(false) // the session ended by itself (refresh failed): the login page says so

  const isLoggedIn = computed(() => !!tokens.value?.access_token)
  const permissions = computed(() => new Set(profile.value?.permissions || []))
  const roles = computed(() => profile.value?.roles || [])
  const displayName = computed(() => profile.value?.display_name || profile.value?.username || '')

  function hasPermission(p) {
    return permissions.value.has(ALL_PERMISSIONS) || permissions.value.has(p)
  }

  const menus = computed(() => filterMenus(consoleMenus(profile.value?.menus), hasPermission))

  /** POST /auth/login. Throws ApiError on failure; the login page shows it (shownInPlace). */
  async function login(username, password) {
    const resp = await api.post('/auth/login', { username, password }, { auth: false })
    if (!resp?.access_token) throw new Error('login answer has no access_token')
    tokens.value = saveTokens(resp)
    expired.value = false
    profile.value = null
    profileError.value = null
  }

  /**
   * GET /auth/me. Failures are kept in 'profileError' and shown by the layout: no profile is
   * made up, the menu stays empty. Returns true when the profile was loaded.
   */
  async function fetchProfile() {
    profileLoading.value = true
    try {
      profile.value = await api.get('/auth/me', undefined, { silent: true })
      profileError.value = null
      return true
    } catch (err) {
      profile.value = null
      profileError.value = err
      return false
    } finally {
      profileLoading.value = false
    }
  }

  /** Forgets the session locally (no server call). */
  function clear() {
    clearTokens()
    tokens.value = null
    profile.value = null
    profileError.value = null
  }

  /** POST /auth/logout (revokes the tokens on the server), then forgets them here. */
  async function logout() {
    const current = loadTokens() // the client may have refreshed them since
    const rt = current?.refresh_token
    try {
      if (current) await api.post('/auth/logout', rt ? { refresh_token: rt } : {}, { silent: true, refresh: false })
    } catch {
      /* the session ends here whatever the server said */
    } finally {
      clear()
    }
  }

  /** Called by the API client when a refresh failed. */
  function sessionEnded() {
    expired.value = true
    tokens.value = null
    profile.value = null
    profileError.value = null
  }

  return {
    tokens, profile, profileError, profileLoading, expired, isLoggedIn, permissions, roles, displayName, menus,
    hasPermission, login, fetchProfile, logout, clear, sessionEnded,
  }
})
