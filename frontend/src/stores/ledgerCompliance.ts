// Compliance of a unit's subtree: the month × unit grid, the roll-up, what is due soon or
// overdue, and the monthly trend.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError } from '@/api/problem'
import type { components } from '@/api/schema'
import { sitesApi, unwrap } from './sitesCommon'

type S = components['schemas']
export type Grid = S['Grid']
export type Rollup = S['Rollup']
export type Trend = S['Trend']
export type ComplianceRow = S['ComplianceRow']
export type DueWhich = 'all' | 'due_soon' | 'overdue'

export const useLedgerComplianceStore = defineStore('ledgerCompliance', () => {
  const unitId = ref<number | null>(null)
  const year = ref(new Date().getFullYear())
  const month = ref(new Date().getMonth() + 1)
  const which = ref<DueWhich>('all')

  const grid = ref<Grid | null>(null)
  const rollup = ref<Rollup | null>(null)
  const trend = ref<Trend | null>(null)
  const due = ref<ComplianceRow[]>([])
  const dueTotal = ref(0)
  const duePage = ref(1)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  async function loadDue(): Promise<void> {
    if (unitId.value === null) return
    const data = await unwrap(
      sitesApi.client.GET('/api/v1/ledger/compliance/due', {
        params: {
          query: {
            unit_id: unitId.value,
            year: year.value,
            which: which.value,
            within_days: 14,
            limit: 10,
            offset: (duePage.value - 1) * 10,
          },
        },
      }),
    )
    due.value = data.items
    dueTotal.value = data.total
  }

  async function loadRollup(): Promise<void> {
    if (unitId.value === null) return
    rollup.value = await unwrap(
      sitesApi.client.GET('/api/v1/ledger/compliance/rollup', {
        params: { query: { unit_id: unitId.value, year: year.value, month: month.value, period_kind: 'month' } },
      }),
    )
  }

  async function load(): Promise<void> {
    if (unitId.value === null) return
    const query = { unit_id: unitId.value, year: year.value }
    loading.value = true
    error.value = null
    try {
      const [g, tr] = await Promise.all([
        unwrap(sitesApi.client.GET('/api/v1/ledger/compliance/grid', { params: { query } })),
        unwrap(sitesApi.client.GET('/api/v1/ledger/compliance/trend', { params: { query } })),
        loadRollup(),
        loadDue(),
      ])
      grid.value = g
      trend.value = tr
    } catch (err) {
      error.value = err instanceof ApiError ? err : null
    } finally {
      loading.value = false
    }
  }

  function forUnit(id: number): Promise<void> {
    unitId.value = id
    duePage.value = 1
    return load()
  }

  return {
    unitId,
    year,
    month,
    which,
    grid,
    rollup,
    trend,
    due,
    dueTotal,
    duePage,
    loading,
    error,
    load,
    loadDue,
    loadRollup,
    forUnit,
  }
})
