// Application entry: Pinia, router, i18n, and what a 401 from the API means.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { createAppRouter } from './router'
import { i18n, setLocale } from './i18n'
import { onUnauthorized } from './api/client'
import { useSessionStore } from './stores/session'
import './styles/base.css'

const app = createApp(App)
const pinia = createPinia()
const router = createAppRouter()

app.use(pinia)
app.use(i18n)
app.use(router)

setLocale(i18n.global.locale.value)

// Any API call (other than login and /me, which answer for themselves) that meets a 401 means
// the session ended: forget the user and come back here after logging in again.
onUnauthorized(() => {
  const session = useSessionStore(pinia)
  const current = router.currentRoute.value
  session.clear()
  if (current.meta.public) return
  void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
})

app.mount('#app')
