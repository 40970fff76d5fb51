// Integration administration: service accounts (API clients with scopes), webhook allowed hosts,
// subscriptions and their deliveries. The system administrator creates accounts, the security
// administrator sets scopes and allows hosts (三员分立, enforced by the API).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, networkProblem } from '@/api/problem'
import { call, pagedList } from '@/stores/securityApi'
import type {
  AllowedHost,
  Delivery,
  ServiceAccount,
  ServiceAccountCreate,
  ServiceAccountCreated,
  Subscription,
  SubscriptionCreate,
  SubscriptionCreated,
} from '@/stores/securityTypes'

export const useSecurityIntegrationStore = defineStore('securityIntegration', () => {
  const accounts = ref<ServiceAccount[]>([])
  const accountsLoading = ref(false)
  const accountsError = ref<ApiError | null>(null)

  async function loadAccounts(): Promise<void> {
    accountsLoading.value = true
    accountsError.value = null
    try {
      accounts.value = await call((c) => c.GET('/api/v1/service-accounts'))
    } catch (err) {
      accountsError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      accountsLoading.value = false
    }
  }

  function replaceAccount(next: ServiceAccount): ServiceAccount {
    const i = accounts.value.findIndex((a) => a.id === next.id)
    if (i >= 0) accounts.value.splice(i, 1, next)
    else accounts.value.unshift(next)
    return next
  }

  /** Answers the account with its client secret, shown once. */
  async function createAccount(body: ServiceAccountCreate): Promise<ServiceAccountCreated> {
    const created = await call((c) => c.POST('/api/v1/service-accounts', { body }))
    replaceAccount(created.account)
    return created
  }

  async function setScopes(id: number, scopes: string[]): Promise<ServiceAccount> {
    return replaceAccount(
      await call((c) =>
        c.PUT('/api/v1/service-accounts/{account_id}/scopes', { params: { path: { account_id: id } }, body: { scopes } }),
      ),
    )
  }

  async function revoke(id: number): Promise<ServiceAccount> {
    return replaceAccount(
      await call((c) => c.POST('/api/v1/service-accounts/{account_id}/revoke', { params: { path: { account_id: id } } })),
    )
  }

  /** The scopes a service account may hold, as the API declares them (never a fixed list here). */
  const knownScopes = ref<string[]>([])
  async function loadKnownScopes(): Promise<void> {
    if (knownScopes.value.length) return
    knownScopes.value = (await call((c) => c.GET('/api/v1/service-accounts/scopes'))).items
  }

  /** Loopback or private hosts allowed as webhook targets (安全管理员). */
  const allowedHosts = ref<AllowedHost[]>([])
  const allowedHostsError = ref<ApiError | null>(null)
  async function loadAllowedHosts(): Promise<void> {
    allowedHostsError.value = null
    try {
      allowedHosts.value = (await call((c) => c.GET('/api/v1/webhooks/allowed-hosts'))).items
    } catch (err) {
      allowedHostsError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    }
  }
  async function allowHost(host: string): Promise<AllowedHost> {
    const row = await call((c) => c.POST('/api/v1/webhooks/allowed-hosts', { body: { host: host.trim() } }))
    allowedHosts.value = [...allowedHosts.value.filter((h) => h.id !== row.id), row].sort((a, b) => a.host.localeCompare(b.host))
    return row
  }
  /** Stops allowing a host (audited by the API); webhooks to it are refused again. */
  async function removeAllowedHost(id: number): Promise<void> {
    await call((c) => c.DELETE('/api/v1/webhooks/allowed-hosts/{host_id}', { params: { path: { host_id: id } } }))
    allowedHosts.value = allowedHosts.value.filter((h) => h.id !== id)
  }

  // --- webhooks ------------------------------------------------------------------------------
  const subscriptions = ref<Subscription[]>([])
  const subscriptionsLoading = ref(false)
  const subscriptionsError = ref<ApiError | null>(null)
  const accountFilter = ref<number | null>(null)

  async function loadSubscriptions(): Promise<void> {
    subscriptionsLoading.value = true
    subscriptionsError.value = null
    try {
      const query = accountFilter.value ? { service_account_id: accountFilter.value } : {}
      subscriptions.value = await call((c) => c.GET('/api/v1/webhooks', { params: { query } }))
    } catch (err) {
      subscriptionsError.value = err instanceof ApiError ? err : new ApiError(networkProblem())
    } finally {
      subscriptionsLoading.value = false
    }
  }

  /** Answers the subscription with its signing secret, shown once. */
  async function createSubscription(body: SubscriptionCreate): Promise<SubscriptionCreated> {
    const created = await call((c) => c.POST('/api/v1/webhooks', { body }))
    await loadSubscriptions()
    return created
  }

  async function deleteSubscription(id: number): Promise<void> {
    await call((c) => c.DELETE('/api/v1/webhooks/{webhook_id}', { params: { path: { webhook_id: id } } }))
    await loadSubscriptions()
  }

  const selectedWebhook = ref<number | null>(null)
  const deliveries = pagedList<Delivery, { webhook: number | null }>(
    async (f, limit, offset) => {
      if (!f.webhook) return { items: [], total: 0 }
      const webhook = f.webhook
      return call((c) =>
        c.GET('/api/v1/webhooks/{webhook_id}/deliveries', {
          params: { path: { webhook_id: webhook }, query: { limit, offset } },
        }),
      )
    },
    () => ({ webhook: null }),
    10,
  )

  async function openDeliveries(webhookId: number): Promise<void> {
    selectedWebhook.value = webhookId
    deliveries.filters.webhook = webhookId
    await deliveries.search()
  }

  async function replay(deliveryId: number): Promise<Delivery> {
    const d = await call((c) =>
      c.POST('/api/v1/webhooks/deliveries/{delivery_id}/replay', { params: { path: { delivery_id: deliveryId } } }),
    )
    await deliveries.load()
    return d
  }

  return {
    accounts,
    accountsLoading,
    accountsError,
    loadAccounts,
    createAccount,
    setScopes,
    revoke,
    knownScopes,
    loadKnownScopes,
    allowedHosts,
    allowedHostsError,
    loadAllowedHosts,
    allowHost,
    removeAllowedHost,
    subscriptions,
    subscriptionsLoading,
    subscriptionsError,
    accountFilter,
    loadSubscriptions,
    createSubscription,
    deleteSubscription,
    selectedWebhook,
    deliveries,
    openDeliveries,
    replay,
  }
})
