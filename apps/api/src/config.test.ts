import {
  LOCAL_FRONTEND_API_HOST as CLERK_LOCAL_HOST,
  LOCAL_PUBLISHABLE_KEY,
  LOCAL_SECRET_KEY_PREFIX as CLERK_LOCAL_PREFIX,
  SUPPORT_ORG_SLUG,
} from '@actas/clerk-local'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  LOCAL_FRONTEND_API_HOST,
  LOCAL_SECRET_KEY_PREFIX,
  LOCAL_STAFF_ORGANIZATION,
  loadConfig,
  publishableKeyHost,
} from './config.js'

const livePk = `pk_live_${Buffer.from('clerk.example.com$').toString('base64')}`
const production = {
  NODE_ENV: 'production',
  CLERK_SECRET_KEY: 'sk_live_abc123',
  CLERK_PUBLISHABLE_KEY: livePk,
  AUTHORIZED_PARTIES: 'https://support.example.com',
  DATABASE_URL: 'postgres://actas@db.example.com/actas',
  STAFF_ORGANIZATIONS: 'org_2supportTeam',
}

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected loadConfig to refuse')
}

describe('loadConfig', () => {
  it('keeps the local server constants in step with @actas/clerk-local', () => {
    expect(LOCAL_SECRET_KEY_PREFIX).toBe(CLERK_LOCAL_PREFIX)
    expect(LOCAL_FRONTEND_API_HOST).toBe(CLERK_LOCAL_HOST)
    expect(publishableKeyHost(LOCAL_PUBLISHABLE_KEY)).toBe(LOCAL_FRONTEND_API_HOST)
    expect(LOCAL_STAFF_ORGANIZATION).toBe(SUPPORT_ORG_SLUG)
  })

  it('says which JSON setting does not parse, never quoting its text (a secret may be in it)', () => {
    const broken = '[{"url":"https://h.example.com","secret":"whsec_TOPSECRET"'
    for (const [name, said] of [
      ['WEBHOOK_ENDPOINTS', 'WEBHOOK_ENDPOINTS must be a JSON array of {"url": "https://…"'],
      ['MACHINE_PERMISSIONS', 'MACHINE_PERMISSIONS must be JSON'],
      ['LOG_STREAMS', 'LOG_STREAMS must be a JSON array of streams'],
    ] as const) {
      const message = problems({ ...production, [name]: broken })
      expect(message).toContain(said)
      expect(message).not.toContain('TOPSECRET')
    }
  })

  it('requires STAFF_ORGANIZATIONS in production, with a message that says what to put there', () => {
    const { STAFF_ORGANIZATIONS: _, ...rest } = production
    expect(problems(rest)).toMatch(
      /STAFF_ORGANIZATIONS: is required in production: the ids \(org_…\) or slugs of your support organizations/,
    )
    expect(loadConfig({ ...production, STAFF_ORGANIZATIONS: 'org_a, support-eu' })).toMatchObject({
      staffOrganizations: ['org_a', 'support-eu'],
    })
    expect(problems({ ...production, STAFF_ORGANIZATIONS: 'org_a,not a slug!' })).toMatch(
      /STAFF_ORGANIZATIONS must be organization ids \(org_…\) or slugs/,
    )
    // The old setting meant something else (extra protected organizations); it is refused, not ignored.
    expect(problems({ ...production, STAFF_ORGANIZATION_IDS: 'org_x' })).toMatch(
      /STAFF_ORGANIZATION_IDS: was replaced by STAFF_ORGANIZATIONS/,
    )
  })

  it('reads DEFAULT_PHONE_COUNTRY (US by default) and refuses what is not a country', () => {
    expect(loadConfig(production).defaultPhoneCountry).toBe('US')
    expect(loadConfig({ ...production, DEFAULT_PHONE_COUNTRY: 'fr' }).defaultPhoneCountry).toBe(
      'FR',
    )
    expect(problems({ ...production, DEFAULT_PHONE_COUNTRY: 'XX' })).toMatch(
      /DEFAULT_PHONE_COUNTRY must be a country code/,
    )
  })

  it('reads the default mode and the read-only organizations, and refuses what they cannot be', () => {
    expect(loadConfig(production)).toMatchObject({
      impersonationDefaultMode: 'full',
      readOnlyOrganizations: [],
    })
    expect(
      loadConfig({
        ...production,
        IMPERSONATION_DEFAULT_MODE: 'read_only',
        READ_ONLY_ORGANIZATIONS: 'org_bank, globex',
      }),
    ).toMatchObject({
      impersonationDefaultMode: 'read_only',
      readOnlyOrganizations: ['org_bank', 'globex'],
    })
    expect(problems({ ...production, IMPERSONATION_DEFAULT_MODE: 'readonly' })).toMatch(
      /IMPERSONATION_DEFAULT_MODE: .*read_only.*full/,
    )
    expect(problems({ ...production, READ_ONLY_ORGANIZATIONS: 'org_a,not a slug!' })).toMatch(
      /READ_ONLY_ORGANIZATIONS must be organization ids \(org_…\) or slugs/,
    )
  })

  it('STEP_UP_MINUTES: 10 by default, a number of minutes, off only outside production', () => {
    expect(loadConfig(production).stepUpMinutes).toBe(10)
    expect(loadConfig({ ...production, STEP_UP_MINUTES: '5' }).stepUpMinutes).toBe(5)
    expect(problems({ ...production, STEP_UP_MINUTES: 'off' })).toMatch(
      /STEP_UP_MINUTES: cannot be off in production/,
    )
    // Without NODE_ENV the API is production: off is refused too (fail closed).
    const { NODE_ENV: _, ...unset } = production
    expect(problems({ ...unset, STEP_UP_MINUTES: 'off' })).toMatch(/STEP_UP_MINUTES: cannot be off/)
    for (const bad of ['0', '-5', '2.5', '1441', 'ten', 'OFF'])
      expect(problems({ ...production, STEP_UP_MINUTES: bad })).toMatch(
        /STEP_UP_MINUTES: must be a whole number of minutes \(1–1440\) or off/,
      )
    const development = {
      ...production,
      NODE_ENV: 'development',
      CLERK_API_URL: 'http://127.0.0.1:3999',
    }
    expect(loadConfig({ ...development, STEP_UP_MINUTES: 'off' }).stepUpMinutes).toBeNull()
    expect(loadConfig(development).stepUpMinutes).toBe(10)
  })

  it('outside production, the staff organization defaults to the local seeded support organization', () => {
    const dev = loadConfig({ ...production, NODE_ENV: 'development', STAFF_ORGANIZATIONS: '' })
    expect(dev.staffOrganizations).toEqual(['support'])
  })

  it('accepts a production environment and applies the defaults', () => {
    const config = loadConfig(production)
    expect(config).toMatchObject({
      env: 'production',
      isDev: false,
      port: 4000,
      impersonationQuota: 5,
      appHomePath: '/',
      database: { kind: 'postgres' },
      clerk: {
        apiUrl: 'https://api.clerk.com',
        authorizedParties: ['https://support.example.com'],
        actorTokenTtlSeconds: 300,
      },
      rateLimits: { 'impersonation.start': { perMinute: 5 }, 'users.search': { perMinute: 120 } },
    })
  })

  it('uses embedded PGlite in .data/pglite without DATABASE_URL, or memory on request', () => {
    const { DATABASE_URL: _, ...rest } = production
    expect(loadConfig(rest).database).toEqual({ kind: 'pglite', dataDir: '.data/pglite' })
    expect(loadConfig({ ...rest, ACTAS_DATA_DIR: 'memory://' }).database).toEqual({
      kind: 'pglite',
      dataDir: undefined,
    })
  })

  it.each([
    // loopback, in the spellings URL parsing and resolvers accept
    ['https://127.0.0.1', 'loopback'],
    ['https://127.1', 'loopback'],
    ['https://2130706433', 'loopback'],
    ['https://0x7f.0.0.1', 'loopback'],
    ['https://0177.0.0.1', 'loopback'],
    ['https://127.255.255.254', 'loopback'],
    ['https://localhost', 'localhost'],
    ['https://localhost.', 'localhost'],
    ['https://LOCALHOST..', 'localhost'],
    ['https://api.localhost.', 'localhost'],
    ['https://[::1]', 'loopback'],
    ['https://[0:0:0:0:0:0:0:1]', 'loopback'],
    ['https://[::ffff:127.0.0.1]', 'loopback'],
    ['https://[::ffff:7f00:1]', 'loopback'],
    ['https://[::127.0.0.1]', 'loopback'],
    ['https://[64:ff9b::127.0.0.1]', 'loopback'],
    // unspecified
    ['https://0.0.0.0', 'unspecified'],
    ['https://0', 'unspecified'],
    ['https://[::]', 'unspecified'],
    ['https://[::ffff:0.0.0.0]', 'unspecified'],
    // link-local
    ['https://169.254.169.254', 'link-local'],
    ['https://[fe80::1]', 'link-local'],
    ['https://[febf::1]', 'link-local'],
    ['https://[::ffff:169.254.0.1]', 'link-local'],
  ])('refuses CLERK_API_URL=%s in production and says why (%s)', (url, why) => {
    const message = problems({ ...production, CLERK_API_URL: url })
    expect(message).toContain('CLERK_API_URL')
    expect(message).toContain(why)
  })

  it('refuses a plain http CLERK_API_URL in production, and says why', () => {
    const message = problems({ ...production, CLERK_API_URL: 'http://api.clerk.com' })
    expect(message).toMatch(/CLERK_API_URL: must use https in production/)
  })

  it('accepts https URLs of public hosts in production', () => {
    for (const url of [
      'https://api.clerk.com',
      'https://clerk.example.com:8443',
      'https://[2606:4700::1]',
      'https://128.0.0.1',
      'https://169.255.0.1',
      'https://[fec0::1]',
    ])
      expect(loadConfig({ ...production, CLERK_API_URL: url }).clerk.apiUrl).toBe(url)
  })

  it('names every missing or malformed variable at once', () => {
    const message = problems({ PORT: 'eighty', CLERK_PUBLISHABLE_KEY: 'nope' })
    expect(message).toContain('CLERK_SECRET_KEY')
    expect(message).toContain('CLERK_PUBLISHABLE_KEY')
    expect(message).toContain('PORT')
  })

  it.each([
    ['CLERK_SECRET_KEY', { CLERK_SECRET_KEY: `${LOCAL_SECRET_KEY_PREFIX}xyz` }],
    ['CLERK_PUBLISHABLE_KEY', { CLERK_PUBLISHABLE_KEY: LOCAL_PUBLISHABLE_KEY }],
    ['CLERK_API_URL', { CLERK_API_URL: 'http://127.0.0.1:4100' }],
    ['CLERK_API_URL', { CLERK_API_URL: 'http://localhost:4100' }],
    ['CLERK_API_URL', { CLERK_API_URL: 'http://[::1]:4100' }],
    ['AUTHORIZED_PARTIES', { AUTHORIZED_PARTIES: '' }],
  ])('refuses in production: %s', (name, override) => {
    expect(problems({ ...production, ...override })).toContain(name)
  })

  it('fails closed without NODE_ENV: the local server and its keys are refused as in production', () => {
    const { NODE_ENV: _, ...unset } = production
    const message = problems({
      ...unset,
      CLERK_SECRET_KEY: `${LOCAL_SECRET_KEY_PREFIX}xyz`,
      CLERK_PUBLISHABLE_KEY: LOCAL_PUBLISHABLE_KEY,
      CLERK_API_URL: 'http://127.0.0.1:4100',
    })
    for (const name of ['CLERK_SECRET_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_API_URL']) {
      expect(message).toContain(name)
    }
    expect(loadConfig(unset)).toMatchObject({ env: 'production', isDev: false })
  })

  it('lets development use the local server', () => {
    const config = loadConfig({
      ...production,
      NODE_ENV: 'development',
      CLERK_SECRET_KEY: `${LOCAL_SECRET_KEY_PREFIX}xyz`,
      CLERK_PUBLISHABLE_KEY: LOCAL_PUBLISHABLE_KEY,
      CLERK_API_URL: 'http://127.0.0.1:4100',
      AUTHORIZED_PARTIES: '',
    })
    expect(config.isDev).toBe(true)
    expect(config.clerk.authorizedParties).toEqual([])
  })

  it('reads TRUST_PROXY as a flag, a hop count or a list of proxies', () => {
    expect(loadConfig(production).trustProxy).toBe(false)
    expect(loadConfig({ ...production, TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ ...production, TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ ...production, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ])
  })

  it('caps the actor token lifetime at 600 s', () => {
    expect(problems({ ...production, ACTOR_TOKEN_TTL_SECONDS: '601' })).toContain(
      'ACTOR_TOKEN_TTL_SECONDS',
    )
  })
})

describe('WEBHOOK_ENDPOINTS', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  const endpoints = (list: unknown) => ({ ...production, WEBHOOK_ENDPOINTS: JSON.stringify(list) })

  it('reads a JSON array of url + secret; unset means none', () => {
    expect(loadConfig(production).webhooks.endpoints).toEqual([])
    expect(
      loadConfig(endpoints([{ url: 'https://app.example.com/hooks/actas', secret }])).webhooks,
    ).toMatchObject({
      endpoints: [{ url: 'https://app.example.com/hooks/actas', secret }],
      maxAttempts: 15,
      timeoutMs: 5000,
    })
  })

  it('refuses bad values with a message naming the entry, never echoing a secret', () => {
    const bad = `whsec_${Buffer.alloc(8, 1).toString('base64')}`
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { ...production, WEBHOOK_ENDPOINTS: `[{"url": "https://a.example", "secret": "${secret}"` },
        /must be a JSON array/,
      ],
      [endpoints({ url: 'https://a.example', secret }), /must be a JSON array/],
      [
        endpoints([{ url: 'https://a.example', secret: 'sk_live_nope' }]),
        /WEBHOOK_ENDPOINTS\.0\.secret: secret must be whsec_/,
      ],
      [
        endpoints([{ url: 'https://a.example', secret: bad }]),
        /secret must encode 24–64 bytes \(it encodes 8\)/,
      ],
      [
        endpoints([{ url: 'ftp://a.example', secret }]),
        /WEBHOOK_ENDPOINTS\.0\.url: url must be an http\(s\) URL/,
      ],
      [endpoints([{ url: 'https://u:p@a.example', secret }]), /must not carry credentials/],
      [
        endpoints([{ url: 'http://a.example/hook', secret }]),
        /WEBHOOK_ENDPOINTS\.0\.url: must use https in production/,
      ],
      [
        endpoints([
          { url: 'https://a.example/h', secret },
          { url: 'https://a.example/h', secret },
        ]),
        /WEBHOOK_ENDPOINTS\.1\.url: url is listed twice/,
      ],
      [
        endpoints([{ url: 'https://a.example', secret, events: ['x'] }]),
        /each endpoint is \{"url", "secret"\}/,
      ],
    ]
    for (const [env, message] of cases) {
      const text = problems(env)
      expect(text).toMatch(message)
      expect(text).not.toContain(secret.slice(6, 20))
      expect(text).not.toContain(bad.slice(6))
    }
    // Outside production plain http is fine (a local receiver).
    expect(
      loadConfig({ ...endpoints([{ url: 'http://127.0.0.1:9/h', secret }]), NODE_ENV: 'test' })
        .webhooks.endpoints,
    ).toHaveLength(1)
  })
})
