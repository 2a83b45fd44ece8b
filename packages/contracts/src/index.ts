// @actas/contracts: schemas, types and error codes. Browser-safe (zod only at runtime).
export * from './errors.js'
export * from './facts.js'
export * from './schemas/common.js'
export * from './schemas/users.js'
export * from './schemas/impersonation.js'
export * from './schemas/me.js'
export * from './schemas/sessions.js'
export * from './schemas/actions.js'
export * from './schemas/audit.js'
export * from './schemas/audit-export.js'
export * from './schemas/log-streams.js'
export * from './schemas/webhooks.js'
export * from './schemas/console-config.js'
export * from './machines.js'
export * from './access.js'
export * from './alerts.js'
export { IMPERSONATE_PERMISSION, principalId } from './ports.js'
export type {
  MachinePrincipal,
  ReaderPrincipal,
  SessionsPort,
  UserPrincipal,
  ActAsContext,
  AuditPort,
  AuditExportPort,
  LogStreamsPort,
  DirectoryPort,
  DeniedAttempt,
  ImpersonationPort,
  Principal,
  PrincipalActor,
  RateLimiterPort,
  RateLimitResult,
  RequestInfo,
  StaffPrincipal,
  WebhooksPort,
} from './ports.js'
export type {
  AppRouter,
  RouterInputs,
  RouterOutputs,
  ProcedureAuth,
  ActAsMeta,
  ActAsErrorData,
  MachineAccess,
} from './router/types.js'
