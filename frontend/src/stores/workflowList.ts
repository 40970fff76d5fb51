// A server-paged list of applications with filters and search (limit/offset → {items,total}).
import { reactive, ref, watch } from 'vue'
import type { ApiError } from '@/api/problem'
import { toApiError } from '@/api/problem'
import { useWorkflowStore } from './workflow'
import type { ApplicationSummary, ApplicationQuery, FieldKind, Status } from './workflowTypes'

export interface ListFilters {
  status: Status | ''
  field: FieldKind | ''
  q: string
  priority: '' | 'true' | 'false'
}

export function useApplicationList(fixed: () => ApplicationQuery, initial: Partial<ListFilters> = {}, pageSize = 20) {
  const store = useWorkflowStore()
  const filters = reactive<ListFilters>({ status: '', field: '', q: '', priority: '', ...initial })
  const page = ref(1)
  const size = ref(pageSize)
  const items = ref<ApplicationSummary[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  let seq = 0

  function query(): ApplicationQuery {
    const q: ApplicationQuery = { ...fixed(), limit: size.value, offset: (page.value - 1) * size.value }
    if (filters.status) q.status = filters.status
    if (filters.field) q.field = filters.field
    if (filters.q.trim()) q.q = filters.q.trim()
    if (filters.priority) q.priority = filters.priority === 'true'
    return q
  }

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const result = await store.listApplications(query())
      if (mine !== seq) return // a newer request answers for the page
      items.value = result.items
      total.value = result.total
      // A page past the end after a change (e.g. the last row moved on): step back.
      if (result.items.length === 0 && result.total > 0 && page.value > 1) {
        page.value = Math.ceil(result.total / size.value)
      }
    } catch (err) {
      if (mine === seq) error.value = toApiError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Filters changed: back to the first page. */
  function search(): void {
    if (page.value !== 1) page.value = 1
    else void load()
  }

  watch([page, size], () => void load())

  return { filters, page, size, items, total, loading, error, load, search, query }
}
