import { z } from 'zod'

/** Instants travel as ISO 8601 UTC strings (`2026-11-24T18:49:25.000Z`). */
export const InstantSchema = z.iso.datetime({ offset: false })
export type Instant = z.infer<typeof InstantSchema>

/** A Clerk user id (`user_…`). */
export const UserIdSchema = z
  .string()
  .min(6)
  .max(64)
  .regex(/^user_[A-Za-z0-9]+$/, 'must be a Clerk user id (user_…)')
export type UserId = z.infer<typeof UserIdSchema>

/** An opaque pagination cursor handed back as `next`. */
export const CursorSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned as `next`')
export type Cursor = z.infer<typeof CursorSchema>

export const ImpersonationIdSchema = z.uuid()
export type ImpersonationId = z.infer<typeof ImpersonationIdSchema>
