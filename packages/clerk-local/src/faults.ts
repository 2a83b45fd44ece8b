import { clerkError, type LocalResponse } from './http.js'

/**
 * A fault to inject, for tests and demos. `route` is a router name such as
 * `POST /v1/actor_tokens` or `GET /v1/users/:id` (FAPI routes by their own names, e.g.
 * `POST /v1/client/sign_ins`), or `*` for every BAPI route (never FAPI: the browser would break).
 */
export interface FaultRule {
  route: string
  /** Answer with this status instead of running the route. Omit for latency only. */
  status?: 429 | 500 | 503
  /** Sent as `Retry-After` (seconds) with a 429 or 503. */
  retryAfterSeconds?: number
  /** Delay the answer (with or without a status). */
  latencyMs?: number
  /** Apply this many times, then drop the rule. Omit for "until cleared". */
  times?: number
}

const FAULT_STATUSES = new Set([429, 500, 503])
const MAX_LATENCY_MS = 60_000

interface ActiveRule extends FaultRule {
  remaining: number
}

/** Why a rule was refused, or undefined when it is valid. Used by the control API and the CLI. */
export function faultRuleProblem(rule: unknown): string | undefined {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule))
    return 'a fault rule must be an object'
  const r = rule as Record<string, unknown>
  if (typeof r.route !== 'string' || r.route.trim() === '')
    return '`route` must be a route name like "POST /v1/actor_tokens" or "*"'
  if (r.status !== undefined && !FAULT_STATUSES.has(r.status as number))
    return '`status` must be 429, 500 or 503'
  if (
    r.retryAfterSeconds !== undefined &&
    !(Number.isInteger(r.retryAfterSeconds) && (r.retryAfterSeconds as number) >= 0)
  )
    return '`retryAfterSeconds` must be a non-negative integer'
  if (
    r.latencyMs !== undefined &&
    !(
      Number.isInteger(r.latencyMs) &&
      (r.latencyMs as number) >= 0 &&
      (r.latencyMs as number) <= MAX_LATENCY_MS
    )
  )
    return `\`latencyMs\` must be an integer from 0 to ${MAX_LATENCY_MS}`
  if (r.times !== undefined && !(Number.isInteger(r.times) && (r.times as number) >= 1))
    return '`times` must be a positive integer'
  if (r.status === undefined && r.latencyMs === undefined)
    return 'a fault rule needs a `status`, a `latencyMs`, or both'
  return undefined
}

const FAULT_ERRORS: Record<number, { code: string; message: string; long: string }> = {
  429: {
    code: 'too_many_requests',
    message: 'Too many requests',
    long: 'Too many requests, retry later. (fault injected by clerk-local)',
  },
  500: {
    code: 'internal_clerk_error',
    message: 'Oops, an unexpected error occurred',
    long: 'There was an internal error on our servers. (fault injected by clerk-local)',
  },
  503: {
    code: 'service_unavailable',
    message: 'Service unavailable',
    long: 'The service is temporarily unavailable, retry later. (fault injected by clerk-local)',
  },
}

export interface QuotaSettings {
  enabled: boolean
  /** Actor tokens allowed per calendar month (UTC). */
  limit: number
}

/** Injected faults and the free-plan quota switch. One per server; the control API drives it too. */
export class FaultController {
  #rules: ActiveRule[] = []
  #quota: QuotaSettings = { enabled: false, limit: 5 }

  constructor(rules: FaultRule[] = [], quota = false) {
    for (const rule of rules) this.add(rule)
    this.setQuota(quota)
  }

  /** Adds a rule; throws a TypeError when it is malformed. */
  add(rule: FaultRule): void {
    const problem = faultRuleProblem(rule)
    if (problem) throw new TypeError(problem)
    this.#rules.push({
      ...rule,
      route: rule.route.trim(),
      remaining: rule.times ?? Number.POSITIVE_INFINITY,
    })
  }

  clear(): void {
    this.#rules = []
  }

  setQuota(enabled: boolean, limit = 5): void {
    if (!Number.isInteger(limit) || limit < 0)
      throw new TypeError('quota limit must be a non-negative integer')
    this.#quota = { enabled, limit }
  }

  get quota(): Readonly<QuotaSettings> {
    return this.#quota
  }

  /** The rules still active (for the control API and diagnostics). */
  rules(): FaultRule[] {
    return this.#rules.map(({ remaining: _remaining, ...rule }) => rule)
  }

  /**
   * Applies the first matching rule: waits `latencyMs`, then returns the error response for
   * `status` (or undefined for latency-only rules, and when nothing matches).
   */
  async apply(api: 'bapi' | 'fapi', routeName: string): Promise<LocalResponse | undefined> {
    const index = this.#rules.findIndex(
      (r) => r.route === routeName || (r.route === '*' && api === 'bapi'),
    )
    if (index < 0) return undefined
    const rule = this.#rules[index]!
    rule.remaining -= 1
    if (rule.remaining <= 0) this.#rules.splice(index, 1)
    if (rule.latencyMs) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs))
    if (rule.status === undefined) return undefined
    const e = FAULT_ERRORS[rule.status]!
    const headers: Record<string, string> =
      rule.retryAfterSeconds !== undefined ? { 'Retry-After': String(rule.retryAfterSeconds) } : {}
    return clerkError(rule.status, e.code, e.message, e.long, {}, headers)
  }
}
