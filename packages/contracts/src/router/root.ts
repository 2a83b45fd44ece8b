// The procedures: validate, authorize (meta + middleware), delegate to the context's ports.
import { z } from 'zod'
import { ActAsError } from '../errors.js'
import { AuditVerifyInputSchema, AuditVerifyOutputSchema } from '../schemas/audit.js'
import { AuditExportInputSchema, AuditExportOutputSchema } from '../schemas/audit-export.js'
import { LogStreamsStatusOutputSchema } from '../schemas/log-streams.js'
import { AlertsRecentOutputSchema } from '../alerts.js'
import {
  ImpersonationActiveOutputSchema,
  ImpersonationEndInputSchema,
  ImpersonationEndOutputSchema,
  ImpersonationSignedInInputSchema,
  ImpersonationSignedInOutputSchema,
  ImpersonationSignInFailedInputSchema,
  ImpersonationSignInFailedOutputSchema,
  ImpersonationStopInputSchema,
  ImpersonationStopOutputSchema,
  ImpersonationGetInputSchema,
  ImpersonationGetOutputSchema,
  ImpersonationListInputSchema,
  ImpersonationListOutputSchema,
  ImpersonationRevokeInputSchema,
  ImpersonationRevokeOutputSchema,
  ImpersonationStartInputSchema,
  ImpersonationStartOutputSchema,
} from '../schemas/impersonation.js'
import { MeOutputSchema, QuotaOutputSchema } from '../schemas/me.js'
import type { MeOutput } from '../schemas/me.js'
import {
  SessionInspectInputSchema,
  SessionInspectOutputSchema,
  SessionsRevokedInputSchema,
  SessionsRevokedOutputSchema,
} from '../schemas/sessions.js'
import {
  ImpersonationActionsInputSchema,
  ImpersonationActionsOutputSchema,
} from '../schemas/actions.js'
import { UsersSearchInputSchema, UsersSearchOutputSchema } from '../schemas/users.js'
import {
  WebhookDeliveriesInputSchema,
  WebhookDeliveriesOutputSchema,
  WebhookRetryInputSchema,
  WebhookRetryOutputSchema,
} from '../schemas/webhooks.js'
import type { UserPrincipal } from '../ports.js'
import { accessRouters } from './access.js'
import { createActAsTRPC, isStaff } from './trpc.js'
import type { ActAsRouterOptions } from './trpc.js'

/** Procedures without input still refuse junk input instead of ignoring it. */
const NoInputSchema = z.undefined()

export function describeMe(principal: UserPrincipal): MeOutput {
  return {
    userId: principal.userId,
    sessionId: principal.sessionId,
    organization: principal.orgId
      ? { id: principal.orgId, slug: principal.orgSlug, role: principal.orgRole }
      : null,
    permissions: [...principal.permissions],
    canImpersonate: isStaff(principal),
    actor: principal.actor
      ? {
          userId: principal.actor.sub,
          impersonationId: principal.actor.impersonationId,
          reason: principal.actor.reason,
          mode: principal.actor.mode,
          email: null,
          sessionExpiresAt: null,
        }
      : null,
  }
}

export function createAppRouter(options: ActAsRouterOptions) {
  const builders = createActAsTRPC(options)
  const {
    router,
    signedInProcedure,
    staffProcedure,
    readProcedure,
    machineWriteProcedure,
    onBehalfProcedure,
    auditedOnBehalfProcedure,
  } = builders

  return router({
    ...accessRouters(builders),

    me: signedInProcedure
      .input(NoInputSchema)
      .output(MeOutputSchema)
      .query(async ({ ctx }) => {
        const me = describeMe(ctx.principal)
        // An impersonated session: who started it and until when, from the audit log.
        if (!me.actor || !ctx.impersonation.describeActor) return me
        const audited = await ctx.impersonation.describeActor(ctx.principal)
        return audited ? { ...me, actor: { ...me.actor, ...audited } } : me
      }),

    quota: staffProcedure
      .input(NoInputSchema)
      .output(QuotaOutputSchema)
      .query(({ ctx }) => ctx.impersonation.quota(ctx.principal)),

    users: router({
      search: readProcedure
        .input(UsersSearchInputSchema)
        .output(UsersSearchOutputSchema)
        .query(({ ctx, input }) => ctx.directory.search(ctx.principal, input)),
    }),

    impersonation: router({
      // Refusals by `authorize` are audited too (`denied` rows), after the refusal. Staff, or a
      // machine granted it on behalf of a named staff member (`onBehalfOf`).
      start: auditedOnBehalfProcedure
        .input(ImpersonationStartInputSchema)
        .output(ImpersonationStartOutputSchema)
        .mutation(({ ctx, input }) => ctx.impersonation.start(ctx.principal, input, ctx.request)),

      revoke: staffProcedure
        .input(ImpersonationRevokeInputSchema)
        .output(ImpersonationRevokeOutputSchema)
        .mutation(({ ctx, input }) =>
          ctx.impersonation.revoke(ctx.principal, input.impersonationId, ctx.request),
        ),

      /** Live impersonations: who acts as whom, since when, why, until when. Staff only. */
      active: staffProcedure
        .input(NoInputSchema)
        .output(ImpersonationActiveOutputSchema)
        .query(({ ctx }) => ctx.impersonation.active(ctx.principal)),

      /**
       * The kill switch, for any staff member: revokes the Clerk session (and the ticket if
       * unused) and records who ended it and why. A machine granted it: only the impersonations
       * it started, on behalf of a named staff member (`onBehalfOf`).
       */
      end: onBehalfProcedure
        .input(ImpersonationEndInputSchema)
        .output(ImpersonationEndOutputSchema)
        .mutation(({ ctx, input }) => ctx.impersonation.end(ctx.principal, input, ctx.request)),

      /**
       * The impersonated session's own Stop (any other caller: 403). Returns the way back to the
       * console when the return secret matches (see the port).
       */
      stop: signedInProcedure
        .input(ImpersonationStopInputSchema)
        .output(ImpersonationStopOutputSchema)
        .mutation(({ ctx, input }) => {
          if (!ctx.principal.actor)
            throw new ActAsError('FORBIDDEN', 'Stop is for an impersonated session.')
          return ctx.impersonation.stop(ctx.principal, input, ctx.request)
        }),

      /**
       * The console's report after `setActive`: the impersonated session's token, verified
       * (`sub`, `act.sub`, `act.impersonation_id`); only that session itself may report it.
       */
      signedIn: signedInProcedure
        .input(ImpersonationSignedInInputSchema)
        .output(ImpersonationSignedInOutputSchema)
        .mutation(({ ctx, input }) => {
          if (!ctx.principal.actor)
            throw new ActAsError('FORBIDDEN', 'Only an impersonated session reports its sign-in.')
          return ctx.impersonation.signedIn(ctx.principal, input.sessionToken, ctx.request)
        }),

      /**
       * The console's report that the ticket sign-in failed (the dialog shows the error). Staff;
       * only the staff member who started this impersonation (403 for anyone else), refused once
       * it signed in; appends `failed` once and revokes the ticket.
       */
      signInFailed: staffProcedure
        .input(ImpersonationSignInFailedInputSchema)
        .output(ImpersonationSignInFailedOutputSchema)
        .mutation(({ ctx, input }) =>
          ctx.impersonation.signInFailed(ctx.principal, input, ctx.request),
        ),

      // A read by a machine is itself audited (by the port).
      list: readProcedure
        .input(ImpersonationListInputSchema)
        .output(ImpersonationListOutputSchema)
        .query(({ ctx, input }) => ctx.impersonation.list(ctx.principal, input, ctx.request)),

      // The record with its event timeline; a read by a machine is audited (by the port).
      get: readProcedure
        .input(ImpersonationGetInputSchema)
        .output(ImpersonationGetOutputSchema)
        .query(({ ctx, input }) =>
          ctx.impersonation.get(ctx.principal, input.impersonationId, ctx.request),
        ),

      /**
       * A guard's report of what an impersonated session did in the host application (method,
       * route pattern, status, time), appended to the impersonation's action trail. Machines
       * granted it only. An unknown session is IMPERSONATION_NOT_FOUND (404).
       */
      actions: machineWriteProcedure
        .input(ImpersonationActionsInputSchema)
        .output(ImpersonationActionsOutputSchema)
        .mutation(({ ctx, input }) =>
          ctx.impersonation.recordActions(ctx.principal, input, ctx.request),
        ),
    }),

    audit: router({
      /**
       * Walks the hash chain from the last signed checkpoint (`{ full: true }`, staff only: from
       * the first event): the first broken link, the head, the signed checkpoints, and the rows
       * checked against their events. Rate-limited; machines need an explicit grant.
       */
      verify: readProcedure
        .input(AuditVerifyInputSchema)
        .output(AuditVerifyOutputSchema)
        .query(({ ctx, input }) => ctx.audit.verify(ctx.principal, ctx.request, input ?? {})),

      /**
       * The chain in chain order, a page at a time, as ActAs's events or in OCSF form (issue 23).
       * Staff, and machines granted it (by default); a machine's read is recorded.
       */
      export: readProcedure
        .input(AuditExportInputSchema)
        .output(AuditExportOutputSchema)
        .query(({ ctx, input }) => {
          if (!ctx.auditExport) throw new ActAsError('INVALID_INPUT', 'This ActAs exports nothing.')
          return ctx.auditExport.export(ctx.principal, input, ctx.request)
        }),
    }),

    logStreams: router({
      /** The log streams to SIEMs: state, cursor against the head, last delivery. Staff only. */
      status: staffProcedure
        .input(NoInputSchema)
        .output(LogStreamsStatusOutputSchema)
        .query(({ ctx }) =>
          ctx.logStreams ? ctx.logStreams.status(ctx.principal) : { items: [], enabled: false },
        ),
    }),

    alerts: router({
      /** The recent alerts (rules over the audit log), newest first. Staff only. */
      recent: staffProcedure
        .input(NoInputSchema)
        .output(AlertsRecentOutputSchema)
        .query(({ ctx }) =>
          ctx.alerts ? ctx.alerts.recent(ctx.principal) : { items: [], enabled: false },
        ),
    }),

    webhooks: router({
      /** The outbox of webhooks to the host, newest first: pending, delivered, dead. Staff only. */
      deliveries: staffProcedure
        .input(WebhookDeliveriesInputSchema)
        .output(WebhookDeliveriesOutputSchema)
        .query(({ ctx, input }) =>
          ctx.webhooks
            ? ctx.webhooks.deliveries(ctx.principal, input)
            : { items: [], next: null, enabled: false },
        ),

      /** A staff member sends a dead letter again (same `webhook-id`). Staff only. */
      retry: staffProcedure
        .input(WebhookRetryInputSchema)
        .output(WebhookRetryOutputSchema)
        .mutation(({ ctx, input }) => {
          if (!ctx.webhooks) throw new ActAsError('INVALID_INPUT', 'This ActAs sends no webhooks.')
          return ctx.webhooks.retry(ctx.principal, input.deliveryId, ctx.request)
        }),
    }),

    sessions: router({
      /**
       * Verifies a session token a service received: is it impersonated, by whom, why? A read,
       * but a mutation so that the token travels in a POST body, never in a URL (request logs,
       * proxies).
       */
      inspect: readProcedure
        .input(SessionInspectInputSchema)
        .output(SessionInspectOutputSchema)
        .mutation(({ ctx, input }) => ctx.sessions.inspect(input.token)),

      /**
       * Impersonated sessions ActAs ended, after a cursor: what a guard polls to refuse them
       * without a call per request. Bounded (`limit`), read by the chain's sequence.
       */
      revoked: readProcedure
        .input(SessionsRevokedInputSchema)
        .output(SessionsRevokedOutputSchema)
        .query(({ ctx, input }) => ctx.impersonation.revokedSessions(ctx.principal, input)),
    }),
  })
}
