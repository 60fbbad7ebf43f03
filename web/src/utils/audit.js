// SPDX-License-Identifier: Apache-2.0
// Helpers of the audit pages: the time range filter, the browser's time zone, user names for
// the user ids the logs carry, changed values and user agents as people read them.
import { computed, reactive } from 'vue'
import { getUser } from '@/api/auth'
import { toApiTime } from '@/api/audit'

/**
 * The value of an el-date-picker type="datetimerange" bound to 'query.from' and 'query.to',
 * the filters PageTable sends. The picker works in the browser's time zone; the API takes UTC.
 * 'to' is exclusive in the API while the picker's end second reads as inclusive ("until
 * 10:00:59"), so one second is added going out and taken off coming back. Clearing the
 * filters (PageTable's reset) clears the picker.
 */
export function useTimeRange(query) {
  return computed({
    get() {
      if (!query.from || !query.to) return null
      return [new Date(query.from), new Date(new Date(query.to).getTime() - 1000)]
    },
    set(v) {
      const [start, end] = Array.isArray(v) ? v : []
      query.from = toApiTime(start)
      query.to = end ? toApiTime(new Date(new Date(end).getTime() + 1000)) : undefined
    },
  })
}

/** The end of a picked date is the end of that day; the start, its beginning. */
export const RANGE_DEFAULT_TIME = [new Date(2000, 0, 1, 0, 0, 0), new Date(2000, 0, 1, 23, 59, 59)]

/** Shortcuts of the time range picker: last hour, today, last 7 and 30 days. */
export function rangeShortcuts(t) {
  const ago = (ms) => () => [new Date(Date.now() - ms), new Date()]
  const HOUR = 3600 * 1000
  return [
    { text: t('audit.range.lastHour'), value: ago(HOUR) },
    {
      text: t('audit.range.today'),
      value: () => {
        const start = new Date()
        start.setHours(0, 0, 0, 0)
        return [start, new Date()]
      },
    },
    { text: t('audit.range.last7Days'), value: ago(7 * 24 * HOUR) },
    { text: t('audit.range.last30Days'), value: ago(30 * 24 * HOUR) },
  ]
}

/** The browser's offset from UTC now, e.g. "UTC+08:00" (the times shown are in this zone). */
export function timeZoneLabel(date = new Date()) {
  const off = -date.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const abs = Math.abs(off)
  const pad = (n) => String(n).padStart(2, '0')
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

/**
 * User names for the user ids of the logs (the API gives ids only). 'canRead' says whether
 * the user may read users (system:user:read); without it the ids are shown as they are.
 * Each id is asked once per page (GET /users/{id}); one that cannot be read stays an id.
 */
export function useUserNames(canRead) {
  const users = reactive(new Map()) // id -> {username, display_name} | null
  const asked = new Set()

  async function resolve(ids) {
    if (!canRead()) return
    const want = [...new Set((ids || []).filter((id) => id !== undefined && id !== null && id !== '').map(String))].filter(
      (id) => !asked.has(id),
    )
    want.forEach((id) => asked.add(id))
    await Promise.all(
      want.map(async (id) => {
        try {
          const u = await getUser(id, { silent: true })
          users.set(id, u?.username ? { username: u.username, display_name: u.display_name || '' } : null)
        } catch {
          users.set(id, null)
        }
      }),
    )
  }

  /** The user's login name, or null when unknown. */
  const username = (id) => (id === undefined || id === null ? null : users.get(String(id))?.username || null)
  const displayName = (id) => (id === undefined || id === null ? null : users.get(String(id))?.display_name || null)

  return { resolve, username, displayName }
}

/**
 * One value of an audit entry's changes as text: strings as they are, everything else as
 * JSON. null/undefined give null (the caller shows "none"), '' stays ''.
 */
export function changeText(v) {
  if (v === undefined || v === null) return null
  if (typeof v === 'string') return v
  try {
    return JSON.stringify(v)
  } catch {
    return String(v)
  }
}

const BROWSERS = [
  [/Edg(?:e|A|iOS)?\/([\d]+)/, 'Edge'],
  [/OPR\/([\d]+)/, 'Opera'],
  [/(?:Chrome|CriOS)\/([\d]+)/, 'Chrome'],
  [/(?:Firefox|FxiOS)\/([\d]+)/, 'Firefox'],
  [/Version\/([\d]+)[.\d]* .*Safari\//, 'Safari'],
  [/curl\/([\d.]+)/, 'curl'],
  [/node(?:\.js)?\/?([\d.]*)/i, 'Node.js'],
  [/python-requests\/([\d.]+)/, 'python-requests'],
]
const SYSTEMS = [
  [/Windows NT/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
]

/**
 * "Chrome 131 · Linux" for a User-Agent, '' when nothing is recognised (the raw string is
 * shown next to it anyway). A summary for people, not a detection to rely on.
 */
export function summariseUserAgent(ua) {
  if (!ua || typeof ua !== 'string') return ''
  const parts = []
  for (const [re, name] of BROWSERS) {
    const m = ua.match(re)
    if (m) {
      parts.push(m[1] ? `${name} ${m[1]}` : name)
      break
    }
  }
  for (const [re, name] of SYSTEMS) {
    if (re.test(ua)) {
      parts.push(name)
      break
    }
  }
  return parts.join(' · ')
}

// The writes of the route table (shared/routes.def, bundled by vite.config.js) as
// {method, segments, permission}: a logged request's path is matched against them.
// eslint-disable-next-line no-undef -- defined at build time
const WRITE_ROUTES = __CRM_WRITE_ROUTES__.map(([method, pattern, permission]) => ({
  method,
  segments: pattern.split('/'),
  permission,
}))

/**
 * The route of a logged request ({method, path}) from the route table, or null: its
 * 'permission' (module:resource:action, or public/authenticated) and the path's last literal
 * segment ('verb': login, enable, reset-password...).
 */
export function routeOf(method, path) {
  const segs = String(path || '').split('/')
  const r = WRITE_ROUTES.find(
    (x) => x.method === method && x.segments.length === segs.length && x.segments.every((s, i) => s.startsWith('{') || s === segs[i]),
  )
  if (!r) return null
  const verb = [...r.segments].reverse().find((s) => s && !s.startsWith('{')) || ''
  return { permission: r.permission, verb }
}

/**
 * The module and action a person reads for a logged request, in the UI language ('t', 'te' of
 * vue-i18n), e.g. {module: '系统管理', action: '新增用户'}; null when the route table does not
 * know the request (the raw path is shown then). An action of its own (audit.operation.actions.
 * <verb>: 启用用户 beside 停用用户, which share a permission) comes first, then the permission's
 * name (perm.<module>.<resource>.<action>).
 */
export function operationName(method, path, t, te) {
  const r = routeOf(method, path)
  if (!r) return null
  const [mod, res, act] = r.permission.split(':')
  const module = act ? (te(`perm.module.${mod}`) ? t(`perm.module.${mod}`) : mod) : t('audit.operation.account')
  const own = `audit.operation.actions.${r.verb}`
  const byPerm = act && `perm.${mod}.${res}.${act}`
  const action = te(own) ? t(own) : byPerm && te(byPerm) ? t(byPerm) : null
  return action ? { module, action } : null
}

/** A field of an audit entry's changes as people name it (audit.fields.<field>), else as sent. */
export function fieldLabel(field, t, te) {
  return typeof field === 'string' && te(`audit.fields.${field}`) ? t(`audit.fields.${field}`) : field
}
