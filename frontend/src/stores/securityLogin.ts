// The two-step login as a small state machine, and what the SPA does with a login's answer:
// where the user lands (a restricted session goes to 我的安全设置) and which 等保 notices to show.
import type { LoginNotices, Restriction } from '@/stores/securityTypes'

export type LoginFlow =
  | { step: 'credentials'; username: string; error: string | null }
  | { step: 'otp'; username: string; mfaToken: string; expiresAt: number; error: string | null }

export type LoginEvent =
  /** The password was right and the account has TOTP: ask for the code. */
  | { type: 'challenge'; mfaToken: string; expiresIn: number; now: number }
  /** A step failed with this problem code. */
  | { type: 'failed'; code: string }
  /** The user goes back to the password step (or the challenge expired). */
  | { type: 'restart' }

export function initialFlow(username = ''): LoginFlow {
  return { step: 'credentials', username, error: null }
}

/** Problem codes after which the code step cannot continue: start again with the password. */
const RESTART_CODES = new Set(['mfa_token_invalid', 'account_locked', 'unauthenticated'])

export function nextFlow(state: LoginFlow, event: LoginEvent): LoginFlow {
  switch (event.type) {
    case 'challenge':
      return {
        step: 'otp',
        username: state.username,
        mfaToken: event.mfaToken,
        expiresAt: event.now + event.expiresIn * 1000,
        error: null,
      }
    case 'failed':
      if (state.step === 'otp' && RESTART_CODES.has(event.code)) {
        return { step: 'credentials', username: state.username, error: event.code }
      }
      return { ...state, error: event.code }
    case 'restart':
      return initialFlow(state.username)
  }
}

/** True when the second step's token has run out (the user must give the password again). */
export function challengeExpired(state: LoginFlow, now: number): boolean {
  return state.step === 'otp' && now >= state.expiresAt
}

/** 6 digits of the authenticator app, or a recovery code like `abcde-fghjk`. */
export function normaliseOtp(input: string): string {
  const trimmed = input.trim()
  const digits = trimmed.replace(/\s+/g, '')
  return /^\d{6}$/.test(digits) ? digits : trimmed.toLowerCase()
}

export function looksLikeOtp(input: string): boolean {
  const code = normaliseOtp(input)
  return /^\d{6}$/.test(code) || /^[a-z0-9]{5}-?[a-z0-9]{5}$/.test(code)
}

export const MY_SECURITY_ROUTE = 'my-security'

/** Where a route request must go instead while the session is restricted; null: let it pass. */
export function restrictedTarget(
  restriction: Restriction | null | undefined,
  routeName: unknown,
): { name: string; query: { must: Restriction } } | null {
  if (!restriction || routeName === MY_SECURITY_ROUTE) return null
  return { name: MY_SECURITY_ROUTE, query: { must: restriction } }
}

export interface NoticeSummary {
  /** warning when failed logins happened since the last success or something is due. */
  type: 'info' | 'warning'
  firstLogin: boolean
  previousAt: string | null
  previousIp: string | null
  failedSince: number
  passwordExpired: boolean
  passwordChangeRequired: boolean
  mfaEnrolmentRequired: boolean
  mfaDeadline: string | null
}

/** The facts of the 上次登录 notice (等保 身份鉴别: last login time and failures since). */
export function summariseNotices(notices: LoginNotices): NoticeSummary {
  const failed = notices.failed_attempts_since ?? 0
  const due = notices.password_change_required || notices.mfa_enrolment_required
  return {
    type: failed > 0 || due ? 'warning' : 'info',
    firstLogin: !notices.previous_login_at,
    previousAt: notices.previous_login_at ?? null,
    previousIp: notices.previous_login_ip ?? null,
    failedSince: failed,
    passwordExpired: notices.password_expired,
    passwordChangeRequired: notices.password_change_required,
    mfaEnrolmentRequired: notices.mfa_enrolment_required,
    mfaDeadline: notices.mfa_enrolment_deadline ?? null,
  }
}
