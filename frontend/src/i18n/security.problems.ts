// Problem codes of login, security administration and integration, as sentences in the
// current language (messages under security.errors / security.rulesShort).
import type { Problem } from '@/api/problem'

type Translate = (key: string, named?: Record<string, unknown>) => string

export const SECURITY_CODES = new Set([
  'account_locked',
  'invalid_otp',
  'mfa_token_invalid',
  'mfa_required',
  'wrong_password',
  'password_change_required',
  'mfa_enrolment_required',
  'mfa_required_by_policy',
  'totp_not_started',
  'unknown_scope',
  'unsafe_webhook_url',
  'insufficient_scope',
  'invalid_client',
])

function half(text: string, locale: string): string {
  const parts = text.split(' / ')
  if (parts.length !== 2) return text
  return (locale.startsWith('zh') ? parts[1] : parts[0])!.trim()
}

/** A sentence for the security codes, or null to let the generic rules answer. */
export function securityProblemMessage(t: Translate, problem: Problem, locale = 'zh-CN'): string | null {
  if (problem.code === 'weak_password') {
    const rules = problem.rules ?? []
    if (rules.length === 0) return t('security.errors.weak_password')
    const sep = locale.startsWith('zh') ? '；' : '; '
    const list = rules
      .map((r) => {
        const key = `security.rulesShort.${r}`
        const text = t(key)
        return text === key ? r : text
      })
      .join(sep)
    return t('security.errors.weak_password_rules', { rules: list })
  }
  if (problem.code === 'too_many_attempts' && !problem.retryAfter) return null
  if (problem.code === 'separation_of_duties') {
    const detail = problem.detail ? half(problem.detail, locale) : ''
    const title = t('security.errors.separation_of_duties')
    const colon = locale.startsWith('zh') ? '：' : ': '
    return detail && !title.includes(detail) ? `${title}${colon}${detail}` : title
  }
  if (SECURITY_CODES.has(problem.code)) return t(`security.errors.${problem.code}`)
  return null
}
