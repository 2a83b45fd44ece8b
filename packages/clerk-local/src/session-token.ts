import { signJwt, type SigningKey } from './jwt.js'
import type { Session } from './model.js'
import type { ClerkState } from './state.js'

/** Session JWTs live 60 seconds, as Clerk's; clerk-js refreshes them about every 50 s. */
export const SESSION_TOKEN_TTL_SECONDS = 60

export interface SessionTokenContext {
  state: ClerkState
  signingKey: SigningKey
  /** `iss`: `https://<frontend API host from the publishable key>`. */
  issuer: string
}

/** The v2 organization claims: `fea` and `o.{per,fpm}`, as @clerk/shared's jwtPayloadParser decodes them. */
export interface OrganizationClaims {
  fea?: string
  o: { id: string; rol: string; slg: string; per?: string; fpm?: string }
}

/**
 * Encodes org permission keys (`org:<feature>:<permission>`) the way Clerk's v2 session token
 * does: `fea` lists the features (`o:<feature>`, org-scoped), `per` the distinct permission
 * names, and `fpm` one decimal bitmask per feature, bit i (LSB first) set when the feature
 * grants `per[i]`. jwtPayloadParser rebuilds exactly `org:<feature>:<permission>` from these.
 * Keys not of that form (no `org:` prefix, empty parts) cannot be expressed and are skipped, and
 * so are system permissions (`org:sys_*`): Clerk leaves them out of session tokens.
 */
export function encodeOrgPermissions(permissionKeys: readonly string[]): {
  features: string[]
  per: string[]
  fpm: string[]
} {
  const features: string[] = []
  const per: string[] = []
  const grants: Array<[number, number]> = []
  for (const key of permissionKeys) {
    const match = /^org:([^:,]+):([^,]+)$/.exec(key)
    if (!match) continue
    const [, feature, permission] = match as unknown as [string, string, string]
    if (feature.startsWith('sys_')) continue
    let f = features.indexOf(feature)
    if (f < 0) f = features.push(feature) - 1
    let p = per.indexOf(permission)
    if (p < 0) p = per.push(permission) - 1
    grants.push([f, p])
  }
  const masks = features.map(() => 0n)
  for (const [f, p] of grants) masks[f] = masks[f]! | (1n << BigInt(p))
  return { features, per, fpm: masks.map((m) => m.toString(10)) }
}

/** Whole minutes since a factor was verified (`fva`), or -1 when it never was. */
export function factorAgeMinutes(verifiedAt: number | null, nowMs: number): number {
  if (verifiedAt === null) return -1
  return Math.max(0, Math.floor((nowMs - verifiedAt) / 60_000))
}

export function organizationClaims(
  state: ClerkState,
  userId: string,
  organizationId: string | null,
): OrganizationClaims | undefined {
  if (!organizationId) return undefined
  const org = state.organizations.get(organizationId)
  if (!org) return undefined
  const membership = state
    .membershipsOfUser(userId)
    .find((m) => m.organizationId === organizationId)
  if (!membership) return undefined
  const { features, per, fpm } = encodeOrgPermissions(org.roles[membership.role] ?? [])
  const o: OrganizationClaims['o'] = { id: org.id, rol: membership.role, slg: org.slug }
  if (per.length > 0) {
    o.per = per.join(',')
    o.fpm = fpm.join(',')
  }
  return features.length > 0 ? { fea: features.map((f) => `o:${f}`).join(','), o } : { o }
}

/**
 * Mints a Clerk v2 session token for `session` (RS256, 60 s), with `azp` = the browser origin
 * (omitted when there is none), the active organization's claims and, on actor sessions, `act`.
 * `organizationId` overrides the session's active organization (`null` = personal account).
 */
export function mintSessionToken(
  ctx: SessionTokenContext,
  session: Session,
  azp: string | undefined,
  organizationId: string | null = session.lastActiveOrganizationId,
): string {
  const nowMs = ctx.state.now()
  const iat = Math.floor(nowMs / 1000)
  const firstFactorAge = factorAgeMinutes(session.firstFactorVerifiedAt, nowMs)
  const claims: Record<string, unknown> = {
    ...(azp ? { azp } : {}),
    exp: iat + SESSION_TOKEN_TTL_SECONDS,
    // factor verification age: [minutes since the first factor, -1: no second factor verified]
    fva: [firstFactorAge, -1],
    iat,
    iss: ctx.issuer,
    nbf: iat - 10,
    sid: session.id,
    sts: 'active',
    sub: session.userId,
    v: 2,
  }
  const org = organizationClaims(ctx.state, session.userId, organizationId)
  if (org) {
    if (org.fea) claims.fea = org.fea
    claims.o = org.o
  }
  if (session.actor) claims.act = { ...session.actor }
  return signJwt(ctx.signingKey, claims)
}
