// Presentation of after-award states: tag colours and day counts. No business rule lives here:
// what may be done is the API's allowed_actions.
import type { ObjectionStatus, SiteAction, SiteStatus } from '@/stores/sitesCommon'

export type TagType = 'success' | 'warning' | 'danger' | 'info' | 'primary'

const SITE_STATUS_TAG: Record<SiteStatus, TagType> = {
  active: 'success',
  rectifying: 'warning',
  delisted: 'danger',
}

export function siteStatusTag(status: string): TagType {
  return SITE_STATUS_TAG[status as SiteStatus] ?? 'info'
}

const RECTIFICATION_TAG: Record<string, TagType> = {
  open: 'warning',
  submitted: 'primary',
  refused: 'danger',
  accepted: 'success',
  failed: 'info',
}

export function rectificationTag(status: string): TagType {
  return RECTIFICATION_TAG[status] ?? 'info'
}

const OUTCOME_TAG: Record<string, TagType> = { pass: 'success', rectify: 'warning', delist: 'danger' }

export function outcomeTag(outcome: string | null): TagType {
  return outcome ? (OUTCOME_TAG[outcome] ?? 'info') : 'info'
}

const OBJECTION_TAG: Record<ObjectionStatus, TagType> = { open: 'warning', upheld: 'danger', dismissed: 'success' }

export function objectionTag(status: string): TagType {
  return OBJECTION_TAG[status as ObjectionStatus] ?? 'info'
}

/** Button style of each action: the destructive ones stand out. */
const ACTION_BUTTON: Record<SiteAction, TagType> = {
  pass: 'success',
  rectify: 'warning',
  submit_report: 'primary',
  accept_report: 'success',
  refuse_report: 'warning',
  delist: 'danger',
  confirm: 'primary',
}

export function actionButton(action: string): TagType {
  return ACTION_BUTTON[action as SiteAction] ?? 'primary'
}

/** The order actions are offered in, whatever order the API lists them. */
export const ACTION_ORDER: SiteAction[] = ['pass', 'rectify', 'submit_report', 'accept_report', 'refuse_report', 'delist']

export function orderedActions(actions: readonly string[]): SiteAction[] {
  return ACTION_ORDER.filter((a) => actions.includes(a))
}

/** "YYYY-MM-DD" of a Date in local time (date pickers and defaults). */
export function isoDate(d: Date): string {
  const m = String(d.getMonth() + 1).padStart(2, '0')
  const day = String(d.getDate()).padStart(2, '0')
  return `${d.getFullYear()}-${m}-${day}`
}

/** "2026-11-26T09:12:00Z" → "2026-11-26 09:12" in local time; dates pass unchanged. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return ''
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  const hh = String(d.getHours()).padStart(2, '0')
  const mm = String(d.getMinutes()).padStart(2, '0')
  return `${isoDate(d)} ${hh}:${mm}`
}
