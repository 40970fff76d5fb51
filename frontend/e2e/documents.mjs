// Browser tests of the documents officials work with: the office downloads an application's
// 申报审批表 as PDF, exports the application list to Excel and builds a zip of forms in the
// background (progress to done, then the download; after a reload the tray still shows it, and
// eight days on it shows it expired, without a download); 合肥 (recommender) imports applicant
// units from the template, is refused with the row and column of the bad cell, fixes it and imports.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from './harness.mjs'

const PASSWORD = process.env.E2E_PASSWORD || ''
const BASE = (process.env.E2E_BASE_URL || '').replace(/\/$/, '')
const PDF = 'application/pdf'
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
// The backend's virtualenv has openpyxl: it fills the downloaded template as an official would.
const PYTHON = process.env.E2E_PYTHON || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.venv', 'bin', 'python')

async function loginAs(page, context, username, target) {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await context.clearCookies()
  await page.goto(`/login?redirect=${encodeURIComponent(target)}`)
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((url) => url.pathname === target)
  // The login notice (last login, second-factor reminder) would cover the job tray.
  const notice = page.locator('.el-notification__closeBtn')
  if (await notice.first().waitFor({ timeout: 1500 }).then(() => true, () => false)) {
    for (const close of await notice.all()) await close.click().catch(() => undefined)
  }
}

/** Clicks a download button; answers the HTTP response of `urlPart` and the browser's download. */
async function download(page, button, urlPart) {
  const [response, file] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(urlPart) && r.request().method() === 'GET'),
    page.waitForEvent('download'),
    button.click(),
  ])
  return { response, file }
}

/** Moves the server's clock (test settings only); null returns it to real time. */
async function setClock(now) {
  const r = await fetch(`${BASE}/api/v1/test/clock`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ now }),
  })
  expect(r.ok, `PUT /api/v1/test/clock answered ${r.status}: is the server started with ALLOW_CLOCK_OVERRIDE?`)
}

async function downloadedBytes(file) {
  const where = await file.path()
  return readFile(where)
}

test('documents: office downloads a 申报审批表 PDF, exports the list to Excel and zips forms in the background', async ({ page, context, screenshot }) => {
  await loginAs(page, context, 'office', '/applications')
  const table = page.getByTestId('application-table')
  await table.locator('.el-table__body tr').first().waitFor()

  // An application's 申报审批表 as PDF, from its page.
  await table.locator('.el-table__body tr').first().getByRole('button', { name: '查看' }).click()
  await page.waitForURL((url) => /^\/applications\/\d+$/.test(url.pathname))
  const pdf = await download(page, page.getByTestId('form-pdf'), '/form.pdf')
  expect(pdf.response.status() === 200, `form.pdf answered ${pdf.response.status()}`)
  const pdfType = pdf.response.headers()['content-type'] ?? ''
  expect(pdfType.startsWith(PDF), `form.pdf content-type ${pdfType}`)
  const pdfBytes = await downloadedBytes(pdf.file)
  expect(pdfBytes.length > 1000 && pdfBytes.subarray(0, 5).toString() === '%PDF-', `the PDF has ${pdfBytes.length} bytes`)
  const pdfName = pdf.file.suggestedFilename()
  expect(pdfName.startsWith('申报审批表') && pdfName.endsWith('.pdf'), `saved as ${pdfName}`)
  await screenshot('documents-application-form.png')

  // The list as Excel, with the list's filters (the round in view).
  await page.goto('/applications')
  await table.locator('.el-table__body tr').first().waitFor()
  const xlsx = await download(page, page.getByTestId('export-applications'), '/applications/export.xlsx')
  const xlsxType = xlsx.response.headers()['content-type'] ?? ''
  expect(xlsxType.startsWith(XLSX), `export.xlsx content-type ${xlsxType}`)
  expect(new URL(xlsx.response.url()).searchParams.get('round_id'), 'the export did not carry the round filter')
  const xlsxBytes = await downloadedBytes(xlsx.file)
  expect(xlsxBytes.length > 500 && xlsxBytes.subarray(0, 2).toString() === 'PK', `the workbook has ${xlsxBytes.length} bytes`)
  expect(xlsx.file.suggestedFilename() === '申报列表.xlsx', `saved as ${xlsx.file.suggestedFilename()}`)

  // Two selected applications' forms as a zip: a background job whose progress reaches done.
  const boxes = table.locator('.el-table__body .el-checkbox')
  await boxes.nth(0).click()
  await boxes.nth(1).click()
  await page.getByTestId('batch-forms').click()
  const dialog = page.getByTestId('batch-forms-dialog')
  await dialog.getByText('所选申报（2 项）').waitFor()
  const [started] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/applications/forms.zip') && r.request().method() === 'POST'),
    page.getByTestId('batch-start').click(),
  ])
  expect(started.status() === 202, `forms.zip answered ${started.status()}`)
  const body = JSON.parse(started.request().postData() || '{}')
  expect(body.application_ids?.length === 2, `the batch asked for ${JSON.stringify(body)}`)
  const tray = page.getByTestId('document-jobs')
  await tray.waitFor()
  const jobBox = tray.locator('[data-testid^="document-job-"]').first()
  await jobBox.getByTestId('job-progress').waitFor()
  await tray.locator('[data-status="done"]').first().waitFor({ timeout: 60_000 })
  expect((await jobBox.getByTestId('job-status').innerText()).trim() === '已完成', 'the job does not say 已完成')
  await screenshot('documents-job-done.png')
  const zip = await download(page, jobBox.getByTestId('job-download'), '/file')
  expect(zip.response.status() === 200, `the job file answered ${zip.response.status()}`)
  const zipBytes = await downloadedBytes(zip.file)
  expect(zipBytes.subarray(0, 2).toString() === 'PK', 'the batch is not a zip')
  expect(zip.file.suggestedFilename().endsWith('.zip'), `saved as ${zip.file.suggestedFilename()}`)

  // A reload keeps the job in the tray: the server lists the user's recent jobs.
  const jobId = (await started.json()).id
  await page.reload()
  const kept = page.getByTestId(`document-job-${jobId}`)
  await kept.getByTestId('job-download').waitFor()
  expect((await kept.getAttribute('data-status')) === 'done', 'after a reload the job is not shown as done')

  // Eight days on, its file has expired: the tray says so and offers no download (410 if asked).
  try {
    await setClock(new Date(Date.now() + 8 * 86400_000).toISOString())
    await loginAs(page, context, 'office', '/applications') // the session ended with the days
    const expired = page.getByTestId(`document-job-${jobId}`)
    await expired.getByTestId('job-expired').waitFor()
    expect((await expired.getAttribute('data-status')) === 'expired', 'the old job is not shown as expired')
    expect((await expired.getByTestId('job-status').innerText()).trim() === '已过期', 'the old job does not say 已过期')
    expect((await expired.getByTestId('job-download').count()) === 0, 'an expired job still offers its download')
    await screenshot('documents-job-expired.png')
    const gone = await page.request.get(`/api/v1/document-jobs/${jobId}/file`)
    expect(gone.status() === 410, `the expired job's file answered ${gone.status()}`)
    const problem = await gone.json()
    expect(problem.code === 'document_job_expired' && problem.detail.includes('过期'), `the 410 says ${JSON.stringify(problem)}`)
  } finally {
    await setClock(null)
  }
})

/** The downloaded template with `rows` appended below its header (openpyxl keeps its layout). */
function fillTemplate(template, target, rows) {
  const script = [
    'import json, sys',
    'from openpyxl import load_workbook',
    'wb = load_workbook(sys.argv[1])',
    'ws = wb["申报主体"]',
    'for row in json.loads(sys.argv[3]):',
    '    ws.append(row)',
    'wb.save(sys.argv[2])',
  ].join('\n')
  execFileSync(PYTHON, ['-c', script, template, target, JSON.stringify(rows)])
}

test('documents: 合肥 imports applicant units, is refused by row and column, fixes the row and imports', async ({ page, context, screenshot }) => {
  expect(existsSync(PYTHON), `no Python with openpyxl at ${PYTHON} (set E2E_PYTHON)`)
  const dir = await mkdtemp(path.join(tmpdir(), 'e2e-import-'))
  try {
    await loginAs(page, context, 'hefei', '/')
    await page.getByRole('menuitem', { name: '申报主体导入' }).click()
    await page.waitForURL((url) => url.pathname === '/applicant-import')
    await page.getByRole('heading', { name: '申报主体导入' }).waitFor()

    const tpl = await download(page, page.getByTestId('import-template'), '/applicants/import-template.xlsx')
    expect((tpl.response.headers()['content-type'] ?? '').startsWith(XLSX), 'the template is not a workbook')
    const template = path.join(dir, 'template.xlsx')
    await tpl.file.saveAs(template)

    const stamp = Date.now().toString(36)
    const good = [`合肥市第${stamp}中学`, '中小学校', '合肥', null, null, null, null]
    const bad = [`庐阳区${stamp}社区`, '社区', '合費', null, null, null, null]
    const refusedFile = path.join(dir, '申报主体-有误.xlsx')
    fillTemplate(template, refusedFile, [good, bad])

    await page.getByTestId('import-file').setInputFiles(refusedFile)
    await page.getByTestId('import-upload').click()
    const errors = page.getByTestId('import-errors')
    await errors.waitFor()
    const row = errors.locator('.el-table__body tr', { hasText: '所属城市' }).first()
    await row.waitFor()
    const cells = (await row.locator('td').allInnerTexts()).map((s) => s.trim())
    expect(cells[0] === '3', `the refused row is ${cells[0]} (want 3): ${cells.join(' | ')}`)
    expect(cells[1]?.startsWith('所属城市'), `the refused column is ${cells[1]}`)
    expect(cells[2]?.includes('合費') && cells[2].includes('不是'), `the message is not the Chinese one naming the cell's value: ${cells[2]}`)
    expect(!(await page.getByTestId('import-result').isVisible()), 'a refused import showed a result')
    await screenshot('documents-import-refused.png')

    const fixedFile = path.join(dir, '申报主体.xlsx')
    fillTemplate(template, fixedFile, [good, [bad[0], '社区', '合肥', null, null, null, null]])
    await page.getByTestId('import-file').setInputFiles(fixedFile)
    await page.getByTestId('import-upload').click()
    await page.getByTestId('import-result').waitFor()
    const created = (await page.getByTestId('import-created').innerText()).trim()
    expect(created === '2', `created ${created} units (want 2)`)
    expect(!(await errors.isVisible()), 'the error table stayed after a good import')
    await screenshot('documents-import-done.png')

    // The same file again creates nothing: both rows are skipped.
    await page.getByTestId('import-file').setInputFiles(fixedFile)
    await page.getByTestId('import-upload').click()
    await page.getByTestId('import-skipped').filter({ hasText: '2' }).waitFor()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
