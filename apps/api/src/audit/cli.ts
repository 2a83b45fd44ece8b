// `pnpm --filter @actas/api audit:verify`, `audit:public-key`, `audit:keygen`.
//
//   audit:verify [--public-key <file.pem>] [--json]
//       Walks the whole audit chain in the configured database (DATABASE_URL + DATABASE_SCHEMA,
//       else the PGlite directory ACTAS_DATA_DIR) and reports the first broken link; checks every
//       checkpoint's signature with the public key of AUDIT_SIGNING_KEY, or the given PEM file
//       (someone who trusts only that key), and their cadence (AUDIT_CHECKPOINT_EVERY/_MINUTES);
//       recomputes every impersonations row from its events and names any that disagrees.
//       Exit code 0 when all of it verifies, 1 when not.
//   audit:public-key   prints the Ed25519 public key (SPKI PEM) of AUDIT_SIGNING_KEY.
//   audit:keygen       prints a new AUDIT_SIGNING_KEY (a 32-byte seed, base64url) and its public key.
//
// Reads only these variables (config.ts `loadAuditToolConfig`: no Clerk keys needed).
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError, loadAuditToolConfig } from '../config.js'
import { parseSigningKey } from './chain.js'
import { openDatabase } from './db.js'
import { AuditStore } from './store.js'

const [command, ...args] = process.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

async function verify(): Promise<number> {
  const keyFile = option('--public-key')
  const config = loadAuditToolConfig(process.env)
  // The current key's checkpoints and, after a rotation, the previous keys' (by key id).
  const trusted = [
    ...(config.signingKey ? [parseSigningKey(config.signingKey).publicKey] : []),
    ...config.previousPublicKeys.map((pem) => createPublicKey(pem)),
  ]
  const publicKey = keyFile
    ? createPublicKey(readFileSync(keyFile, 'utf8'))
    : trusted.length > 0
      ? trusted
      : null
  const database = await openDatabase(config.database)
  try {
    const store = new AuditStore(database.db, {
      now: () => new Date(),
      checkpointEvery: config.checkpointEvery,
      checkpointMinutes: config.checkpointMinutes,
    })
    const started = performance.now()
    const report = await store.verify({ publicKey, full: true })
    const seconds = (performance.now() - started) / 1000
    const rowsPerSecond = Math.round(report.events / Math.max(seconds, 1e-6))
    if (args.includes('--json')) {
      process.stdout.write(`${JSON.stringify({ ...report, seconds, rowsPerSecond })}\n`)
    } else {
      const cp = report.checkpoints
      process.stdout.write(
        [
          `events walked: ${report.events} in ${seconds.toFixed(2)} s (${rowsPerSecond} rows/s)`,
          `head: seq ${report.head.seq}, ${report.head.hash}`,
          `checkpoints: ${cp.verified} of ${cp.total} verified${publicKey ? '' : ' (no public key: signatures not checked)'}`,
          `rows checked against their events: ${report.rows}`,
          report.ok
            ? 'the audit chain verifies'
            : `BROKEN at seq ${report.firstBroken?.seq}: ${report.firstBroken?.reason}`,
        ].join('\n') + '\n',
      )
    }
    return report.ok ? 0 : 1
  } finally {
    await database.close()
  }
}

async function main(): Promise<number> {
  switch (command) {
    case 'verify':
      return verify()
    case 'public-key': {
      const key = loadAuditToolConfig(process.env).signingKey
      if (!key) {
        process.stderr.write('AUDIT_SIGNING_KEY is not set.\n')
        return 2
      }
      process.stdout.write(parseSigningKey(key).publicKeyPem)
      return 0
    }
    case 'keygen': {
      const { privateKey } = generateKeyPairSync('ed25519')
      const der = privateKey.export({ type: 'pkcs8', format: 'der' })
      const seed = der.subarray(der.length - 32).toString('base64url')
      process.stdout.write(`AUDIT_SIGNING_KEY=${seed}\n\n${parseSigningKey(seed).publicKeyPem}`)
      return 0
    }
    default:
      process.stderr.write(
        'usage: cli.ts verify [--public-key <file.pem>] [--json] | public-key | keygen\n',
      )
      return 2
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`)
    else process.stderr.write(`audit: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(2)
  },
)
