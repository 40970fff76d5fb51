// Routes (every page lazy-loaded into its own chunk) and the guard that asks the server who is
// logged in before showing a page that needs it.
import { createRouter, createWebHistory, type RouteRecordRaw, type Router, type RouterHistory } from 'vue-router'
import { AREAS } from '@/navigation/areas'
import { useSessionStore } from '@/stores/session'
import { i18n } from '@/i18n'
import { restrictedTarget } from '@/stores/securityLogin'
import { workflowRoutes } from './workflow'
import { publicSiteRoutes, siteRoutes } from './sites'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without logging in. */
    public?: boolean
    /** Roles whose active role may open the page (navigation only; the API enforces access). */
    roles?: readonly string[]
    /** i18n key of the page title. */
    title?: string
  }
}

const AreaPlaceholder = () => import('@/pages/areas/AreaPlaceholder.vue')

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/pages/auth/LoginPage.vue'),
    meta: { public: true, title: 'auth.loginTitle' },
  },
  {
    path: '/public/sites',
    name: 'public-sites',
    component: () => import('@/pages/public/PublicSitesPage.vue'),
    meta: { public: true, title: 'publicSites.title' },
  },
  ...publicSiteRoutes,
  {
    path: '/',
    component: () => import('@/layouts/AppLayout.vue'),
    children: [
      {
        path: '',
        name: 'home',
        component: () => import('@/pages/home/HomePage.vue'),
        meta: { title: 'menu.home' },
      },
      ...AREAS.map<RouteRecordRaw>((area) => ({
        path: area.path ?? area.key,
        name: area.key,
        component: area.component ?? AreaPlaceholder,
        props: { area: area.key },
        meta: { roles: area.roles, title: area.label },
      })),
      ...workflowRoutes,
      ...siteRoutes,
      {
        path: 'forbidden',
        name: 'forbidden',
        component: () => import('@/pages/errors/ForbiddenPage.vue'),
        meta: { title: 'forbidden.title' },
      },
    ],
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/pages/errors/NotFoundPage.vue'),
    meta: { public: true, title: 'notFound.title' },
  },
]

/** Where to go after login: only a path inside this app, never another origin. */
export function safeRedirect(value: unknown): string {
  if (typeof value !== 'string') return '/'
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/'
  if (value === '/login' || value.startsWith('/login?')) return '/'
  return value
}

export function createAppRouter(history: RouterHistory = createWebHistory('/')): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: () => ({ top: 0 }),
  })

  router.beforeEach(async (to) => {
    if (to.meta.public) return true
    const session = useSessionStore()
    if (!session.isAuthenticated) {
      try {
        const me = await session.fetchMe()
        if (!me) return { name: 'login', query: { redirect: to.fullPath } }
      } catch {
        // Server unreachable or failing: the layout shows the error with a retry button.
        return true
      }
    }
    // A restricted session (password change or TOTP enrolment due) stays on 我的安全设置.
    const restricted = restrictedTarget(session.restriction, to.name)
    if (restricted) return restricted
    const allowed = to.meta.roles
    if (allowed && !(session.activeRole && allowed.includes(session.activeRole))) {
      return { name: 'forbidden' }
    }
    return true
  })

  router.afterEach((to) => {
    const appTitle = i18n.global.t('app.title')
    document.title = to.meta.title ? `${i18n.global.t(to.meta.title)} - ${appTitle}` : appTitle
  })

  return router
}
