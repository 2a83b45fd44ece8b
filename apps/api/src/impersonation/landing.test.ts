// Where an impersonation lands in the host application: only on an APP_ORIGINS origin.
import { ActAsError } from '@actas/contracts'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import { landingFor } from './service.js'

const origins = ['http://127.0.0.1:5180', 'https://app.example.com']

describe('landingFor', () => {
  it('lands on the first origin at APP_HOME_PATH by default, nowhere without APP_ORIGINS', () => {
    expect(landingFor(undefined, origins, '/orders')).toBe('http://127.0.0.1:5180/orders')
    expect(landingFor(undefined, [], '/orders')).toBeNull()
  })

  it('takes an asked URL on a listed origin, path and query kept', () => {
    expect(landingFor('https://app.example.com/orders?tab=open', origins, '/')).toBe(
      'https://app.example.com/orders?tab=open',
    )
  })

  it.each([
    'https://evil.example.com/orders',
    'https://app.example.com.evil.test/',
    'http://app.example.com/', // another scheme is another origin
    'https://app.example.com:8443/',
  ])('refuses %s (INVALID_INPUT, no open redirect)', (asked) => {
    let caught: unknown
    try {
      landingFor(asked, origins, '/')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ActAsError)
    expect((caught as ActAsError).code).toBe('INVALID_INPUT')
  })

  it('APP_ORIGINS takes origins only', () => {
    const base = {
      CLERK_SECRET_KEY: 'sk_test_x',
      CLERK_PUBLISHABLE_KEY: 'pk_test_eA==',
      NODE_ENV: 'test',
    }
    expect(
      loadConfig({ ...base, APP_ORIGINS: 'http://127.0.0.1:5180/, https://app.example.com' })
        .appOrigins,
    ).toEqual(origins)
    expect(() => loadConfig({ ...base, APP_ORIGINS: 'https://app.example.com/orders' })).toThrow(
      /origins only/,
    )
  })
})
