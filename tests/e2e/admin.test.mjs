// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the system administrator's pages (users, roles, dictionaries, own
// password, 403 page) in Debian's Chromium, against a running stack with the auth service.
//
//   CRM_TEST_GATEWAY=http://127.0.0.1:9080 \
//   CRM_TEST_ADMIN_USER=admin CRM_TEST_ADMIN_PASSWORD=... \
//   CRM_TEST_VIEWER_USER=viewer CRM_TEST_VIEWER_PASSWORD=... node --test tests/e2e/
//
// The admin tests run only with CRM_TEST_ADMIN_USER/CRM_TEST_ADMIN_PASSWORD, the 403 test only
// with CRM_TEST_VIEWER_USER/CRM_TEST_VIEWER_PASSWORD (a user without system:user:read, such as
// the demo "viewer"). They create users named e2e_<random> (the API has no user deletion; they
// are left disabled or with a changed password). CRM_E2E_UPDATE_SCREENSHOTS=1 rewrites
// screenshots/users.png and roles.png, otherwise *.tmp.png files are written (ignored by git).
import { test as nodeTest, before, after, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const GATEWAY = (process.env.CRM_TEST_GATEWAY || 'http://127.0.0.1:9080').replace(/\/+$/, '')
const CHROMIUM = process.env.CRM_CHROMIUM || '/usr/bin/chromium'
const ADMIN_USER = process.env.CRM_TEST_ADMIN_USER
const ADMIN_PASSWORD = process.env.CRM_TEST_ADMIN_PASSWORD
const VIEWER_USER = process.env.CRM_TEST_VIEWER_USER
const VIEWER_PASSWORD = process.env.CRM_TEST_VIEWER_PASSWORD
const HERE = path.dirname(fileURLToPath(import.meta.url))
const SHOTS = path.join(HERE, 'screenshots')
const BUILTIN_ROLES = ['admin', 'sales_director', 'customer_manager', 'readonly']

const skipAdmin = !(ADMIN_USER && ADMIN_PASSWORD) && 'set CRM_TEST_ADMIN_USER and CRM_TEST_ADMIN_PASSWORD'
const skipViewer = !(VIEWER_USER && VIEWER_PASSWORD) && 'set CRM_TEST_VIEWER_USER and CRM_TEST_VIEWER_PASSWORD'
const anything = !skipAdmin || !skipViewer

// Every test gets a time limit, so a page that never shows what is awaited fails instead of hanging.
// A failure also reports the messages the page was showing (API errors carry their request id)
// and leaves a screenshot, failed-<n>.tmp.png.
let failures = 0
const test = (name, opts, fn) =>
  nodeTest(name, { timeout: 180000, ...opts }, async (t) => {
    try {
      await fn(t)
    } catch (err) {
      if (page && !page.isClosed()) {
        const shown = await page.locator('.el-message, .el-alert, .el-form-item__error').allInnerTexts().catch(() => [])
        const texts = shown.map((x) => x.trim()).filter(Boolean)
        if (texts.length) err.message += `\n  shown on ${page.url()}: ${texts.join(' | ')}`
        fs.mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: path.join(SHOTS, `failed-${++failures}.tmp.png`) }).catch(() => {})
      }
      throw err
    }
  })

let context
let profileDir
let page

const randomName = () => `e2e_${crypto.randomBytes(5).toString('hex')}`
// Long, random, not a common password: passes the 12..128 policy.
const randomPassword = () => `E2e-${crypto.randomBytes(12).toString('base64url')}`

function shotPath(name) {
  fs.mkdirSync(SHOTS, { recursive: true })
  return path.join(SHOTS, process.env.CRM_E2E_UPDATE_SCREENSHOTS === '1' ? `${name}.png` : `${name}.tmp.png`)
}

/** A JSON call to the API without the browser (set-up of test data). */
async function apiCall(method, p, { token, body } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
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
  return data
}
// Logins are throttled per address (30 a minute, shared with every other client on this host)
// and per account (10): the tests log in as few times as they can, and wait out a 429 once.
const retryAfter = (header) => Math.min(65, Math.max(1, Number(header) || 60))

/** POST /auth/login -> the token response. */
async function apiLogin(username, password) {
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

// One API login of the administrator, shared by the tests that need no login form.
let adminTokens = null
const adminSession = async () => (adminTokens ||= await apiLogin(ADMIN_USER, ADMIN_PASSWORD))

before(async () => {
  if (!anything) return
  try {
    await fetch(`${GATEWAY}/`, { signal: AbortSignal.timeout(5000) })
  } catch (e) {
    throw new Error(`the gateway at CRM_TEST_GATEWAY=${GATEWAY} does not answer: ${e.cause?.code || e.message}`)
  }
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-e2e-admin-'))
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 860 },
    locale: 'zh-CN',
  })
  context.setDefaultTimeout(10000)
})

after(async () => {
  await context?.close()
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true })
})

// Every test starts logged out, in Chinese, on a fresh tab.
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

const visible = (selector) => page.locator(selector).filter({ visible: true })

/** Logs in through the login form (waiting out one 429). */
async function login(username, password) {
  await page.goto(`${GATEWAY}/login`)
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  for (let attempt = 0; ; attempt++) {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login'),
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
async function startSession(tokens) {
  await page.evaluate((t) => {
    const expiresAt = Date.now() + Number(t.expires_in || 900) * 1000
    sessionStorage.setItem(
      'crm.auth',
      JSON.stringify({ access_token: t.access_token, refresh_token: t.refresh_token, token_type: 'Bearer', expires_at: expiresAt }),
    )
  }, tokens)
  await page.goto(`${GATEWAY}/dashboard`)
  await page.getByTestId('sidebar').waitFor()
}

/** Opens a page through the side menu: 系统管理 > <title>. */
async function openSystemMenu(title, pathname) {
  const group = page.getByTestId('sidebar').locator('.el-sub-menu__title', { hasText: '系统管理' })
  const entry = page.getByTestId('sidebar').locator('.el-menu-item', { hasText: title })
  if (!(await entry.isVisible())) await group.click()
  await entry.click()
  await page.waitForURL((u) => u.pathname === pathname)
}

/** The table row (not the fixed-column copy) whose text has 'text'. */
const rowOf = (tableTestId, text) => page.getByTestId(tableTestId).locator('.el-table__body-wrapper tr.el-table__row', { hasText: text }).first()

/** No toast, tooltip or hover left on the page (for screenshots). */
async function settleForScreenshot() {
  await page.mouse.move(1, 1)
  await page.waitForFunction(() => !document.querySelector('.el-message'), null, { timeout: 10000 }).catch(() => {})
  await page.waitForTimeout(400)
}

/** Waits until the el-table of 'testId' is not loading any more. */
async function tableSettled(testId) {
  await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`)
    return el && !el.querySelector('.el-loading-mask:not([style*="display: none"])')
  }, testId)
}

test('admin: create a user, find it, disable it', { skip: skipAdmin }, async () => {
  await login(ADMIN_USER, ADMIN_PASSWORD)
  await openSystemMenu('用户管理', '/system/users')
  await page.getByTestId('users-page').waitFor()
  await tableSettled('users-table')
  assert.equal(await page.getByTestId('forbidden').count(), 0, 'the admin may see the users page')

  const username = randomName()
  await page.getByTestId('user-create').click()
  const dialog = visible('[data-testid="user-dialog"]')
  await dialog.waitFor()
  await dialog.getByTestId('user-form-username').fill(username)
  await dialog.getByTestId('user-form-display-name').fill(`E2E ${username}`)
  await dialog.getByTestId('user-form-password').fill(randomPassword())
  await dialog.getByTestId('user-form-email').fill(`${username}@example.com`)
  const [created] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(created.status(), 201, `POST /users: ${await created.text()}`)
  const sent = JSON.parse(created.request().postData())
  assert.equal(sent.username, username)
  assert.equal(sent.email, `${username}@example.com`)
  assert.ok(!('phone' in sent), 'an empty optional field is not sent')
  await dialog.waitFor({ state: 'hidden' })

  // Find it with the keyword search (the list may have more than one page).
  await page.getByTestId('users-q').fill(username)
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users' && new URL(r.url()).searchParams.get('q') === username),
    page.getByTestId('users-q').press('Enter'),
  ])
  await tableSettled('users-table')
  const row = rowOf('users-table', username)
  await row.waitFor()
  assert.equal((await row.getByTestId('user-status').innerText()).trim(), '正常')
  assert.match(await row.innerText(), new RegExp(`E2E ${username}`))

  // Disable it: confirm, then the status tag says so.
  await row.getByTestId('user-toggle').click()
  await visible('.el-message-box').waitFor()
  const [disabled] = await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/users\/\d+\/disable$/.test(new URL(r.url()).pathname)),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(disabled.status(), 200, `POST /users/{id}/disable: ${await disabled.text()}`)
  await page.waitForFunction(
    (name) =>
      [...document.querySelectorAll('[data-testid="users-table"] .el-table__body-wrapper tr.el-table__row')].some(
        (tr) => tr.textContent.includes(name) && tr.querySelector('[data-testid="user-status"]')?.textContent.trim() === '停用',
      ),
    username,
  )
  assert.equal((await rowOf('users-table', username).getByTestId('user-toggle').innerText()).trim(), '启用', 'the action becomes 启用')

  // A screenshot for the README: the demo account managers (with departments and roles)
  // rather than the e2e users that earlier runs left behind (users cannot be deleted).
  await page.getByTestId('users-q').fill('manager')
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users' && new URL(r.url()).searchParams.get('q') === 'manager'),
    page.getByTestId('users-q').press('Enter'),
  ])
  await tableSettled('users-table')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('users') })
})

test('admin: the roles page lists the four built-in roles', { skip: skipAdmin }, async () => {
  await startSession(await adminSession())
  await openSystemMenu('角色管理', '/system/roles')
  await page.getByTestId('roles-page').waitFor()
  await tableSettled('roles-table')
  for (const code of BUILTIN_ROLES) {
    const row = rowOf('roles-table', code)
    await row.waitFor()
    assert.equal(await row.getByTestId('role-builtin').count(), 1, `${code} is tagged as built-in`)
    assert.equal(await row.getByTestId('role-delete').count(), 0, `${code} offers no delete`)
  }
  assert.match(await rowOf('roles-table', 'customer_manager').innerText(), /仅本人/, 'data scope SELF is shown as 仅本人')
  assert.match(await rowOf('roles-table', 'sales_director').innerText(), /本部门及下级/)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('roles') })

  // The edit dialog shows the permission tree with the role's permissions checked.
  await rowOf('roles-table', 'readonly').getByTestId('role-edit').click()
  const dialog = visible('[data-testid="role-dialog"]')
  await dialog.waitFor()
  const tree = dialog.getByTestId('permission-tree')
  await tree.locator('.el-tree-node').first().waitFor()
  assert.ok((await tree.locator('.el-checkbox.is-checked, .el-checkbox__input.is-indeterminate').count()) > 0, 'some permissions are checked')
  await dialog.locator('.el-dialog__footer .el-button').first().click() // cancel
  await dialog.waitFor({ state: 'hidden' })
})

test('admin: the data dictionary shows the items of 客户来源', { skip: skipAdmin }, async () => {
  await startSession(await adminSession())
  await openSystemMenu('数据字典', '/system/dicts')
  await page.getByTestId('dicts-page').waitFor()
  const type = page.getByTestId('dict-type-customer_source')
  await type.waitFor()
  assert.match(await type.innerText(), /客户来源/)
  await type.click() // selects it (it may be selected already, as the first type)
  await page.waitForFunction(() => document.querySelector('[data-testid="dict-current"]')?.textContent.includes('客户来源'))
  await tableSettled('dict-items')
  const rows = page.getByTestId('dict-items').locator('.el-table__body-wrapper tr.el-table__row')
  await rows.first().waitFor()
  assert.ok((await rows.count()) > 0, '客户来源 has seeded items')
})

test('admin: a user changes their own password and logs in again with it', { skip: skipAdmin }, async () => {
  // Set-up through the API: a fresh user with a known password.
  const adminToken = (await adminSession()).access_token
  const username = randomName()
  const oldPassword = randomPassword()
  const newPassword = randomPassword()
  await apiCall('POST', '/users', { token: adminToken, body: { username, display_name: `E2E ${username}`, password: oldPassword } })

  await login(username, oldPassword)
  await page.getByTestId('user-menu').click()
  await visible('[data-testid="menu-change-password"]').click()
  await page.waitForURL((u) => u.pathname === '/account/password')
  assert.match(await page.getByTestId('password-policy').innerText(), /12.*128/, 'the policy is shown')

  // Client-side checks first: too short, and a repetition that differs.
  await page.getByTestId('password-old').fill(oldPassword)
  await page.getByTestId('password-new').fill('short')
  await page.getByTestId('password-confirm').fill('other')
  await page.getByTestId('password-submit').click()
  await visible('.el-form-item__error').first().waitFor()
  assert.equal(new URL(page.url()).pathname, '/account/password')

  await page.getByTestId('password-new').fill(newPassword)
  await page.getByTestId('password-confirm').fill(newPassword)
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/password'),
    page.getByTestId('password-submit').click(),
  ])
  assert.equal(resp.status(), 204, `POST /auth/password answered HTTP ${resp.status()}`)
  await page.waitForURL((u) => u.pathname === '/login')
  await visible('.el-message--success').first().waitFor()
  assert.equal(await page.evaluate(() => sessionStorage.getItem('crm.auth')), null, 'the session is gone')

  await login(username, newPassword)
  assert.notEqual(new URL(page.url()).pathname, '/login', 'the new password works')
})

test('a user without system:user:read sees the 403 page at /system/users', { skip: skipViewer }, async (t) => {
  await login(VIEWER_USER, VIEWER_PASSWORD)
  const permissions = await page.evaluate(async () => {
    const { access_token: token } = JSON.parse(sessionStorage.getItem('crm.auth'))
    const r = await fetch('/api/v1/auth/me', { headers: { Authorization: `Bearer ${token}` } })
    return (await r.json()).permissions || []
  })
  if (permissions.some((p) => p === 'system:user:read' || p === '*:*:*')) {
    t.skip(`${VIEWER_USER} holds system:user:read`)
    return
  }
  const listCalls = []
  page.on('request', (r) => new URL(r.url()).pathname === '/api/v1/users' && listCalls.push(r.url()))
  await page.goto(`${GATEWAY}/system/users`)
  await page.getByTestId('forbidden').waitFor()
  assert.equal(new URL(page.url()).pathname, '/system/users', 'the address stays as typed')
  assert.match(await page.getByTestId('forbidden').innerText(), /403/)
  assert.match(await page.getByTestId('forbidden').innerText(), /没有权限/)
  assert.equal(await page.getByTestId('users-page').count(), 0, 'the page itself is not shown')
  assert.deepEqual(listCalls, [], 'the user list is not even requested')
  assert.equal(
    await page.getByTestId('sidebar').locator('.el-menu-item', { hasText: '用户管理' }).count(),
    0,
    'the menu has no 用户管理 entry',
  )
})
