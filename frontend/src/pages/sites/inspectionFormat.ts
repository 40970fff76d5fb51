// Presentation of the yearly inspections page: the years offered, the campaign's answer as one
// sentence, inspectors by name and a refusal with the server's own detail. No business rule lives
// here: which sites get an inspection and what is refused is the API's answer.
import type { Problem } from '@/api/problem'
import { pickLanguage } from '@/i18n/problem'
import type { InspectionKind } from '@/stores/sitesCommon'
import type { CampaignResult } from '@/stores/sitesInspections'

/** The first round of the demonstration sites (2022): no inspection can be older. */
export const FIRST_YEAR = 2022

/** Years to choose from, newest first: this year back to the first round (at least three). */
export function yearChoices(current: number, first = FIRST_YEAR): number[] {
  const oldest = Math.min(first, current - 2)
  const years: number[] = []
  for (let y = current; y >= oldest; y--) years.push(y)
  return years
}

export interface CampaignSummary {
  type: 'success' | 'info' | 'warning'
  /** i18n key under sites.yearly.result */
  key: 'opened' | 'openedSkipped' | 'allOpened' | 'noSites'
  params: { created: number; skipped: number; year: number; kind: InspectionKind }
}

/** What the campaign did, from its answer: how many were opened and how many sites had one already. */
export function campaignSummary(result: Pick<CampaignResult, 'created' | 'skipped'>, year: number, kind: InspectionKind): CampaignSummary {
  const params = { created: result.created, skipped: result.skipped, year, kind }
  if (result.created > 0) return { type: 'success', key: result.skipped > 0 ? 'openedSkipped' : 'opened', params }
  if (result.skipped > 0) return { type: 'info', key: 'allOpened', params }
  return { type: 'warning', key: 'noSites', params }
}

/** "省委网信办 张三、#12", or `none` when nobody is named; an id without a known name shows as #id. */
export function inspectorList(ids: readonly number[], names: Readonly<Record<number, string>>, none: string): string {
  if (!ids.length) return none
  return ids.map((id) => names[id] ?? `#${id}`).join('、')
}

/**
 * A refusal as one sentence: the translated sentence of its code, plus the server's detail in the
 * current language when the code's sentence is generic (validation_error: e.g. "2027 年尚未开始").
 */
export function refusalText(base: string, problem: Problem, locale: string): string {
  const detail = problem.detail ? pickLanguage(problem.detail, locale) : ''
  if (!detail || base.includes(detail) || problem.code !== 'validation_error') return base
  return locale.startsWith('zh') ? `${base}：${detail}` : `${base}: ${detail}`
}
