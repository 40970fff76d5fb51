import { describe, expect, it } from 'vitest'
import {
  SCOPE_PATTERN,
  characterClasses,
  checkPassword,
  displayMasked,
  explainRules,
  exportHref,
  formatDateTime,
  isMasked,
  revealedPhone,
} from './securityRules'

describe('password rules explained', () => {
  it('names each broken rule with the policy number behind it', () => {
    const out = explainRules(['min_length', 'char_classes', 'contains_username', 'reused'], {
      min_length: 14,
      min_classes: 4,
      history: 8,
    })
    expect(out.map((r) => [r.key, r.params])).toEqual([
      ['security.rules.min_length', { n: 14 }],
      ['security.rules.char_classes', { n: 4 }],
      ['security.rules.contains_username', {}],
      ['security.rules.reused', { n: 8 }],
    ])
  })
  it('falls back to the default policy and keeps an unknown rule readable', () => {
    expect(explainRules(['min_length'])[0]!.params).toEqual({ n: 12 })
    expect(explainRules(['sequence'])[0]).toEqual({ rule: 'sequence', key: 'security.rules.unknown', params: { rule: 'sequence' } })
  })
  it('counts character classes and checks as the user types (history only the server knows)', () => {
    expect(characterClasses('abc')).toBe(1)
    expect(characterClasses('Abc1!')).toBe(4)
    const checks = checkPassword('office-Pass-2026', 'Office', { min_length: 12, min_classes: 3 })
    expect(checks).toEqual([
      { rule: 'min_length', met: true },
      { rule: 'char_classes', met: true },
      { rule: 'contains_username', met: false },
      { rule: 'reused', met: null },
    ])
    expect(checkPassword('short', '', {})[0]!.met).toBe(false)
  })
})

describe('masked personal data', () => {
  it('shows the masked value from the API, or a dash', () => {
    expect(displayMasked('138****1234')).toBe('138****1234')
    expect(displayMasked(null)).toBe('—')
    expect(displayMasked('  ')).toBe('—')
    expect(isMasked('138****1234')).toBe(true)
    expect(isMasked('13812341234')).toBe(false)
  })
  it('shows the whole number only for a user whose contact was asked for', () => {
    const revealed = { 7: '13812341234', 8: null }
    expect(revealedPhone(revealed, 7, '138****1234')).toEqual({ text: '13812341234', whole: true })
    expect(revealedPhone(revealed, 8, null)).toEqual({ text: '—', whole: true })
    expect(revealedPhone(revealed, 9, '139****0000')).toEqual({ text: '139****0000', whole: false })
  })
})

describe('formatting and links', () => {
  it('formats times locally and leaves bad input visible', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('not a date')).toBe('not a date')
    expect(formatDateTime('2026-05-01T08:09:10')).toBe('2026-05-01 08:09:10')
  })
  it('builds export links with repeated list parameters and the format', () => {
    const href = exportHref('/api/v1/security/audit/export', { event: ['login_failure', 'logout'], subject: '', since: undefined }, 'xlsx')
    expect(href).toBe('/api/v1/security/audit/export?event=login_failure&event=logout&format=xlsx')
  })
})

describe('scopes', () => {
  it('checks the scope format as the API does', () => {
    expect(SCOPE_PATTERN.test('applications:read')).toBe(true)
    expect(SCOPE_PATTERN.test('Applications:read')).toBe(false)
    expect(SCOPE_PATTERN.test('applications:admin')).toBe(false)
  })
})
