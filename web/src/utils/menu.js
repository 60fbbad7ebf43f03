// SPDX-License-Identifier: Apache-2.0
// Helpers for the menu tree of /auth/me: {key, title_key, path, icon, children}.
import {
  ChatLineRound, Collection, Connection, Document, Goods, HomeFilled, Key, Lock, Menu, Monitor, OfficeBuilding, Odometer,
  Operation, Postcard, Present, Setting, Switch, Tickets, TrendCharts, User, UserFilled,
} from '@element-plus/icons-vue'

// The icons menus may name (services/auth/menus.tsv and the entries of this file), imported one
// by one so the bundle does not carry the whole icon set. A new menu icon is added here.
const Icons = {
  ChatLineRound, Collection, Connection, Document, Goods, HomeFilled, Key, Lock, Menu, Monitor, OfficeBuilding, Odometer,
  Operation, Postcard, Present, Setting, Switch, Tickets, TrendCharts, User, UserFilled,
}

/** Child paths may be absolute ("/system/users") or relative to the parent ("users"). */
export function resolvePath(parentPath, path) {
  if (!path) return parentPath || ''
  if (/^(https?:)?\/\//.test(path) || path.startsWith('/')) return path
  const base = (parentPath || '').replace(/\/+$/, '')
  return `${base}/${path}`
}

/** Gives every entry its absolute 'fullPath'; returns a new tree. */
export function normaliseMenus(menus, parentPath = '') {
  return (menus || []).map((m) => {
    const fullPath = resolvePath(parentPath, m.path)
    return { ...m, fullPath, children: normaliseMenus(m.children, fullPath) }
  })
}

/** The chain of entries (root first) whose page is the longest prefix of 'path', or []. */
export function findMenuChain(menus, path) {
  let best = []
  let bestLen = -1
  const walk = (items, chain) => {
    for (const m of items) {
      const c = [...chain, m]
      const p = m.fullPath
      if (p && !/^(https?:)?\/\//.test(p) && (path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) {
        if (p.length > bestLen) {
          best = c
          bestLen = p.length
        }
      }
      walk(m.children || [], c)
    }
  }
  walk(menus, [])
  return best
}

/**
 * The Element Plus icon for a menu's 'icon' name: "User", "user", "el-icon-user" and
 * "circle-check" all work. Unknown names get the generic Menu icon.
 */
export function menuIcon(name) {
  if (!name || typeof name !== 'string') return Icons.Menu
  const pascal = name
    .replace(/^el-icon-/, '')
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((s) => s[0].toUpperCase() + s.slice(1))
    .join('')
  return Icons[pascal] || Icons.Menu
}

/** A menu title: its i18n key when known, else its own 'title', else its key. */
export function menuTitle(m, t, te) {
  if (m.title_key && te(m.title_key)) return t(m.title_key)
  return m.title || m.title_key || m.key || ''
}

// ---- which entries the console shows ---------------------------------------------------------

/**
 * The menu entries (keys of services/auth/menus.tsv) whose pages exist in this console. The
 * server lists every module of the product; an entry not listed here is hidden, so nobody lands
 * on a 404 from the menu. A business issue that adds its pages adds its key here.
 */
export const AVAILABLE_MENUS = new Set([
  'dashboard',
  'customer', 'contact', 'followup',
  'care',
  'system', 'user', 'role', 'dept', 'dict',
  'audit', 'audit_log', 'login_log', 'operation_log', 'service_status', 'online_users',
  'transfer',
])

/**
 * Administration pages whose read permission every role holds for the data pickers (department
 * tree, dictionaries): their page is for those who also hold one of these. The routes use the
 * same lists (meta.anyOf), so a customer manager sees no administration page at all.
 */
export const MANAGE_PERMISSIONS = {
  dept: ['system:dept:create', 'system:dept:update', 'system:dept:delete'],
  dict: ['system:dict:create', 'system:dict:update'],
}

/** Entries of the console itself, added under a group of the server's menu (by key). */
const CONSOLE_MENUS = [
  {
    parent: 'audit',
    entry: { key: 'service_status', title_key: 'menu.serviceStatus', path: '/monitor/services', icon: 'Monitor', permission: 'system:service:read' },
  },
  {
    parent: 'audit',
    entry: { key: 'online_users', title_key: 'sysAdmin.route.onlineUsers', path: '/monitor/sessions', icon: 'Connection', permission: 'system:session:read' },
  },
]

/** The server's menu tree with the console's own entries and needs added; returns a new tree. */
export function consoleMenus(menus) {
  const add = (items) =>
    (Array.isArray(items) ? items : []).map((m) => {
      if (!m || typeof m !== 'object') return m
      const extra = CONSOLE_MENUS.filter((c) => c.parent === m.key).map((c) => c.entry)
      const children = [...add(m.children), ...extra.filter((e) => !(m.children || []).some((c) => c?.key === e.key))]
      const out = { ...m, children }
      if (MANAGE_PERMISSIONS[m.key]) out.permissionsAlso = MANAGE_PERMISSIONS[m.key]
      return out
    })
  return add(menus)
}

/** Whether the console has the page of a menu entry (entries without a key are kept). */
export const isAvailable = (m) => !m.key || AVAILABLE_MENUS.has(m.key)
