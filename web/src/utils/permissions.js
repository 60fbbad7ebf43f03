// SPDX-License-Identifier: Apache-2.0
// Roles and permissions: data scopes, and the permission tree of the role dialog.

/** Data scopes of a role, widest first. */
export const DATA_SCOPES = ['ALL', 'DEPT_AND_CHILD', 'DEPT', 'SELF']

/**
 * A role's name in the console's language: 'name' is the Chinese one, 'name_en' the English one
 * (empty for roles made without it, which then show 'name'); the code when both are missing.
 */
export function roleName(role, locale) {
  if (!role || typeof role !== 'object') return role ?? ''
  const en = String(locale || '').startsWith('en') ? role.name_en : ''
  return en || role.name || role.name_en || role.code || ''
}

/** The built-in administrator role, whose permissions and data scope the API keeps locked. */
export const isLockedRole = (role) => !!role?.builtin && role?.code === 'admin'

/** "全部数据" for ALL...; an unknown scope is shown as it is. */
export function scopeLabel(scope, t, te) {
  if (!scope) return '-'
  return te(`role.scope.${scope}`) ? t(`role.scope.${scope}`) : scope
}

/**
 * Groups permissions ({code, kind, name_zh, name_en}) into a tree for el-tree:
 *   module (the part before the first ':') > resource (the second part) > permission.
 * A code with only two parts ("dashboard:view") hangs directly under its module. Group ids
 * start with '#', so they never clash with permission codes; leaves have id = code.
 * 'labels' gives the texts: moduleLabel(m), resourceLabel(m, r), leafLabel(permission).
 * Order: modules, resources and permissions as they first appear in the list.
 */
export function buildPermissionTree(perms, labels) {
  const modules = new Map()
  for (const p of perms || []) {
    if (!p || typeof p.code !== 'string' || !p.code) continue
    const parts = p.code.split(':')
    const mod = parts[0] || p.code
    if (!modules.has(mod)) modules.set(mod, { id: `#m:${mod}`, label: labels.moduleLabel(mod), children: [], resources: new Map() })
    const m = modules.get(mod)
    const leaf = { id: p.code, label: labels.leafLabel(p), code: p.code, kind: p.kind || null }
    if (parts.length < 3) {
      m.children.push(leaf)
      continue
    }
    const res = parts[1]
    if (!m.resources.has(res)) {
      const r = { id: `#r:${mod}:${res}`, label: labels.resourceLabel(mod, res), children: [] }
      m.resources.set(res, r)
      m.children.push(r)
    }
    m.resources.get(res).children.push(leaf)
  }
  return [...modules.values()].map(({ resources, ...m }) => m) // eslint-disable-line no-unused-vars
}

/**
 * A permission in words: "system:user:read" -> "查看用户" / "View users" (the 'perm' section of
 * the locale files, keyed by the code with ':' as '.'); an unknown code is shown as it is.
 */
export function permissionName(code, t, te) {
  const key = `perm.${String(code).replaceAll(':', '.')}`
  return te(key) ? t(key) : code
}
