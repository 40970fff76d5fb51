// The work areas of the platform and which roles see each one in the left menu.
// Only navigation lives here: what a user may actually do on an object is the API's answer
// (allowed_actions), never re-derived in the SPA.

import type { Component } from 'vue'
import {
  ChatDotSquare,
  DocumentChecked,
  EditPen,
  Finished,
  Notebook,
  Promotion,
  School,
  Setting,
  Stamp,
  Trophy,
} from '@element-plus/icons-vue'

export interface Area {
  /** Route name and path segment. */
  key: string
  /** i18n key of the menu label. */
  label: string
  /** Menu icon (decorative). */
  icon: Component
  /** Roles whose menu shows the area. */
  roles: readonly string[]
}

export const AREAS: readonly Area[] = [
  { key: 'applications', label: 'menu.applications', icon: EditPen, roles: ['applicant', 'recommender', 'office'] },
  { key: 'recommendations', label: 'menu.recommendations', icon: Promotion, roles: ['recommender', 'office'] },
  { key: 'preliminary', label: 'menu.preliminary', icon: DocumentChecked, roles: ['office'] },
  { key: 'assessment', label: 'menu.assessment', icon: Finished, roles: ['assessor', 'office'] },
  { key: 'review', label: 'menu.review', icon: ChatDotSquare, roles: ['committee', 'office'] },
  { key: 'approval', label: 'menu.approval', icon: Stamp, roles: ['approver', 'office'] },
  { key: 'awarding', label: 'menu.awarding', icon: Trophy, roles: ['office'] },
  {
    key: 'sites',
    label: 'menu.sites',
    icon: School,
    roles: ['office', 'applicant', 'recommender', 'assessor', 'committee', 'approver', 'unit'],
  },
  { key: 'ledger', label: 'menu.ledger', icon: Notebook, roles: ['applicant', 'unit', 'recommender', 'office'] },
  { key: 'admin', label: 'menu.admin', icon: Setting, roles: ['admin', 'sysadmin', 'secadmin', 'auditor'] },
]

/** The areas the active role's menu shows, in menu order. */
export function areasForRole(role: string | null): Area[] {
  if (!role) return []
  return AREAS.filter((area) => area.roles.includes(role))
}
