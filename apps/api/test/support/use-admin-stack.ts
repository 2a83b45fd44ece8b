// `startAdminStack` for a whole test file: started in the file's beforeAll, closed in its
// afterAll (in a file of its own: stack.ts is also loaded outside vitest, by the benches).
import { afterAll, beforeAll } from 'vitest'
import { startAdminStack } from './stack.js'
import type { AdminStack, AdminStackOptions } from './stack.js'

/** Registers the file's beforeAll/afterAll; the returned fields are usable from its tests on. */
export function useAdminStack(options: AdminStackOptions = {}): AdminStack {
  let started: AdminStack | undefined
  beforeAll(async () => {
    started = await startAdminStack(options)
  }, 60_000)
  afterAll(async () => {
    await started?.stack.close()
  })
  const get = (): AdminStack => {
    if (!started) throw new Error('the admin stack is not started (use it inside tests and hooks)')
    return started
  }
  return {
    get stack() {
      return get().stack
    },
    get admin() {
      return get().admin
    },
    get api() {
      return get().api
    },
    nextCustomer: () => get().nextCustomer(),
    impersonate: (impersonateOptions) => get().impersonate(impersonateOptions),
  }
}
