// Runs the customer app: `PORT`, Clerk (`CLERK_JWT_KEY`, or `CLERK_SECRET_KEY` for the JWKS;
// `CLERK_API_URL`; `AUTHORIZED_PARTIES`), ActAs (`ACTAS_API_URL`, this app's machine secret
// `CLERK_MACHINE_SECRET_KEY` for its M2M tokens) and `ACTAS_WEBHOOK_SECRET` (`whsec_…`).
//
// The root `dev` writes what it knows (keys, URLs) to `.env.dev` beside this package (git-ignored);
// it is read when present (`ACTAS_ENV_FILE` names another file, `none` none), and the
// environment wins over it.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createClerkClient } from '@clerk/backend'
import { SESSIONS_ENDED_PATH } from '@actas/contracts'
import { createGuard } from '@actas/guard'
import { buildCustomerApp } from './app.js'

const envFile =
  process.env['ACTAS_ENV_FILE'] ?? fileURLToPath(new URL('../.env.dev', import.meta.url))
if (envFile !== 'none' && existsSync(envFile)) process.loadEnvFile(envFile)
const env = process.env
const required = (name: string): string => {
  const value = env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

const apiUrl = env['CLERK_API_URL'] ?? 'https://api.clerk.com'
const machines = createClerkClient({
  apiUrl,
  machineSecretKey: required('CLERK_MACHINE_SECRET_KEY'),
})
let token: { value: string; renewAt: number } | null = null

/** A Clerk M2M token for this app, renewed a minute before it expires. Never logged. */
async function m2mToken(): Promise<string> {
  if (token && Date.now() < token.renewAt) return token.value
  const created = await machines.m2m.createToken({ secondsUntilExpiration: 600 })
  if (!created.token) throw new Error('Clerk returned no M2M token')
  token = { value: created.token, renewAt: Date.now() + 540_000 }
  return created.token
}

const jwtKey = env['CLERK_JWT_KEY']?.replace(/\\n/g, '\n')
const secretKey = env['CLERK_SECRET_KEY']
const guard = createGuard({
  clerk: {
    ...(jwtKey ? { jwtKey } : {}),
    ...(secretKey ? { secretKey } : {}),
    apiUrl,
    authorizedParties: (env['AUTHORIZED_PARTIES'] ?? '').split(',').filter(Boolean),
  },
  actas: { url: required('ACTAS_API_URL'), getToken: m2mToken },
})
const webhookSecret = env['ACTAS_WEBHOOK_SECRET']
const publishableKey = env['CLERK_PUBLISHABLE_KEY']
const consoleUrl = env['ACTAS_CONSOLE_URL']
const app = await buildCustomerApp({
  guard,
  logger: { level: env['LOG_LEVEL'] ?? 'info' },
  ...(webhookSecret ? { webhookSecret } : {}),
  ...(publishableKey && consoleUrl
    ? {
        pageConfig: {
          publishableKey,
          consoleUrl,
          // ActAs's push of ends, on the API's origin (the banner follows it with its own token).
          endsUrl: new URL(SESSIONS_ENDED_PATH, required('ACTAS_API_URL')).href,
        },
      }
    : {}),
})
const address = await app.listen({
  host: env['HOST'] ?? '127.0.0.1',
  port: Number(env['PORT'] ?? 4300),
})
// Where it listens (with PORT=0, the port it chose: the tests read this line).
console.log(`customer-app service listening on ${address}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)))
