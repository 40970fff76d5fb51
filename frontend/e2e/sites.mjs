// Browser tests of the after-award pages: the public list, plaque verification and notices
// without login; the office records a 限期整改 with a deadline and sees it in the reminders; the
// site's own people submit a rectification report with evidence; the office opens the year's
// 复核 for all sites on 年度检查.
import { expect, test } from './harness.mjs'

const PASSWORD = process.env.E2E_PASSWORD || ''

async function login(page, username) {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((url) => url.pathname !== '/login')
}

/** YYYY-MM-DD of today + days (the server and the browser share this machine's clock). */
function dayFromToday(days) {
  const d = new Date(Date.now() + days * 86400000)
  return d.toISOString().slice(0, 10)
}

test('sites: the public list renders without login and shows the awarded demo sites', async ({ page, screenshot }) => {
  const response = await page.goto('/public/sites')
  expect(response?.ok(), `GET /public/sites answered ${response?.status()}`)
  await page.getByRole('heading', { name: '基层思想政治工作示范点名单' }).waitFor()
  await page.getByTestId('public-site').first().waitFor()
  const count = await page.getByTestId('public-site').count()
  expect(count >= 5, `only ${count} published sites shown`)
  const text = await page.getByTestId('public-site-list').innerText()
  expect(text.includes('“红色星期五”思政大课堂'), 'the awarded demo site 红色星期五 is not listed')
  expect(text.includes('皖思政示范〔2025〕001号'), 'plaque numbers are not shown')
  expect(new URL(page.url()).pathname === '/public/sites', `redirected to ${page.url()}`)

  // Filter by city: only that city's sites remain.
  await page.getByTestId('public-filter-city').click()
  await page.getByRole('option', { name: '芜湖', exact: true }).click()
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="public-site"]')].every((li) => li.textContent.includes('芜湖')),
  )
  await screenshot('sites-public-list.png')
})

test('sites: a plaque number verifies without login (Chinese and 〔〕 encoded)', async ({ page, screenshot }) => {
  await page.goto('/public/sites')
  await page.getByTestId('public-plaque-link').first().click()
  await page.waitForURL((url) => url.pathname.startsWith('/public/plaques/'))
  expect(page.url().includes(encodeURIComponent('〔')), `plaque path not encoded: ${page.url()}`)
  const result = page.getByTestId('plaque-result')
  await result.waitFor()
  expect((await result.getAttribute('data-status')) === 'active', 'the first published plaque is not active')
  await page.getByText('该牌匾真实有效，示范点在牌').waitFor()
  await screenshot('sites-plaque-verify.png')

  // Opened directly, as from a certificate's QR code.
  await page.goto(`/public/plaques/${encodeURIComponent('皖思政示范〔2025〕999号')}`)
  await page.getByTestId('plaque-not-found').waitFor()

  await page.goto('/public/notices')
  await page.getByRole('heading', { name: '示范点拟命名名单公示' }).waitFor()
  expect(new URL(page.url()).pathname === '/public/notices', 'public notices redirected to login')
  await screenshot('sites-public-notices.png')
})

test('sites: the office records 限期整改 with a deadline and sees it in the reminders', async ({ page, screenshot }) => {
  await login(page, 'office')
  await page.goto('/sites')
  await page.getByTestId('site-reminders').waitFor()
  await page.getByTestId('sites-table').getByText('“石关夜话”村民议事厅').waitFor()
  await screenshot('sites-office-list.png')

  await page.getByTestId('sites-table').getByText('“石关夜话”村民议事厅').click()
  await page.waitForURL((url) => /^\/sites\/\d+$/.test(url.pathname))
  await page.getByTestId('site-status').getByText('在牌').waitFor()

  // Open this year's 检查, then record its outcome: 限期整改 by a deadline.
  await page.getByTestId('open-inspection').click()
  await page.getByTestId('open-inspection-submit').click()
  await page.getByTestId('inspections-table').getByText('待登记结论').waitFor()

  await page.getByTestId('site-actions').locator('[data-action="rectify"]').click()
  const form = page.getByTestId('site-action-form')
  await form.waitFor()
  const deadline = dayFromToday(7)
  await form.getByLabel('检查发现 / 整改要求').fill('理论学习台账不完整，志愿服务记录缺失。')
  const deadlineInput = form.getByLabel('整改期限', { exact: true })
  await deadlineInput.fill(deadline)
  await deadlineInput.press('Enter')
  await form.getByLabel('意见').fill('限期整改，请于期限内提交整改报告。')
  await page.getByTestId('action-submit').click()
  await page.getByTestId('site-status').getByText('限期整改中').waitFor()
  await page.getByTestId('open-rectification').getByText(deadline).waitFor()
  await page.getByRole('tab', { name: '限期整改' }).click()
  await page.getByTestId('rectification-deadline').getByText(deadline).waitFor()
  await page.getByRole('tab', { name: '履历' }).click()
  await page.getByTestId('site-history').getByText('限期整改', { exact: true }).first().waitFor()
  await screenshot('sites-office-detail.png')

  await page.getByRole('menuitem', { name: '示范点' }).click()
  await page.waitForURL((url) => url.pathname === '/sites')
  const due = page.getByTestId('reminders-due-soon')
  await due.getByText('“石关夜话”村民议事厅').waitFor()
  expect((await due.innerText()).includes(deadline), 'the deadline is not shown in the reminder')
})

test("sites: the site's own people upload evidence and submit the rectification report", async ({ page, screenshot }) => {
  // aq_village is the unit of “石关夜话”, put under 限期整改 by the previous test.
  await login(page, 'aq_village')
  await page.goto('/sites')
  await page.getByRole('heading', { name: '我的示范点' }).waitFor()
  await page.getByTestId('sites-table').getByText('“石关夜话”村民议事厅').click()
  await page.waitForURL((url) => /^\/sites\/\d+$/.test(url.pathname))
  await page.getByRole('tab', { name: '限期整改' }).click()
  await page.getByRole('button', { name: '上传佐证材料' }).first().waitFor()
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
    'base64',
  )
  await page
    .getByTestId('rectification')
    .locator('input[type=file]')
    .setInputFiles({ name: '整改照片.png', mimeType: 'image/png', buffer: png })
  await page.getByRole('link', { name: '整改照片.png' }).waitFor()

  await page.getByTestId('site-actions').locator('[data-action="submit_report"]').click()
  const form = page.getByTestId('site-action-form')
  await form.getByLabel('整改报告').fill('已补齐理论学习台账，建立志愿服务月度记录制度。')
  await page.getByTestId('action-submit').click()
  await page.getByText('整改报告待验收').waitFor()
  await screenshot('sites-own-rectification.png')
})

test('sites: the office opens the yearly review for all sites on 年度检查 and sees the rows', async ({ page, screenshot }) => {
  await login(page, 'office')
  await page.getByRole('menuitem', { name: '年度检查' }).click()
  await page.waitForURL((url) => url.pathname === '/sites/inspections')
  await page.getByRole('heading', { name: '年度检查' }).waitFor()
  // The demo data's inspections are this year's (the seed opens two 检查).
  await page.getByTestId('inspection-site-link').first().waitFor()

  // 开展年度检查: this year's 复核 for every site holding a plaque; the answer says how many.
  await page.getByTestId('start-campaign').click()
  const form = page.getByTestId('campaign-form')
  await form.getByText('复核', { exact: true }).click()
  await page.getByTestId('campaign-confirm').click()
  const result = page.getByTestId('campaign-result')
  await result.waitFor()
  const said = await result.innerText()
  expect(/已为 \d+ 个示范点开展\d{4}年度复核|此前已全部开展/.test(said), `campaign answer: ${said}`)
  const rows = page.getByTestId('yearly-inspections-table').getByTestId('inspection-site-link')
  await rows.first().waitFor()
  expect((await rows.count()) >= 2, 'the opened reviews are not listed')
  await screenshot('sites-yearly-inspections.png')

  // The same campaign again opens nothing new and says so.
  await page.getByTestId('start-campaign').click()
  await page.getByTestId('campaign-confirm').click()
  await result.getByText('此前已全部开展').waitFor()

  await rows.first().click()
  await page.waitForURL((url) => /^\/sites\/\d+$/.test(url.pathname))
})
