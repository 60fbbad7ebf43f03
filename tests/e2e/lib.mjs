// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the browser tests: the stack's address and accounts from the environment,
// one Chromium profile per test file with a fresh logged-out tab per test, tests with a time
// limit (and a screenshot on failure), API calls and logins without the browser, logins through
// the form, and waiting for what the pages show. Not a test file: node --test runs *.test.mjs.
//
//   CRM_TEST_GATEWAY             the stack (default http://127.0.0.1:9080)
//   CRM_CHROMIUM                 the browser (default Debian's /usr/bin/chromium)
//   CRM_TEST_ADMIN_USER/_PASSWORD, CRM_TEST_VIEWER_USER/_PASSWORD, CRM_TEST_USER/_PASSWORD,
//   CRM_TEST_MANAGER_USER/_PASSWORD (a customer manager; default: the first customer_manager of
//                                CRM_TEST_CREDENTIALS, the demo accounts file, .run/test/credentials)
//                                accounts; the tests that need one are skipped without it
//   CRM_E2E_UPDATE_SCREENSHOTS=1 rewrites the committed screenshots/<name>.png (README images),
//                                otherwise screenshots are written as <name>.tmp.png (ignored by git)
import { test as nodeTest, before, after, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { SERVICES } from '../services.mjs'

/** The services the dashboard lists (shared/services.def). */
export { SERVICES }

export const GATEWAY = (process.env.CRM_TEST_GATEWAY || 'http://127.0.0.1:9080').replace(/\/+$/, '')
export const CHROMIUM = process.env.CRM_CHROMIUM || '/usr/bin/chromium'
export const ADMIN_USER = process.env.CRM_TEST_ADMIN_USER
export const ADMIN_PASSWORD = process.env.CRM_TEST_ADMIN_PASSWORD
export const VIEWER_USER = process.env.CRM_TEST_VIEWER_USER
export const VIEWER_PASSWORD = process.env.CRM_TEST_VIEWER_PASSWORD
export const USER = process.env.CRM_TEST_USER
export const PASSWORD = process.env.CRM_TEST_PASSWORD
const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots')

/** The first account of 'role' in the demo accounts file ("username password role" lines), or {}. */
function demoAccount(role) {
  const file = process.env.CRM_TEST_CREDENTIALS || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.run', 'test', 'credentials')
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [user, password, r] = line.trim().split(/\s+/)
      if (r === role && user && password) return { user, password }
    }
  } catch {
    /* no demo accounts: the tests that need one are skipped */
  }
  return {}
}
const manager = process.env.CRM_TEST_MANAGER_USER
  ? { user: process.env.CRM_TEST_MANAGER_USER, password: process.env.CRM_TEST_MANAGER_PASSWORD }
  : demoAccount('customer_manager')
export const MANAGER_USER = manager.user
export const MANAGER_PASSWORD = manager.password
// a sales director (CRM_TEST_DIRECTOR_USER/_PASSWORD or the demo accounts file's first)
const director = process.env.CRM_TEST_DIRECTOR_USER
  ? { user: process.env.CRM_TEST_DIRECTOR_USER, password: process.env.CRM_TEST_DIRECTOR_PASSWORD }
  : demoAccount('sales_director')
export const DIRECTOR_USER = director.user
export const DIRECTOR_PASSWORD = director.password
export const skipDirector = !(DIRECTOR_USER && DIRECTOR_PASSWORD) && 'set CRM_TEST_DIRECTOR_USER and CRM_TEST_DIRECTOR_PASSWORD'

export const skipAdmin = !(ADMIN_USER && ADMIN_PASSWORD) && 'set CRM_TEST_ADMIN_USER and CRM_TEST_ADMIN_PASSWORD'
export const skipManager = !(MANAGER_USER && MANAGER_PASSWORD) && 'set CRM_TEST_MANAGER_USER and CRM_TEST_MANAGER_PASSWORD'
export const skipViewer = !(VIEWER_USER && VIEWER_PASSWORD) && 'set CRM_TEST_VIEWER_USER and CRM_TEST_VIEWER_PASSWORD'

/** screenshots/<name>.png with CRM_E2E_UPDATE_SCREENSHOTS=1, otherwise <name>.tmp.png. */
export function shotPath(name) {
  fs.mkdirSync(SHOTS, { recursive: true })
  return path.join(SHOTS, process.env.CRM_E2E_UPDATE_SCREENSHOTS === '1' ? `${name}.png` : `${name}.tmp.png`)
}

// ---- the browser -----------------------------------------------------------------------------

// One persistent context on a new, empty profile directory, and the tab of the running test.
// Live bindings: a test file that imports 'page' sees the tab useBrowser() opened for its test.
export let context
export let page

/**
 * Registers the hooks of a test file's browser: before all tests, check that the gateway
 * answers and launch Chromium on a new profile ('profilePrefix' in the temp directory) with
 * 'viewport', Chinese locale and the options 'contextOptions' resolves to (called once the
 * gateway answered); before each test, a new tab on the login page with empty storage; after
 * it, the tab closed. With 'enabled' false (no account for any test) nothing is launched.
 */
export function useBrowser({ profilePrefix, viewport, contextOptions = async () => ({}), enabled = true }) {
  let profileDir

  before(async () => {
    if (!enabled) return
    // Fail early and clearly when the stack is not there, instead of timing out page by page.
    try {
      await fetch(`${GATEWAY}/`, { signal: AbortSignal.timeout(5000) })
    } catch (e) {
      throw new Error(`the gateway at CRM_TEST_GATEWAY=${GATEWAY} does not answer: ${e.cause?.code || e.message}`)
    }
    const extra = await contextOptions()
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), profilePrefix))
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport,
      locale: 'zh-CN',
      ...extra,
    })
    // a loaded 2-core machine (the whole suite, a build beside it) draws a dialog or a list in
    // seconds, not milliseconds: a wait fails after 20 s, not 10
    context.setDefaultTimeout(20000)
  })

  after(async () => {
    await context?.close()
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true })
  })

  // Every test starts logged out, in the default language (Chinese), on a fresh tab.
  beforeEach(async () => {
    if (!context) return
    page = await context.newPage()
    await page.goto(`${GATEWAY}/login`)
    await page.evaluate(() => {
      localStorage.clear()
      sessionStorage.clear()
    })
  })

  afterEach(async () => {
    await page?.close()
    page = null
  })
}

/**
 * node:test's test(name, [opts,] fn) with a time limit, so a page that never shows what is
 * awaited fails instead of hanging. With 'failedShot' a failure also reports the messages the
 * page was showing (API errors carry their request id) and leaves a screenshot,
 * <failedShot>-<n>.tmp.png.
 */
export function timedTest({ timeout, failedShot }) {
  let failures = 0
  return (name, opts, fn) => {
    if (typeof opts === 'function') [opts, fn] = [{}, opts]
    return nodeTest(name, { timeout, ...opts }, async (t) => {
      try {
        await fn(t)
      } catch (err) {
        if (failedShot && page && !page.isClosed()) {
          const shown = await page.locator('.el-message, .el-alert, .el-form-item__error').allInnerTexts().catch(() => [])
          const texts = shown.map((x) => x.trim()).filter(Boolean)
          if (texts.length) err.message += `\n  shown on ${page.url()}: ${texts.join(' | ')}`
          fs.mkdirSync(SHOTS, { recursive: true })
          await page.screenshot({ path: path.join(SHOTS, `${failedShot}-${++failures}.tmp.png`) }).catch(() => {})
        }
        throw err
      }
    })
  }
}

// ---- the API without the browser (set-up of test data) ------------------------------------------

export const randomName = () => `e2e_${crypto.randomBytes(5).toString('hex')}`
// Long, random, not a common password: passes the 12..128 policy.
export const randomPassword = () => `E2e-${crypto.randomBytes(12).toString('base64url')}`

/** A JSON call to the API; 'requestId' is sent as X-Request-Id (the client's correlation id:
 * the gateway makes the request id). Returns the parsed body. */
export async function apiCall(method, p, opts = {}) {
  return (await apiCallWithId(method, p, opts)).data
}

/** apiCall, returning { data, requestId } with the request id the gateway gave the call. */
export async function apiCallWithId(method, p, { token, body, requestId } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  if (requestId) headers['X-Request-Id'] = requestId
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const r = await fetch(`${GATEWAY}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await r.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = text
  }
  if (!r.ok) throw new Error(`${method} ${p} -> HTTP ${r.status}: ${text.slice(0, 300)}`)
  return { data, requestId: r.headers.get('x-request-id') }
}

// Logins are throttled per address (30 a minute, shared with every other client on this host)
// and per account (10): the tests log in as few times as they can, and wait out a 429 once.
const retryAfter = (header) => Math.min(65, Math.max(1, Number(header) || 60))

/** POST /auth/login -> the token response. */
export async function apiLogin(username, password) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`${GATEWAY}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    })
    if (r.status === 429 && attempt === 0) {
      await r.arrayBuffer()
      await new Promise((ok) => setTimeout(ok, retryAfter(r.headers.get('retry-after')) * 1000))
      continue
    }
    const text = await r.text()
    if (!r.ok) throw new Error(`login of ${username} -> HTTP ${r.status}: ${text.slice(0, 300)}`)
    return JSON.parse(text)
  }
}

// One API login of the administrator per test file, shared by the tests that need no login form.
let adminTokens = null
export const adminSession = async () => (adminTokens ||= await apiLogin(ADMIN_USER, ADMIN_PASSWORD))

// ---- the pages -------------------------------------------------------------------------------

export const visible = (selector) => page.locator(selector).filter({ visible: true })
export const pathOf = (r) => new URL(r.url()).pathname

/** Logs in through the login form (waiting out one 429). Returns when the layout shows. */
export async function login(username, password) {
  await page.goto(`${GATEWAY}/login`)
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  for (let attempt = 0; ; attempt++) {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => pathOf(r) === '/api/v1/auth/login'),
      page.getByTestId('login-submit').click(),
    ])
    if (resp.status() === 429 && attempt === 0) {
      await page.waitForTimeout(retryAfter(resp.headers()['retry-after']) * 1000)
      continue
    }
    assert.equal(resp.status(), 200, `login of ${username}: HTTP ${resp.status()} ${await resp.text()}`)
    break
  }
  await page.waitForURL((u) => u.pathname !== '/login')
  await page.getByTestId('sidebar').waitFor()
}

/** Starts the tab logged in with tokens from the API (as the login page stores them). */
export async function startSession(tokens) {
  await page.evaluate((t) => {
    const expiresAt = Date.now() + Number(t.expires_in || 900) * 1000
    sessionStorage.setItem(
      'crm.auth',
      JSON.stringify({ access_token: t.access_token, refresh_token: t.refresh_token, token_type: 'Bearer', expires_at: expiresAt }),
    )
  }, tokens)
  await page.goto(`${GATEWAY}/dashboard`)
  await page.getByTestId('user-menu').waitFor() // the layout (on a phone the side menu is a hidden drawer)
}

/** Starts the tab logged in with 'tokens', the console in 'locale', at 'viewport' (when given). */
export async function startSessionIn(tokens, { locale = 'zh-CN', viewport } = {}) {
  if (viewport) await page.setViewportSize(viewport)
  await page.goto(`${GATEWAY}/login`)
  await page.evaluate((l) => localStorage.setItem('crm.locale', l), locale)
  await startSession(tokens)
}

/** Opens a page through the side menu: <group> > <title>, and waits for its address. */
export async function openMenu(group, title, pathname) {
  const groupTitle = page.getByTestId('sidebar').locator('.el-sub-menu__title', { hasText: group })
  const entry = page.getByTestId('sidebar').locator('.el-menu-item', { hasText: title })
  if (!(await entry.isVisible())) await groupTitle.click()
  await entry.click()
  await page.waitForURL((u) => u.pathname === pathname)
}

/** The table rows (not the fixed-column copies) of an el-table; the first one with 'text'. */
export const rowsOf = (tableTestId) => page.getByTestId(tableTestId).locator('.el-table__body-wrapper tr.el-table__row')
export const rowOf = (tableTestId, text) => rowsOf(tableTestId).filter({ hasText: text }).first()

/** Waits until the el-table of 'testId' is not loading any more. */
export async function tableSettled(testId) {
  await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`)
    return el && !el.querySelector('.el-loading-mask:not([style*="display: none"])')
  }, testId)
}

/** No toast, tooltip or hover left on the page (for screenshots). */
export async function settleForScreenshot() {
  await page.mouse.move(1, 1)
  await page.waitForFunction(() => !document.querySelector('.el-message'), null, { timeout: 10000 }).catch(() => {})
  await page.waitForTimeout(400)
}
