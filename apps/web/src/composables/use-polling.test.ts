import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { usePolling } from './use-polling'

function setHidden(hidden: boolean) {
  Object.defineProperty(document, 'hidden', { value: hidden, configurable: true })
  document.dispatchEvent(new Event('visibilitychange'))
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  setHidden(false)
  vi.useRealTimers()
})

/** Starts polling `task` in a scope of its own (stop() ends it, as unmounting would). */
function start(task: () => Promise<number | void>, intervalMs = 5000) {
  const scope = effectScope()
  const polling = scope.run(() => usePolling(task, intervalMs))!
  return { polling, stop: () => scope.stop() }
}

describe('usePolling', () => {
  it('runs at once, then every interval after each run ends', async () => {
    let runs = 0
    const { stop } = start(async () => {
      runs++
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(4999)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toBe(2)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(runs).toBe(4)
    stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs).toBe(4)
  })

  it('asks nothing while the tab is hidden, and asks at once when it shows again', async () => {
    let runs = 0
    const { stop } = start(async () => {
      runs++
    })
    await vi.advanceTimersByTimeAsync(0)
    setHidden(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs).toBe(1)
    setHidden(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(runs).toBe(2)
    await vi.advanceTimersByTimeAsync(5000)
    expect(runs).toBe(3)
    stop()
  })

  it('waits as long as a run asks (Retry-After), and never runs twice at once', async () => {
    let runs = 0
    let inFlight = 0
    let most = 0
    const { polling, stop } = start(async () => {
      runs++
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      inFlight--
      return runs === 1 ? 30_000 : undefined
    })
    await vi.advanceTimersByTimeAsync(0)
    void polling.refresh() // while the first run is still going: joins it
    await vi.advanceTimersByTimeAsync(1000)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(29_999)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toBe(2)
    expect(most).toBe(1)
    stop()
  })
})
