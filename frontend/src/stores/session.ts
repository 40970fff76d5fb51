// Who is logged in and which of their roles is active. The session itself lives in the
// httpOnly cookie; this store keeps no token, only the user's profile and the active role.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'
import type { Me } from '@/api/types'
import type { LoginNotices, Restriction } from '@/stores/securityTypes'

/** What a login step answers: a session (with the 等保 notices), or the second-factor step. */
export type LoginStep =
  | { kind: 'done'; user: Me; notices: LoginNotices }
  | { kind: 'mfa'; mfaToken: string; expiresIn: number }

/** sessionStorage key for the active role (a UI preference for this tab, not a credential). */
export const ACTIVE_ROLE_KEY = 'ds.activeRole'

type LoadState = 'idle' | 'loading' | 'ready' | 'error'

function readStoredRole(): string | null {
  try {
    return sessionStorage.getItem(ACTIVE_ROLE_KEY)
  } catch {
    return null
  }
}

function writeStoredRole(role: string | null): void {
  try {
    if (role) sessionStorage.setItem(ACTIVE_ROLE_KEY, role)
    else sessionStorage.removeItem(ACTIVE_ROLE_KEY)
  } catch {
    // Storage disabled: the role still holds for this page.
  }
}

const NO_NOTICES: LoginNotices = {
  failed_attempts_since: 0,
  password_change_required: false,
  password_expired: false,
  mfa_enrolment_required: false,
}

let client: ApiClient = defaultApi
/** Tests give the store a client over a fake fetch. */
export function useSessionClient(next: ApiClient): void {
  client = next
}

export const useSessionStore = defineStore('session', () => {
  const user = ref<Me | null>(null)
  const activeRole = ref<string | null>(readStoredRole())
  const state = ref<LoadState>('idle')
  const loadError = ref<ApiError | null>(null)
  /** The notices of the last login (上次登录时间, 失败次数), shown once after login. */
  const notices = ref<LoginNotices | null>(null)

  const isAuthenticated = computed(() => user.value !== null)
  const roles = computed<string[]>(() => user.value?.roles ?? [])
  const hasSeveralRoles = computed(() => roles.value.length > 1)
  /** Set while the session may only change the password or enrol TOTP (the API refuses the rest). */
  const restriction = computed<Restriction | null>(() => user.value?.restriction ?? null)

  /** Keeps the active role one of the user's roles (the stored one if still valid). */
  function settleActiveRole(): void {
    const available = roles.value
    if (activeRole.value && available.includes(activeRole.value)) return
    activeRole.value = available[0] ?? null
    writeStoredRole(activeRole.value)
  }

  function setUser(next: Me | null): void {
    user.value = next
    if (next) settleActiveRole()
  }

  /** Forgets the user locally (after logout or when the server says the session is gone). */
  function clear(): void {
    user.value = null
    activeRole.value = null
    writeStoredRole(null)
    state.value = 'idle'
    loadError.value = null
    notices.value = null
  }

  /**
   * Asks the server who is logged in. Resolves to the user, or null when not logged in (401);
   * throws ApiError for any other failure so the page can offer a retry.
   */
  async function fetchMe(): Promise<Me | null> {
    state.value = 'loading'
    loadError.value = null
    try {
      const { data, error, response } = await client.GET('/api/v1/me')
      if (data) {
        setUser(data)
        state.value = 'ready'
        return data
      }
      if (response.status === 401) {
        clear()
        state.value = 'ready'
        return null
      }
      throw new ApiError(toProblem(error, response))
    } catch (err) {
      const apiError = err instanceof ApiError ? err : new ApiError(networkProblem())
      state.value = 'error'
      loadError.value = apiError
      throw apiError
    }
  }

  async function post<T>(call: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    let result
    try {
      result = await call()
    } catch {
      throw new ApiError(networkProblem())
    }
    const { data, error, response } = result
    if (!data) throw new ApiError(toProblem(error, response))
    return data
  }

  function finish(data: { user: Me; notices?: LoginNotices }): LoginStep {
    setUser(data.user)
    state.value = 'ready'
    const given = data.notices ?? NO_NOTICES
    notices.value = given
    return { kind: 'done', user: data.user, notices: given }
  }

  /**
   * First login step: the password. The server either sets the session cookie (kind 'done') or,
   * when the user has a second factor, answers a short-lived mfa_token (kind 'mfa', no cookie).
   * Throws ApiError on failure.
   */
  async function login(username: string, password: string): Promise<LoginStep> {
    const data = await post(() => client.POST('/api/v1/auth/login', { body: { username, password } }))
    if (data.mfa_required) return { kind: 'mfa', mfaToken: data.mfa_token, expiresIn: data.expires_in }
    return finish(data)
  }

  /** Second login step: the authenticator (or recovery) code for the first step's mfa_token. */
  async function loginMfa(mfaToken: string, otp: string): Promise<LoginStep> {
    const data = await post(() =>
      client.POST('/api/v1/auth/login/mfa', { body: { mfa_token: mfaToken, otp } }),
    )
    return finish(data)
  }

  /** Logs out on the server (best effort) and always forgets the user here. */
  async function logout(): Promise<void> {
    try {
      await client.POST('/api/v1/auth/logout')
    } catch {
      // Offline: the cookie expires on its own; the local state is cleared regardless.
    } finally {
      clear()
    }
  }

  /** Makes one of the user's own roles the active one; other values are refused. */
  function setActiveRole(role: string): boolean {
    if (!roles.value.includes(role)) return false
    activeRole.value = role
    writeStoredRole(role)
    return true
  }

  return {
    user,
    activeRole,
    state,
    loadError,
    isAuthenticated,
    roles,
    hasSeveralRoles,
    restriction,
    notices,
    fetchMe,
    login,
    loginMfa,
    logout,
    setActiveRole,
    clear,
  }
})
