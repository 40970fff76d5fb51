// Browser tests of the work ledger (台账): a grassroots unit (demo account dc_street, role unit,
// keeper of 电厂街道 and its two communities) sees its plan's targets, records an entry for a
// community and sees the month × unit compliance grid change; screenshots of the grid and trend.
import { expect, test } from './harness.mjs'

const PASSWORD = process.env.E2E_PASSWORD || ''
const UNIT_USER = process.env.E2E_LEDGER_USERNAME || 'dc_street'

async function login(page, username) {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((url) => url.pathname !== '/login')
}

/** The grid cell of a unit's row for a month (1–12). */
function gridCell(page, unitName, month) {
  return page
    .getByTestId('compliance-grid')
    .locator('tr', { hasText: unitName })
    .first()
    .locator(`[data-month="${month}"]`)
}

test('ledger: a unit records an entry and the compliance grid changes', async ({ page, screenshot }) => {
  await login(page, UNIT_USER)
  await page.getByRole('menuitem', { name: '台账' }).click()
  await page.waitForURL((url) => url.pathname === '/ledger')
  await page.getByTestId('selected-unit').getByText('电厂街道').waitFor()

  // Compliance of the street's communities, this month.
  const month = new Date().getMonth() + 1
  const cell = gridCell(page, '电厂社区', month)
  await cell.waitFor()
  const before = (await cell.innerText()).trim()
  await page.getByTestId('trend-chart').locator('canvas').first().waitFor()
  await screenshot('ledger-compliance.png')

  // Plans: the seed-003 template's targets read as the plan writes them.
  await page.getByRole('tab', { name: '工作计划' }).click()
  const items = page.getByTestId('plan-items')
  await items.first().waitFor()
  for (const text of ['每个社区每月至少8次', '每个社区每月7日前', '每个社区9月', '每个社区5分钟内回复', '每年至少12次']) {
    await page.getByTestId('target-tag').filter({ hasText: text }).first().waitFor()
  }
  await screenshot('ledger-plan.png')

  // Record one entry for 电厂社区: the monthly reading activity (每个社区每月至少1次).
  await page.getByRole('tab', { name: '台账记录' }).click()
  await page.getByTestId('entry-record').click()
  const form = page.getByTestId('entry-form')
  await form.waitFor()
  await page.getByTestId('entry-unit').click()
  await page.getByRole('option', { name: '电厂社区', exact: true }).click()
  await page.getByTestId('entry-item').click()
  await page.getByRole('option', { name: /全民阅读主题阅读活动/ }).click()
  await form.getByLabel('标题').fill('“书香电厂”主题阅读分享会')
  await form.getByLabel('地点').fill('电厂社区新时代文明实践站')
  await page.getByTestId('entry-submit').click()
  await page.getByTestId('entries-table').getByText('“书香电厂”主题阅读分享会').waitFor()
  await screenshot('ledger-entries.png')

  // Back to the grid: the month's cell of 电厂社区 counts one more duty done.
  await page.getByRole('tab', { name: '达标情况' }).click()
  await cell.waitFor()
  await page.waitForFunction(
    ([m, old]) => {
      const row = [...document.querySelectorAll('[data-testid="compliance-grid"] tr')].find((tr) =>
        tr.textContent.includes('电厂社区'),
      )
      const c = row?.querySelector(`[data-month="${m}"]`)
      return c && c.textContent.trim() !== old
    },
    [month, before],
  )
  const after = (await cell.innerText()).trim()
  const done = (text) => Number(text.split('/')[0])
  expect(done(after) === done(before) + 1, `the cell went from ${before} to ${after}`)
  await page.getByTestId('trend-chart').locator('canvas').first().waitFor()
  await screenshot('ledger-compliance-after.png')
})
