// Colours and the summary state of compliance cells (presentation only: the API computes each
// row's state; a grid cell aggregates several duties and shows the most urgent one).
import type { components } from '@/api/schema'

export type ComplianceState = components['schemas']['ComplianceState']
export type CellState = ComplianceState | 'none'
export type StateCounts = Pick<components['schemas']['StateCounts'], 'total' | 'met' | 'late' | 'missed' | 'not_yet'>

export const STATES: ComplianceState[] = ['met', 'late', 'not_yet', 'missed']

/** Element Plus tag type of each state. */
export const STATE_TAG: Record<CellState, 'success' | 'warning' | 'info' | 'danger' | 'primary'> = {
  met: 'success',
  late: 'warning',
  not_yet: 'primary',
  missed: 'danger',
  none: 'info',
}

/** Cell background and text colours (also the trend chart's series colours). */
export const STATE_COLOR: Record<CellState, { bg: string; fg: string; series: string }> = {
  met: { bg: '#e1f3d8', fg: '#2f6b12', series: '#67c23a' },
  late: { bg: '#faecd8', fg: '#8a5a00', series: '#e6a23c' },
  not_yet: { bg: '#d9ecff', fg: '#1d5fa8', series: '#409eff' },
  missed: { bg: '#fde2e2', fg: '#a61b1b', series: '#f56c6c' },
  none: { bg: '#f4f4f5', fg: '#909399', series: '#c0c4cc' },
}

/**
 * The state a month cell shows: missed if any duty was missed, else not_yet while any is open,
 * else late if any was done late, else met; none when the month has no duty.
 */
export function cellState(counts: StateCounts): CellState {
  if (!counts.total) return 'none'
  if (counts.missed > 0) return 'missed'
  if (counts.not_yet > 0) return 'not_yet'
  if (counts.late > 0) return 'late'
  return 'met'
}

/** "3/4": duties done (met or late) of the month's duties; "—" without duties. */
export function cellText(counts: StateCounts): string {
  return counts.total ? `${counts.met + counts.late}/${counts.total}` : '—'
}

/** Rate as a whole percentage (0–100). */
export function percent(rate: number): number {
  return Math.round(Math.max(0, Math.min(1, rate)) * 100)
}
