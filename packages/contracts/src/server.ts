// @actas/contracts/server: the router factory and procedure builders, for the service that
// hosts the API (apps/api). Imports @trpc/server; never Fastify, Clerk or database code.
export { createAppRouter, describeMe } from './router/root.js'
export { createActAsTRPC, isStaff } from './router/trpc.js'
export type {
  AppRouter,
  RouterInputs,
  RouterOutputs,
  ProcedureAuth,
  ActAsMeta,
  ActAsErrorData,
  ActAsRouterOptions,
} from './router/types.js'
export * from './index.js'
