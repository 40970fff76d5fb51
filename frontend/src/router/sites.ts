// Routes of the after-award pages: detail routes under the layout (the 示范点 list itself is the
// area page of navigation/areas.ts), and the public pages that need no login.
import type { RouteRecordRaw } from 'vue-router'

export const SITE_ROLES = ['office', 'applicant', 'recommender'] as const

export const siteRoutes: RouteRecordRaw[] = [
  {
    path: 'sites/notices',
    name: 'site-notices',
    component: () => import('@/pages/sites/NoticeAdminPage.vue'),
    meta: { roles: ['office'], title: 'sites.notice.title' },
  },
  {
    path: 'sites/:id(\\d+)',
    name: 'site-detail',
    component: () => import('@/pages/sites/SiteDetailPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: SITE_ROLES, title: 'sites.title' },
  },
]

/** Reachable without logging in (meta.public): the guard never sends them to the login page. */
export const publicSiteRoutes: RouteRecordRaw[] = [
  {
    path: '/public/plaques',
    name: 'public-plaque-search',
    component: () => import('@/pages/public/PlaqueVerifyPage.vue'),
    meta: { public: true, title: 'sites.public.verifyTitle' },
  },
  {
    path: '/public/plaques/:plaqueNo',
    name: 'public-plaque',
    component: () => import('@/pages/public/PlaqueVerifyPage.vue'),
    props: true,
    meta: { public: true, title: 'sites.public.verifyTitle' },
  },
  {
    path: '/public/notices',
    name: 'public-notices',
    component: () => import('@/pages/public/PublicNoticesPage.vue'),
    meta: { public: true, title: 'sites.public.noticesTitle' },
  },
]
