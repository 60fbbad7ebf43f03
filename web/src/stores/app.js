// SPDX-License-Identifier: Apache-2.0
// Layout state: whether the side menu is collapsed (remembered in localStorage), whether the
// screen is a phone's (below PHONE_MAX_WIDTH the side menu becomes a drawer), and that drawer.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'

const KEY = 'crm.sidebarCollapsed'
/** Widths up to this (CSS px) get the phone layout; keep in step with styles/index.css. */
export const PHONE_MAX_WIDTH = 767

export const useAppStore = defineStore('app', () => {
  const sidebarCollapsed = ref(localStorage.getItem(KEY) === '1')
  watch(sidebarCollapsed, (v) => localStorage.setItem(KEY, v ? '1' : '0'))

  const query = window.matchMedia(`(max-width: ${PHONE_MAX_WIDTH}px)`)
  const isPhone = ref(query.matches)
  const drawerOpen = ref(false)
  query.addEventListener('change', (e) => {
    isPhone.value = e.matches
    if (!e.matches) drawerOpen.value = false
  })

  /** The menu button: opens the drawer on a phone, collapses the side menu elsewhere. */
  function toggleSidebar() {
    if (isPhone.value) drawerOpen.value = !drawerOpen.value
    else sidebarCollapsed.value = !sidebarCollapsed.value
  }
  return { sidebarCollapsed, isPhone, drawerOpen, toggleSidebar }
})
