// SPDX-License-Identifier: Apache-2.0
// The bell: the unread count and the latest notices, kept current without a reload by the
// notice stream (server-sent events through the gateway). EventSource cannot send the token:
// each connection asks for a one-use ticket first (api/notices.js). When the stream breaks
// (network, a service restart, the token expired or was revoked: the gateway closes it) it
// reconnects after 1, 2, 4 ... 30 seconds, with a fresh ticket (the client refreshes the token
// on the way when it has to). Other tabs of the same session learn of reads through a
// BroadcastChannel, and every tab has its own stream, so the count stays right in all of them.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { listNotices, readAllNotices, readNotice, streamTicket, unreadCount } from '@/api/notices'

const LATEST = 8 // notices in the dropdown
const BACKOFF_MAX_MS = 30000
const CHANNEL = 'crm.notices'

export const useNoticesStore = defineStore('notices', () => {
  const unread = ref(0)
  const latest = ref([])
  const connected = ref(false)
  let source = null
  let retryTimer = null
  let backoff = 1000
  let wanted = false
  let channel = null
  let lastEventId = null
  let countTimer = null

  const badge = computed(() => (unread.value > 99 ? '99+' : unread.value))

  async function refresh() {
    try {
      const [c, l] = await Promise.all([
        unreadCount({ silent: true }),
        listNotices({ page_size: LATEST }, { silent: true }),
      ])
      unread.value = c?.unread ?? 0
      latest.value = l?.items ?? []
    } catch {
      /* the bell shows what it had; the stream's next event or reconnect tries again */
    }
  }

  /** The count again, soon (a burst of events of a hand-over asks once). */
  function recount() {
    clearTimeout(countTimer)
    countTimer = setTimeout(async () => {
      try {
        unread.value = (await unreadCount({ silent: true }))?.unread ?? unread.value
      } catch {
        /* kept */
      }
    }, 250)
  }

  /** A notice made or grown: to the top of the list (once), the count recounted. */
  function onNotice(n) {
    if (!n || typeof n.id !== 'number') return
    latest.value = [n, ...latest.value.filter((x) => x.id !== n.id)].slice(0, LATEST)
    recount()
  }

  function broadcast(msg) {
    try {
      channel?.postMessage(msg)
    } catch {
      /* a closed channel */
    }
  }

  function closeSource() {
    if (source) {
      source.close()
      source = null
    }
    connected.value = false
  }

  function scheduleReconnect() {
    closeSource()
    if (!wanted || retryTimer) return
    const wait = backoff
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    retryTimer = setTimeout(() => {
      retryTimer = null
      open()
    }, wait)
  }

  async function open() {
    if (!wanted || source) return
    let ticket
    try {
      ticket = await streamTicket({ silent: true })
    } catch {
      scheduleReconnect()
      return
    }
    if (!wanted || source) return
    const url = lastEventId ? `${ticket.url}&last_event_id=${encodeURIComponent(lastEventId)}` : ticket.url
    const es = new EventSource(url)
    source = es
    es.onopen = () => {
      if (source !== es) return
      connected.value = true
      backoff = 1000
      refresh() // what came while it was away
    }
    es.addEventListener('notice', (ev) => {
      if (source !== es) return
      if (ev.lastEventId) lastEventId = ev.lastEventId
      try {
        onNotice(JSON.parse(ev.data))
      } catch {
        /* not JSON: ignored */
      }
    })
    // EventSource would reconnect by itself with the same (used) ticket: close and do it here
    es.onerror = () => {
      if (source === es) scheduleReconnect()
    }
  }

  /** Start following the notices (the layout mounted: someone is signed in). */
  function start() {
    if (wanted) return
    wanted = true
    if (typeof BroadcastChannel !== 'undefined' && !channel) {
      channel = new BroadcastChannel(CHANNEL)
      channel.onmessage = () => refresh()
    }
    refresh()
    open()
  }

  /** Stop (signed out, or the layout left). */
  function stop() {
    wanted = false
    clearTimeout(retryTimer)
    clearTimeout(countTimer)
    retryTimer = null
    closeSource()
    channel?.close()
    channel = null
    lastEventId = null
    unread.value = 0
    latest.value = []
  }

  async function markRead(n) {
    if (!n || n.read) return n
    const r = await readNotice(n.id)
    latest.value = latest.value.map((x) => (x.id === r.id ? r : x))
    unread.value = Math.max(0, unread.value - 1)
    broadcast({ type: 'read', id: n.id })
    recount()
    return r
  }

  async function markAllRead() {
    await readAllNotices()
    latest.value = latest.value.map((x) => ({ ...x, read: true, read_at: x.read_at || new Date().toISOString() }))
    unread.value = 0
    broadcast({ type: 'read-all' })
  }

  return { unread, latest, connected, badge, start, stop, refresh, markRead, markAllRead, broadcast }
})
