import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { fakeFetch, json, problem, type Handler } from '@/test/fakeApi'
import { sitesApi, type Site } from './sitesCommon'
import { siteQuery, useSitesStore } from './sites'
import { useSiteDetailStore } from './sitesDetail'
import { useSiteNoticeStore } from './sitesNotice'
import { usePlaqueStore, usePublicNoticesStore, usePublicSitesStore } from './sitesPublic'

function setup(routes: Record<string, Handler>) {
  const fake = fakeFetch(routes)
  sitesApi.client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  return fake.requests
}

const SITE: Site = {
  id: 2, application_id: 9, round_id: 1, applicant_id: 3, organization_id: 34,
  name: '“邻里红管家”社区思政工作站', unit_name: '芜湖市镜湖区范罗山社区', field: 'community', city: '芜湖',
  summary: '……', plaque_no: '皖思政示范〔2025〕002号', awarded_on: '2025-11-28', status: 'active',
  delist_reason: null, delisted_on: null, open_rectification: null, allowed_actions: ['pass', 'rectify', 'delist'],
  version: 3, etag: 'W/"3"', created_at: '2025-11-28T00:00:00Z', updated_at: '2025-11-28T00:00:00Z',
}
const empty = () => json({ items: [], total: 0 })

describe('sites list store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('sends only the filters that are set, with limit/offset of the page', async () => {
    const requests = setup({ 'GET /api/v1/sites': () => json({ items: [SITE], total: 41 }) })
    const store = useSitesStore()
    store.filters.city = '芜湖'
    store.filters.status = 'rectifying'
    store.page = 3
    await store.load()

    const url = new URL(requests[0]!.url)
    expect(Object.fromEntries(url.searchParams)).toEqual({ city: '芜湖', status: 'rectifying', limit: '20', offset: '40' })
    expect(store.items).toHaveLength(1)
    expect(store.total).toBe(41)
    expect(siteQuery({ round_id: 2, city: null, field: null, status: null, q: '  ' }, 1, 10)).toMatchObject({
      round_id: 2, q: undefined, offset: 0,
    })
  })

  it('a new search starts at page 1; a failure keeps the problem for the page', async () => {
    setup({ 'GET /api/v1/sites': () => problem(403, 'forbidden') })
    const store = useSitesStore()
    store.page = 4
    await store.search()
    expect(store.page).toBe(1)
    expect(store.error?.code).toBe('forbidden')
    expect(store.items).toEqual([])
  })
})

describe('site detail store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  const parts = {
    'GET /api/v1/sites/2/inspections': () =>
      json({ items: [
        { id: 5, site_id: 2, site_name: '', kind: 'inspection', year: 2026, inspector_ids: [], outcome: null, findings: null, inspected_on: null, recorded_at: null, created_at: '' },
        { id: 4, site_id: 2, site_name: '', kind: 'review', year: 2025, inspector_ids: [], outcome: 'pass', findings: null, inspected_on: null, recorded_at: null, created_at: '' },
      ], total: 2 }),
    'GET /api/v1/sites/2/rectifications': empty,
    'GET /api/v1/sites/2/publicity': empty,
    'GET /api/v1/sites/2/history': empty,
  }

  it('loads the site and its parts; open inspections are those without outcome', async () => {
    setup({ 'GET /api/v1/sites/2': () => json(SITE), ...parts })
    const store = useSiteDetailStore()
    await store.load(2)
    expect(store.site?.plaque_no).toBe('皖思政示范〔2025〕002号')
    expect(store.openInspections.map((i) => i.id)).toEqual([5])
  })

  it('sends an action with the ETag seen (If-Match) and an Idempotency-Key', async () => {
    const requests = setup({
      'GET /api/v1/sites/2': () => json(SITE),
      'POST /api/v1/sites/2/transitions': () => json({ ...SITE, status: 'rectifying', version: 4, etag: 'W/"4"' }),
      ...parts,
    })
    const store = useSiteDetailStore()
    await store.load(2)
    await store.act({ action: 'rectify', inspection_id: 5, findings: '台账不全', deadline: '2026-12-31' })

    const post = requests.find((r) => r.method === 'POST')!
    expect(post.headers.get('If-Match')).toBe('W/"3"')
    expect(post.headers.get('Idempotency-Key')).toBeTruthy()
    expect(await post.json()).toMatchObject({ action: 'rectify', deadline: '2026-12-31', inspection_id: 5 })
    expect(store.site?.status).toBe('rectifying')
  })

  it('a refused action throws the problem and keeps the site', async () => {
    setup({
      'GET /api/v1/sites/2': () => json(SITE),
      'POST /api/v1/sites/2/transitions': () =>
        problem(422, 'invalid_deadline', { detail: 'The deadline must be after today / 整改期限须晚于今天' }),
      ...parts,
    })
    const store = useSiteDetailStore()
    await store.load(2)
    const err = await store.act({ action: 'rectify' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('invalid_deadline')
    expect(store.site?.version).toBe(3)
  })
})

describe('public notice (office)', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('a round without a notice is "missing", not an error', async () => {
    setup({ 'GET /api/v1/rounds/1/public-notice': () => problem(404, 'notice_not_found') })
    const store = useSiteNoticeStore()
    await store.load(1)
    expect(store.missing).toBe(true)
    expect(store.error).toBeNull()
  })
})

describe('public pages', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('takes the round filter from the public rounds endpoint, as the API orders it', async () => {
    const rounds = [
      { id: 2, year: 2025, name: '2025年度示范点创建', sites: 7 },
      { id: 1, year: 2022, name: '2022年度示范点创建', sites: 3 },
    ]
    const requests = setup({ 'GET /api/v1/public/rounds': () => json({ items: rounds, total: 2 }) })
    const store = usePublicSitesStore()
    await store.loadRoundOptions()
    expect(store.roundOptions).toEqual(rounds)
    expect(requests).toHaveLength(1)
  })

  it('lists published sites with paging', async () => {
    const requests = setup({ 'GET /api/v1/public/sites': () => json({ items: [], total: 0 }) })
    const store = usePublicSitesStore()
    store.filters.field = 'rural'
    await store.search()
    expect(new URL(requests[0]!.url).searchParams.get('field')).toBe('rural')
  })

  it('encodes a plaque number with Chinese and 〔〕 into the path; 404 means not found', async () => {
    const requests = setup({})
    const store = usePlaqueStore()
    await store.verify('皖思政示范〔2025〕099号')
    expect(new URL(requests[0]!.url).pathname).toBe(`/api/v1/public/plaques/${encodeURIComponent('皖思政示范〔2025〕099号')}`)
    expect(store.notFound).toBe(true)
    expect(store.error).toBeNull()
  })

  it('an objection refused by the rate limit carries the time to wait', async () => {
    setup({
      'POST /api/v1/public/notices/1/objections': () =>
        problem(429, 'objection_rate_limited', {}, { 'Retry-After': '120' }),
    })
    const store = usePublicNoticesStore()
    const err = (await store
      .object(1, { application_id: 3, name: '张三', contact: '13800000000', content: '事迹不属实。' })
      .catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(429)
    expect(err.problem.retryAfter).toBe(120)
  })
})
