import { createClerkClient, type ClerkClient } from '@clerk/backend'
import { startClerkLocal, type ClerkLocal, type SeededAccount } from '../../src/index.js'

// The local server as tests use it: startClerkLocal (seeded: Support org whose admin role holds
// org:admin:impersonate, admin Ada, agent Sam, banned and locked users, a few customers), plus
// actor tokens created and revoked through the real @clerk/backend SDK over BAPI.

export interface TestServer extends ClerkLocal {
  account(role: SeededAccount['role']): SeededAccount
  supportOrgId: string
  /** `clerkClient.actorTokens.create` against this server; returns the ticket. */
  createActorToken(
    userId: string,
    actor: { sub: string; [claim: string]: unknown },
    options?: { expiresInSeconds?: number; sessionMaxDurationInSeconds?: number },
  ): Promise<{ id: string; ticket: string; url: string | null }>
  revokeActorToken(id: string): Promise<void>
  /**
   * The real @clerk/backend's `authenticateRequest` on `Authorization: Bearer <token>`, with this
   * server's key and `origin` as the only authorized party.
   */
  authenticate(token: string, origin: string): ReturnType<ClerkClient['authenticateRequest']>
}

export interface TestServerOptions {
  now?: () => number
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const local = await startClerkLocal({ users: 20, ...(options.now ? { now: options.now } : {}) })
  const support = [...local.state.organizations.values()].find((o) => o.slug === 'support')
  if (!support) throw new Error('seed has no support organization')
  const bapi = createClerkClient({
    secretKey: local.secretKey,
    publishableKey: local.publishableKey,
    apiUrl: local.url,
    jwtKey: local.jwtPublicKeyPem,
  })
  return {
    ...local,
    account: (role) => {
      const account = local.accounts.find((a) => a.role === role)
      if (!account) throw new Error(`seed has no ${role} account`)
      return account
    },
    supportOrgId: support.id,
    async createActorToken(
      userId,
      actor,
      { expiresInSeconds = 600, sessionMaxDurationInSeconds = 1800 } = {},
    ) {
      const token = await bapi.actorTokens.create({
        userId,
        actor,
        expiresInSeconds,
        sessionMaxDurationInSeconds,
      })
      if (!token.token) throw new Error('actor token without a ticket')
      return { id: token.id, ticket: token.token, url: token.url ?? null }
    },
    async revokeActorToken(id) {
      await bapi.actorTokens.revoke(id)
    },
    async authenticate(token, origin) {
      return bapi.authenticateRequest(
        new Request('http://127.0.0.1:3000/api', {
          headers: { authorization: `Bearer ${token}` },
        }),
        { jwtKey: local.jwtPublicKeyPem, authorizedParties: [origin] },
      )
    },
  }
}
