import { createHash } from 'node:crypto'
import { clerkError, json, type Router, type LocalResponse } from '../http.js'
import { faultRuleProblem, type FaultRule } from '../faults.js'
import type { ClerkState } from '../state.js'
import { webhookFaultProblem, webhookUrlProblem, type WebhookFault } from '../webhooks.js'
import type { BapiContext } from './index.js'

// The local control API, on the BAPI port and behind the same secret key, so that another
// process (an e2e test, a person with curl) can inject faults, switch the quota and expire
// tickets. Avatars are public: browsers load them from <img> tags.

export const CONTROL_PREFIX = '/__local'

/** Routes of the control API (never faulted, never counted as Clerk requests). */
export function isControlRoute(routeName: string): boolean {
  return (
    routeName.startsWith(`POST ${CONTROL_PREFIX}`) || routeName.startsWith(`GET ${CONTROL_PREFIX}`)
  )
}

/** Routes under /__local that need no secret key. */
export function isPublicControlRoute(routeName: string): boolean {
  return routeName.startsWith(`GET ${CONTROL_PREFIX}/avatars/`)
}

function controlState(ctx: BapiContext) {
  return { rules: ctx.faults.rules(), quota: ctx.faults.quota }
}

export function controlRoutes(router: Router, ctx: BapiContext): void {
  router.add('GET', `${CONTROL_PREFIX}/faults`, () => json(controlState(ctx)))

  router.add('POST', `${CONTROL_PREFIX}/faults`, (req) => {
    if (req.body.clear === true) {
      ctx.faults.clear()
      return json(controlState(ctx))
    }
    const problem = faultRuleProblem(req.body)
    if (problem)
      return clerkError(422, 'form_param_value_invalid', 'is invalid', problem, {
        param_name: 'rule',
      })
    ctx.faults.add(req.body as unknown as FaultRule)
    return json(controlState(ctx))
  })

  router.add('POST', `${CONTROL_PREFIX}/quota`, (req) => {
    const { enabled, limit } = req.body
    if (typeof enabled !== 'boolean') {
      return clerkError(
        422,
        'form_param_value_invalid',
        'is invalid',
        '`enabled` must be true or false.',
        { param_name: 'enabled' },
      )
    }
    if (
      limit !== undefined &&
      !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 0)
    ) {
      return clerkError(
        422,
        'form_param_value_invalid',
        'is invalid',
        '`limit` must be a non-negative integer.',
        { param_name: 'limit' },
      )
    }
    ctx.faults.setQuota(enabled, limit ?? 5)
    return json(controlState(ctx))
  })

  router.add('GET', `${CONTROL_PREFIX}/requests`, () => json(ctx.requests.snapshot()))

  router.add('POST', `${CONTROL_PREFIX}/requests/reset`, () => {
    ctx.requests.reset()
    return json(ctx.requests.snapshot())
  })

  router.add('POST', `${CONTROL_PREFIX}/actor_tokens/expire`, () => {
    const now = ctx.state.now()
    let expired = 0
    for (const token of ctx.state.actorTokens.values()) {
      if (token.status === 'pending' && token.expiresAt > now - 1) {
        token.expiresAt = now - 1
        token.updatedAt = now
        expired++
      }
    }
    return json({ expired })
  })

  const webhookState = () => {
    const w = ctx.webhooks!
    return {
      endpoints: [...w.endpoints],
      faults: w.faults(),
      // The log without bodies (they hold user data); ids, types, attempts and outcomes.
      deliveries: w.deliveries.map(({ body: _body, ...d }) => d),
    }
  }
  const invalid = (param: string, message: string) =>
    clerkError(422, 'form_param_value_invalid', 'is invalid', message, { param_name: param })

  if (ctx.webhooks) {
    const webhooks = ctx.webhooks
    router.add('GET', `${CONTROL_PREFIX}/webhooks`, () => json(webhookState()))
    router.add('POST', `${CONTROL_PREFIX}/webhooks/endpoints`, (req) => {
      const url = req.body.url
      if (typeof url !== 'string') return invalid('url', '`url` must be a loopback http(s) URL.')
      const problem = webhookUrlProblem(url)
      if (problem) return invalid('url', problem)
      webhooks.addEndpoint(url)
      return json(webhookState())
    })
    router.add('POST', `${CONTROL_PREFIX}/webhooks/faults`, (req) => {
      if (req.body.clear === true) {
        webhooks.clearFaults()
        return json(webhookState())
      }
      const problem = webhookFaultProblem(req.body)
      if (problem) return invalid('fault', problem)
      webhooks.addFault(req.body as unknown as WebhookFault)
      return json(webhookState())
    })
  }

  router.add('GET', `${CONTROL_PREFIX}/avatars/:file`, (req) =>
    avatar(ctx.state, req.params.file ?? '', true),
  )
  router.add('GET', `${CONTROL_PREFIX}/avatars/default/:file`, (req) =>
    avatar(ctx.state, req.params.file ?? '', false),
  )
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** An initials avatar (or a grey silhouette for users "without an image"), generated, never fetched. */
function avatar(state: ClerkState, file: string, withImage: boolean): LocalResponse {
  const userId = file.endsWith('.svg') ? file.slice(0, -4) : file
  const user = state.users.get(userId)
  if (!user) return clerkError(404, 'resource_not_found', 'not found', 'No such avatar')
  const hue = createHash('sha1').update(user.id).digest()[0]! * (360 / 256)
  const initials = `${user.firstName?.[0] ?? ''}${user.lastName?.[0] ?? ''}`.toUpperCase() || '?'
  const svg = withImage
    ? `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128"><rect width="128" height="128" fill="hsl(${hue.toFixed(0)},55%,45%)"/><text x="64" y="64" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="52" fill="#fff">${escapeXml(initials)}</text></svg>`
    : '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128"><rect width="128" height="128" fill="#d4d4d8"/><circle cx="64" cy="50" r="22" fill="#a1a1aa"/><path d="M24 112c6-24 22-34 40-34s34 10 40 34z" fill="#a1a1aa"/></svg>'
  return {
    status: 200,
    raw: svg,
    headers: { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' },
  }
}
