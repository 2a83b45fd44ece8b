import { ref, shallowRef } from 'vue'
import type { Ref, ShallowRef } from 'vue'
import { describeError } from '../lib/errors'
import type { PlainError } from '../lib/errors'
import { usePolling } from './use-polling'

/** What the API answers for a panel that may be switched off by configuration. */
export interface PanelAnswer<T> {
  items: T[]
  /** Whether the feature is configured at all (the panel hides itself when it is not). */
  enabled: boolean
}

export interface PolledList<T> {
  items: ShallowRef<T[]>
  enabled: Ref<boolean>
  /** A first answer arrived. */
  loaded: Ref<boolean>
  loading: Ref<boolean>
  /** The last run's error (cleared by the next answer); the list keeps its last items. */
  error: ShallowRef<PlainError | null>
  /** Asks again now (the panel's Try again). */
  refresh: () => Promise<void>
}

/**
 * A staff panel's list read from the API every `intervalMs` while it is shown (usePolling: paused
 * in a hidden tab, never two at once): its items, whether the feature is on, and the error to
 * show with a Try again — the list keeps polling after an error, so it recovers by itself.
 */
export function usePolledList<T>(
  query: () => Promise<PanelAnswer<T>>,
  intervalMs: number,
): PolledList<T> {
  const items = shallowRef<T[]>([])
  const enabled = ref(false)
  const loaded = ref(false)
  const loading = ref(false)
  const error = shallowRef<PlainError | null>(null)
  const polling = usePolling(async () => {
    loading.value = true
    try {
      const answer = await query()
      items.value = answer.items
      enabled.value = answer.enabled
      error.value = null
      loaded.value = true
    } catch (e) {
      error.value = describeError(e)
    } finally {
      loading.value = false
    }
  }, intervalMs)
  return { items, enabled, loaded, loading, error, refresh: () => polling.refresh() }
}
