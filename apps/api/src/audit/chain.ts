// The audit hash chain: the canonical form of an event, its hash, and Ed25519 checkpoints.
// Pure functions (node:crypto only); the store appends with them, `audit:verify` and
// `verifyChain` check with them. Migration 0002 builds the very same canonical text in SQL
// (`actas_audit_canonical`) for the rows it migrates; a test holds the two equal.
import * as nodeCrypto from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** prev_hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64)

export type EventDataValue = string | number | boolean | null
export type EventData = Record<string, EventDataValue>

/** What the hash covers: every stored column of an event except the hashes themselves. */
export interface ChainedEventFields {
  seq: number
  impersonationId: string
  type: string
  cause: string | null
  by: string | null
  reason: string | null
  clerkSessionId: string | null
  /** The stored `data` text (canonical JSON, see canonicalData). */
  data: string
  createdAt: Date
}

/** Flat details as canonical JSON: keys sorted, no spaces, `undefined` left out. */
export function canonicalData(data: Record<string, EventDataValue | undefined>): string {
  const keys = Object.keys(data)
    .filter((k) => data[k] !== undefined)
    .sort()
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, data[k]])))
}

/**
 * Version 1: `[seq,"impersonation id","type",cause,by,reason,clerkSessionId,"data text","created at"]`
 * as JSON (no spaces; strings escaped as JSON.stringify does, which is what Postgres' to_json
 * does for the strings we store), the instant as ISO 8601 with milliseconds, UTC.
 */
export function canonicalEvent(e: ChainedEventFields): string {
  return JSON.stringify([
    e.seq,
    e.impersonationId,
    e.type,
    e.cause,
    e.by,
    e.reason,
    e.clerkSessionId,
    e.data,
    e.createdAt.toISOString(),
  ])
}

/**
 * SHA-256 of a string, hex. Node's one-shot `crypto.hash` (20.12+) where it exists: no Hash object
 * per call, ≈ 1.5× the rows/s of `createHash` for an audit event (the verify walk hashes every
 * event of the chain).
 */
// (Read off the namespace: a named import would fail to link on Node 20 before 20.12.)
const oneShotHash = (nodeCrypto as { hash?: (alg: string, data: string, enc: 'hex') => string })
  .hash
const sha256Hex: (text: string) => string =
  typeof oneShotHash === 'function'
    ? (text) => oneShotHash('sha256', text, 'hex')
    : (text) => createHash('sha256').update(text).digest('hex')

/** hash = sha256(prev_hash ‖ canonical JSON of the event), hex. */
export function eventHash(prevHash: string, e: ChainedEventFields): string {
  return sha256Hex(prevHash + canonicalEvent(e))
}

// ---- signed checkpoints -------------------------------------------------------------------

export interface AuditSigner {
  privateKey: KeyObject
  publicKey: KeyObject
  /** sha256 of the SPKI DER public key, hex (first 32 chars). */
  keyId: string
  publicKeyPem: string
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * AUDIT_SIGNING_KEY: an Ed25519 private key as PKCS#8 PEM (`\n` may be written as `\\n`), or
 * its 32-byte seed in base64/base64url or hex.
 */
export function parseSigningKey(value: string): AuditSigner {
  const text = value.trim().replace(/\\n/g, '\n')
  let privateKey: KeyObject
  if (text.includes('-----BEGIN')) {
    privateKey = createPrivateKey(text)
  } else {
    const seed = /^[0-9a-f]{64}$/i.test(text)
      ? Buffer.from(text, 'hex')
      : Buffer.from(text, 'base64url')
    if (seed.length !== 32)
      throw new Error('AUDIT_SIGNING_KEY must be an Ed25519 PKCS#8 PEM or a 32-byte seed')
    privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error('AUDIT_SIGNING_KEY must be an Ed25519 key')
  const publicKey = createPublicKey(privateKey)
  return {
    privateKey,
    publicKey,
    keyId: publicKeyId(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

export function publicKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 32)
}

/** The bytes a checkpoint signs. */
export function checkpointMessage(seq: number, hash: string, signedAt: Date): Buffer {
  return Buffer.from(`actas-audit-checkpoint/v1\n${seq}\n${hash}\n${signedAt.toISOString()}`)
}

export function signCheckpoint(
  signer: AuditSigner,
  seq: number,
  hash: string,
  signedAt: Date,
): string {
  return sign(null, checkpointMessage(seq, hash, signedAt), signer.privateKey).toString('base64')
}

/**
 * The public keys checkpoints are verified with: the current signing key's, and after a rotation
 * the previous keys' (AUDIT_PREVIOUS_PUBLIC_KEYS), so checkpoints signed before it still verify.
 */
export type TrustedKeys = KeyObject | readonly KeyObject[]

export function verifyCheckpoint(
  publicKey: TrustedKeys,
  checkpoint: { seq: number; hash: string; signedAt: Date; signature: string; keyId?: string },
): boolean {
  const keys: readonly KeyObject[] = Array.isArray(publicKey) ? publicKey : [publicKey as KeyObject]
  // A checkpoint names the key that signed it: only that key (if trusted) may verify it.
  return keys
    .filter((k) => checkpoint.keyId === undefined || publicKeyId(k) === checkpoint.keyId)
    .some((key) => {
      try {
        return verify(
          null,
          checkpointMessage(checkpoint.seq, checkpoint.hash, checkpoint.signedAt),
          key,
          Buffer.from(checkpoint.signature, 'base64'),
        )
      } catch {
        return false
      }
    })
}

// ---- verification -------------------------------------------------------------------------

export interface StoredEvent extends ChainedEventFields {
  prevHash: string
  hash: string
}

export interface StoredCheckpoint {
  seq: number
  hash: string
  signedAt: Date
  keyId: string
  signature: string
}

export interface ChainBreak {
  seq: number
  reason: string
}

export interface ChainReport {
  ok: boolean
  events: number
  head: { seq: number; hash: string }
  firstBroken: ChainBreak | null
  checkpoints: { total: number; verified: number; lastSeq: number | null }
}

/**
 * Walks events in `seq` order (pages, e.g. from the database or an export) and checks each link:
 * consecutive seq from 1, prev_hash = the previous hash, hash = sha256(prev ‖ canonical). Then the
 * stored head (when given) and the checkpoints: each must name an event of the chain with that
 * hash and, when a public key is given, carry a valid signature. Stops at the first break.
 */
export async function verifyChain(
  pages: AsyncIterable<StoredEvent[]>,
  options: {
    head?: { seq: number; hash: string } | null
    checkpoints?: StoredCheckpoint[]
    publicKey?: TrustedKeys | null
    /**
     * Where `pages` start: after this event, whose hash is trusted (a checkpoint verified, or a
     * head verified before). Default: the first event, after the genesis hash.
     */
    from?: { seq: number; hash: string }
  } = {},
): Promise<ChainReport> {
  const checkpoints = [...(options.checkpoints ?? [])].sort((a, b) => a.seq - b.seq)
  const wanted = new Map(checkpoints.map((c) => [c.seq, c]))
  const seen = new Map<number, string>()
  if (options.from) seen.set(options.from.seq, options.from.hash)
  let prevHash = options.from?.hash ?? GENESIS_HASH
  let expected = (options.from?.seq ?? 0) + 1
  let count = 0
  let firstBroken: ChainBreak | null = null
  walk: for await (const page of pages) {
    for (const e of page) {
      if (e.seq !== expected) {
        firstBroken = {
          seq: expected,
          reason:
            e.seq > expected
              ? `event ${expected} is missing (the next stored event is ${e.seq})`
              : `event ${e.seq} is out of order (expected ${expected})`,
        }
        break walk
      }
      if (e.prevHash !== prevHash) {
        firstBroken = {
          seq: e.seq,
          reason: `prev_hash of event ${e.seq} is not the hash of event ${e.seq - 1}`,
        }
        break walk
      }
      if (Number.isNaN(e.createdAt.getTime()) || eventHash(prevHash, e) !== e.hash) {
        firstBroken = {
          seq: e.seq,
          reason: `event ${e.seq} does not match its hash (its contents were changed)`,
        }
        break walk
      }
      if (wanted.has(e.seq)) seen.set(e.seq, e.hash)
      prevHash = e.hash
      expected += 1
      count += 1
    }
  }
  const last = { seq: expected - 1, hash: prevHash }
  const head = options.head
  if (!firstBroken && head && (head.seq !== last.seq || head.hash !== last.hash)) {
    firstBroken =
      head.seq > last.seq
        ? {
            seq: last.seq + 1,
            reason: `events ${last.seq + 1}–${head.seq} are missing (the chain head is at ${head.seq})`,
          }
        : {
            seq: head.seq,
            reason: `the chain head (${head.seq}) does not match the last event (${last.seq})`,
          }
  }
  let verified = 0
  for (const c of checkpoints) {
    const signed = !options.publicKey || verifyCheckpoint(options.publicKey, c)
    const hash = seen.get(c.seq)
    if (signed && hash === c.hash) {
      verified += 1
      continue
    }
    if (firstBroken) continue
    firstBroken = !signed
      ? { seq: c.seq, reason: `the checkpoint at ${c.seq} has no valid signature for this key` }
      : c.seq > last.seq
        ? {
            seq: last.seq + 1,
            reason: `a signed checkpoint names event ${c.seq}, past the chain's end (${last.seq}): events were removed`,
          }
        : {
            seq: c.seq,
            reason: `event ${c.seq} is not the one the signed checkpoint names (the chain was rewritten)`,
          }
  }
  return {
    ok: firstBroken === null,
    events: count,
    head: head ?? last,
    firstBroken,
    checkpoints: { total: checkpoints.length, verified, lastSeq: checkpoints.at(-1)?.seq ?? null },
  }
}
