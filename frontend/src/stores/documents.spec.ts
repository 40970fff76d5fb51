import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createApiClient } from '@/api/client'
import { ApiError } from '@/api/problem'
import { fakeFetch, json, problem } from '@/test/fakeApi'
import {
  documentsApi,
  fetchFile,
  fileUrl,
  filenameFromDisposition,
  importCellErrors,
  messageIn,
  nameFromUrl,
  useDocumentJobsStore,
  withoutPaging,
  type DocumentJob,
  type FilePath,
} from './documents'

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const original = { ...documentsApi }

function use(routes: Parameters<typeof fakeFetch>[0]) {
  const fake = fakeFetch(routes)
  documentsApi.client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  documentsApi.fetch = fake.fetch
  return fake
}

export function job(over: Partial<DocumentJob> = {}): DocumentJob {
  return {
    id: 7, kind: 'forms', status: 'queued', done_items: 0, total_items: 4, progress: 0, error: null, filename: null,
    size: null, download_url: null, created_at: '2026-05-01T08:00:00Z', started_at: null, finished_at: null, expires_at: null,
    ...over,
  }
}

afterEach(() => Object.assign(documentsApi, original))

describe('filenameFromDisposition', () => {
  it('prefers the UTF-8 filename* (the Chinese name) over the ASCII fallback', () => {
    const header = `attachment; filename="____.xlsx"; filename*=UTF-8''${encodeURIComponent('申报列表.xlsx')}`
    expect(filenameFromDisposition(header)).toBe('申报列表.xlsx')
  })

  it('reads a quoted or a bare filename, unescaping quotes', () => {
    expect(filenameFromDisposition('attachment; filename="form 12.pdf"')).toBe('form 12.pdf')
    expect(filenameFromDisposition('attachment; filename=report.docx')).toBe('report.docx')
    expect(filenameFromDisposition('attachment; filename="a\\"b.pdf"')).toBe('a"b.pdf')
  })

  it('never keeps a directory or control characters, and falls back when nothing is usable', () => {
    expect(filenameFromDisposition(`attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`)).toBe('passwd')
    expect(filenameFromDisposition('attachment; filename="C:\\\\temp\\\\x.pdf"')).toBe('x.pdf')
    expect(filenameFromDisposition(`attachment; filename*=UTF-8''%E0%A4%A; filename="ok.zip"`)).toBe('ok.zip')
    expect(filenameFromDisposition(null, 'form.pdf')).toBe('form.pdf')
    expect(filenameFromDisposition('inline', '')).toBe('download')
  })

  it('takes the last path segment of a URL as the name of last resort', () => {
    expect(nameFromUrl('/api/v1/sites/export.xlsx?city=%E5%90%88%E8%82%A5')).toBe('export.xlsx')
    expect(nameFromUrl('/api/v1/applications/3/form.pdf#x')).toBe('form.pdf')
  })
})

describe('fileUrl', () => {
  it('fills path parameters and leaves unset query values out', () => {
    expect(fileUrl('/api/v1/applications/{application_id}/form.pdf', { path: { application_id: 12 } })).toBe('/api/v1/applications/12/form.pdf')
    expect(fileUrl('/api/v1/applications/export.xlsx', { query: { round_id: 2, status: null, q: '', priority: false } })).toBe(
      '/api/v1/applications/export.xlsx?round_id=2&priority=false',
    )
    expect(fileUrl('/api/v1/sites/export.xlsx', { query: { city: '合肥' } })).toBe('/api/v1/sites/export.xlsx?city=%E5%90%88%E8%82%A5')
  })

  it('only accepts paths that answer a file', () => {
    const ok: FilePath = '/api/v1/rounds/{round_id}/candidates/export.xlsx'
    // @ts-expect-error the application list answers JSON, not a file
    const notAFile: FilePath = '/api/v1/applications'
    expect([ok, notAFile]).toHaveLength(2)
  })

  it('drops paging from a list query', () => {
    expect(withoutPaging({ round_id: 2, q: 'x', limit: 20, offset: 40 })).toEqual({ round_id: 2, q: 'x' })
  })
})

describe('fetchFile', () => {
  it('answers the blob with its name and content type, asking with the session cookie', async () => {
    const fake = use({
      'GET /api/v1/applications/export.xlsx': () =>
        new Response(new Uint8Array([80, 75, 3, 4]), {
          headers: { 'Content-Type': XLSX, 'Content-Disposition': `attachment; filename="x.xlsx"; filename*=UTF-8''${encodeURIComponent('申报列表.xlsx')}` },
        }),
    })
    const file = await fetchFile('/api/v1/applications/export.xlsx?round_id=2')
    expect(file.filename).toBe('申报列表.xlsx')
    expect(file.contentType).toBe(XLSX)
    expect(file.blob.size).toBe(4)
    expect(fake.requests[0]!.credentials).toBe('same-origin')
    expect(new URL(fake.requests[0]!.url).searchParams.get('round_id')).toBe('2')
  })

  it('turns a problem+json answer (404, 409) into an ApiError with its code and detail', async () => {
    use({
      'GET /api/v1/sites/4/certificate.pdf': () =>
        problem(409, 'site_delisted', { detail: 'A delisted site gets no certificate / 已摘牌的示范点不出具证书' }),
    })
    const err = await fetchFile('/api/v1/sites/4/certificate.pdf').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('site_delisted')
    expect((err as ApiError).status).toBe(409)
    expect((err as ApiError).problem.detail).toContain('已摘牌')

    const missing = await fetchFile('/api/v1/applications/999/form.pdf').catch((e: unknown) => e)
    expect((missing as ApiError).status).toBe(404)
    expect((missing as ApiError).code).toBe('not_found')
  })

  it('names a non-JSON error by its status, and a network failure as such', async () => {
    use({ 'GET /api/v1/sites/export.xlsx': () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } }) })
    const err = (await fetchFile('/api/v1/sites/export.xlsx').catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('http_502')

    documentsApi.fetch = () => Promise.reject(new TypeError('Failed to fetch'))
    const offline = (await fetchFile('/api/v1/sites/export.xlsx').catch((e: unknown) => e)) as ApiError
    expect(offline.code).toBe('network_error')
  })
})

describe('importCellErrors', () => {
  it('lists the refused rows by row and cell, in the current language', () => {
    const refusal = {
      status: 422,
      code: 'import_invalid',
      errors: [
        { loc: ['row', '7', '所属城市'], msg: 'x', type: 'import_invalid', row: 7, column: '所属城市', cell: 'C7', message: '“合費” is not a city / “合費”不是城市' },
        { loc: ['row', '3', '单位名称'], msg: 'x', type: 'import_invalid', row: 3, column: '单位名称', cell: 'A3', message: '单位名称 is required / 单位名称不能为空' },
        { loc: ['row', '7', '申报主体类型'], msg: 'bad kind / 类型错误', type: 'import_invalid' },
      ],
    }
    expect(importCellErrors(refusal)).toEqual([
      { row: 3, column: '单位名称', cell: 'A3', message: '单位名称不能为空' },
      { row: 7, column: '申报主体类型', cell: '', message: '类型错误' },
      { row: 7, column: '所属城市', cell: 'C7', message: '“合費”不是城市' },
    ])
    expect(importCellErrors(refusal, 'en')[2]!.message).toBe('“合費” is not a city')
    expect(importCellErrors(null)).toEqual([])
  })

  it('reads a message written the other way round (中文 / English) by its script', () => {
    const reversed = '所属城市“合費”不是安徽省的城市 / “合費” is not a city of Anhui'
    expect(messageIn(reversed, 'zh-CN')).toBe('所属城市“合費”不是安徽省的城市')
    expect(messageIn(reversed, 'en')).toBe('“合費” is not a city of Anhui')
    expect(messageIn('Code x exists / 组织代码 x 已存在', 'zh-CN')).toBe('组织代码 x 已存在')
    expect(messageIn('plain message', 'en')).toBe('plain message')
  })
})

describe('document jobs store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    localStorage.clear()
  })

  it('starts a form batch with an Idempotency-Key and tracks the job, newest first', async () => {
    const fake = use({
      'POST /api/v1/applications/forms.zip': () => json(job({ id: 8 }), 202),
      'POST /api/v1/rounds/2/compilation.docx': () => json(job({ id: 9, kind: 'compilation' }), 202),
    })
    const store = useDocumentJobsStore()
    await store.startForms({ application_ids: [3, 4], formats: ['pdf'] }, '申报审批表')
    await store.startCompilation(2, '创新案例选编')
    expect(store.jobs.map((j) => j.job.id)).toEqual([9, 8])
    const post = fake.requests[0]!
    expect(post.headers.get('Idempotency-Key')).toBeTruthy()
    expect(await post.json()).toEqual({ application_ids: [3, 4], formats: ['pdf'] })

    store.update(job({ id: 8, status: 'done' }))
    expect(store.jobs[1]!.job.status).toBe('done')
    store.dismiss(9)
    expect(store.jobs.map((j) => j.job.id)).toEqual([8])
  })

  it("loads the user's recent jobs after those started in this tab, which keep their labels", async () => {
    const fake = use({
      'POST /api/v1/applications/forms.zip': () => json(job({ id: 9 }), 202),
      'GET /api/v1/document-jobs': () =>
        json({ items: [job({ id: 9, status: 'running' }), job({ id: 5, status: 'expired', kind: 'certificates' }), job({ id: 4, status: 'failed' })], total: 3 }),
    })
    const store = useDocumentJobsStore()
    await store.startForms({ application_ids: [3] }, '申报审批表 · 所选 1 项')
    store.track(job({ id: 10 }), '证书') // started here, not (yet) in the server's page
    await store.load(1)
    const list = fake.requests.find((r) => r.method === 'GET')!
    expect(new URL(list.url).searchParams.get('limit')).toBe('20')
    expect(store.jobs.map((j) => [j.job.id, j.job.status, j.label])).toEqual([
      [10, 'queued', '证书'],
      [9, 'running', '申报审批表 · 所选 1 项'],
      [5, 'expired', ''],
      [4, 'failed', ''],
    ])
  })

  it('keeps a closed job closed after a reload, per user, and forgets the jobs on logout', async () => {
    use({ 'GET /api/v1/document-jobs': () => json({ items: [job({ id: 5, status: 'done' }), job({ id: 4, status: 'failed' })], total: 2 }) })
    const store = useDocumentJobsStore()
    await store.load(1)
    store.dismiss(5)
    expect(store.jobs.map((j) => j.job.id)).toEqual([4])

    setActivePinia(createPinia()) // a reload
    const reloaded = useDocumentJobsStore()
    await reloaded.load(1)
    expect(reloaded.jobs.map((j) => j.job.id)).toEqual([4])
    await reloaded.load(2) // another user on this browser: their own closed jobs only
    expect(reloaded.jobs.map((j) => j.job.id)).toEqual([5, 4])
    reloaded.reset()
    expect(reloaded.jobs).toEqual([])
    expect(reloaded.owner).toBeNull()
  })

  it('leaves the tray as it is when the list cannot be read', async () => {
    use({ 'GET /api/v1/document-jobs': () => problem(403, 'forbidden') })
    const store = useDocumentJobsStore()
    store.track(job({ id: 3 }), 'x')
    store.owner = 1
    await expect(store.load(1)).resolves.toBeUndefined()
    expect(store.jobs.map((j) => j.job.id)).toEqual([3])
  })

  it('passes the refusal on (nothing to export) and tracks nothing', async () => {
    use({ 'POST /api/v1/rounds/3/compilation.docx': () => problem(409, 'nothing_to_export') })
    const store = useDocumentJobsStore()
    const err = (await store.startCompilation(3, 'x').catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('nothing_to_export')
    expect(store.jobs).toHaveLength(0)
  })
})
