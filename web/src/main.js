// SPDX-License-Identifier: Apache-2.0
// Entry point: creates the Vue app with Element Plus, pinia, vue-i18n and the router.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import './styles/index.css'
import App from './App.vue'
import router from './router'
import { i18n } from './i18n'
import { setSessionEndedHandler } from './api/client'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(ElementPlus) // the locale comes from <el-config-provider> in App.vue and follows i18n
app.use(router)

// When the tokens cannot be refreshed, the API client ends the session: back to the login
// page, and back to where the user was after logging in again.
setSessionEndedHandler(() => {
  useAuthStore().sessionEnded()
  const current = router.currentRoute.value
  // During the first navigation (nothing matched yet) the router guard does the redirect.
  if (current.matched.length && current.name !== 'login') router.replace({ name: 'login', query: { redirect: current.fullPath } })
})

app.mount('#app')
