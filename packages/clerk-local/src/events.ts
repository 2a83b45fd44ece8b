import type { LocalUser, Organization, OrganizationMembership, Session } from './model.js'

// Changes the state announces, as Clerk's webhook event types. The webhook sender (webhooks.ts)
// serializes them when they happen; anything else may listen too (`ClerkState.onEvent`).

export type SessionEventType =
  'session.created' | 'session.ended' | 'session.removed' | 'session.revoked'
export type UserEventType = 'user.created' | 'user.updated' | 'user.deleted'
export type MembershipEventType =
  | 'organizationMembership.created'
  | 'organizationMembership.updated'
  | 'organizationMembership.deleted'

export type StateEvent =
  | { type: SessionEventType; session: Session }
  | { type: UserEventType; user: LocalUser }
  | {
      type: MembershipEventType
      membership: OrganizationMembership
      organization: Organization
    }

export type EventType = StateEvent['type']

export const EVENT_TYPES: readonly EventType[] = [
  'session.created',
  'session.ended',
  'session.removed',
  'session.revoked',
  'user.created',
  'user.updated',
  'user.deleted',
  'organizationMembership.created',
  'organizationMembership.updated',
  'organizationMembership.deleted',
]
