// SPDX-License-Identifier: Apache-2.0
// What the customer pages share: the dictionaries they read (labels in the user's language),
// the fixed values (status, deal status, gender), the field rules that mirror the server's
// (services/customer/rules.c), how contact times and birthdays read, and the problem of a
// duplicate.
import { computed, reactive, ref } from 'vue'
import { ElMessageBox } from 'element-plus'
import { listDictItems } from '@/api/auth'
import { localized } from '@/utils/format'

// ---- dictionaries ----------------------------------------------------------------------------

/** The dictionary of each dictionary field (services/auth/dicts.tsv). */
export const DICTS = { industry: 'industry', source: 'customer_source', level: 'customer_level', method: 'followup_method' }

// code -> [{value, label_zh, label_en, enabled}], loaded once per page load and shared
const dictItems = reactive({})
const dictLoads = {}

/** Loads the dictionary 'code' once (every role holds system:dict:read for the pickers). */
export function loadDict(code) {
  dictLoads[code] ||= listDictItems(code, undefined, { silent: true })
    .then((list) => {
      dictItems[code] = list
      return list
    })
    .catch(() => {
      delete dictLoads[code] // asked again next time
      return []
    })
  return dictLoads[code]
}

/** The items of a loaded dictionary, the enabled ones (what a select offers). */
export const dictOptions = (code) => (dictItems[code] || []).filter((i) => i.enabled !== false)

/** The label of 'value' in the dictionary 'code', in 'locale'; the value itself when the loaded
 * dictionary lacks it; '' until the dictionary has loaded (a code never flashes by). */
export function dictLabel(code, value, locale) {
  if (value === undefined || value === null || value === '' || !dictItems[code]) return ''
  const item = dictItems[code].find((i) => i.value === value)
  return item ? localized(item, 'label', locale) || value : value
}

// ---- fixed values ----------------------------------------------------------------------------

export const STATUSES = ['potential', 'active', 'at_risk', 'lost']
export const STATUS_TAG = { potential: 'info', active: 'success', at_risk: 'warning', lost: 'danger' }
export const DEAL_STATUSES = ['undealt', 'dealt']
export const SCENES = ['mine', 'team', 'all']
export const TODOS = ['today', 'overdue', 'not_followed', 'moved']
export const GENDERS = ['', 'male', 'female']
/** The tag type of a level: A stands out. */
export const LEVEL_TAG = { a: 'danger', b: 'warning', c: 'info' }

// ---- rules of the fields (the server's, so that most mistakes are caught before sending) -----

const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'

/** A unified social credit code: 18 characters of its alphabet with a valid check character. */
export function creditCodeValid(s) {
  const v = String(s || '').toUpperCase()
  if (v.length !== 18) return false
  let sum = 0
  for (let i = 0, w = 1; i < 18; i++) {
    const n = CREDIT_ALPHABET.indexOf(v[i])
    if (n < 0) return false
    if (i < 17) {
      sum += n * w
      w = (w * 3) % 31
    }
  }
  return v[17] === CREDIT_ALPHABET[(31 - (sum % 31)) % 31]
}

export const MOBILE_RE = /^1[3-9]\d{9}$/
// 0755-28780808, 075528780808, 28780808, 400-820-8820, with an extension -123
export const TELEPHONE_RE = /^(?:(?:0\d{2,3}-)?[1-9]\d{6,7}(?:-\d{1,6})?|0\d{9,11}(?:-\d{1,6})?|[48]00-?\d{3}-?\d{4})$/
export const EMAIL_RE = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>.]+$/
/** A web address: an optional http(s)://, a host with a dot (not first or last), then a path. */
export function websiteValid(s) {
  const m = /^(?:https?:\/\/)?([^/?#]*)([/?#].*)?$/.exec(s)
  if (!m || /[\s"<>]/.test(s)) return false
  const host = m[1]
  return host.includes('.') && !host.startsWith('.') && !host.endsWith('.') && /^[A-Za-z0-9.:\-\u0080-\uffff]+$/.test(host)
}
export const WECHAT_RE = /^(?:[A-Za-z][A-Za-z0-9_-]{5,19}|1[3-9]\d{9})$/

/** An el-form rule: 'test' on a non-empty value, 'message' when it fails. */
export const shapeRule = (test, message) => ({
  trigger: 'blur',
  validator: (_rule, value, done) => (value === undefined || value === null || value === '' || test(String(value).trim()) ? done() : done(new Error(message))),
})
export const maxRule = (max, t) => ({ max, message: t('customer.rule.max', { max }), trigger: 'blur' })

/** The rules of the contact fields shared by customers and contacts. */
export function phoneRules(t) {
  return {
    mobile: [shapeRule((v) => MOBILE_RE.test(v), t('fieldErrors.mobile_format'))],
    telephone: [shapeRule((v) => TELEPHONE_RE.test(v), t('fieldErrors.telephone_format'))],
    email: [shapeRule((v) => EMAIL_RE.test(v), t('fieldErrors.not_email')), maxRule(128, t)],
    wechat: [shapeRule((v) => WECHAT_RE.test(v), t('fieldErrors.wechat_format'))],
  }
}

// ---- times -----------------------------------------------------------------------------------

const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate())

/** 'overdue' (before today, as the to-dos count it), 'today', 'later', or '' for no time. */
export function contactState(value, now = new Date()) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return ''
  const today = startOfDay(now)
  if (d < today) return 'overdue'
  const tomorrow = new Date(today)
  tomorrow.setDate(tomorrow.getDate() + 1)
  return d < tomorrow ? 'today' : 'later'
}

/** A time for the API (RFC 3339 UTC), undefined for none. */
export function apiTime(v) {
  if (v === undefined || v === null || v === '') return undefined
  const d = v instanceof Date ? v : new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

/** A birthday "YYYY-MM-DD" or "MM-DD" as people read it: "1990-05-01" or "05-01". */
export function birthdayText(b, t) {
  if (!b) return ''
  const m = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(b)
  if (!m) return b
  return m[1] ? t('contact.birthdayFull', { y: m[1], m: Number(m[2]), d: Number(m[3]) }) : t('contact.birthdayNoYear', { m: Number(m[2]), d: Number(m[3]) })
}

// ---- duplicates ------------------------------------------------------------------------------

/** The matches of a 409 duplicate and whether this caller may save anyway. */
export function duplicatesOf(err) {
  const p = err?.problem || {}
  return { matches: Array.isArray(p.duplicates) ? p.duplicates : [], canForce: p.can_force === true }
}

/**
 * The value of an el-date-picker type="daterange" bound to 'query[fromKey]' and 'query[toKey]',
 * filters PageTable sends: whole days of the user's calendar, 'to' exclusive (the API compares
 * with '<'), so the last day picked counts whole.
 */
export function dayRange(query, fromKey, toKey) {
  return {
    get() {
      if (!query[fromKey] || !query[toKey]) return null
      const end = new Date(query[toKey])
      end.setDate(end.getDate() - 1)
      return [new Date(query[fromKey]), end]
    },
    set(v) {
      const [start, end] = Array.isArray(v) ? v : []
      if (!start || !end) {
        query[fromKey] = undefined
        query[toKey] = undefined
        return
      }
      const s = new Date(start)
      s.setHours(0, 0, 0, 0)
      const e = new Date(end)
      e.setHours(0, 0, 0, 0)
      e.setDate(e.getDate() + 1)
      query[fromKey] = s.toISOString()
      query[toKey] = e.toISOString()
    },
  }
}

// ---- page helpers ------------------------------------------------------------------------------

/**
 * Asks before a delete or a restore: true when confirmed. 'opts': {t, confirm (the button's
 * text, default common.delete), danger (default true)}.
 */
export async function askFirst(message, { t, confirm, danger = true }) {
  try {
    await ElMessageBox.confirm(message, t('common.tip'), {
      type: danger ? 'warning' : 'info',
      confirmButtonText: confirm || t('common.delete'),
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: danger ? 'el-button--danger' : '',
    })
    return true
  } catch {
    return false
  }
}

/**
 * A list read 'size' at a time with "load more" (a timeline): fetchPage(page, size) answers
 * {items, total}. Returns {items, total, loading, more, load(page)}; load(1) starts again, and
 * only the answer of the latest call is kept.
 */
export function useLoadMore(fetchPage, size = 20) {
  const items = ref([])
  const total = ref(0)
  const page = ref(0)
  const loading = ref(false)
  let seq = 0
  async function load(next) {
    const mine = ++seq
    loading.value = true
    try {
      const resp = await fetchPage(next, size)
      if (mine !== seq) return
      const got = Array.isArray(resp?.items) ? resp.items : []
      items.value = next === 1 ? got : [...items.value, ...got]
      total.value = Number(resp?.total) || 0
      page.value = next
    } catch {
      /* the API client has shown why */
    } finally {
      if (mine === seq) loading.value = false
    }
  }
  const more = computed(() => items.value.length < total.value)
  return { items, total, page, loading, more, load, loadMore: () => load(page.value + 1) }
}
