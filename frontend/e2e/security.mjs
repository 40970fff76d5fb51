// Browser tests of security administration (等保 2.0): the last-login notice, the policy page, a
// lock and unlock by the 安全管理员, the 审计管理员's login log with a failed login made here,
// TOTP enrolment on 我的安全设置 and the two-step login (a wrong code refused readably), and
// the 系统管理员's pages. Run against scripts/e2e.sh (fresh demo database).
import { createHmac } from 'node:crypto'
import { expect, test } from './harness.mjs'

const PASSWORD = process.env.E2E_PASSWORD || ''
const BASE = (process.env.E2E_BASE_URL || '').replace(/\/$/, '')
const LOCK_TARGET = 'xuancheng' // 宣城市委宣传部 演示账号: not used by the other browser tests

// ---- Node-side helpers -------------------------------------------------------------------------

/** RFC 6238 TOTP (HMAC-SHA-1, 30 s, 6 digits) of a base32 secret, `offset` steps from now. */
export function totp(secret, offset = 0, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch)
    if (v < 0) continue
    bits += v.toString(2).padStart(5, '0')
  }
  const bytes = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  const counter = Math.floor(now / 1000 / 30) + offset
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(counter))
  const mac = createHmac('sha1', Buffer.from(bytes)).update(msg).digest()
  const o = mac[mac.length - 1] & 0x0f
  const code = ((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).toString()
  return code.padStart(6, '0')
}

async function resetClock() {
  const r = await fetch(`${BASE}/api/v1/test/clock`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ now: null }),
  })
  expect(r.ok, `PUT /api/v1/test/clock answered ${r.status}`)
}

async function apiLogin(username, password = PASSWORD) {
  const r = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  return r
}

/** A cookie session for API calls from the test itself (e.g. cleaning up). */
async function apiAs(username) {
  const r = await apiLogin(username)
  expect(r.ok, `API login as ${username} answered ${r.status}`)
  const body = await r.json()
  expect(!body.mfa_required, `API login as ${username} asks for a second factor`)
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  return async (method, path, json) => {
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers: {
        Cookie: cookie,
        'X-CSRF-Token': body.csrf_token,
        Accept: 'application/json',
        ...(json ? { 'Content-Type': 'application/json' } : {}),
      },
      body: json ? JSON.stringify(json) : undefined,
    })
    return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) }
  }
}

async function fillLogin(page, username, password) {
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByTestId('login-submit').click()
}

async function loginUi(page, username) {
  await page.goto('/login')
  await fillLogin(page, username, PASSWORD)
  await page.waitForURL((url) => url.pathname !== '/login')
}

/** Picks an option of an el-select whose input has this id (the input itself is read-only). */
async function selectOption(page, inputSelector, option) {
  await page.locator('.el-select', { has: page.locator(inputSelector) }).click()
  await page.getByRole('option', { name: option, exact: true }).last().click()
}

async function openMenu(page, name) {
  await page.getByRole('navigation', { name: '主菜单' }).getByRole('menuitem', { name }).click()
}

// ---- tests ------------------------------------------------------------------------------------

test('security: secadmin sees the last-login notice, the policy, and locks and unlocks a user', async ({ page, screenshot }) => {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await resetClock()
  // A previous successful login, then one failure, so the notice has both to tell.
  const first = await apiLogin('secadmin')
  expect(first.ok, `first login as secadmin answered ${first.status}`)

  await page.goto('/login')
  await fillLogin(page, 'secadmin', `wrong-${Date.now()}`)
  const error = page.getByTestId('login-error')
  await error.waitFor()
  expect((await error.innerText()).includes('用户名或密码错误'), 'wrong password not explained')

  await fillLogin(page, 'secadmin', PASSWORD)
  await page.waitForURL((url) => url.pathname === '/')
  const notice = page.locator('.login-notice')
  await notice.waitFor()
  const text = await notice.innerText()
  expect(text.includes('上次登录时间'), `notice without the last login: ${text}`)
  expect(/有 1 次登录失败/.test(text), `notice without the failed attempt: ${text}`)
  await screenshot('security-login-notice.png')

  await openMenu(page, '安全策略')
  await page.getByTestId('policy-form').waitFor()
  const minLength = await page.getByLabel('口令最小长度').inputValue()
  expect(Number(minLength) >= 8, `policy min length shown as ${minLength}`)
  await screenshot('security-policy.png')

  await openMenu(page, '用户安全管理')
  await page.getByTestId('user-security-table').waitFor()
  await page.getByTestId('user-search').fill(LOCK_TARGET)
  await page.getByRole('button', { name: '查询' }).click()
  await page.getByTestId(`lock-${LOCK_TARGET}`).click()
  await page.getByTestId('lock-reason').fill('演示：离岗期间暂停使用')
  await page.getByTestId('lock-submit').click()
  await page.getByTestId(`unlock-${LOCK_TARGET}`).waitFor()
  await page.getByTestId('tag-locked').first().waitFor()
  await screenshot('security-user-locked.png')
  const locked = await apiLogin(LOCK_TARGET)
  const lockedBody = await locked.json()
  expect(locked.status === 401 && lockedBody.code === 'account_locked', `locked account logged in: ${locked.status} ${lockedBody.code}`)

  await page.getByTestId(`unlock-${LOCK_TARGET}`).click()
  await page.getByTestId(`lock-${LOCK_TARGET}`).waitFor()
  const unlocked = await apiLogin(LOCK_TARGET)
  expect(unlocked.ok, `unlocked account cannot log in: ${unlocked.status}`)
  await screenshot('security-users.png')
})

test('security: auditor finds the failed login in the login log and verifies the audit chain', async ({ page, screenshot }) => {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await loginUi(page, 'auditor')
  const menu = (await page.getByRole('navigation', { name: '主菜单' }).getByRole('menuitem').allInnerTexts()).map((s) => s.trim())
  expect(menu.includes('登录日志') && menu.includes('安全审计'), `auditor menu: ${menu.join(', ')}`)
  expect(!menu.includes('安全策略') && !menu.includes('用户管理'), `auditor sees admin pages: ${menu.join(', ')}`)

  await openMenu(page, '登录日志')
  await page.getByTestId('login-log-table').waitFor()
  await page.getByLabel('用户名').fill('secadmin')
  await selectOption(page, '#ll-result', '失败')
  await page.getByTestId('login-log-search').click()
  const row = page.getByTestId('login-log-table').locator('tbody tr').filter({ hasText: 'secadmin' }).filter({ hasText: '用户名或口令错误' })
  await row.first().waitFor()
  const href = await page.getByTestId('export-csv').getAttribute('href')
  expect(href?.includes('username=secadmin') && href.includes('success=false') && href.includes('format=csv'), `export link: ${href}`)
  await screenshot('security-login-log.png')

  await openMenu(page, '安全审计')
  await page.getByTestId('audit-table').waitFor()
  await page.getByTestId('verify-chain').click()
  const chain = page.getByTestId('chain-result')
  await chain.waitFor()
  const chainText = await chain.innerText()
  expect(chainText.includes('完整'), `chain result: ${chainText}`)
  await screenshot('security-audit.png')
})

test('security: office enrols TOTP, signs in with the second step, and a wrong code is refused', async ({ page, screenshot }) => {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await resetClock()
  try {
    await loginUi(page, 'office')
    await openMenu(page, '我的安全设置')
    await page.getByTestId('my-security-overview').waitFor()
    await page.getByTestId('totp-start').click()
    await page.getByTestId('totp-qr').waitFor()
    const secret = (await page.getByTestId('totp-secret').innerText()).trim()
    expect(/^[A-Z2-7]{16,}$/.test(secret), `secret shown: ${secret}`)
    await screenshot('security-totp-setup.png')
    await page.getByLabel('应用显示的 6 位验证码').fill(totp(secret))
    await page.getByTestId('totp-confirm').click()
    await page.getByTestId('recovery-codes').waitFor()
    const codes = await page.getByTestId('recovery-codes').locator('li').count()
    expect(codes === 10, `${codes} recovery codes shown`)
    await screenshot('security-recovery-codes.png')
    await page.getByTestId('codes-saved').click()
    await page.getByTestId('mfa-state').filter({ hasText: '已启用' }).waitFor()
    await screenshot('security-my-security.png')

    await page.getByTestId('logout').click()
    await page.waitForURL((url) => url.pathname === '/login')
    await fillLogin(page, 'office', PASSWORD)
    await page.getByTestId('login-otp-step').waitFor()
    const right = totp(secret, 1)
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0')
    await page.getByLabel('动态验证码').fill(wrong)
    await page.getByTestId('login-otp-submit').click()
    const error = page.getByTestId('login-error')
    await error.waitFor()
    const text = (await error.innerText()).trim()
    expect(text.includes('动态验证码错误'), `wrong code message: ${text}`)
    await screenshot('security-login-wrong-code.png')

    // The code of the next step: the enrolment already used this one (no replay).
    await page.getByLabel('动态验证码').fill(totp(secret, 1))
    await page.getByTestId('login-otp-submit').click()
    await page.waitForURL((url) => url.pathname === '/')
    await page.locator('.login-notice').first().waitFor()
  } finally {
    // Other browser tests log in as office with the password only: take the factor off again.
    const sec = await apiAs('secadmin')
    const found = await sec('GET', '/api/v1/security/users?q=office&limit=50')
    const office = found.body?.items?.find((u) => u.username === 'office')
    if (office?.mfa_enabled) {
      const reset = await sec('POST', `/api/v1/security/users/${office.id}/mfa/reset`)
      expect(reset.status === 200, `resetting office's second factor answered ${reset.status}`)
    }
  }
})

test('security: sysadmin pages — users with masked phones, organisations, service accounts, webhooks', async ({ page, screenshot }) => {
  expect(PASSWORD, 'E2E_PASSWORD is not set')
  await loginUi(page, 'sysadmin')
  const menu = (await page.getByRole('navigation', { name: '主菜单' }).getByRole('menuitem').allInnerTexts()).map((s) => s.trim())
  expect(menu.includes('用户管理') && menu.includes('组织机构'), `sysadmin menu: ${menu.join(', ')}`)
  expect(!menu.includes('登录日志') && !menu.includes('安全策略'), `sysadmin sees other admins' pages: ${menu.join(', ')}`)

  await openMenu(page, '用户管理')
  await page.getByTestId('accounts-table').locator('tbody tr').first().waitFor()
  // A new account with a business role and a phone: the list masks it, the whole number is audited.
  const username = `e2e_${Date.now() % 1_000_000}`
  await page.getByTestId('create-user').click()
  await page.getByLabel('用户名', { exact: true }).fill(username)
  await page.getByLabel('姓名').fill('测试用户')
  await page.getByLabel('初始口令').fill('Anhui-Sites-2026!')
  await selectOption(page, '#new-org', '合肥市委宣传部')
  await page.getByRole('dialog', { name: '新建用户' }).getByText('推荐单位').click()
  await page.getByLabel('手机号码').fill('13812341234')
  await page.getByTestId('create-user-submit').click()
  await page.getByRole('dialog', { name: '新建用户' }).waitFor({ state: 'hidden' })
  await page.getByTestId('user-search-q').fill(username)
  await page.getByRole('button', { name: '查询' }).click()
  const phone = page.getByTestId(`phone-${username}`)
  await phone.filter({ hasText: '*' }).waitFor()
  const masked = (await phone.innerText()).trim()
  expect(masked !== '13812341234' && masked.includes('*'), `phone in the list: ${masked}`)
  await screenshot('admin-users.png')
  await page.getByRole('button', { name: '查看完整号码（记入安全审计）' }).click()
  await phone.filter({ hasText: '13812341234' }).waitFor()

  await openMenu(page, '组织机构')
  await page.getByTestId('orgs-table').locator('tbody tr').first().waitFor()
  await screenshot('admin-organizations.png')

  await openMenu(page, '服务账号')
  await page.getByTestId('create-sa').click()
  await page.getByLabel('名称').fill(`省级数据共享平台 ${Date.now() % 100000}`)
  await selectOption(page, '#sa-org', '省委宣传部思想政治工作处')
  await selectOption(page, '#sa-scopes', 'applications:read')
  await page.locator('.el-dialog__title', { hasText: '新建服务账号' }).click()
  await page.getByRole('dialog').getByRole('button', { name: '创建' }).click()
  const secret = page.getByTestId('sa-client-secret')
  await secret.waitFor()
  expect((await secret.innerText()).trim().length >= 20, 'client secret not shown')
  await screenshot('admin-service-account-secret.png')
  await page.getByRole('button', { name: '完成' }).click()
  await page.getByTestId('sa-table').waitFor()
  await screenshot('admin-service-accounts.png')

  await openMenu(page, 'Webhook 订阅')
  await page.getByRole('heading', { name: 'Webhook 订阅' }).waitFor()
  await screenshot('admin-webhooks.png')
})
