// Router tests run without a host: a staff principal and a context whose ports all answer with
// one function (the ports are not what these tests look at).
import { IMPERSONATE_PERMISSION } from '../src/index.js'
import type { ActAsContext, Principal, UserPrincipal } from '../src/index.js'

export const staff: UserPrincipal = {
  kind: 'user',
  userId: 'user_staff',
  sessionId: 'sess_1',
  orgId: 'org_1',
  orgSlug: 'support',
  orgRole: 'org:admin',
  permissions: [IMPERSONATE_PERMISSION],
  staffOrganization: true,
  actor: null,
}

export function contextWith(principal: Principal | null, port: () => Promise<never>): ActAsContext {
  return {
    principal,
    request: { id: 'req-1', ip: null, userAgent: null },
    rateLimiter: { consume: () => ({ allowed: true }) },
    directory: { search: port },
    impersonation: {
      start: port,
      revoke: port,
      get: port,
      list: port,
      quota: port,
      active: port,
      end: port,
      stop: port,
      signedIn: port,
      revokedSessions: port,
      recordActions: port,
      signInFailed: port,
    },
    sessions: { inspect: port },
    audit: { verify: port },
    webhooks: { deliveries: port, retry: port },
  }
}
