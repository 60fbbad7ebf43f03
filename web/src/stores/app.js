// SPDX-License-Identifier: Apache-2.0
// Layout state: whether the side menu is collapsed (remembered in localStorage).
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'

const KEY = 'crm.sidebarCollapsed'

export const useAppStore = defineStore('app', () => {
  const sidebarCollapsed = ref(localStorage.getItem(KEY) === '1')
  watch(sidebarCollapsed, (v) => localStorage.setItem(KEY, v ? '1' : '0'))
  function toggleSidebar() {
    sidebarCollapsed.value = !sidebarCollapsed.value
  }
  return { sidebarCollapsed, toggleSidebar }
})
