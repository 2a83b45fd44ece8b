import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { organizationMembershipJson, sessionJson, userJson } from './bapi/serialize.js'
import type { EventType, StateEvent } from './events.js'
import type { ClerkState } from './state.js'

// Clerk's webhooks, delivered the way Svix delivers them: one POST per event and endpoint, a JSON
// body `{data, object:'event', type, timestamp, instance_id, event_attributes}`, signed with the
// `svix-id`, `svix-timestamp` and `svix-signature` headers (the `standardwebhooks` library signs;
// Clerk's `verifyWebhook` verifies with the same library). Delivery is asynchronous and
// at-least-once: a non-2xx answer, a timeout or a connection error is retried with backoff, a
// bounded number of times, with the same `svix-id` (each attempt is signed at its own time, as
// Svix does). Messages are delivered independently, so they may arrive out of order, as Svix's may.
// Endpoints must be loopback URLs: nothing leaves the machine.

export interface WebhookRetryOptions {
  /** Delays before each retry (ms); their count bounds the retries. Default 1 s, 2 s, 4 s, 8 s, 16 s. */
  delaysMs?: number[]
  /** An attempt that has no answer after this long fails (default 10 s). */
  timeoutMs?: number
}

export interface WebhookOptions {
  /** Endpoint URLs (http(s) on a loopback host); every event goes to each. */
  urls?: string[]
  /** `whsec_` + base64 of the signing key; generated when absent. */
  secret?: string
  retry?: WebhookRetryOptions
}

/**
 * A fault injected into deliveries (consumers prove idempotency and order-independence):
 * - `drop`: the attempt is not sent (as if lost); it counts as failed and is retried;
 * - `delay`: the message waits `delayMs` before its first attempt (later ones may overtake it);
 * - `duplicate`: the message is delivered twice (same `svix-id`);
 * - `reorder`: the message is held until the next message to the same endpoint was delivered.
 * `type` limits the fault to one event type; `times` (default 1) to that many messages.
 */
export interface WebhookFault {
  mode: 'drop' | 'delay' | 'duplicate' | 'reorder'
  type?: EventType
  delayMs?: number
  times?: number
}

export interface WebhookAttempt {
  at: number
  /** The HTTP status, or `dropped`, `timeout`, `error`. */
  outcome: number | 'dropped' | 'timeout' | 'error'
}

/** One message to one endpoint. */
export interface WebhookDelivery {
  /** The `svix-id` (`msg_…`), the same on every attempt and duplicate. */
  id: string
  type: EventType
  url: string
  /** The signed body, exactly as sent. */
  body: string
  attempts: WebhookAttempt[]
  status: 'pending' | 'delivered' | 'failed'
}

export interface WebhookPayload {
  data: Record<string, unknown>
  object: 'event'
  type: EventType
  timestamp: number
  instance_id: string
  event_attributes: { http_request: { client_ip: string; user_agent: string } }
}

const DEFAULT_DELAYS = [1000, 2000, 4000, 8000, 16000]
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const FAULT_MODES = new Set(['drop', 'delay', 'duplicate', 'reorder'])

/** Why a webhook URL is refused (not http(s), or not loopback), or undefined when it is fine. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `not a URL: ${JSON.stringify(url)}`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `webhook URLs must be http(s): ${JSON.stringify(url)}`
  if (!LOOPBACK_HOSTS.has(parsed.hostname) && !parsed.hostname.startsWith('127.'))
    return `webhook URLs must be on a loopback host (127.0.0.1, localhost, [::1]); got ${parsed.hostname}`
  return undefined
}

export function webhookFaultProblem(fault: unknown): string | undefined {
  if (fault === null || typeof fault !== 'object' || Array.isArray(fault))
    return 'a webhook fault must be an object'
  const f = fault as Record<string, unknown>
  if (typeof f.mode !== 'string' || !FAULT_MODES.has(f.mode))
    return '`mode` must be drop, delay, duplicate or reorder'
  if (f.type !== undefined && typeof f.type !== 'string') return '`type` must be an event type'
  if (
    f.delayMs !== undefined &&
    !(Number.isInteger(f.delayMs) && (f.delayMs as number) >= 0 && (f.delayMs as number) <= 60_000)
  )
    return '`delayMs` must be an integer from 0 to 60000'
  if (f.mode === 'delay' && f.delayMs === undefined) return 'a delay fault needs `delayMs`'
  if (f.times !== undefined && !(Number.isInteger(f.times) && (f.times as number) >= 1))
    return '`times` must be a positive integer'
  return undefined
}

/**
 * JSON as Clerk's servers write it: Go's `encoding/json` escapes `<`, `>`, `&` as `\u003c`,
 * `\u003e`, `\u0026` (HTML-safe by default) and U+2028/U+2029 as `\u2028`/`\u2029`. Those
 * characters can only occur inside strings in `JSON.stringify`'s output, so escaping them there
 * keeps the same JSON value and gives different bytes: a receiver must verify the signature over
 * the bytes it got, not over a re-serialization (docs/wire-details.md).
 */
export function goJsonStringify(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** A new signing secret: `whsec_` + base64 of 24 random bytes (Svix's format). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

/** The `data` of an event: the object as BAPI serializes it when the event happens. */
function eventData(state: ClerkState, event: StateEvent): Record<string, unknown> {
  switch (event.type) {
    case 'session.created':
    case 'session.ended':
    case 'session.removed':
    case 'session.revoked':
      return sessionJson(state, event.session)
    case 'user.created':
    case 'user.updated':
      return userJson(state, event.user)
    case 'user.deleted':
      return { deleted: true, id: event.user.id, object: 'user' }
    case 'organizationMembership.created':
    case 'organizationMembership.updated':
    case 'organizationMembership.deleted':
      return organizationMembershipJson(state, event.membership, event.organization)
  }
}

interface ActiveFault extends WebhookFault {
  remaining: number
}

export class WebhookSender {
  readonly secret: string
  readonly #signer: Webhook
  readonly #urls: string[] = []
  readonly #delays: number[]
  readonly #timeoutMs: number
  readonly #faults: ActiveFault[] = []
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #inFlight = new Set<AbortController>()
  readonly #held = new Map<string, Array<() => void>>()
  readonly #idleWaiters: Array<() => void> = []
  #pending = 0
  #stopped = false
  /** Every delivery so far (newest last): for tests, diagnostics and `GET /__local/webhooks`. */
  readonly deliveries: WebhookDelivery[] = []

  constructor(
    readonly state: ClerkState,
    readonly instanceId: string,
    options: WebhookOptions = {},
  ) {
    this.secret = options.secret ?? newWebhookSecret()
    this.#signer = new Webhook(this.secret)
    this.#delays = options.retry?.delaysMs ?? DEFAULT_DELAYS
    this.#timeoutMs = options.retry?.timeoutMs ?? 10_000
    for (const url of options.urls ?? []) this.addEndpoint(url)
  }

  get endpoints(): readonly string[] {
    return this.#urls
  }

  /** Adds an endpoint (a loopback http(s) URL); throws a TypeError otherwise. */
  addEndpoint(url: string): void {
    const problem = webhookUrlProblem(url)
    if (problem) throw new TypeError(problem)
    if (!this.#urls.includes(url)) this.#urls.push(url)
  }

  /** Adds a delivery fault; throws a TypeError when it is malformed. */
  addFault(fault: WebhookFault): void {
    const problem = webhookFaultProblem(fault)
    if (problem) throw new TypeError(problem)
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 })
  }

  clearFaults(): void {
    this.#faults.length = 0
  }

  faults(): WebhookFault[] {
    return this.#faults.map(({ remaining, ...f }) => ({ ...f, times: remaining }))
  }

  /** Resolves when no delivery is pending (every message delivered or out of retries). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Serializes an event now and queues it for every endpoint. */
  enqueue(event: StateEvent): void {
    if (this.#stopped || this.#urls.length === 0) return
    const payload: WebhookPayload = {
      data: eventData(this.state, event),
      object: 'event',
      type: event.type,
      timestamp: this.state.now(),
      instance_id: this.instanceId,
      event_attributes: { http_request: { client_ip: '127.0.0.1', user_agent: 'clerk-local' } },
    }
    const body = goJsonStringify(payload)
    for (const url of this.#urls) {
      const delivery: WebhookDelivery = {
        id: `msg_${randomBytes(20).toString('base64url').replace(/[-_]/g, '').slice(0, 27)}`,
        type: event.type,
        url,
        body,
        attempts: [],
        status: 'pending',
      }
      this.deliveries.push(delivery)
      this.#start(delivery)
    }
  }

  #takeFault(type: EventType, modes: WebhookFault['mode'][]): ActiveFault | undefined {
    const index = this.#faults.findIndex(
      (f) => modes.includes(f.mode) && (f.type === undefined || f.type === type),
    )
    if (index < 0) return undefined
    const fault = this.#faults[index]!
    fault.remaining -= 1
    if (fault.remaining <= 0) this.#faults.splice(index, 1)
    return fault
  }

  #start(delivery: WebhookDelivery): void {
    this.#pending++
    const fault = this.#takeFault(delivery.type, ['delay', 'duplicate', 'reorder'])
    if (fault?.mode === 'duplicate') {
      // The copy is a second message with the same id and body.
      const copy: WebhookDelivery = { ...delivery, attempts: [] }
      this.deliveries.push(copy)
      this.#pending++
      this.#later(() => this.#attempt(copy, 0), 0)
    }
    if (fault?.mode === 'delay') this.#later(() => this.#attempt(delivery, 0), fault.delayMs ?? 0)
    else if (fault?.mode === 'reorder') {
      const held = this.#held.get(delivery.url) ?? []
      held.push(() => this.#attempt(delivery, 0))
      this.#held.set(delivery.url, held)
    } else this.#later(() => this.#attempt(delivery, 0), 0)
  }

  #later(fn: () => void, ms: number): void {
    if (this.#stopped) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fn()
    }, ms)
    this.#timers.add(timer)
  }

  async #attempt(delivery: WebhookDelivery, retry: number): Promise<void> {
    if (this.#stopped) return
    const at = this.state.now()
    let outcome: WebhookAttempt['outcome']
    if (this.#takeFault(delivery.type, ['drop'])) outcome = 'dropped'
    else outcome = await this.#send(delivery)
    if (this.#stopped) return
    delivery.attempts.push({ at, outcome })
    if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
      delivery.status = 'delivered'
      this.#release(delivery.url)
      return this.#done()
    }
    const delay = this.#delays[retry]
    if (delay === undefined) {
      delivery.status = 'failed'
      this.#release(delivery.url)
      return this.#done()
    }
    this.#later(() => void this.#attempt(delivery, retry + 1), delay)
  }

  /** A message held by a `reorder` fault goes once another message to its endpoint was settled. */
  #release(url: string): void {
    const held = this.#held.get(url)
    if (!held || held.length === 0) return
    this.#held.delete(url)
    for (const go of held) this.#later(go, 0)
  }

  async #send(delivery: WebhookDelivery): Promise<WebhookAttempt['outcome']> {
    const sentAt = new Date()
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'Svix-Webhooks/1.0 (clerk-local)',
      'svix-id': delivery.id,
      'svix-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'svix-signature': this.#signer.sign(delivery.id, sentAt, delivery.body),
    }
    const controller = new AbortController()
    this.#inFlight.add(controller)
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs)
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: controller.signal,
        redirect: 'manual',
      })
      await res.arrayBuffer().catch(() => undefined)
      return res.status
    } catch {
      return controller.signal.aborted ? 'timeout' : 'error'
    } finally {
      clearTimeout(timer)
      this.#inFlight.delete(controller)
    }
  }

  #done(): void {
    this.#pending--
    if (this.#pending > 0) return
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }

  /** Stops delivering: pending retries are dropped, requests in flight aborted. */
  stop(): void {
    this.#stopped = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const controller of this.#inFlight) controller.abort()
    this.#held.clear()
    this.#pending = 0
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }
}
