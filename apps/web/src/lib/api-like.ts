// Another client like one the app has (its URL, token and timeout), with a change: kept apart
// from lib/api.ts so that what only later routes need stays out of the first one.
import { createApi, sent } from './api'
import type { ActAsClient, ApiOptions } from './api'

/** A client like `client`, changed by `patch` (e.g. its fetch); null for a client not made here. */
export function clientLike(client: ActAsClient, patch: Partial<ApiOptions>): ActAsClient | null {
  const entry = sent.get(client)
  return entry ? createApi({ ...entry.options, ...patch }) : null
}
