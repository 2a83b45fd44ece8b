// @actas/guard: the framework-agnostic core. Runtime imports: @actas/contracts (its browser-safe
// entries) and @clerk/backend only; never Fastify (that is `@actas/guard/fastify`).
export { bearerToken, createGuard, Guard } from './guard.js'
export type { GuardCheck, GuardOptions, GuardStats } from './guard.js'
export { guardFetch, guardNodeRequest } from './http.js'
export type { HandlerGuardOptions } from './http.js'
export type { ActionTrailOptions, ActionTrailStats, RecordedAction } from './trail.js'
export type { RevokedPushOptions, RevokedSyncStats } from './revoked.js'
export type { ClerkVerifyOptions } from './verify.js'
export type {
  GuardLogger,
  GuardRefusal,
  GuardRefusalCode,
  GuardRouteOptions,
  GuardVerdict,
  ImpersonationMode,
} from './types.js'
