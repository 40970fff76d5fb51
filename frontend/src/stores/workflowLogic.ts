// Pure helpers of the workflow pages: what to show for the API's answers. No business rule is
// decided here: the buttons come from `allowed_actions`, the refusals from the API.
import type { Action, Application, AssessorRef, Quota, Status, FieldKind, Applicant } from './workflowTypes'

export const FIELDS: readonly FieldKind[] = ['school', 'enterprise', 'community', 'rural']

/** How a page asks for what an action needs before sending it. */
export type ActionForm = 'none' | 'opinion' | 'assessment' | 'meeting' | 'meetingOpinion'

export interface ActionSpec {
  action: Action
  /** Element Plus button type. */
  type: 'primary' | 'success' | 'warning' | 'danger' | 'default'
  form: ActionForm
  /** The opinion must be filled in (the API refuses an empty one). */
  opinionRequired: boolean
}

const SPECS: Record<Action, Omit<ActionSpec, 'action'>> = {
  submit: { type: 'primary', form: 'none', opinionRequired: false },
  return: { type: 'warning', form: 'opinion', opinionRequired: true },
  decline: { type: 'danger', form: 'opinion', opinionRequired: true },
  recommend: { type: 'success', form: 'opinion', opinionRequired: true },
  withdraw: { type: 'warning', form: 'opinion', opinionRequired: false },
  pass_preliminary: { type: 'success', form: 'opinion', opinionRequired: true },
  fail_preliminary: { type: 'danger', form: 'opinion', opinionRequired: true },
  record_assessment: { type: 'primary', form: 'assessment', opinionRequired: true },
  propose: { type: 'success', form: 'opinion', opinionRequired: false },
  not_propose: { type: 'danger', form: 'opinion', opinionRequired: false },
  adopt: { type: 'success', form: 'meeting', opinionRequired: false },
  reject: { type: 'danger', form: 'meeting', opinionRequired: false },
  approve: { type: 'success', form: 'meetingOpinion', opinionRequired: true },
  disapprove: { type: 'danger', form: 'meetingOpinion', opinionRequired: true },
  award: { type: 'primary', form: 'none', opinionRequired: false },
  uphold_objection: { type: 'danger', form: 'opinion', opinionRequired: true },
}

/** The buttons for an application: exactly its `allowed_actions`, in the API's order. */
export function actionButtons(allowed: readonly Action[] | undefined, only?: readonly Action[]): ActionSpec[] {
  return (allowed ?? [])
    .filter((action) => action in SPECS && (!only || only.includes(action)))
    .map((action) => ({ action, ...SPECS[action] }))
}

export function actionSpec(action: Action): ActionSpec {
  return { action, ...SPECS[action] }
}

/** Actions every selected row allows (a batch button is offered only when all rows allow it). */
export function commonActions(rows: readonly Pick<Application, 'allowed_actions'>[]): Action[] {
  if (rows.length === 0) return []
  const [first, ...rest] = rows
  return first!.allowed_actions.filter((a) => rest.every((r) => r.allowed_actions.includes(a)))
}

/** The main path of an application's stages, for el-steps. */
export const STAGE_STEPS = ['draft', 'submitted', 'recommended', 'preliminary_passed', 'assessed', 'proposed', 'candidate', 'approved', 'awarded'] as const

/** Where an ended state leaves the main path: the step it failed at. */
const ENDED_AT: Partial<Record<Status, (typeof STAGE_STEPS)[number]>> = {
  not_recommended: 'recommended',
  preliminary_failed: 'preliminary_passed',
  not_proposed: 'proposed',
  review_rejected: 'candidate',
  approval_rejected: 'approved',
}

export interface StageProgress {
  /** Index of the active step in STAGE_STEPS. */
  active: number
  /** The application ended (refused) at the active step. */
  ended: boolean
  finished: boolean
}

export function stageProgress(status: Status): StageProgress {
  const endedAt = ENDED_AT[status]
  if (endedAt) return { active: STAGE_STEPS.indexOf(endedAt), ended: true, finished: false }
  const index = STAGE_STEPS.indexOf(status as (typeof STAGE_STEPS)[number])
  return { active: Math.max(index, 0), ended: false, finished: status === 'awarded' }
}

export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export function statusTagType(status: Status): TagType {
  if (ENDED_AT[status]) return 'danger'
  if (status === 'awarded' || status === 'approved') return 'success'
  if (status === 'draft') return 'info'
  if (status === 'submitted') return 'warning'
  return 'primary'
}

export interface QuotaCell {
  limit: number
  used: number
  left: number
}

export interface QuotaBoardRow {
  recommenderId: number
  recommenderName: string
  cells: Partial<Record<FieldKind, QuotaCell>>
  total: QuotaCell
}

/** The quota board as one row per recommender with a cell per field and the totals. */
export function quotaBoard(quotas: readonly Quota[], recommenderId?: number): QuotaBoardRow[] {
  const rows = new Map<number, QuotaBoardRow>()
  for (const q of quotas) {
    if (recommenderId !== undefined && q.recommender_id !== recommenderId) continue
    let row = rows.get(q.recommender_id)
    if (!row) {
      row = { recommenderId: q.recommender_id, recommenderName: q.recommender_name, cells: {}, total: { limit: 0, used: 0, left: 0 } }
      rows.set(q.recommender_id, row)
    }
    // `left` is the server's; never below zero on screen even if a limit was lowered.
    const cell = { limit: q.limit, used: q.used, left: Math.max(q.left, 0) }
    row.cells[q.field] = cell
    row.total.limit += cell.limit
    row.total.used += cell.used
    row.total.left += cell.left
  }
  return [...rows.values()]
}

/** Share of a quota used, 0–100, for a progress bar. */
export function usedPercent(cell: QuotaCell): number {
  if (cell.limit <= 0) return cell.used > 0 ? 100 : 0
  return Math.min(100, Math.round((cell.used / cell.limit) * 100))
}

export interface AssessorConflict {
  assessor: AssessorRef
  reason: 'recommender'
}

/**
 * Assessors who would be refused for conflict of interest (回避): their organisation is the
 * application's recommender. The API names assessors' organisations by name only, so the names
 * are compared (the API's own refusal stays the final word).
 */
export function assessorConflicts(
  application: Pick<Application, 'recommender'>,
  assessors: readonly AssessorRef[],
): AssessorConflict[] {
  const rec = application.recommender.name.trim()
  return assessors
    .filter((a) => a.organization_name.trim() === rec)
    .map((assessor) => ({ assessor, reason: 'recommender' as const }))
}

/** Distinct assessors named on any of the applications' teams, by user id. */
export function knownAssessors(applications: readonly Pick<Application, 'assessors'>[]): AssessorRef[] {
  const seen = new Map<number, AssessorRef>()
  for (const app of applications) for (const a of app.assessors) if (!seen.has(a.user_id)) seen.set(a.user_id, a)
  return [...seen.values()].sort((a, b) => a.organization_name.localeCompare(b.organization_name, 'zh-CN'))
}

/**
 * Recommenders offered to an applicant unit: those with a quota rule in the unit's field whose
 * eligibility admits it, read from the quota board's rules. A pre-selection only: the API checks
 * eligibility again when the application is filed (not_eligible).
 */
export function recommenderChoices(quotas: readonly Quota[], unit: Applicant): Quota[] {
  return quotas.filter((q) => q.field === unit.field && admitsHint(q, unit))
}

function admitsHint(q: Quota, unit: Applicant): boolean {
  const e = q.eligibility as {
    scope?: string
    kinds?: string[] | null
    exclude?: string[]
    provincial_university?: boolean | null
    ownership?: string[] | null
  }
  // The board names the recommender, not its city: a city department's name starts with it.
  if (e.scope === 'own_city' && !q.recommender_name.startsWith(unit.city)) return false
  if (e.kinds && !e.kinds.includes(unit.kind)) return false
  const isPU = unit.kind === 'university_unit' && unit.provincial_university
  const isSOE = unit.kind === 'enterprise' && unit.ownership === 'provincial_soe'
  const exclude = e.exclude ?? []
  if ((exclude.includes('provincial_university') && isPU) || (exclude.includes('provincial_soe') && isSOE)) return false
  if (e.provincial_university !== undefined && e.provincial_university !== null) {
    if (unit.kind !== 'university_unit' || unit.provincial_university !== e.provincial_university) return false
  }
  if (e.ownership && !(unit.kind === 'enterprise' && unit.ownership && e.ownership.includes(unit.ownership))) return false
  return true
}

/** Average of the four standards' scores, one decimal. */
export function averageScore(scores: { political: number; contemporary: number; effective: number; exemplary: number } | null | undefined): number | null {
  if (!scores) return null
  const sum = scores.political + scores.contemporary + scores.effective + scores.exemplary
  return Math.round((sum / 4) * 10) / 10
}

/** Today's date as YYYY-MM-DD in Beijing (the server's calendar). */
export function beijingToday(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
}
