// 示范点 list (office, the site's own people, recommenders), the office's reminders and the
// year's inspection campaign.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { ApiError } from '@/api/problem'
import {
  idempotencyKey,
  sitesApi,
  unwrap,
  type FieldKind,
  type InspectionKind,
  type Reminders,
  type Round,
  type Site,
  type SiteStatus,
} from './sitesCommon'

export interface SiteFilters {
  round_id: number | null
  city: string | null
  field: FieldKind | null
  status: SiteStatus | null
  q: string
}

export const PAGE_SIZES = [10, 20, 50, 100]

function emptyFilters(): SiteFilters {
  return { round_id: null, city: null, field: null, status: null, q: '' }
}

/** The query the list endpoint gets: only the filters that are set. */
export function siteQuery(filters: SiteFilters, page: number, pageSize: number) {
  return {
    round_id: filters.round_id ?? undefined,
    city: filters.city || undefined,
    field: filters.field ?? undefined,
    status: filters.status ?? undefined,
    q: filters.q.trim() || undefined,
    limit: pageSize,
    offset: (page - 1) * pageSize,
  }
}

export const useSitesStore = defineStore('sites', () => {
  const filters = reactive<SiteFilters>(emptyFilters())
  const page = ref(1)
  const pageSize = ref(20)
  const items = ref<Site[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  const reminders = ref<Reminders | null>(null)
  const remindersLoading = ref(false)
  const remindersError = ref<ApiError | null>(null)

  const rounds = ref<Round[]>([])

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const data = await unwrap(
        sitesApi.client.GET('/api/v1/sites', {
          params: { query: siteQuery(filters, page.value, pageSize.value) },
        }),
      )
      items.value = data.items
      total.value = data.total
    } catch (err) {
      error.value = err instanceof ApiError ? err : null
      items.value = []
      total.value = 0
    } finally {
      loading.value = false
    }
  }

  /** New filters start again at page 1. */
  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  function resetFilters(): Promise<void> {
    Object.assign(filters, emptyFilters())
    return search()
  }

  async function loadReminders(year?: number): Promise<void> {
    remindersLoading.value = true
    remindersError.value = null
    try {
      reminders.value = await unwrap(
        sitesApi.client.GET('/api/v1/sites/reminders', { params: { query: { year } } }),
      )
    } catch (err) {
      remindersError.value = err instanceof ApiError ? err : null
    } finally {
      remindersLoading.value = false
    }
  }

  /** Rounds for the filter (best effort: a role that may not list rounds just has no filter). */
  async function loadRounds(): Promise<void> {
    try {
      const data = await unwrap(sitesApi.client.GET('/api/v1/rounds', { params: { query: { limit: 50 } } }))
      rounds.value = data.items
    } catch {
      rounds.value = []
    }
  }

  /** Opens the year's 检查 or 复核 for every site holding a plaque. Throws ApiError. */
  async function openCampaign(kind: InspectionKind, year: number) {
    return unwrap(
      sitesApi.client.POST('/api/v1/inspections/campaigns', {
        params: { header: { 'Idempotency-Key': idempotencyKey() } },
        body: { kind, year, inspector_ids: [] },
      }),
    )
  }

  return {
    filters,
    page,
    pageSize,
    items,
    total,
    loading,
    error,
    reminders,
    remindersLoading,
    remindersError,
    rounds,
    load,
    search,
    resetFilters,
    loadReminders,
    loadRounds,
    openCampaign,
  }
})
