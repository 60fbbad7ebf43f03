// SPDX-License-Identifier: Apache-2.0
// The one HTTP client of the web app. Every call to /api/v1/... goes through request():
//  - attaches "Authorization: Bearer <access_token>" and a fresh X-Request-Id;
//  - on 401 refreshes the tokens ONCE (shared by concurrent calls) and retries the call once,
//    otherwise ends the session and sends the user to /login;
//  - turns application/problem+json errors into an ApiError whose fieldErrors forms show next to
//    the fields. Both are said in the user's language from their stable codes (errors.<code>,
//    fieldErrors.<code> with the error's params); the server's English sentence only when this
//    console does not know the code (tests/contract/errcodes.test.mjs keeps that from happening). An error is shown once: a page that shows it in place (a form's alert, a field)
//    calls shownInPlace(err) when it catches it; every other error becomes a toast (the request
//    id behind a "details" link, not in the sentence). Toasts close on navigation (router);
//  - explains 429 and 503 with the server's Retry-After;
//  - sends an Idempotency-Key with every authenticated POST (a create), the same one on the retry
//    after a refresh and when the user sends the same request again after it failed without an
//    answer (network error, 5xx): the server then answers with the first answer instead of
//    creating the record twice.
import { h } from 'vue'
import { ElMessage } from 'element-plus'
import { i18n, t } from '@/i18n'
import ErrorDetails from '@/components/ErrorDetails.vue'
import { loadTokens, saveTokens, clearTokens } from './tokens'

export const API_BASE = '/api/v1'

/** Error thrown for every failed call. 'status' is 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor({ status, code, title, detail, fieldErrors, requestId, retryAfter, problem }) {
    super(detail || title || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.code = code || null
    this.title = title || null
    this.detail = detail || null
    this.fieldErrors = fieldErrors || {} // { field: message in the user's language }
    this.requestId = requestId || null
    this.retryAfter = retryAfter ?? null // seconds, or null
    this.problem = problem || null // the raw problem+json body, if any
  }
}

/** True for the 409 a write gets when the record changed since it was read (stale "version"). */
export const isVersionConflict = (err) => err?.status === 409 && err?.code === 'version_conflict'

/** A per-request id. crypto.randomUUID exists only in secure contexts (HTTPS, localhost). */
export function newRequestId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// Called when the session cannot be saved (refresh failed); main.js routes to /login.
let onSessionEnded = () => {}
export function setSessionEndedHandler(fn) {
  onSessionEnded = fn
}

/** Builds "/api/v1/<path>?<query>"; undefined, null and '' query values are left out. */
export function apiUrl(path, query) {
  const p = path.startsWith('/') ? path : `/${path}`
  let url = p.startsWith(API_BASE + '/') ? p : API_BASE + p
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      if (Array.isArray(v)) v.forEach((x) => qs.append(k, x))
      else qs.append(k, v)
    }
    const s = qs.toString()
    if (s) url += `?${s}`
  }
  return url
}

/** Retry-After is either seconds or an HTTP date; returns whole seconds or null. */
function parseRetryAfter(value) {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const when = Date.parse(value)
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000))
}

async function readBody(resp) {
  if (resp.status === 204 || resp.status === 205) return null
  const type = resp.headers.get('Content-Type') || ''
  let text
  try {
    text = await resp.text()
  } catch {
    return undefined // connection dropped while reading the body
  }
  if (!text) return null
  if (type.includes('json')) {
    try {
      return JSON.parse(text)
    } catch {
      return undefined // claimed JSON but is not
    }
  }
  return undefined // HTML error page of a proxy, plain text...
}

const known = (key) => i18n.global.te(key)

/**
 * The text of one field error {field, code, params, message} in the user's language:
 * fieldErrors.<code> with its params (a JSON type in 'type' named in words too); the server's
 * 'message' only when the code is unknown here.
 */
export function fieldErrorText(e) {
  const code = typeof e?.code === 'string' ? e.code : ''
  if (code && known(`fieldErrors.${code}`)) {
    const params = { ...(e.params && typeof e.params === 'object' ? e.params : {}) }
    if (typeof params.type === 'string' && known(`jsonTypes.${params.type}`)) params.type = t(`jsonTypes.${params.type}`)
    return t(`fieldErrors.${code}`, params)
  }
  return e?.message || ''
}

/** The text of a problem 'code' in the user's language, or null when this console lacks it. */
export function problemText(code) {
  return typeof code === 'string' && code && known(`errors.${code}`) ? t(`errors.${code}`) : null
}

/** Builds the ApiError for a non-2xx response. */
function toApiError(resp, body, requestId) {
  const status = resp.status
  const retryAfter = parseRetryAfter(resp.headers.get('Retry-After'))
  const problem = body && typeof body === 'object' ? body : null
  const fieldErrors = {}
  if (Array.isArray(problem?.errors)) {
    for (const e of problem.errors) {
      if (e && e.field && !fieldErrors[e.field]) fieldErrors[e.field] = fieldErrorText(e)
    }
  }
  // an error of the request or record as a whole (field ""): what the user reads first
  const whole = Array.isArray(problem?.errors)
    ? problem.errors.find((e) => e && e.field === '' && known(`fieldErrors.${e.code}`))
    : null
  let detail = problem?.detail || null
  let title = problem?.title || null
  if (status === 429) {
    detail = retryAfter != null ? t('error.rateLimited', { seconds: retryAfter }) : t('error.rateLimitedNoWait')
  } else if (status === 503 && (retryAfter != null || !detail)) {
    detail = retryAfter != null ? t('error.unavailable', { seconds: retryAfter }) : t('error.unavailableNoWait')
  } else if (whole) {
    detail = fieldErrorText(whole)
  } else if (problemText(problem?.code)) {
    detail = problemText(problem.code)
  } else if (!detail && !title) {
    detail = body === undefined ? t('error.badResponse', { status }) : t('error.http', { status })
  }
  return new ApiError({
    status,
    code: problem?.code,
    title,
    detail,
    fieldErrors,
    requestId: resp.headers.get('X-Request-Id') || requestId,
    retryAfter,
    problem,
  })
}

// The app's context (i18n...) for the components inside toasts; main.js sets it.
let appContext = null
export function setAppContext(ctx) {
  appContext = ctx
}

/** Shows an ApiError as a toast: its message, and its request id on demand. */
export function showError(err) {
  const text = err.detail || err.title || err.message
  ElMessage(
    {
      type: 'error',
      message: err.requestId ? h('span', [text, h(ErrorDetails, { requestId: err.requestId })]) : text,
      showClose: true,
      duration: 6000,
      customClass: 'crm-api-error',
    },
    appContext,
  )
}

/**
 * Tells the client that the page shows this error where it belongs (a form, a field, a table):
 * no toast then. Call it in the catch of the call; returns the error.
 */
export function shownInPlace(err) {
  if (err && typeof err === 'object') err.shownInPlace = true
  return err
}

// The toast waits until the caller's catch has run (promise callbacks run before a timer).
function showUnlessPlaced(err) {
  setTimeout(() => err.shownInPlace || showError(err), 0)
}

// Idempotency keys of POSTs that failed without a usable answer, by path and body, so that the
// same create sent again reuses its key (a success or a 4xx forgets it). Bounded: a long outage
// must not grow it without end.
const pendingKeys = new Map()
const PENDING_KEYS_MAX = 50

function idempotencyKeyFor(sig, given) {
  if (given) return given
  return pendingKeys.get(sig) ?? newRequestId()
}

function rememberKey(sig, key, status) {
  if (status === 0 || status >= 500) {
    pendingKeys.delete(sig)
    pendingKeys.set(sig, key)
    while (pendingKeys.size > PENDING_KEYS_MAX) pendingKeys.delete(pendingKeys.keys().next().value)
  } else {
    pendingKeys.delete(sig)
  }
}

// One refresh at a time: concurrent 401s wait for the same promise.
let refreshing = null

async function refreshTokens() {
  const tokens = loadTokens()
  if (!tokens?.refresh_token) return false
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const resp = await fetch(apiUrl('/auth/refresh'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Request-Id': newRequestId() },
          body: JSON.stringify({ refresh_token: tokens.refresh_token }),
          credentials: 'same-origin',
        })
        if (!resp.ok) return false
        const body = await resp.json()
        if (!body?.access_token) return false
        saveTokens(body)
        return true
      } catch {
        return false
      } finally {
        refreshing = null
      }
    })()
  }
  return refreshing
}

// The login page says that the session expired (in place): no toast here.
function endSession() {
  clearTokens()
  onSessionEnded()
}

/**
 * Sends one API call and returns the parsed JSON body (null for an empty body).
 *  'method'  HTTP method.
 *  'path'    "/customers" or "/api/v1/customers".
 *  'opts.query'   object of query parameters; 'opts.body' is sent as JSON.
 *  'opts.auth'    false for calls that must not carry a token nor refresh it (login).
 *  'opts.refresh' false: a 401 is just an error (no refresh, the session is not ended).
 *  'opts.silent'  true: never show the error, the caller shows it itself; or a function
 *                 (err) => boolean that keeps only the errors it picks quiet. Without it, the
 *                 error is a toast unless the caller calls shownInPlace(err) in its catch.
 *  'opts.signal'  an AbortSignal.
 *  'opts.idempotencyKey'  the Idempotency-Key of an authenticated POST (default: a new one, or
 *                 the key of the same request that failed without an answer).
 * Throws ApiError on any failure (status 0 when the server could not be reached).
 */
export async function request(method, path, opts = {}) {
  const { query, body, auth = true, refresh = true, silent = false, signal, headers = {} } = opts
  const sig = method === 'POST' && auth ? `${apiUrl(path, query)} ${JSON.stringify(body ?? null)}` : null
  const idemKey = sig ? idempotencyKeyFor(sig, opts.idempotencyKey) : null
  const send = async () => {
    const requestId = newRequestId()
    const h = { Accept: 'application/json, application/problem+json', 'X-Request-Id': requestId, ...headers }
    if (body !== undefined) h['Content-Type'] = 'application/json'
    const tokens = auth ? loadTokens() : null
    if (tokens) h.Authorization = `Bearer ${tokens.access_token}`
    if (tokens && idemKey) h['Idempotency-Key'] = idemKey
    let resp
    try {
      resp = await fetch(apiUrl(path, query), {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal,
      })
    } catch (e) {
      if (e?.name === 'AbortError') throw e
      throw new ApiError({ status: 0, detail: t('error.network'), requestId })
    }
    return { resp, requestId, hadToken: !!tokens }
  }

  try {
    let { resp, requestId, hadToken } = await send()
    if (resp.status === 401 && hadToken && refresh) {
      if (await refreshTokens()) ({ resp, requestId } = await send())
      if (resp.status === 401) {
        endSession()
        const err = toApiError(resp, await readBody(resp), requestId)
        err.sessionEnded = true // already told the user; do not show it again
        throw err
      }
    }
    const data = await readBody(resp)
    if (sig) rememberKey(sig, idemKey, resp.ok ? 200 : resp.status)
    if (resp.ok) return data === undefined ? null : data
    throw toApiError(resp, data, requestId)
  } catch (err) {
    if (sig && err instanceof ApiError && err.status === 0) rememberKey(sig, idemKey, 0)
    const quiet = typeof silent === 'function' ? silent(err) : silent
    if (err instanceof ApiError && !quiet && !err.sessionEnded) showUnlessPlaced(err)
    throw err
  }
}

export const api = {
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, body, opts) => request('POST', path, { ...opts, body }),
  put: (path, body, opts) => request('PUT', path, { ...opts, body }),
  patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
}

export default api
