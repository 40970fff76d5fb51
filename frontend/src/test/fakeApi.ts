// A fake fetch for unit tests: answers by "METHOD /path" and records every request.
import type { FetchLike } from '@/api/client'
import type { Me } from '@/api/types'

export type Handler = (request: Request) => Response | Promise<Response>

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json'
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, ...headers } })
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}, headers = {}) {
  return json({ type: 'about:blank', title: code, status, detail: `${code} detail`, code, ...extra }, status, headers)
}

export function fakeFetch(routes: Record<string, Handler>) {
  const requests: Request[] = []
  const fetch: FetchLike = async (request) => {
    requests.push(request.clone())
    const url = new URL(request.url)
    const handler = routes[`${request.method} ${url.pathname}`]
    if (!handler) return problem(404, 'not_found')
    return handler(request)
  }
  return { fetch, requests }
}

export const OFFICE_USER: Me = {
  id: 1,
  username: 'office',
  display_name: '办公室演示用户',
  roles: ['office', 'committee'],
  organization: { id: 1, code: 'office', name: '省委宣传部思想政治工作处', kind: 'office', city: null },
}
