// What the after-award (示范点) and ledger (台账) stores share: API shapes derived from the
// generated schema, the client they use (tests swap it), and turning a result into data or an
// ApiError.
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'
import type { components } from '@/api/schema'

type S = components['schemas']

export type Site = S['SiteRead']
export type SiteAction = S['SiteAction']
export type SiteStatus = S['SiteStatus']
export type FieldKind = S['FieldKind']
export type DelistReason = S['DelistReason']
export type Inspection = S['InspectionRead']
export type InspectionKind = S['InspectionKind']
export type Rectification = S['RectificationRead']
export type Publicity = S['PublicityRead']
export type PublicityCreate = S['PublicityCreate']
export type Evidence = S['EvidenceRead']
export type HistoryItem = S['HistoryRead']
export type Reminders = S['Reminders']
export type SiteTransition = S['SiteTransitionRequest']
export type Notice = S['NoticeRead']
export type Objection = S['ObjectionRead']
export type ObjectionStatus = S['ObjectionStatus']
export type PublicSite = S['PublicSiteRead']
export type PlaqueVerification = S['PlaqueVerification']
export type PublicNotice = S['PublicNoticeRead']
export type ObjectionCreate = S['ObjectionCreate']
export type Round = S['RoundRead']
export type Assessor = S['AssessorRead']
export type PublicRound = S['PublicRoundRead']

/** The 16 cities of Anhui in the province's order (filters). */
export const CITIES = [
  '合肥', '芜湖', '蚌埠', '淮南', '马鞍山', '淮北', '铜陵', '安庆',
  '黄山', '滁州', '阜阳', '宿州', '六安', '亳州', '池州', '宣城',
] as const
export const FIELDS: FieldKind[] = ['school', 'enterprise', 'community', 'rural']

/** The client every site and ledger store calls; unit tests put one over a fake fetch here. */
export const sitesApi: { client: ApiClient } = { client: defaultApi }

interface Result<T> {
  data?: T
  error?: unknown
  response: Response
}

/** Data of a successful call, or an ApiError carrying the problem (network failures too). */
export async function unwrap<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await request
  } catch {
    throw new ApiError(networkProblem())
  }
  if (result.response.ok) return result.data as T
  throw new ApiError(toProblem(result.error, result.response))
}

/** One key per user intent, so a retried POST is not performed twice (Idempotency-Key). */
export function idempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now()}-${Math.random().toString(36).slice(2)}`
}

/** A FormData with one file under `file`, as the upload endpoints expect. */
export function fileForm(file: Blob, name?: string): FormData {
  const form = new FormData()
  if (name) form.append('file', file, name)
  else form.append('file', file)
  return form
}
