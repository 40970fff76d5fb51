// 系统管理 menu entries of the three administrators (三员分立: each sees only their pages) and
// 我的安全设置 for everyone. Spread into AREAS by src/navigation/areas.ts.
import {
  Connection,
  Document,
  Key,
  Lock,
  OfficeBuilding,
  Share,
  Tickets,
  User,
  UserFilled,
} from '@element-plus/icons-vue'
import type { Area } from '@/navigation/areas'

const EVERY_ROLE = [
  'office',
  'assessor',
  'committee',
  'approver',
  'recommender',
  'applicant',
  'unit',
  'sysadmin',
  'secadmin',
  'auditor',
] as const

export const SECURITY_AREAS: readonly Area[] = [
  // 系统管理员: accounts and organisations, service accounts and webhooks.
  { key: 'admin-users', label: 'security.menu.users', icon: User, roles: ['sysadmin'], component: () => import('@/pages/admin/UsersPage.vue') },
  { key: 'admin-organizations', label: 'security.menu.organizations', icon: OfficeBuilding, roles: ['sysadmin'], component: () => import('@/pages/admin/OrganizationsPage.vue') },
  // 安全管理员: accounts' security, the policy.
  { key: 'security-users', label: 'security.menu.userSecurity', icon: UserFilled, roles: ['secadmin'], component: () => import('@/pages/security/UserSecurityPage.vue') },
  { key: 'security-policy', label: 'security.menu.policy', icon: Lock, roles: ['secadmin'], component: () => import('@/pages/security/PolicyPage.vue') },
  // Both: integration (creation by the sysadmin, scopes and hosts by the secadmin).
  { key: 'service-accounts', label: 'security.menu.serviceAccounts', icon: Connection, roles: ['sysadmin', 'secadmin'], component: () => import('@/pages/admin/ServiceAccountsPage.vue') },
  { key: 'webhooks', label: 'security.menu.webhooks', icon: Share, roles: ['sysadmin', 'secadmin'], component: () => import('@/pages/admin/WebhooksPage.vue') },
  // 审计管理员: reads and exports the logs.
  { key: 'login-log', label: 'security.menu.loginLog', icon: Tickets, roles: ['auditor'], component: () => import('@/pages/security/LoginLogPage.vue') },
  { key: 'security-audit', label: 'security.menu.audit', icon: Document, roles: ['auditor'], component: () => import('@/pages/security/AuditPage.vue') },
  // Everyone: own password, second factor, sessions.
  { key: 'my-security', label: 'security.menu.mySecurity', icon: Key, roles: EVERY_ROLE, component: () => import('@/pages/security/MySecurityPage.vue') },
]
