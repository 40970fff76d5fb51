// Pure helpers of the workflow pages: what to show for the API's answers. No business rule is
// decided here: the buttons come from `allowed_actions`, the refusals from the API.
import type { Action, Application, Assessor, AssessorRef, Quota, Status, FieldKind } from './workflowTypes'

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

/**
 * The assessment dialog's candidates: the assessors the API lists (each with its 回避 flag for
 * the application) and the application's current team members the list did not include (an
 * account deactivated since, or beyond the page), whose flag is then unknown (null).
 */
export function assessorCandidates(team: readonly AssessorRef[], listed: readonly Assessor[]): Assessor[] {
  const seen = new Set(listed.map((a) => a.user_id))
  const missing = team
    .filter((a) => !seen.has(a.user_id))
    .map((a): Assessor => ({ user_id: a.user_id, username: '', display_name: a.display_name, organization_id: a.organization_id, organization_name: a.organization_name, conflict_of_interest: null }))
  return [...missing, ...listed]
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
