// The API's in-memory caches: the one idiom of @actas/contracts/ttl-cache (lru-cache, bounded,
// timed by the injected clock), shared with the guard.
export { ttlCache, tokenKey, VerifiedTokens } from '@actas/contracts/ttl-cache'
export type { TtlCache, TokenVerdict } from '@actas/contracts/ttl-cache'
