// The creation workflow's data: rounds (and the one the pages work on), the quota board, meetings,
// and every call the workflow pages make. Actions throw ApiError with the server's problem.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'
import type {
  Action,
  Applicant,
  Application,
  ApplicationCreate,
  ApplicationSummaryPage,
  ApplicationQuery,
  ApplicationUpdate,
  Assessor,
  AssessorQuery,
  BatchTransitionRequest,
  HistoryEntry,
  Material,
  Meeting,
  MeetingCreate,
  Quota,
  Round,
  RoundStats,
  RoundUpdate,
  TransitionRequest,
} from './workflowTypes'

let client: ApiClient = defaultApi
/** Tests give the store a client over a fake fetch. */
export function useWorkflowClient(next: ApiClient): void {
  client = next
}

/** The round a tab works on (a UI preference, not data). */
export const ROUND_KEY = 'ds.workflowRound'

interface Result<T> {
  data?: T
  error?: unknown
  response: Response
}

/** Unwraps an openapi-fetch answer: the data, or an ApiError with the server's problem. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await call
  } catch {
    throw new ApiError(networkProblem())
  }
  if (result.data !== undefined && result.response.ok) return result.data
  throw new ApiError(toProblem(result.error, result.response))
}

function ifMatch(etag?: string | null): { headers?: Record<string, string> } {
  return etag ? { headers: { 'If-Match': etag } } : {}
}

export const useWorkflowStore = defineStore('workflow', () => {
  const rounds = ref<Round[]>([])
  const roundsLoaded = ref(false)
  const selectedRoundId = ref<number | null>(readStoredRound())
  const quotas = ref<Quota[]>([])
  const quotasRoundId = ref<number | null>(null)

  const round = computed<Round | null>(
    () => rounds.value.find((r) => r.id === selectedRoundId.value) ?? rounds.value[0] ?? null,
  )

  function readStoredRound(): number | null {
    try {
      const v = sessionStorage.getItem(ROUND_KEY)
      return v && /^\d+$/.test(v) ? Number(v) : null
    } catch {
      return null
    }
  }

  function selectRound(id: number): void {
    selectedRoundId.value = id
    try {
      sessionStorage.setItem(ROUND_KEY, String(id))
    } catch {
      // storage disabled: the choice holds for this page
    }
  }

  async function loadRounds(force = false): Promise<Round[]> {
    if (roundsLoaded.value && !force) return rounds.value
    const page = await unwrap(client.GET('/api/v1/rounds', { params: { query: { limit: 50 } } }))
    rounds.value = page.items
    roundsLoaded.value = true
    if (!page.items.some((r) => r.id === selectedRoundId.value)) selectedRoundId.value = page.items[0]?.id ?? null
    return page.items
  }

  async function getRound(id: number): Promise<Round> {
    const r = await unwrap(client.GET('/api/v1/rounds/{round_id}', { params: { path: { round_id: id } } }))
    const i = rounds.value.findIndex((x) => x.id === r.id)
    if (i >= 0) rounds.value[i] = r
    return r
  }

  async function updateRound(id: number, body: RoundUpdate): Promise<Round> {
    const r = await unwrap(client.PATCH('/api/v1/rounds/{round_id}', { params: { path: { round_id: id } }, body }))
    const i = rounds.value.findIndex((x) => x.id === r.id)
    if (i >= 0) rounds.value[i] = r
    return r
  }

  async function loadQuotas(roundId: number): Promise<Quota[]> {
    const page = await unwrap(client.GET('/api/v1/rounds/{round_id}/quotas', { params: { path: { round_id: roundId } } }))
    quotas.value = page.items
    quotasRoundId.value = roundId
    return page.items
  }

  async function updateQuota(roundId: number, quota: Quota, limit: number): Promise<Quota> {
    const q = await unwrap(
      client.PATCH('/api/v1/rounds/{round_id}/quotas/{quota_id}', {
        params: { path: { round_id: roundId, quota_id: quota.id } },
        body: { limit },
        headers: { 'If-Match': `W/"${quota.version}"` },
      }),
    )
    const i = quotas.value.findIndex((x) => x.id === q.id)
    if (i >= 0) quotas.value[i] = q
    return q
  }

  async function roundHistory(roundId: number): Promise<HistoryEntry[]> {
    const page = await unwrap(client.GET('/api/v1/rounds/{round_id}/history', { params: { path: { round_id: roundId } } }))
    return page.items
  }

  async function listMeetings(roundId: number): Promise<Meeting[]> {
    const page = await unwrap(
      client.GET('/api/v1/rounds/{round_id}/meetings', { params: { path: { round_id: roundId } } }),
    )
    return page.items
  }

  async function createMeeting(roundId: number, body: MeetingCreate): Promise<Meeting> {
    return unwrap(client.POST('/api/v1/rounds/{round_id}/meetings', { params: { path: { round_id: roundId } }, body }))
  }

  async function stats(roundId: number): Promise<RoundStats> {
    return unwrap(client.GET('/api/v1/rounds/{round_id}/stats', { params: { path: { round_id: roundId } } }))
  }

  async function listApplications(query: ApplicationQuery): Promise<ApplicationSummaryPage> {
    // Empty filters are left out rather than sent as "".
    const clean = Object.fromEntries(
      Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''),
    ) as ApplicationQuery
    return unwrap(client.GET('/api/v1/applications', { params: { query: clean } }))
  }

  async function getApplication(id: number): Promise<Application> {
    return unwrap(client.GET('/api/v1/applications/{application_id}', { params: { path: { application_id: id } } }))
  }

  async function createApplication(body: ApplicationCreate): Promise<Application> {
    return unwrap(client.POST('/api/v1/applications', { body }))
  }

  async function updateApplication(id: number, body: ApplicationUpdate, etag?: string): Promise<Application> {
    return unwrap(
      client.PATCH('/api/v1/applications/{application_id}', {
        params: { path: { application_id: id } },
        body,
        ...ifMatch(etag),
      }),
    )
  }

  async function transition(id: number, body: TransitionRequest, etag?: string): Promise<Application> {
    return unwrap(
      client.POST('/api/v1/applications/{application_id}/transitions', {
        params: { path: { application_id: id } },
        body,
        ...ifMatch(etag),
      }),
    )
  }

  async function transitionBatch(action: Action, ids: number[], extra: Omit<TransitionRequest, 'action'> = {}): Promise<Application[]> {
    const body: BatchTransitionRequest = { ...extra, action, application_ids: ids }
    const page = await unwrap(client.POST('/api/v1/applications/transitions', { body }))
    return page.items
  }

  async function history(id: number): Promise<HistoryEntry[]> {
    const page = await unwrap(
      client.GET('/api/v1/applications/{application_id}/history', { params: { path: { application_id: id } } }),
    )
    return page.items
  }

  async function materials(id: number): Promise<Material[]> {
    const page = await unwrap(
      client.GET('/api/v1/applications/{application_id}/materials', { params: { path: { application_id: id } } }),
    )
    return page.items
  }

  async function assignAssessors(id: number, userIds: number[], etag?: string): Promise<Application> {
    return unwrap(
      client.PUT('/api/v1/applications/{application_id}/assessors', {
        params: { path: { application_id: id } },
        body: { user_ids: userIds },
        ...ifMatch(etag),
      }),
    )
  }

  /** Active assessors with their organisations; with `application_id`, each says whether it
   * must stand aside (回避) for that application (the API's rule, never re-derived here). */
  async function listAssessors(query: AssessorQuery = {}): Promise<{ items: Assessor[]; total: number }> {
    return unwrap(client.GET('/api/v1/assessors', { params: { query: { limit: 200, ...query } } }))
  }

  /** 推荐单位 whose quota rules admit the applicant unit in the round (the API's eligibility). */
  async function recommendersFor(applicantId: number, roundId: number): Promise<Quota[]> {
    const page = await unwrap(
      client.GET('/api/v1/applicants/{applicant_id}/recommenders', {
        params: { path: { applicant_id: applicantId }, query: { round_id: roundId } },
      }),
    )
    return page.items
  }

  async function myApplicants(): Promise<Applicant[]> {
    const page = await unwrap(client.GET('/api/v1/applicants', { params: { query: { limit: 50 } } }))
    return page.items
  }

  return {
    rounds,
    round,
    selectedRoundId,
    quotas,
    quotasRoundId,
    selectRound,
    loadRounds,
    getRound,
    updateRound,
    loadQuotas,
    updateQuota,
    roundHistory,
    listMeetings,
    createMeeting,
    stats,
    listApplications,
    getApplication,
    createApplication,
    updateApplication,
    transition,
    transitionBatch,
    history,
    materials,
    assignAssessors,
    listAssessors,
    recommendersFor,
    myApplicants,
  }
})
