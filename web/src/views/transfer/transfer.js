// SPDX-License-Identifier: Apache-2.0
// What the transfer pages share: the words for a transfer's kind, an item's and a hand-over's
// status, and the customer statuses a hand-over may select by.

/** The longest reason the API keeps (it trims it and refuses a blank one). */
export const REASON_MAX = 500

/** The form rules of a reason: required, at most REASON_MAX. */
export const reasonRules = (t) => [
  { required: true, message: t('transfer.rule.reason'), trigger: 'blur' },
  { max: REASON_MAX, message: t('transfer.rule.reasonMax', { max: REASON_MAX }), trigger: 'blur' },
]

export const ITEM_STATUSES = ['completed', 'failed']
export const ITEM_STATUS_TAG = { completed: 'success', failed: 'danger' }
export const JOB_STATUS_TAG = { queued: 'info', running: 'primary', done: 'success', failed: 'danger', completed: 'success' }
/** The customer statuses of the customer service (a hand-over's filter). */
export const CUSTOMER_STATUSES = ['potential', 'active', 'at_risk', 'lost']

const word = (t, group, v) => (v ? t(`transfer.${group}.${v}`) : '-')

/** 选择转移 / 批量交接 */
export const kindLabel = (t, kind) => (['select', 'handover'].includes(kind) ? word(t, 'kind', kind) : kind || '-')
/** 已完成 / 失败 of one customer moved */
export const itemStatusLabel = (t, s) => (ITEM_STATUSES.includes(s) ? word(t, 'itemStatus', s) : s || '-')
/** 排队中 / 进行中 / 已完成 / 已停止 of a hand-over */
export const jobStatusLabel = (t, s) => (s in JOB_STATUS_TAG ? word(t, 'jobStatus', s) : s || '-')
/** A customer status in words. */
export const customerStatusLabel = (t, s) => (CUSTOMER_STATUSES.includes(s) ? word(t, 'customerStatus', s) : s || '-')
