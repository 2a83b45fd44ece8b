// The access model's procedures (access.ts): staff ask and decide (`access.*`), the customer —
// a signed-in user of the host application, never staff, never an impersonated session — sees,
// decides, grants and revokes for themselves, and an organization's admins set its setting
// (`customer.*`). Validation and authorization here; everything else in the port.
import { z } from 'zod'
import {
  AccessDecideInputSchema,
  AccessListInputSchema,
  AccessListOutputSchema,
  AccessListStaffOutputSchema,
  AccessRecordSchema,
  AccessRequestInputSchema,
  CustomerDecideInputSchema,
  CustomerGrantInputSchema,
  CustomerHistoryOutputSchema,
  CustomerListInputSchema,
  CustomerRevokeInputSchema,
  OrganizationHistoryInputSchema,
  OrganizationInputSchema,
  OrganizationSettingOutputSchema,
  OrganizationSettingSetInputSchema,
} from '../access.js'
import type { AccessPort } from '../access.js'
import { ActAsError } from '../errors.js'
import type { ActAsContext } from '../ports.js'
import type { createActAsTRPC } from './trpc.js'

type Builders = ReturnType<typeof createActAsTRPC>

const port = (ctx: ActAsContext): AccessPort => {
  if (!ctx.access) throw new ActAsError('FORBIDDEN', 'This ActAs has no access requests.')
  return ctx.access
}

export function accessRouters(b: Builders) {
  const { router, auditedStaffProcedure, staffProcedure, auditedSignedInProcedure } = b
  return {
    access: router({
      /** Ask for access to a user (consent and/or a second staff member's approval). Rate-limited. */
      request: auditedStaffProcedure
        .input(AccessRequestInputSchema)
        .output(AccessRecordSchema)
        .mutation(({ ctx, input }) => port(ctx).request(ctx.principal, input, ctx.request)),

      /** The caller's requests, or (approvers) those waiting for a staff decision. */
      list: staffProcedure
        .input(AccessListInputSchema)
        .output(AccessListStaffOutputSchema)
        .query(({ ctx, input }) => port(ctx).list(ctx.principal, input, ctx.request)),

      /**
       * An approver's decision: never on their own request; the approval permission re-read from
       * Clerk and step-up at the moment of deciding; a reason to deny; 409 once settled.
       */
      decide: auditedStaffProcedure
        .input(AccessDecideInputSchema)
        .output(AccessRecordSchema)
        .mutation(({ ctx, input }) => port(ctx).decide(ctx.principal, input, ctx.request)),
    }),

    customer: router({
      /** Pending requests to act as the caller. */
      requests: auditedSignedInProcedure
        .input(z.undefined())
        .output(AccessListOutputSchema)
        .query(({ ctx }) => port(ctx).customerRequests(ctx.principal, ctx.request)),

      decide: auditedSignedInProcedure
        .input(CustomerDecideInputSchema)
        .output(AccessRecordSchema)
        .mutation(({ ctx, input }) => port(ctx).customerDecide(ctx.principal, input, ctx.request)),

      /** Grant access unasked ("let support in for 24 h, read-only"). */
      grant: auditedSignedInProcedure
        .input(CustomerGrantInputSchema)
        .output(AccessRecordSchema)
        .mutation(({ ctx, input }) => port(ctx).customerGrant(ctx.principal, input, ctx.request)),

      /** Revoke a grant (or withdraw consent): live impersonations under it end. */
      revoke: auditedSignedInProcedure
        .input(CustomerRevokeInputSchema)
        .output(AccessRecordSchema)
        .mutation(({ ctx, input }) => port(ctx).customerRevoke(ctx.principal, input, ctx.request)),

      /** Who acted as the caller: when, how long, why, which mode, how many actions. */
      history: auditedSignedInProcedure
        .input(CustomerListInputSchema)
        .output(CustomerHistoryOutputSchema)
        .query(({ ctx, input }) => port(ctx).customerHistory(ctx.principal, input, ctx.request)),

      orgSetting: router({
        get: auditedSignedInProcedure
          .input(OrganizationInputSchema)
          .output(OrganizationSettingOutputSchema)
          .query(({ ctx, input }) => port(ctx).orgSettingGet(ctx.principal, input, ctx.request)),
        /** The organization's admins only. */
        set: auditedSignedInProcedure
          .input(OrganizationSettingSetInputSchema)
          .output(OrganizationSettingOutputSchema)
          .mutation(({ ctx, input }) => port(ctx).orgSettingSet(ctx.principal, input, ctx.request)),
      }),

      /** The organization's members' history (its admins only). */
      orgHistory: auditedSignedInProcedure
        .input(OrganizationHistoryInputSchema)
        .output(CustomerHistoryOutputSchema)
        .query(({ ctx, input }) => port(ctx).orgHistory(ctx.principal, input, ctx.request)),
    }),
  }
}
