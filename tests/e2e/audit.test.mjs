// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the 系统监控 pages (audit log, login log, operation log, audit chain
// check) in Debian's Chromium, against a running stack with the auth and audit services.
//
//   CRM_TEST_GATEWAY=http://127.0.0.1:9080 \
//   CRM_TEST_ADMIN_USER=admin CRM_TEST_ADMIN_PASSWORD=... \
//   CRM_TEST_VIEWER_USER=viewer CRM_TEST_VIEWER_PASSWORD=... node --test tests/e2e/audit.test.mjs
//
// The admin tests run only with CRM_TEST_ADMIN_USER/CRM_TEST_ADMIN_PASSWORD, the 403 test only
// with CRM_TEST_VIEWER_USER/CRM_TEST_VIEWER_PASSWORD (a user without audit:log:read, such as
// the demo "viewer"). They create one user named e2e_<random> and change its display name (the
// API has no user deletion), so that the logs have rows only this run can have made; the audit
// service records events asynchronously, so the pages are searched again until they show up.
// The browser runs in Asia/Shanghai with a User-Agent carrying a per-run marker: the login log
// must show this run's sign-in, in UTC+08:00. CRM_E2E_UPDATE_SCREENSHOTS=1 rewrites
// screenshots/audit-logs.png, otherwise audit-logs.tmp.png is written (ignored by git).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { chromium } from 'playwright-core'
import {
  GATEWAY, CHROMIUM, ADMIN_USER, ADMIN_PASSWORD, VIEWER_USER, VIEWER_PASSWORD, skipAdmin, skipViewer, shotPath, useBrowser, timedTest,
  page, randomPassword, apiCall, apiCallWithId, apiLogin, adminSession, visible, pathOf, login, startSession, openMenu, rowsOf, rowOf, tableSettled,
  settleForScreenshot,
} from './lib.mjs'

// The browser's time zone, and how a UTC time from the API must read in it.
const TIME_ZONE = 'Asia/Shanghai'
const ZONE_LABEL = 'UTC+08:00'
const ZONE_OFFSET_MS = 8 * 3600 * 1000
const localText = (iso) => new Date(Date.parse(iso) + ZONE_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')

// How long the audit service may take to record an event it was sent (it reads the streams).
const RECORD_WAIT_MS = 30000

const RUN = crypto.randomBytes(5).toString('hex')
const UA_MARKER = `crm-e2e-audit/${RUN}`

// A failure reports the messages the page was showing and leaves a screenshot, failed-audit-<n>.tmp.png.
const test = timedTest({ timeout: 180000, failedShot: 'failed-audit' })

/** The User-Agent of this Chromium, read from a throw-away browser. */
async function plainUserAgent() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  try {
    const p = await browser.newPage()
    const ua = await p.evaluate(() => navigator.userAgent)
    await p.close()
    return ua
  } finally {
    await browser.close()
  }
}

useBrowser({
  profilePrefix: 'crm-e2e-audit-',
  viewport: { width: 1440, height: 900 },
  enabled: !skipAdmin || !skipViewer,
  // The browser's own User-Agent plus this run's marker, so the login log row is this run's.
  contextOptions: async () => ({ timezoneId: TIME_ZONE, userAgent: `${await plainUserAgent()} ${UA_MARKER}` }),
})

// The record every admin test looks for: a user created and then renamed by this run, with the
// X-Request-Id of the rename known. Made once, on first use.
let fixture = null
async function auditFixture() {
  if (fixture) return fixture
  const token = (await adminSession()).access_token
  const username = `e2e_${RUN}`
  const nameBefore = `E2E ${RUN} before`
  const nameAfter = `E2E ${RUN} after`
  const created = await apiCall('POST', '/users', {
    token,
    body: { username, display_name: nameBefore, password: randomPassword() },
  })
  // the gateway makes the request id (the one sent is the client's correlation id)
  const { requestId } = await apiCallWithId('PATCH', `/users/${created.id}`, {
    token,
    requestId: `e2e-audit-${RUN}-rename`,
    body: { version: created.version, display_name: nameAfter },
  })
  const me = await apiCall('GET', '/auth/me', { token })
  fixture = { id: String(created.id), username, before: nameBefore, after: nameAfter, requestId, adminName: me.display_name }
  return fixture
}

/** Opens a page through the side menu: 系统监控 > <title>. */
const openAuditMenu = (title, pathname) => openMenu('系统监控', title, pathname)

/**
 * Runs the page's search until the list answer has an item 'find' accepts (the audit service
 * records events shortly after they happen). Checks every answer with 'checkQuery' (the query
 * string the page sent) and returns {item, body}.
 */
async function searchUntil(tableTestId, apiPath, find, checkQuery = () => {}) {
  const deadline = Date.now() + RECORD_WAIT_MS
  for (;;) {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => pathOf(r) === apiPath && r.request().method() === 'GET'),
      visible('.page-table__search button[type="submit"]').click(),
    ])
    assert.equal(resp.status(), 200, `GET ${apiPath}: HTTP ${resp.status()} ${await resp.text()}`)
    checkQuery(new URL(resp.url()).searchParams)
    const body = await resp.json()
    await tableSettled(tableTestId)
    const item = (body.items || []).find(find)
    if (item) return { item, body }
    if (Date.now() > deadline) throw new Error(`${apiPath} did not list the expected entry within ${RECORD_WAIT_MS} ms`)
    await page.waitForTimeout(1000)
  }
}

/** Picks an option of an el-select by typing into it (filterable selects) and pressing Enter. */
async function typeIntoSelect(testId, text) {
  await page.getByTestId(testId).click()
  await page.keyboard.type(text)
  await visible('.el-select-dropdown__item').first().waitFor()
  await page.keyboard.press('Enter')
}

test('login log: the admin finds their own sign-in, with this browser and the local time', { skip: skipAdmin }, async () => {
  const startedAt = Date.now()
  await login(ADMIN_USER, ADMIN_PASSWORD)
  await openAuditMenu('登录日志', '/audit/logins')
  await page.getByTestId('login-logs-page').waitFor()
  await tableSettled('login-logs-table')
  assert.equal(await page.getByTestId('forbidden').count(), 0, 'the admin may see the login log')
  assert.match(await page.getByTestId('login-logs-table').locator('thead').innerText(), new RegExp(ZONE_LABEL.replace('+', '\\+')), 'the time column names the zone')

  await page.getByTestId('login-log-username').fill(ADMIN_USER)
  await page.getByTestId('login-log-result').click()
  await visible('.el-select-dropdown__item').filter({ hasText: '登录成功' }).click()
  const { item } = await searchUntil(
    'login-logs-table',
    '/api/v1/audit/logins',
    (e) => e.user_agent.includes(UA_MARKER),
    (q) => {
      assert.equal(q.get('username'), ADMIN_USER)
      assert.equal(q.get('result'), 'success')
    },
  )
  assert.equal(item.result, 'success')
  assert.equal(item.username, ADMIN_USER)
  const at = Date.parse(item.occurred_at)
  assert.ok(at >= startedAt - 60000 && at <= Date.now() + 60000, `the sign-in is this run's (${item.occurred_at})`)

  const row = rowOf('login-logs-table', UA_MARKER)
  await row.waitFor()
  const text = await row.innerText()
  assert.match(text, new RegExp(ADMIN_USER))
  const me = await apiCall('GET', '/auth/me', { token: (await adminSession()).access_token })
  assert.equal((await row.getByTestId('login-log-user').innerText()).trim(), me.display_name, 'the user by name, not "admin #1"')
  assert.doesNotMatch(text, /#\d/, 'no user id')
  assert.equal((await row.getByTestId('login-log-result-tag').innerText()).trim(), '登录成功')
  assert.ok(text.includes(localText(item.occurred_at)), `the time reads ${localText(item.occurred_at)} (UTC+8) in: ${text}`)
  assert.match(text, /Chrome \d+ · Linux/, 'the browser is summarised')
  assert.ok((await row.getByTestId('login-log-ua').innerText()).includes(UA_MARKER), 'the full User-Agent is shown')
})

test('operation log: the rename reads as 系统管理 · 修改用户 by its user\'s name, its method, path and status on demand', { skip: skipAdmin }, async () => {
  const fx = await auditFixture()
  await startSession(await adminSession())
  await openAuditMenu('操作日志', '/audit/operations')
  await page.getByTestId('operation-logs-page').waitFor()
  await tableSettled('operation-logs-table')
  assert.ok((await rowsOf('operation-logs-table').count()) > 0, 'the operation log has rows')

  const userPath = `/api/v1/users/${fx.id}`
  await page.getByTestId('operation-log-path').fill(userPath)
  await page.getByTestId('operation-log-method').click()
  await visible('.el-select-dropdown__item').filter({ hasText: /^PATCH$/ }).click()
  const { item, body } = await searchUntil(
    'operation-logs-table',
    '/api/v1/audit/operations',
    (e) => e.request_id === fx.requestId,
    (q) => {
      assert.equal(q.get('path'), userPath)
      assert.equal(q.get('method'), 'PATCH')
    },
  )
  assert.ok(body.items.every((e) => e.method === 'PATCH' && e.path.startsWith(userPath)), 'only PATCHes of that user are listed')
  assert.equal(item.status, 200)

  const row = rowOf('operation-logs-table', fx.requestId)
  await row.waitFor()
  // module and action from the route table, not the method and path
  assert.equal((await row.getByTestId('operation-log-module').innerText()).trim(), '系统管理')
  assert.equal((await row.getByTestId('operation-log-action').innerText()).trim(), '修改用户')
  assert.equal((await row.getByTestId('operation-log-result').innerText()).trim(), '成功')
  const text = await row.innerText()
  assert.ok(!text.includes(userPath), 'the path is not in the row')
  assert.equal((await row.getByTestId('operation-log-user-name').innerText()).trim(), fx.adminName, 'the user is named')
  // the method, path and status on demand: the row opens
  await row.locator('.el-table__expand-icon').click()
  const detail = visible('[data-testid="operation-detail"]').first()
  await detail.waitFor()
  assert.equal((await detail.getByTestId('operation-log-method-tag').innerText()).trim(), 'PATCH')
  assert.equal((await detail.getByTestId('operation-log-status-tag').innerText()).trim(), '200')
  assert.equal((await detail.getByTestId('operation-log-path-cell').innerText()).trim(), userPath)
  assert.ok(text.includes(localText(item.occurred_at)), `the time reads ${localText(item.occurred_at)} (UTC+8)`)
  assert.match(text, /\d+\.\d ms/, 'the duration is shown')

  // The request id leads to the audit entries that request produced: the rename.
  await row.getByTestId('operation-open-entries').click()
  await page.waitForURL((u) => u.pathname === '/audit/logs' && u.searchParams.get('request_id') === fx.requestId)
  await page.getByTestId('audit-logs-page').waitFor()
  const entries = rowsOf('audit-logs-table')
  await rowOf('audit-logs-table', fx.requestId).waitFor()
  assert.equal(await entries.count(), 1, 'exactly the entry of that request')
  assert.equal((await entries.first().getByTestId('audit-event').innerText()).trim(), '修改用户')
  assert.equal(await page.getByTestId('audit-request-id').inputValue(), fx.requestId, 'the filter shows the request id')
})

test('audit log: filtered by event type, a row opens to the before and after of the rename', { skip: skipAdmin }, async () => {
  const fx = await auditFixture()
  await startSession(await adminSession())
  await openAuditMenu('审计日志', '/audit/logs')
  await page.getByTestId('audit-logs-page').waitFor()
  await tableSettled('audit-logs-table')

  await typeIntoSelect('audit-event-type', 'user.updated')
  await typeIntoSelect('audit-subject-type', '用户')
  await page.getByTestId('audit-subject-id').fill(fx.id)
  const { item, body } = await searchUntil(
    'audit-logs-table',
    '/api/v1/audit/logs',
    (e) => e.request_id === fx.requestId,
    (q) => {
      assert.equal(q.get('event_type'), 'user.updated')
      assert.equal(q.get('subject_type'), 'user')
      assert.equal(q.get('subject_id'), fx.id)
    },
  )
  assert.ok(body.items.every((e) => e.event_type === 'user.updated'), 'only user.updated entries are listed')
  const events = await rowsOf('audit-logs-table').getByTestId('audit-event').allInnerTexts()
  assert.ok(events.length > 0 && events.every((x) => x.trim() === '修改用户'), `every row reads 修改用户: ${events.join(', ')}`)

  const row = rowOf('audit-logs-table', fx.requestId)
  await row.waitFor()
  const text = await row.innerText()
  assert.equal(item.actor_name, fx.adminName)
  assert.ok(text.includes(fx.adminName), `the actor is named: ${text}`)
  assert.ok(text.includes(`用户 ${fx.after}`), `the subject is named (its newest name): ${text}`)
  assert.doesNotMatch(text, /用户 #\d/, 'no "用户 #id"')
  assert.ok(!text.includes('user.updated'), 'the event type is named, its code is not shown')
  assert.ok(text.includes(localText(item.occurred_at)), `the time reads ${localText(item.occurred_at)} (UTC+8)`)

  // Open the row: its changes, as a before/after table.
  await row.locator('.el-table__expand-icon').click()
  const detail = visible('[data-testid="audit-entry-detail"]').first()
  await detail.waitFor()
  const change = detail.getByTestId('audit-changes').locator('.el-table__body tr', { hasText: '姓名' })
  await change.waitFor()
  assert.equal((await change.getByTestId('change-before').innerText()).trim(), fx.before)
  assert.equal((await change.getByTestId('change-after').innerText()).trim(), fx.after)
  assert.match(await detail.innerText(), new RegExp(item.event_id), 'the event id is shown')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('audit-logs') })

  // The record's whole history: its creation and the rename.
  await detail.getByTestId('audit-open-history').click()
  const drawer = visible('[data-testid="audit-history"]')
  await drawer.waitFor()
  await drawer.getByTestId('audit-history-item').first().waitFor()
  const history = await drawer.getByTestId('audit-history-item').allInnerTexts()
  assert.ok(history.some((h) => h.includes('修改用户') && h.includes(fx.after)), 'the history has the rename')
  assert.ok(history.some((h) => h.includes('新增用户') && h.includes(fx.username)), 'the history has the creation')
})

test('audit log: the chain check runs and says the chain is intact', { skip: skipAdmin }, async () => {
  await auditFixture() // at least one entry to check
  await startSession(await adminSession())
  await openAuditMenu('审计日志', '/audit/logs')
  await page.getByTestId('audit-logs-page').waitFor()
  await tableSettled('audit-logs-table')
  const button = page.getByTestId('audit-verify')
  assert.match(await button.innerText(), /校验审计链/)
  // The page walks the chain window by window (one GET per window): collect them all.
  const windows = []
  const onResponse = (r) => pathOf(r) === '/api/v1/audit/verify' && windows.push(r)
  page.on('response', onResponse)
  await button.click()
  const result = page.getByTestId('audit-chain-result')
  await result.waitFor({ timeout: 120000 })
  page.off('response', onResponse)
  assert.ok(windows.length >= 1, 'GET /audit/verify was called')
  const bodies = []
  for (const r of windows) {
    assert.equal(r.status(), 200, `GET /audit/verify: HTTP ${r.status()} ${await r.text()}`)
    bodies.push(await r.json())
  }
  const body = bodies[bodies.length - 1]
  assert.equal(body.ok, true, `the chain is intact: ${JSON.stringify(body)}`)
  assert.equal(body.complete, true, 'the last window reached the newest entry')
  bodies.slice(1).forEach((b, i) => assert.equal(new URL(windows[i + 1].url()).searchParams.get('after_id'), String(bodies[i].last_id), 'each window starts where the last one stopped'))
  const checked = bodies.reduce((n, b) => n + b.checked, 0)
  assert.ok(checked >= 2, 'the check walked the entries (this run made two at least)')
  assert.equal(await result.getAttribute('data-state'), 'ok')
  const text = await result.innerText()
  assert.match(text, /审计链完整/)
  assert.ok(text.includes(checked.toLocaleString('zh-CN')), `the count ${checked} is shown: ${text}`)
  assert.ok(text.includes(body.head), 'the last hash is shown')
})

test('a user without audit:log:read sees the 403 page at /audit/logs', { skip: skipViewer }, async (t) => {
  const tokens = await apiLogin(VIEWER_USER, VIEWER_PASSWORD)
  const me = await apiCall('GET', '/auth/me', { token: tokens.access_token })
  if ((me.permissions || []).some((p) => p === 'audit:log:read' || p === '*:*:*')) {
    t.skip(`${VIEWER_USER} holds audit:log:read`)
    return
  }
  const listCalls = []
  page.on('request', (r) => pathOf(r).startsWith('/api/v1/audit/') && listCalls.push(r.url()))
  await startSession(tokens)
  await page.goto(`${GATEWAY}/audit/logs`)
  await page.getByTestId('forbidden').waitFor()
  assert.equal(new URL(page.url()).pathname, '/audit/logs', 'the address stays as typed')
  const needs = await page.getByTestId('forbidden-permission').innerText()
  assert.match(needs, /查看审计日志/, 'the missing permission is named in words')
  assert.doesNotMatch(needs, /audit:log:read/, 'not as its code')
  assert.equal(await page.getByTestId('audit-logs-page').count(), 0, 'the page itself is not shown')
  assert.deepEqual(listCalls, [], 'no audit list is requested')
  assert.equal(
    await page.getByTestId('sidebar').locator('.el-sub-menu__title', { hasText: '系统监控' }).count(),
    0,
    'the menu has no 系统监控 group',
  )
})
