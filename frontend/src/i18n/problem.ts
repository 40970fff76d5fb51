// Turns an API problem into a sentence in the current language.
import { useI18n } from 'vue-i18n'
import type { Problem } from '@/api/problem'
import { securityProblemMessage } from './security.problems'

type Translate = (key: string, named?: Record<string, unknown>) => string

/** Problem codes with their own sentence in zh-CN.ts / en.ts (`errors.<code>`). */
const KNOWN_CODES = new Set([
  'invalid_credentials',
  'too_many_attempts',
  'unauthenticated',
  'csrf_failed',
  'forbidden',
  'validation_error',
  'not_found',
  'conflict',
  'payload_too_large',
  'too_many_requests',
  'service_unavailable',
  'network_error',
])

/** The server writes titles and details as "English / 中文": keep the half for the language. */
export function pickLanguage(text: string, locale: string): string {
  const parts = text.split(' / ')
  if (parts.length !== 2) return text
  return (locale.startsWith('zh') ? parts[1] : parts[0])!.trim()
}

export function problemMessage(t: Translate, problem: Problem, locale = 'zh-CN'): string {
  if (problem.code === 'too_many_attempts' && problem.retryAfter) {
    return t('errors.too_many_attempts_retry', { seconds: problem.retryAfter })
  }
  if (KNOWN_CODES.has(problem.code)) return t(`errors.${problem.code}`)
  const security = securityProblemMessage(t, problem, locale)
  if (security) return security
  // A code without a translation yet: the server's own explanation beats a bare code.
  const own = problem.detail || problem.title
  if (own) return pickLanguage(own, locale)
  if (problem.status >= 500) return t('errors.server_error', { status: problem.status })
  if (problem.status === 422) return t('errors.validation_error')
  if (problem.status === 403) return t('errors.forbidden')
  return t('errors.unknown', { code: problem.code })
}

/** For components: `const describe = useProblemMessage()` then `describe(problem)`. */
export function useProblemMessage(): (problem: Problem) => string {
  const { t, locale } = useI18n()
  return (problem) => problemMessage(t as Translate, problem, locale.value)
}
