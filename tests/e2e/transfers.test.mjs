// SPDX-License-Identifier: Apache-2.0
// The transfer pages (issue 13) in Debian's Chromium against the test stack and its demo accounts
// (deploy/demo/load: 华东 director_east, manager_east1 张伟, manager_east2 李娜): manager A
// transfers a customer to B from the customer list with a reason, after the dialog has shown a
// blank reason and a customer refused (which one, why) in Chinese at their places; B finds it
// under "moved to me" on the home page and opens it, with its transfer on the detail page's tab;
// A no longer finds it in the list and its address gives the not-found page; the history page
// lists it by names and filters; the director hands over all customers of a manager leaving to
// two receivers with the count first and the job's live progress to done. At 390 px the history,
// the hand-over page and the dialog (full screen, here in English) do not scroll sideways. Screenshots of the dialog, the history and the
// hand-over page (tests/e2e/screenshots, README).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import {
  GATEWAY, skipAdmin, useBrowser, timedTest, page, apiCall, apiLogin, adminSession, visible, startSessionIn, rowOf, rowsOf, tableSettled,
  pathOf, shotPath, settleForScreenshot,
} from './lib.mjs'
import { accounts, eventually, mysql } from '../api/lib.mjs'

const test = timedTest({ timeout: 180000, failedShot: 'failed-transfers' })
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }

let ACCOUNTS = {}
try {
  ACCOUNTS = accounts()
} catch {
  /* no demo accounts: the tests are skipped */
}
const skipDemo =
  !['manager_east1', 'manager_east2', 'director_east'].every((u) => ACCOUNTS[u]) && 'needs the demo accounts of deploy/demo/load'

useBrowser({ profilePrefix: 'crm-e2e-transfers-', viewport: DESKTOP, enabled: !skipDemo })

const sessions = {}
const sessionOf = async (who) => (who === 'admin' ? adminSession() : (sessions[who] ||= await apiLogin(who, ACCOUNTS[who].password)))
const tokenOf = async (who) => (await sessionOf(who)).access_token
const meOf = async (who) => apiCall('GET', '/auth/me', { token: await tokenOf(who) })

const begin = async (who, { locale = 'zh-CN', viewport = DESKTOP } = {}) => startSessionIn(await sessionOf(who), { locale, viewport })

const sfx = () => crypto.randomBytes(3).toString('hex')

/** A customer made through the API, once the transfer service knows its owner (its projection). */
async function apiCustomer(who, body) {
  const c = await apiCall('POST', '/customers', { token: await tokenOf(who), body })
  await eventually(
    () => mysql(`SELECT manager_id FROM crm_transfer.customer_owners WHERE customer_id = ${Number(c.id)}`) === String(c.manager_id),
    20000,
    `customer ${c.id} known to the transfer service`,
  )
  return c
}
const ownerOf = (id) => mysql(`SELECT manager_id FROM crm_customer.customers WHERE id = ${Number(id)}`)

/** The text box of the field 'id' in 'scope' (el-input puts the test id on the input itself). */
const field = (scope, id) =>
  scope.locator(`input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input, [data-testid="${id}"] textarea`).first()

/** Types 'text' into the remote select 'id' of 'scope' (searching 'path' by 'param') and picks the option that has it. */
async function pickPerson(scope, id, text, { path = '/api/v1/transfers/receivers', param = 'keyword' } = {}) {
  const select = scope.getByTestId(id)
  await select.click()
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === path && new URL(r.url()).searchParams.get(param) === text),
    select.locator('input').first().fill(text),
  ])
  assert.equal(resp.status(), 200, await resp.text())
  await visible('.el-select-dropdown__item').filter({ hasText: text }).first().click()
}

const overflow = () =>
  page.evaluate(() => {
    const main = document.querySelector('.app-main')
    return Math.max(document.scrollingElement.scrollWidth - window.innerWidth, main ? main.scrollWidth - main.clientWidth : 0)
  })

test('manager A transfers a customer to B from the list with a reason; B finds it under "moved to me"; A no longer finds it', { skip: skipDemo }, async () => {
  const tag = sfx()
  const name = `转移演示${tag}科技有限公司`
  const c = await apiCustomer('manager_east1', { name })
  const a = await meOf('manager_east1')
  const b = await meOf('manager_east2')

  // A: the customer list, the row picked, "transfer"
  await begin('manager_east1')
  await page.goto(`${GATEWAY}/customers?keyword=${encodeURIComponent(name)}`)
  await tableSettled('customers-table')
  const row = rowOf('customers-table', name)
  await row.waitFor()
  await row.locator('.el-checkbox').first().click()
  await page.getByTestId('customers-transfer').click()
  const dialog = visible('[data-testid="transfer-dialog"]')
  await dialog.waitFor()
  const what = await dialog.getByTestId('transfer-customers').innerText()
  assert.match(what, new RegExp(name), 'the dialog names the customer that moves')
  assert.match(what, /张伟/, 'and its current owner by name')

  // no receiver, no reason: the form says so in Chinese, nothing is sent
  let posted = 0
  const countPosts = (r) => pathOf(r) === '/api/v1/transfers' && r.method() === 'POST' && posted++
  page.on('request', countPosts)
  await dialog.locator('.el-dialog__footer .el-button--primary').click()
  await dialog.locator('.el-form-item__error', { hasText: '请填写转移原因' }).waitFor()
  await dialog.locator('.el-form-item__error', { hasText: '请选择接收人' }).waitFor()
  assert.equal(posted, 0, 'nothing is sent while the form is incomplete')

  // the customer's own owner as receiver: the server refuses the customer, and the dialog says
  // which one and why, under it, in Chinese; no toast besides
  const submit = async () => {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => pathOf(r) === '/api/v1/transfers' && r.request().method() === 'POST'),
      dialog.locator('.el-dialog__footer .el-button--primary').click(),
    ])
    return resp
  }
  const codesOf = async (resp) => (await resp.json()).errors.map((e) => `${e.field}:${e.code}`)
  await pickPerson(dialog, 'transfer-receiver', '张伟')
  await field(dialog, 'transfer-reason').fill('调整')
  let refused = await submit()
  assert.equal(refused.status(), 422, await refused.text())
  assert.deepEqual(await codesOf(refused), ['customer_ids[0]:same_owner'])
  assert.equal((await dialog.getByTestId('transfer-customer-error').innerText()).trim(), '已是该接收人的客户')
  // a reason of blanks: refused by the server, said at the reason
  await pickPerson(dialog, 'transfer-receiver', '李娜')
  await field(dialog, 'transfer-reason').fill('   ')
  refused = await submit()
  assert.equal(refused.status(), 422, await refused.text())
  assert.deepEqual(await codesOf(refused), ['reason:blank'])
  await dialog.locator('.el-form-item__error', { hasText: '不能为空白' }).waitFor()
  assert.equal(await dialog.getByTestId('transfer-customer-error').count(), 0, 'the customer is no longer marked refused')
  assert.doesNotMatch(await dialog.innerText(), /same_owner|blank|already belongs|must say/, 'no code or English sentence')
  assert.equal(await visible('.el-message--error').count(), 0, 'no toast besides: the errors are in place')

  // cancelled and opened again: a clean form; a reason: done, a notice, and the customer leaves
  // A's list once the customer service applied it
  await dialog.locator('.el-dialog__footer .el-button:not(.el-button--primary)').click()
  await dialog.waitFor({ state: 'hidden' })
  await page.getByTestId('customers-transfer').click()
  await dialog.waitFor()
  assert.equal(await dialog.getByTestId('form-error').count(), 0, 'the refusals are gone')
  assert.equal(await field(dialog, 'transfer-reason').inputValue(), '')
  await pickPerson(dialog, 'transfer-receiver', '李娜')
  const reason = `张伟调岗，客户交李娜跟进 ${tag}`
  await field(dialog, 'transfer-reason').fill(reason)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('transfer-dialog') })
  const created = await submit()
  page.off('request', countPosts)
  assert.equal(created.status(), 201, await created.text())
  const sent = JSON.parse(created.request().postData())
  assert.deepEqual(sent, { customer_ids: [c.id], to_manager_id: b.id, reason })
  await dialog.waitFor({ state: 'hidden' })
  await visible('.el-message--success').filter({ hasText: '李娜' }).waitFor()
  await eventually(() => ownerOf(c.id) === String(b.id), 20000, 'the new owner at the customer service')
  await page.waitForFunction((n) => ![...document.querySelectorAll('[data-testid="customers-table"] tr.el-table__row')].some((tr) => tr.innerText.includes(n)), name)

  // A's history: given by A, by names, the reason, the customer a link
  await page.goto(`${GATEWAY}/transfers`)
  await tableSettled('transfers-table')
  await page.getByTestId('transfers-scene').getByText('我转出的').click()
  await page.waitForURL((u) => u.searchParams.get('from_manager_id') === String(a.id))
  await tableSettled('transfers-table')
  const item = rowOf('transfers-table', name)
  await item.waitFor()
  assert.equal((await item.getByTestId('transfer-from').innerText()).trim(), '张伟')
  assert.equal((await item.getByTestId('transfer-to').innerText()).trim(), '李娜')
  assert.equal((await item.getByTestId('transfer-reason-cell').innerText()).trim(), reason)
  assert.doesNotMatch(await item.innerText(), new RegExp(`\\b(${a.id}|${b.id})\\b`), 'names, not ids')
  assert.match(await page.getByTestId('transfers-from').innerText(), /张伟/, 'the giver filter by name, not id')
  // the keyword finds it by a piece of the reason; the filter lives in the address
  await field(page, 'transfers-keyword').fill(tag)
  await page.getByTestId('transfers-page').locator('.page-table__search button[type="submit"]').click()
  await page.waitForURL((u) => u.searchParams.get('keyword') === tag)
  await tableSettled('transfers-table')
  assert.equal(await rowsOf('transfers-table').count(), 1)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('transfers') })

  // A no longer has it: its address gives the not-found page
  await page.goto(`${GATEWAY}/customers/${c.id}`)
  await page.getByTestId('not-found').waitFor()

  // B: the home page's "moved to me" counts it and leads to it
  await begin('manager_east2')
  const card = page.getByTestId('todo-moved')
  await card.waitFor()
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="todo-moved"] [data-testid="todo-count"]')?.innerText) >= 1)
  assert.match(await card.innerText(), /转给我的/)
  await card.click()
  await page.waitForURL((u) => u.pathname === '/customers' && u.searchParams.get('todo') === 'moved')
  await tableSettled('customers-table')
  const mine = rowOf('customers-table', name)
  await mine.waitFor()
  await mine.getByTestId('customer-link').click()
  await page.waitForURL((u) => u.pathname === `/customers/${c.id}`)
  assert.equal((await page.getByTestId('customer-owner').innerText()).trim(), '李娜')
  // its transfer tab: from whom, why
  await page.getByTestId('customer-tabs').getByText('转移记录').click()
  await tableSettled('customer-transfers')
  const t1 = await rowsOf('customer-transfers').first().innerText()
  assert.match(t1, /张伟/)
  assert.match(t1, new RegExp(reason))
})

test('the director hands over every customer of a manager leaving to two receivers, with the count first and live progress to done', { skip: skipDemo || skipAdmin }, async () => {
  const tag = sfx()
  const admin = (await adminSession()).access_token
  // a customer manager of 华东 who leaves, with three customers
  const roles = await apiCall('GET', '/roles?page_size=100', { token: admin })
  const role = roles.items.find((r) => r.code === 'customer_manager')
  const depts = await apiCall('GET', '/departments', { token: admin })
  const flat = (ns) => ns.flatMap((n) => [n, ...flat(n.children || [])])
  const east = flat(depts.items).find((d) => d.name === '华东销售部')
  assert.ok(role && east, 'the demo role and department')
  const leaver = `离职${tag}`
  const u = await apiCall('POST', '/users', {
    token: admin,
    body: { username: `e2e_leave_${tag}`, display_name: leaver, password: `E2e-${crypto.randomBytes(12).toString('base64url')}`, dept_id: east.id, role_ids: [role.id] },
  })
  const director = await tokenOf('director_east')
  const ids = []
  for (let i = 1; i <= 3; i++) {
    // the customer service learns of the new user from auth's events: retry until it may own customers
    let c = null
    await eventually(
      async () => (c = await apiCall('POST', '/customers', { token: director, body: { name: `交接演示${tag}第${i}有限公司`, manager_id: u.id } }).catch(() => null)),
      20000,
      'a customer of the new manager',
    )
    ids.push(c.id)
  }
  await eventually(
    () => mysql(`SELECT COUNT(*) FROM crm_transfer.customer_owners WHERE manager_id = ${Number(u.id)}`) === '3',
    20000,
    'the customers known to the transfer service',
  )
  const e1 = await meOf('manager_east1')
  const e2 = await meOf('manager_east2')

  await begin('director_east')
  await page.goto(`${GATEWAY}/transfers`)
  await page.getByTestId('transfers-handover-link').click()
  await page.waitForURL((x) => x.pathname === '/transfers/handover')
  const form = page.getByTestId('handover-page')
  await pickPerson(form, 'handover-from', leaver)
  await page.waitForFunction(() => /3/.test(document.querySelector('[data-testid="handover-preview"]')?.innerText || ''))
  assert.match(await page.getByTestId('handover-preview').innerText(), /3 个客户/)
  await pickPerson(form, 'handover-to', '张伟')
  await pickPerson(form, 'handover-to', '李娜')
  await page.keyboard.press('Escape')
  await field(form, 'handover-reason').fill(`${leaver}离职，客户交接 ${tag}`)
  await page.getByTestId('handover-start').click()
  const box = visible('.el-message-box')
  await box.waitFor()
  assert.match(await box.innerText(), new RegExp(`${leaver}.*3 个客户.*张伟、李娜`, 's'))
  const [started] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/transfers/handover' && r.request().method() === 'POST'),
    box.locator('.el-button--primary').click(),
  ])
  assert.equal(started.status(), 202, await started.text())
  const job = await started.json()
  assert.deepEqual(JSON.parse(started.request().postData()), { filter: {}, to_manager_ids: [e1.id, e2.id], reason: `${leaver}离职，客户交接 ${tag}`, from_manager_id: u.id })

  // live progress, read every second, to done: 3 of 3
  await page.waitForURL((x) => x.searchParams.get('job') === String(job.id))
  await page.getByTestId('handover-progress').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid="handover-job-status"]')?.innerText.trim() === '已完成', null, { timeout: 30000 })
  assert.match(await page.getByTestId('handover-counts').innerText(), /已转移 3 \/ 3，失败 0/)
  await page.getByTestId('handover-recent').waitFor()
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('handover') })
  // each went to one of the receivers, at the customer service too
  const receivers = [String(e1.id), String(e2.id)]
  for (const id of ids) await eventually(() => receivers.includes(ownerOf(id)), 20000, `customer ${id} moved to a receiver`)

  // its customers in the history, by the job's link
  await page.getByTestId('handover-job-items').click()
  await page.waitForURL((x) => x.pathname === '/transfers' && x.searchParams.get('transfer_id') === String(job.id))
  await tableSettled('transfers-table')
  assert.equal(await rowsOf('transfers-table').count(), 3)
  const texts = (await rowsOf('transfers-table').allInnerTexts()).join('\n')
  assert.match(texts, new RegExp(leaver))
  assert.match(texts, /批量交接/)

  // on a phone: the hand-over page (with its job) and the history fit the screen
  await page.setViewportSize(PHONE)
  await page.goto(`${GATEWAY}/transfers/handover?job=${job.id}`)
  await page.waitForFunction(() => document.querySelector('[data-testid="handover-job-status"]')?.innerText.trim() === '已完成')
  assert.ok((await overflow()) <= 0, 'the hand-over page fits 390 px')
  await page.getByTestId('handover-job').scrollIntoViewIfNeeded()
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('phone-handover') })
  await page.goto(`${GATEWAY}/transfers`)
  await tableSettled('transfers-table')
  assert.ok((await overflow()) <= 0, 'the history fits 390 px')
})

test('on a phone, in English: the transfer dialog is full screen, fits 390 px and speaks English', { skip: skipDemo }, async () => {
  const name = `Phone ${sfx()} Trading Co.`
  await apiCustomer('manager_east1', { name })
  await begin('manager_east1', { locale: 'en', viewport: PHONE })
  await page.goto(`${GATEWAY}/customers?keyword=${encodeURIComponent(name)}`)
  await tableSettled('customers-table')
  await rowOf('customers-table', name).locator('.el-checkbox').first().click()
  await page.getByTestId('customers-transfer').click()
  const dialog = visible('[data-testid="transfer-dialog"]')
  await dialog.waitFor()
  assert.ok(await dialog.evaluate((el) => el.classList.contains('is-fullscreen')), 'full screen on a phone')
  assert.ok((await overflow()) <= 0, 'nothing scrolls sideways')
  const text = await dialog.innerText()
  assert.match(text, /Transfer Phone .* Trading Co\.[\s\S]*owner: 张伟[\s\S]*Receiver[\s\S]*Reason/)
  await dialog.locator('.el-dialog__footer .el-button--primary').click()
  await dialog.locator('.el-form-item__error', { hasText: 'Say why the customers move' }).waitFor()
  await dialog.locator('.el-dialog__footer .el-button:not(.el-button--primary)').click()
  await dialog.waitFor({ state: 'hidden' })
})

test('an administrator hands over the customers of a manager already disabled (someone who left), found among all users', { skip: skipDemo || skipAdmin }, async () => {
  const tag = sfx()
  const admin = (await adminSession()).access_token
  const roles = await apiCall('GET', '/roles?page_size=100', { token: admin })
  const role = roles.items.find((r) => r.code === 'customer_manager')
  const username = `e2e_gone_${tag}`
  const u = await apiCall('POST', '/users', {
    token: admin,
    body: { username, display_name: `已离职${tag}`, password: `E2e-${crypto.randomBytes(12).toString('base64url')}`, role_ids: [role.id] },
  })
  let c = null
  await eventually(
    async () => (c = await apiCall('POST', '/customers', { token: admin, body: { name: `离职交接${tag}有限公司`, manager_id: u.id } }).catch(() => null)),
    20000,
    'a customer of the new manager',
  )
  await apiCall('POST', `/users/${u.id}/disable`, { token: admin })
  await eventually(
    () => mysql(`SELECT manager_id FROM crm_transfer.customer_owners WHERE customer_id = ${Number(c.id)}`) === String(u.id),
    20000,
    'the customer known to the transfer service',
  )
  const e2 = await meOf('manager_east2')

  await begin('admin')
  await page.goto(`${GATEWAY}/transfers/handover`)
  const form = page.getByTestId('handover-page')
  await pickPerson(form, 'handover-from', username, { path: '/api/v1/users', param: 'q' })
  await page.waitForFunction(() => /1 个客户/.test(document.querySelector('[data-testid="handover-preview"]')?.innerText || ''))
  await pickPerson(form, 'handover-to', '李娜')
  await page.keyboard.press('Escape')
  await field(form, 'handover-reason').fill(`离职交接 ${tag}`)
  await page.getByTestId('handover-start').click()
  const box = visible('.el-message-box')
  await box.waitFor()
  assert.match(await box.innerText(), new RegExp(`已离职${tag}.*1 个客户.*李娜`, 's'), 'the confirmation names the giver')
  await box.locator('.el-button--primary').click()
  await page.waitForFunction(() => document.querySelector('[data-testid="handover-job-status"]')?.innerText.trim() === '已完成', null, { timeout: 30000 })
  await eventually(() => ownerOf(c.id) === String(e2.id), 20000, 'the customer moved to 李娜')
})
