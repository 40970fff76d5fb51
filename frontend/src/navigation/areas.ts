// The work areas of the platform and which roles see each one in the left menu.
// Only navigation lives here: what a user may actually do on an object is the API's answer
// (allowed_actions), never re-derived in the SPA.

import type { Component } from 'vue'
import {
  Calendar,
  ChatDotSquare,
  Checked,
  DataAnalysis,
  DocumentChecked,
  EditPen,
  Finished,
  Notebook,
  Promotion,
  School,
  Stamp,
  Trophy,
  Upload,
} from '@element-plus/icons-vue'
import { SECURITY_AREAS } from '@/pages/security/areas'

export interface Area {
  /** Route name and path segment. */
  key: string
  /** Path when it is not the key (a page under another area, e.g. sites/inspections). */
  path?: string
  /** i18n key of the menu label. */
  label: string
  /** Menu icon (decorative). */
  icon: Component
  /** Roles whose menu shows the area. */
  roles: readonly string[]
  /** The area's page (lazy); the placeholder while none is built. */
  component?: () => Promise<unknown>
}

const workflowPage = {
  applications: () => import('@/pages/workflow/ApplicationsPage.vue'),
  recommendations: () => import('@/pages/workflow/recommender/RecommendationsPage.vue'),
  preliminary: () => import('@/pages/workflow/office/PreliminaryPage.vue'),
  assessment: () => import('@/pages/workflow/AssessmentPage.vue'),
  meetings: () => import('@/pages/workflow/meetings/MeetingDecisionsPage.vue'),
  awarding: () => import('@/pages/workflow/office/AwardingPage.vue'),
  rounds: () => import('@/pages/workflow/office/RoundsPage.vue'),
  dashboard: () => import('@/pages/workflow/office/DashboardPage.vue'),
}

export const AREAS: readonly Area[] = [
  { key: 'applications', label: 'menu.applications', icon: EditPen, roles: ['applicant', 'recommender', 'office'], component: workflowPage.applications },
  { key: 'recommendations', label: 'menu.recommendations', icon: Promotion, roles: ['recommender', 'office'], component: workflowPage.recommendations },
  { key: 'preliminary', label: 'menu.preliminary', icon: DocumentChecked, roles: ['office'], component: workflowPage.preliminary },
  { key: 'assessment', label: 'menu.assessment', icon: Finished, roles: ['assessor', 'office'], component: workflowPage.assessment },
  { key: 'review', label: 'menu.review', icon: ChatDotSquare, roles: ['committee', 'office'], component: workflowPage.meetings },
  { key: 'approval', label: 'menu.approval', icon: Stamp, roles: ['approver', 'office'], component: workflowPage.meetings },
  { key: 'awarding', label: 'menu.awarding', icon: Trophy, roles: ['office'], component: workflowPage.awarding },
  { key: 'rounds', label: 'workflow.menu.rounds', icon: Calendar, roles: ['office'], component: workflowPage.rounds },
  { key: 'dashboard', label: 'workflow.menu.dashboard', icon: DataAnalysis, roles: ['office'], component: workflowPage.dashboard },
  {
    key: 'sites',
    label: 'menu.sites',
    icon: School,
    // Who sees sites (API readable_by): the office, the site's own people, its recommender.
    roles: ['office', 'applicant', 'recommender'],
    component: () => import('@/pages/sites/SitesPage.vue'),
  },
  // 年度检查: the yearly 检查/复核 of all sites, run by the office.
  { key: 'site-inspections', path: 'sites/inspections', label: 'sites.yearly.menu', icon: Checked, roles: ['office'], component: () => import('@/pages/sites/InspectionsPage.vue') },
  {
    key: 'ledger',
    label: 'menu.ledger',
    icon: Notebook,
    // Ledger scope: the office, city departments (their recommender accounts) and grassroots units.
    roles: ['unit', 'recommender', 'office'],
    component: () => import('@/pages/ledger/LedgerPage.vue'),
  },
  { key: 'applicant-import', label: 'documents.menu.import', icon: Upload, roles: ['recommender', 'office'], component: () => import('@/pages/documents/ApplicantImportPage.vue') },
  // 系统管理 (sysadmin, secadmin, auditor: each only their pages) and 我的安全设置 (everyone).
  ...SECURITY_AREAS,
]

/** The areas the active role's menu shows, in menu order. */
export function areasForRole(role: string | null): Area[] {
  if (!role) return []
  return AREAS.filter((area) => area.roles.includes(role))
}
