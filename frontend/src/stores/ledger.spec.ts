import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { fakeFetch, json, problem, type Handler } from '@/test/fakeApi'
import { sitesApi } from './sitesCommon'
import { groupItems, useLedgerStore, type LedgerUnit, type PlanDetail } from './ledger'
import { useLedgerEntriesStore } from './ledgerEntries'
import { useLedgerComplianceStore } from './ledgerCompliance'

function setup(routes: Record<string, Handler>) {
  const fake = fakeFetch(routes)
  sitesApi.client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  return fake.requests
}

const COMMUNITY: LedgerUnit = {
  id: 23, parent_id: 5, name: '新时代社区', level: 'community', city: '合肥', organization_id: null,
  path: '/1/5/23/', depth: 2, child_count: 0,
}

describe('ledger plans', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it("a community's plans include its street's plan (plans apply downwards)", async () => {
    const plan = (id: number, unit_id: number, year: number) => ({ id, unit_id, unit_name: '', year, title: `p${id}`, source: null, created_at: '' })
    const requests = setup({
      'GET /api/v1/ledger/plans': () => json({ items: [plan(7, 5, 2026), plan(9, 23, 2025)], total: 2 }),
    })
    const store = useLedgerStore()
    await store.loadPlans(COMMUNITY)
    // One request: the API answers the unit's own plans and its ancestors' (applicable_to).
    expect(requests).toHaveLength(1)
    expect(new URL(requests[0]!.url).searchParams.get('applicable_to')).toBe(String(COMMUNITY.id))
    expect(store.plans.map((p) => p.id)).toEqual([7, 9])
  })

  it('groups items under their sections in order, loose items last', () => {
    const item = (id: number, section_id: number | null, position: number) =>
      ({ id, plan_id: 1, section_id, position, code: null, title: `i${id}`, description: null, targets: [] })
    const plan = {
      id: 1, unit_id: 5, unit_name: '', year: 2026, title: '', source: null, created_at: '',
      sections: [ { id: 11, plan_id: 1, position: 2, title: '二、' }, { id: 10, plan_id: 1, position: 1, title: '一、' } ],
      items: [item(1, 11, 0), item(2, 10, 1), item(3, 10, 0), item(4, null, 0)],
    } as PlanDetail
    expect(groupItems(plan).map((g) => [g.title, g.items.map((i) => i.id)])).toEqual([
      ['一、', [3, 2]],
      ['二、', [1]],
      [null, [4]],
    ])
  })
})

describe('ledger entries', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('lists a unit with its sub-units, filters and paging', async () => {
    const requests = setup({ 'GET /api/v1/ledger/entries': () => json({ items: [], total: 0 }) })
    const store = useLedgerEntriesStore()
    store.filters.dates = ['2026-09-01', '2026-09-30']
    await store.forUnit(23)
    expect(Object.fromEntries(new URL(requests[0]!.url).searchParams)).toEqual({
      unit_id: '23', subtree: 'true', date_from: '2026-09-01', date_to: '2026-09-30', limit: '20', offset: '0',
    })
  })

  it('records an entry, then uploads each file to it', async () => {
    const requests = setup({
      'POST /api/v1/ledger/entries': () => json({ id: 77 }, 201),
      'POST /api/v1/ledger/entries/77/attachments': () => json({ id: 1 }, 201),
      'GET /api/v1/ledger/entries': () => json({ items: [], total: 0 }),
    })
    const store = useLedgerEntriesStore()
    store.unitId = 23
    const result = await store.record(
      { unit_id: 23, item_id: 4, entry_date: '2026-09-05', title: '网络安全宣传周' },
      [new File(['x'], 'photo.png', { type: 'image/png' })],
    )
    expect(result.uploaded).toBe(1)
    const upload = requests.find((r) => r.url.endsWith('/attachments'))!
    expect(upload.headers.get('Content-Type')).toContain('multipart/form-data')
  })

  it('a refused import throws the problem with its row errors', async () => {
    setup({
      'POST /api/v1/ledger/plans/7/import': () =>
        problem(422, 'ledger_invalid', { errors: [{ loc: ['row', '2', 'C:日期'], msg: 'x', type: 'ledger_invalid', row: 2, column: 'C:日期', message: 'x / 日期有误' }] }),
    })
    const store = useLedgerEntriesStore()
    const err = (await store.importExcel(7, new File(['x'], 'a.xlsx')).catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.problem.errors).toHaveLength(1)
  })
})

describe('ledger compliance', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('loads grid, trend, roll-up and due list of the unit and year', async () => {
    const requests = setup({
      'GET /api/v1/ledger/compliance/grid': () => json({ unit_id: 5, year: 2026, rows: [] }),
      'GET /api/v1/ledger/compliance/trend': () => json({ unit_id: 5, year: 2026, points: [] }),
      'GET /api/v1/ledger/compliance/rollup': () => json({ unit_id: 5, year: 2026, period: '2026-09', overall: {}, groups: [] }),
      'GET /api/v1/ledger/compliance/due': () => json({ items: [], total: 0, summary: {} }),
    })
    const store = useLedgerComplianceStore()
    store.year = 2026
    store.month = 9
    await store.forUnit(5)
    expect(store.error).toBeNull()
    expect(store.grid?.year).toBe(2026)
    const rollup = requests.find((r) => r.url.includes('rollup'))!
    expect(new URL(rollup.url).searchParams.get('month')).toBe('9')
  })
})
