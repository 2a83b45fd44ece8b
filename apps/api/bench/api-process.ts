// Bench helper process: the API exactly as server.ts builds it (config from the environment),
// plus a bare Fastify app with the baseline routes: one constant JSON answer, and the search's
// Clerk read with no tRPC, no auth, no policy. Prints both URLs as JSON.
import { createClerkClient } from '@clerk/backend'
import Fastify from 'fastify'
import { buildApp, createDeps, loadConfig } from '../src/index.js'

const config = loadConfig(process.env)
const deps = await createDeps(config)
const app = await buildApp(deps)
// Loaded at start-up in the background; the bench counts Clerk calls per search page after that.
await Promise.all([deps.memberships?.refresh(), deps.staffOrganizations.ids()])
const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 })

const raw = Fastify({ logger: false })
raw.get('/raw', () => ({ hello: 'world' }))
// (e): what a search costs the API without tRPC and auth: the same Clerk read and mapping.
raw.get('/raw-search', async () => {
  const page = await deps.directory.searchUsers({ limit: 20, offset: 0, orderBy: '-created_at' })
  return {
    items: page.users.map((u) => ({ ...u, createdAt: new Date(u.createdAt).toISOString() })),
    total: page.total,
  }
})
// The API process's CPU time so far (µs), read around each measured window: CPU per request
// is steadier than req/s on a machine shared with other work.
raw.get('/cpu', () => process.cpuUsage())
// Its memory (the soak bench follows RSS over time).
raw.get('/memory', () => process.memoryUsage())

// Side by side, each optimization that leans on a library's internals against the library's
// plain public API, on the same path (the load generator prints the pairs and their gain): the
// keep-alive BAPI reader vs @clerk/backend's `users.getUserList` (same page, same mapping).
const sdk = createClerkClient({
  secretKey: config.clerk.secretKey,
  apiUrl: config.clerk.apiUrl,
  telemetry: { disabled: true },
})
raw.get('/raw-search-sdk', async () => {
  const { data, totalCount } = await sdk.users.getUserList({
    limit: 20,
    offset: 0,
    orderBy: '-created_at',
  })
  return {
    items: data.map((u) => ({
      id: u.id,
      primaryEmail:
        u.primaryEmailAddress?.emailAddress ?? u.emailAddresses[0]?.emailAddress ?? null,
      fullName: u.fullName || u.username || null,
      imageUrl: u.imageUrl || null,
      createdAt: new Date(u.createdAt).toISOString(),
      lastSignInAt: u.lastSignInAt,
      lastActiveAt: u.lastActiveAt,
      banned: u.banned,
      locked: u.locked,
    })),
    total: totalCount,
  }
})
const rawUrl = await raw.listen({ host: '127.0.0.1', port: 0 })

process.stdout.write(`${JSON.stringify({ apiUrl, rawUrl })}\n`)
process.once('SIGTERM', () => {
  void Promise.all([app, raw].map((server) => server.close()))
    .then(() => deps.close())
    .then(() => process.exit(0))
})
