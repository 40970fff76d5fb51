// One 示范点: its record, inspections (检查/复核), rectifications (限期整改) with evidence,
// publicity (宣传推介) and history (履历); the actions the API allows on it.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/problem'
import {
  fileForm,
  idempotencyKey,
  sitesApi,
  unwrap,
  type Assessor,
  type Evidence,
  type HistoryItem,
  type Inspection,
  type InspectionKind,
  type Publicity,
  type PublicityCreate,
  type Rectification,
  type Site,
  type SiteTransition,
} from './sitesCommon'

export const useSiteDetailStore = defineStore('siteDetail', () => {
  const site = ref<Site | null>(null)
  const inspections = ref<Inspection[]>([])
  const rectifications = ref<Rectification[]>([])
  const publicity = ref<Publicity[]>([])
  const history = ref<HistoryItem[]>([])
  const evidence = ref<Record<number, Evidence[]>>({})
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  /** Inspections whose outcome is not recorded yet: what pass/rectify/delist may close. */
  const openInspections = computed(() => inspections.value.filter((i) => i.outcome === null))

  async function loadParts(id: number): Promise<void> {
    const path = { params: { path: { site_id: id } } }
    const [insp, rect, pub, hist] = await Promise.all([
      unwrap(sitesApi.client.GET('/api/v1/sites/{site_id}/inspections', {
        params: { path: { site_id: id }, query: { limit: 200 } },
      })),
      unwrap(sitesApi.client.GET('/api/v1/sites/{site_id}/rectifications', path)),
      unwrap(sitesApi.client.GET('/api/v1/sites/{site_id}/publicity', path)),
      unwrap(sitesApi.client.GET('/api/v1/sites/{site_id}/history', path)),
    ])
    inspections.value = insp.items
    rectifications.value = rect.items
    publicity.value = pub.items
    history.value = hist.items
  }

  async function load(id: number): Promise<void> {
    loading.value = true
    error.value = null
    try {
      site.value = await unwrap(
        sitesApi.client.GET('/api/v1/sites/{site_id}', { params: { path: { site_id: id } } }),
      )
      await loadParts(id)
    } catch (err) {
      error.value = err instanceof ApiError ? err : null
      site.value = null
    } finally {
      loading.value = false
    }
  }

  /** Reloads after a change without the page flashing its loading state. Throws ApiError. */
  async function refresh(): Promise<void> {
    if (!site.value) return
    const id = site.value.id
    site.value = await unwrap(
      sitesApi.client.GET('/api/v1/sites/{site_id}', { params: { path: { site_id: id } } }),
    )
    await loadParts(id)
  }

  /** One action of the site's transition table, sent with the ETag seen. Throws ApiError. */
  async function act(payload: SiteTransition): Promise<Site> {
    if (!site.value) throw new ApiError({ status: 0, code: 'not_found' })
    const updated = await unwrap(
      sitesApi.client.POST('/api/v1/sites/{site_id}/transitions', {
        params: {
          path: { site_id: site.value.id },
          header: { 'Idempotency-Key': idempotencyKey(), 'If-Match': site.value.etag },
        },
        body: payload,
      }),
    )
    site.value = updated
    await loadParts(updated.id)
    return updated
  }

  async function openInspection(kind: InspectionKind, year: number, inspectorIds: number[] = []) {
    if (!site.value) return
    await unwrap(
      sitesApi.client.POST('/api/v1/sites/{site_id}/inspections', {
        params: { path: { site_id: site.value.id }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { kind, year, inspector_ids: inspectorIds },
      }),
    )
    await refresh()
  }

  async function nameInspectors(inspectionId: number, userIds: number[]): Promise<void> {
    await unwrap(
      sitesApi.client.PUT('/api/v1/inspections/{inspection_id}/inspectors', {
        params: { path: { inspection_id: inspectionId } },
        body: { user_ids: userIds },
      }),
    )
    await refresh()
  }

  /** Assessor accounts (GET /api/v1/assessors) to name as inspectors, by name or organisation. */
  async function searchInspectors(q = ''): Promise<Assessor[]> {
    const query = { q: q.trim() || undefined, limit: 50 }
    return (await unwrap(sitesApi.client.GET('/api/v1/assessors', { params: { query } }))).items
  }

  async function addPublicity(body: PublicityCreate): Promise<void> {
    if (!site.value) return
    await unwrap(
      sitesApi.client.POST('/api/v1/sites/{site_id}/publicity', {
        params: { path: { site_id: site.value.id }, header: { 'Idempotency-Key': idempotencyKey() } },
        body,
      }),
    )
    await refresh()
  }

  async function loadEvidence(rectificationId: number): Promise<void> {
    if (!site.value) return
    const data = await unwrap(
      sitesApi.client.GET('/api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence', {
        params: { path: { site_id: site.value.id, rectification_id: rectificationId } },
      }),
    )
    evidence.value = { ...evidence.value, [rectificationId]: data.items }
  }

  async function uploadEvidence(rectificationId: number, file: File): Promise<Evidence> {
    if (!site.value) throw new ApiError({ status: 0, code: 'not_found' })
    const saved = await unwrap(
      sitesApi.client.POST('/api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence', {
        params: {
          path: { site_id: site.value.id, rectification_id: rectificationId },
          header: { 'Idempotency-Key': idempotencyKey() },
        },
        body: fileForm(file, file.name) as never,
        bodySerializer: (body: unknown) => body as FormData,
      }),
    )
    await loadEvidence(rectificationId)
    return saved
  }

  return {
    site,
    inspections,
    rectifications,
    publicity,
    history,
    evidence,
    loading,
    error,
    openInspections,
    load,
    refresh,
    act,
    openInspection,
    nameInspectors,
    searchInspectors,
    addPublicity,
    loadEvidence,
    uploadEvidence,
  }
})
