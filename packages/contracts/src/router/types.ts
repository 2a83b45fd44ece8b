import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server'
import type { createAppRouter } from './root.js'

export type AppRouter = ReturnType<typeof createAppRouter>
export type RouterInputs = inferRouterInputs<AppRouter>
export type RouterOutputs = inferRouterOutputs<AppRouter>
export type {
  ProcedureAuth,
  ActAsMeta,
  ActAsErrorData,
  ActAsRouterOptions,
  MachineAccess,
} from './trpc.js'
