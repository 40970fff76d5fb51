import { describe, expect, it } from 'vitest'
import {
  challengeExpired,
  initialFlow,
  looksLikeOtp,
  nextFlow,
  normaliseOtp,
  restrictedTarget,
  summariseNotices,
} from './securityLogin'

const NOTICES = {
  failed_attempts_since: 0,
  password_change_required: false,
  password_expired: false,
  mfa_enrolment_required: false,
}

describe('login flow state machine', () => {
  it('goes from the password to the code step on a challenge, with its deadline', () => {
    const state = nextFlow(initialFlow('office'), { type: 'challenge', mfaToken: 'tok', expiresIn: 300, now: 1000 })
    expect(state).toEqual({ step: 'otp', username: 'office', mfaToken: 'tok', expiresAt: 301_000, error: null })
    expect(challengeExpired(state, 300_999)).toBe(false)
    expect(challengeExpired(state, 301_000)).toBe(true)
  })

  it('stays on the code step after a wrong code, so the user can try again', () => {
    const otp = nextFlow(initialFlow('office'), { type: 'challenge', mfaToken: 'tok', expiresIn: 300, now: 0 })
    const wrong = nextFlow(otp, { type: 'failed', code: 'invalid_otp' })
    expect(wrong.step).toBe('otp')
    expect(wrong.error).toBe('invalid_otp')
    expect(nextFlow(otp, { type: 'failed', code: 'too_many_attempts' }).step).toBe('otp')
  })

  it('goes back to the password when the step expired or the account got locked', () => {
    const otp = nextFlow(initialFlow('office'), { type: 'challenge', mfaToken: 'tok', expiresIn: 300, now: 0 })
    for (const code of ['mfa_token_invalid', 'account_locked']) {
      const back = nextFlow(otp, { type: 'failed', code })
      expect(back).toEqual({ step: 'credentials', username: 'office', error: code })
    }
  })

  it('keeps the password step on a wrong password and restarts on request', () => {
    const failed = nextFlow(initialFlow('x'), { type: 'failed', code: 'invalid_credentials' })
    expect(failed).toEqual({ step: 'credentials', username: 'x', error: 'invalid_credentials' })
    const otp = nextFlow(failed, { type: 'challenge', mfaToken: 't', expiresIn: 1, now: 0 })
    expect(nextFlow(otp, { type: 'restart' })).toEqual(initialFlow('x'))
    expect(challengeExpired(failed, Number.MAX_SAFE_INTEGER)).toBe(false)
  })

  it('accepts 6 digits (spaces ignored) or a recovery code', () => {
    expect(normaliseOtp(' 123 456 ')).toBe('123456')
    expect(normaliseOtp(' ABCDE-FGHJK ')).toBe('abcde-fghjk')
    expect(looksLikeOtp('123456')).toBe(true)
    expect(looksLikeOtp('abcde-fghjk')).toBe(true)
    expect(looksLikeOtp('12345')).toBe(false)
    expect(looksLikeOtp('hello')).toBe(false)
  })
})

describe('restricted sessions', () => {
  it('send every page to 我的安全设置 while a password change or enrolment is due', () => {
    expect(restrictedTarget('password_change', 'preliminary')).toEqual({
      name: 'my-security',
      query: { must: 'password_change' },
    })
    expect(restrictedTarget('mfa_enrolment', 'home')?.name).toBe('my-security')
  })
  it('let 我的安全设置 itself and unrestricted sessions pass', () => {
    expect(restrictedTarget('password_change', 'my-security')).toBeNull()
    expect(restrictedTarget(null, 'preliminary')).toBeNull()
    expect(restrictedTarget(undefined, 'home')).toBeNull()
  })
})

describe('login notice (上次登录时间, 失败次数)', () => {
  it('is informative after a clean login', () => {
    const s = summariseNotices({ ...NOTICES, previous_login_at: '2026-05-01T01:00:00Z', previous_login_ip: '10.0.0.1' })
    expect(s).toMatchObject({ type: 'info', firstLogin: false, previousIp: '10.0.0.1', failedSince: 0 })
  })
  it('warns of failures since the last login and of what is due', () => {
    expect(summariseNotices({ ...NOTICES, previous_login_at: '2026-05-01T01:00:00Z', failed_attempts_since: 3 }).type).toBe('warning')
    const due = summariseNotices({ ...NOTICES, mfa_enrolment_required: true, mfa_enrolment_deadline: '2026-06-01T00:00:00Z' })
    expect(due).toMatchObject({ type: 'warning', firstLogin: true, mfaEnrolmentRequired: true, mfaDeadline: '2026-06-01T00:00:00Z' })
    expect(summariseNotices({ ...NOTICES, password_change_required: true, password_expired: true })).toMatchObject({
      type: 'warning',
      passwordExpired: true,
    })
  })
})
