import { timingSafeEqual } from 'node:crypto'
import { clerkError, json, type LocalRequest, type LocalResponse, type Router } from '../http.js'
import type { M2MToken, Machine, MachineRegistry } from '../m2m.js'
import { unauthenticated } from './errors.js'

// Machine routes of the Backend API (bapi-2026-05-12.yml):
// - `POST /m2m_tokens`, `POST /m2m_tokens/verify`, `POST /m2m_tokens/{id}/revoke`, served both
//   without a version (where @clerk/backend 3.25 calls them: its M2M client is built with
//   `skipApiVersionInUrl: true`) and under `/v1`;
// - `GET /v1/machines`, `GET /v1/machines/{id}` (instance secret key, like every `/v1` route).
// The M2M routes authenticate themselves (a machine secret key or the instance secret key), so
// the server's secret-key check skips them (`isM2mRoute`). Fault injection still applies.

const M2M_PREFIXES = ['/m2m_tokens', '/v1/m2m_tokens']

/** Router names of the M2M routes (`POST /m2m_tokens`, `POST /v1/m2m_tokens/verify`, …). */
export function isM2mRoute(routeName: string): boolean {
  const path = routeName.slice(routeName.indexOf(' ') + 1)
  return M2M_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))
}

export interface M2mContext {
  machines: MachineRegistry
  /** The instance secret key (`sk_…`). */
  secretKey: string
  /** Clerk's instance id, for `Machine.instance_id`. */
  instanceId: string
}

type Caller = { kind: 'instance' } | { kind: 'machine'; machine: Machine }

function bearer(req: LocalRequest): string | undefined {
  const header = req.headers.authorization
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined
  return header.slice('Bearer '.length).trim()
}

function caller(ctx: M2mContext, req: LocalRequest): Caller | undefined {
  const given = bearer(req)
  if (!given) return undefined
  const a = Buffer.from(given)
  const b = Buffer.from(ctx.secretKey)
  if (a.length === b.length && timingSafeEqual(a, b)) return { kind: 'instance' }
  const machine = ctx.machines.bySecretKey(given)
  return machine ? { kind: 'machine', machine } : undefined
}

const badRequest = (code: string, longMessage: string, param?: string): LocalResponse =>
  clerkError(400, code, 'Bad Request', longMessage, param ? { param_name: param } : {})

const tokenNotFound = (longMessage: string, code = 'resource_not_found'): LocalResponse =>
  clerkError(404, code, 'not found', longMessage)

export function m2mTokenJson(
  registry: MachineRegistry,
  t: M2MToken,
  options: { withToken?: boolean } = {},
) {
  return {
    object: 'machine_to_machine_token' as const,
    id: t.id,
    subject: t.machineId,
    claims: t.claims,
    scopes: t.scopes.slice(),
    ...(options.withToken ? { token: t.token } : {}),
    revoked: t.revoked,
    revocation_reason: t.revocationReason,
    expired: registry.isExpired(t),
    expiration: t.expiresAt,
    last_used_at: t.lastUsedAt,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  }
}

function machineWithoutScopes(ctx: M2mContext, m: Machine) {
  return {
    object: 'machine' as const,
    id: m.id,
    name: m.name,
    instance_id: ctx.instanceId,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    default_token_ttl: m.defaultTokenTtlSeconds,
  }
}

export function machineJson(ctx: M2mContext, m: Machine) {
  return {
    ...machineWithoutScopes(ctx, m),
    scoped_machines: m.scopedMachineIds
      .map((id) => ctx.machines.machines.get(id))
      .filter((s): s is Machine => s !== undefined)
      .map((s) => machineWithoutScopes(ctx, s)),
  }
}

const CREATE_KEYS = new Set([
  'token_format',
  'seconds_until_expiration',
  'claims',
  'min_remaining_ttl_seconds',
])
const MAX_TTL_SECONDS = 315_360_000

function createToken(ctx: M2mContext, req: LocalRequest): LocalResponse {
  const who = caller(ctx, req)
  // "Must be authenticated via a Machine Secret Key."
  if (who?.kind !== 'machine') return unauthenticated()
  const body = req.body
  for (const key of Object.keys(body))
    if (!CREATE_KEYS.has(key))
      return badRequest(
        'form_param_unknown',
        `${key} is not a valid parameter for this request.`,
        key,
      )
  const format = body.token_format ?? 'opaque'
  if (format !== 'opaque') {
    return badRequest(
      'form_param_value_invalid',
      format === 'jwt'
        ? 'token_format jwt is not supported by the local server; use opaque.'
        : 'token_format must be opaque or jwt.',
      'token_format',
    )
  }
  const seconds = body.seconds_until_expiration ?? null
  if (
    seconds !== null &&
    (typeof seconds !== 'number' ||
      !Number.isFinite(seconds) ||
      seconds <= 0 ||
      seconds > MAX_TTL_SECONDS)
  ) {
    return badRequest(
      'form_param_value_invalid',
      `seconds_until_expiration must be a number above 0 and at most ${MAX_TTL_SECONDS}.`,
      'seconds_until_expiration',
    )
  }
  const claims = body.claims ?? null
  const minTtl = body.min_remaining_ttl_seconds
  if (minTtl !== undefined && minTtl !== null) {
    const lifetime = seconds ?? who.machine.defaultTokenTtlSeconds
    if (typeof minTtl !== 'number' || !Number.isInteger(minTtl) || minTtl < 0 || minTtl >= lifetime)
      return badRequest(
        'form_param_value_invalid',
        'min_remaining_ttl_seconds must be an integer from 0 to below the token lifetime.',
        'min_remaining_ttl_seconds',
      )
    const reused = ctx.machines.reusable(who.machine, claims, minTtl)
    if (reused) return json(m2mTokenJson(ctx.machines, reused, { withToken: true }), 201)
  }
  const token = ctx.machines.createToken(who.machine, seconds as number | null, claims)
  return json(m2mTokenJson(ctx.machines, token, { withToken: true }), 201)
}

function verifyToken(ctx: M2mContext, req: LocalRequest): LocalResponse {
  const who = caller(ctx, req)
  if (!who) return unauthenticated()
  for (const key of Object.keys(req.body))
    if (key !== 'token')
      return badRequest(
        'form_param_unknown',
        `${key} is not a valid parameter for this request.`,
        key,
      )
  const value = req.body.token
  if (typeof value !== 'string' || value === '')
    return badRequest('form_param_missing', 'token must be included.', 'token')
  const token = ctx.machines.byToken(value)
  // A machine secret key may only verify tokens granted access to that machine (its id is in
  // the token's scopes); the instance secret key verifies any token of the instance.
  if (!token || (who.kind === 'machine' && !token.scopes.includes(who.machine.id)))
    return tokenNotFound('Machine token not found')
  // @clerk/backend accepts any 200 here without looking at `revoked`/`expired`: refused tokens
  // must be errors (a 404, which it reports as `token-invalid`).
  if (token.revoked) return tokenNotFound('This machine token was revoked.', 'token_revoked')
  if (ctx.machines.isExpired(token))
    return tokenNotFound('This machine token has expired.', 'token_expired')
  token.lastUsedAt = ctx.machines.now()
  return json(m2mTokenJson(ctx.machines, token))
}

function revokeToken(ctx: M2mContext, req: LocalRequest): LocalResponse {
  const who = caller(ctx, req)
  if (!who) return unauthenticated()
  for (const key of Object.keys(req.body))
    if (key !== 'revocation_reason')
      return badRequest(
        'form_param_unknown',
        `${key} is not a valid parameter for this request.`,
        key,
      )
  const reason = req.body.revocation_reason ?? null
  if (reason !== null && typeof reason !== 'string')
    return badRequest(
      'form_param_value_invalid',
      'revocation_reason must be a string.',
      'revocation_reason',
    )
  const token = ctx.machines.tokens.get(req.params.m2m_token_id ?? '')
  // A machine secret key revokes only its own machine's tokens.
  if (!token || (who.kind === 'machine' && token.machineId !== who.machine.id))
    return tokenNotFound('Machine token not found')
  if (token.revoked)
    return badRequest('m2m_token_already_revoked', 'This machine token is already revoked.')
  token.revoked = true
  token.revocationReason = reason
  token.updatedAt = ctx.machines.now()
  return json(m2mTokenJson(ctx.machines, token))
}

/** Registers the M2M and machine routes on the BAPI router. */
export function m2mRoutes(router: Router, ctx: M2mContext): void {
  for (const prefix of M2M_PREFIXES) {
    router.add('POST', prefix, (req) => createToken(ctx, req))
    router.add('POST', `${prefix}/verify`, (req) => verifyToken(ctx, req))
    router.add('POST', `${prefix}/:m2m_token_id/revoke`, (req) => revokeToken(ctx, req))
  }

  router.add('GET', '/v1/machines', (req) => {
    const limit = Number(req.query.get('limit') ?? 10)
    const offset = Number(req.query.get('offset') ?? 0)
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      return clerkError(
        422,
        'form_param_value_invalid',
        'is invalid',
        'limit must be from 1 to 500.',
        {
          param_name: 'limit',
        },
      )
    if (!Number.isInteger(offset) || offset < 0)
      return clerkError(
        422,
        'form_param_value_invalid',
        'is invalid',
        'offset must be 0 or more.',
        {
          param_name: 'offset',
        },
      )
    const query = (req.query.get('query') ?? '').toLowerCase()
    const all = [...ctx.machines.machines.values()]
      .filter((m) => !query || m.id === query || m.name.toLowerCase().includes(query))
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
    return json({
      data: all.slice(offset, offset + limit).map((m) => machineJson(ctx, m)),
      total_count: all.length,
    })
  })

  router.add('GET', '/v1/machines/:machine_id', (req) => {
    const machine = ctx.machines.machines.get(req.params.machine_id ?? '')
    if (!machine) return clerkError(404, 'resource_not_found', 'not found', 'Machine not found')
    return json(machineJson(ctx, machine))
  })
}
