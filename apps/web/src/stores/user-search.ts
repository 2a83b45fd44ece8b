// User search: the query, page and sort the URL holds, the results, and loading/error state.
import type { UserOrderBy, UserSummary } from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ApiError, useApi } from '../lib/api'
import { describeError } from '../lib/errors'
import type { PlainError } from '../lib/errors'

export const PAGE_SIZE = 20
/** Typing pauses this long before the search runs. */
export const SEARCH_DEBOUNCE_MS = 120
export const SORTS: { value: UserOrderBy; label: string }[] = [
  { value: '-created_at', label: 'Newest first' },
  { value: '+created_at', label: 'Oldest first' },
  { value: '-last_sign_in_at', label: 'Recent sign-in' },
  { value: '-last_active_at', label: 'Recently active' },
]
export const DEFAULT_SORT: UserOrderBy = '-created_at'

export interface SearchParams {
  query: string
  /** 1-based. */
  page: number
  sort: UserOrderBy
}

export const useUserSearchStore = defineStore('userSearch', () => {
  const api = useApi()

  const params = ref<SearchParams>({ query: '', page: 1, sort: DEFAULT_SORT })
  /** The search the shown items answer (params moves ahead while a new one loads). */
  const shown = ref<SearchParams>({ query: '', page: 1, sort: DEFAULT_SORT })
  const items = shallowRef<UserSummary[]>([])
  const total = ref(0)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<PlainError | null>(null)
  /** The API's Retry-After of the last failure, in ms (null: none said). */
  const retryAfterMs = ref<number | null>(null)
  let seq = 0
  let controller: AbortController | null = null

  const pageCount = computed(() => Math.max(1, Math.ceil(total.value / PAGE_SIZE)))
  const isEmpty = computed(
    () => loaded.value && !loading.value && !error.value && items.value.length === 0,
  )
  // The range describes the rows on screen, not the page still loading.
  const rangeStart = computed(() =>
    items.value.length === 0 ? 0 : (shown.value.page - 1) * PAGE_SIZE + 1,
  )
  const rangeEnd = computed(() => (shown.value.page - 1) * PAGE_SIZE + items.value.length)

  /** Runs the search for `next`; an older request still in flight is cancelled. */
  async function search(next: SearchParams): Promise<void> {
    params.value = next
    const mine = ++seq
    controller?.abort()
    controller = new AbortController()
    loading.value = true
    error.value = null
    retryAfterMs.value = null
    try {
      const result = await api.users.search.query(
        {
          ...(next.query.trim() ? { query: next.query.trim() } : {}),
          limit: PAGE_SIZE,
          offset: (next.page - 1) * PAGE_SIZE,
          orderBy: next.sort,
        },
        { signal: controller.signal },
      )
      if (mine !== seq) return
      items.value = result.items
      total.value = result.total
      shown.value = next
      loaded.value = true
    } catch (e) {
      if (mine !== seq) return
      error.value = describeError(e)
      const wait = e instanceof ApiError ? e.info.retryAfterSeconds : null
      retryAfterMs.value = wait ? wait * 1000 : null
      items.value = []
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function retry(): Promise<void> {
    return search(params.value)
  }

  return {
    params,
    items,
    total,
    loading,
    loaded,
    error,
    retryAfterMs,
    pageCount,
    isEmpty,
    rangeStart,
    rangeEnd,
    search,
    retry,
  }
})
