import { createSigningKey } from '../../src/jwt.js'
import { createFapiRouter } from '../../src/fapi/index.js'
import { Router, json } from '../../src/http.js'
import type { LocalUser, SeededAccount } from '../../src/model.js'
import { listen } from '../../src/server.js'
import { ClerkState, newId, passwordDigest } from '../../src/state.js'

// Interim harness: the FAPI router on a real HTTP server with a small seed, until
// startClerkLocal (src/index.ts) lands; then this file delegates to it.

export interface TestServer {
  url: string
  publishableKey: string
  secretKey: string
  frontendApiUrl: string
  issuer: string
  jwtPublicKeyPem: string
  state: ClerkState
  accounts: SeededAccount[]
  account(role: SeededAccount['role']): SeededAccount
  supportOrgId: string
  stop(): Promise<void>
}

export interface TestServerOptions {
  now?: () => number
}

function user(state: ClerkState, email: string, password: string | null, extra: Partial<LocalUser> = {}): LocalUser {
  const now = state.now()
  const emailId = newId('idn')
  const u: LocalUser = {
    id: newId('user'),
    externalId: null,
    username: null,
    firstName: null,
    lastName: null,
    imageUrl: '',
    emailAddresses: [{ id: emailId, emailAddress: email }],
    primaryEmailAddressId: emailId,
    phoneNumbers: [],
    primaryPhoneNumberId: null,
    passwordDigest: password ? passwordDigest(password) : null,
    banned: false,
    locked: false,
    publicMetadata: {},
    privateMetadata: {},
    unsafeMetadata: {},
    createdAt: now,
    updatedAt: now,
    lastSignInAt: null,
    lastActiveAt: null,
    ...extra,
  }
  state.users.set(u.id, u)
  return u
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const state = new ClerkState(options.now)
  const now = state.now()
  const org = { id: newId('org'), name: 'Support', slug: 'support', roles: { admin: ['org:admin:impersonate', 'org:sys_memberships:read'], member: ['org:sys_memberships:read'] }, createdAt: now, updatedAt: now }
  state.organizations.set(org.id, org)
  const password = 'local-password-1'
  const ada = user(state, 'ada@support.test', password, { firstName: 'Ada', username: 'ada' })
  const sam = user(state, 'sam@support.test', password, { firstName: 'Sam' })
  const banned = user(state, 'banned@support.test', password, { banned: true })
  const locked = user(state, 'locked@support.test', password, { locked: true })
  user(state, 'customer@example.test', null, { firstName: 'Cora' })
  for (const [u, role] of [
    [ada, 'admin'],
    [sam, 'member'],
  ] as const) {
    const m = { id: newId('orgmem'), organizationId: org.id, userId: u.id, role, createdAt: now, updatedAt: now }
    state.memberships.set(m.id, m)
  }
  const accounts: SeededAccount[] = [
    { role: 'admin', identifier: 'ada@support.test', password, userId: ada.id },
    { role: 'agent', identifier: 'sam@support.test', password, userId: sam.id },
    { role: 'banned', identifier: 'banned@support.test', password, userId: banned.id },
    { role: 'locked', identifier: 'locked@support.test', password, userId: locked.id },
  ]
  state.accounts.push(...accounts)

  const signingKey = createSigningKey()
  const issuer = 'https://actas-local.clerk.accounts.dev'
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    fapiPath: '/fapi',
    // Interim: BAPI's JWKS endpoint, until the BAPI router lands.
    bapi: new Router().add('GET', '/v1/jwks', () => json({ keys: [signingKey.jwk] })),
    fapi: createFapiRouter({ state, signingKey, issuer }),
  })
  return {
    url: server.url,
    publishableKey: `pk_test_${Buffer.from('actas-local.clerk.accounts.dev$').toString('base64')}`,
    secretKey: 'sk_test_local',
    frontendApiUrl: `${server.url}/fapi`,
    issuer,
    jwtPublicKeyPem: signingKey.publicKeyPem,
    state,
    accounts,
    account: (role) => accounts.find((a) => a.role === role)!,
    supportOrgId: org.id,
    stop: server.close,
  }
}
