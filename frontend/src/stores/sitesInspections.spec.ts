import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { fakeFetch, json, problem, type Handler } from '@/test/fakeApi'
import { sitesApi, type Inspection } from './sitesCommon'
import { emptyInspectionFilters, inspectionQuery, useInspectionsStore } from './sitesInspections'
import { areasForRole } from '@/navigation/areas'
import { routes } from '@/router'
import { campaignSummary, inspectorList, refusalText, yearChoices } from '@/pages/sites/inspectionFormat'

function setup(routes: Record<string, Handler>) {
  const fake = fakeFetch(routes)
  sitesApi.client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  return fake.requests
}

const ROW: Inspection = {
  id: 11, site_id: 2, site_name: '“邻里红管家”社区思政工作站', kind: 'review', year: 2026, inspector_ids: [],
  outcome: null, findings: null, inspected_on: null, recorded_at: null, created_at: '2026-03-01T08:00:00Z',
}

describe('yearly inspections store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('sends only the filters that are set; the state filter becomes recorded=true/false', async () => {
    const requests = setup({ 'GET /api/v1/inspections': () => json({ items: [ROW], total: 45 }) })
    const store = useInspectionsStore()
    Object.assign(store.filters, { year: 2026, kind: 'review', state: 'open', site_id: null })
    store.page = 3
    await store.load()

    const url = new URL(requests[0]!.url)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      year: '2026', kind: 'review', recorded: 'false', limit: '20', offset: '40',
    })
    expect(store.items).toEqual([ROW])
    expect(store.total).toBe(45)
    expect(inspectionQuery({ ...emptyInspectionFilters(null), state: 'recorded', site_id: 7 }, 1, 50)).toEqual({
      year: undefined, kind: undefined, recorded: true, site_id: 7, limit: 50, offset: 0,
    })
  })

  it('a failure keeps the problem for the page and empties the list; a new search starts at page 1', async () => {
    setup({ 'GET /api/v1/inspections': () => problem(403, 'forbidden') })
    const store = useInspectionsStore()
    store.page = 4
    await store.search()
    expect(store.page).toBe(1)
    expect(store.error?.code).toBe('forbidden')
    expect(store.items).toEqual([])
    expect(store.loading).toBe(false)
  })

  it('a page past the end goes back to the last page with rows', async () => {
    const requests = setup({
      'GET /api/v1/inspections': (req) =>
        new URL(req.url).searchParams.get('offset') === '40' ? json({ items: [], total: 25 }) : json({ items: [ROW], total: 25 }),
    })
    const store = useInspectionsStore()
    store.page = 3
    await store.load()
    expect(store.page).toBe(2)
    expect(new URL(requests[1]!.url).searchParams.get('offset')).toBe('20')
    expect(store.items).toHaveLength(1)
  })

  it('opens a campaign with an Idempotency-Key, then lists that year and kind from page 1', async () => {
    const requests = setup({
      'POST /api/v1/inspections/campaigns': () => json({ created: 6, skipped: 1, items: [ROW] }, 201),
      'GET /api/v1/inspections': () => json({ items: [ROW], total: 7 }),
    })
    const store = useInspectionsStore()
    store.filters.state = 'recorded'
    store.page = 2
    const result = await store.openCampaign('review', 2026, [7])

    const post = requests.find((r) => r.method === 'POST')!
    expect(post.headers.get('Idempotency-Key')).toBeTruthy()
    expect(await post.json()).toEqual({ kind: 'review', year: 2026, inspector_ids: [7] })
    expect(result.created).toBe(6)
    expect(store.filters).toMatchObject({ year: 2026, kind: 'review', state: null })
    expect(store.page).toBe(1)
    expect(store.total).toBe(7)
  })

  it('a refused campaign throws the problem and leaves the filters alone', async () => {
    const requests = setup({
      'POST /api/v1/inspections/campaigns': () =>
        problem(409, 'conflict_of_interest', { detail: '张三 belongs to the site / 张三 来自被检查单位，须回避' }),
    })
    const store = useInspectionsStore()
    store.filters.year = 2025
    const err = await store.openCampaign('inspection', 2026, [9]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('conflict_of_interest')
    expect(store.filters.year).toBe(2025)
    expect(requests.filter((r) => r.method === 'GET')).toHaveLength(0)
  })

  it('names inspectors of one row in place and remembers assessor names', async () => {
    setup({
      'GET /api/v1/inspections': () => json({ items: [ROW], total: 1 }),
      'PUT /api/v1/inspections/11/inspectors': () => json({ ...ROW, inspector_ids: [7] }),
      'GET /api/v1/assessors': () =>
        json({ items: [{ user_id: 7, username: 'cac', display_name: '王考核', organization_id: 3, organization_name: '省委网信办' }], total: 1 }),
    })
    const store = useInspectionsStore()
    await store.load()
    await store.loadInspectorNames()
    await store.nameInspectors(11, [7])
    expect(store.items[0]!.inspector_ids).toEqual([7])
    expect(inspectorList(store.items[0]!.inspector_ids, store.inspectorNames, '未指定')).toBe('省委网信办 王考核')
  })

  it('the site filter searches sites by name and keeps the chosen one among the options', async () => {
    const requests = setup({
      'GET /api/v1/sites': (req) =>
        json({
          items: new URL(req.url).searchParams.get('q') === '红'
            ? [{ id: 2, name: '“邻里红管家”社区思政工作站', city: '芜湖' }]
            : [{ id: 5, name: '“石关夜话”村民议事厅', city: '安庆' }],
          total: 1,
        }),
    })
    const store = useInspectionsStore()
    await store.searchSites(' 红 ')
    store.filters.site_id = 2
    await store.searchSites('石关')
    expect(new URL(requests[0]!.url).searchParams.get('q')).toBe('红')
    expect(store.siteOptions.map((s) => s.id)).toEqual([2, 5])
  })
})

describe('yearly inspections format', () => {
  it('offers this year back to the first round, newest first, at least three years', () => {
    expect(yearChoices(2026)).toEqual([2026, 2025, 2024, 2023, 2022])
    expect(yearChoices(2022)).toEqual([2022, 2021, 2020])
  })

  it("says what the campaign's answer means", () => {
    expect(campaignSummary({ created: 5, skipped: 0 }, 2026, 'inspection')).toEqual({
      type: 'success', key: 'opened', params: { created: 5, skipped: 0, year: 2026, kind: 'inspection' },
    })
    expect(campaignSummary({ created: 3, skipped: 2 }, 2026, 'review').key).toBe('openedSkipped')
    expect(campaignSummary({ created: 0, skipped: 7 }, 2026, 'review')).toMatchObject({ type: 'info', key: 'allOpened' })
    expect(campaignSummary({ created: 0, skipped: 0 }, 2026, 'review')).toMatchObject({ type: 'warning', key: 'noSites' })
  })

  it('names inspectors, an unknown id as #id, nobody as the given text', () => {
    expect(inspectorList([7, 12], { 7: '省委网信办 王考核' }, '未指定')).toBe('省委网信办 王考核、#12')
    expect(inspectorList([], {}, '未指定')).toBe('未指定')
  })

  it("adds the server's detail to a generic validation sentence, in the current language", () => {
    const p = { status: 422, code: 'validation_error', detail: '2027 has not begun / 2027 年尚未开始' }
    expect(refusalText('提交的内容不符合要求', p, 'zh-CN')).toBe('提交的内容不符合要求：2027 年尚未开始')
    expect(refusalText('Invalid input', p, 'en')).toBe('Invalid input: 2027 has not begun')
    const own = { status: 409, code: 'conflict_of_interest', detail: 'x / 须回避' }
    expect(refusalText('须回避', own, 'zh-CN')).toBe('须回避')
  })
})

describe('yearly inspections page in the navigation', () => {
  it('is in the office menu only, at /sites/inspections', () => {
    expect(areasForRole('office').map((a) => a.key)).toContain('site-inspections')
    expect(areasForRole('recommender').map((a) => a.key)).not.toContain('site-inspections')
    const layout = routes.find((r) => r.path === '/')!
    const page = layout.children!.find((r) => r.name === 'site-inspections')!
    expect(page.path).toBe('sites/inspections')
    expect(page.meta?.roles).toEqual(['office'])
  })
})
