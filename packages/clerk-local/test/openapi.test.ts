import { describe, expect, it } from 'vitest'
import { ClerkState } from '../src/state.js'
import { seedState } from '../src/seed.js'
import { userJson } from '../src/bapi/serialize.js'
import { validateBapi, validateFapi } from './openapi.js'

// The validator itself: it must reject what the spec rejects, or every "validates against the
// spec" assertion elsewhere would be empty.

const state = new ClerkState(() => Date.UTC(2026, 0, 10))
seedState(state, { users: 5 })
/** A serialized user as loose JSON, for the tests to break on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately mangled below
type Loose = Record<string, any>
const sample = () =>
  JSON.parse(JSON.stringify(userJson(state, [...state.users.values()][4]!))) as Loose

describe('validateBapi', () => {
  it('accepts a serialized user, alone and in the list response', () => {
    expect(validateBapi('GET', '/users/{user_id}', 200, sample())).toMatchObject({
      ok: true,
      template: '/users/{user_id}',
    })
    expect(validateBapi('GET', '/v1/users', 200, [sample(), sample()]).ok).toBe(true)
  })

  it('maps router patterns and concrete paths to the spec’s templates', () => {
    expect(validateBapi('GET', '/v1/users/:user_id', 200, sample()).template).toBe(
      '/users/{user_id}',
    )
    expect(validateBapi('GET', '/v1/users/user_123', 200, sample()).template).toBe(
      '/users/{user_id}',
    )
    expect(
      validateBapi('GET', '/v1/users/count', 200, { object: 'total_count', total_count: 1 })
        .template,
    ).toBe('/users/count')
  })

  it('rejects a missing required field, a wrong type, an extra field and a bad nested email', () => {
    const missing = sample()
    delete missing.last_active_at
    expect(validateBapi('GET', '/users/{user_id}', 200, missing).ok).toBe(false)

    const wrongType = sample()
    wrongType.banned = 'no'
    expect(validateBapi('GET', '/users/{user_id}', 200, wrongType).ok).toBe(false)

    const extra = sample()
    extra.password = 'hunter2'
    const result = validateBapi('GET', '/users/{user_id}', 200, extra)
    expect(result.ok).toBe(false)
    expect(result.errors.join('\n')).toContain('additional')

    const noLinks = sample()
    delete noLinks.email_addresses[0].linked_to
    expect(validateBapi('GET', '/users/{user_id}', 200, noLinks).ok).toBe(false)
  })

  it('honours nullable: null where the spec allows it, not elsewhere', () => {
    const nullable = sample()
    nullable.last_sign_in_at = null
    nullable.external_id = null
    expect(validateBapi('GET', '/users/{user_id}', 200, nullable).ok).toBe(true)
    const notNullable = sample()
    notNullable.banned = null
    expect(validateBapi('GET', '/users/{user_id}', 200, notNullable).ok).toBe(false)
  })

  it('checks error bodies and refuses undocumented statuses', () => {
    const error = {
      errors: [
        {
          code: 'resource_not_found',
          message: 'not found',
          long_message: 'User not found',
          meta: {},
        },
      ],
    }
    expect(validateBapi('GET', '/users/{user_id}', 404, error).ok).toBe(true)
    expect(validateBapi('GET', '/users/{user_id}', 404, { errors: [{ code: 'x' }] }).ok).toBe(false)
    expect(() => validateBapi('GET', '/users/{user_id}', 418, error)).toThrow(/documents no 418/)
    expect(() => validateBapi('GET', '/no/such/path', 200, {})).toThrow(/no path/)
  })

  it('knows PATCH /v1/instance (allowed_origins): 204 without a body, 422 with Clerk’s error', () => {
    expect(validateBapi('PATCH', '/v1/instance', 204, undefined).ok).toBe(true)
    const invalid = {
      errors: [
        {
          code: 'form_param_value_invalid',
          message: 'is invalid',
          long_message: 'allowed_origins must be an array of origins.',
          meta: { param_name: 'allowed_origins' },
        },
      ],
    }
    expect(validateBapi('PATCH', '/v1/instance', 422, invalid).ok).toBe(true)
    expect(() => validateBapi('PATCH', '/v1/instance', 200, {})).toThrow(/documents no 200/)
  })
})

describe('validateFapi', () => {
  it('validates against the FAPI spec', () => {
    expect(validateFapi('GET', '/v1/client', 200, { response: null, client: null }).ok).toBe(true)
    expect(validateFapi('GET', '/v1/client', 200, { response: 'nope' }).ok).toBe(false)
  })
})
