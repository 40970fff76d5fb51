// The public pages (no login): the published list of 示范点, plaque verification and the running
// 公示 with its objection form.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { ApiError } from '@/api/problem'
import {
  sitesApi,
  unwrap,
  type FieldKind,
  type ObjectionCreate,
  type PlaqueVerification,
  type PublicNotice,
  type PublicRound,
  type PublicSite,
} from './sitesCommon'

export interface PublicFilters {
  round_id: number | null
  city: string | null
  field: FieldKind | null
}

export const usePublicSitesStore = defineStore('publicSites', () => {
  const filters = reactive<PublicFilters>({ round_id: null, city: null, field: null })
  const page = ref(1)
  const pageSize = ref(10)
  const items = ref<PublicSite[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  const roundOptions = ref<PublicRound[]>([])

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const data = await unwrap(
        sitesApi.client.GET('/api/v1/public/sites', {
          params: {
            query: {
              round_id: filters.round_id ?? undefined,
              city: filters.city || undefined,
              field: filters.field ?? undefined,
              limit: pageSize.value,
              offset: (page.value - 1) * pageSize.value,
            },
          },
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

  /** Round filter options: the rounds with published sites, newest first (GET /public/rounds). */
  async function loadRoundOptions(): Promise<void> {
    try {
      roundOptions.value = (await unwrap(sitesApi.client.GET('/api/v1/public/rounds'))).items
    } catch {
      roundOptions.value = []
    }
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  return { filters, page, pageSize, items, total, loading, error, roundOptions, load, search, loadRoundOptions }
})

export const usePlaqueStore = defineStore('plaque', () => {
  const result = ref<PlaqueVerification | null>(null)
  const notFound = ref(false)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  const active = computed(() => result.value?.status === 'active')

  async function verify(plaqueNo: string): Promise<void> {
    loading.value = true
    error.value = null
    notFound.value = false
    result.value = null
    try {
      result.value = await unwrap(
        sitesApi.client.GET('/api/v1/public/plaques/{plaque_no}', { params: { path: { plaque_no: plaqueNo } } }),
      )
    } catch (err) {
      const apiError = err instanceof ApiError ? err : null
      if (apiError?.status === 404) notFound.value = true
      else error.value = apiError
    } finally {
      loading.value = false
    }
  }

  return { result, notFound, loading, error, active, verify }
})

export const usePublicNoticesStore = defineStore('publicNotices', () => {
  const items = ref<PublicNotice[]>([])
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      items.value = (await unwrap(sitesApi.client.GET('/api/v1/public/notices'))).items
    } catch (err) {
      error.value = err instanceof ApiError ? err : null
      items.value = []
    } finally {
      loading.value = false
    }
  }

  /** Files an objection; throws ApiError (429 carries retryAfter for the rate limit). */
  async function object(noticeId: number, body: ObjectionCreate) {
    return unwrap(
      sitesApi.client.POST('/api/v1/public/notices/{notice_id}/objections', {
        params: { path: { notice_id: noticeId } },
        body,
      }),
    )
  }

  return { items, loading, error, load, object }
})
