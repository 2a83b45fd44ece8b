// The API as its own process, exactly as production starts it (src/server.ts: config from the
// environment, or a package script's command line), on port 0 (it says where it listens): for
// tests where a crash must be seen as the process ending, where two instances share one Redis,
// or the production build started by `start`.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const apiDir = fileURLToPath(new URL('../..', import.meta.url))
// tsx as a loader inside the server's own process, not its launcher: the launcher relays a
// signal to the server and, when the server's acknowledgement takes over 30 ms (a loaded
// machine), exits 143 whatever the server did — server.test's graceful exit failed that way.
const tsxLoader = import.meta.resolve('tsx/esm')

export interface ApiProcess {
  /** http://127.0.0.1:PORT */
  url: string
  /** Every line the process wrote (pino JSON on stdout, anything on stderr). */
  output: string[]
  /** The first group of `alsoWaitFor`'s line, when asked for. */
  printed: string
  /** null while it runs; its exit code (or signal) once it ended. */
  exit(): { code: number | null; signal: string | null } | null
  stop(): Promise<void>
}

export interface ApiProcessOptions {
  /** A command line run through `sh -c` in the API's folder (e.g. its `start` script) instead. */
  shell?: string
  /** Also wait for a line matching this (its first group is `printed`). */
  alsoWaitFor?: RegExp
}

export async function startApiProcess(
  env: Record<string, string>,
  options: ApiProcessOptions = {},
): Promise<ApiProcess> {
  const [command, args] = options.shell
    ? ['sh', ['-c', options.shell]]
    : [process.execPath, ['--import', tsxLoader, '--conditions=@actas/source', 'src/server.ts']]
  const child = spawn(command, args, {
    cwd: apiDir,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      CLERK_TELEMETRY_DISABLED: '1',
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Through `sh -c`, the API is the shell's child (a script with an assignment before the
    // command is not exec'd), and a signal to the shell alone left it running after the test,
    // orphaned: there it gets a process group of its own, signalled whole. Otherwise the child
    // is the server itself, signalled alone.
    detached: options.shell !== undefined,
  })
  const signal = (name: NodeJS.Signals) => {
    try {
      if (options.shell) process.kill(-child.pid!, name)
      else child.kill(name)
    } catch {
      // gone already
    }
  }
  const output: string[] = []
  let ended: { code: number | null; signal: string | null } | null = null
  child.once('exit', (code, signal) => {
    ended = { code, signal }
  })
  let url = ''
  let printed = ''
  await new Promise<void>((resolve, reject) => {
    let pending = ''
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        url ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? ''
        if (options.alsoWaitFor) printed ||= options.alsoWaitFor.exec(line)?.[1] ?? ''
        if (url && (printed || !options.alsoWaitFor)) resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) =>
      reject(new Error(`the API process exited (${code}) before listening:\n${output.join('\n')}`)),
    )
  })
  return {
    url,
    output,
    printed,
    exit: () => ended,
    stop: async () => {
      if (ended) return
      const done = new Promise((resolve) => child.once('exit', resolve))
      signal('SIGTERM')
      const timer = setTimeout(() => signal('SIGKILL'), 15_000)
      await done
      clearTimeout(timer)
    },
  }
}
