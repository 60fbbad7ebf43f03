// SPDX-License-Identifier: Apache-2.0
// Helpers for trees of {id, children} (departments).

/** Calls fn(node, parent) for every node, depth first. */
export function walkTree(nodes, fn, parent = null) {
  for (const n of nodes || []) {
    fn(n, parent)
    walkTree(n.children, fn, n)
  }
}

/** The node with this id, or null. */
export function findNode(nodes, id) {
  let found = null
  walkTree(nodes, (n) => {
    if (found === null && n.id === id) found = n
  })
  return found
}

/** The ids of a node and of everything below it. */
export function subtreeIds(nodes, id) {
  const ids = new Set()
  const root = findNode(nodes, id)
  if (root) walkTree([root], (n) => ids.add(n.id))
  return ids
}

/** A copy of the tree with only the nodes that match, and their ancestors. */
export function filterTree(nodes, match) {
  const out = []
  for (const n of nodes || []) {
    const children = filterTree(n.children, match)
    if (match(n) || children.length) out.push({ ...n, children })
  }
  return out
}
