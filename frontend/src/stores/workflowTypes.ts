// Names for the creation workflow's API shapes, derived from the generated schema (never by hand).
import type { components, paths } from '@/api/schema'

type Schemas = components['schemas']

export type Application = Schemas['ApplicationRead']
export type ApplicationPage = Schemas['ApplicationPage']
/** A row of GET /api/v1/applications: no 先进事迹 text, opinions or evidence (read one by one). */
export type ApplicationSummary = Schemas['ApplicationSummary']
export type ApplicationSummaryPage = Schemas['ApplicationSummaryPage']
export type ApplicationCreate = Schemas['ApplicationCreate']
export type ApplicationUpdate = Schemas['ApplicationUpdate']
export type TransitionRequest = Schemas['TransitionRequest']
export type BatchTransitionRequest = Schemas['BatchTransitionRequest']
export type Action = Schemas['Action']
export type Status = Schemas['Status']
export type FieldKind = Schemas['FieldKind']
export type Phase = Schemas['Phase']
export type Round = Schemas['RoundRead']
export type RoundUpdate = Schemas['RoundUpdate']
export type Quota = Schemas['QuotaRead']
export type Meeting = Schemas['MeetingRead']
export type MeetingCreate = Schemas['MeetingCreate']
export type MeetingKind = Schemas['MeetingKind']
export type HistoryEntry = Schemas['HistoryRead']
export type RoundStats = Schemas['RoundStats']
export type Material = Schemas['MaterialRead']
export type MaterialPurpose = Schemas['MaterialPurpose']
export type Applicant = Schemas['ApplicantRead']
export type AssessorRef = Schemas['AssessorRef']
/** An assessor the office may name (GET /api/v1/assessors), with 回避 said by the API. */
export type Assessor = Schemas['AssessorRead']
export type AssessorQuery = NonNullable<paths['/api/v1/assessors']['get']['parameters']['query']>
export type PriorityKind = Schemas['PriorityKind']
export type Scores = Schemas['Scores']
export type Opinion = Schemas['Opinion']

/** Query of GET /api/v1/applications (filters and paging). */
export type ApplicationQuery = NonNullable<paths['/api/v1/applications']['get']['parameters']['query']>
