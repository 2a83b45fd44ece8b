import type { Client, LocalUser, Organization, OrganizationMembership, Session } from '../model.js'
import { hasImage, userJson as bapiUserJson } from '../bapi/serialize.js'
import { factorAgeMinutes } from '../session-token.js'
import type { ClerkState } from '../state.js'
import type { FapiStore, SignInAttempt } from './store.js'

// JSON shapes of the Frontend API, as fapi-2026-05-12.yml describes them and clerk-js 6.40 reads
// them (`fromJSON`). Times are epoch milliseconds.

const roleName = (role: string) => role.charAt(0).toUpperCase() + role.slice(1).replace(/_/g, ' ')

export function organizationJson(state: ClerkState, org: Organization) {
  let members = 0
  for (const m of state.memberships.values()) if (m.organizationId === org.id) members++
  return {
    object: 'organization',
    id: org.id,
    name: org.name,
    slug: org.slug,
    image_url: '',
    has_image: false,
    members_count: members,
    pending_invitations_count: 0,
    max_allowed_memberships: 0,
    admin_delete_enabled: false,
    public_metadata: {},
    created_at: org.createdAt,
    updated_at: org.updatedAt,
  }
}

export function membershipJson(state: ClerkState, m: OrganizationMembership, org: Organization) {
  return {
    object: 'organization_membership',
    id: m.id,
    public_metadata: {},
    // Clerk's JSON carries role keys with the `org:` prefix; clerk-js compares `org:`-normalised keys.
    role: `org:${m.role}`,
    role_name: roleName(m.role),
    permissions: [...(org.roles[m.role] ?? [])],
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    organization: organizationJson(state, org),
  }
}

/**
 * The FAPI user: BAPI's user JSON (bapi/serialize.ts) without `private_metadata`, plus the
 * organization memberships clerk-js resolves `clerk.organization` from.
 */
export function userJson(state: ClerkState, user: LocalUser) {
  const memberships = state
    .membershipsOfUser(user.id)
    .sort((a, b) => a.createdAt - b.createdAt)
    .flatMap((m) => {
      const org = state.organizations.get(m.organizationId)
      return org ? [membershipJson(state, m, org)] : []
    })
  // FAPI's User has no private metadata, and its create_organizations_limit is an integer (BAPI: null).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { private_metadata, create_organizations_limit, ...base } = bapiUserJson(state, user)
  return { ...base, organization_memberships: memberships }
}

export function publicUserDataJson(user: LocalUser) {
  const primaryEmail =
    user.emailAddresses.find((e) => e.id === user.primaryEmailAddressId) ?? user.emailAddresses[0]
  return {
    first_name: user.firstName,
    last_name: user.lastName,
    image_url: user.imageUrl,
    has_image: hasImage(user),
    identifier: primaryEmail?.emailAddress ?? user.username ?? user.id,
    user_id: user.id,
    username: user.username,
  }
}

export interface SerializeOptions {
  /** A fresh session JWT to embed as `last_active_token` (saves clerk-js a `tokens` round trip). */
  token?: (session: Session) => string | undefined
}

export function sessionJson(store: FapiStore, session: Session, options: SerializeOptions = {}) {
  const user = store.state.users.get(session.userId)
  const status = store.liveStatus(session)
  const jwt = status === 'active' ? options.token?.(session) : undefined
  return {
    object: 'session',
    id: session.id,
    status,
    expire_at: session.expireAt,
    abandon_at: session.abandonAt,
    last_active_at: session.lastActiveAt,
    last_active_organization_id: session.lastActiveOrganizationId,
    last_active_token: jwt ? { object: 'token', jwt } : null,
    actor: session.actor,
    tasks: null,
    ...(user ? { user: userJson(store.state, user) } : {}),
    public_user_data: user ? publicUserDataJson(user) : null,
    factor_verification_age: [
      factorAgeMinutes(session.firstFactorVerifiedAt, store.state.now()),
      -1,
    ],
    created_at: session.createdAt,
    updated_at: session.updatedAt,
  }
}

export function signInJson(store: FapiStore, signIn: SignInAttempt) {
  const user = signIn.userId ? store.state.users.get(signIn.userId) : undefined
  const firstFactors = user?.passwordDigest ? [{ strategy: 'password' }] : []
  const verification = signIn.firstFactor
    ? {
        object:
          signIn.firstFactor.strategy === 'password'
            ? 'verification_password'
            : 'verification_ticket',
        status: signIn.firstFactor.status,
        strategy: signIn.firstFactor.strategy,
        attempts: signIn.firstFactor.attempts,
        expire_at: null,
      }
    : null
  return {
    object: 'sign_in_attempt',
    id: signIn.id,
    status: signIn.status,
    supported_identifiers: ['email_address', 'username'],
    supported_first_factors: signIn.status === 'needs_identifier' ? [] : firstFactors,
    supported_second_factors: null,
    first_factor_verification: verification,
    second_factor_verification: null,
    identifier: signIn.identifier,
    user_data: user
      ? {
          first_name: user.firstName,
          last_name: user.lastName,
          image_url: user.imageUrl,
          has_image: hasImage(user),
        }
      : null,
    created_session_id: signIn.createdSessionId,
    abandon_at: signIn.abandonAt,
  }
}

export function clientJson(store: FapiStore, client: Client, options: SerializeOptions = {}) {
  const sessions = store.activeSessionsOf(client)
  const signIn = client.signInId ? store.signIns.get(client.signInId) : undefined
  const lastActive = sessions.some((s) => s.id === client.lastActiveSessionId)
    ? client.lastActiveSessionId
    : null
  return {
    object: 'client',
    id: client.id,
    sessions: sessions.map((s) => sessionJson(store, s, options)),
    // A completed sign-in is consumed: Clerk stops returning it on the client.
    sign_in: signIn && signIn.status !== 'complete' ? signInJson(store, signIn) : null,
    sign_up: null,
    last_active_session_id: lastActive,
    last_authentication_strategy: null,
    // null: clerk-js then never calls `GET /v1/client/touch` (it does when the cookie expires within 8 days).
    cookie_expires_at: null,
    captcha_bypass: false,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  }
}

export interface EnvironmentOptions {
  applicationName: string
}

/**
 * The instance settings clerk-js loads first. Sub-objects clerk-js dereferences without guards are
 * sent whole; `user_settings` is left out (clerk-js defaults it; only prebuilt UI needs it).
 * Single-session mode, password + ticket sign-in, organizations enabled.
 */
export function environmentJson(options: EnvironmentOptions) {
  return {
    auth_config: {
      object: 'auth_config',
      id: 'aac_local',
      first_name: 'off',
      last_name: 'off',
      email_address: 'on',
      phone_number: 'off',
      username: 'on',
      password: 'required',
      identification_requirements: [['email_address', 'username']],
      identification_strategies: ['email_address', 'username'],
      first_factors: ['password', 'ticket'],
      second_factors: [],
      email_address_verification_strategies: [],
      single_session_mode: true,
      enhanced_email_deliverability: false,
      test_mode: true,
      url_based_session_syncing: true,
      claimed_at: null,
      reverification: false,
      native_settings: {
        object: 'native_settings',
        api_enabled: false,
        trusted_device_sign_in_enabled: false,
        trusted_device_enrollment_prompt_after_sign_in_enabled: false,
        trusted_device_enrollment_prompt_after_sign_up_enabled: false,
      },
    },
    display_config: {
      object: 'display_config',
      id: 'display_config_local',
      instance_environment_type: 'development',
      application_name: options.applicationName,
      theme: {},
      preferred_sign_in_strategy: 'password',
      logo_image_url: null,
      favicon_image_url: null,
      // Relative URLs: clerk-js resolves them against the page, so nothing leaves the app's origin.
      home_url: '/',
      sign_in_url: '/sign-in',
      sign_up_url: '/sign-up',
      user_profile_url: '/user',
      waitlist_url: '/waitlist',
      oauth_consent_url: '/oauth-consent',
      after_sign_in_url: '/',
      after_sign_up_url: '/',
      after_sign_out_one_url: '/',
      after_sign_out_all_url: '/',
      after_switch_session_url: '/',
      after_join_waitlist_url: '/',
      organization_profile_url: '/organization',
      create_organization_url: '/create-organization',
      after_leave_organization_url: '/',
      after_create_organization_url: '/',
      logo_link_url: '/',
      support_email: null,
      branded: false,
      experimental_force_oauth_first: false,
      clerk_js_version: null,
      show_devmode_warning: false,
      google_one_tap_client_id: null,
      help_url: null,
      privacy_policy_url: null,
      terms_url: null,
      logo_url: null,
      favicon_url: null,
      logo_image: null,
      favicon_image: null,
      captcha_public_key: null,
      captcha_widget_type: null,
      captcha_public_key_invisible: null,
      captcha_provider: null,
      captcha_oauth_bypass: [],
    },
    organization_settings: {
      enabled: true,
      max_allowed_memberships: 0,
      actions: { admin_delete: false },
      domains: { enabled: false, enrollment_modes: [], default_role: 'org:member' },
      slug: { disabled: false },
      creator_role: 'org:admin',
    },
    api_keys_settings: {
      enabled: false,
      user_api_keys_enabled: false,
      orgs_api_keys_enabled: false,
    },
    client_debug_mode: false,
    partitioned_cookies: false,
    maintenance_mode: false,
  }
}
