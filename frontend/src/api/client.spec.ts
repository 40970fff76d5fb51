import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { MiddlewareCallbackParams } from 'openapi-fetch'
import { CSRF_HEADER, createApiClient, csrfMiddleware, onUnauthorized, readCookie } from './client'
import { fakeFetch, json, problem } from '@/test/fakeApi'

function clearCookies() {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0]?.trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

describe('CSRF middleware', () => {
  beforeEach(() => {
    clearCookies()
    document.cookie = 'other=1; path=/'
    document.cookie = 'ds_csrf=tok%2Fen-42; path=/'
  })
  afterEach(clearCookies)

  function client() {
    const fake = fakeFetch({
      'GET /api/v1/me': () => json({}),
      'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
      'POST /api/v1/auth/login': () => json({}),
    })
    return { api: createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }), requests: fake.requests }
  }

  it('adds X-CSRF-Token from the ds_csrf cookie on POST', async () => {
    const { api, requests } = client()
    await api.POST('/api/v1/auth/logout')
    expect(requests[0]?.headers.get(CSRF_HEADER)).toBe('tok/en-42')
  })

  it('does not send the token on GET', async () => {
    const { api, requests } = client()
    await api.GET('/api/v1/me')
    expect(requests[0]?.headers.has(CSRF_HEADER)).toBe(false)
  })

  it('adds nothing when there is no ds_csrf cookie', async () => {
    clearCookies()
    const { api, requests } = client()
    await api.POST('/api/v1/auth/login', { body: { username: 'a', password: 'b' } })
    expect(requests[0]?.headers.has(CSRF_HEADER)).toBe(false)
  })

  it.each([
    ['PUT', true],
    ['PATCH', true],
    ['DELETE', true],
    ['HEAD', false],
    ['OPTIONS', false],
  ])('on %s adds the header: %s', async (method, expected) => {
    const request = new Request('http://test/api/v1/x', { method })
    const params = { request } as unknown as MiddlewareCallbackParams
    await csrfMiddleware.onRequest?.(params)
    expect(request.headers.has(CSRF_HEADER)).toBe(expected)
  })

  it('reads only the named cookie', () => {
    expect(readCookie('ds_csrf', 'x_ds_csrf=no; ds_csrf=yes; ds_csrf2=no')).toBe('yes')
    expect(readCookie('missing', 'a=1')).toBeNull()
  })
})

describe('401 handling', () => {
  afterEach(() => onUnauthorized(null))

  it('calls the unauthorized handler when a call meets 401', async () => {
    const handler = vi.fn()
    onUnauthorized(handler)
    const fake = fakeFetch({ 'POST /api/v1/auth/logout': () => problem(401, 'unauthenticated') })
    await createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }).POST('/api/v1/auth/logout')
    expect(handler).toHaveBeenCalledTimes(1)
  })

  it('leaves a 401 from login to the login page', async () => {
    const handler = vi.fn()
    onUnauthorized(handler)
    const fake = fakeFetch({ 'POST /api/v1/auth/login': () => problem(401, 'invalid_credentials') })
    const { error } = await createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }).POST(
      '/api/v1/auth/login',
      { body: { username: 'a', password: 'b' } },
    )
    expect(handler).not.toHaveBeenCalled()
    expect(error).toMatchObject({ code: 'invalid_credentials' })
  })
})
