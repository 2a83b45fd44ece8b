// Bench helper process: the API exactly as server.ts builds it (config from the environment),
// plus a bare Fastify app with the baseline routes: one constant JSON answer, and the search's
// Clerk read with no tRPC, no auth, no policy. Prints both URLs as JSON.
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
const rawUrl = await raw.listen({ host: '127.0.0.1', port: 0 })

process.stdout.write(`${JSON.stringify({ apiUrl, rawUrl })}\n`)
process.once('SIGTERM', () => {
  void Promise.all([app.close(), raw.close()])
    .then(() => deps.close())
    .then(() => process.exit(0))
})
