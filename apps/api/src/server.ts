// The only file that listens: loadConfig → createDeps → buildApp → listen; graceful close.
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createDeps } from './deps.js'

async function main(): Promise<void> {
  process.env['CLERK_TELEMETRY_DISABLED'] ??= '1'
  const config = loadConfig(process.env)
  const deps = await createDeps(config)
  const app = await buildApp(deps)

  let closing = false
  const close = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    try {
      await app.close()
      await deps.close()
      process.exit(0)
    } catch (err) {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.once('SIGINT', () => void close('SIGINT'))
  process.once('SIGTERM', () => void close('SIGTERM'))

  await app.listen({ host: config.host, port: config.port })
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
  } else {
    process.stderr.write(
      `ActAs API failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    )
  }
  process.exit(1)
})
