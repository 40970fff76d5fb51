// Texts of workflow codes (status, action, field …) and readable refusals, in the current language.
import { useI18n } from 'vue-i18n'
import type { Problem } from '@/api/problem'
import { ApiError, toApiError } from '@/api/problem'
import { pickLanguage, useProblemMessage } from '@/i18n/problem'

/** Problem codes of the workflow that get their own explanatory sentence. */
export const WORKFLOW_REFUSALS = [
  'quota_exceeded',
  'not_eligible',
  'outside_phase',
  'invalid_transition',
  'conflict_of_interest',
  'duplicate_application',
  'precondition_failed',
] as const

export function useWorkflowText() {
  const { t, te, locale } = useI18n()
  const generic = useProblemMessage()

  function label(group: string, code: string | null | undefined): string {
    if (!code) return ''
    const key = `workflow.${group}.${code}`
    return te(key) ? t(key) : code
  }

  /**
   * A refusal as a sentence: our explanation of the code, plus the server's own detail when it
   * says more (e.g. the dates of the window).
   */
  function refusal(problem: Problem): string {
    const code = problem.code as (typeof WORKFLOW_REFUSALS)[number]
    if (!WORKFLOW_REFUSALS.includes(code)) {
      const base = generic(problem)
      const detail = problem.detail ? pickLanguage(problem.detail, locale.value) : ''
      return detail && !base.includes(detail) && problem.code === 'validation_error' ? `${base}：${detail}` : base
    }
    const own = t(`workflow.refusals.${code}`)
    const detail = problem.detail ? pickLanguage(problem.detail, locale.value) : ''
    const title = problem.title ? pickLanguage(problem.title, locale.value) : ''
    if (!detail || detail === title) return own
    return `${own} ${t('workflow.refusals.serverSays', { detail })}`
  }

  function errorText(err: unknown): string {
    return refusal((err instanceof ApiError ? err : toApiError(err)).problem)
  }

  return {
    t,
    locale,
    status: (c: string | null | undefined) => label('status', c),
    action: (c: string | null | undefined) => label('actions', c),
    field: (c: string | null | undefined) => label('fields', c),
    phase: (c: string | null | undefined) => label('phases', c),
    kind: (c: string | null | undefined) => label('kinds', c),
    purpose: (c: string | null | undefined) => label('purposes', c),
    refusal,
    errorText,
  }
}

/** A date-time as local YYYY-MM-DD HH:mm (Beijing), a date as it is. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return ''
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  const bj = new Date(d.getTime() + 8 * 3600_000).toISOString()
  return `${bj.slice(0, 10)} ${bj.slice(11, 16)}`
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
