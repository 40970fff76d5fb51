// Shared plumbing of the security and integration stores: the client they use (tests give
// them a fake one), one way to turn an answer into data or an ApiError, and a paged list.
import { reactive } from 'vue'
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'

let client: ApiClient = defaultApi

/** Tests give the security stores a client over a fake fetch. */
export function useSecurityClient(next: ApiClient): void {
  client = next
}

export function securityClient(): ApiClient {
  return client
}

interface Answer<T> {
  data?: T
  error?: unknown
  response: Response
}

/** Runs one API call; resolves to its data (or true for a 204), throws ApiError otherwise. */
export async function call<T>(request: (c: ApiClient) => Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>
  try {
    answer = await request(client)
  } catch {
    throw new ApiError(networkProblem())
  }
  const { data, error, response } = answer
  if (response.ok) return (data ?? (true as unknown)) as T
  throw new ApiError(toProblem(error, response))
}

export interface PagedList<T, F> {
  items: T[]
  total: number
  page: number
  pageSize: number
  loading: boolean
  error: ApiError | null
  filters: F
  /** Loads the current page with the current filters; a newer call wins over an older one. */
  load: () => Promise<void>
  /** Back to page 1 with the filters as they are now (after the user changed them). */
  search: () => Promise<void>
  reset: () => Promise<void>
}

/** Server-side paging over `limit`/`offset` answered `{items, total}`. */
export function pagedList<T, F extends object>(
  fetchPage: (filters: F, limit: number, offset: number) => Promise<{ items: T[]; total: number }>,
  initialFilters: () => F,
  pageSize = 20,
): PagedList<T, F> {
  let ticket = 0
  const list = reactive({
    items: [] as T[],
    total: 0,
    page: 1,
    pageSize,
    loading: false,
    error: null as ApiError | null,
    filters: initialFilters(),
    async load() {
      const mine = ++ticket
      list.loading = true
      list.error = null
      try {
        const answer = await fetchPage(list.filters as F, list.pageSize, (list.page - 1) * list.pageSize)
        if (mine !== ticket) return
        list.items = answer.items as typeof list.items
        list.total = answer.total
      } catch (err) {
        if (mine !== ticket) return
        list.error = err instanceof ApiError ? err : new ApiError(networkProblem())
      } finally {
        if (mine === ticket) list.loading = false
      }
    },
    async search() {
      list.page = 1
      await list.load()
    },
    async reset() {
      Object.assign(list.filters as object, initialFilters())
      await list.search()
    },
  })
  return list as PagedList<T, F>
}

/** Drops empty strings, nulls and empty arrays from a query, so the API sees only real filters. */
export function compactQuery<Q extends Record<string, unknown>>(query: Q): Partial<Q> {
  const out: Partial<Q> = {}
  for (const [key, value] of Object.entries(query)) {
    if (value === '' || value === null || value === undefined) continue
    if (Array.isArray(value) && value.length === 0) continue
    ;(out as Record<string, unknown>)[key] = value
  }
  return out
}
