// Browser tests of the SPA as served by the backend. Needs:
//   E2E_BASE_URL  the running backend that serves frontend/dist (e.g. http://127.0.0.1:8765)
//   E2E_PASSWORD  the demo accounts' password (the server seeded with `seed --demo`)
//   E2E_USERNAME  optional, default "office"
// Screenshots go to frontend/test-results/. Exits non-zero when any test fails.
import { expect, run, test } from './harness.mjs'
import './sites.mjs' // after the award: public list, plaque verification, office and site pages
import './ledger.mjs' // work ledger: a unit records an entry and sees its compliance change
import './workflow.mjs' // the creation workflow's round through the pages
import './security.mjs' // 等保: login notice, policy, lock, login log, TOTP two-step login, admin pages
import './documents.mjs' // documents: 申报审批表 PDF, Excel export, form zip job, applicant import

const USERNAME = process.env.E2E_USERNAME || 'office'
const PASSWORD = process.env.E2E_PASSWORD || ''

function needPassword() {
  expect(PASSWORD, 'E2E_PASSWORD is not set: the demo password printed by `python -m demosites.cli seed --demo`')
}

async function fillLogin(page, username, password) {
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
}

test('public sites page renders without login', async ({ page, screenshot }) => {
  const response = await page.goto('/public/sites')
  expect(response?.ok(), `GET /public/sites answered ${response?.status()}`)
  await page.getByRole('heading', { name: '基层思想政治工作示范点名单' }).waitFor()
  // The published list (or its empty state): the sites' own tests check the content.
  await page.locator('[data-testid="public-site-list"], [data-state="empty"]').first().waitFor()
  expect(new URL(page.url()).pathname === '/public/sites', `redirected to ${page.url()}`)
  await screenshot('public-sites.png')
})

test('login page at 390 px width: labelled fields, no horizontal scrolling', async ({ page, screenshot }) => {
  await page.goto('/login')
  await page.getByRole('heading', { name: '安徽省基层思想政治工作示范点管理平台' }).waitFor()
  await page.getByLabel('用户名').waitFor()
  await page.getByLabel('密码', { exact: true }).waitFor()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  expect(overflow <= 0, `page is ${overflow}px wider than the 390px viewport`)
  await screenshot('login-390.png')
}, { viewport: { width: 390, height: 844 } })

test('a protected page sends to login, and login as office returns there and shows /me', async ({
  page,
  context,
  screenshot,
}) => {
  needPassword()
  await page.goto('/preliminary')
  await page.waitForURL((url) => url.pathname === '/login')
  const redirect = new URL(page.url()).searchParams.get('redirect')
  expect(redirect === '/preliminary', `login redirect parameter was ${redirect}`)

  await fillLogin(page, USERNAME, PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((url) => url.pathname === '/preliminary')

  const me = await page.evaluate(async () => {
    const r = await fetch('/api/v1/me', { headers: { Accept: 'application/json' } })
    return { status: r.status, body: await r.json() }
  })
  expect(me.status === 200, `GET /api/v1/me after login answered ${me.status}`)
  const orgName = me.body.organization.name
  expect(orgName.includes('思想政治工作处') || USERNAME !== 'office', `office's organisation is "${orgName}"`)

  const headerOrg = (await page.getByTestId('header-organization').innerText()).trim()
  expect(headerOrg === orgName, `header shows organisation "${headerOrg}", /me says "${orgName}"`)
  const headerName = (await page.getByTestId('header-display-name').innerText()).trim()
  expect(headerName === me.body.display_name, `header shows "${headerName}", /me says "${me.body.display_name}"`)

  // 我的信息 shows the same user, roles and organisation.
  await page.getByRole('menuitem', { name: '我的信息' }).click()
  await page.waitForURL((url) => url.pathname === '/')
  const pageOrg = (await page.getByTestId('me-organization').innerText()).trim()
  expect(pageOrg === orgName, `我的信息 shows "${pageOrg}", /me says "${orgName}"`)

  // The session is in an httpOnly cookie only; nothing token-like sits in web storage.
  const cookies = await context.cookies()
  const session = cookies.find((c) => c.name === 'ds_session')
  expect(session?.httpOnly, 'ds_session cookie missing or readable by scripts')
  const csrf = cookies.find((c) => c.name === 'ds_csrf')?.value ?? ''
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
  expect(!session?.value || !storage.includes(session.value), 'session token found in web storage')
  expect(!csrf || !storage.includes(csrf), 'CSRF token found in web storage')
  await screenshot('home-office.png')

  // Logout (an unsafe request: exercises the CSRF header) ends the session on the server.
  await page.getByTestId('logout').click()
  await page.waitForURL((url) => url.pathname === '/login')
  const after = await page.evaluate(async () => (await fetch('/api/v1/me')).status)
  expect(after === 401, `GET /api/v1/me after logout answered ${after}`)
})

test('a user with several roles switches role, and the menu follows (kept after reload)', async ({ page }) => {
  needPassword()
  // Demo account of 省委教育工委: recommender and assessor.
  await page.goto('/login')
  await fillLogin(page, process.env.E2E_MULTI_ROLE_USERNAME || 'edu', PASSWORD)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((url) => url.pathname === '/')
  const menu = page.getByRole('navigation', { name: '主菜单' })
  const items = async () => (await menu.getByRole('menuitem').allInnerTexts()).map((s) => s.trim())

  await page.getByLabel('当前角色').waitFor()
  await page.getByTestId('role-switch').click()
  await page.getByRole('option', { name: '考核组成员' }).click()
  await menu.getByRole('menuitem', { name: '考核' }).waitFor()
  let shown = await items()
  expect(!shown.includes('推荐'), `assessor menu: ${shown.join(', ')}`)

  await page.getByTestId('role-switch').click()
  await page.getByRole('option', { name: '推荐单位' }).click()
  await menu.getByRole('menuitem', { name: '推荐' }).waitFor()
  shown = await items()
  expect(!shown.includes('考核'), `recommender menu: ${shown.join(', ')}`)

  await page.reload()
  await menu.getByRole('menuitem', { name: '推荐' }).waitFor()
  const role = await page.evaluate(() => sessionStorage.getItem('ds.activeRole'))
  expect(role === 'recommender', `active role after reload: ${role}`)
})

test('wrong password shows a readable error (keyboard only)', async ({ page, screenshot }) => {
  await page.goto('/login')
  await page.getByLabel('用户名').click()
  await page.keyboard.type(USERNAME)
  await page.keyboard.press('Tab')
  await page.keyboard.type(`wrong-${Date.now()}`)
  await page.keyboard.press('Enter')
  const alert = page.getByTestId('login-error')
  await alert.waitFor()
  const text = (await alert.innerText()).trim()
  expect(text.includes('用户名或密码错误'), `error shown: "${text}"`)
  expect(new URL(page.url()).pathname === '/login', 'left the login page after a wrong password')
  await screenshot('login-wrong-password.png')
})

test('language switch turns the login page into English', async ({ page }) => {
  await page.goto('/login')
  await page.getByTestId('language-switch').click()
  await page.getByRole('option', { name: 'English' }).click()
  await page.getByRole('button', { name: 'Sign in' }).waitFor()
  const lang = await page.evaluate(() => document.documentElement.lang)
  expect(lang === 'en', `<html lang> is ${lang}`)
})

test('unknown paths show the 404 page', async ({ page }) => {
  await page.goto('/no/such/page')
  await page.getByText('页面不存在').first().waitFor()
})

await run()
