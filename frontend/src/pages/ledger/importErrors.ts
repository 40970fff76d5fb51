// The errors of a refused Excel import or bulk request as a table: row, column, message.
import type { Problem } from '@/api/problem'
import { pickLanguage } from '@/i18n/problem'

export interface RowError {
  row: number | null
  column: string
  message: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** Reads `errors` of a problem: the ledger's row errors ({row, column, message}), or a plain
 * validation error's `loc` (["body", "items", 3, "title"] → row 3, column title). Sorted by row. */
export function importErrorRows(problem: Problem | null | undefined, locale = 'zh-CN'): RowError[] {
  const list = (problem?.errors ?? []) as unknown[]
  const rows: RowError[] = []
  for (const raw of list) {
    if (!isRecord(raw)) continue
    const loc = Array.isArray(raw.loc) ? raw.loc : []
    let row: number | null = typeof raw.row === 'number' ? raw.row : null
    let column = typeof raw.column === 'string' ? raw.column : ''
    if (row === null) {
      const index = loc.findIndex((part) => typeof part === 'number')
      if (index >= 0) {
        row = loc[index] as number
        column ||= loc.slice(index + 1).join('.')
      } else {
        column ||= loc.filter((part) => part !== 'body').join('.')
      }
    }
    const text = typeof raw.message === 'string' ? raw.message : typeof raw.msg === 'string' ? raw.msg : ''
    rows.push({ row, column, message: pickLanguage(text, locale) })
  }
  return rows.sort((a, b) => (a.row ?? 0) - (b.row ?? 0) || a.column.localeCompare(b.column))
}
