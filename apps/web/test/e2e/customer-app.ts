// The example customer application (examples/customer-app) beside the e2e stack, on its own
// origin: its Fastify service (src/main.ts, spawned with tsx, guarded by @actas/guard against the
// stack's API with the seeded `helpdesk` machine) and its pages (built, served by `vite preview`
// with /__clerk → the Frontend API and /api → the service). The console is on 127.0.0.1, the
// application on `localhost`: two host names, as cookies ignore ports.
//
// The API is configured with the application's origin and webhook URL before it starts, and the
// application starts after it: both are loopback relays bound (port 0) by this process when it
// plans, which forward to the service and the pages once these have bound port 0 themselves and
// printed their URLs. No port is picked here and handed over.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { ClerkLocal } from '@actas/clerk-local'
import { apiRelay } from '../support/relay.ts'
import { previewUrl, printedUrl, waitFor } from './stack.ts'
import type { Stack } from './stack.ts'

const APP_DIR = fileURLToPath(new URL('../../../../examples/customer-app/', import.meta.url))

export interface CustomerAppPlan {
  /** The pages' origin (`http://localhost:<port>`, the pages' relay). */
  url: string
  /** The service's webhook receiver as the API is told it (through the service's relay). */
  webhookUrl: string
  webhookSecret: string
  /** The API settings that make impersonations land here (for startStack's apiEnv). */
  apiEnv: (clerk: ClerkLocal, consoleUrl: string) => Record<string, string>
  /** Points the relays at where the service and the pages listen (startCustomerApp). */
  target(service: URL, pages: URL): void
  /** Closes the relays. */
  close(): Promise<void>
}

export async function planCustomerApp(): Promise<CustomerAppPlan> {
  let targets: { service: URL; pages: URL } | undefined
  const to = (which: 'service' | 'pages') => () => {
    if (!targets) throw new Error('the customer application is not listening yet')
    return targets[which]
  }
  const pages = await apiRelay(to('pages'))
  const service = await apiRelay(to('service'))
  const url = `http://localhost:${new URL(pages.url).port}`
  const webhookUrl = `${service.url}/webhooks/actas`
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`
  return {
    url,
    webhookUrl,
    webhookSecret,
    target(serviceAt, pagesAt) {
      targets = { service: serviceAt, pages: pagesAt }
    },
    async close() {
      await pages.close()
      await service.close()
    },
    apiEnv: (clerk, consoleUrl) => {
      const actas = clerk.machines.find((m) => m.name === 'actas-api')!
      const helpdesk = clerk.machines.find((m) => m.name === 'helpdesk')!
      return {
        APP_ORIGINS: url,
        // The application's session tokens too: its banner follows ActAs's push of ends.
        AUTHORIZED_PARTIES: `${consoleUrl},${url}`,
        APP_HOME_PATH: '/',
        CLERK_MACHINE_ID: actas.id,
        MACHINE_PERMISSIONS: JSON.stringify({
          [actas.id]: ['sessions.revoked', 'impersonation.get', 'impersonation.list'],
          [helpdesk.id]: ['impersonation.actions'],
        }),
        WEBHOOK_ENDPOINTS: JSON.stringify([{ url: webhookUrl, secret: webhookSecret }]),
        WEBHOOK_DISPATCH_INTERVAL_MS: '200',
      }
    },
  }
}

export interface CustomerApp {
  url: string
  /** What the service printed (warnings and errors). */
  output: string[]
  stop(): Promise<void>
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

export async function startCustomerApp(plan: CustomerAppPlan, stack: Stack): Promise<CustomerApp> {
  const built = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build'], {
    cwd: APP_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  })
  if (built.status !== 0)
    throw new Error(`customer-app build failed:\n${built.stdout}${built.stderr}`)

  const helpdesk = stack.clerk.machines.find((m) => m.name === 'helpdesk')!
  const output: string[] = []
  const service = spawn(
    `${APP_DIR}node_modules/.bin/tsx`,
    ['--conditions=@actas/source', 'src/main.ts'],
    {
      cwd: APP_DIR,
      env: {
        ...process.env,
        ACTAS_ENV_FILE: 'none', // never the `.env.dev` a local `dev` wrote
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: '0',
        CLERK_JWT_KEY: stack.clerk.jwtPublicKeyPem,
        CLERK_API_URL: stack.clerk.url,
        CLERK_PUBLISHABLE_KEY: stack.clerk.publishableKey,
        AUTHORIZED_PARTIES: plan.url,
        ACTAS_API_URL: `${stack.apiUrl}/trpc`,
        ACTAS_CONSOLE_URL: stack.url,
        CLERK_MACHINE_SECRET_KEY: helpdesk.secretKey,
        ACTAS_WEBHOOK_SECRET: plan.webhookSecret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  service.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
  service.stderr?.on('data', (d: Buffer) => output.push(d.toString()))
  let serviceUrl: string
  try {
    serviceUrl = await printedUrl(
      service,
      output,
      /customer-app service listening on (http:\/\/127\.0\.0\.1:\d+)/,
      'the customer-app service',
      60_000,
    )
  } catch (error) {
    await stopChild(service)
    await plan.close()
    throw error
  }
  const preview = spawn(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', '0'],
    {
      cwd: APP_DIR,
      env: {
        ...process.env,
        ACTAS_FAPI_TARGET: stack.clerk.frontendApiUrl,
        CUSTOMER_APP_SERVICE_TARGET: serviceUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  preview.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
  preview.stderr?.on('data', (d: Buffer) => output.push(d.toString()))
  try {
    const pagesUrl = await previewUrl(preview, output, 60_000)
    plan.target(new URL(serviceUrl), new URL(pagesUrl))
    await waitFor(`${serviceUrl}/config`, 60_000, service, output)
    // Through the pages' relay (the origin the browser and the API know), on its address.
    await waitFor(`${plan.url.replace('localhost', '127.0.0.1')}/`, 30_000, preview, output)
  } catch (error) {
    await stopChild(service)
    await stopChild(preview)
    await plan.close()
    throw error
  }
  return {
    url: plan.url,
    output,
    async stop() {
      await stopChild(preview)
      await stopChild(service)
      await plan.close()
    },
  }
}
