import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import { createAppI18n } from '@/i18n'
import { describeTarget, type TargetSpec } from './targetText'
import { STATE_COLOR, STATE_TAG, cellState, cellText, percent } from './complianceState'
import { importErrorRows } from './importErrors'
import ImportErrorList from './ImportErrorList.vue'

const zh = createAppI18n('zh-CN').global.t
const en = createAppI18n('en').global.t
const target = (spec: Partial<TargetSpec>): TargetSpec => ({ kind: 'min_count', count: 1, period: 'month', scope: 'self', ...spec })

describe('describeTarget (seed 003 targets read as the plan writes them)', () => {
  it.each([
    [{ kind: 'min_count', count: 8 }, '每月至少8次'],
    [{ kind: 'min_count', count: 12, period: 'year' }, '每年至少12次'],
    [{ kind: 'min_count', count: 1, period: 'quarter' }, '每季度至少1次'],
    [{ kind: 'min_count', count: 8, scope: 'each_child', child_level: 'community' }, '每个社区每月至少8次'],
    [{ kind: 'min_count', count: 1, scope: 'each_child', child_level: null }, '每个下级单位每月至少1次'],
    [{ kind: 'due_day', due_day: 7 }, '每月7日前'],
    [{ kind: 'due_day', due_day: 7, count: 2 }, '每月7日前完成2次'],
    [{ kind: 'month_required', month: 9 }, '9月'],
    [{ kind: 'response_time', max_minutes: 5 }, '5分钟内回复'],
  ] as [Partial<TargetSpec>, string][])('%o → %s', (spec, text) => {
    expect(describeTarget(zh, target(spec))).toBe(text)
  })

  it('reads in English too', () => {
    expect(describeTarget(en, target({ count: 8, scope: 'each_child', child_level: 'community' }))).toBe(
      'each Community: at least 8 a month',
    )
    expect(describeTarget(en, target({ kind: 'response_time', max_minutes: 5 }))).toBe('answered within 5 minutes')
  })
})

describe('compliance cell state and colours', () => {
  const counts = (c: Partial<{ total: number; met: number; late: number; missed: number; not_yet: number }>) => ({
    total: 0, met: 0, late: 0, missed: 0, not_yet: 0, ...c,
  })

  it('shows the most urgent state of the month', () => {
    expect(cellState(counts({}))).toBe('none')
    expect(cellState(counts({ total: 3, met: 3 }))).toBe('met')
    expect(cellState(counts({ total: 3, met: 2, late: 1 }))).toBe('late')
    expect(cellState(counts({ total: 3, met: 1, late: 1, not_yet: 1 }))).toBe('not_yet')
    expect(cellState(counts({ total: 3, met: 1, not_yet: 1, missed: 1 }))).toBe('missed')
  })

  it('maps every state to a distinct colour and a tag type', () => {
    const backgrounds = new Set(Object.values(STATE_COLOR).map((c) => c.bg))
    expect(backgrounds.size).toBe(5)
    expect(STATE_TAG).toMatchObject({ met: 'success', late: 'warning', not_yet: 'primary', missed: 'danger' })
  })

  it('writes done/duties and clamps rates', () => {
    expect(cellText(counts({ total: 4, met: 2, late: 1, missed: 1 }))).toBe('3/4')
    expect(cellText(counts({}))).toBe('—')
    expect(percent(0.756)).toBe(76)
    expect(percent(1.2)).toBe(100)
  })
})

describe('import error list', () => {
  const problem = {
    status: 422,
    code: 'ledger_invalid',
    errors: [
      { loc: ['row', '5', 'C:日期'], msg: 'x', type: 'ledger_invalid', row: 5, column: 'C:日期', message: 'Not a date / 不是日期' },
      { loc: ['row', '3', 'B:工作事项'], msg: 'x', type: 'ledger_invalid', row: 3, column: 'B:工作事项', message: 'Unknown item / 未知事项' },
      { loc: ['body', 'items', 7, 'title'], msg: 'Field required', type: 'missing' },
    ],
  }

  it('lists row, column and the message in the current language, by row', () => {
    expect(importErrorRows(problem, 'zh-CN')).toEqual([
      { row: 3, column: 'B:工作事项', message: '未知事项' },
      { row: 5, column: 'C:日期', message: '不是日期' },
      { row: 7, column: 'title', message: 'Field required' },
    ])
    expect(importErrorRows(problem, 'en')[0]?.message).toBe('Unknown item')
    expect(importErrorRows(null)).toEqual([])
  })

  it('renders one table row per problem', async () => {
    const i18n = createAppI18n('zh-CN')
    const wrapper = mount(ImportErrorList, { props: { problem }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    await nextTick()
    expect(wrapper.findAll('tbody tr')).toHaveLength(3)
    expect(wrapper.text()).toContain('导入未成功')
    expect(wrapper.text()).toContain('未知事项')
    expect(wrapper.text()).toContain('C:日期')
  })
})
