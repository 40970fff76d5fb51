// The one typed API client (openapi-fetch over the generated schema) and its middleware:
// CSRF header on unsafe methods, and a hook that sends the user to the login page on a 401.
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { paths } from './schema'

export type { paths }

/** Cookie the server sets next to the httpOnly session cookie; readable on purpose. */
export const CSRF_COOKIE = 'ds_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Value of a cookie readable by scripts, or null. */
export function readCookie(name: string, source: string = document.cookie): string | null {
  for (const part of source.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      return decodeURIComponent(part.slice(eq + 1).trim())
    }
  }
  return null
}

/** Adds `X-CSRF-Token` (from the `ds_csrf` cookie) to POST/PUT/PATCH/DELETE, never to reads. */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (SAFE_METHODS.has(request.method.toUpperCase())) return undefined
    const token = readCookie(CSRF_COOKIE)
    if (token && !request.headers.has(CSRF_HEADER)) {
      request.headers.set(CSRF_HEADER, token)
    }
    return request
  },
}

type UnauthorizedHandler = (response: Response) => void
let unauthorizedHandler: UnauthorizedHandler | null = null

/** The router registers what a 401 means for the app (go to the login page). */
export function onUnauthorized(handler: UnauthorizedHandler | null): void {
  unauthorizedHandler = handler
}

/** Paths whose 401 is an answer to show, not an expired session. */
const NO_REDIRECT_ON_401 = ['/api/v1/auth/login', '/api/v1/auth/login/mfa', '/api/v1/me']

export const unauthorizedMiddleware: Middleware = {
  onResponse({ response, schemaPath }) {
    if (response.status === 401 && !NO_REDIRECT_ON_401.includes(schemaPath)) {
      unauthorizedHandler?.(response)
    }
    return undefined
  },
}

export type ApiClient = Client<paths>

export type FetchLike = (input: Request) => Promise<Response>

export function createApiClient(options: { baseUrl?: string; fetch?: FetchLike } = {}): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    credentials: 'same-origin',
    headers: { Accept: 'application/json, application/problem+json' },
    // Resolve fetch at call time so tests (and polyfills) can replace it.
    fetch: options.fetch ?? ((input: Request) => globalThis.fetch(input)),
  })
  client.use(csrfMiddleware, unauthorizedMiddleware)
  return client
}

export const api = createApiClient()
