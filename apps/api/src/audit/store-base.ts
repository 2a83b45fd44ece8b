// What every part of the audit store shares: the database, the clock and the options. The store
// is one class (store.ts) built in layers, each in its own file: counts.ts (how many), reads.ts
// (rows, events, pages), writes.ts (the event append, the only writer of the impersonations
// projection), verify.ts (the chain and the projection checked against the events).
import type { KeyObject } from 'node:crypto'
import type { WebhookOutbox } from '../webhooks/outbox.js'
import type { AuditSigner } from './chain.js'
import type { AuditDatabase } from './db.js'

export interface AuditStoreOptions {
  now: () => Date
  /** Signs checkpoints; without it none are written. */
  signer?: AuditSigner | null
  /** Public keys of signing keys used before a rotation: their checkpoints still verify. */
  previousPublicKeys?: readonly KeyObject[]
  /** A checkpoint every this many events (default 1000)… */
  checkpointEvery?: number
  /** …or, by `checkpointIfDue()`, when this many minutes passed with new events (default 10). */
  checkpointMinutes?: number
  /**
   * Webhooks to the host: the messages an event announces are written to the outbox in the
   * event's transaction (so one exists exactly when the other does).
   */
  outbox?: Pick<WebhookOutbox, 'rowsFor' | 'messageRows' | 'enqueued'> | null
  /**
   * Told after each event append commits (its type), in this process: in-memory readers of the
   * log (the search rows' last sign-in mirror) refresh at once instead of at their next poll.
   */
  onAppended?: (type: string) => void
}

export type Tx = Parameters<Parameters<AuditDatabase['transaction']>[0]>[0]

/** The database or a transaction of it: the queries that also run inside one take either. */
export type Queryable = AuditDatabase | Tx

export class AuditStoreBase {
  protected readonly now: () => Date
  protected readonly signer: AuditSigner | null
  /** The signing key's public key and the previous ones (null: none at all). */
  protected readonly trustedKeys: readonly KeyObject[] | null
  protected readonly checkpointEvery: number
  protected readonly checkpointMs: number
  protected readonly outbox: AuditStoreOptions['outbox']
  protected readonly onAppended: (type: string) => void

  constructor(
    protected readonly db: AuditDatabase,
    options: AuditStoreOptions | (() => Date),
  ) {
    const o = typeof options === 'function' ? { now: options } : options
    this.now = o.now
    this.signer = o.signer ?? null
    const trusted = [
      ...(this.signer ? [this.signer.publicKey] : []),
      ...(o.previousPublicKeys ?? []),
    ]
    this.trustedKeys = trusted.length > 0 ? trusted : null
    this.checkpointEvery = o.checkpointEvery ?? 1000
    this.checkpointMs = (o.checkpointMinutes ?? 10) * 60_000
    this.outbox = o.outbox ?? null
    this.onAppended = o.onAppended ?? (() => undefined)
  }

  /** The public key checkpoints are signed with (SPKI PEM), or null without a signing key. */
  get publicKeyPem(): string | null {
    return this.signer?.publicKeyPem ?? null
  }
}
