import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createAppI18n } from '@/i18n'
import { createApiClient } from '@/api/client'
import { fakeFetch, json, problem, type Handler } from '@/test/fakeApi'
import { documentsApi, useDocumentJobsStore, type DocumentJob } from '@/stores/documents'
import JobProgress from './JobProgress.vue'
import JobTray from './JobTray.vue'
import DownloadButton from './DownloadButton.vue'
import { useDownload } from './useDownload'
import { defineComponent, h } from 'vue'

const original = { ...documentsApi }

function use(routes: Record<string, Handler>) {
  const fake = fakeFetch(routes)
  documentsApi.client = createApiClient({ baseUrl: 'http://test', fetch: fake.fetch })
  documentsApi.fetch = fake.fetch
  return fake
}

function job(over: Partial<DocumentJob> = {}): DocumentJob {
  return {
    id: 7, kind: 'forms', status: 'queued', done_items: 0, total_items: 4, progress: 0, error: null, filename: null,
    size: null, download_url: null, created_at: '2026-05-01T08:00:00Z', started_at: null, finished_at: null, expires_at: null,
    ...over,
  }
}

const global = () => ({ plugins: [createAppI18n('zh-CN')] })

/** Answers the job's states one poll after another (the last one stays). */
function sequence(states: (Partial<DocumentJob> | Response)[]): Handler {
  let n = 0
  return () => {
    const next = states[Math.min(n++, states.length - 1)]!
    return next instanceof Response ? next : json(job(next))
  }
}

async function tick(ms = 1000): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  await flushPromises()
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  Object.assign(documentsApi, original)
})

describe('JobProgress', () => {
  it('polls about every second from queued through running to done, then offers the download', async () => {
    const fake = use({
      'GET /api/v1/document-jobs/7': sequence([
        { status: 'running', done_items: 1, progress: 0.25 },
        { status: 'running', done_items: 3, progress: 0.75 },
        { status: 'done', done_items: 4, progress: 1, filename: '申报审批表.zip', size: 20480, download_url: '/api/v1/document-jobs/7/file' },
      ]),
    })
    const wrapper = mount(JobProgress, { props: { job: job(), label: '申报审批表 · 所选 2 项' }, global: global() })
    const root = () => wrapper.get('[data-testid="document-job-7"]')
    expect(root().attributes('data-status')).toBe('queued')
    expect(wrapper.text()).toContain('排队中')
    expect(wrapper.find('[data-testid="job-download"]').exists()).toBe(false)

    await tick()
    expect(root().attributes('data-status')).toBe('running')
    expect(wrapper.text()).toContain('1 / 4 项')
    expect(wrapper.text()).toContain('25%')

    await tick()
    expect(wrapper.text()).toContain('75%')
    await tick()
    expect(root().attributes('data-status')).toBe('done')
    expect(wrapper.text()).toContain('已完成')
    expect(wrapper.text()).toContain('申报审批表.zip')
    expect(wrapper.text()).toContain('20 KB')
    expect(wrapper.find('[data-testid="job-download"]').exists()).toBe(true)
    expect(wrapper.emitted('update')).toHaveLength(3)

    // Finished: no more polling.
    const polls = fake.requests.length
    await tick(5000)
    expect(fake.requests.length).toBe(polls)
  })

  it('shows why a failed job failed, in the current language, and stops', async () => {
    const fake = use({
      'GET /api/v1/document-jobs/7': sequence([{ status: 'failed', progress: 0.5, error: 'The font is missing / 缺少字体' }]),
    })
    const wrapper = mount(JobProgress, { props: { job: job({ status: 'running' }) }, global: global() })
    await tick()
    expect(wrapper.get('[data-testid="job-error"]').text()).toContain('生成失败：缺少字体')
    expect(wrapper.text()).toContain('申报审批表') // the kind names the job when no label is given
    expect(wrapper.find('[data-testid="job-download"]').exists()).toBe(false)
    await tick(5000)
    expect(fake.requests).toHaveLength(1)
  })

  it('retries after a network failure, and reports a job that is gone', async () => {
    let n = 0
    use({
      'GET /api/v1/document-jobs/7': () => {
        n += 1
        if (n === 1) throw new TypeError('Failed to fetch')
        if (n === 2) return json(job({ status: 'running', progress: 0.5 }))
        return problem(404, 'document_job_not_found', { detail: 'Document job not found / 未找到该文档任务' })
      },
    })
    const wrapper = mount(JobProgress, { props: { job: job() }, global: global() })
    await tick()
    expect(wrapper.text()).toContain('暂时无法获取进度')
    await tick(2000) // backs off a little
    expect(wrapper.text()).toContain('50%')
    expect(wrapper.text()).not.toContain('暂时无法获取进度')
    await tick()
    expect(wrapper.get('[data-testid="job-lost"]').text()).toContain('未找到该文档任务')
    expect(n).toBe(3)
    await tick(5000)
    expect(n).toBe(3)
  })

  it('stops polling when it leaves the page', async () => {
    const fake = use({ 'GET /api/v1/document-jobs/7': sequence([{ status: 'running' }]) })
    const wrapper = mount(JobProgress, { props: { job: job() }, global: global() })
    await tick()
    wrapper.unmount()
    const polls = fake.requests.length
    await tick(5000)
    expect(fake.requests.length).toBe(polls)
  })
})

describe('JobTray', () => {
  it('after a reload shows the jobs the server lists: a done one with its download, an expired one without', async () => {
    const fake = use({
      'GET /api/v1/document-jobs': () =>
        json({
          items: [
            job({ id: 12, status: 'done', done_items: 4, progress: 1, filename: '申报审批表.zip', size: 2048, download_url: '/api/v1/document-jobs/12/file',
                  finished_at: '2026-05-01T08:01:00Z', expires_at: '2026-05-08T08:01:00Z' }),
            job({ id: 11, kind: 'certificates', status: 'expired', done_items: 4, progress: 1, finished_at: '2026-04-01T08:01:00Z', expires_at: '2026-04-08T08:01:00Z' }),
          ],
          total: 2,
        }),
    })
    await useDocumentJobsStore().load(1)
    const wrapper = mount(JobTray, { global: global() })
    expect(wrapper.text()).toContain('文档生成任务（2）')

    const expired = wrapper.get('[data-testid="document-job-11"]')
    expect(expired.attributes('data-status')).toBe('expired')
    expect(expired.get('[data-testid="job-status"]').text()).toBe('已过期')
    expect(expired.text()).toContain('证书')
    expect(expired.get('[data-testid="job-expired"]').text()).toContain('文件已于 2026-04-08 16:01 过期删除')
    expect(expired.find('[data-testid="job-download"]').exists()).toBe(false)

    const done = wrapper.get('[data-testid="document-job-12"]')
    expect(done.find('[data-testid="job-download"]').exists()).toBe(true)
    expect(done.get('[data-testid="job-expires"]').text()).toBe('文件保留至 2026-05-08 16:01')
    expect(done.find('[data-testid="job-expired"]').exists()).toBe(false)

    await tick(5000) // finished jobs are not polled
    expect(fake.requests).toHaveLength(1)
  })

  it('says so in English too', async () => {
    use({ 'GET /api/v1/document-jobs': () => json({ items: [job({ id: 11, status: 'expired', progress: 1, expires_at: '2026-04-08T08:01:00Z' })], total: 1 }) })
    await useDocumentJobsStore().load(1)
    const wrapper = mount(JobTray, { global: { plugins: [createAppI18n('en')] } })
    expect(wrapper.get('[data-testid="job-status"]').text()).toBe('Expired')
    expect(wrapper.get('[data-testid="job-expired"]').text()).toContain('The file expired on 2026-04-08 16:01 and was deleted')
  })

  it('shows a job whose file expired while the tray stayed open as expired once the download is refused', async () => {
    use({
      'GET /api/v1/document-jobs/7/file': () =>
        problem(410, 'document_job_expired', { detail: 'The file of document job 7 was kept 7 days … / 文档任务 7 的文件在生成后保留 7 天，已过期删除，请重新生成' }),
      'GET /api/v1/document-jobs/7': () => json(job({ status: 'expired', done_items: 4, progress: 1, expires_at: '2026-05-08T08:01:00Z' })),
    })
    const done = job({ status: 'done', done_items: 4, progress: 1, filename: 'x.zip', download_url: '/api/v1/document-jobs/7/file', expires_at: '2026-05-08T08:01:00Z' })
    const wrapper = mount(JobProgress, { props: { job: done }, global: global() })
    await wrapper.get('[data-testid="job-download"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="document-job-7"]').attributes('data-status')).toBe('expired')
    expect(wrapper.find('[data-testid="job-download"]').exists()).toBe(false)
    expect(wrapper.emitted('update')?.at(-1)?.[0]).toMatchObject({ status: 'expired' })
  })
})

describe('useDownload / DownloadButton', () => {
  it('saves the file under the name the server gives', async () => {
    use({
      'GET /api/v1/applications/3/form.pdf': () =>
        new Response('%PDF-1.7', { headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent('申报审批表-3.pdf')}` } }),
    })
    const created = vi.fn(() => 'blob:x')
    Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() })
    const clicked: string[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download)
    })
    const wrapper = mount(DownloadButton, { props: { url: '/api/v1/applications/3/form.pdf', label: 'PDF', testid: 'pdf' }, global: global() })
    await wrapper.get('[data-testid="pdf"]').trigger('click')
    await flushPromises()
    expect(clicked).toEqual(['申报审批表-3.pdf'])
    expect(created).toHaveBeenCalledOnce()
    expect(wrapper.emitted('downloaded')).toEqual([['申报审批表-3.pdf']])
  })

  it('turns a refusal into a readable sentence instead of a file', async () => {
    use({ 'GET /api/v1/sites/4/certificate.pdf': () => problem(409, 'site_delisted', { detail: 'A delisted site gets no certificate / 已摘牌的示范点不出具证书' }) })
    let api: ReturnType<typeof useDownload> | null = null
    const Probe = defineComponent({
      setup() {
        api = useDownload()
        return () => h('div')
      },
    })
    mount(Probe, { global: global() })
    const file = await api!.download('/api/v1/sites/4/certificate.pdf', { notify: false })
    expect(file).toBeNull()
    expect(api!.error.value).toBe('已摘牌的示范点不出具证书')
    expect(api!.busy.value).toBe(false)
  })
})
