// SPDX-License-Identifier: Apache-2.0
// Where the session's tokens live: sessionStorage, so closing the browser tab ends the session.
const KEY = 'crm.auth'

/** Returns {access_token, refresh_token, token_type, expires_at} or null. */
export function loadTokens() {
  try {
    const raw = sessionStorage.getItem(KEY)
    const v = raw ? JSON.parse(raw) : null
    return v && typeof v.access_token === 'string' ? v : null
  } catch {
    return null
  }
}

/** Stores a token response of /auth/login or /auth/refresh; returns what was stored. */
export function saveTokens(resp) {
  const v = {
    access_token: resp.access_token,
    refresh_token: resp.refresh_token || null,
    token_type: resp.token_type || 'Bearer',
    expires_at: resp.expires_in ? Date.now() + Number(resp.expires_in) * 1000 : null,
  }
  sessionStorage.setItem(KEY, JSON.stringify(v))
  return v
}

export function clearTokens() {
  sessionStorage.removeItem(KEY)
}
