import { clerkError, json, type Handler, type LocalRequest, type Router } from '../http.js'
import type { LocalUser } from '../model.js'
import { createUser } from '../search.js'
import { newId, passwordDigest, type ClerkState } from '../state.js'
import { BapiError, invalidParam, missingParam, notFound, unknownParam } from './errors.js'
import { userJson } from './serialize.js'

// The user mutations that Clerk announces by webhook: ban/unban, lock/unlock, update, delete.
// (Each one is emitted by ClerkState; see events.ts and webhooks.ts.)

/** `PATCH /v1/users/{id}` fields this server applies. */
const SUPPORTED = new Set([
  'external_id',
  'first_name',
  'last_name',
  'username',
  'primary_email_address_id',
  'primary_phone_number_id',
  'password',
  'skip_password_checks',
  'sign_out_of_other_sessions',
])
/** The spec's other `PATCH /v1/users/{id}` fields: refused by name, not silently ignored. */
const UNSUPPORTED = new Set([
  'locale',
  'notify_primary_email_address_changed',
  'primary_web3_wallet_id',
  'profile_image_id',
  'password_digest',
  'password_hasher',
  'totp_secret',
  'backup_codes',
  'delete_self_enabled',
  'create_organization_enabled',
  'legal_accepted_at',
  'skip_legal_checks',
  'create_organizations_limit',
  'created_at',
  'bypass_client_trust',
])

function userOr404(state: ClerkState, req: LocalRequest): LocalUser {
  const user = state.users.get(req.params.user_id ?? '')
  if (!user) throw notFound('User not found')
  return user
}

const identifierExists = (param: string) =>
  new BapiError(
    clerkError(
      422,
      'form_identifier_exists',
      'That identifier is taken. Please try another.',
      `That ${param.replace(/_/g, ' ')} is taken. Please try another.`,
      { param_name: param },
    ),
  )

function nullableString(body: Record<string, unknown>, key: string): string | null | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (value === null) return null
  if (typeof value !== 'string') throw invalidParam(key, `${key} must be a string or null.`)
  return value
}

/** `POST /v1/users` fields this server applies. */
const CREATE_SUPPORTED = new Set([
  'external_id',
  'first_name',
  'last_name',
  'email_address',
  'phone_number',
  'username',
  'password',
  'skip_password_checks',
  'skip_password_requirement',
  'public_metadata',
  'private_metadata',
  'unsafe_metadata',
  'banned',
  'locked',
])
const CREATE_UNSUPPORTED = new Set([
  'locale',
  'email_address_identification_status',
  'phone_number_identification_status',
  'web3_wallet',
  'password_digest',
  'password_hasher',
  'totp_secret',
  'backup_codes',
  'delete_self_enabled',
  'legal_accepted_at',
  'skip_legal_checks',
  'skip_user_requirement',
  'create_organization_enabled',
  'create_organizations_limit',
  'created_at',
  'bypass_client_trust',
])
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const E164 = /^\+[1-9]\d{6,14}$/

function stringList(body: Record<string, unknown>, key: string): string[] {
  const value = body[key]
  if (value === undefined || value === null) return []
  const list = Array.isArray(value) ? value : [value]
  if (!list.every((v) => typeof v === 'string' && v !== ''))
    throw invalidParam(key, `${key} must be a list of strings.`)
  return list as string[]
}

function metadata(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = body[key]
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidParam(key, `${key} must be an object.`)
  return value as Record<string, unknown>
}

const formatInvalid = (param: string, message: string) =>
  new BapiError(
    clerkError(422, 'form_param_format_invalid', 'is invalid', message, { param_name: param }),
  )

export function userWriteRoutes(
  router: Router,
  state: ClerkState,
  handle: (fn: Handler) => Handler,
  baseUrl: () => string,
): void {
  router.add(
    'POST',
    '/v1/users',
    handle((req) => {
      const body = req.body
      for (const key of Object.keys(body)) {
        if (CREATE_UNSUPPORTED.has(key))
          throw invalidParam(
            key,
            `${key} is a valid Clerk parameter that clerk-local does not apply.`,
          )
        if (!CREATE_SUPPORTED.has(key)) throw unknownParam(key)
      }
      const emails = stringList(body, 'email_address').map((e) => e.trim())
      const phones = stringList(body, 'phone_number')
      const username = nullableString(body, 'username') || null
      const externalId = nullableString(body, 'external_id') || null
      const firstName = nullableString(body, 'first_name') ?? null
      const lastName = nullableString(body, 'last_name') ?? null
      const password = nullableString(body, 'password') ?? null
      for (const key of ['skip_password_checks', 'skip_password_requirement', 'banned', 'locked'])
        if (body[key] !== undefined && typeof body[key] !== 'boolean')
          throw invalidParam(key, `${key} must be true or false.`)
      // The instance's identification: an email address or a username; a password is required.
      if (emails.length === 0 && !username) throw missingParam('email_address')
      if (!password && body.skip_password_requirement !== true) throw missingParam('password')
      if (password !== null && password.length < 8)
        throw new BapiError(
          clerkError(
            422,
            'form_password_length_too_short',
            'Passwords must be 8 characters or more.',
            'Passwords must be 8 characters or more.',
            { param_name: 'password' },
          ),
        )
      for (const e of emails)
        if (!EMAIL.test(e)) throw formatInvalid('email_address', `${e} is not an email address.`)
      for (const p of phones)
        if (!E164.test(p))
          throw formatInvalid('phone_number', `${p} is not a phone number in E.164 format.`)
      for (const e of emails)
        if (state.userIndex.slotsByEmail(e).length > 0) throw identifierExists('email_address')
      for (const p of phones)
        if (state.userIndex.slotsByPhone(p).length > 0) throw identifierExists('phone_number')
      if (username && state.userIndex.slotsByUsername(username).length > 0)
        throw identifierExists('username')
      if (externalId && state.userIndex.slotsByExternalId(externalId).length > 0)
        throw identifierExists('external_id')

      const now = state.now()
      const id = newId('user')
      const emailAddresses = emails.map((emailAddress) => ({ id: newId('idn'), emailAddress }))
      const phoneNumbers = phones.map((phoneNumber) => ({ id: newId('idn'), phoneNumber }))
      const user = createUser(
        {
          id,
          externalId,
          username,
          firstName,
          lastName,
          imageUrl: `${baseUrl()}/__local/avatars/${id}.svg`,
          emailAddresses,
          primaryEmailAddressId: emailAddresses[0]?.id ?? null,
          phoneNumbers,
          primaryPhoneNumberId: phoneNumbers[0]?.id ?? null,
          passwordDigest: password ? passwordDigest(password) : null,
          banned: body.banned === true,
          locked: body.locked === true,
          publicMetadata: metadata(body, 'public_metadata'),
          privateMetadata: metadata(body, 'private_metadata'),
          unsafeMetadata: metadata(body, 'unsafe_metadata'),
          createdAt: now,
        },
        { updatedAt: now, lastSignInAt: null, lastActiveAt: null },
      )
      state.addUser(user)
      return json(userJson(state, user))
    }),
  )

  const flag = (path: string, apply: (user: LocalUser) => void) =>
    router.add(
      'POST',
      `/v1/users/:user_id/${path}`,
      handle((req) => {
        const user = userOr404(state, req)
        apply(user)
        return json(userJson(state, user))
      }),
    )
  flag('ban', (user) => state.setBanned(user, true))
  flag('unban', (user) => state.setBanned(user, false))
  flag('lock', (user) => state.setLocked(user, true))
  flag('unlock', (user) => state.setLocked(user, false))

  router.add(
    'PATCH',
    '/v1/users/:user_id',
    handle((req) => {
      const user = userOr404(state, req)
      const body = req.body
      for (const key of Object.keys(body)) {
        if (UNSUPPORTED.has(key))
          throw invalidParam(
            key,
            `${key} is a valid Clerk parameter that clerk-local does not apply.`,
          )
        if (!SUPPORTED.has(key)) throw unknownParam(key)
      }
      const firstName = nullableString(body, 'first_name')
      const lastName = nullableString(body, 'last_name')
      const username = nullableString(body, 'username')
      const externalId = nullableString(body, 'external_id')
      const primaryEmail = nullableString(body, 'primary_email_address_id')
      const primaryPhone = nullableString(body, 'primary_phone_number_id')
      const password = nullableString(body, 'password')
      for (const key of ['skip_password_checks', 'sign_out_of_other_sessions'])
        if (body[key] !== undefined && typeof body[key] !== 'boolean')
          throw invalidParam(key, `${key} must be true or false.`)

      const others = (slots: number[]) => slots.some((slot) => state.userIndex.users[slot] !== user)
      if (username) {
        if (username.length > 64 || /\s/.test(username))
          throw invalidParam('username', 'username must be at most 64 characters, without spaces.')
        if (others(state.userIndex.slotsByUsername(username))) throw identifierExists('username')
      }
      if (externalId && others(state.userIndex.slotsByExternalId(externalId)))
        throw identifierExists('external_id')
      if (primaryEmail && !user.emailAddresses.some((e) => e.id === primaryEmail))
        throw invalidParam('primary_email_address_id', 'No such email address on this user.')
      if (primaryPhone && !user.phoneNumbers.some((p) => p.id === primaryPhone))
        throw invalidParam('primary_phone_number_id', 'No such phone number on this user.')
      if (password !== undefined && (password === null || password.length < 8))
        throw new BapiError(
          clerkError(
            422,
            'form_password_length_too_short',
            'Passwords must be 8 characters or more.',
            'Passwords must be 8 characters or more.',
            { param_name: 'password' },
          ),
        )

      if (firstName !== undefined) user.firstName = firstName
      if (lastName !== undefined) user.lastName = lastName
      if (username !== undefined) user.username = username || null
      if (externalId !== undefined) user.externalId = externalId || null
      if (primaryEmail) user.primaryEmailAddressId = primaryEmail
      if (primaryPhone) user.primaryPhoneNumberId = primaryPhone
      if (password) {
        user.passwordDigest = passwordDigest(password)
        if (body.sign_out_of_other_sessions === true) state.revokeSessionsOf(user.id)
      }
      user.updatedAt = state.now()
      state.userChanged(user)
      return json(userJson(state, user))
    }),
  )

  router.add(
    'DELETE',
    '/v1/users/:user_id',
    handle((req) => {
      const user = userOr404(state, req)
      state.deleteUser(user)
      return json({ object: 'user', id: user.id, deleted: true })
    }),
  )
}
