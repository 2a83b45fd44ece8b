import { z } from 'zod'
import { POLICY_RULES } from '../errors.js'
import { CursorSchema, InstantSchema, UserIdSchema } from './common.js'
import { ImpersonationModeSchema } from './impersonation.js'

export const USER_ORDER_BY = [
  '-created_at',
  '+created_at',
  '-last_sign_in_at',
  '+last_sign_in_at',
  '-last_active_at',
  '+last_active_at',
] as const

export const UserOrderBySchema = z.enum(USER_ORDER_BY)
export type UserOrderBy = z.infer<typeof UserOrderBySchema>

export const UsersSearchInputSchema = z
  .strictObject({
    /**
     * Matches email, name, username, id or phone (typed as people do: `+33 6 54 61 67 17`,
     * `06 54 61 67 17` in the API's default country, `(650) 253-0000`); empty or absent lists
     * every user newest first.
     */
    query: z.string().trim().max(200).optional(),
    limit: z.number().int().min(1).max(100).default(20),
    /** Either `offset` or `cursor` (the `next` of a previous page), not both. */
    offset: z.number().int().min(0).max(1_000_000).optional(),
    cursor: CursorSchema.optional(),
    orderBy: UserOrderBySchema.default('-created_at'),
  })
  .refine((v) => v.offset === undefined || v.cursor === undefined, {
    message: 'give offset or cursor, not both',
    path: ['cursor'],
  })
export type UsersSearchInput = z.input<typeof UsersSearchInputSchema>
export type UsersSearchParams = z.output<typeof UsersSearchInputSchema>

export const UserOrganizationSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string().nullable(),
  role: z.string(),
})
export type UserOrganization = z.infer<typeof UserOrganizationSchema>

/** Whether the current actor may impersonate this user, and if not, why (for the console). */
export const ImpersonationVerdictSchema = z.object({
  allowed: z.boolean(),
  reason: z.string().optional(),
  rule: z.enum(POLICY_RULES).optional(),
  /**
   * When allowed: the modes `impersonation.start` accepts for this user (`['read_only']` when
   * the policy allows only read-only, e.g. READ_ONLY_ORGANIZATIONS), the one to preselect, and
   * why the choice is restricted.
   */
  modes: z.array(ImpersonationModeSchema).optional(),
  defaultMode: ImpersonationModeSchema.optional(),
  modeReason: z.string().optional(),
  /**
   * When allowed read-only only: the rule that keeps it so, when one rule alone does
   * (`approval_required`: a second staff member's approval would allow full access).
   */
  modeRule: z.enum(POLICY_RULES).optional(),
})
export type ImpersonationVerdict = z.infer<typeof ImpersonationVerdictSchema>

export const UserSummarySchema = z.object({
  id: UserIdSchema,
  primaryEmail: z.string().nullable(),
  fullName: z.string().nullable(),
  imageUrl: z.string().nullable(),
  createdAt: InstantSchema,
  lastSignInAt: InstantSchema.nullable(),
  /**
   * True when that last sign-in (Clerk's, which counts a ticket sign-in too) was an
   * impersonation's, as the audit log says; absent otherwise.
   */
  lastSignInImpersonated: z.literal(true).optional(),
  lastActiveAt: InstantSchema.nullable(),
  banned: z.boolean(),
  locked: z.boolean(),
  organizations: z.array(UserOrganizationSchema),
  impersonation: ImpersonationVerdictSchema,
  /** The user's phone number that the query matched (international format); absent otherwise. */
  matchedPhone: z.string().optional(),
})
export type UserSummary = z.infer<typeof UserSummarySchema>

export const UsersSearchOutputSchema = z.object({
  items: z.array(UserSummarySchema),
  total: z.number().int().min(0),
  /** Cursor of the next page, null on the last one. */
  next: CursorSchema.nullable(),
})
export type UsersSearchOutput = z.infer<typeof UsersSearchOutputSchema>
