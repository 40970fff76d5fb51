// The administrators' pages: 系统管理员 (users, organisations) and 安全管理员 (users' security,
// sessions, the policy). Which admin may do what is the API's rule (三员分立); its refusals
// come back as ApiError for the page to show.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, networkProblem } from '@/api/problem'
import { call, compactQuery, pagedList } from '@/stores/securityApi'
import type {
  OrgKind,
  OrganizationCreate,
  OrganizationRead,
  Role,
  SecurityPolicy,
  SecurityPolicyUpdate,
  SessionRead,
  UserContact,
  UserCreate,
  UserRead,
  UserSecurity,
} from '@/stores/securityTypes'

/** Business roles the system administrator may give a new account. */
export const BUSINESS_ROLES: readonly Role[] = [
  'office',
  'assessor',
  'committee',
  'approver',
  'recommender',
  'applicant',
  'unit',
]
/** 三员: granted by the security administrator, one per account (the API refuses more). */
export const ADMIN_ROLES: readonly Role[] = ['sysadmin', 'secadmin', 'auditor']
export const ALL_ROLES: readonly Role[] = [...BUSINESS_ROLES, ...ADMIN_ROLES]

export const ORG_KINDS: readonly OrgKind[] = [
  'office',
  'member_unit',
  'city_propaganda',
  'applicant_unit',
  'grassroots',
  'other',
]

/** The fields of `next` that differ from `current` (PATCH sends only what changed). */
export function policyChanges(current: SecurityPolicy, next: SecurityPolicy): SecurityPolicyUpdate {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(next) as (keyof SecurityPolicy)[]) {
    const a = current[key]
    const b = next[key]
    const same = Array.isArray(a) && Array.isArray(b) ? [...a].sort().join() === [...b].sort().join() : a === b
    if (!same) out[key] = b
  }
  return out as SecurityPolicyUpdate
}

export const useSecurityAdminStore = defineStore('securityAdmin', () => {
  // --- 安全管理员: users' security ----------------------------------------------------------
  const users = pagedList<UserSecurity, { q: string; locked: '' | 'true' | 'false' }>(
    async (f, limit, offset) =>
      call((c) =>
        c.GET('/api/v1/security/users', {
          params: {
            query: compactQuery({
              q: f.q.trim(),
              locked: f.locked === '' ? undefined : f.locked === 'true',
              limit,
              offset,
            }),
          },
        }),
      ),
    () => ({ q: '', locked: '' }),
  )

  function replaceUser(updated: UserSecurity): UserSecurity {
    const i = users.items.findIndex((u) => u.id === updated.id)
    if (i >= 0) users.items.splice(i, 1, updated)
    return updated
  }

  const path = (id: number) => ({ params: { path: { user_id: id } } })

  async function lock(id: number, reason: string): Promise<UserSecurity> {
    return replaceUser(
      await call((c) => c.POST('/api/v1/security/users/{user_id}/lock', { ...path(id), body: { reason } })),
    )
  }
  async function unlock(id: number): Promise<UserSecurity> {
    return replaceUser(await call((c) => c.POST('/api/v1/security/users/{user_id}/unlock', path(id))))
  }
  async function forcePasswordChange(id: number): Promise<UserSecurity> {
    return replaceUser(
      await call((c) => c.POST('/api/v1/security/users/{user_id}/force-password-change', path(id))),
    )
  }
  /** Answers the temporary password, to be shown once. */
  async function resetPassword(id: number): Promise<string> {
    const answer = await call((c) => c.POST('/api/v1/security/users/{user_id}/reset-password', path(id)))
    void users.load()
    return answer.temporary_password
  }
  async function resetMfa(id: number): Promise<UserSecurity> {
    return replaceUser(await call((c) => c.POST('/api/v1/security/users/{user_id}/mfa/reset', path(id))))
  }
  async function setRoles(id: number, roles: Role[]): Promise<UserSecurity> {
    return replaceUser(
      await call((c) => c.PUT('/api/v1/security/users/{user_id}/roles', { ...path(id), body: { roles } })),
    )
  }

  const userSessions = ref<SessionRead[]>([])
  const sessionsLoading = ref(false)
  const sessionsError = ref<ApiError | null>(null)

  async function loadUserSessions(id: number): Promise<void> {
    sessionsLoading.value = true
    sessionsError.value = null
    try {
      userSessions.value = (await call((c) => c.GET('/api/v1/security/users/{user_id}/sessions', path(id)))).items
    } catch (err) {
      sessionsError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      sessionsLoading.value = false
    }
  }

  async function endUserSession(userId: number, sessionId: string): Promise<void> {
    await call((c) =>
      c.POST('/api/v1/security/sessions/{session_id}/end', { params: { path: { session_id: sessionId } } }),
    )
    await loadUserSessions(userId)
    void users.load()
  }

  // --- the policy (安全策略) ----------------------------------------------------------------
  const policy = ref<SecurityPolicy | null>(null)
  const policyLoading = ref(false)
  const policyError = ref<ApiError | null>(null)

  async function loadPolicy(): Promise<void> {
    policyLoading.value = true
    policyError.value = null
    try {
      policy.value = await call((c) => c.GET('/api/v1/security/policy'))
    } catch (err) {
      policyError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      policyLoading.value = false
    }
  }

  /** Saves what changed; answers the number of settings sent (0: nothing to save). */
  async function savePolicy(next: SecurityPolicy): Promise<number> {
    if (!policy.value) return 0
    const body = policyChanges(policy.value, next)
    const n = Object.keys(body).length
    if (n === 0) return 0
    policy.value = await call((c) => c.PATCH('/api/v1/security/policy', { body }))
    return n
  }

  // --- 系统管理员: users and organisations ---------------------------------------------------
  const accounts = pagedList<UserRead, { q: string; organization_id: number | null }>(
    async (f, limit, offset) =>
      call((c) =>
        c.GET('/api/v1/users', {
          params: {
            query: compactQuery({ q: f.q.trim(), organization_id: f.organization_id ?? undefined, limit, offset }),
          },
        }),
      ),
    () => ({ q: '', organization_id: null }),
  )
  /** Whole phone numbers the sysadmin asked to see (each viewing is audited by the API). */
  const revealed = ref<Record<number, string | null>>({})

  async function revealContact(id: number): Promise<UserContact> {
    const contact = await call((c) => c.GET('/api/v1/users/{user_id}/contact', path(id)))
    revealed.value = { ...revealed.value, [id]: contact.phone ?? null }
    return contact
  }

  function hideContact(id: number): void {
    const next = { ...revealed.value }
    delete next[id]
    revealed.value = next
  }

  async function createUser(body: UserCreate): Promise<UserRead> {
    const user = await call((c) => c.POST('/api/v1/users', { body }))
    await accounts.search()
    return user
  }

  const organizations = pagedList<OrganizationRead, { q: string; kind: OrgKind | '' }>(
    async (f, limit, offset) =>
      call((c) =>
        c.GET('/api/v1/organizations', {
          params: { query: compactQuery({ q: f.q.trim(), kind: f.kind || undefined, limit, offset }) },
        }),
      ),
    () => ({ q: '', kind: '' }),
  )

  /** Organisations for selects and names in tables (the first 200, by name filter). */
  const orgOptions = ref<OrganizationRead[]>([])
  async function loadOrgOptions(q = ''): Promise<void> {
    const page = await call((c) =>
      c.GET('/api/v1/organizations', { params: { query: compactQuery({ q: q.trim(), limit: 200, offset: 0 }) } }),
    )
    orgOptions.value = page.items
  }

  async function createOrganization(body: OrganizationCreate): Promise<OrganizationRead> {
    const org = await call((c) => c.POST('/api/v1/organizations', { body }))
    await organizations.search()
    return org
  }

  return {
    users,
    lock,
    unlock,
    forcePasswordChange,
    resetPassword,
    resetMfa,
    setRoles,
    userSessions,
    sessionsLoading,
    sessionsError,
    loadUserSessions,
    endUserSession,
    policy,
    policyLoading,
    policyError,
    loadPolicy,
    savePolicy,
    accounts,
    revealed,
    revealContact,
    hideContact,
    createUser,
    organizations,
    orgOptions,
    loadOrgOptions,
    createOrganization,
  }
})
