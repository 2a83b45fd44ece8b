// tRPC initialisation: context, meta (each procedure's authorization rule), the error
// formatter and the procedure builders. Imports @trpc/server: reachable only from `./server`.
import { initTRPC, TRPCError } from '@trpc/server'
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server'
import { z, ZodError } from 'zod'
import { ACTAS_ERROR_TRPC_CODE, ActAsError, reverificationHint } from '../errors.js'
import type { ActAsErrorCode, PolicyRule, RateLimiter, ReverificationHint } from '../errors.js'
import { machineMayCall, NEVER_FOR_MACHINES } from '../machines.js'
import type { MachinePermissions } from '../machines.js'
import { IMPERSONATE_PERMISSION, principalId } from '../ports.js'
import { ImpersonationModeSchema, ImpersonationStartInputSchema } from '../schemas/impersonation.js'
import type { ImpersonationEnded } from '../schemas/impersonation.js'
import type { ActAsContext, Principal, ReaderPrincipal, StaffPrincipal } from '../ports.js'

/**
 * `staff`: signed in, the active organization one of the host's staff organizations, holding
 * `org:admin:impersonate` there. `signed-in`: any valid session.
 */
export type ProcedureAuth = 'staff' | 'signed-in'

/**
 * `read`: staff, and machines the permission map grants it to. `write`: only machines the
 * permission map grants it to (a service's report to ActAs, e.g. the guard's action trail).
 * `on_behalf`: staff, and machines the permission map grants it to acting for a named staff
 * member (input `onBehalfOf`; the port judges them as that person).
 */
export type MachineAccess = 'read' | 'write' | 'on_behalf'

export interface ActAsMeta {
  /** Required on every procedure: a procedure without a rule is refused (deny by default). */
  auth?: ProcedureAuth
  /** Whether machines may ever call it; absent = never. */
  machines?: MachineAccess
}

export interface ActAsRouterOptions {
  /** Include stack traces and internal messages in error responses. Only in development. */
  isDev: boolean
  /**
   * Machine id or scope → procedures (see machines.ts). Default `{}`: no machine may call
   * anything. Grants of NEVER_FOR_MACHINES, or of procedures without `meta.machines`, have no
   * effect.
   */
  machinePermissions?: MachinePermissions
  /**
   * The host's classification of errors its ports throw that are not `ActAsError`s (e.g. a
   * database that is down → SERVICE_UNAVAILABLE with Retry-After), applied by the one error
   * mapper to every procedure and every port (`ctx.audit`, `ctx.webhooks`, …). Null: unchanged
   * (a 500).
   */
  classifyError?: (error: unknown) => ActAsError | null
}

/** The `data` every error response carries, beside tRPC's own `code`/`httpStatus`/`path`. */
export interface ActAsErrorData {
  code: TRPC_ERROR_CODE_KEY
  httpStatus: number
  path?: string
  actasCode: ActAsErrorCode
  retryAfter: number | null
  /** RATE_LIMITED: `actas` (the per-actor limit) or `clerk` (Clerk's limit; retryAfter is its wait). */
  rateLimitedBy: RateLimiter | null
  rule: PolicyRule | null
  /**
   * UNAUTHENTICATED for an impersonated session ActAs ended (kill switch, policy, cap, Stop in
   * another tab): how it ended. Only ever about the impersonation of the refused token.
   */
  impersonationEnded: ImpersonationEnded | null
  zodError: { formErrors: string[]; fieldErrors: Record<string, string[] | undefined> } | null
  /**
   * REVERIFICATION_REQUIRED only: Clerk's reverification hint, as `@clerk/shared`'s
   * `reverificationError()` writes it (`isReverificationHint(error.data)` is true).
   */
  clerk_error?: ReverificationHint['clerk_error']
  stack?: string
}

const TRPC_TO_ACTAS: Partial<Record<TRPC_ERROR_CODE_KEY, ActAsErrorCode>> = {
  UNAUTHORIZED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  PAYMENT_REQUIRED: 'QUOTA_EXCEEDED',
  PARSE_ERROR: 'INVALID_INPUT',
  BAD_REQUEST: 'INVALID_INPUT',
  NOT_FOUND: 'INVALID_INPUT',
  METHOD_NOT_SUPPORTED: 'INVALID_INPUT',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_INPUT',
  PAYLOAD_TOO_LARGE: 'INVALID_INPUT',
  UNPROCESSABLE_CONTENT: 'INVALID_INPUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  TIMEOUT: 'SERVICE_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'SERVICE_UNAVAILABLE',
  BAD_GATEWAY: 'SERVICE_UNAVAILABLE',
}

/** Staff only when the active organization is a staff organization and grants the permission. */
export function isStaff(principal: Principal): principal is StaffPrincipal {
  return (
    principal.kind === 'user' &&
    principal.orgId !== null &&
    principal.staffOrganization === true &&
    principal.permissions.includes(IMPERSONATE_PERMISSION)
  )
}

/** Narrows a caller past `authorize` to staff (`authorize` let no one else in). */
function staffOnly(principal: Principal | null): StaffPrincipal {
  if (!principal || !isStaff(principal)) throw new ActAsError('FORBIDDEN', 'Staff only.')
  return principal
}

/** Narrows a caller past `authorize` to staff or a machine (`authorize` let no one else in). */
function staffOrMachine(principal: Principal | null): ReaderPrincipal {
  if (!principal || (principal.kind !== 'machine' && !isStaff(principal)))
    throw new ActAsError('FORBIDDEN', 'Staff only.')
  return principal
}

export function createActAsTRPC(options: ActAsRouterOptions) {
  const t = initTRPC
    .context<ActAsContext>()
    .meta<ActAsMeta>()
    .create({
      isDev: options.isDev,
      errorFormatter({ shape, error }) {
        const cause = error.cause
        const actas = cause instanceof ActAsError ? cause : undefined
        const isInputError = error.code === 'BAD_REQUEST' && cause instanceof ZodError
        const hide = !options.isDev && shape.data.httpStatus >= 500 && !actas
        const data: ActAsErrorData = {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          ...(shape.data.path === undefined ? {} : { path: shape.data.path }),
          actasCode: actas?.code ?? TRPC_TO_ACTAS[error.code] ?? 'INTERNAL',
          retryAfter: actas?.retryAfterSeconds ?? null,
          rateLimitedBy: actas?.rateLimitedBy ?? null,
          rule: actas?.rule ?? null,
          impersonationEnded: actas?.impersonationEnded ?? null,
          zodError: isInputError ? z.flattenError(cause) : null,
          ...(actas?.reverification ? reverificationHint(actas.reverification) : {}),
          ...(options.isDev && shape.data.stack ? { stack: shape.data.stack } : {}),
        }
        return {
          code: shape.code,
          message: hide ? 'Internal server error' : isInputError ? 'Invalid input' : shape.message,
          data,
        }
      },
    })

  /**
   * The one error mapper: turns an `ActAsError` thrown anywhere below, or an error the host's
   * `classifyError` recognises, into a TRPCError with the matching HTTP status.
   */
  const mapErrors = t.middleware(async ({ next }) => {
    const result = await next()
    if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') {
      const raw = result.error.cause
      const cause = raw instanceof ActAsError ? raw : (options.classifyError?.(raw) ?? null)
      if (!cause) return result
      throw new TRPCError({
        code: ACTAS_ERROR_TRPC_CODE[cause.code],
        message: cause.message,
        cause,
      })
    }
    return result
  })

  /** Deny by default: the procedure's `meta.auth` decides; no rule, no access. Then the per-actor rate limit. */
  const machinePermissions = options.machinePermissions ?? {}
  /** Errors `authorize` threw (and no procedure body): what `reportRefusals` records. */
  const authorizeRefusals = new WeakSet<ActAsError>()
  const refusal = (...args: ConstructorParameters<typeof ActAsError>) => {
    const error = new ActAsError(...args)
    authorizeRefusals.add(error)
    return error
  }
  const authorize = t.middleware(async ({ ctx, meta, path, next }) => {
    const rule = meta?.auth
    if (rule !== 'staff' && rule !== 'signed-in') {
      throw refusal(
        'FORBIDDEN',
        `The procedure ${path} declares no authorization rule, so nobody may call it.`,
      )
    }
    const principal = ctx.principal
    if (!principal)
      throw refusal(
        'UNAUTHENTICATED',
        ctx.unauthenticatedReason ?? 'Sign in first: no valid session token was sent.',
        { impersonationEnded: ctx.impersonationEnded ?? null },
      )
    if (principal.kind === 'machine') {
      if (meta?.machines === undefined || NEVER_FOR_MACHINES.includes(path)) {
        throw refusal(
          'FORBIDDEN',
          `Machines may not call ${path}: it is for people signed in to the console.`,
        )
      }
      if (!machineMayCall(machinePermissions, principal, path)) {
        throw refusal(
          'FORBIDDEN',
          `The machine ${principal.machineId} is not granted ${path} (its scopes do not include ActAs, or the machine permission map leaves it out).`,
        )
      }
    } else if (rule === 'staff' && !isStaff(principal)) {
      throw refusal(
        'FORBIDDEN',
        principal.orgId !== null && !principal.staffOrganization
          ? `Your active organization is not a staff organization: switch to your support organization (its ${IMPERSONATE_PERMISSION} permission is the one that counts).`
          : `Your session needs the ${IMPERSONATE_PERMISSION} permission in its active organization.`,
      )
    }
    const limit = await ctx.rateLimiter.consume(path, principalId(principal))
    if (!limit.allowed) {
      throw refusal('RATE_LIMITED', `Too many requests; retry in ${limit.retryAfterSeconds} s.`, {
        retryAfterSeconds: limit.retryAfterSeconds,
        rateLimitedBy: 'actas',
      })
    }
    return next({ ctx: { principal } })
  })

  /**
   * Wraps `authorize` and input validation: when either refused a signed-in caller (no
   * permission → FORBIDDEN, rate limit → RATE_LIMITED, invalid input → INVALID_INPUT), the
   * attempt is reported to `ctx.impersonation.recordDenied` with the raw input's strings (the host
   * cleans and caps them). Refusals inside the procedure are the port's to record (`start` writes
   * its own record), so they never come here. The caller's answer is the same either way.
   */
  const reportRefusals = t.middleware(async ({ ctx, path, getRawInput, next }) => {
    const result = await next()
    const principal = ctx.principal
    if (result.ok || !principal || !ctx.impersonation.recordDenied) return result
    const cause = result.error.cause
    const refused =
      cause instanceof ActAsError && authorizeRefusals.has(cause)
        ? { code: cause.code, message: cause.message }
        : result.error.code === 'BAD_REQUEST' && cause instanceof ZodError
          ? {
              code: 'INVALID_INPUT',
              message: `Invalid input: ${cause.issues
                .map((i) => `${i.path.join('.') || 'input'}: ${i.message}`)
                .join('; ')}`,
            }
          : null
    if (!refused || refused.code === 'UNAUTHENTICATED') return result
    const raw: unknown = await getRawInput().catch(() => undefined)
    const field = (name: string): unknown =>
      raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[name] : undefined
    const text = (name: string): string | null => {
      const value = field(name)
      return typeof value === 'string' ? value : null
    }
    const minutes = ImpersonationStartInputSchema.shape.sessionMinutes.safeParse(
      field('sessionMinutes'),
    )
    const mode = ImpersonationModeSchema.safeParse(field('mode'))
    await ctx.impersonation.recordDenied(
      {
        procedure: path,
        principal,
        staff: isStaff(principal),
        userId: text('userId'),
        reason: text('reason'),
        ticketUrl: text('ticketUrl'),
        sessionMinutes:
          minutes.success && field('sessionMinutes') !== undefined ? minutes.data : null,
        mode: mode.success ? mode.data : null,
        ...refused,
      },
      ctx.request,
    )
    return result
  })

  /** Every procedure starts here; it must still declare `meta({ auth })`. */
  const procedure = t.procedure.use(mapErrors).use(authorize)

  const signedInProcedure = procedure.meta({ auth: 'signed-in' }).use(({ ctx, next }) => {
    // Machines never reach here (`authorize`: no `machines` in the meta); narrows the type.
    if (ctx.principal.kind !== 'user') throw new ActAsError('FORBIDDEN', 'People only.')
    return next({ ctx: { principal: ctx.principal } })
  })

  // Already enforced by `authorize`; re-checked here only to narrow the type.
  const asStaff = t.middleware(({ ctx, next }) =>
    next({ ctx: { principal: staffOnly(ctx.principal) } }),
  )
  const asStaffOrMachine = t.middleware(({ ctx, next }) =>
    next({ ctx: { principal: staffOrMachine(ctx.principal) } }),
  )
  const staffProcedure = procedure.meta({ auth: 'staff' }).use(asStaff)

  /** Staff, or a machine granted the procedure by the permission map. */
  const readProcedure = procedure.meta({ auth: 'staff', machines: 'read' }).use(asStaffOrMachine)

  /**
   * Machines only (a service reporting to ActAs), granted one by one in the permission map.
   * `auth: 'staff'` keeps people who are not staff out at `authorize`; staff are refused here.
   */
  const machineWriteProcedure = procedure
    .meta({ auth: 'staff', machines: 'write' })
    .use(({ ctx, next }) => {
      const principal = ctx.principal
      if (principal.kind !== 'machine')
        throw new ActAsError(
          'FORBIDDEN',
          'Only services (Clerk machines) report to this procedure; people never call it.',
        )
      return next({ ctx: { principal } })
    })

  /** A procedure whose refusals by `authorize` and input go to the audit log (reportRefusals). */
  const audited = t.procedure.use(mapErrors).use(reportRefusals).use(authorize)

  /** A staff procedure whose refusals of signed-in non-staff callers go to the audit log. */
  const auditedStaffProcedure = audited.meta({ auth: 'staff' }).use(asStaff)

  /**
   * Staff, or a machine granted the procedure acting for a named staff member (`onBehalfOf`: the
   * port judges the machine as that person).
   */
  const onBehalf: ActAsMeta = { auth: 'staff', machines: 'on_behalf' }
  const onBehalfProcedure = procedure.meta(onBehalf).use(asStaffOrMachine)
  /** `onBehalfProcedure` whose refusals by `authorize` and input go to the audit log. */
  const auditedOnBehalfProcedure = audited.meta(onBehalf).use(asStaffOrMachine)

  /**
   * A signed-in person's procedure whose refusals (authorize, input) go to the audit log, like
   * `auditedStaffProcedure` (the access model's customer side).
   */
  const auditedSignedInProcedure = audited.meta({ auth: 'signed-in' }).use(({ ctx, next }) => {
    if (ctx.principal.kind !== 'user') throw new ActAsError('FORBIDDEN', 'People only.')
    return next({ ctx: { principal: ctx.principal } })
  })

  return {
    t,
    router: t.router,
    auditedSignedInProcedure,
    procedure,
    signedInProcedure,
    staffProcedure,
    readProcedure,
    machineWriteProcedure,
    auditedStaffProcedure,
    onBehalfProcedure,
    auditedOnBehalfProcedure,
    createCallerFactory: t.createCallerFactory,
  }
}
