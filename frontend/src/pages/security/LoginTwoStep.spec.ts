import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { defineComponent } from 'vue'
import { createAppI18n } from '@/i18n'
import { createApiClient } from '@/api/client'
import { OFFICE_USER, fakeFetch, json, problem } from '@/test/fakeApi'
import { useSessionClient } from '@/stores/session'
import LoginPage from '@/pages/auth/LoginPage.vue'

const Blank = defineComponent({ template: '<div />' })
const NOTICES = {
  previous_login_at: '2026-05-01T01:02:03Z',
  previous_login_ip: '10.2.3.4',
  failed_attempts_since: 1,
  password_change_required: false,
  password_expired: false,
  mfa_enrolment_required: false,
}

async function setup(routes: Parameters<typeof fakeFetch>[0]) {
  const fake = fakeFetch(routes)
  useSessionClient(createApiClient({ baseUrl: 'http://test', fetch: fake.fetch }))
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginPage },
      { path: '/', name: 'home', component: Blank },
      { path: '/my-security', name: 'my-security', component: Blank },
      { path: '/public/sites', name: 'public-sites', component: Blank },
    ],
  })
  await router.push('/login')
  await router.isReady()
  const wrapper = mount(LoginPage, {
    global: { plugins: [createAppI18n('zh-CN'), router] },
    attachTo: document.body,
  })
  return { wrapper, router, requests: fake.requests }
}

async function submitPassword(wrapper: Awaited<ReturnType<typeof setup>>['wrapper']) {
  await wrapper.get('#login-username').setValue('office')
  await wrapper.get('#login-password').setValue('pw')
  await wrapper.get('form').trigger('submit')
  await flushPromises()
}

describe('LoginPage two-step login', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    document.body.innerHTML = ''
  })

  it('asks for the code, refuses a wrong one readably, then signs in and shows the 等保 notice', async () => {
    let otpCalls = 0
    const { wrapper, router, requests } = await setup({
      'POST /api/v1/auth/login': () => json({ mfa_required: true, mfa_token: 'mfa-1', expires_in: 300 }),
      'POST /api/v1/auth/login/mfa': () =>
        ++otpCalls === 1 ? problem(401, 'invalid_otp') : json({ mfa_required: false, user: OFFICE_USER, csrf_token: 'c', expires_at: '2026-05-02T00:00:00Z', notices: NOTICES }),
    })
    await submitPassword(wrapper)
    expect(wrapper.find('[data-testid="login-otp-step"]').exists()).toBe(true)
    expect(wrapper.text()).toContain('双因素认证')

    await wrapper.get('#login-otp').setValue('000000')
    await wrapper.get('[data-testid="login-otp-step"]').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[data-testid="login-error"]').text()).toContain('动态验证码错误')
    expect(wrapper.find('[data-testid="login-otp-step"]').exists()).toBe(true)

    await wrapper.get('#login-otp').setValue('123 456')
    await wrapper.get('[data-testid="login-otp-step"]').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('home')
    const lastBody = await requests[requests.length - 1]!.json()
    expect(lastBody).toEqual({ mfa_token: 'mfa-1', otp: '123456' })
    await vi.waitFor(() => expect(document.body.querySelector('.login-notice')).not.toBeNull())
    const notice = document.body.querySelector('.login-notice')?.textContent ?? ''
    expect(notice).toContain('上次登录时间')
    expect(notice).toContain('10.2.3.4')
    expect(notice).toContain('1 次登录失败')
    wrapper.unmount()
  })

  it('goes back to the password when the code step expired on the server', async () => {
    const { wrapper } = await setup({
      'POST /api/v1/auth/login': () => json({ mfa_required: true, mfa_token: 'mfa-1', expires_in: 300 }),
      'POST /api/v1/auth/login/mfa': () => problem(401, 'mfa_token_invalid'),
    })
    await submitPassword(wrapper)
    await wrapper.get('#login-otp').setValue('123456')
    await wrapper.get('[data-testid="login-otp-step"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="login-otp-step"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="login-error"]').text()).toContain('重新输入用户名和口令')
    wrapper.unmount()
  })

  it('sends a session that must change its password to 我的安全设置', async () => {
    const { wrapper, router } = await setup({
      'POST /api/v1/auth/login': () =>
        json({
          mfa_required: false,
          user: { ...OFFICE_USER, restriction: 'password_change' },
          csrf_token: 'c',
          expires_at: '2026-05-02T00:00:00Z',
          notices: { ...NOTICES, password_change_required: true },
        }),
    })
    await submitPassword(wrapper)
    expect(router.currentRoute.value.name).toBe('my-security')
    expect(router.currentRoute.value.query.must).toBe('password_change')
    wrapper.unmount()
  })
})
