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
import assert from 'node:assert/strict'
import {
  GATEWAY, ADMIN_USER, ADMIN_PASSWORD, VIEWER_USER, VIEWER_PASSWORD, skipAdmin, skipViewer, shotPath, useBrowser, timedTest, page,
  randomName, randomPassword, apiCall, adminSession, visible, login, startSession, openMenu, rowOf, tableSettled, settleForScreenshot,
} from './lib.mjs'

const BUILTIN_ROLES = ['admin', 'sales_director', 'customer_manager', 'readonly']

// A failure reports the messages the page was showing and leaves a screenshot, failed-<n>.tmp.png.
const test = timedTest({ timeout: 180000, failedShot: 'failed' })

useBrowser({ profilePrefix: 'crm-e2e-admin-', viewport: { width: 1440, height: 860 }, enabled: !skipAdmin || !skipViewer })

/** Opens a page through the side menu: 系统管理 > <title>. */
const openSystemMenu = (title, pathname) => openMenu('系统管理', title, pathname)

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
  // every create carries an Idempotency-Key, so a retry of it cannot create the user twice
  assert.match(created.request().headers()['idempotency-key'] ?? '', /^[\x21-\x7e]{16,128}$/)
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
  assert.doesNotMatch(await rowOf('users-table', username).getByTestId('user-toggle').getAttribute('class'), /is-checked/, 'the status switch is off')

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
