import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createAppI18n } from '@/i18n'
import { createApiClient } from '@/api/client'
import { fakeFetch, json, problem } from '@/test/fakeApi'
import { useWorkflowClient } from '@/stores/workflow'
import type { Quota } from '@/stores/workflowTypes'
import QuotaBoard from './QuotaBoard.vue'
import ActionDialog from './ActionDialog.vue'
import AssignAssessorsDialog from '../office/AssignAssessorsDialog.vue'

const q = (field: Quota['field'], limit: number, used: number): Quota =>
  ({ id: limit * 10 + used, round_id: 2, recommender_id: 11, recommender_code: 'hefei', recommender_name: '合肥市委宣传部', field, limit, used, left: limit - used, eligibility: {}, version: 1 }) as Quota

describe('QuotaBoard', () => {
  it('shows limit, used and left per field, marking a used-up field', () => {
    const wrapper = mount(QuotaBoard, {
      props: { quotas: [q('school', 1, 1), q('rural', 1, 0)], recommenderId: 11 },
      global: { plugins: [createAppI18n('zh-CN')] },
    })
    const school = wrapper.get('[data-testid="quota-school"]')
    expect(school.attributes('data-left')).toBe('0')
    expect(school.text()).toContain('学校')
    expect(school.text()).toMatch(/名额\s*1/)
    expect(school.text()).toMatch(/已推荐\s*1/)
    expect(school.find('.quota-none').exists()).toBe(true)
    expect(wrapper.get('[data-testid="quota-rural"]').attributes('data-left')).toBe('1')
    // On a recommender's own page the organisation's name is not repeated.
    expect(wrapper.text()).not.toContain('合肥市委宣传部')
  })
})

describe('ActionDialog', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('requires the 推荐审核意见 and shows a quota refusal in readable Chinese, staying open', async () => {
    const fake = fakeFetch({
      'POST /api/v1/applications/6/transitions': () =>
        problem(409, 'quota_exceeded', { title: "The recommender's quota is used up / 推荐名额已用完", detail: "The recommender's quota is used up / 推荐名额已用完" }),
    })
    useWorkflowClient(createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }))
    const wrapper = mount(ActionDialog, {
      props: { modelValue: false, action: 'recommend', applications: [{ id: 6, name: '“科大思政+”科学家精神讲堂', etag: 'W/"2"' }] },
      global: { plugins: [createAppI18n('zh-CN')] },
      attachTo: document.body,
    })
    await wrapper.setProps({ modelValue: true })
    await flushPromises()
    expect(document.body.textContent).toContain('推荐审核意见')
    const confirm = document.querySelector('[data-testid="action-confirm"]') as HTMLButtonElement
    confirm.click()
    await flushPromises()
    expect(fake.requests).toHaveLength(0) // the empty opinion is refused by the form first
    const textarea = document.querySelector('textarea') as HTMLTextAreaElement
    textarea.value = '同意推荐。'
    textarea.dispatchEvent(new Event('input'))
    await flushPromises()
    confirm.click()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
    await flushPromises()
    expect(fake.requests).toHaveLength(1)
    expect(fake.requests[0]!.headers.get('If-Match')).toBe('W/"2"')
    expect(document.querySelector('[data-testid="action-error"]')?.textContent).toContain('推荐名额已用完')
    expect(wrapper.emitted('done')).toBeUndefined()
    wrapper.unmount()
  })
})

describe('AssignAssessorsDialog', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('lists assessors from the API for this application and warns of 回避 as the API says, before sending', async () => {
    const fake = fakeFetch({
      'GET /api/v1/assessors': () =>
        json({
          items: [
            { user_id: 1, username: 'cac_a', display_name: '省委网信办 演示账号', organization_id: 3, organization_name: '省委网信办', conflict_of_interest: false },
            { user_id: 2, username: 'sasac_a', display_name: '省国资委 演示账号', organization_id: 7, organization_name: '省国资委', conflict_of_interest: true },
          ],
          total: 2,
        }),
    })
    useWorkflowClient(createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }))
    const application = {
      id: 4, name: '“能源先锋”职工思政讲堂', etag: 'W/"1"', assessors: [], recommender: { id: 7, code: 'sasac', name: '省国资委' },
    }
    const wrapper = mount(AssignAssessorsDialog, {
      props: { modelValue: false, application: application as never },
      global: { plugins: [createAppI18n('zh-CN')] },
      attachTo: document.body,
    })
    await wrapper.setProps({ modelValue: true })
    await flushPromises()
    expect(fake.requests).toHaveLength(1)
    expect(new URL(fake.requests[0]!.url).searchParams.get('application_id')).toBe('4')
    expect(document.querySelector('[data-testid="assessor-2"]')?.textContent).toContain('回避')
    expect(document.querySelector('[data-testid="assessor-1"]')?.textContent).not.toContain('回避')
    const box = document.querySelector('[data-testid="assessor-2"] input') as HTMLInputElement
    box.click()
    await flushPromises()
    const warning = document.querySelector('[data-testid="conflict-warning"]')
    expect(warning?.textContent).toContain('须回避')
    expect(warning?.textContent).toContain('省国资委')
    expect(fake.requests).toHaveLength(1) // nothing sent yet
    wrapper.unmount()
  })
})
