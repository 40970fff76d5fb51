import { beforeEach, describe, expect, it } from 'vitest'
import { createAppI18n, DEFAULT_LOCALE, LOCALE_STORAGE_KEY, setLocale } from './index'
import { problemMessage } from './problem'
import zhCN from './zh-CN'
import en from './en'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('i18n', () => {
  beforeEach(() => localStorage.clear())

  it('starts in Chinese with the product name of the notice', () => {
    const i18n = createAppI18n()
    expect(i18n.global.locale.value).toBe(DEFAULT_LOCALE)
    expect(i18n.global.t('app.title')).toBe('安徽省基层思想政治工作示范点管理平台')
  })

  it('switches to English, sets <html lang> and remembers the choice', () => {
    const i18n = createAppI18n('zh-CN')
    expect(i18n.global.t('auth.submit')).toBe('登录')

    setLocale('en', i18n)

    expect(i18n.global.t('auth.submit')).toBe('Sign in')
    expect(document.documentElement.lang).toBe('en')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en')
    expect(createAppI18n().global.locale.value).toBe('en')
  })

  it('ignores an unknown stored language', () => {
    localStorage.setItem(LOCALE_STORAGE_KEY, 'fr')
    expect(createAppI18n().global.locale.value).toBe('zh-CN')
  })

  it('has the same keys in both languages', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('explains problem codes in the current language', () => {
    const i18n = createAppI18n('zh-CN')
    const t = i18n.global.t as (key: string, named?: Record<string, unknown>) => string
    const wrong = { status: 401, code: 'invalid_credentials' }
    expect(problemMessage(t, wrong)).toBe('用户名或密码错误')
    expect(problemMessage(t, { status: 429, code: 'too_many_attempts', retryAfter: 60 })).toContain('60')
    expect(problemMessage(t, { status: 502, code: 'http_502' })).toContain('502')
    setLocale('en', i18n)
    expect(problemMessage(t, wrong)).toBe('Wrong username or password')
  })
})

describe('server messages', () => {
  it('keeps the half of a bilingual detail that matches the language', async () => {
    const { pickLanguage } = await import('./problem')
    expect(pickLanguage('Round is closed / 申报已截止', 'zh-CN')).toBe('申报已截止')
    expect(pickLanguage('Round is closed / 申报已截止', 'en')).toBe('Round is closed')
    expect(pickLanguage('plain', 'en')).toBe('plain')
  })
})
