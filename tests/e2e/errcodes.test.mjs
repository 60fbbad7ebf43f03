// SPDX-License-Identifier: Apache-2.0
// Errors in the user's language (issue 11 #1) in Debian's Chromium: the console shows a problem's
// code and each field error's code and params from its locale files, never the server's English
// sentence: a wrong login, a password the policy refuses and a taken username, in Chinese (and
// the taken username in English too).
//
//   CRM_TEST_GATEWAY=... CRM_TEST_ADMIN_USER=... CRM_TEST_ADMIN_PASSWORD=... node --test tests/e2e/errcodes.test.mjs
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  GATEWAY, ADMIN_USER, skipAdmin, useBrowser, timedTest, page, randomName, randomPassword, adminSession, startSession, visible,
  pathOf,
} from './lib.mjs'

const test = timedTest({ timeout: 120000, failedShot: 'errcodes-failed' })
useBrowser({ profilePrefix: 'crm-e2e-errcodes-', viewport: { width: 1440, height: 900 } })

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const messages = (locale) => JSON.parse(readFileSync(path.join(REPO, `web/src/locales/${locale}.json`), 'utf8'))
const ZH = messages('zh-CN')
const EN = messages('en')
// A run of Latin words: what an English sentence left in the Chinese console looks like.
const ENGLISH_WORDS = /[A-Za-z]{3,}(\s+[A-Za-z]{2,}){2,}/

/** The English sentences of a problem+json answer (detail, title, each field error's message). */
async function serverSentences(resp) {
  const p = await resp.json()
  return { problem: p, sentences: [p.detail, p.title, ...(p.errors || []).map((e) => e.message)].filter(Boolean) }
}

function assertNoneOf(text, sentences, where) {
  for (const s of sentences) assert.ok(!text.includes(s), `${where} shows the server's "${s}": "${text}"`)
}

test('a wrong login in the Chinese console says so in Chinese, not in the server\'s words', async () => {
  await page.getByTestId('login-username').fill(`e2e-nobody-${randomName()}`)
  await page.getByTestId('login-password').fill('wrong-password-e2e')
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/auth/login' && r.request().method() === 'POST'),
    page.getByTestId('login-submit').click(),
  ])
  if (resp.status() === 429) return // the shared sign-in budget is spent: nothing to see here
  assert.equal(resp.status(), 401)
  const { problem, sentences } = await serverSentences(resp)
  assert.equal(problem.code, 'invalid_credentials')
  const shown = (await page.getByTestId('login-error-text').innerText()).trim()
  assert.equal(shown, ZH.errors.invalid_credentials)
  assertNoneOf(await page.getByTestId('login-error').innerText(), sentences, 'the login form')
  assert.doesNotMatch(shown, ENGLISH_WORDS)
})

/** Opens the new-user dialog of the users page, filled with 'username' and 'password'. */
async function newUserDialog(username, password) {
  await page.goto(`${GATEWAY}/system/users`)
  await page.getByTestId('user-create').click()
  const dialog = visible('[data-testid="user-dialog"]')
  await dialog.waitFor()
  await dialog.getByTestId('user-form-username').fill(username)
  await dialog.getByTestId('user-form-display-name').fill(`E2E 错误码 ${randomName()}`)
  await dialog.getByTestId('user-form-password').fill(password)
  return dialog
}

/** Submits the dialog; returns the answer of POST /users. */
async function submit(dialog) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => pathOf(r) === '/api/v1/users' && r.request().method() === 'POST'),
    dialog.locator('.el-dialog__footer .el-button--primary').click(),
  ])
  return resp
}

/** The error Element Plus shows under the form item that holds the input 'testId'. */
const fieldError = (dialog, testId) =>
  dialog.locator('.el-form-item', { has: page.getByTestId(testId) }).locator('.el-form-item__error')

test('field errors of the server in Chinese at their fields: the password policy, a taken username', { skip: skipAdmin }, async () => {
  await startSession(await adminSession())
  const username = randomName()

  // A password that holds the username passes the form's own rules; the server's policy refuses it.
  let dialog = await newUserDialog(username, `${username}-Zq9-x7`)
  let resp = await submit(dialog)
  assert.equal(resp.status(), 422)
  let { sentences } = await serverSentences(resp)
  const pwError = fieldError(dialog, 'user-form-password')
  await pwError.waitFor()
  assert.equal((await pwError.innerText()).trim(), ZH.fieldErrors.password_has_name)
  assertNoneOf(await dialog.innerText(), sentences, 'the dialog')
  await dialog.locator('.el-dialog__footer .el-button:not(.el-button--primary)').click()
  await dialog.waitFor({ state: 'hidden' })

  // The administrator's own username is taken.
  dialog = await newUserDialog(ADMIN_USER, randomPassword())
  resp = await submit(dialog)
  assert.equal(resp.status(), 409)
  ;({ sentences } = await serverSentences(resp))
  const nameError = fieldError(dialog, 'user-form-username')
  await nameError.waitFor()
  assert.equal((await nameError.innerText()).trim(), ZH.fieldErrors.taken)
  const text = await dialog.innerText()
  assertNoneOf(text, sentences, 'the dialog')
  assert.doesNotMatch(text.replace(ADMIN_USER, ''), ENGLISH_WORDS, 'no English sentence in the Chinese dialog')
  assert.equal(await visible('.el-message').count(), 0, 'shown in the dialog, not as a toast')
})

test('the same taken username in the English console is said in English', { skip: skipAdmin }, async () => {
  await page.evaluate(() => localStorage.setItem('crm.locale', 'en'))
  await startSession(await adminSession())
  const dialog = await newUserDialog(ADMIN_USER, randomPassword())
  assert.equal((await submit(dialog)).status(), 409)
  const nameError = fieldError(dialog, 'user-form-username')
  await nameError.waitFor()
  assert.equal((await nameError.innerText()).trim(), EN.fieldErrors.taken)
})
