import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createAppI18n, setLocale } from './index'
import { problemMessage } from './problem'
import { SECURITY_CODES } from './security.problems'
import zhCN from './zh-CN'
import { LOGIN_REASONS, SECURITY_EVENTS } from '@/stores/securityLogs'
import { PASSWORD_RULES } from '@/stores/securityRules'

type Translate = (key: string, named?: Record<string, unknown>) => string

function has(messages: unknown, key: string): boolean {
  let node: unknown = messages
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return false
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string'
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(vue|ts)$/.test(e.name) && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : [],
  )
}

describe('security messages', () => {
  it('has every literal security.* key the pages and stores use', () => {
    const src = resolve(process.cwd(), 'src')
    const files = [
      ...sources(join(src, 'pages/security')),
      ...sources(join(src, 'pages/admin')),
      join(src, 'pages/auth/LoginPage.vue'),
    ]
    const missing = new Set<string>()
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`](security\.[a-zA-Z_]+\.[a-zA-Z_]+)['"`]/g)) {
        if (!has(zhCN, m[1]!)) missing.add(`${m[1]} (${file.slice(src.length)})`)
      }
    }
    expect([...missing]).toEqual([])
  })

  it('names every login reason, audit event, rule, problem code and restriction', () => {
    const keys = [
      ...LOGIN_REASONS.map((r) => `security.reasons.${r}`),
      ...SECURITY_EVENTS.map((e) => `security.events.${e}`),
      ...PASSWORD_RULES.flatMap((r) => [`security.rules.${r}`, `security.rulesShort.${r}`]),
      ...[...SECURITY_CODES].map((c) => `security.errors.${c}`),
      ...['password_change', 'mfa_enrolment'].flatMap((r) => [`security.restriction.${r}`, `security.restriction.${r}Detail`]),
      'roles.sysadmin',
      'roles.secadmin',
      'roles.auditor',
    ]
    expect(keys.filter((k) => !has(zhCN, k))).toEqual([])
  })

  it('calls the three administrators by their 三员 names and drops the old admin role', () => {
    const i18n = createAppI18n('zh-CN')
    expect(i18n.global.t('roles.auditor')).toBe('审计管理员')
    expect(has(zhCN, 'roles.admin')).toBe(false)
  })
})

describe('security problems in both languages', () => {
  it('explains each rule a weak password broke', () => {
    const i18n = createAppI18n('zh-CN')
    const t = i18n.global.t as Translate
    const weak = { status: 422, code: 'weak_password', rules: ['min_length', 'contains_username'] }
    expect(problemMessage(t, weak, 'zh-CN')).toBe('口令不符合安全策略：长度不足；包含用户名')
    setLocale('en', i18n)
    expect(problemMessage(t, weak, 'en')).toBe('The password does not meet the policy: too short; contains the username')
    expect(problemMessage(t, { status: 422, code: 'weak_password' }, 'en')).toBe('The password does not meet the policy')
  })

  it('shows the login codes readably', () => {
    const i18n = createAppI18n('zh-CN')
    const t = i18n.global.t as Translate
    expect(problemMessage(t, { status: 401, code: 'invalid_otp' })).toContain('动态验证码错误')
    expect(problemMessage(t, { status: 401, code: 'mfa_token_invalid' })).toContain('重新输入用户名和口令')
    expect(problemMessage(t, { status: 401, code: 'account_locked' })).toContain('安全管理员')
    expect(problemMessage(t, { status: 400, code: 'wrong_password' })).toBe('当前口令错误')
    expect(problemMessage(t, { status: 429, code: 'too_many_attempts', retryAfter: 600 })).toContain('600')
  })

  it('keeps the server half of a 三员分立 refusal for the current language', () => {
    const i18n = createAppI18n('zh-CN')
    const t = i18n.global.t as Translate
    const refusal = {
      status: 403,
      code: 'separation_of_duties',
      detail: 'Nobody changes their own roles / 不能修改自己的角色',
    }
    expect(problemMessage(t, refusal, 'zh-CN')).toBe('违反三员分立原则：不能修改自己的角色')
    setLocale('en', i18n)
    expect(problemMessage(t, refusal, 'en')).toBe('Refused by the separation of administrator duties: Nobody changes their own roles')
  })
})
