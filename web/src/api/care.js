// SPDX-License-Identifier: Apache-2.0
// Calls of the care service (客户关怀): care tasks (my work, counts, the execution loop and its
// trail), care plans, coming birthdays and the workbench's numbers; and the customer service's
// numbers the workbench shows beside them. The shapes are those of proto-docs/openapi.yaml (tag
// care); list pages hand the *_PATH constants to PageTable, which pages them.
import api from './client'

export const CARE_TASKS_PATH = '/care/tasks'
export const CARE_PLANS_PATH = '/care/plans'

/** The permissions of the care pages (shared/routes.def). */
export const CARE_PERM = {
  read: 'care:task:read',
  create: 'care:task:create',
  update: 'care:task:update',
  scan: 'care:task:scan',
}

/** The views of my work (GET /care/tasks?view=), the tabs of /care in this order. */
export const CARE_TABS = ['today', 'overdue', 'upcoming', 'done']
export const CARE_STATUSES = ['pending', 'done', 'cancelled']
export const CARE_STATUS_TAG = { pending: 'warning', done: 'success', cancelled: 'info' }
export const SATISFACTIONS = ['very_satisfied', 'satisfied', 'neutral', 'dissatisfied', 'very_dissatisfied']
export const REPEAT_UNITS = ['none', 'day', 'week', 'month', 'quarter']

// A stale version is shown by the dialog that sent it, not as a toast.
const versioned = { silent: (err) => err?.status === 409 }
const items = (resp) => (Array.isArray(resp?.items) ? resp.items : [])

// ---- tasks -----------------------------------------------------------------------------------

const localDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`

/**
 * Whether a task is shown as overdue (逾期): pending past its planned time (the server's
 * 'overdue') and planned before today, as the overdue tab counts it; a birthday task planned at
 * midnight is today's work all day, not late.
 */
export const isLate = (task) => !!task?.overdue && localDay(new Date(task.planned_at)) < localDay(new Date())

/** GET /care/tasks?view=&scene=&manager_id=&customer_id=&from=&to= -> a page of task rows */
export const listCareTasks = (query, opts) => api.get(CARE_TASKS_PATH, query, opts)
/** GET /care/tasks/counts -> {today, overdue, upcoming, done_month} of the caller */
export const careCounts = (opts) => api.get('/care/tasks/counts', undefined, opts)
export const getCareTask = (id, opts) => api.get(`/care/tasks/${id}`, undefined, opts)
/** GET /care/tasks/{id}/history -> a page of {event_type, actor_name, data: {changes}, occurred_at}, newest first */
export const careTaskHistory = (id, query, opts) => api.get(`/care/tasks/${id}/history`, query, opts)
/** body: {customer_id, contact_id?, care_type, title, planned_at, content?} -> 201 the task */
export const createCareTask = (body, opts) => api.post(CARE_TASKS_PATH, body, opts)

/**
 * One step of the execution loop on task 'id': 'action' is record {version, content, care_type?},
 * feedback {version, feedback?, satisfaction?}, complete {version, content?, feedback?,
 * satisfaction?, care_type?} or cancel {version, reason}. Returns the task as it is now.
 */
export const careTaskAction = (id, action, body, opts) => api.post(`/care/tasks/${id}/${action}`, body, { ...versioned, ...opts })

/** GET /care/scan -> {today, tz, scan_time, lead_days, last_day}; POST (administrators) {date?} -> {day, made, already} */
export const careScanState = (opts) => api.get('/care/scan', undefined, opts)
export const runCareScan = (opts) => api.post('/care/scan', {}, opts)

// ---- plans -----------------------------------------------------------------------------------

/** body: {title, care_type, content?, contact_ids? | filter {level, industry, decision_maker,
 * customer_id}, first_at, repeat? {unit, every, until}} -> 201 the plan with tasks_made */
export const createCarePlan = (body, opts) => api.post(CARE_PLANS_PATH, body, opts)
export const endCarePlan = (id, opts) => api.post(`/care/plans/${id}/end`, undefined, opts)

// ---- the workbench ---------------------------------------------------------------------------

/** GET /care/summary -> {today, overdue, upcoming, done_month, birthdays_week, done_per_week: [{weeks_ago, done}]} */
export const careSummary = (opts) => api.get('/care/summary', undefined, opts)
/** GET /care/birthdays?days= -> {from, days, items: [{contact_id, name, customer_id, customer_name, birth_month, birth_day}]} */
export const careBirthdays = (days, opts) => api.get('/care/birthdays', { days }, opts)

/** The first day of this month, local, as YYYY-MM-DD. */
export function monthStart(d = new Date()) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-01`
}

const totalOf = async (path, query, opts) => Number((await api.get(path, { ...query, page_size: 1 }, opts))?.total) || 0

/** [{value, count}] as {value: count} for the values of 'shown' (0 when none holds it). */
const countsOf = (list, shown) => {
  const by = new Map((Array.isArray(list) ? list : []).map((x) => [x.value, Number(x.count) || 0]))
  return Object.fromEntries(shown.map((v) => [v, by.get(v) ?? 0]))
}

/**
 * The customer service's numbers of the workbench for the caller ('me', the user id): my
 * customers and my customers per level and per industry in one request
 * (GET /customers/numbers, counted by the server), of which the values of 'levels' and
 * 'industries' are shown; my follow-ups this month are a list total (page_size=1). Two requests
 * whatever the size of the dictionaries.
 * -> {customers, followups, byLevel: {value: n}, byIndustry: {value: n}}
 */
export async function customerNumbers(me, levels, industries, opts) {
  const [mine, followups] = await Promise.all([
    api.get('/customers/numbers', undefined, opts),
    totalOf('/followups', { author_id: me, contact_from: monthStart() }, opts),
  ])
  return {
    customers: Number(mine?.customers) || 0,
    followups,
    byLevel: countsOf(mine?.by_level, levels),
    byIndustry: countsOf(mine?.by_industry, industries),
  }
}

// ---- dictionaries (care_type, customer_level, industry): the customer pages' one cache -----------

export { loadDict as loadCareDict, dictOptions as careDictOptions, dictLabel as careDictLabel } from '@/views/customer/customer'

export { items as pageItems }
