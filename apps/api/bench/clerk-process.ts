// Bench helper process: the local Clerk-compatible server with 100k users. Prints its
// connection details as one JSON line, then serves until SIGTERM.
import { startClerkLocal } from '@actas/clerk-local'

const users = Number(process.env['BENCH_USERS'] ?? 100_000)
const clerk = await startClerkLocal({ port: 0, users, seed: 1 })
process.stdout.write(
  `${JSON.stringify({
    url: clerk.url,
    frontendApiUrl: clerk.frontendApiUrl,
    publishableKey: clerk.publishableKey,
    secretKey: clerk.secretKey,
    jwtPublicKeyPem: clerk.jwtPublicKeyPem,
    accounts: clerk.accounts,
    users: clerk.state.users.size,
  })}\n`,
)
process.once('SIGTERM', () => {
  void clerk.stop().then(() => process.exit(0))
})
