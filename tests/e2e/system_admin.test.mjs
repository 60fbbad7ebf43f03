// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the administration pages that need the API of issue 11 #7: departments
// with their leader, phone, email and status and a delete warning in words; the built-in
// administrator role shown read-only; role names in the console's language; online users with
// force logout; the personal centre (profile, password, my sessions). Debian's Chromium,
// against the test stack (CRM_TEST_ADMIN_USER / CRM_TEST_ADMIN_PASSWORD).
import assert from 'node:assert/strict'
import {
  GATEWAY, skipAdmin, useBrowser, timedTest, page, randomName, randomPassword, apiCall, apiLogin, adminSession, visible, startSession,
  login, openMenu, rowOf, rowsOf, tableSettled, pathOf,
} from './lib.mjs'

const test = timedTest({ timeout: 180000, failedShot: 'failed-admin' })
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }

useBrowser({ profilePrefix: 'crm-e2e-sysadmin-', viewport: DESKTOP, enabled: !skipAdmin })

async function begin(locale = 'zh-CN', viewport = DESKTOP) {
  await page.setViewportSize(viewport)
  await page.goto(`${GATEWAY}/login`)
  await page.evaluate((l) => localStorage.setItem('crm.locale', l), locale)
  await startSession(await adminSession())
}
const tok = async () => (await adminSession()).access_token

test('departments: the leader by name, phone, status; edited with the user picker; a delete says what is still inside', { skip: skipAdmin }, async () => {
  const token = await tok()
  const leaderName = `负责人${randomName().slice(4, 9)}`
  const leader = await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: leaderName, password: randomPassword() } })
  const name = `部门${randomName().slice(4)}`
  const dept = await apiCall('POST', '/departments', { token, body: { name, leader_id: leader.id, phone: '010-6666 0000', email: 'dept@example.com' } })
  await apiCall('POST', '/departments', { token, body: { name: `${name}-子`, parent_id: dept.id } })
  await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: '成员', password: randomPassword(), dept_id: dept.id } })

  await begin('zh-CN')
  await page.goto(`${GATEWAY}/system/departments`)
  await page.getByTestId('departments-page').waitFor()
  const row = rowOf('departments-table', name)
  await row.waitFor()
  const text = await row.innerText()
  assert.match(text, new RegExp(leaderName), 'the leader is shown by name')
  assert.match(text, /010-6666 0000/)
  assert.equal((await row.getByTestId('dept-status').innerText()).trim(), '正常')

  // edit: the form shows the leader's name (not an id); disabling it is sent and shown
  await row.getByTestId('dept-edit').click()
  const dialog = visible('[data-testid="dept-dialog"]')
  await dialog.waitFor()
  assert.match(await dialog.getByTestId('dept-form-leader').innerText(), new RegExp(leaderName), 'the picker shows the leader by name')
  assert.doesNotMatch(await dialog.getByTestId('dept-form-leader').innerText(), new RegExp(`^${leader.id}$`))
  await dialog.getByTestId('dept-form-status').getByText('停用').click()
  const [patched] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/departments/${dept.id}` && r.request().method() === 'PATCH'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(patched.status(), 200, await patched.text())
  assert.deepEqual(Object.keys(JSON.parse(patched.request().postData())).sort(), ['status', 'version'], 'only the change is sent')
  await dialog.waitFor({ state: 'hidden' })
  await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="departments-table"] tr.el-table__row')]
    .some((tr) => tr.innerText.includes(n) && tr.querySelector('[data-testid="dept-status"]')?.innerText.trim() === '停用'), name)

  // delete: refused, and the page says in words what it still holds
  await rowOf('departments-table', name).getByTestId('dept-delete').click()
  await visible('.el-message-box').waitFor()
  const [refused] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/departments/${dept.id}` && r.request().method() === 'DELETE'),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(refused.status(), 409)
  const box = visible('.el-message-box').filter({ hasText: '下级部门' })
  await box.waitFor()
  const said = await box.innerText()
  assert.match(said, /1 个下级部门和 1 名用户/, said)
  assert.doesNotMatch(said, /department_not_empty|sub-department/, 'no code or English in the Chinese console')
  assert.equal(await visible('.el-message--error').count(), 0, 'no second notice of the same error')
  await box.locator('.el-button--primary').click()
})

test('roles: the built-in administrator role is read-only; names are in the chosen language', { skip: skipAdmin }, async () => {
  await begin('en')
  await page.goto(`${GATEWAY}/system/roles`)
  await tableSettled('roles-table')
  const names = await page.getByTestId('roles-table').getByTestId('role-name').allInnerTexts()
  for (const n of ['Administrator', 'Sales director', 'Customer manager', 'Read-only user']) assert.ok(names.includes(n), `${n} in ${names}`)
  const adminRow = rowOf('roles-table', 'Administrator')
  assert.equal(await adminRow.getByTestId('role-locked').count(), 1, 'the administrator role shows a lock')
  await adminRow.getByTestId('role-edit').click()
  const dialog = visible('[data-testid="role-dialog"]')
  await dialog.waitFor()
  await dialog.getByTestId('role-locked-note').waitFor()
  assert.ok(await dialog.getByTestId('role-form-scope').locator('.is-disabled').count() > 0, 'the data scope cannot be changed')
  const boxes = dialog.getByTestId('permission-tree').locator('.el-checkbox')
  assert.ok((await boxes.count()) > 0)
  assert.equal(await dialog.getByTestId('permission-tree').locator('.el-checkbox:not(.is-disabled)').count(), 0, 'every permission box is disabled')
  await dialog.locator('.el-dialog__footer .el-button:not(.el-button--primary)').click()

  // in Chinese the same table shows the Chinese names
  await page.evaluate(() => localStorage.setItem('crm.locale', 'zh-CN'))
  await page.reload()
  await tableSettled('roles-table')
  const zh = await page.getByTestId('roles-table').getByTestId('role-name').allInnerTexts()
  assert.ok(zh.includes('系统管理员') && !zh.includes('Administrator'), String(zh))
})

/** GET /auth/me with an access token: its HTTP status (401 once the session has ended). */
const meStatus = async (accessToken) =>
  (await fetch(`${GATEWAY}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${accessToken}` } })).status

test('online users: 系统监控 > 在线用户 lists who is signed in, by name; force logout ends that session at once', { skip: skipAdmin }, async () => {
  const token = await tok()
  const username = randomName()
  const password = randomPassword()
  const user = await apiCall('POST', '/users', { token, body: { username, display_name: `在线${username.slice(4, 9)}`, password } })
  const theirs = await apiLogin(username, password)

  await begin('zh-CN')
  await openMenu('系统监控', '在线用户', '/monitor/sessions')
  await tableSettled('sessions-table')
  // the filter lives in the address, as every list's does
  await page.goto(`${GATEWAY}/monitor/sessions?user_id=${user.id}`)
  await tableSettled('sessions-table')
  const row = rowOf('sessions-table', user.display_name)
  await row.waitFor()
  assert.equal(await rowsOf('sessions-table').count(), 1)
  assert.match(await row.innerText(), new RegExp(username), 'the username beside the name')
  await row.getByTestId('session-end').click()
  await visible('.el-message-box').waitFor()
  assert.match(await visible('.el-message-box').innerText(), new RegExp(user.display_name))
  const [ended] = await Promise.all([
    page.waitForResponse((r) => /^\/api\/v1\/sessions\/\d+$/.test(pathOf(r)) && r.request().method() === 'DELETE'),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(ended.status(), 204)
  await page.waitForFunction(() => !document.querySelector('[data-testid="sessions-table"] tr.el-table__row'))
  assert.equal(await meStatus(theirs.access_token), 401, 'their access token stopped at once')
})

test('personal centre: a user changes their own phone, sees their sessions and signs another one out', { skip: skipAdmin }, async () => {
  const token = await tok()
  const username = randomName()
  const password = randomPassword()
  const user = await apiCall('POST', '/users', { token, body: { username, display_name: `本人${username.slice(4, 9)}`, password } })
  const phone = await apiLogin(username, password) // another device

  await page.setViewportSize(DESKTOP)
  await login(username, password)
  await page.getByTestId('user-menu').click()
  await visible('[data-testid="menu-profile"]').click()
  await page.waitForURL((u) => u.pathname === '/account/profile')
  await page.getByTestId('profile-page').waitFor()
  assert.match(await page.getByTestId('profile-facts').innerText(), new RegExp(username))
  await page.getByTestId('profile-phone').fill('138 0013 8000')
  const [saved] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/auth/me' && r.request().method() === 'PATCH'),
    page.getByTestId('profile-save').click(),
  ])
  assert.equal(saved.status(), 200, await saved.text())
  assert.deepEqual(Object.keys(JSON.parse(saved.request().postData())).sort(), ['phone', 'version'])
  assert.equal((await apiCall('GET', `/users/${user.id}`, { token })).phone, '138 0013 8000')

  // my sessions: this browser (marked, not offered) and the other device
  await page.getByRole('tab', { name: '我的会话' }).click()
  await tableSettled('my-sessions-table')
  assert.equal(await rowsOf('my-sessions-table').count(), 2)
  assert.equal(await page.getByTestId('my-sessions-table').getByTestId('session-current').count(), 1)
  const ends = page.getByTestId('my-sessions-table').locator('.el-table__body-wrapper [data-testid="session-end"]')
  assert.equal(await ends.count(), 1, 'only the other session can be signed out here')
  await ends.click()
  await visible('.el-message-box').waitFor()
  const [ended] = await Promise.all([
    page.waitForResponse((r) => /^\/api\/v1\/auth\/sessions\/\d+$/.test(pathOf(r)) && r.request().method() === 'DELETE'),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(ended.status(), 204)
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="my-sessions-table"] .el-table__body-wrapper tr.el-table__row').length === 1)
  assert.equal(await meStatus(phone.access_token), 401, 'the other device is signed out')
  // the password tab is the password change
  await page.getByRole('tab', { name: '修改密码' }).click()
  await page.getByTestId('change-password-form').waitFor()
})

test('departments, roles, online users and the personal centre fit the phone', { skip: skipAdmin }, async () => {
  await begin('zh-CN', PHONE)
  for (const [path, ready] of [['/system/departments', 'departments-page'], ['/system/roles', 'roles-table'], ['/monitor/sessions', 'sessions-table'], ['/account/profile', 'profile-page']]) {
    await page.goto(`${GATEWAY}${path}`)
    await page.getByTestId(ready).waitFor()
    await page.waitForTimeout(300)
    const o = await page.evaluate(() => {
      const main = document.querySelector('.app-main')
      return Math.max(document.scrollingElement.scrollWidth - window.innerWidth, main ? main.scrollWidth - main.clientWidth : 0)
    })
    assert.ok(o <= 0, `${path} overflows the phone by ${o}px`)
  }
})

test('users: the department tree beside the list shows a department with those below it; the status switch asks first', { skip: skipAdmin }, async () => {
  const token = await tok()
  const top = await apiCall('POST', '/departments', { token, body: { name: `树${randomName().slice(4)}` } })
  const sub = await apiCall('POST', '/departments', { token, body: { name: `${top.name}-枝`, parent_id: top.id } })
  const inTop = await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: '树上', password: randomPassword(), dept_id: top.id } })
  const inSub = await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: '枝上', password: randomPassword(), dept_id: sub.id } })

  await begin('zh-CN')
  await page.goto(`${GATEWAY}/system/users`)
  await tableSettled('users-table')
  const tree = page.getByTestId('users-dept-tree')
  await tree.waitFor()
  const [listed] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/users' && new URL(r.url()).searchParams.get('dept_id') === String(top.id)),
    tree.locator('.el-tree-node__content', { hasText: top.name }).first().click(),
  ])
  assert.equal(new URL(listed.url()).searchParams.get('include_children'), 'true')
  await tableSettled('users-table')
  const names = (await rowsOf('users-table').allInnerTexts()).join('\n')
  assert.ok(names.includes(inTop.username) && names.includes(inSub.username), names)
  assert.equal(await rowsOf('users-table').count(), 2)

  // the switch: confirm, then disabled; cancelling changes nothing
  const row = rowOf('users-table', inSub.username)
  await row.getByTestId('user-toggle').click()
  await visible('.el-message-box').waitFor()
  await visible('.el-message-box .el-button:not(.el-button--primary)').click()
  await visible('.el-message-box').waitFor({ state: 'hidden' })
  assert.equal((await apiCall('GET', `/users/${inSub.id}`, { token })).status, 'enabled', 'cancelled: nothing changed')
  assert.match(await row.getByTestId('user-toggle').getAttribute('class'), /is-checked/)
  await row.getByTestId('user-toggle').click()
  await visible('.el-message-box').waitFor()
  const [disabled] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/users/${inSub.id}/disable`),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(disabled.status(), 200)
  await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="users-table"] .el-table__body-wrapper tr.el-table__row')]
    .some((tr) => tr.innerText.includes(n) && tr.querySelector('[data-testid="user-status"]')?.innerText.trim() === '停用'), inSub.username)
  assert.doesNotMatch(await rowOf('users-table', inSub.username).getByTestId('user-toggle').getAttribute('class'), /is-checked/)
  // and back on, confirmed too
  await rowOf('users-table', inSub.username).getByTestId('user-toggle').click()
  await visible('.el-message-box').filter({ hasText: '启用' }).waitFor()
  const [enabled] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/users/${inSub.id}/enable`),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(enabled.status(), 200)
})

test('users: rows selected and disabled, then enabled, as a batch', { skip: skipAdmin }, async () => {
  const token = await tok()
  const dept = await apiCall('POST', '/departments', { token, body: { name: `批量${randomName().slice(4)}` } })
  const a = await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: '批量甲', password: randomPassword(), dept_id: dept.id } })
  const b = await apiCall('POST', '/users', { token, body: { username: randomName(), display_name: '批量乙', password: randomPassword(), dept_id: dept.id } })
  const status = async (u) => (await apiCall('GET', `/users/${u.id}`, { token })).status

  await begin('zh-CN')
  await page.goto(`${GATEWAY}/system/users?dept_id=${dept.id}`)
  await tableSettled('users-table')
  assert.equal(await rowsOf('users-table').count(), 2)
  assert.ok(await page.getByTestId('users-batch-disable').isDisabled(), 'nothing selected: the batch buttons wait')
  for (const u of [a, b]) await rowOf('users-table', u.username).locator('.el-checkbox').first().click()
  await page.getByTestId('users-batch-disable').click()
  await visible('.el-message-box').filter({ hasText: '2 个用户' }).waitFor()
  const disabled = []
  page.on('response', (r) => /\/api\/v1\/users\/\d+\/disable$/.test(pathOf(r)) && disabled.push(r.status()))
  await visible('.el-message-box .el-button--primary').click()
  const firstNotice = visible('.el-message').filter({ hasText: '已处理 2 个用户' })
  await firstNotice.waitFor()
  const firstId = await firstNotice.getAttribute('id')
  assert.deepEqual(disabled, [200, 200])
  assert.equal(await status(a), 'disabled')
  assert.equal(await status(b), 'disabled')

  // enabled back as a batch (the list was read again; select both once more)
  await tableSettled('users-table')
  for (const u of [a, b]) await rowOf('users-table', u.username).locator('.el-checkbox').first().click()
  await page.getByTestId('users-batch-enable').click()
  await visible('.el-message-box').filter({ hasText: '2 个用户' }).waitFor()
  await visible('.el-message-box .el-button--primary').click()
  // the notice of the disable may still be up: wait for the enable's own
  await visible(`.el-message:not([id="${firstId}"])`).filter({ hasText: '已处理 2 个用户' }).waitFor()
  assert.equal(await status(a), 'enabled')
  assert.equal(await status(b), 'enabled')
})
