// People type an email or a name; the API filters by user id. Resolved through users.search.
import type { ActAsClient, UserSummary } from '@actas/contracts/client'
import { describeError } from './errors'
import type { PlainError } from './errors'

export type Lookup =
  | { kind: 'found'; id: string; user: UserSummary | null }
  | { kind: 'none' }
  | { kind: 'many'; choices: UserSummary[]; total: number }
  | { kind: 'error'; error: PlainError }

const USER_ID = /^user_[A-Za-z0-9]+$/

/** The one user `text` (an id, an email, a name, a phone) names, or why there is not one. */
export async function lookUpUser(api: ActAsClient, text: string): Promise<Lookup> {
  const query = text.trim()
  if (USER_ID.test(query)) return { kind: 'found', id: query, user: null }
  try {
    const { items, total } = await api.users.search.query({ query, limit: 6 })
    const q = query.toLowerCase()
    const exact = items.filter(
      (u) => u.primaryEmail?.toLowerCase() === q || u.fullName?.toLowerCase() === q,
    )
    const one = exact.length === 1 ? exact[0]! : items.length === 1 ? items[0]! : null
    if (one) return { kind: 'found', id: one.id, user: one }
    if (items.length === 0) return { kind: 'none' }
    return { kind: 'many', choices: items, total }
  } catch (error) {
    return { kind: 'error', error: describeError(error) }
  }
}

/** How to name a user id to people: their email when the directory knows it. */
export async function emailOf(api: ActAsClient, id: string): Promise<string | null> {
  try {
    const { items } = await api.users.search.query({ query: id, limit: 1 })
    return items.find((u) => u.id === id)?.primaryEmail ?? null
  } catch {
    return null
  }
}
