// SPDX-License-Identifier: Apache-2.0
// Helpers for the menu tree of /auth/me: {key, title_key, path, icon, children}.
import {
  ChatLineRound, Collection, Document, Goods, HomeFilled, Key, Lock, Menu, Monitor, OfficeBuilding, Odometer, Operation,
  Postcard, Present, Setting, Switch, Tickets, TrendCharts, User, UserFilled,
} from '@element-plus/icons-vue'

// The icons menus may name (services/auth/menus.tsv and the entries of this file), imported one
// by one so the bundle does not carry the whole icon set. A new menu icon is added here.
const Icons = {
  ChatLineRound, Collection, Document, Goods, HomeFilled, Key, Lock, Menu, Monitor, OfficeBuilding, Odometer, Operation,
  Postcard, Present, Setting, Switch, Tickets, TrendCharts, User, UserFilled,
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
