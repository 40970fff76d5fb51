// Who is logged in and which of their roles is active. The session itself lives in the
// httpOnly cookie; this store keeps no token, only the user's profile and the active role.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api as defaultApi, type ApiClient } from '@/api/client'
import { ApiError, networkProblem, toProblem } from '@/api/problem'
import type { Me } from '@/api/types'

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

  const isAuthenticated = computed(() => user.value !== null)
  const roles = computed<string[]>(() => user.value?.roles ?? [])
  const hasSeveralRoles = computed(() => roles.value.length > 1)

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

  /** Logs in; the server sets the session and CSRF cookies. Throws ApiError on failure. */
  async function login(username: string, password: string): Promise<Me> {
    let result
    try {
      result = await client.POST('/api/v1/auth/login', { body: { username, password } })
    } catch {
      throw new ApiError(networkProblem())
    }
    const { data, error, response } = result
    if (!data) throw new ApiError(toProblem(error, response))
    setUser(data.user)
    state.value = 'ready'
    return data.user
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
    fetchMe,
    login,
    logout,
    setActiveRole,
    clear,
  }
})
