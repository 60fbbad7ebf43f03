// SPDX-License-Identifier: Apache-2.0
// Display helpers shared by the list pages.

const pad = (n) => String(n).padStart(2, '0')

/** An RFC 3339 time from the API as local "YYYY-MM-DD HH:mm:ss"; '-' when missing or bad. */
export function formatDateTime(value) {
  if (!value) return '-'
  const d = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

/** '-' for an empty value, the value otherwise. */
export const dash = (v) => (v === undefined || v === null || v === '' ? '-' : v)

/** The zh or en variant of a bilingual record field ("name" -> name_zh / name_en). */
export function localized(record, field, locale) {
  if (!record) return ''
  const zh = record[`${field}_zh`]
  const en = record[`${field}_en`]
  return (String(locale).startsWith('zh') ? zh || en : en || zh) || ''
}
