// SPDX-License-Identifier: Apache-2.0
// The customer pages (issue 12) in Debian's Chromium against the test stack and its demo accounts
// (deploy/demo/load): a customer manager creates a customer, adds a contact and a follow-up,
// finds it again by a Chinese substring of its name, edits it (only the change is sent) and sees
// the duplicate warning (without "save anyway", which only its permission's holders get); a
// second manager who cannot see it gets the not-found page at its address; the recycle bin
// restores; the home page's to-do cards count what the API counts and lead to the filtered list;
// at 390 px the list and the detail page do not scroll sideways. Screenshots of the list and the
// detail page in both languages and on a phone (tests/e2e/screenshots, README).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  GATEWAY, skipAdmin, useBrowser, timedTest, page, apiCall, apiLogin, adminSession, visible, startSession, rowOf, tableSettled,
  pathOf, shotPath, settleForScreenshot,
} from './lib.mjs'

const test = timedTest({ timeout: 180000, failedShot: 'failed-customers' })
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }

/** The demo accounts ("username password role" lines) by username. */
function demoAccounts() {
  const file = process.env.CRM_TEST_CREDENTIALS ||
    path.join(process.env.CRM_TEST_STATE || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.run', 'test'), 'credentials')
  const out = {}
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [user, password] = line.trim().split(/\s+/)
      if (user && password) out[user] = password
    }
  } catch {
    /* no demo accounts: the tests are skipped */
  }
  return out
}
const ACCOUNTS = demoAccounts()
const skipDemo = !(ACCOUNTS.manager_east1 && ACCOUNTS.manager_east2) && 'needs the demo accounts manager_east1 and manager_east2 (deploy/demo/load)'

useBrowser({ profilePrefix: 'crm-e2e-customers-', viewport: DESKTOP, enabled: !skipAdmin || !skipDemo })

const sessions = {}
const sessionOf = async (who) => (who === 'admin' ? adminSession() : (sessions[who] ||= await apiLogin(who, ACCOUNTS[who])))
const tokenOf = async (who) => (await sessionOf(who)).access_token

async function begin(who, { locale = 'zh-CN', viewport = DESKTOP } = {}) {
  await page.setViewportSize(viewport)
  await page.goto(`${GATEWAY}/login`)
  await page.evaluate((l) => localStorage.setItem('crm.locale', l), locale)
  await startSession(await sessionOf(who))
}

const sfx = () => crypto.randomBytes(3).toString('hex')
/** A customer of 'who' made through the API. */
const apiCustomer = async (who, body) => apiCall('POST', '/customers', { token: await tokenOf(who), body })

/** The text box of the field 'id' in 'scope' (el-input puts the test id on the input itself). */
const field = (scope, id) =>
  scope.locator(`input[data-testid="${id}"], textarea[data-testid="${id}"], [data-testid="${id}"] input, [data-testid="${id}"] textarea`).first()

/** Picks 'text' in the open el-select dropdown. */
async function pick(text) {
  await visible('.el-select-dropdown__item').filter({ hasText: text }).first().click()
}

const overflow = () =>
  page.evaluate(() => {
    const main = document.querySelector('.app-main')
    return Math.max(document.scrollingElement.scrollWidth - window.innerWidth, main ? main.scrollWidth - main.clientWidth : 0)
  })

const pad = (n) => String(n).padStart(2, '0')
const pickerText = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:00`

test('a manager creates a customer with a contact and a follow-up, finds it by a Chinese substring, edits it and meets the duplicate warning', { skip: skipDemo }, async () => {
  const tag = sfx()
  const name = `上海浦江${tag}贸易有限公司`
  await begin('manager_east1')
  await page.goto(`${GATEWAY}/customers`)
  await tableSettled('customers-table')

  // create: a client rule first (the mobile), then the customer
  await page.getByTestId('customer-create').click()
  const dialog = visible('[data-testid="customer-dialog"]')
  await dialog.waitFor()
  await field(dialog, 'customer-form-name').fill(name)
  await field(dialog, 'customer-form-mobile').fill('12345')
  await field(dialog, 'customer-form-mobile').blur()
  await dialog.locator('.el-form-item__error', { hasText: '11 位手机号码' }).waitFor()
  const mobile = `139${String(crypto.randomInt(1e8)).padStart(8, '0')}`
  await field(dialog, 'customer-form-mobile').fill(mobile)
  await dialog.getByTestId('customer-form-level').click()
  await pick('A类')
  // the region: province, city, district from the cascader (GET /regions)
  await dialog.locator('.el-cascader').click()
  for (const r of ['广东省', '深圳市', '南山区']) {
    await visible('.el-cascader-node').filter({ has: page.locator('.el-cascader-node__label', { hasText: new RegExp(`^${r}$`) }) }).first().click()
  }
  const [created] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/customers' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(created.status(), 201, await created.text())
  const customer = await created.json()
  assert.equal(customer.level, 'a')
  assert.deepEqual([customer.province, customer.city, customer.district], ['广东省', '深圳市', '南山区'])
  await dialog.waitFor({ state: 'hidden' })

  // found by a Chinese substring of its name, the level in words, the owner by name
  await field(page, 'customers-keyword').fill(`浦江${tag}贸易`)
  await field(page, 'customers-keyword').press('Enter')
  await page.waitForURL((u) => u.searchParams.get('keyword') === `浦江${tag}贸易`)
  await tableSettled('customers-table')
  const row = rowOf('customers-table', name)
  await row.waitFor()
  const rowText = await row.innerText()
  assert.match(rowText, /A类/, 'the level is its label')
  assert.match(rowText, new RegExp(customer.manager_name), 'the owner by name')

  // the detail page: a contact, then a follow-up with that contact and a next contact time
  await row.getByTestId('customer-link').click()
  await page.waitForURL((u) => u.pathname === `/customers/${customer.id}`)
  assert.equal((await page.getByTestId('customer-name').innerText()).trim(), name)
  await page.getByTestId('customer-tabs').getByText('联系人', { exact: true }).click()
  await page.getByTestId('contact-create').click()
  const cdialog = visible('[data-testid="contact-dialog"]')
  await cdialog.waitFor()
  await field(cdialog, 'contact-form-name').fill('王经理')
  await field(cdialog, 'contact-form-position').fill('采购总监')
  await field(cdialog, 'contact-form-mobile').fill(`138${String(crypto.randomInt(1e8)).padStart(8, '0')}`)
  await cdialog.getByTestId('contact-form-no-year').click()
  await field(cdialog, 'contact-form-birthday').fill('05-01') // the picker's format without the year
  await field(cdialog, 'contact-form-birthday').press('Enter')
  const [contactResp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/contacts' && r.request().method() === 'POST'),
    cdialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(contactResp.status(), 201, await contactResp.text())
  const sent = JSON.parse(contactResp.request().postData())
  assert.equal(sent.birthday, '05-01', 'a birthday without its year')
  assert.equal(sent.primary, true, 'the first contact is the primary one')
  await cdialog.waitFor({ state: 'hidden' })
  const contactRow = rowOf('contacts-table', '王经理')
  await contactRow.waitFor()
  assert.equal(await contactRow.getByTestId('contact-primary').count(), 1)
  assert.match(await contactRow.innerText(), /5 月 1 日/)

  await page.getByTestId('customer-tabs').getByText('跟进记录', { exact: true }).click()
  await page.getByTestId('followup-create').click()
  const fdialog = visible('[data-testid="followup-dialog"]')
  await fdialog.waitFor()
  const said = `客户说下周${tag}确认订单`
  await field(fdialog, 'followup-form-content').fill(said)
  await fdialog.getByTestId('followup-form-contacts').click()
  await pick('王经理')
  await fdialog.locator('.el-dialog__header').click() // close the dropdown
  const nextAt = new Date(Date.now() + 3 * 24 * 3600 * 1000)
  await field(fdialog, 'followup-form-next').fill(pickerText(nextAt))
  await field(fdialog, 'followup-form-next').press('Enter')
  const [followupResp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/followups' && r.request().method() === 'POST'),
    fdialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(followupResp.status(), 201, await followupResp.text())
  const fsent = JSON.parse(followupResp.request().postData())
  assert.equal(fsent.customer_id, customer.id)
  assert.equal(fsent.content, said)
  assert.equal(fsent.contact_ids.length, 1, 'the contact who took part')
  assert.ok(fsent.next_contact_at, 'the next contact time is sent')
  await fdialog.waitFor({ state: 'hidden' })
  await page.getByTestId('followup-item').filter({ hasText: said }).waitFor()
  assert.match(await page.getByTestId('followup-item').first().innerText(), /王经理/, 'the contact by name')
  await page.getByTestId('customer-last-said').filter({ hasText: said }).waitFor() // the customer's last contact moved
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('customer-detail') })

  // edit: only the change and the version are sent
  await page.getByTestId('customer-detail-edit').click()
  const edialog = visible('[data-testid="customer-dialog"]')
  await edialog.waitFor()
  await edialog.getByTestId('customer-form-level').click()
  await pick('B类')
  const [patched] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/customers/${customer.id}` && r.request().method() === 'PATCH'),
    edialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(patched.status(), 200, await patched.text())
  assert.deepEqual(Object.keys(JSON.parse(patched.request().postData())).sort(), ['level', 'version'])
  await page.waitForFunction(() => document.querySelector('[data-testid="customer-level"]')?.innerText.includes('B类'))

  // the manager's list with it, its last contact and what was said
  await page.goto(`${GATEWAY}/customers`)
  await tableSettled('customers-table')
  assert.match(await rowOf('customers-table', name).innerText(), new RegExp(said), 'the last contact says what was said')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('customers') })

  // the same name again: 409, the match listed with its owner, no "save anyway" for a manager
  await page.getByTestId('customer-create').click()
  const again = visible('[data-testid="customer-dialog"]')
  await again.waitFor()
  await field(again, 'customer-form-name').fill(name)
  const [dup] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/customers' && r.request().method() === 'POST'),
    again.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(dup.status(), 409)
  const dups = again.getByTestId('customer-duplicates')
  await dups.waitFor()
  const dupText = await dups.innerText()
  assert.match(dupText, new RegExp(name), dupText)
  assert.match(dupText, new RegExp(`负责人 ${customer.manager_name}`), dupText)
  assert.match(dupText, /名称相同/)
  assert.equal(await again.getByTestId('customer-save-anyway').count(), 0, 'a manager may not save a duplicate')
  assert.match(await again.getByTestId('form-error').innerText(), /与已有客户重复/)
  assert.equal(await visible('.el-message--error').count(), 0, 'the error is shown once, in the dialog')
})

test('an administrator may save a duplicate anyway; the second name is kept with the match', { skip: skipAdmin || skipDemo }, async () => {
  const name = `杭州西湖${sfx()}科技有限公司`
  await apiCustomer('manager_east1', { name })
  await begin('admin')
  await page.goto(`${GATEWAY}/customers`)
  await page.getByTestId('customer-create').click()
  const dialog = visible('[data-testid="customer-dialog"]')
  await dialog.waitFor()
  await field(dialog, 'customer-form-name').fill(name.replace('有限公司', '有限责任公司'))
  await dialog.locator('.el-dialog__footer .el-button--primary').click()
  await dialog.getByTestId('customer-duplicates').waitFor()
  const [forced] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/customers' && r.request().method() === 'POST'),
    dialog.getByTestId('customer-save-anyway').click(),
  ])
  assert.equal(forced.status(), 201, await forced.text())
  assert.equal(JSON.parse(forced.request().postData()).force_duplicate, true)
  await dialog.waitFor({ state: 'hidden' })
})

test('the change history names who changed which field, before and after, in words, for the manager', { skip: skipDemo }, async () => {
  const token = await tokenOf('manager_east1')
  const c = await apiCustomer('manager_east1', { name: `厦门思明${sfx()}有限公司`, level: 'a', status: 'potential' })
  await apiCall('PATCH', `/customers/${c.id}`, { token, body: { version: c.version, level: 'b', status: 'active' } })
  await begin('manager_east1') // no audit permission: the customer service keeps the history
  await page.goto(`${GATEWAY}/customers/${c.id}?tab=history`)
  const item = page.getByTestId('history-item').filter({ hasText: '修改客户' }).first()
  await item.waitFor()
  const text = await item.innerText()
  assert.match(text, /客户级别：\s*A类（重点客户）\s*→\s*B类（普通客户）/, text)
  assert.match(text, /客户状态：\s*潜在\s*→\s*活跃/, text)
  assert.match(text, new RegExp(c.manager_name), 'who changed it, by name')
  assert.doesNotMatch(text, /level|status|version/, 'no field names of the API')
})

test('a second manager who cannot see the customer gets the not-found page at its address, no error toast', { skip: skipDemo }, async () => {
  const c = await apiCustomer('manager_east1', { name: `南京秦淮${sfx()}有限公司` })
  await begin('manager_east2')
  await page.goto(`${GATEWAY}/customers/${c.id}`)
  await page.getByTestId('not-found').waitFor()
  assert.equal(await page.getByTestId('customer-detail').count(), 0)
  await page.waitForTimeout(300)
  assert.equal(await visible('.el-message--error').count(), 0, 'no error toast')
  assert.doesNotMatch(await page.locator('.app-main').innerText(), new RegExp(c.name), 'nothing of the customer shows')
})

test('the recycle bin lists a deleted customer and restores it', { skip: skipAdmin || skipDemo }, async () => {
  const c = await apiCustomer('manager_east1', { name: `苏州园区${sfx()}有限公司` })
  await apiCall('DELETE', `/customers/${c.id}`, { token: await tokenOf('manager_east1') })
  await begin('admin')
  await page.goto(`${GATEWAY}/customers`)
  await page.getByTestId('customers-bin-link').click()
  await page.waitForURL((u) => u.pathname === '/customers/recycle-bin')
  await field(page, 'recycle-bin-keyword').fill(c.name)
  await field(page, 'recycle-bin-keyword').press('Enter')
  await tableSettled('recycle-bin-table')
  const row = rowOf('recycle-bin-table', c.name)
  await row.waitFor()
  await row.getByTestId('customer-restore').click()
  await visible('.el-message-box').waitFor()
  const [restored] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === `/api/v1/customers/${c.id}/restore`),
    visible('.el-message-box .el-button--primary').click(),
  ])
  assert.equal(restored.status(), 200, await restored.text())
  await page.waitForFunction((n) => ![...document.querySelectorAll('[data-testid="recycle-bin-table"] tr.el-table__row')].some((tr) => tr.innerText.includes(n)), c.name)
  const back = await apiCall('GET', `/customers/${c.id}`, { token: await tokenOf('manager_east1') })
  assert.equal(back.name, c.name, 'the manager sees it again')
})

test('the home page counts the to-dos as the API does and leads to the filtered list', { skip: skipDemo }, async () => {
  const yesterday = new Date()
  yesterday.setHours(0, 0, 0, 0)
  yesterday.setDate(yesterday.getDate() - 1) // overdue: before the user's today
  const overdue = await apiCustomer('manager_east1', { name: `无锡${sfx()}有限公司`, next_contact_at: yesterday.toISOString() })
  const token = await tokenOf('manager_east1')
  const tz = -new Date().getTimezoneOffset()
  const counts = await apiCall('GET', `/customers/todos?tz=${tz}`, { token })
  await begin('manager_east1')
  const cards = page.getByTestId('home-todos')
  await cards.waitFor()
  for (const k of ['today', 'overdue', 'not_followed', 'moved']) {
    await page.waitForFunction(
      ([key, n]) => document.querySelector(`[data-testid="todo-${key}"] [data-testid="todo-count"]`)?.innerText.trim() === String(n),
      [k, counts[k]],
    )
  }
  assert.ok(counts.overdue >= 1)
  await page.getByTestId('todo-overdue').click()
  await page.waitForURL((u) => u.pathname === '/customers' && u.searchParams.get('todo') === 'overdue')
  await tableSettled('customers-table')
  await page.getByTestId('customers-todo').waitFor()
  await rowOf('customers-table', overdue.name).waitFor()
  assert.match(await rowOf('customers-table', overdue.name).getByTestId('customer-next').innerText(), /已逾期/)
})

test('the contacts and follow-ups lists show names and lead to the customer; the picker names a customer given by id', { skip: skipDemo }, async () => {
  const token = await tokenOf('manager_east1')
  const c = await apiCustomer('manager_east1', { name: `宁波北仑${sfx()}港务有限公司` })
  const person = `李${sfx()}`
  const contact = await apiCall('POST', '/contacts', { token, body: { customer_id: c.id, name: person, position: '总经理', decision_maker: true } })
  const said = `谈了明年${sfx()}的运价`
  await apiCall('POST', '/followups', {
    token, body: { customer_id: c.id, contact_at: new Date(Date.now() - 60000).toISOString(), method: 'visit', content: said, contact_ids: [contact.id] },
  })
  await begin('manager_east1')
  await page.goto(`${GATEWAY}/contacts?keyword=${encodeURIComponent(person)}`)
  await tableSettled('contacts-list')
  const row = rowOf('contacts-list', person)
  await row.waitFor()
  assert.match(await row.innerText(), /决策人/, 'the decision maker is marked')
  await row.getByTestId('contact-customer-link').click()
  await page.waitForURL((u) => u.pathname === `/customers/${c.id}` && u.searchParams.get('tab') === 'contacts')
  await rowOf('contacts-table', person).waitFor()

  await page.goto(`${GATEWAY}/followups?customer_id=${c.id}`)
  await tableSettled('followups-list')
  const f = rowOf('followups-list', said)
  await f.waitFor()
  const text = await f.innerText()
  assert.match(text, /拜访/, 'the method by its label')
  assert.match(text, new RegExp(person), 'the contacts by name')
  assert.match(text, new RegExp(c.name), 'the customer by name')
  await page.waitForFunction((n) => document.querySelector('[data-testid="followups-page"] .el-select')?.innerText.includes(n), c.name)
})

test('both languages: the list and the detail page in English name everything in English', { skip: skipDemo }, async () => {
  const c = await apiCustomer('manager_east1', { name: `Acme ${sfx()} 有限公司`, level: 'a', industry: 'it', status: 'active' })
  await begin('manager_east1', { locale: 'en' })
  await page.goto(`${GATEWAY}/customers?keyword=${encodeURIComponent(c.name.slice(0, 10))}`)
  await tableSettled('customers-table')
  const row = rowOf('customers-table', c.name)
  await row.waitFor()
  await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="customers-table"] tr.el-table__row')]
    .some((tr) => tr.innerText.includes(n) && tr.innerText.includes('Information technology')), c.name) // the dictionaries loaded
  const text = await row.innerText()
  assert.match(text, /A \(key account\)/)
  assert.match(text, /Information technology/)
  assert.match(text, /Active/)
  assert.match(await page.getByTestId('customers-scenes').innerText(), /Mine[\s\S]*My team's[\s\S]*All/)
  await page.goto(`${GATEWAY}/customers/${c.id}`)
  await page.getByTestId('customer-info').waitFor()
  // the dictionaries load beside the customer: the label comes, never the code
  await page.waitForFunction(() => /Information technology/.test(document.querySelector('[data-testid="customer-info"]')?.innerText || ''))
  assert.doesNotMatch(await page.getByTestId('customer-info').innerText(), /Industry\s+it\s/)
  await page.getByTestId('customer-tabs').getByText('Transfers', { exact: true }).click()
  assert.match(await page.getByTestId('customer-transfers-soon').innerText(), /transfer module/)

  // the screenshots: the whole list, and a demo customer with contacts and follow-ups
  await page.goto(`${GATEWAY}/customers`)
  await tableSettled('customers-table')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('customers-en') })
  const mine = await apiCall('GET', '/customers?page_size=100&sort=created_at&order=asc', { token: await tokenOf('manager_east1') })
  const shown = mine.items.find((x) => x.primary_contact && x.last_contact_at) || c
  await page.goto(`${GATEWAY}/customers/${shown.id}?tab=followups`)
  await page.getByTestId('followups-tab').waitFor()
  await page.waitForTimeout(500)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('customer-detail-en') })
})

test('at 390 px the list is cards and neither the list nor the detail page scrolls sideways', { skip: skipDemo }, async () => {
  const c = await apiCustomer('manager_east1', {
    name: `广州天河${sfx()}国际贸易集团股份有限公司`, level: 'b', mobile: `137${String(crypto.randomInt(1e8)).padStart(8, '0')}`,
    next_contact_at: new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString(), tags: ['重点', '华南'],
  })
  await begin('manager_east1', { viewport: PHONE })
  await page.goto(`${GATEWAY}/customers?keyword=${encodeURIComponent(c.name.slice(0, 8))}`)
  await tableSettled('customers-table')
  await rowOf('customers-table', c.name).waitFor()
  await page.waitForTimeout(300)
  assert.ok((await overflow()) <= 0, `the list overflows the phone by ${await overflow()}px`)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('phone-customers') })
  await page.goto(`${GATEWAY}/customers/${c.id}`)
  await page.getByTestId('customer-info').waitFor()
  await page.waitForTimeout(300)
  assert.ok((await overflow()) <= 0, `the detail page overflows the phone by ${await overflow()}px`)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('phone-customer-detail') })
  for (const [p, ready] of [['/contacts', 'contacts-list'], ['/followups', 'followups-list'], ['/dashboard', 'home-todos']]) {
    await page.goto(`${GATEWAY}${p}`)
    await page.getByTestId(ready).waitFor()
    await page.waitForTimeout(300)
    assert.ok((await overflow()) <= 0, `${p} overflows the phone by ${await overflow()}px`)
  }
  // a dialog is full screen
  await page.goto(`${GATEWAY}/customers/${c.id}`)
  await page.getByTestId('customer-detail-edit').click({ timeout: 30000 }) // a loaded machine is slow here
  const box = await visible('.el-dialog').boundingBox()
  assert.ok(box.width >= PHONE.width - 1, `the dialog takes the screen's width: ${box.width}`)
})
