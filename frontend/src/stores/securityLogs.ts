// 审计管理员: the login log (登录日志) and the security audit (安全审计) — search, page, export,
// verify the hash chain, list the archives. Reads only.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, networkProblem } from '@/api/problem'
import { call, compactQuery, pagedList } from '@/stores/securityApi'
import { exportHref } from '@/stores/securityRules'
import type { ArchiveRead, AuditEntry, ChainReport, LoginLogEntry, SecurityEvent } from '@/stores/securityTypes'

/** Reasons the login log writes (ok, ok_mfa, bad_credentials, locked, account_locked, mfa_failed). */
export const LOGIN_REASONS = ['ok', 'ok_mfa', 'bad_credentials', 'locked', 'account_locked', 'mfa_failed'] as const

export const SECURITY_EVENTS: readonly SecurityEvent[] = [
  'login_success',
  'login_failure',
  'logout',
  'password_change',
  'password_reset',
  'password_change_forced',
  'role_change',
  'scope_change',
  'user_created',
  'service_account_created',
  'account_locked',
  'account_unlocked',
  'session_ended',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_reset',
  'recovery_codes_generated',
  'policy_change',
  'personal_data_view',
  'export',
  'access_denied',
  'audit_archived',
]

/** A time range picked in the page: [from, to] as Date (el-date-picker's value), or null. */
export type TimeRange = [Date, Date] | null

export function rangeQuery(range: TimeRange): { since?: string; until?: string } {
  if (!range) return {}
  return { since: range[0].toISOString(), until: range[1].toISOString() }
}

export interface LoginLogFilters {
  username: string
  client_ip: string
  result: '' | 'success' | 'failure'
  reason: string
  range: TimeRange
}

export interface AuditFilters {
  event: SecurityEvent[]
  subject: string
  result: '' | 'success' | 'failure'
  range: TimeRange
}

export function loginLogQuery(f: LoginLogFilters) {
  return compactQuery({
    username: f.username.trim(),
    client_ip: f.client_ip.trim(),
    success: f.result === '' ? undefined : f.result === 'success',
    reason: f.reason,
    ...rangeQuery(f.range),
  })
}

export function auditQuery(f: AuditFilters) {
  return compactQuery({
    event: f.event,
    subject: f.subject.trim(),
    result: f.result || undefined,
    ...rangeQuery(f.range),
  })
}

export const useSecurityLogsStore = defineStore('securityLogs', () => {
  const loginLog = pagedList<LoginLogEntry, LoginLogFilters>(
    (f, limit, offset) =>
      call((c) => c.GET('/api/v1/security/login-log', { params: { query: { ...loginLogQuery(f), limit, offset } } })),
    () => ({ username: '', client_ip: '', result: '', reason: '', range: null }),
  )

  const audit = pagedList<AuditEntry, AuditFilters>(
    (f, limit, offset) =>
      call((c) => c.GET('/api/v1/security/audit', { params: { query: { ...auditQuery(f), limit, offset } } })),
    () => ({ event: [], subject: '', result: '', range: null }),
  )

  /** Links the browser downloads with the session cookie (the API audits each export). */
  function loginLogExport(format: 'csv' | 'xlsx'): string {
    return exportHref('/api/v1/security/login-log/export', loginLogQuery(loginLog.filters), format)
  }
  function auditExport(format: 'csv' | 'xlsx'): string {
    return exportHref('/api/v1/security/audit/export', auditQuery(audit.filters), format)
  }

  const chain = ref<ChainReport | null>(null)
  const verifying = ref(false)
  const chainError = ref<ApiError | null>(null)
  async function verifyChain(): Promise<ChainReport | null> {
    verifying.value = true
    chainError.value = null
    try {
      chain.value = await call((c) => c.GET('/api/v1/security/audit/verify'))
      return chain.value
    } catch (err) {
      chainError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
      return null
    } finally {
      verifying.value = false
    }
  }

  const archives = pagedList<ArchiveRead, Record<string, never>>(
    (_f, limit, offset) => call((c) => c.GET('/api/v1/security/audit/archives', { params: { query: { limit, offset } } })),
    () => ({}),
    10,
  )

  return { loginLog, audit, loginLogExport, auditExport, chain, verifying, chainError, verifyChain, archives }
})
