// Ledger entries (台账记录): the list with filters and server paging, recording one entry with
// its photos and documents, and the Excel import (all rows or none, errors per row and column).
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { ApiError } from '@/api/problem'
import type { components } from '@/api/schema'
import { fileForm, idempotencyKey, sitesApi, unwrap } from './sitesCommon'

type S = components['schemas']
export type Entry = S['EntryRead']
export type EntryCreate = S['EntryCreate']

export interface EntryFilters {
  plan_id: number | null
  item_id: number | null
  dates: [string, string] | null
  subtree: boolean
}

export const useLedgerEntriesStore = defineStore('ledgerEntries', () => {
  const unitId = ref<number | null>(null)
  const filters = reactive<EntryFilters>({ plan_id: null, item_id: null, dates: null, subtree: true })
  const page = ref(1)
  const pageSize = ref(20)
  const items = ref<Entry[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<ApiError | null>(null)

  async function load(): Promise<void> {
    if (unitId.value === null) return
    loading.value = true
    error.value = null
    try {
      const data = await unwrap(
        sitesApi.client.GET('/api/v1/ledger/entries', {
          params: {
            query: {
              unit_id: unitId.value,
              subtree: filters.subtree,
              plan_id: filters.plan_id ?? undefined,
              item_id: filters.item_id ?? undefined,
              date_from: filters.dates?.[0] ?? undefined,
              date_to: filters.dates?.[1] ?? undefined,
              limit: pageSize.value,
              offset: (page.value - 1) * pageSize.value,
            },
          },
        }),
      )
      items.value = data.items
      total.value = data.total
    } catch (err) {
      error.value = err instanceof ApiError ? err : null
      items.value = []
      total.value = 0
    } finally {
      loading.value = false
    }
  }

  function forUnit(id: number): Promise<void> {
    unitId.value = id
    page.value = 1
    return load()
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  /** Records an entry, then uploads its files one by one. Throws ApiError. */
  async function record(body: EntryCreate, files: File[] = []): Promise<{ entry: Entry; uploaded: number }> {
    const entry = await unwrap(
      sitesApi.client.POST('/api/v1/ledger/entries', {
        params: { header: { 'Idempotency-Key': idempotencyKey() } },
        body,
      }),
    )
    let uploaded = 0
    for (const file of files) {
      await unwrap(
        sitesApi.client.POST('/api/v1/ledger/entries/{entry_id}/attachments', {
          params: { path: { entry_id: entry.id }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: fileForm(file, file.name) as never,
          bodySerializer: (b: unknown) => b as FormData,
        }),
      )
      uploaded += 1
    }
    await load()
    return { entry, uploaded }
  }

  /** Imports an Excel sheet into a plan. Throws ApiError whose problem lists row errors. */
  async function importExcel(planId: number, file: File) {
    const result = await unwrap(
      sitesApi.client.POST('/api/v1/ledger/plans/{plan_id}/import', {
        params: { path: { plan_id: planId }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: fileForm(file, file.name) as never,
        bodySerializer: (b: unknown) => b as FormData,
      }),
    )
    await load()
    return result
  }

  return { unitId, filters, page, pageSize, items, total, loading, error, load, forUnit, search, record, importExcel }
})

/** Where the browser downloads a plan's import template (a plain GET with the session cookie). */
export function importTemplateUrl(planId: number): string {
  return `/api/v1/ledger/plans/${planId}/import-template`
}
