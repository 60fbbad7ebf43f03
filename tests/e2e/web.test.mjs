// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the web front end in Debian's Chromium, against a running stack.
//
//   CRM_TEST_GATEWAY=http://127.0.0.1:9080 node --test tests/e2e/
//
// Optional: CRM_TEST_USER / CRM_TEST_PASSWORD (a user of the test stack) run the logged-in
// tests too; CRM_E2E_UPDATE_SCREENSHOTS=1 rewrites the committed screenshots (README images),
// otherwise screenshots are written as *.tmp.png (ignored by git).
import { beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { GATEWAY, USER, PASSWORD, shotPath, useBrowser, timedTest, context, page, visible } from './lib.mjs'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const test = timedTest({ timeout: 60000 })

useBrowser({ profilePrefix: 'crm-e2e-profile-', viewport: { width: 1366, height: 800 } })

// Every test starts logged out (no cookie either), in the default language, on a fresh tab.
beforeEach(async () => {
  await context.clearCookies()
})

async function openLogin() {
  await page.goto(`${GATEWAY}/login`)
  await page.getByTestId('login-form').waitFor({ state: 'visible' })
}

test('the login page renders in Chinese with the product name', async () => {
  await openLogin()
  assert.equal(await page.getByTestId('product-name').textContent(), '客户关系管理系统')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN')
  assert.equal(await page.getByTestId('login-username').getAttribute('placeholder'), '请输入用户名')
  assert.equal(await page.getByTestId('login-password').getAttribute('placeholder'), '请输入密码')
  assert.match(await page.getByTestId('login-submit').textContent(), /登\s*录/)
  assert.match(await page.title(), /客户关系管理系统/)
  await page.screenshot({ path: shotPath('login') })
})

test('switching to English changes the labels and is remembered', async () => {
  await openLogin()
  await page.getByTestId('lang-switch').click()
  await visible('[data-testid="lang-en"]').click()
  await page.waitForFunction(() => document.documentElement.lang === 'en')
  assert.equal(await page.getByTestId('product-name').textContent(), 'CRM')
  assert.equal(await page.getByTestId('login-username').getAttribute('placeholder'), 'Username')
  assert.match(await page.getByTestId('login-submit').textContent(), /Log in/)
  assert.doesNotMatch(await page.getByTestId('login-form').innerText(), /[\u4e00-\u9fff]/, 'no Chinese label is left on the form')
  assert.equal(await visible('.el-form-item__error').count(), 0, 'switching the language flags no field')

  await page.reload()
  await page.getByTestId('login-form').waitFor()
  assert.equal(await page.getByTestId('product-name').textContent(), 'CRM', 'the choice survives a reload')

  await page.getByTestId('lang-switch').click()
  await visible('[data-testid="lang-zh-CN"]').click()
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
  assert.equal(await page.getByTestId('product-name').textContent(), '客户关系管理系统')
})

test('a deep link is answered with the app and redirected to the login page', async () => {
  const resp = await page.goto(`${GATEWAY}/customers/123`)
  assert.equal(resp.status(), 200, 'the gateway falls back to index.html for browser routes')
  assert.match(resp.headers()['content-type'] || '', /text\/html/)
  await page.waitForURL((u) => u.pathname === '/login')
  const url = new URL(page.url())
  assert.equal(url.searchParams.get('redirect'), '/customers/123', 'the login page knows where to go back')
  await page.getByTestId('login-form').waitFor({ state: 'visible' })
})

test('an empty login form shows the field messages and sends nothing', async () => {
  await openLogin()
  const calls = []
  page.on('request', (r) => r.url().includes('/api/') && calls.push(r.url()))
  await page.getByTestId('login-submit').click()
  const errors = visible('.el-form-item__error')
  await errors.first().waitFor()
  assert.deepEqual(await errors.allTextContents().then((a) => a.map((s) => s.trim())), ['请输入用户名', '请输入密码'])
  await page.waitForTimeout(300)
  assert.deepEqual(calls, [], 'no API call for an invalid form')

  // The messages on screen follow a language switch.
  await page.getByTestId('lang-switch').click()
  await visible('[data-testid="lang-en"]').click()
  await page.waitForFunction(() => [...document.querySelectorAll('.el-form-item__error')].some((e) => /Please/.test(e.textContent)))
  assert.deepEqual(await errors.allTextContents().then((a) => a.map((s) => s.trim())), [
    'Please enter your username',
    'Please enter your password',
  ])
  assert.equal(new URL(page.url()).pathname, '/login')
})

test('wrong credentials show the server message once, on the form, the request id on demand', async () => {
  await openLogin()
  const refreshCalls = []
  page.on('request', (r) => r.url().includes('/auth/refresh') && refreshCalls.push(r.url()))
  await page.getByTestId('login-username').fill('e2e-no-such-user')
  await page.getByTestId('login-password').fill('wrong-password-e2e')
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login' && r.request().method() === 'POST'),
    page.getByTestId('login-submit').click(),
  ])
  assert.ok(resp.status() >= 400, `login of an unknown user must fail, got HTTP ${resp.status()}`)
  const sentId = resp.request().headers()['x-request-id']
  assert.match(sentId || '', UUID, 'every call carries a generated X-Request-Id')
  assert.deepEqual(JSON.parse(resp.request().postData()), { username: 'e2e-no-such-user', password: 'wrong-password-e2e' })

  // Shown once, on the form: no toast on top of it; the request id only on demand.
  const inline = page.getByTestId('login-error')
  await inline.waitFor({ state: 'visible' })
  await page.waitForTimeout(500) // a toast would be up by now
  assert.equal(await visible('.el-message').count(), 0, 'no toast repeats the message on the form')
  const inlineText = (await page.getByTestId('login-error-text').innerText()).trim()
  assert.ok(inlineText.length > 0)
  const shownId = resp.headers()['x-request-id'] || sentId
  assert.ok(!(await inline.innerText()).includes(shownId), 'the request id is not in the sentence')
  await inline.getByTestId('error-details-toggle').click()
  assert.equal((await inline.getByTestId('error-request-id').innerText()).trim(), shownId, 'the details show the request id')

  // A problem (problem+json) is said from its code in the console's language, not in the
  // server's English words (tests/e2e/errcodes.test.mjs checks the text itself).
  if (/json/.test(resp.headers()['content-type'] || '')) {
    const problem = await resp.json().catch(() => null)
    const words = problem?.detail
    if (problem?.code && words) assert.ok(!inlineText.includes(words), `"${inlineText}" shows the server's "${words}"`)
  }
  assert.equal(new URL(page.url()).pathname, '/login', 'still on the login page')
  assert.deepEqual(refreshCalls, [], 'a failed login never tries to refresh a token')
  assert.equal(await page.evaluate(() => sessionStorage.getItem('crm.auth')), null, 'no token is kept')
})

test('hashed assets are cached for long, index.html is revalidated', async () => {
  const index = await fetch(`${GATEWAY}/`)
  assert.equal(index.status, 200)
  assert.match(index.headers.get('content-type') || '', /text\/html/)
  assert.match(index.headers.get('cache-control') || '', /no-cache/, 'index.html: Cache-Control no-cache')
  const html = await index.text()

  const fallback = await fetch(`${GATEWAY}/some/browser/route`)
  assert.equal(fallback.status, 200)
  assert.match(fallback.headers.get('cache-control') || '', /no-cache/, 'the index.html fallback is not cached either')
  assert.equal(await fallback.text(), html, 'the fallback is index.html')

  const scripts = [...html.matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1])
  const styles = [...html.matchAll(/href="(\/assets\/[^"]+\.css)"/g)].map((m) => m[1])
  assert.ok(scripts.length > 0, 'index.html loads a script from /assets/')
  assert.ok(styles.length > 0, 'index.html loads a stylesheet from /assets/')
  for (const [url, type] of [...scripts.map((u) => [u, /javascript/]), ...styles.map((u) => [u, /text\/css/])]) {
    assert.match(url, /-[A-Za-z0-9_-]{8,}\.(js|css)$/, `${url} has a content hash in its name`)
    const r = await fetch(GATEWAY + url)
    assert.equal(r.status, 200, url)
    assert.match(r.headers.get('content-type') || '', type, `${url} content type`)
    const cc = r.headers.get('cache-control') || ''
    const maxAge = Number(/max-age=(\d+)/.exec(cc)?.[1] || 0)
    assert.ok(/immutable/.test(cc) || maxAge >= 86400, `${url}: long cache wanted, got "${cc}"`)
    await r.arrayBuffer()
  }

  // A stale or missing asset must be a 404, not index.html served as JavaScript.
  const missing = await fetch(`${GATEWAY}/assets/no-such-chunk-0000000000.js`)
  assert.equal(missing.status, 404, 'missing /assets/ files are 404, not the index.html fallback')
  await missing.arrayBuffer()
})

test('logged in: the home page greets the user, logout ends the session', { skip: !USER && 'set CRM_TEST_USER and CRM_TEST_PASSWORD' }, async () => {
  await page.goto(`${GATEWAY}/dashboard`)
  await page.waitForURL((u) => u.pathname === '/login')
  await page.getByTestId('login-username').fill(USER)
  await page.getByTestId('login-password').fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((u) => u.pathname === '/dashboard')
  await page.getByTestId('sidebar').waitFor()
  await page.getByTestId('home-profile').waitFor()
  assert.equal(await page.getByTestId('profile-error').count(), 0, '/auth/me answered')

  await page.getByTestId('user-menu').click()
  await visible('[data-testid="menu-logout"]').click()
  await visible('.el-message-box .el-button--primary').click()
  await page.waitForURL((u) => u.pathname === '/login')
  assert.equal(await page.evaluate(() => sessionStorage.getItem('crm.auth')), null, 'tokens are gone after logout')
})
