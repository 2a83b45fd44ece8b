import { reactive } from 'vue'
import type { ActAsClient } from '../lib/api'
import { emailOf } from '../lib/user-lookup'

/**
 * People by email instead of user id: `name(id)` answers what is known now (the id until the
 * directory answers, then the email) and looks each id up once (`users.search` by id).
 * `know(id, email)` records an email the caller already has (an audit row's actor).
 */
export function useUserNames(api: ActAsClient): {
  name: (id: string) => string
  know: (id: string, email: string | null) => void
} {
  const known = reactive(new Map<string, string>())
  const asked = new Set<string>()
  function know(id: string, email: string | null): void {
    if (email) {
      known.set(id, email)
      asked.add(id)
    }
  }
  function name(id: string): string {
    if (id === 'system') return 'ActAs'
    if (!asked.has(id)) {
      asked.add(id)
      void emailOf(api, id).then((email) => {
        if (email) known.set(id, email)
      })
    }
    return known.get(id) ?? id
  }
  return { name, know }
}
