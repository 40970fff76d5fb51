// The office's 公示 (public notice) of a round: open it, switch it off or on, see the objections
// (异议) and record each one's investigation and result.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError } from '@/api/problem'
import { idempotencyKey, sitesApi, unwrap, type Notice, type Objection, type ObjectionStatus } from './sitesCommon'

export const useSiteNoticeStore = defineStore('siteNotice', () => {
  const roundId = ref<number | null>(null)
  const notice = ref<Notice | null>(null)
  /** The round has no notice yet (404): the page offers to open one. */
  const missing = ref(false)
  const objections = ref<Objection[]>([])
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  async function loadObjections(): Promise<void> {
    if (roundId.value === null) return
    const data = await unwrap(
      sitesApi.client.GET('/api/v1/rounds/{round_id}/public-notice/objections', {
        params: { path: { round_id: roundId.value } },
      }),
    )
    objections.value = data.items
  }

  async function load(id: number): Promise<void> {
    roundId.value = id
    loading.value = true
    error.value = null
    missing.value = false
    notice.value = null
    objections.value = []
    try {
      notice.value = await unwrap(
        sitesApi.client.GET('/api/v1/rounds/{round_id}/public-notice', { params: { path: { round_id: id } } }),
      )
      await loadObjections()
    } catch (err) {
      const apiError = err instanceof ApiError ? err : null
      if (apiError?.status === 404) missing.value = true
      else error.value = apiError
    } finally {
      loading.value = false
    }
  }

  async function open(workingDays: number, startsOn: string | null): Promise<void> {
    if (roundId.value === null) return
    notice.value = await unwrap(
      sitesApi.client.POST('/api/v1/rounds/{round_id}/public-notice', {
        params: { path: { round_id: roundId.value }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { working_days: workingDays, starts_on: startsOn },
      }),
    )
    missing.value = false
    await loadObjections()
  }

  async function setEnabled(enabled: boolean, reason: string): Promise<void> {
    if (roundId.value === null) return
    notice.value = await unwrap(
      sitesApi.client.PATCH('/api/v1/rounds/{round_id}/public-notice', {
        params: { path: { round_id: roundId.value } },
        body: { enabled, reason },
      }),
    )
  }

  async function decide(objectionId: number, result: Exclude<ObjectionStatus, 'open'>, investigation: string) {
    await unwrap(
      sitesApi.client.POST('/api/v1/objections/{objection_id}/result', {
        params: { path: { objection_id: objectionId }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { result, investigation },
      }),
    )
    if (roundId.value !== null) await load(roundId.value)
  }

  return { roundId, notice, missing, objections, loading, error, load, open, setEnabled, decide, loadObjections }
})
