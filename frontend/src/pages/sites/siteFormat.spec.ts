import { describe, expect, it } from 'vitest'
import { actionButton, formatDateTime, objectionTag, orderedActions, outcomeTag, rectificationTag, siteStatusTag } from './siteFormat'

describe('site presentation', () => {
  it('colours states: active green, rectifying orange, delisted red', () => {
    expect(siteStatusTag('active')).toBe('success')
    expect(siteStatusTag('rectifying')).toBe('warning')
    expect(siteStatusTag('delisted')).toBe('danger')
    expect(siteStatusTag('unknown')).toBe('info')
    expect(rectificationTag('accepted')).toBe('success')
    expect(outcomeTag(null)).toBe('info')
    expect(outcomeTag('delist')).toBe('danger')
    expect(objectionTag('upheld')).toBe('danger')
    expect(actionButton('delist')).toBe('danger')
  })

  it('offers exactly the allowed actions, in a stable order', () => {
    expect(orderedActions(['delist', 'pass', 'rectify'])).toEqual(['pass', 'rectify', 'delist'])
    expect(orderedActions(['something_new'])).toEqual([])
  })

  it('formats dates and datetimes', () => {
    expect(formatDateTime('2026-11-26')).toBe('2026-11-26')
    expect(formatDateTime(null)).toBe('')
    expect(formatDateTime('2026-11-26T09:12:00')).toBe('2026-11-26 09:12')
  })
})
