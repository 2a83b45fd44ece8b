import type {
  ActorToken,
  LocalUser,
  Organization,
  OrganizationMembership,
  Session,
} from '../model.js'
import type { ClerkState } from '../state.js'

// Clerk's JSON shapes as the Backend API (2026-05-12) sends them. The User schema has
// `additionalProperties: false`, so only the spec's properties appear. @clerk/backend's
// `fromJSON` dereferences `linked_to` and `verification` of every email and phone without a
// guard: they are always present.

const DEFAULT_AVATAR_MARKER = '/__local/avatars/default/'

export function hasImage(user: LocalUser): boolean {
  return !user.imageUrl.includes(DEFAULT_AVATAR_MARKER)
}

function adminVerification() {
  return {
    object: 'verification_admin',
    status: 'verified',
    strategy: 'admin',
    attempts: null,
    expire_at: null,
  }
}

export function emailAddressJson(user: LocalUser, email: LocalUser['emailAddresses'][number]) {
  return {
    id: email.id,
    object: 'email_address' as const,
    email_address: email.emailAddress,
    reserved: false,
    verification: adminVerification(),
    linked_to: [] as Array<{ type: string; id: string }>,
    matches_sso_connection: false,
    created_at: user.createdAt,
    updated_at: user.createdAt,
  }
}

export function phoneNumberJson(user: LocalUser, phone: LocalUser['phoneNumbers'][number]) {
  return {
    id: phone.id,
    object: 'phone_number' as const,
    phone_number: phone.phoneNumber,
    reserved_for_second_factor: false,
    default_second_factor: false,
    reserved: false,
    verification: adminVerification(),
    linked_to: [] as Array<{ type: string; id: string }>,
    backup_codes: null,
    created_at: user.createdAt,
    updated_at: user.createdAt,
  }
}

/** The Backend API `User` object (includes `private_metadata`; FAPI callers should drop it). */
export function userJson(_state: ClerkState, user: LocalUser) {
  return {
    id: user.id,
    object: 'user' as const,
    external_id: user.externalId,
    primary_email_address_id: user.primaryEmailAddressId,
    primary_phone_number_id: user.primaryPhoneNumberId,
    primary_web3_wallet_id: null,
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    locale: null,
    profile_image_url: user.imageUrl,
    image_url: user.imageUrl,
    has_image: hasImage(user),
    public_metadata: user.publicMetadata,
    private_metadata: user.privateMetadata,
    unsafe_metadata: user.unsafeMetadata,
    email_addresses: user.emailAddresses.map((e) => emailAddressJson(user, e)),
    phone_numbers: user.phoneNumbers.map((p) => phoneNumberJson(user, p)),
    web3_wallets: [] as unknown[],
    passkeys: [] as unknown[],
    password_enabled: user.passwordDigest !== null,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    mfa_enabled_at: null,
    mfa_disabled_at: null,
    password_last_updated_at: user.passwordDigest !== null ? user.createdAt : null,
    external_accounts: [] as unknown[],
    saml_accounts: [] as unknown[],
    enterprise_accounts: [] as unknown[],
    last_sign_in_at: user.lastSignInAt,
    banned: user.banned,
    locked: user.locked,
    // A locked seeded account stays locked (null = the lockout never expires).
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: user.locked ? 0 : 100,
    updated_at: user.updatedAt,
    created_at: user.createdAt,
    delete_self_enabled: true,
    create_organization_enabled: true,
    create_organizations_limit: null,
    last_active_at: user.lastActiveAt,
    legal_accepted_at: null,
    bypass_client_trust: false,
  }
}

export type UserJson = ReturnType<typeof userJson>

export function organizationJson(state: ClerkState, org: Organization) {
  return {
    object: 'organization' as const,
    id: org.id,
    name: org.name,
    slug: org.slug,
    image_url: '',
    has_image: false,
    members_count: state.membersOf(org.id).length,
    max_allowed_memberships: 0,
    admin_delete_enabled: true,
    public_metadata: {},
    private_metadata: {},
    created_at: org.createdAt,
    updated_at: org.updatedAt,
  }
}

const roleName = (role: string) => role.charAt(0).toUpperCase() + role.slice(1)

/** BAPI `OrganizationMembership` (roles carry the `org:` prefix on the wire). */
export function organizationMembershipJson(
  state: ClerkState,
  membership: OrganizationMembership,
  org: Organization,
) {
  const user = state.users.get(membership.userId)
  const primaryEmail =
    user?.emailAddresses.find((e) => e.id === user.primaryEmailAddressId) ?? user?.emailAddresses[0]
  return {
    object: 'organization_membership' as const,
    id: membership.id,
    role: `org:${membership.role}`,
    role_name: roleName(membership.role),
    permissions: org.roles[membership.role] ?? [],
    public_metadata: {},
    private_metadata: {},
    organization: organizationJson(state, org),
    public_user_data: {
      user_id: membership.userId,
      first_name: user?.firstName ?? null,
      last_name: user?.lastName ?? null,
      profile_image_url: user?.imageUrl ?? null,
      image_url: user?.imageUrl ?? '',
      has_image: user ? hasImage(user) : false,
      identifier: primaryEmail?.emailAddress ?? user?.username ?? null,
      username: user?.username ?? null,
      banned: user?.banned ?? false,
    },
    created_at: membership.createdAt,
    updated_at: membership.updatedAt,
  }
}

/**
 * BAPI `ActorToken`. The ticket (`token`, `url`) is only shown when the token is created, as
 * Clerk does; `frontendApiUrl` builds the sign-in URL (`/v1/tickets/accept?ticket=`).
 */
export function actorTokenJson(token: ActorToken, reveal?: { frontendApiUrl: string }) {
  return {
    object: 'actor_token' as const,
    id: token.id,
    status: token.status,
    user_id: token.userId,
    actor: token.actor,
    ...(reveal
      ? {
          token: token.token,
          url: `${reveal.frontendApiUrl}/v1/tickets/accept?ticket=${encodeURIComponent(token.token)}`,
        }
      : {}),
    created_at: token.createdAt,
    updated_at: token.updatedAt,
  }
}

/**
 * BAPI `Session` (also the `data` of `session.*` webhook events): the status now, `actor` (the
 * actor token's payload, every field as given) on impersonation sessions, `null` otherwise.
 */
export function sessionJson(state: ClerkState, session: Session) {
  return {
    object: 'session' as const,
    id: session.id,
    user_id: session.userId,
    client_id: session.clientId,
    actor: session.actor ? { ...session.actor } : null,
    status: state.sessionStatus(session),
    last_active_organization_id: session.lastActiveOrganizationId,
    last_active_at: session.lastActiveAt,
    expire_at: session.expireAt,
    abandon_at: session.abandonAt,
    tasks: null,
    created_at: session.createdAt,
    updated_at: session.updatedAt,
  }
}
