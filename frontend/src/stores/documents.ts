// Documents officials work with (申报审批表, Excel exports, certificates, 创新案例选编): typed URLs
// of the binary GET endpoints, fetching a file with the session cookie (its name from
// Content-Disposition, a problem+json answer turned into an ApiError), saving it, and the
// user's background document jobs (started in this tab, and the recent ones the server lists).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem, type Problem } from '@/api/problem'
import { pickLanguage } from '@/i18n/problem'
import type { components, paths } from '@/api/schema'
import { fileForm, idempotencyKey } from './sitesCommon'

type S = components['schemas']
export type DocumentJob = S['DocumentJobRead']
export type DocumentJobPage = S['DocumentJobPage']
export type JobStatus = S['JobStatus']
export type FormsBatchRequest = S['FormsBatchRequest']
export type CertificatesBatchRequest = S['CertificatesBatchRequest']
export type ImportResult = S['ImportResult']
/** An application list's filters, as its export and the form batch take them (no paging). */
export type ApplicationFilters = NonNullable<paths['/api/v1/applications/export.xlsx']['get']['parameters']['query']>
/** A list query without its paging: what the export and the batch of that list take. */
export function withoutPaging<Q extends { limit?: number; offset?: number }>(query: Q): Omit<Q, 'limit' | 'offset'> {
  const rest: Partial<Q> = { ...query }
  delete rest.limit
  delete rest.offset
  return rest as Omit<Q, 'limit' | 'offset'>
}
export type FormFormat = NonNullable<FormsBatchRequest['formats']>[number]

/** The client the document calls use; unit tests put one over a fake fetch here. */
export const documentsApi: { client: ApiClient; fetch: (input: Request) => Promise<Response> } = {
  client: defaultApi,
  fetch: (input) => globalThis.fetch(input),
}

// ---- typed URLs of the file endpoints ------------------------------------------------------

type Get<P> = P extends { get: infer G } ? G : never
type OkContent<G> = G extends { responses: { 200: { content: infer C } } } ? C : never

/** Every GET path whose answer is a file (no application/json body). */
export type FilePath = {
  [P in keyof paths]: [OkContent<Get<paths[P]>>] extends [never]
    ? never
    : 'application/json' extends keyof OkContent<Get<paths[P]>>
      ? never
      : P
}[keyof paths]

type Params<P extends FilePath> = Get<paths[P]> extends { parameters: infer X } ? X : never
export interface FileParams<P extends FilePath> {
  path?: Params<P> extends { path?: infer A } ? A : never
  query?: Params<P> extends { query?: infer Q } ? Q : never
}

/** `/api/v1/sites/{site_id}/certificate.pdf` + {path: {site_id: 3}} → `/api/v1/sites/3/certificate.pdf`;
 * query values that are unset or empty are left out. */
export function fileUrl<P extends FilePath>(path: P, params: FileParams<P> = {}): string {
  const values = (params.path ?? {}) as Record<string, string | number>
  let url: string = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])))
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries((params.query ?? {}) as Record<string, unknown>)) {
    if (value === undefined || value === null || value === '') continue
    search.append(key, String(value))
  }
  const text = search.toString()
  if (text) url += `?${text}`
  return url
}

// ---- fetching a file ------------------------------------------------------------------------

export interface DownloadedFile {
  blob: Blob
  filename: string
  contentType: string
}

/** A file name safe to save: no directories, no control characters. */
function safeName(name: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^.*[\\/]/, '').trim()
  return cleaned === '.' || cleaned === '..' ? '' : cleaned
}

/** The file name of a Content-Disposition header: the UTF-8 `filename*` (RFC 5987, carries the
 * Chinese name) over the plain `filename`; `fallback` when neither is usable. */
export function filenameFromDisposition(header: string | null | undefined, fallback = 'download'): string {
  if (header) {
    const star = /filename\*\s*=\s*([^';\s]*)'[^']*'([^;]+)/i.exec(header)
    if (star) {
      try {
        const charset = (star[1] ?? '').toLowerCase()
        const raw = star[2]!.trim().replace(/^"(.*)"$/, '$1')
        const decoded = charset === 'utf-8' || charset === '' ? decodeURIComponent(raw) : unescape(raw)
        const name = safeName(decoded)
        if (name) return name
      } catch {
        // malformed percent-encoding: try the plain form
      }
    }
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:\\.|[^"\\])*)"|([^;]+))/i.exec(header)
    if (plain) {
      const name = safeName((plain[1] ?? plain[2] ?? '').replace(/\\(.)/g, '$1'))
      if (name) return name
    }
  }
  return safeName(fallback) || 'download'
}

/** The last segment of a URL's path (before any query), as the name of last resort. */
export function nameFromUrl(url: string): string {
  const path = url.split(/[?#]/)[0] ?? ''
  const last = path.split('/').filter(Boolean).pop() ?? ''
  try {
    return decodeURIComponent(last)
  } catch {
    return last
  }
}

/** GET a file with the session cookie. An error answer (problem+json: 404 not found, 409
 * site_delisted, 422 too_many_items …) or a network failure becomes an ApiError. */
export async function fetchFile(url: string): Promise<DownloadedFile> {
  const request = new Request(new URL(url, globalThis.location?.href ?? 'http://localhost/'), {
    method: 'GET',
    credentials: 'same-origin',
    headers: { Accept: '*/*' },
  })
  let response: Response
  try {
    response = await documentsApi.fetch(request)
  } catch {
    throw new ApiError(networkProblem())
  }
  const contentType = response.headers.get('Content-Type') ?? ''
  if (!response.ok) {
    let body: unknown = null
    if (contentType.includes('json')) body = await response.json().catch(() => null)
    throw new ApiError(toProblem(body, response))
  }
  const blob = await response.blob()
  const filename = filenameFromDisposition(response.headers.get('Content-Disposition'), nameFromUrl(url))
  return { blob, filename, contentType: contentType.split(';')[0]!.trim() }
}

/** Hands a fetched file to the browser as a download under its own name. */
export function saveFile(file: DownloadedFile): void {
  const href = URL.createObjectURL(file.blob)
  const link = document.createElement('a')
  link.href = href
  link.download = file.filename
  link.rel = 'noopener'
  link.style.display = 'none'
  document.body.appendChild(link)
  link.click()
  link.remove()
  // Give the browser time to start the download before the object URL goes.
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
}

// ---- calls that answer JSON ------------------------------------------------------------------

interface Result<T> {
  data?: T
  error?: unknown
  response: Response
}

async function unwrap<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await request
  } catch {
    throw new ApiError(networkProblem())
  }
  if (result.response.ok) return result.data as T
  throw new ApiError(toProblem(result.error, result.response))
}

export function getJob(id: number): Promise<DocumentJob> {
  return unwrap(documentsApi.client.GET('/api/v1/document-jobs/{job_id}', { params: { path: { job_id: id } } }))
}

/** How many of the user's recent jobs the tray shows after a reload. */
export const RECENT_JOBS = 20

/** The caller's own jobs, newest first. */
export function listJobs(limit = RECENT_JOBS): Promise<DocumentJobPage> {
  return unwrap(documentsApi.client.GET('/api/v1/document-jobs', { params: { query: { limit } } }))
}

/** Upload the filled-in template; a refusal is an ApiError with code import_invalid and errors[]. */
export function importApplicants(file: File): Promise<ImportResult> {
  return unwrap(
    documentsApi.client.POST('/api/v1/applicants/import', {
      params: { header: { 'Idempotency-Key': idempotencyKey() } },
      body: fileForm(file, file.name) as never,
      bodySerializer: (b: unknown) => b as FormData,
    }),
  )
}

/** A job is finished (done, failed, or done and its file since expired) and polling stops. */
export function jobFinished(job: Pick<DocumentJob, 'status'>): boolean {
  return job.status === 'done' || job.status === 'failed' || job.status === 'expired'
}

// Jobs the user closed in the tray stay closed after a reload: their ids (no content) per user.
const DISMISSED_KEY = 'documentJobs.dismissed'
const DISMISSED_KEPT = 200

function dismissedKey(userId: number): string {
  return `${DISMISSED_KEY}.${userId}`
}

function readDismissed(userId: number): Set<number> {
  try {
    const raw: unknown = JSON.parse(globalThis.localStorage?.getItem(dismissedKey(userId)) ?? '[]')
    return new Set(Array.isArray(raw) ? raw.filter((v): v is number => Number.isInteger(v)) : [])
  } catch {
    return new Set()
  }
}

function rememberDismissed(userId: number, id: number): void {
  const ids = [...readDismissed(userId), id].slice(-DISMISSED_KEPT)
  try {
    globalThis.localStorage?.setItem(dismissedKey(userId), JSON.stringify(ids))
  } catch {
    // storage full or refused: the job only comes back after a reload
  }
}

export interface TrackedJob {
  job: DocumentJob
  /** What the user asked for, as the tray names it. */
  label: string
}

/** One key per start, so a retried POST does not start the job twice. */
function once(): { 'Idempotency-Key': string } {
  return { 'Idempotency-Key': idempotencyKey() }
}

/** The user's document jobs: those started in this tab, and their recent ones from the server
 * (`load`, once the user is known), so a reload keeps them; the tray shows each with its progress. */
export const useDocumentJobsStore = defineStore('documentJobs', () => {
  const jobs = ref<TrackedJob[]>([])
  /** Whose jobs these are (null: nobody logged in). */
  const owner = ref<number | null>(null)

  function track(job: DocumentJob, label: string): DocumentJob {
    jobs.value = [{ job, label }, ...jobs.value.filter((j) => j.job.id !== job.id)]
    return job
  }

  function update(job: DocumentJob): void {
    const found = jobs.value.find((j) => j.job.id === job.id)
    if (found) found.job = job
  }

  function dismiss(id: number): void {
    jobs.value = jobs.value.filter((j) => j.job.id !== id)
    if (owner.value !== null) rememberDismissed(owner.value, id)
  }

  /** The user's recent jobs from the server, after those started in this tab (which keep their
   * labels); jobs the user closed stay closed. Never throws: the tray is not worth an error. */
  async function load(userId: number): Promise<void> {
    // Jobs started before the user was known are theirs; another user's are not.
    if (owner.value !== null && owner.value !== userId) jobs.value = []
    owner.value = userId
    let page: DocumentJobPage
    try {
      page = await listJobs()
    } catch {
      return
    }
    if (owner.value !== userId) return // logged out or switched user meanwhile
    const dismissed = readDismissed(userId)
    const tracked = new Map(jobs.value.map((j) => [j.job.id, j]))
    const listed = page.items.filter((job) => !dismissed.has(job.id))
    const listedIds = new Set(page.items.map((job) => job.id))
    jobs.value = [
      ...jobs.value.filter((j) => !listedIds.has(j.job.id)),
      ...listed.map((job) => ({ job, label: tracked.get(job.id)?.label ?? '' })),
    ]
  }

  /** Forgets the jobs (logout): the next user sees only their own. */
  function reset(): void {
    jobs.value = []
    owner.value = null
  }

  async function startForms(body: FormsBatchRequest, label: string): Promise<DocumentJob> {
    const job = await unwrap(documentsApi.client.POST('/api/v1/applications/forms.zip', { params: { header: once() }, body }))
    return track(job, label)
  }

  async function startCertificates(body: CertificatesBatchRequest, label: string): Promise<DocumentJob> {
    const job = await unwrap(documentsApi.client.POST('/api/v1/sites/certificates.pdf', { params: { header: once() }, body }))
    return track(job, label)
  }

  async function startCompilation(roundId: number, label: string): Promise<DocumentJob> {
    const job = await unwrap(
      documentsApi.client.POST('/api/v1/rounds/{round_id}/compilation.docx', { params: { path: { round_id: roundId }, header: once() } }),
    )
    return track(job, label)
  }

  return { jobs, owner, track, update, dismiss, load, reset, startForms, startCertificates, startCompilation }
})

// ---- the applicant import's refusal ----------------------------------------------------------

export interface ImportCellError {
  row: number | null
  column: string
  /** The sheet cell, e.g. C7, when the server names it. */
  cell: string
  message: string
}

const HAN = /[\u3400-\u9fff]/g

/** The half of an "English / 中文" message for the language. The halves are told apart by how
 * much Chinese they hold (both may quote a cell, “合費”), so a message written the other way
 * round ("中文 / English") still reads right. */
export function messageIn(text: string, locale: string): string {
  const parts = text.split(' / ').map((p) => p.trim())
  if (parts.length === 2) {
    const [first, second] = parts as [string, string]
    const han = (p: string) => (p.match(HAN) ?? []).length
    if (han(first) !== han(second)) {
      const chinese = han(first) > han(second) ? first : second
      return locale.startsWith('zh') ? chinese : chinese === first ? second : first
    }
  }
  return pickLanguage(text, locale)
}

/** The problems of a refused import (422 import_invalid), one per cell, by row then column; each
 * message in the current language's half of "English / 中文". */
export function importCellErrors(problem: Problem | null | undefined, locale = 'zh-CN'): ImportCellError[] {
  const rows: ImportCellError[] = []
  for (const raw of (problem?.errors ?? []) as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue
    const e = raw as Record<string, unknown>
    const loc = Array.isArray(e.loc) ? e.loc : []
    let row = typeof e.row === 'number' ? e.row : null
    if (row === null && loc[0] === 'row' && /^\d+$/.test(String(loc[1]))) row = Number(loc[1])
    const column = typeof e.column === 'string' ? e.column : loc.length > 2 ? String(loc[2]) : ''
    const text = typeof e.message === 'string' ? e.message : typeof e.msg === 'string' ? e.msg : ''
    rows.push({ row, column, cell: typeof e.cell === 'string' ? e.cell : '', message: messageIn(text, locale) })
  }
  return rows.sort((a, b) => (a.row ?? 0) - (b.row ?? 0) || a.cell.localeCompare(b.cell) || a.column.localeCompare(b.column))
}
