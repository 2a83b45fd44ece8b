// The bench scripts' child processes (the local Clerk server and the API, from clerk-process.ts
// and api-process.ts): each prints log lines and one JSON line that is its answer (URLs, keys).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const tsx = fileURLToPath(import.meta.resolve('tsx/cli'))

/** Every process started here, to be stopped at the end of a run. */
export const children: ChildProcess[] = []

/**
 * Starts `script` (in this folder) and resolves with its answer: the first JSON line on stdout
 * that is not a log record (pino's have `level`). With `nodeArgs` (profiling flags, or none at
 * all to measure the script's own memory), tsx runs in-process (`--import tsx`), so the child's
 * pid is the script's own; otherwise through tsx's CLI.
 */
export function startProcess<T>(
  script: string,
  env: Record<string, string>,
  nodeArgs?: string[],
  /** The folder of `script` (default this one; the bench's before/after runs another checkout's). */
  cwd = here,
): Promise<T> {
  const args = nodeArgs
    ? [...nodeArgs, '--conditions=@actas/source', '--import', 'tsx', script]
    : [tsx, '--conditions=@actas/source', script]
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, CLERK_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise<T>((resolve, reject) => {
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      for (const line of buffer.split('\n').slice(0, -1)) {
        const parsed = JSON.parse(line) as T & { level?: unknown }
        if (parsed.level === undefined) return resolve(parsed)
      }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
}
