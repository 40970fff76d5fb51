// The work ledger's units (lazy tree) and plans: templates, a unit's plans, one plan's sections,
// items and targets; creating a plan from the seed-003 template, last year's plan, or blank.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError } from '@/api/problem'
import type { components } from '@/api/schema'
import { idempotencyKey, sitesApi, unwrap } from './sitesCommon'

type S = components['schemas']
export type LedgerUnit = S['UnitRead']
export type Plan = S['PlanRead']
export type PlanDetail = S['PlanDetail']
export type PlanItem = S['ItemRead']
export type PlanTemplate = S['TemplateRead']
export type PlanCreate = S['PlanCreate']

export interface PlanGroup {
  key: string
  title: string | null
  items: PlanItem[]
}

/** Items grouped under their sections in plan order; items without a section come last. */
export function groupItems(plan: PlanDetail): PlanGroup[] {
  const groups: PlanGroup[] = [...plan.sections]
    .sort((a, b) => a.position - b.position)
    .map((s) => ({ key: `s${s.id}`, title: s.title, items: [] }))
  const bySection = new Map(plan.sections.map((s, i) => [s.id, i]))
  const loose: PlanItem[] = []
  for (const item of [...plan.items].sort((a, b) => a.position - b.position)) {
    const index = item.section_id === null ? undefined : bySection.get(item.section_id)
    const sorted = index === undefined ? undefined : groups.find((g) => g.key === `s${item.section_id}`)
    if (sorted) sorted.items.push(item)
    else loose.push(item)
  }
  if (loose.length) groups.push({ key: 'loose', title: null, items: loose })
  return groups.filter((g) => g.items.length || g.title)
}

export const useLedgerStore = defineStore('ledger', () => {
  const selected = ref<LedgerUnit | null>(null)
  const templates = ref<PlanTemplate[]>([])
  const plans = ref<Plan[]>([])
  const plansLoading = ref(false)
  const plansError = ref<ApiError | null>(null)
  const planDetails = ref<Record<number, PlanDetail>>({})

  /** Children of a unit, or the caller's top units (null). Throws ApiError. */
  async function children(parentId: number | null): Promise<LedgerUnit[]> {
    const data = await unwrap(
      sitesApi.client.GET('/api/v1/ledger/units', {
        params: { query: { parent_id: parentId ?? undefined, limit: 200 } },
      }),
    )
    return data.items
  }

  async function loadTemplates(): Promise<void> {
    if (templates.value.length) return
    templates.value = (await unwrap(sitesApi.client.GET('/api/v1/ledger/templates'))).items
  }

  /** Plans that apply to a unit: its own and those of the units above it (a community works to
   * its street's plan), newest year first — one request, the API resolves the ancestors. */
  async function applicablePlans(unit: LedgerUnit): Promise<Plan[]> {
    const page = await unwrap(
      sitesApi.client.GET('/api/v1/ledger/plans', { params: { query: { applicable_to: unit.id, limit: 200 } } }),
    )
    return page.items
  }

  async function loadPlans(unit: LedgerUnit): Promise<void> {
    plansLoading.value = true
    plansError.value = null
    try {
      plans.value = await applicablePlans(unit)
    } catch (err) {
      plansError.value = err instanceof ApiError ? err : null
      plans.value = []
    } finally {
      plansLoading.value = false
    }
  }

  async function loadPlan(planId: number, force = false): Promise<PlanDetail> {
    const cached = planDetails.value[planId]
    if (cached && !force) return cached
    const detail = await unwrap(
      sitesApi.client.GET('/api/v1/ledger/plans/{plan_id}', { params: { path: { plan_id: planId } } }),
    )
    planDetails.value = { ...planDetails.value, [planId]: detail }
    return detail
  }

  async function createPlan(body: PlanCreate): Promise<PlanDetail> {
    const plan = await unwrap(
      sitesApi.client.POST('/api/v1/ledger/plans', {
        params: { header: { 'Idempotency-Key': idempotencyKey() } },
        body,
      }),
    )
    planDetails.value = { ...planDetails.value, [plan.id]: plan }
    if (selected.value) await loadPlans(selected.value)
    return plan
  }

  function select(unit: LedgerUnit | null): void {
    selected.value = unit
  }

  return {
    selected,
    templates,
    plans,
    plansLoading,
    plansError,
    planDetails,
    children,
    loadTemplates,
    loadPlans,
    applicablePlans,
    loadPlan,
    createPlan,
    select,
  }
})
