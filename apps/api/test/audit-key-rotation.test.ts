// Rotating AUDIT_SIGNING_KEY (docs/deploy.md): checkpoints signed with the previous key still
// verify once its public key is listed in AUDIT_PREVIOUS_PUBLIC_KEYS (each checkpoint names its
// key, and only that key may verify it); without it, verification says which checkpoint fails.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSigningKey } from '../src/audit/chain.js'
import type { OpenedDatabase } from '../src/audit/db.js'
import { AuditStore } from '../src/audit/store.js'
import { loadConfig } from '../src/config.js'
import { openTestDatabase } from './support/stack.js'

const OLD = parseSigningKey(Buffer.alloc(32, 1).toString('base64url'))
const NEW = parseSigningKey(Buffer.alloc(32, 2).toString('base64url'))

let db: OpenedDatabase

beforeAll(async () => {
  db = await openTestDatabase()
}, 60_000)

afterAll(async () => {
  await db?.close()
})

async function startSome(store: AuditStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await store.createImpersonation(
      {
        id: randomUUID(),
        actorId: 'user_staff1',
        actorSessionId: 'sess_staff',
        actorOrganizationId: 'org_support',
        userId: `user_cust${i}`,
        reason: 'Checking the billing page for ticket 42',
        ticketUrl: null,
        sessionMinutes: 15,
        requestId: `req-${i}`,
        ip: '127.0.0.1',
        userAgent: 'vitest',
      },
      [{ type: 'requested' }, { type: 'denied', data: { code: 'POLICY_DENIED' } }],
    )
}

describe('a rotated audit signing key', () => {
  it('keeps the checkpoints of the previous key verifiable when its public key is listed', async () => {
    const options = { now: () => new Date(), checkpointEvery: 3 }
    await startSome(new AuditStore(db.db, { ...options, signer: OLD }), 4)
    const rotated = new AuditStore(db.db, {
      ...options,
      signer: NEW,
      previousPublicKeys: [OLD.publicKey],
    })
    await startSome(rotated, 4)

    const report = await rotated.verify({ full: true })
    expect(report.firstBroken).toBeNull()
    expect(report.checkpoints.total).toBeGreaterThanOrEqual(4)
    expect(report.checkpoints.verified).toBe(report.checkpoints.total)

    // Without the previous key, its checkpoints do not verify, and the report says so.
    const forgetful = new AuditStore(db.db, { ...options, signer: NEW })
    const broken = await forgetful.verify({ full: true })
    expect(broken.ok).toBe(false)
    expect(broken.firstBroken?.reason).toMatch(/has no valid signature for this key/)
  })

  it('reads AUDIT_PREVIOUS_PUBLIC_KEYS as PEM public keys and refuses anything else', () => {
    const env = {
      NODE_ENV: 'test',
      CLERK_SECRET_KEY: 'sk_test_x',
      CLERK_PUBLISHABLE_KEY: 'pk_test_eA==',
    }
    const both = `${OLD.publicKeyPem}${NEW.publicKeyPem}`.replace(/\n/g, '\\n')
    expect(
      loadConfig({ ...env, AUDIT_PREVIOUS_PUBLIC_KEYS: both }).auditPreviousPublicKeys,
    ).toEqual([OLD.publicKeyPem.trim(), NEW.publicKeyPem.trim()])
    expect(() => loadConfig({ ...env, AUDIT_PREVIOUS_PUBLIC_KEYS: 'not a key' })).toThrow(
      /AUDIT_PREVIOUS_PUBLIC_KEYS: must be Ed25519 public keys/,
    )
  })
})
