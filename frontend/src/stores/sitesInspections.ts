// 年度检查 (office): the yearly 检查 and 复核 of every site the caller may see, server-paged with
// the filters GET /api/v1/inspections offers (year, kind, open or recorded, one site), the year's
// campaign for all sites at once, and naming an open inspection's inspectors.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { components } from '@/api/schema'
import { ApiError } from '@/api/problem'
import {
  idempotencyKey,
  sitesApi,
  unwrap,
  type Assessor,
  type Inspection,
  type InspectionKind,
} from './sitesCommon'

export type CampaignResult = components['schemas']['CampaignResult']

/** Open (no outcome yet) or recorded: the API's `recorded` filter. */
export type InspectionState = 'open' | 'recorded'

export interface InspectionFilters {
  year: number | null
  kind: InspectionKind | null
  state: InspectionState | null
  site_id: number | null
}

/** A site chosen in the site filter (id for the API, name to show). */
export interface SiteOption {
  id: number
  name: string
  city: string
}

export function emptyInspectionFilters(year: number | null = new Date().getFullYear()): InspectionFilters {
  return { year, kind: null, state: null, site_id: null }
}

/** The query the list endpoint gets: only the filters that are set, with the page's limit/offset. */
export function inspectionQuery(filters: InspectionFilters, page: number, pageSize: number) {
  return {
    year: filters.year ?? undefined,
    kind: filters.kind ?? undefined,
    recorded: filters.state === null ? undefined : filters.state === 'recorded',
    site_id: filters.site_id ?? undefined,
    limit: pageSize,
    offset: (Math.max(page, 1) - 1) * pageSize,
  }
}

export const useInspectionsStore = defineStore('siteInspections', () => {
  const filters = reactive<InspectionFilters>(emptyInspectionFilters())
  const page = ref(1)
  const pageSize = ref(20)
  const items = ref<Inspection[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  /** Names of the inspectors by user id (the assessor list the office may name from). */
  const inspectorNames = ref<Record<number, string>>({})
  /** The options of the site filter (the one chosen stays among them). */
  const siteOptions = ref<SiteOption[]>([])
  let seq = 0

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const data = await unwrap(
        sitesApi.client.GET('/api/v1/inspections', {
          params: { query: inspectionQuery(filters, page.value, pageSize.value) },
        }),
      )
      if (mine !== seq) return
      // A page past the end (rows gone since): go back to the last page that has rows.
      if (data.items.length === 0 && data.total > 0 && page.value > 1) {
        page.value = Math.ceil(data.total / pageSize.value)
        return await load()
      }
      items.value = data.items
      total.value = data.total
    } catch (err) {
      if (mine !== seq) return
      error.value = err instanceof ApiError ? err : new ApiError({ status: 0, code: 'network_error' })
      items.value = []
      total.value = 0
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** New filters start again at page 1. */
  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  function resetFilters(): Promise<void> {
    Object.assign(filters, emptyInspectionFilters())
    return search()
  }

  function rememberInspectors(found: Assessor[]): void {
    const names = { ...inspectorNames.value }
    for (const a of found) names[a.user_id] = `${a.organization_name} ${a.display_name}`
    inspectorNames.value = names
  }

  /** Assessor accounts (GET /api/v1/assessors) by name or organisation; their names are kept. */
  async function searchInspectors(q = ''): Promise<Assessor[]> {
    const query = { q: q.trim() || undefined, limit: 50 }
    const found = (await unwrap(sitesApi.client.GET('/api/v1/assessors', { params: { query } }))).items
    rememberInspectors(found)
    return found
  }

  /** The names of the inspectors shown (best effort: an unknown id is shown as #id). */
  async function loadInspectorNames(): Promise<void> {
    try {
      const data = await unwrap(sitesApi.client.GET('/api/v1/assessors', { params: { query: { limit: 200 } } }))
      rememberInspectors(data.items)
    } catch {
      // Names are a convenience: the table still shows the ids.
    }
  }

  /** Sites by name for the site filter (GET /api/v1/sites?q=). Throws ApiError. */
  async function searchSites(q: string): Promise<void> {
    const data = await unwrap(
      sitesApi.client.GET('/api/v1/sites', { params: { query: { q: q.trim() || undefined, limit: 20 } } }),
    )
    const chosen = siteOptions.value.filter((s) => s.id === filters.site_id && !data.items.some((i) => i.id === s.id))
    siteOptions.value = [...chosen, ...data.items.map((s) => ({ id: s.id, name: s.name, city: s.city }))]
  }

  /**
   * Opens the year's 检查 or 复核 for every site holding a plaque (sites that have one are skipped);
   * the list then shows that year and kind. Throws ApiError (the refusal) and changes nothing then.
   */
  async function openCampaign(kind: InspectionKind, year: number, inspectorIds: number[] = []): Promise<CampaignResult> {
    const result = await unwrap(
      sitesApi.client.POST('/api/v1/inspections/campaigns', {
        params: { header: { 'Idempotency-Key': idempotencyKey() } },
        body: { kind, year, inspector_ids: inspectorIds },
      }),
    )
    Object.assign(filters, { year, kind, state: null, site_id: null })
    await search()
    return result
  }

  /** Replaces the inspectors of an open inspection; the row is updated in place. Throws ApiError. */
  async function nameInspectors(inspectionId: number, userIds: number[]): Promise<Inspection> {
    const updated = await unwrap(
      sitesApi.client.PUT('/api/v1/inspections/{inspection_id}/inspectors', {
        params: { path: { inspection_id: inspectionId } },
        body: { user_ids: userIds },
      }),
    )
    items.value = items.value.map((i) => (i.id === updated.id ? updated : i))
    return updated
  }

  return {
    filters,
    page,
    pageSize,
    items,
    total,
    loading,
    error,
    inspectorNames,
    siteOptions,
    load,
    search,
    resetFilters,
    searchInspectors,
    loadInspectorNames,
    searchSites,
    openCampaign,
    nameInspectors,
  }
})
