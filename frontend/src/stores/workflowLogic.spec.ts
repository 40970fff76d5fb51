import { describe, expect, it } from 'vitest'
import {
  actionButtons,
  assessorCandidates,
  averageScore,
  beijingToday,
  commonActions,
  quotaBoard,
  stageProgress,
  statusTagType,
  usedPercent,
} from './workflowLogic'
import type { Application, Assessor, AssessorRef, Quota } from './workflowTypes'

function quota(partial: Partial<Quota>): Quota {
  return {
    id: 1, round_id: 2, recommender_id: 11, recommender_code: 'hefei', recommender_name: '合肥市委宣传部', field: 'school',
    limit: 1, used: 0, left: 1, eligibility: { scope: 'own_city', exclude: ['provincial_university', 'provincial_soe'] }, version: 1,
    ...partial,
  }
}

const DEFAULT_QUOTAS: Quota[] = [
  quota({ id: 1 }),
  quota({ id: 2, recommender_id: 12, recommender_code: 'wuhu', recommender_name: '芜湖市委宣传部' }),
  quota({ id: 3, field: 'enterprise' }),
  quota({ id: 4, recommender_id: 4, recommender_code: 'edu', recommender_name: '省委教育工委', limit: 10, left: 10, eligibility: { kinds: ['university_unit'], provincial_university: true } }),
  quota({ id: 5, recommender_id: 7, recommender_code: 'sasac', recommender_name: '省国资委', field: 'enterprise', limit: 5, left: 5, eligibility: { kinds: ['enterprise'], ownership: ['provincial_soe'] } }),
  quota({ id: 6, recommender_id: 9, recommender_code: 'fic', recommender_name: '省工商联', field: 'enterprise', limit: 5, left: 5, eligibility: { kinds: ['enterprise'], ownership: ['private'] } }),
]

describe('allowed actions → buttons', () => {
  it('shows exactly the actions the API allows, in its order, with what each needs', () => {
    const buttons = actionButtons(['recommend', 'return', 'decline'])
    expect(buttons.map((b) => b.action)).toEqual(['recommend', 'return', 'decline'])
    expect(buttons.map((b) => b.opinionRequired)).toEqual([true, true, true])
    expect(buttons[0]!.type).toBe('success')
  })
  it('shows nothing when nothing is allowed, and can keep to a page’s own actions', () => {
    expect(actionButtons([])).toEqual([])
    expect(actionButtons(undefined)).toEqual([])
    expect(actionButtons(['submit', 'recommend'], ['recommend']).map((b) => b.action)).toEqual(['recommend'])
  })
  it('asks for a meeting on adopt and for the meeting and an opinion on approve', () => {
    expect(actionButtons(['adopt'])[0]!.form).toBe('meeting')
    expect(actionButtons(['approve'])[0]).toMatchObject({ form: 'meetingOpinion', opinionRequired: true })
    expect(actionButtons(['record_assessment'])[0]!.form).toBe('assessment')
  })
  it('offers a batch action only when every selected row allows it', () => {
    const rows = [{ allowed_actions: ['pass_preliminary', 'fail_preliminary'] }, { allowed_actions: ['fail_preliminary'] }] as Pick<Application, 'allowed_actions'>[]
    expect(commonActions(rows)).toEqual(['fail_preliminary'])
    expect(commonActions([])).toEqual([])
  })
})

describe('stage display', () => {
  it('places each stage on the main path', () => {
    expect(stageProgress('draft')).toEqual({ active: 0, ended: false, finished: false })
    expect(stageProgress('preliminary_passed').active).toBe(3)
    expect(stageProgress('awarded')).toMatchObject({ active: 8, finished: true })
  })
  it('marks a refusal at the step where it happened', () => {
    expect(stageProgress('not_recommended')).toEqual({ active: 2, ended: true, finished: false })
    expect(stageProgress('approval_rejected')).toMatchObject({ active: 7, ended: true })
    expect(statusTagType('review_rejected')).toBe('danger')
    expect(statusTagType('awarded')).toBe('success')
  })
})

describe('quota board', () => {
  it('groups per recommender with a cell per field and totals', () => {
    const rows = quotaBoard([
      quota({ field: 'school', limit: 1, used: 1, left: 0 }),
      quota({ id: 2, field: 'rural', limit: 1, used: 0, left: 1 }),
      quota({ id: 3, recommender_id: 4, recommender_name: '省委教育工委', limit: 10, used: 3, left: 7 }),
    ])
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ recommenderName: '合肥市委宣传部', total: { limit: 2, used: 1, left: 1 } })
    expect(rows[0]!.cells.school).toEqual({ limit: 1, used: 1, left: 0 })
    expect(rows[1]!.cells.school).toEqual({ limit: 10, used: 3, left: 7 })
  })
  it('keeps to one recommender on its own pages', () => {
    expect(quotaBoard(DEFAULT_QUOTAS, 7).map((r) => r.recommenderName)).toEqual(['省国资委'])
  })
  it('never shows a negative left after a limit was lowered, and caps the bar', () => {
    const [row] = quotaBoard([quota({ limit: 1, used: 2, left: -1 })])
    expect(row!.cells.school!.left).toBe(0)
    expect(usedPercent({ limit: 1, used: 2, left: 0 })).toBe(100)
    expect(usedPercent({ limit: 4, used: 1, left: 3 })).toBe(25)
    expect(usedPercent({ limit: 0, used: 0, left: 0 })).toBe(0)
  })
})

describe('assessment team candidates', () => {
  const listed: Assessor[] = [
    { user_id: 1, username: 'cac_a', display_name: '省委网信办 演示账号', organization_id: 3, organization_name: '省委网信办', conflict_of_interest: false },
    { user_id: 2, username: 'sasac_a', display_name: '省国资委 演示账号', organization_id: 7, organization_name: '省国资委', conflict_of_interest: true },
  ]
  it('offers the listed assessors with the 回避 flag the API gave', () => {
    expect(assessorCandidates([], listed).map((a) => [a.user_id, a.conflict_of_interest])).toEqual([
      [1, false],
      [2, true],
    ])
  })
  it('keeps a current team member the list left out, its flag unknown', () => {
    const team: AssessorRef[] = [
      { user_id: 9, display_name: '已停用账号', organization_id: 5, organization_name: '省总工会' },
      { user_id: 1, display_name: '省委网信办 演示账号', organization_id: 3, organization_name: '省委网信办' },
    ]
    const out = assessorCandidates(team, listed)
    expect(out.map((a) => a.user_id)).toEqual([9, 1, 2])
    expect(out[0]!.conflict_of_interest).toBeNull()
  })
})

describe('small helpers', () => {
  it('averages the four standards to one decimal', () => {
    expect(averageScore({ political: 95, contemporary: 90, effective: 92, exemplary: 96 })).toBe(93.3)
    expect(averageScore(null)).toBeNull()
  })
  it('gives the Beijing date', () => {
    expect(beijingToday(new Date('2026-11-26T17:00:00Z'))).toBe('2026-11-27')
  })
})
