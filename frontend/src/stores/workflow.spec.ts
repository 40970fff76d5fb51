import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { nextTick } from 'vue'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { fakeFetch, json, problem, type Handler } from '@/test/fakeApi'
import { useWorkflowClient, useWorkflowStore } from './workflow'
import { useApplicationList } from './workflowList'
import { uploadMaterial } from './workflowUpload'
import type { Application, Quota, Round } from './workflowTypes'

const ROUND = { id: 2, year: 2026, name: '2026年度安徽省基层思想政治工作示范点创建', current_phase: 'application' } as Round

function app(id: number, extra: Partial<Application> = {}): Application {
  return { id, name: `申报${id}`, status: 'submitted', allowed_actions: ['recommend'], etag: 'W/"3"', ...extra } as Application
}

function setup(routes: Record<string, Handler>) {
  const fake = fakeFetch(routes)
  useWorkflowClient(createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }))
  return { store: useWorkflowStore(), requests: fake.requests }
}

describe('workflow store', () => {
  beforeEach(() => {
    sessionStorage.clear()
    setActivePinia(createPinia())
  })

  it('loads rounds and works on the newest unless one was chosen in this tab', async () => {
    const older = { ...ROUND, id: 1, year: 2025 }
    const { store } = setup({ 'GET /api/v1/rounds': () => json({ items: [ROUND, older], total: 2 }) })
    await store.loadRounds()
    expect(store.round?.id).toBe(2)
    store.selectRound(1)
    expect(store.round?.year).toBe(2025)
    expect(sessionStorage.getItem('ds.workflowRound')).toBe('1')
  })

  it('sends filters and paging, leaving empty filters out', async () => {
    const { store, requests } = setup({ 'GET /api/v1/applications': () => json({ items: [app(1)], total: 41 }) })
    const page = await store.listApplications({ round_id: 2, status: 'submitted', q: '', limit: 20, offset: 40 })
    expect(page.total).toBe(41)
    const url = new URL(requests[0]!.url)
    expect(Object.fromEntries(url.searchParams)).toEqual({ round_id: '2', status: 'submitted', limit: '20', offset: '40' })
  })

  it('sends a transition with the ETag it read (If-Match)', async () => {
    const { store, requests } = setup({
      'POST /api/v1/applications/5/transitions': () => json(app(5, { status: 'recommended', allowed_actions: ['withdraw'] })),
    })
    const done = await store.transition(5, { action: 'recommend', opinion: '同意推荐。' }, 'W/"3"')
    expect(done.status).toBe('recommended')
    expect(requests[0]!.headers.get('If-Match')).toBe('W/"3"')
    expect(await requests[0]!.json()).toEqual({ action: 'recommend', opinion: '同意推荐。' })
  })

  it('turns a refused recommend into an ApiError with the problem code', async () => {
    const { store } = setup({
      'POST /api/v1/applications/6/transitions': () =>
        problem(409, 'quota_exceeded', { title: "The recommender's quota is used up / 推荐名额已用完" }),
    })
    const err = await store.transition(6, { action: 'recommend', opinion: '同意' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('quota_exceeded')
    expect((err as ApiError).status).toBe(409)
  })

  it('sends a batch to the batch endpoint, all ids in one request', async () => {
    const { store, requests } = setup({
      'POST /api/v1/applications/transitions': () => json({ items: [app(1), app(2)], total: 2 }),
    })
    const done = await store.transitionBatch('pass_preliminary', [1, 2], { opinion: '符合申报条件' })
    expect(done).toHaveLength(2)
    expect(await requests[0]!.json()).toEqual({ action: 'pass_preliminary', application_ids: [1, 2], opinion: '符合申报条件' })
  })

  it('changes a quota limit with the rule’s version as If-Match', async () => {
    const q = { id: 9, version: 4, limit: 1 } as Quota
    const { store, requests } = setup({
      'PATCH /api/v1/rounds/2/quotas/9': () => json({ ...q, limit: 2, version: 5 }),
    })
    const updated = await store.updateQuota(2, q, 2)
    expect(updated.limit).toBe(2)
    expect(requests[0]!.headers.get('If-Match')).toBe('W/"4"')
  })

  it('names the assessment team with PUT', async () => {
    const { store, requests } = setup({ 'PUT /api/v1/applications/3/assessors': () => json(app(3)) })
    await store.assignAssessors(3, [7, 9], 'W/"2"')
    expect(await requests[0]!.json()).toEqual({ user_ids: [7, 9] })
    expect(requests[0]!.method).toBe('PUT')
  })

  it('reports an unreachable server as network_error', async () => {
    useWorkflowClient(createApiClient({ baseUrl: 'http://test', fetch: () => Promise.reject(new TypeError('offline')) }))
    const err = await useWorkflowStore().getApplication(1).catch((e: unknown) => e)
    expect((err as ApiError).code).toBe('network_error')
  })
})

describe('asking the API instead of re-deriving its rules', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('asks which 推荐单位 admit the applicant unit in the round', async () => {
    const hefei = { id: 1, recommender_id: 11, recommender_name: '合肥市委宣传部', field: 'school', limit: 1, used: 0, left: 1 } as Quota
    const { store, requests } = setup({ 'GET /api/v1/applicants/27/recommenders': () => json({ items: [hefei], total: 1 }) })
    expect(await store.recommendersFor(27, 2)).toEqual([hefei])
    expect(new URL(requests[0]!.url).searchParams.get('round_id')).toBe('2')
  })

  it('lists assessors for an application so the API says who must stand aside (回避)', async () => {
    const { store, requests } = setup({ 'GET /api/v1/assessors': () => json({ items: [], total: 0 }) })
    await store.listAssessors({ application_id: 4, q: '网信' })
    const query = new URL(requests[0]!.url).searchParams
    expect([query.get('application_id'), query.get('q'), query.get('limit')]).toEqual(['4', '网信', '200'])
  })
})

describe('paged application list', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('searches from the first page and pages with limit/offset', async () => {
    const { requests } = setup({ 'GET /api/v1/applications': () => json({ items: [app(1)], total: 45 }) })
    const list = useApplicationList(() => ({ round_id: 2 }), { status: 'submitted' }, 20)
    await list.load()
    expect(list.total.value).toBe(45)
    list.page.value = 3
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
    expect(new URL(requests.at(-1)!.url).searchParams.get('offset')).toBe('40')
    list.filters.q = ' 红领巾 '
    list.search()
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
    const last = new URL(requests.at(-1)!.url).searchParams
    expect(last.get('offset')).toBe('0')
    expect(last.get('q')).toBe('红领巾')
    expect(last.get('status')).toBe('submitted')
  })

  it('keeps the error to show with a retry', async () => {
    setup({ 'GET /api/v1/applications': () => problem(500, 'server_error') })
    const list = useApplicationList(() => ({}))
    await list.load()
    expect(list.error.value?.status).toBe(500)
    expect(list.loading.value).toBe(false)
  })
})

class FakeXhr {
  static last: FakeXhr
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  status = 0
  responseText = ''
  withCredentials = false
  headers: Record<string, string> = {}
  method = ''
  url = ''
  body: FormData | null = null
  constructor() {
    FakeXhr.last = this
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v
  }
  send(body: FormData) {
    this.body = body
  }
}

describe('material upload', () => {
  it('reports progress and resolves with the stored material; sends the CSRF header', async () => {
    document.cookie = 'ds_csrf=tok123'
    const seen: number[] = []
    const file = new File(['%PDF-1.4'], '事迹.pdf', { type: 'application/pdf' })
    const done = uploadMaterial(4, file, 'deeds', (p) => seen.push(p), () => new FakeXhr() as unknown as XMLHttpRequest)
    const xhr = FakeXhr.last
    expect(xhr.url).toBe('/api/v1/applications/4/materials')
    expect(xhr.headers['X-CSRF-Token']).toBe('tok123')
    expect(xhr.body?.get('purpose')).toBe('deeds')
    xhr.upload.onprogress!({ lengthComputable: true, loaded: 50, total: 100 })
    xhr.status = 201
    xhr.responseText = JSON.stringify({ id: 1, filename: '事迹.pdf' })
    xhr.onload!()
    expect((await done).filename).toBe('事迹.pdf')
    expect(seen).toEqual([50, 100])
  })

  it('rejects with the server’s problem (e.g. a file judged by content)', async () => {
    const file = new File(['x'], 'a.pdf')
    const done = uploadMaterial(4, file, 'deeds', undefined, () => new FakeXhr() as unknown as XMLHttpRequest)
    const xhr = FakeXhr.last
    xhr.status = 422
    xhr.responseText = JSON.stringify({ status: 422, code: 'validation_error', detail: 'Not a PDF / 不是PDF文件' })
    xhr.onload!()
    const err = (await done.catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('validation_error')
    expect(err.problem.detail).toBe('Not a PDF / 不是PDF文件')
  })
})
