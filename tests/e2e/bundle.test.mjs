// SPDX-License-Identifier: Apache-2.0
// Load size of the console (issue 11 #6), measured from Chromium's network log on a cold cache:
// the bytes on the wire (CDP Network.loadingFinished encodedDataLength: headers and the body as
// sent, br or gzip from the gateway) of the login page, and of logging in and opening the user
// list, next to what the same answers weigh decoded (Network.dataReceived dataLength).
//
//   CRM_TEST_GATEWAY=... CRM_TEST_ADMIN_USER=... CRM_TEST_ADMIN_PASSWORD=... node --test tests/e2e/bundle.test.mjs
import assert from 'node:assert/strict'
import { GATEWAY, ADMIN_USER, ADMIN_PASSWORD, skipAdmin, useBrowser, timedTest, context } from './lib.mjs'

const LOGIN_AIM = 250 * 1024
const USERS_AIM = 400 * 1024

const test = timedTest({ timeout: 120000, failedShot: 'bundle-failed' })

useBrowser({ profilePrefix: 'crm-e2e-bundle-', viewport: { width: 1440, height: 900 }, enabled: !skipAdmin })

/** Records every finished request of 'tab' into the returned list: {url, wire bytes, decoded
 * body bytes, Content-Encoding}. */
async function networkLog(tab) {
  const cdp = await context.newCDPSession(tab)
  await cdp.send('Network.enable')
  await cdp.send('Network.clearBrowserCache')
  const seen = new Map()
  const done = []
  const of = (id) => seen.get(id) ?? seen.set(id, { url: '', decoded: 0, encoding: '' }).get(id)
  cdp.on('Network.responseReceived', (e) => {
    const r = of(e.requestId)
    r.url = e.response.url
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]))
    r.encoding = h['content-encoding'] ?? ''
  })
  cdp.on('Network.dataReceived', (e) => { of(e.requestId).decoded += e.dataLength })
  cdp.on('Network.loadingFinished', (e) => done.push({ ...of(e.requestId), bytes: e.encodedDataLength }))
  return done
}

/** The wire size, the decoded size, and how many answers came compressed. */
function figures(entries) {
  let wire = 0
  let decoded = 0
  let compressed = 0
  for (const e of entries) {
    wire += e.bytes
    decoded += e.decoded
    if (e.encoding) compressed++
  }
  return { wire, decoded, compressed, requests: entries.length }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`

test('load size: the login page, then login to the user list, from a cold cache', { skip: skipAdmin }, async () => {
  // A new tab on an empty cache; the login form sends the user straight to the list.
  const tab = await context.newPage()
  const log = await networkLog(tab)
  await tab.goto(`${GATEWAY}/login?redirect=/system/users`, { waitUntil: 'networkidle' })
  await tab.getByTestId('login-form').waitFor()
  const loginPage = figures(log.splice(0))

  await tab.getByTestId('login-username').fill(ADMIN_USER)
  await tab.getByTestId('login-password').fill(ADMIN_PASSWORD)
  await tab.getByTestId('login-submit').click()
  await tab.waitForURL((u) => u.pathname === '/system/users')
  await tab.getByTestId('users-table').locator('tr.el-table__row').first().waitFor()
  await tab.waitForTimeout(1000) // what the page loads after its first rows
  const toUsers = figures(log.splice(0))
  await tab.close()

  const line = (f) => `${kb(f.wire)} on the wire, ${kb(f.decoded)} decoded (${f.requests} requests, ${f.compressed} compressed)`
  console.log(`login page: ${line(loginPage)}`)
  console.log(`login -> user list: ${line(toUsers)} more`)
  assert.ok(loginPage.compressed > 0, 'the gateway compresses the assets of the login page')
  assert.ok(loginPage.wire < LOGIN_AIM, `the login page weighs ${kb(loginPage.wire)} on the wire, aim ${kb(LOGIN_AIM)}`)
  assert.ok(toUsers.wire < USERS_AIM, `login to the user list weighs ${kb(toUsers.wire)} more on the wire, aim ${kb(USERS_AIM)}`)
})
