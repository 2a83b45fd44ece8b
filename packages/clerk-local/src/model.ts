// The local server's domain model: plain records, times in epoch milliseconds (as Clerk's JSON).
// BAPI (bapi/) and FAPI (fapi/) both read and write these through `ClerkState` (state.ts).

export interface EmailAddress {
  id: string
  emailAddress: string
}

export interface PhoneNumber {
  id: string
  phoneNumber: string
}

export interface LocalUser {
  id: string
  externalId: string | null
  username: string | null
  firstName: string | null
  lastName: string | null
  imageUrl: string
  emailAddresses: EmailAddress[]
  primaryEmailAddressId: string | null
  phoneNumbers: PhoneNumber[]
  primaryPhoneNumberId: string | null
  /** scrypt digest `salt:hash` (hex); null when the user has no password. */
  passwordDigest: string | null
  banned: boolean
  locked: boolean
  publicMetadata: Record<string, unknown>
  privateMetadata: Record<string, unknown>
  unsafeMetadata: Record<string, unknown>
  createdAt: number
  updatedAt: number
  lastSignInAt: number | null
  lastActiveAt: number | null
}

export interface Organization {
  id: string
  name: string
  slug: string
  /** role key without the `org:` prefix (e.g. `admin`) → permission keys (e.g. `org:admin:impersonate`). */
  roles: Record<string, string[]>
  createdAt: number
  updatedAt: number
}

export interface OrganizationMembership {
  id: string
  organizationId: string
  userId: string
  /** role key without the `org:` prefix, e.g. `admin` or `member`. */
  role: string
  publicMetadata?: Record<string, unknown>
  privateMetadata?: Record<string, unknown>
  createdAt: number
  updatedAt: number
}

export interface Actor {
  sub: string
  [claim: string]: unknown
}

export type ActorTokenStatus = 'pending' | 'accepted' | 'revoked'

export interface ActorToken {
  id: string
  userId: string
  actor: Actor
  status: ActorTokenStatus
  /** The ticket handed to the browser (`signIn.create({ strategy: 'ticket', ticket })`). */
  token: string
  expiresAt: number
  sessionMaxDurationSeconds: number
  createdAt: number
  updatedAt: number
}

export type SignInTokenStatus = 'pending' | 'accepted' | 'revoked'

/** A BAPI sign-in token: a single-use ticket that signs its user in (an ordinary session, no actor). */
export interface SignInToken {
  id: string
  userId: string
  /** The organization the session starts in (`org_id`), or null for the default. */
  organizationId: string | null
  status: SignInTokenStatus
  /** The ticket (a JWT signed by the instance key, as Clerk's are). */
  token: string
  expiresAt: number
  createdAt: number
  updatedAt: number
}

export type SessionStatus = 'active' | 'ended' | 'removed' | 'expired' | 'abandoned' | 'revoked'

export interface Session {
  id: string
  clientId: string
  userId: string
  status: SessionStatus
  actor: Actor | null
  lastActiveOrganizationId: string | null
  /** Hard end of the session (actor sessions: their max duration). */
  expireAt: number
  /** Idle end; pushed forward on every touch/token (actor sessions: 10 minutes). */
  abandonAt: number
  lastActiveAt: number
  /** When the first factor was last verified (sign-in, reverification): the token's `fva[0]`. */
  firstFactorVerifiedAt: number
  createdAt: number
  updatedAt: number
}

export interface Client {
  id: string
  sessionIds: string[]
  lastActiveSessionId: string | null
  signInId: string | null
  createdAt: number
  updatedAt: number
}

/** A seeded staff or special account, printed by the CLI so people and tools can sign in. */
export interface SeededAccount {
  /**
   * `admin` and `colleague` may impersonate; `approver` may too and decides access requests;
   * `agent` is staff without the permission.
   */
  role: 'admin' | 'colleague' | 'approver' | 'agent' | 'banned' | 'locked'
  /** `staff` (members of Support) or `customer` (the banned and locked demo customers). */
  kind: 'staff' | 'customer'
  identifier: string
  password: string
  userId: string
}
