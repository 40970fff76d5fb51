import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { ACTIVE_ROLE_KEY, useSessionClient, useSessionStore } from './session'
import { OFFICE_USER, fakeFetch, json, problem } from '@/test/fakeApi'

const LOGIN_OK = { user: OFFICE_USER, csrf_token: 'csrf-123', expires_at: '2026-11-26T10:00:00Z' }

function setup(routes: Parameters<typeof fakeFetch>[0]) {
  const fake = fakeFetch(routes)
  useSessionClient(createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }))
  return { store: useSessionStore(), requests: fake.requests }
}

describe('session store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    localStorage.clear()
    setActivePinia(createPinia())
  })

  it('login sets the user and makes the first role active', async () => {
    const { store, requests } = setup({ 'POST /api/v1/auth/login': () => json(LOGIN_OK) })

    const step = await store.login('office', 'secret')

    expect(step.kind === 'done' && step.user.username).toBe('office')
    expect(store.isAuthenticated).toBe(true)
    expect(store.user?.organization.name).toBe('省委宣传部思想政治工作处')
    expect(store.activeRole).toBe('office')
    expect(store.hasSeveralRoles).toBe(true)
    expect(await requests[0]?.json()).toEqual({ username: 'office', password: 'secret' })
  })

  it('keeps no token or password in web storage', async () => {
    const { store } = setup({ 'POST /api/v1/auth/login': () => json(LOGIN_OK) })
    await store.login('office', 'secret')

    const stored = JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })
    expect(stored).not.toContain('csrf-123')
    expect(stored).not.toContain('secret')
  })

  it('wrong password rejects with the problem code and leaves no user', async () => {
    const { store } = setup({ 'POST /api/v1/auth/login': () => problem(401, 'invalid_credentials') })

    const failure = await store.login('office', 'wrong').catch((e: unknown) => e)

    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).code).toBe('invalid_credentials')
    expect(store.user).toBeNull()
  })

  it('too many attempts carries Retry-After seconds', async () => {
    const { store } = setup({
      'POST /api/v1/auth/login': () => problem(429, 'too_many_attempts', {}, { 'Retry-After': '900' }),
    })
    const failure = (await store.login('office', 'x').catch((e: unknown) => e)) as ApiError
    expect(failure.problem).toMatchObject({ status: 429, code: 'too_many_attempts', retryAfter: 900 })
  })

  it('a server that cannot be reached becomes network_error', async () => {
    const { store } = setup({
      'POST /api/v1/auth/login': () => {
        throw new TypeError('Failed to fetch')
      },
    })
    const failure = (await store.login('office', 'x').catch((e: unknown) => e)) as ApiError
    expect(failure.code).toBe('network_error')
  })

  it('logout tells the server and clears the user and the active role', async () => {
    const { store, requests } = setup({
      'POST /api/v1/auth/login': () => json(LOGIN_OK),
      'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
    })
    await store.login('office', 'secret')

    await store.logout()

    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toContain('POST /api/v1/auth/logout')
    expect(store.user).toBeNull()
    expect(store.isAuthenticated).toBe(false)
    expect(store.activeRole).toBeNull()
    expect(sessionStorage.getItem(ACTIVE_ROLE_KEY)).toBeNull()
  })

  it('logout clears the user even when the server is unreachable', async () => {
    const { store } = setup({
      'POST /api/v1/auth/login': () => json(LOGIN_OK),
      'POST /api/v1/auth/logout': () => {
        throw new TypeError('Failed to fetch')
      },
    })
    await store.login('office', 'secret')
    await store.logout()
    expect(store.user).toBeNull()
  })

  it('switches to another of the user’s roles and remembers it for the tab', async () => {
    const { store } = setup({ 'POST /api/v1/auth/login': () => json(LOGIN_OK) })
    await store.login('office', 'secret')

    expect(store.setActiveRole('committee')).toBe(true)

    expect(store.activeRole).toBe('committee')
    expect(sessionStorage.getItem(ACTIVE_ROLE_KEY)).toBe('committee')
  })

  it('refuses to switch to a role the user does not hold', async () => {
    const { store } = setup({ 'POST /api/v1/auth/login': () => json(LOGIN_OK) })
    await store.login('office', 'secret')

    expect(store.setActiveRole('approver')).toBe(false)
    expect(store.activeRole).toBe('office')
  })

  it('restores the remembered role after a reload when the user still holds it', async () => {
    sessionStorage.setItem(ACTIVE_ROLE_KEY, 'committee')
    const { store } = setup({ 'GET /api/v1/me': () => json(OFFICE_USER) })

    await store.fetchMe()

    expect(store.activeRole).toBe('committee')
  })

  it('drops a remembered role the user no longer holds', async () => {
    sessionStorage.setItem(ACTIVE_ROLE_KEY, 'approver')
    const { store } = setup({ 'GET /api/v1/me': () => json(OFFICE_USER) })

    await store.fetchMe()

    expect(store.activeRole).toBe('office')
  })

  it('fetchMe resolves to null when not logged in', async () => {
    const { store } = setup({ 'GET /api/v1/me': () => problem(401, 'unauthenticated') })

    expect(await store.fetchMe()).toBeNull()
    expect(store.isAuthenticated).toBe(false)
    expect(store.state).toBe('ready')
  })

  it('fetchMe reports a server failure as an error state', async () => {
    const { store } = setup({ 'GET /api/v1/me': () => problem(503, 'unavailable') })

    await expect(store.fetchMe()).rejects.toBeInstanceOf(ApiError)
    expect(store.state).toBe('error')
    expect(store.loadError?.status).toBe(503)
  })
})
