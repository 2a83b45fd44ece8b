// The console's settings document (GET /config.json) → its environment, and the build's refusal
// of the former build-time VITE_* settings.
import { describe, expect, it } from 'vitest'
import { validateWebEnv } from '../env.schema'
import { LOCAL_PUBLISHABLE_KEY, parseConsoleConfig } from './env'

const account = { role: 'admin', identifier: 'ada@support.actas.test', password: 'pw' }

describe('parseConsoleConfig', () => {
  it('takes the server’s key, proxy and API endpoint, and the clerk-js URL from the base', () => {
    const env = parseConsoleConfig(
      {
        publishableKey: 'pk_live_Y2xlcmsuZXhhbXBsZS5jb20k',
        proxyUrl: 'https://actas.example.com/__clerk',
        apiUrl: null,
        localAccounts: [account],
      },
      '/',
      '6.40.0',
    )
    expect(env).toEqual({
      baseUrl: '/',
      publishableKey: 'pk_live_Y2xlcmsuZXhhbXBsZS5jb20k',
      proxyUrl: 'https://actas.example.com/__clerk',
      local: false,
      apiUrl: '/trpc',
      clerkJsUrl: '/clerk-js/6.40.0/clerk.browser.js',
      // Accounts are honoured only with the local server's key.
      localAccounts: [],
    })
  })

  it('lists the local accounts with the local key, dropping malformed entries', () => {
    const env = parseConsoleConfig(
      {
        publishableKey: LOCAL_PUBLISHABLE_KEY,
        proxyUrl: '/__clerk',
        apiUrl: '/api/trpc',
        localAccounts: [account, { role: 'x' }],
      },
      '/console/',
      '6.40.0',
    )
    expect(env.local).toBe(true)
    expect(env.localAccounts).toEqual([account])
    expect(env.apiUrl).toBe('/api/trpc')
    expect(env.clerkJsUrl).toBe('/console/clerk-js/6.40.0/clerk.browser.js')
  })

  it('refuses a document without a publishable key', () => {
    expect(() => parseConsoleConfig({ proxyUrl: null }, '/', '1')).toThrow(/no publishable key/)
    expect(() => parseConsoleConfig('<html>', '/', '1')).toThrow(/no publishable key/)
  })
})

describe('validateWebEnv', () => {
  it('fails a build given a former VITE_* setting, naming the API variable that replaced it', () => {
    expect(() => validateWebEnv({ VITE_CLERK_PUBLISHABLE_KEY: 'pk_live_x' })).toThrow(
      /VITE_CLERK_PUBLISHABLE_KEY is no longer read: set the API's CLERK_PUBLISHABLE_KEY/,
    )
    expect(() => validateWebEnv({ VITE_API_URL: ' ' })).not.toThrow()
    expect(() => validateWebEnv({})).not.toThrow()
  })
})
