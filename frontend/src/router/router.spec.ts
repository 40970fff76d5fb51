import { describe, expect, it } from 'vitest'
import { safeRedirect } from './index'
import { areasForRole } from '@/navigation/areas'

describe('safeRedirect', () => {
  it('keeps paths inside the app', () => {
    expect(safeRedirect('/applications?page=2')).toBe('/applications?page=2')
  })
  it.each([undefined, '', 'https://evil.example', '//evil.example', '/\\evil.example', '/login'])(
    'sends %s home',
    (value) => {
      expect(safeRedirect(value)).toBe('/')
    },
  )
})

describe('menu by role', () => {
  it('shows the office every stage it runs', () => {
    const keys = areasForRole('office').map((a) => a.key)
    expect(keys).toEqual(expect.arrayContaining(['preliminary', 'awarding', 'sites']))
    expect(keys).not.toContain('admin')
  })
  it('shows an assessor assessment but not sites (read by the office, their own people and recommenders)', () => {
    const keys = areasForRole('assessor').map((a) => a.key)
    expect(keys).toContain('assessment')
    expect(keys).not.toContain('sites')
  })
  it('shows a grassroots unit the ledger and none of the round', () => {
    const keys = areasForRole('unit').map((a) => a.key)
    expect(keys).toContain('ledger')
    expect(keys).not.toContain('sites')
    expect(keys).not.toContain('applications')
  })
  it('shows nothing without an active role', () => {
    expect(areasForRole(null)).toEqual([])
  })
})
