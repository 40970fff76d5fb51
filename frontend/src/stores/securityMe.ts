// 我的安全设置: the user's own password, second factor (TOTP) and sessions.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, networkProblem } from '@/api/problem'
import { call } from '@/stores/securityApi'
import type { MySecurity, SessionRead, TotpSetup } from '@/stores/securityTypes'

/** Where the TOTP enrolment is: el-steps shows 0 scan, 1 confirm, 2 recovery codes. */
export type EnrolmentStage = 'idle' | 'scan' | 'codes'

export const useSecurityMeStore = defineStore('securityMe', () => {
  const overview = ref<MySecurity | null>(null)
  const loading = ref(false)
  const loadError = ref<ApiError | null>(null)
  const sessions = ref<SessionRead[]>([])
  const sessionsLoading = ref(false)
  const sessionsError = ref<ApiError | null>(null)
  const setup = ref<TotpSetup | null>(null)
  /** Recovery codes are shown once, right after they were made, and dropped on leaving. */
  const recoveryCodes = ref<string[] | null>(null)
  const stage = ref<EnrolmentStage>('idle')

  async function load(): Promise<void> {
    loading.value = true
    loadError.value = null
    try {
      overview.value = await call((c) => c.GET('/api/v1/me/security'))
    } catch (err) {
      loadError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      loading.value = false
    }
  }

  async function loadSessions(): Promise<void> {
    sessionsLoading.value = true
    sessionsError.value = null
    try {
      sessions.value = (await call((c) => c.GET('/api/v1/me/sessions'))).items
    } catch (err) {
      sessionsError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      sessionsLoading.value = false
    }
  }

  async function changePassword(current: string, next: string): Promise<void> {
    await call((c) =>
      c.POST('/api/v1/me/password', { body: { current_password: current, new_password: next } }),
    )
    await load()
  }

  async function startTotp(): Promise<TotpSetup> {
    const answer = await call((c) => c.POST('/api/v1/me/totp/setup'))
    setup.value = answer
    recoveryCodes.value = null
    stage.value = 'scan'
    return answer
  }

  async function confirmTotp(code: string): Promise<string[]> {
    const answer = await call((c) =>
      c.POST('/api/v1/me/totp/confirm', { body: { code: code.replace(/\s+/g, '') } }),
    )
    recoveryCodes.value = answer.recovery_codes
    setup.value = null
    stage.value = 'codes'
    await load()
    return answer.recovery_codes
  }

  function cancelEnrolment(): void {
    setup.value = null
    stage.value = 'idle'
  }

  /** The user has saved the codes: forget them here. */
  function finishEnrolment(): void {
    recoveryCodes.value = null
    stage.value = 'idle'
  }

  async function disableTotp(password: string): Promise<void> {
    await call((c) => c.POST('/api/v1/me/totp/disable', { body: { password } }))
    await load()
  }

  async function regenerateRecoveryCodes(password: string): Promise<string[]> {
    const answer = await call((c) => c.POST('/api/v1/me/recovery-codes', { body: { password } }))
    recoveryCodes.value = answer.recovery_codes
    stage.value = 'codes'
    await load()
    return answer.recovery_codes
  }

  async function endSession(id: string): Promise<void> {
    await call((c) =>
      c.POST('/api/v1/me/sessions/{session_id}/end', { params: { path: { session_id: id } } }),
    )
    await loadSessions()
  }

  /** Ends every session except this one. */
  async function endOtherSessions(): Promise<number> {
    const others = sessions.value.filter((s) => !s.current)
    for (const s of others) {
      await call((c) =>
        c.POST('/api/v1/me/sessions/{session_id}/end', { params: { path: { session_id: s.id } } }),
      )
    }
    await loadSessions()
    return others.length
  }

  function $reset(): void {
    overview.value = null
    sessions.value = []
    setup.value = null
    recoveryCodes.value = null
    stage.value = 'idle'
    loadError.value = null
    sessionsError.value = null
  }

  return {
    overview,
    loading,
    loadError,
    sessions,
    sessionsLoading,
    sessionsError,
    setup,
    recoveryCodes,
    stage,
    load,
    loadSessions,
    changePassword,
    startTotp,
    confirmTotp,
    cancelEnrolment,
    finishEnrolment,
    disableTotp,
    regenerateRecoveryCodes,
    endSession,
    endOtherSessions,
    $reset,
  }
})
