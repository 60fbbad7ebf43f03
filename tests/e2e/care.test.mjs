// SPDX-License-Identifier: Apache-2.0
// Customer care in the console (issue 14), Debian's Chromium against the test stack: the seed's
// flow by hand — a customer manager with a contact whose birthday is today (both made through
// the API, then the birthday scan run by the administrator) opens today's birthday task from the
// workbench, records the greeting, later adds the feedback and completes it; the task shows done
// with its trail. A wrong step is refused at its field in words. The plan dialog by filter makes
// tasks and says how many. The phone layout has no horizontal scroll. Screenshots of the
// workbench and the care pages in both languages and on a phone (CRM_E2E_UPDATE_SCREENSHOTS=1
// rewrites the README's).
//
//   CRM_TEST_GATEWAY=... CRM_TEST_ADMIN_USER=... CRM_TEST_ADMIN_PASSWORD=... node --test tests/e2e/care.test.mjs
// The customer manager comes from CRM_TEST_MANAGER_USER/_PASSWORD or the demo accounts file.
import assert from 'node:assert/strict'
import {
  GATEWAY, MANAGER_USER, MANAGER_PASSWORD, DIRECTOR_USER, DIRECTOR_PASSWORD, skipAdmin, skipManager, skipDirector, useBrowser, timedTest, page, randomName, apiCall, apiLogin,
  adminSession, startSession, visible, rowOf, tableSettled, pathOf, shotPath, settleForScreenshot,
} from './lib.mjs'

const test = timedTest({ timeout: 240000, failedShot: 'care-failed' })
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }
const skip = skipAdmin || skipManager

// a manager in China: the browser's day is Shanghai's, as the scan's
useBrowser({ profilePrefix: 'crm-e2e-care-', viewport: DESKTOP, enabled: !skip, contextOptions: async () => ({ timezoneId: 'Asia/Shanghai' }) })

/** Today in Asia/Shanghai (the scan's zone) as YYYY-MM-DD. */
const shanghaiToday = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)

let managerTokens = null
const manager = async () => (managerTokens ||= await apiLogin(MANAGER_USER, MANAGER_PASSWORD))

/**
 * A customer of the manager (level A, education) with a key decision maker born today, and the
 * birthday task the administrator's scan made for it (the scan is run until the care service has
 * learnt the contact from its event; running it again makes nothing twice).
 */
async function bornToday() {
  const token = (await manager()).access_token
  const tag = randomName().slice(4, 10)
  const customer = await apiCall('POST', '/customers', { token, body: { name: `关怀演示${tag}科技有限公司`, level: 'a', industry: 'education' } })
  const contact = await apiCall('POST', '/contacts', {
    token, body: { customer_id: customer.id, name: `寿星${tag}`, birthday: `1980-${shanghaiToday().slice(5)}`, decision_maker: true },
  })
  const admin = (await adminSession()).access_token
  for (const deadline = Date.now() + 30000; ;) {
    await apiCall('POST', '/care/scan', { token: admin, body: {} })
    const list = await apiCall('GET', `/care/tasks?view=today&contact_id=${contact.id}`, { token })
    const task = list.items.find((x) => x.kind === 'birthday')
    if (task) return { customer, contact, task }
    if (Date.now() > deadline) throw new Error(`no birthday task for contact ${contact.id} after 30 s of scans`)
    await new Promise((ok) => setTimeout(ok, 500))
  }
}

async function begin(locale = 'zh-CN', viewport = DESKTOP) {
  await page.setViewportSize(viewport)
  await page.evaluate((l) => localStorage.setItem('crm.locale', l), locale)
  await startSession(await manager())
}

/** Clicks 'button' of the open task dialog and returns the answer of the care action it sends. */
async function act(dialog, testId, action) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new RegExp(`^/api/v1/care/tasks/\\d+/${action}$`).test(pathOf(r)) && r.request().method() === 'POST'),
    dialog.getByTestId(testId).click(),
  ])
  return resp
}

const closeDialog = async (dialog) => {
  await dialog.locator('.el-dialog__headerbtn').click()
  await dialog.waitFor({ state: 'hidden' })
}

const overflow = () =>
  page.evaluate(() => {
    const main = document.querySelector('.app-main')
    return Math.max(document.scrollingElement.scrollWidth - window.innerWidth, main ? main.scrollWidth - main.clientWidth : 0)
  })

let made = null

test('the seed\'s flow: today\'s birthday task from the workbench, the greeting recorded, later the feedback and done, with its trail', { skip }, async () => {
  made = await bornToday()
  const { contact, customer, task } = made
  await begin('zh-CN')

  // the workbench: care due today counts it; its card opens today's list
  const card = page.getByTestId('workbench-care-today')
  await card.waitFor()
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="workbench-care-today"] [data-testid="workbench-count"]')?.innerText || ''))
  assert.ok(Number(await card.getByTestId('workbench-count').innerText()) >= 1, 'today\'s care counts the birthday task')
  const week = await page.getByTestId('workbench-birthdays').innerText()
  // (a stack the tests ran on before may have more birthdays today than the card lists)
  assert.ok(week.includes(contact.name) || (await page.getByTestId('workbench-birthdays-more').count()) === 1, `the birthday is in this week's list: ${week}`)
  await card.click()
  await page.waitForURL((u) => u.pathname === '/care' && u.searchParams.get('view') === 'today')
  await tableSettled('care-table')
  const row = rowOf('care-table', contact.name)
  await row.waitFor()
  const text = await row.innerText()
  assert.match(text, new RegExp(customer.name), 'the customer by name')
  assert.match(text, /生日祝福/, 'the care type in words')
  assert.match(text, /待执行/)
  assert.doesNotMatch(text, new RegExp(`\\b${customer.id}\\b`), 'no ids')
  assert.equal(await row.getByTestId('care-row-overdue').count(), 0, 'a birthday planned at midnight is today\'s work, not late')

  // open it: a blank reason is refused at its field, in words
  await row.getByTestId('care-row-open').click()
  const dialog = visible('[data-testid="care-task-dialog"]')
  await dialog.getByTestId('care-task-facts').waitFor()
  await dialog.getByTestId('care-task-cancel').click()
  await dialog.getByTestId('care-task-reason').fill('   ')
  const refused = await act(dialog, 'care-task-cancel-confirm', 'cancel')
  assert.equal(refused.status(), 422)
  const fieldError = dialog.locator('.el-form-item__error').first()
  await fieldError.waitFor()
  assert.match(await fieldError.innerText(), /[\u4e00-\u9fff]/, 'the field error is in Chinese')
  assert.doesNotMatch(await dialog.innerText(), /must not be blank|validation_failed/, 'never the server\'s English')

  // record the greeting: it stays pending
  await dialog.getByTestId('care-task-content').fill('已致电送上生日祝福，并寄出贺卡')
  const recorded = await act(dialog, 'care-task-record', 'record')
  assert.equal(recorded.status(), 200, await recorded.text())
  assert.deepEqual(Object.keys(JSON.parse(recorded.request().postData())).sort(), ['content', 'version'], 'only what the step takes')
  await page.waitForFunction(() => document.querySelector('[data-testid="care-trail"]')?.innerText.includes('记录关怀'))
  assert.equal((await dialog.getByTestId('care-task-status').innerText()).trim(), '待执行')
  await closeDialog(dialog)

  // later: the feedback and satisfaction, and done
  await page.reload()
  await tableSettled('care-table')
  await rowOf('care-table', contact.name).getByTestId('care-row-open').click()
  await dialog.getByTestId('care-task-facts').waitFor()
  assert.equal(await dialog.getByTestId('care-task-content').inputValue(), '已致电送上生日祝福，并寄出贺卡', 'what was recorded is kept')
  await dialog.getByTestId('care-task-satisfaction').getByText('很满意', { exact: true }).click()
  await dialog.getByTestId('care-task-feedback').fill('客户很感谢，约下月拜访')
  const done = await act(dialog, 'care-task-complete', 'complete')
  assert.equal(done.status(), 200, await done.text())
  const sent = JSON.parse(done.request().postData())
  assert.deepEqual({ feedback: sent.feedback, satisfaction: sent.satisfaction }, { feedback: '客户很感谢，约下月拜访', satisfaction: 'very_satisfied' })
  await page.waitForFunction(() => document.querySelector('[data-testid="care-task-status"]')?.innerText.trim() === '已完成')
  const trail = await dialog.getByTestId('care-trail').innerText()
  for (const step of ['创建任务', '记录关怀', '完成关怀']) assert.match(trail, new RegExp(step), `the trail has ${step}: ${trail}`)
  assert.match(trail, /很满意/, 'the satisfaction in words in the trail')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('care-task') })
  await closeDialog(dialog)

  // the done tab lists it as done; the server agrees
  await page.getByTestId('care-tab-done').click()
  await page.waitForURL((u) => u.searchParams.get('view') === 'done')
  await tableSettled('care-table')
  assert.match(await rowOf('care-table', contact.name).getByTestId('care-row-status').innerText(), /已完成/)
  const after = await apiCall('GET', `/care/tasks/${task.id}`, { token: (await manager()).access_token })
  assert.equal(after.status, 'done')
  assert.equal(after.content, '已致电送上生日祝福，并寄出贺卡')
  assert.equal(after.satisfaction, 'very_satisfied')
})

test('the plan dialog by filter (level A, key decision makers) makes tasks and says how many', { skip }, async () => {
  made ||= await bornToday()
  await begin('zh-CN')
  await page.goto(`${GATEWAY}/care`)
  await page.getByTestId('care-plan-create').click()
  const dialog = visible('[data-testid="care-plan-dialog"]')
  await dialog.getByTestId('care-plan-target').getByText('按条件筛选').click()
  await dialog.getByTestId('care-plan-level').click()
  await visible('.el-select-dropdown__item').filter({ hasText: 'A类' }).first().click()
  await dialog.getByTestId('care-plan-industry').click()
  await page.keyboard.type('教育') // the select lists the first values that match what is typed
  await visible('.el-select-dropdown__item').filter({ hasText: '教育' }).first().click()
  await dialog.getByTestId('care-plan-decision-makers').click()
  const title = `中秋节问候${randomName().slice(4, 9)}`
  await dialog.getByTestId('care-plan-title').fill(title)
  await dialog.getByTestId('care-plan-type').click()
  await visible('.el-select-dropdown__item').filter({ hasText: '节日问候' }).first().click()
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/care/plans' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(resp.status(), 201, await resp.text())
  const plan = await resp.json()
  assert.deepEqual(JSON.parse(resp.request().postData()).filter, { level: 'a', industry: 'education', decision_maker: true })
  assert.ok(plan.tasks_made >= 1, `tasks made: ${plan.tasks_made}`)
  const said = visible('.care-plan-made')
  await said.waitFor()
  assert.match(await said.innerText(), new RegExp(`生成了 ${plan.tasks_made} 条关怀任务`))
  await dialog.waitFor({ state: 'hidden' })
  // our key decision maker got one
  const mine = await apiCall('GET', `/care/tasks?contact_id=${made.contact.id}&kind=plan&view=all`, { token: (await manager()).access_token })
  assert.ok(mine.items.some((x) => x.title === title && x.care_type === 'holiday'), JSON.stringify(mine.items))
  // the plans page lists it, with its filter in words
  await page.goto(`${GATEWAY}/care/plans`)
  await tableSettled('care-plans-table')
  const row = rowOf('care-plans-table', title)
  assert.match(await row.getByTestId('care-plan-row-target').innerText(), /A类.*教育.*关键决策人/)
})

test('the plan dialog for contacts picked by a server search, repeating monthly until a date: one task now, the plan says how it repeats', { skip }, async () => {
  made ||= await bornToday()
  await begin('en')
  await page.goto(`${GATEWAY}/care/plans`)
  await tableSettled('care-plans-table')
  await page.getByTestId('care-plans-create').click()
  const dialog = visible('[data-testid="care-plan-dialog"]')
  await dialog.getByTestId('care-plan-contacts').click()
  const [searched] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/contacts' && new URL(r.url()).searchParams.get('keyword') === made.contact.name),
    page.keyboard.type(made.contact.name),
  ])
  assert.equal(searched.status(), 200)
  await visible('.el-select-dropdown__item').filter({ hasText: made.customer.name }).first().click()
  const title = `Monthly call ${randomName().slice(4, 9)}`
  await dialog.getByTestId('care-plan-title').fill(title)
  await dialog.getByTestId('care-plan-type').click()
  await visible('.el-select-dropdown__item').filter({ hasText: 'Phone call' }).first().click()
  await dialog.getByTestId('care-plan-unit').click()
  await visible('.el-select-dropdown__item').filter({ hasText: 'Monthly' }).first().click()
  await dialog.getByPlaceholder('Leave empty to repeat without end').fill('2027-06-30')
  await page.keyboard.press('Enter')
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/care/plans' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(resp.status(), 201, await resp.text())
  const body = JSON.parse(resp.request().postData())
  assert.deepEqual(body.contact_ids, [made.contact.id])
  assert.deepEqual(body.repeat, { unit: 'month', every: 1, until: '2027-06-30' })
  assert.equal((await resp.json()).tasks_made, 1)
  await visible('.care-plan-made').filter({ hasText: 'it made 1 care task' }).waitFor()
  await tableSettled('care-plans-table')
  const row = rowOf('care-plans-table', title)
  await row.waitFor()
  assert.match(await row.innerText(), /1 contact/)
  assert.match(await row.innerText(), /Every 1 month/)
})

test('the customer\'s care tab (客户关怀) lists its tasks and makes new care for it', { skip }, async () => {
  made ||= await bornToday()
  await begin('zh-CN')
  await page.goto(`${GATEWAY}/customers/${made.customer.id}?tab=care`)
  await tableSettled('customer-care-table')
  await rowOf('customer-care-table', made.contact.name).waitFor() // the birthday task
  await page.getByTestId('customer-care-create').click()
  const dialog = visible('[data-testid="care-plan-dialog"]')
  assert.match(await dialog.locator('.el-dialog__title').innerText(), new RegExp(made.customer.name), 'for this customer')
  await dialog.getByTestId('care-plan-contact').click()
  await visible('.el-select-dropdown__item').filter({ hasText: made.contact.name }).first().click()
  const title = `上门拜访${randomName().slice(4, 9)}`
  await dialog.getByTestId('care-plan-title').fill(title)
  await dialog.getByTestId('care-plan-type').click()
  await visible('.el-select-dropdown__item').filter({ hasText: '上门拜访' }).first().click()
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/care/tasks' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  assert.equal(resp.status(), 201, await resp.text())
  const body = JSON.parse(resp.request().postData())
  assert.equal(body.customer_id, made.customer.id)
  assert.equal(body.contact_id, made.contact.id)
  assert.equal(body.care_type, 'visit')
  await dialog.waitFor({ state: 'hidden' })
  const row = rowOf('customer-care-table', title)
  await row.waitFor()
  assert.match(await row.innerText(), /上门拜访.*待执行/s)
})

test('a task changed meanwhile: the step is refused, the dialog reads the task again and says so', { skip }, async () => {
  made ||= await bornToday()
  const token = (await manager()).access_token
  const task = await apiCall('POST', '/care/tasks', {
    token, body: { customer_id: made.customer.id, contact_id: made.contact.id, care_type: 'phone', title: `回访${randomName().slice(4, 9)}`, planned_at: new Date(Date.now() + 3600e3).toISOString() },
  })
  await begin('zh-CN')
  await page.goto(`${GATEWAY}/care?view=today&task=${task.id}`)
  const dialog = visible('[data-testid="care-task-dialog"]')
  await dialog.getByTestId('care-task-facts').waitFor()
  // someone else records it meanwhile
  await apiCall('POST', `/care/tasks/${task.id}/record`, { token, body: { version: task.version, content: '同事已电话回访' } })
  await dialog.getByTestId('care-task-content').fill('我也打了电话')
  const stale = await act(dialog, 'care-task-record', 'record')
  assert.equal(stale.status(), 409)
  await dialog.getByTestId('care-task-error').waitFor()
  assert.match(await dialog.getByTestId('care-task-error').innerText(), /他人修改.*重新读取/)
  await page.waitForFunction(() => document.querySelector('[data-testid="care-task-content"]')?.value === '同事已电话回访')
  assert.equal(await visible('.el-message--error').count(), 0, 'shown once, in the dialog')
})

test('a director looks at the team\'s care and at one manager\'s, picked by name; the filter survives a reload', { skip: skip || skipDirector }, async () => {
  made ||= await bornToday()
  const me = await apiCall('GET', '/auth/me', { token: (await manager()).access_token })
  await page.evaluate(() => localStorage.setItem('crm.locale', 'zh-CN'))
  await startSession(await apiLogin(DIRECTOR_USER, DIRECTOR_PASSWORD))
  await page.goto(`${GATEWAY}/care?view=upcoming`)
  await tableSettled('care-table')
  await page.getByTestId('care-scene').click()
  await page.waitForURL((u) => u.searchParams.get('scene') === 'all')
  await page.getByTestId('care-manager').click()
  await page.keyboard.type(me.display_name)
  await visible('.el-select-dropdown__item').filter({ hasText: me.display_name }).first().click()
  await page.waitForURL((u) => u.searchParams.get('manager_id') === String(me.id))
  await tableSettled('care-table')
  const rows = page.getByTestId('care-table').locator('.el-table__body-wrapper tr.el-table__row')
  await rows.first().waitFor()
  for (const text of await rows.allInnerTexts()) assert.match(text, new RegExp(me.display_name), 'every row is that manager\'s')
  await page.reload()
  await tableSettled('care-table')
  assert.match(await page.getByTestId('care-manager').innerText().catch(() => ''), new RegExp(me.display_name), 'the filter names the manager, not an id')
})

test('an administrator runs the birthday scan from the care page and reads what it made', { skip }, async () => {
  await page.evaluate(() => localStorage.setItem('crm.locale', 'zh-CN'))
  await startSession(await adminSession())
  await page.goto(`${GATEWAY}/care`)
  await page.getByTestId('care-page').waitFor()
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/care/scan' && r.request().method() === 'POST'),
    page.getByTestId('care-scan').click(),
  ])
  assert.equal(resp.status(), 200, await resp.text())
  const r = await resp.json()
  const said = visible('.el-message--success').filter({ hasText: '已扫描' })
  await said.waitFor()
  assert.match(await said.innerText(), new RegExp(`${r.day}.*${r.made} 条`))
})

test('the workbench asks for its numbers in a few requests, whatever the size of the dictionaries: none per level or industry', { skip }, async () => {
  made ||= await bornToday()
  const asked = []
  const seen = (req) => {
    const u = new URL(req.url())
    if (u.pathname.startsWith('/api/')) asked.push(u.pathname + u.search)
  }
  page.on('request', seen)
  try {
    await begin('zh-CN')
    await page.getByTestId('workbench').waitFor()
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="workbench-customers"]')?.innerText || ''))
    await page.waitForTimeout(500) // anything still to come
  } finally {
    page.off('request', seen)
  }
  // the customer service: one request for the customers and both charts, none per dictionary value
  assert.deepEqual(asked.filter((p) => p.startsWith('/api/v1/customers?')), [], asked.join('\n'))
  assert.equal(asked.filter((p) => p.startsWith('/api/v1/customers/numbers')).length, 1, asked.join('\n'))
  assert.equal(asked.filter((p) => p.startsWith('/api/v1/care/summary')).length, 1, asked.join('\n'))
  // what the card shows is the manager's count
  const numbers = await apiCall('GET', '/customers/numbers', { token: (await manager()).access_token })
  assert.ok((await page.getByTestId('workbench-customers').innerText()).includes(String(numbers.customers)))
})

test('screenshots of the workbench and the care pages in both languages; the phone has no horizontal scroll', { skip }, async () => {
  made ||= await bornToday()
  // an overdue phone call and a visit to come beside the birthday, so the pages show each state
  const token = (await manager()).access_token
  const day = 86400e3
  for (const [title, care_type, at] of [['季度回访电话', 'phone', Date.now() - 2 * day], ['上门拜访：新品介绍', 'visit', Date.now() + 3 * day]]) {
    await apiCall('POST', '/care/tasks', { token, body: { customer_id: made.customer.id, contact_id: made.contact.id, care_type, title, planned_at: new Date(at).toISOString() } })
  }
  for (const locale of ['zh-CN', 'en']) {
    const sfx = locale === 'en' ? '-en' : ''
    await begin(locale)
    await page.getByTestId('workbench').waitFor()
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="workbench-customers"]')?.innerText || ''))
    await page.setViewportSize({ width: DESKTOP.width, height: 1320 }) // the whole workbench (the main area scrolls itself)
    await page.waitForTimeout(800) // the charts draw
    await settleForScreenshot()
    await page.screenshot({ path: shotPath(`workbench${sfx}`) })
    await page.setViewportSize(DESKTOP)
    await page.goto(`${GATEWAY}/care?view=upcoming`)
    await tableSettled('care-table')
    await settleForScreenshot()
    await page.screenshot({ path: shotPath(`care${sfx}`) })
    await page.goto(`${GATEWAY}/care?mode=calendar`)
    await page.getByTestId('care-cal-task').first().waitFor()
    await settleForScreenshot()
    await page.screenshot({ path: shotPath(`care-calendar${sfx}`) })
  }

  // the overdue call is marked so in its tab
  await begin('zh-CN')
  await page.goto(`${GATEWAY}/care?view=overdue`)
  await tableSettled('care-table')
  await rowOf('care-table', '季度回访电话').getByTestId('care-row-overdue').waitFor()

  await begin('zh-CN', PHONE)
  await page.getByTestId('workbench').waitFor()
  await page.waitForTimeout(800)
  assert.ok((await overflow()) <= 0, 'the workbench fits the phone')
  await page.setViewportSize({ width: PHONE.width, height: 1900 })
  await page.waitForTimeout(500)
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('phone-workbench') })
  await page.setViewportSize(PHONE)
  await page.goto(`${GATEWAY}/care?view=done`)
  await tableSettled('care-table')
  assert.ok((await overflow()) <= 0, 'my care fits the phone')
  await settleForScreenshot()
  await page.screenshot({ path: shotPath('phone-care') })
  await page.goto(`${GATEWAY}/care?mode=calendar`)
  await page.getByTestId('care-cal-list').waitFor()
  assert.ok((await overflow()) <= 0, 'the calendar (a list by day) fits the phone')
  await page.getByTestId('care-cal-task').first().click()
  const dialog = visible('[data-testid="care-task-dialog"]')
  await dialog.getByTestId('care-task-facts').waitFor()
  const box = await dialog.boundingBox()
  assert.ok(box && box.width >= PHONE.width - 1, 'the dialog takes the whole screen')
  assert.ok((await overflow()) <= 0, 'the dialog fits the phone')
  await page.goto(`${GATEWAY}/care/plans`)
  await tableSettled('care-plans-table')
  assert.ok((await overflow()) <= 0, 'the plans fit the phone')
})
