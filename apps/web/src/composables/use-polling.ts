import { onScopeDispose } from 'vue'

export interface Polling {
  /** Runs the task now (and restarts the period from its end). */
  refresh(): Promise<void>
  stop(): void
}

export interface PollingOptions {
  /** Wait this long before the first run instead of running at once (a retry after a failure). */
  firstAfterMs?: number
}

/**
 * Runs `task` now and then `intervalMs` after each run ends (never two at once), while the
 * calling scope lives. Paused while the tab is hidden (`document.hidden`); when it shows again
 * the task runs at once. A task may ask for a longer wait (a Retry-After) by returning it in ms.
 */
export function usePolling(
  task: () => Promise<number | void>,
  intervalMs: number,
  options: PollingOptions = {},
): Polling {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | null = null
  let stopped = false

  const clear = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  const schedule = (ms: number) => {
    clear()
    if (stopped || document.hidden) return
    timer = setTimeout(() => void run(), ms)
  }
  async function run(): Promise<void> {
    clear()
    if (running) return running
    running = (async () => {
      let wait = intervalMs
      try {
        const asked = await task()
        if (typeof asked === 'number' && asked > wait) wait = asked
      } finally {
        running = null
        schedule(wait)
      }
    })()
    return running
  }
  const onVisibility = () => {
    if (document.hidden) clear()
    else void run()
  }

  document.addEventListener('visibilitychange', onVisibility)
  const stop = () => {
    stopped = true
    clear()
    document.removeEventListener('visibilitychange', onVisibility)
  }
  onScopeDispose(stop)
  if (options.firstAfterMs === undefined) void run()
  else schedule(options.firstAfterMs)
  return { refresh: run, stop }
}
