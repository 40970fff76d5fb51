import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { OFFICE_USER, fakeFetch, json, problem } from '@/test/fakeApi'
import { useSessionClient, useSessionStore } from './session'
import { useSecurityClient } from './securityApi'
import { useSecurityMeStore } from './securityMe'
import { policyChanges, useSecurityAdminStore } from './securityAdmin'
import { auditQuery, loginLogQuery, useSecurityLogsStore } from './securityLogs'
import { useSecurityIntegrationStore } from './securityIntegration'
import type { SecurityPolicy, UserSecurity } from './securityTypes'

type Routes = Parameters<typeof fakeFetch>[0]

function withApi(routes: Routes) {
  const fake = fakeFetch(routes)
  const client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  useSessionClient(client)
  useSecurityClient(client)
  return fake.requests
}

const NOTICES = {
  previous_login_at: '2026-05-01T01:00:00Z',
  previous_login_ip: '10.1.1.1',
  failed_attempts_since: 2,
  password_change_required: false,
  password_expired: false,
  mfa_enrolment_required: false,
}
const LOGIN_OK = { mfa_required: false, user: OFFICE_USER, csrf_token: 'c', expires_at: '2026-05-02T00:00:00Z', notices: NOTICES }

const POLICY: SecurityPolicy = {
  password_min_length: 12,
  password_min_classes: 3,
  password_history: 5,
  password_max_age_days: 90,
  mfa_required_roles: ['sysadmin', 'secadmin', 'auditor', 'office'],
  mfa_enrolment_grace_days: 7,
  session_idle_minutes: 30,
  session_absolute_minutes: 720,
  session_single: false,
  audit_retention_days: 180,
}

function userSecurity(over: Partial<UserSecurity> = {}): UserSecurity {
  return {
    id: 5,
    username: 'xuancheng',
    display_name: '宣城',
    organization_id: 3,
    organization_name: '宣城市委宣传部',
    roles: ['recommender'],
    is_active: true,
    phone_masked: '138****1234',
    locked: false,
    locked_at: null,
    locked_reason: null,
    throttled_until: null,
    must_change_password: false,
    password_changed_at: '2026-01-01T00:00:00Z',
    mfa_enabled: false,
    active_sessions: 1,
    last_login_at: null,
    created_at: '2026-01-01T00:00:00Z',
    ...over,
  }
}

beforeEach(() => {
  sessionStorage.clear()
  setActivePinia(createPinia())
})

describe('session: the two-step login', () => {
  it('answers the second step when the account has TOTP, without a user yet', async () => {
    withApi({ 'POST /api/v1/auth/login': () => json({ mfa_required: true, mfa_token: 'mfa-1', expires_in: 300 }) })
    const store = useSessionStore()
    const step = await store.login('office', 'pw')
    expect(step).toEqual({ kind: 'mfa', mfaToken: 'mfa-1', expiresIn: 300 })
    expect(store.isAuthenticated).toBe(false)
  })

  it('finishes with the code, keeping the notices for the 等保 warning', async () => {
    const requests = withApi({ 'POST /api/v1/auth/login/mfa': () => json(LOGIN_OK) })
    const store = useSessionStore()
    const step = await store.loginMfa('mfa-1', '123456')
    expect(step.kind).toBe('done')
    expect(store.user?.username).toBe('office')
    expect(store.notices?.failed_attempts_since).toBe(2)
    expect(await requests[0]!.json()).toEqual({ mfa_token: 'mfa-1', otp: '123456' })
  })

  it('rejects a wrong code with invalid_otp (and a 401 there is no expired session)', async () => {
    withApi({ 'POST /api/v1/auth/login/mfa': () => problem(401, 'invalid_otp') })
    const failure = await useSessionStore().loginMfa('mfa-1', '000000').catch((e: unknown) => e)
    expect((failure as ApiError).code).toBe('invalid_otp')
  })

  it('exposes the restriction of a session that must change its password', async () => {
    withApi({
      'POST /api/v1/auth/login': () => json({ ...LOGIN_OK, user: { ...OFFICE_USER, restriction: 'password_change' } }),
    })
    const store = useSessionStore()
    await store.login('office', 'pw')
    expect(store.restriction).toBe('password_change')
    store.clear()
    expect(store.notices).toBeNull()
  })
})

describe('my security', () => {
  it('walks the TOTP enrolment: setup, confirm, codes shown once, then forgotten', async () => {
    const requests = withApi({
      'POST /api/v1/me/totp/setup': () => json({ secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://x', qr_svg: 'data:image/svg+xml,x' }),
      'POST /api/v1/me/totp/confirm': () => json({ recovery_codes: Array.from({ length: 10 }, (_, i) => `code${i}-xxxxx`) }),
      'GET /api/v1/me/security': () => json({ username: 'office', mfa_enabled: true }),
    })
    const store = useSecurityMeStore()
    await store.startTotp()
    expect(store.stage).toBe('scan')
    expect(store.setup?.secret).toBe('JBSWY3DPEHPK3PXP')
    await store.confirmTotp('123 456')
    expect(await requests[1]!.json()).toEqual({ code: '123456' })
    expect(store.stage).toBe('codes')
    expect(store.recoveryCodes).toHaveLength(10)
    expect(store.setup).toBeNull()
    store.finishEnrolment()
    expect(store.recoveryCodes).toBeNull()
  })

  it('keeps the weak_password rules for the page to explain', async () => {
    withApi({
      'POST /api/v1/me/password': () => problem(422, 'weak_password', { rules: ['min_length', 'reused'] }),
    })
    const failure = (await useSecurityMeStore().changePassword('old', 'new').catch((e: unknown) => e)) as ApiError
    expect(failure.code).toBe('weak_password')
    expect(failure.problem.rules).toEqual(['min_length', 'reused'])
  })

  it('ends the other sessions, not this one', async () => {
    const requests = withApi({
      'GET /api/v1/me/sessions': () =>
        json({
          items: [
            { id: 'current-session', current: true },
            { id: 'other-session-1', current: false },
          ],
          total: 2,
        }),
      'POST /api/v1/me/sessions/other-session-1/end': () => new Response(null, { status: 204 }),
    })
    const store = useSecurityMeStore()
    await store.loadSessions()
    expect(await store.endOtherSessions()).toBe(1)
    expect(requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url).pathname)).toEqual([
      '/api/v1/me/sessions/other-session-1/end',
    ])
  })
})

describe('administrators', () => {
  it('sends only the changed policy settings', () => {
    expect(policyChanges(POLICY, { ...POLICY })).toEqual({})
    expect(
      policyChanges(POLICY, { ...POLICY, session_idle_minutes: 15, mfa_required_roles: ['office', 'auditor', 'secadmin', 'sysadmin'] }),
    ).toEqual({ session_idle_minutes: 15 })
    expect(policyChanges(POLICY, { ...POLICY, mfa_required_roles: ['office'] })).toEqual({ mfa_required_roles: ['office'] })
  })

  it('pages users on the server and replaces a row after a lock', async () => {
    const requests = withApi({
      'GET /api/v1/security/users': () => json({ items: [userSecurity()], total: 41 }),
      'POST /api/v1/security/users/5/lock': () => json(userSecurity({ locked: true, locked_reason: '离岗' })),
    })
    const store = useSecurityAdminStore()
    store.users.filters.q = ' xuan '
    store.users.filters.locked = 'false'
    store.users.page = 3
    await store.users.load()
    const url = new URL(requests[0]!.url)
    expect(Object.fromEntries(url.searchParams)).toEqual({ q: 'xuan', locked: 'false', limit: '20', offset: '40' })
    expect(store.users.total).toBe(41)
    await store.lock(5, '离岗')
    expect(await requests[1]!.json()).toEqual({ reason: '离岗' })
    expect(store.users.items[0]!.locked).toBe(true)
  })

  it('passes the 三员分立 refusal on as it is', async () => {
    withApi({
      'PUT /api/v1/security/users/5/roles': () =>
        problem(403, 'separation_of_duties', { detail: 'An account may hold only one … / 一个账号只能担任…之一' }),
    })
    const failure = (await useSecurityAdminStore().setRoles(5, ['sysadmin', 'auditor']).catch((e: unknown) => e)) as ApiError
    expect(failure.code).toBe('separation_of_duties')
    expect(failure.status).toBe(403)
  })

  it('shows a whole phone only after asking the API (which audits it), and forgets it again', async () => {
    withApi({ 'GET /api/v1/users/5/contact': () => json({ id: 5, username: 'x', display_name: 'X', phone: '13812341234' }) })
    const store = useSecurityAdminStore()
    await store.revealContact(5)
    expect(store.revealed).toEqual({ 5: '13812341234' })
    store.hideContact(5)
    expect(store.revealed).toEqual({})
  })

  it('keeps a load error for the page and clears it on the next success', async () => {
    let fail = true
    withApi({ 'GET /api/v1/security/policy': () => (fail ? problem(403, 'forbidden') : json(POLICY)) })
    const store = useSecurityAdminStore()
    await store.loadPolicy()
    expect(store.policyError?.code).toBe('forbidden')
    fail = false
    await store.loadPolicy()
    expect(store.policyError).toBeNull()
    expect(store.policy?.session_idle_minutes).toBe(30)
  })
})

describe('logs (审计管理员)', () => {
  it('turns the filters into the API query and the export link', () => {
    const since = new Date('2026-05-01T00:00:00Z')
    const until = new Date('2026-05-02T00:00:00Z')
    expect(loginLogQuery({ username: ' secadmin ', client_ip: '', result: 'failure', reason: '', range: [since, until] })).toEqual({
      username: 'secadmin',
      success: false,
      since: '2026-05-01T00:00:00.000Z',
      until: '2026-05-02T00:00:00.000Z',
    })
    expect(auditQuery({ event: [], subject: '', result: '', range: null })).toEqual({})
    const store = useSecurityLogsStore()
    store.audit.filters.event = ['login_failure']
    expect(store.auditExport('csv')).toBe('/api/v1/security/audit/export?event=login_failure&format=csv')
  })

  it('reports the chain check', async () => {
    withApi({ 'GET /api/v1/security/audit/verify': () => json({ intact: false, checked: 10, tampered_ids: [4] }) })
    const report = await useSecurityLogsStore().verifyChain()
    expect(report).toEqual({ intact: false, checked: 10, tampered_ids: [4] })
  })
})

describe('integration', () => {
  it('keeps the created account in the list and hands the secret back once', async () => {
    withApi({
      'POST /api/v1/service-accounts': () =>
        json({
          account: { id: 9, client_id: 'sa_1', name: '平台', organization_id: 1, scopes: ['applications:read'], roles: [], created_at: 'x', revoked_at: null, last_used_at: null },
          client_secret: 's3cr3t',
        }, 201),
      'POST /api/v1/service-accounts/9/revoke': () =>
        json({ id: 9, client_id: 'sa_1', name: '平台', organization_id: 1, scopes: [], roles: [], created_at: 'x', revoked_at: 'y', last_used_at: null }),
    })
    const store = useSecurityIntegrationStore()
    const created = await store.createAccount({ name: '平台', organization_id: 1, scopes: ['applications:read'], roles: [] })
    expect(created.client_secret).toBe('s3cr3t')
    expect(store.accounts.map((a) => a.id)).toEqual([9])
    await store.revoke(9)
    expect(store.accounts[0]!.revoked_at).toBe('y')
  })

  it('takes the scope choices from the API and lists, allows and removes webhook hosts', async () => {
    const host = (id: number, name: string) => ({ id, host: name, created_at: '2026-11-01T00:00:00Z' })
    const requests = withApi({
      'GET /api/v1/service-accounts/scopes': () => json({ items: ['applications:read', 'documents:read'], total: 2 }),
      'GET /api/v1/webhooks/allowed-hosts': () => json({ items: [host(1, '10.0.0.8')], total: 1 }),
      'POST /api/v1/webhooks/allowed-hosts': () => json(host(2, '127.0.0.1'), 201),
      'DELETE /api/v1/webhooks/allowed-hosts/1': () => new Response(null, { status: 204 }),
    })
    const store = useSecurityIntegrationStore()
    await store.loadKnownScopes()
    await store.loadKnownScopes() // asked once
    expect(store.knownScopes).toEqual(['applications:read', 'documents:read'])
    await store.loadAllowedHosts()
    await store.allowHost(' 127.0.0.1 ')
    expect(store.allowedHosts.map((h) => h.host)).toEqual(['10.0.0.8', '127.0.0.1'])
    await store.removeAllowedHost(1)
    expect(store.allowedHosts.map((h) => h.id)).toEqual([2])
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /api/v1/service-accounts/scopes',
      'GET /api/v1/webhooks/allowed-hosts',
      'POST /api/v1/webhooks/allowed-hosts',
      'DELETE /api/v1/webhooks/allowed-hosts/1',
    ])
  })

  it('loads the deliveries of the chosen subscription with paging', async () => {
    const requests = withApi({
      'GET /api/v1/webhooks/3/deliveries': () => json({ items: [], total: 0 }),
    })
    const store = useSecurityIntegrationStore()
    await store.openDeliveries(3)
    expect(new URL(requests[0]!.url).search).toBe('?limit=10&offset=0')
    expect(store.selectedWebhook).toBe(3)
  })
})
