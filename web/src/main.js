// SPDX-License-Identifier: Apache-2.0
// Entry point: creates the Vue app with pinia, vue-i18n and the router. Element Plus components
// are imported where they are used (unplugin-vue-components in vite.config.js), with their CSS;
// the toasts and message boxes that scripts open need theirs here.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles/index.css'
import App from './App.vue'
import router from './router'
import { i18n } from './i18n'
import { setAppContext, setSessionEndedHandler } from './api/client'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(router)
setAppContext(app._context) // toasts render components (error details) with i18n

// When the tokens cannot be refreshed, the API client ends the session: back to the login
// page, and back to where the user was after logging in again.
setSessionEndedHandler(() => {
  useAuthStore().sessionEnded()
  const current = router.currentRoute.value
  // During the first navigation (nothing matched yet) the router guard does the redirect.
  if (current.matched.length && current.name !== 'login') router.replace({ name: 'login', query: { redirect: current.fullPath } })
})

app.mount('#app')
