// What the Impersonate dialog says when a start does not go through, against the real API and
// the local Clerk server: a Clerk that answers after the console stopped waiting leaves no usable
// ticket (the API revokes it and records the failure) and the dialog says it did not start; an
// API that cannot be reached may have started it (the dialog points at the audit log). And the
// warning when the next start is billed beyond the plan (IMPERSONATION_QUOTA=1 here).
import type { UserSummary } from '@actas/contracts/client'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, shallowRef } from 'vue'
import type { Router } from 'vue-router'
import { useImpersonationStore } from '../stores/impersonation'
import { routerAt, until, webStack } from '../../test/support/harness'
import type { LocalClerkAuth, WebStack } from '../../test/support/harness'
import ImpersonateDialog from './ImpersonateDialog.vue'

// The console's timeout in the late-Clerk test, and Clerk's delay there. The console tells the
// API to ask Clerk nothing past TIMEOUT_MS − 1 s: the API's own work before it asks Clerk (token
// check, audit reads, Clerk lookups) must fit in that under load, or the API refuses at once with
// its 503 (a start that never reached Clerk) instead of the case tested here. Clerk answers well
// after the console stopped waiting, and within the API's own Clerk timeout (CLERK_TIMEOUT_MS,
// 3 s by default: past it the API answers its own 503 before the console stops waiting). Inputs,
// not asserted timings.
const TIMEOUT_MS = 6000
const CLERK_LATENCY_MS = 2 * TIMEOUT_MS
const CLERK_TIMEOUT_MS = 4 * TIMEOUT_MS

let web: WebStack
let auth: LocalClerkAuth
let router: Router
let customers: UserSummary[]

beforeAll(async () => {
  web = await webStack({
    env: { IMPERSONATION_QUOTA: '1', CLERK_TIMEOUT_MS: String(CLERK_TIMEOUT_MS) },
  })
  const admin = await web.signedIn('admin')
  customers = (
    await web.api(admin).users.search.query({ query: 'gmail.com', limit: 10 })
  ).items.filter((u) => u.impersonation.allowed)
})
afterAll(() => web?.close())
afterEach(async () => {
  sessionStorage.clear()
  web.stack.clerk.faults.clear()
  await web.setApi('up')
  document.body.innerHTML = ''
})

async function open(user: UserSummary, timeoutMs?: number) {
  auth = await web.signedIn('admin')
  router = await routerAt('/users', { path: '/users', component: { render: () => h('p') } }, [
    '/',
    '/audit',
  ])
  const selected = shallowRef<UserSummary | null>(user)
  const wrapper = mount(
    defineComponent({
      setup: () => () =>
        h(ImpersonateDialog, { user: selected.value, onClose: () => (selected.value = null) }),
    }),
    {
      global: { plugins: [...web.plugins(auth, timeoutMs ? { timeoutMs } : {}), router] },
      attachTo: document.body,
    },
  )
  await until(() => (wrapper.find('dialog').element as HTMLDialogElement).open, 'the dialog')
  return wrapper
}

async function confirm(wrapper: Awaited<ReturnType<typeof open>>) {
  await wrapper.find('#impersonate-reason').setValue('Customer cannot see invoices')
  await wrapper.find('input[data-mode="read_only"]').setValue(true)
  await wrapper.find('form').trigger('submit')
  await until(
    () => ['done', 'failed'].includes(useImpersonationStore(web.pinia).phase),
    'the start to end',
  )
}

const rowsOf = async (userId: string) =>
  (await web.stack.deps.audit.list({ userId, limit: 5 })).rows

describe('Impersonate dialog: what happened to a start that did not go through', () => {
  it('Clerk answers after the console stopped waiting: "It did not start", and no usable ticket is left', async () => {
    const user = customers[0]!
    web.stack.clerk.faults.add({
      route: 'POST /v1/actor_tokens',
      latencyMs: CLERK_LATENCY_MS,
      times: 1,
    })
    const wrapper = await open(user, TIMEOUT_MS)
    await confirm(wrapper)
    const error = wrapper.find('[data-testid="impersonate-error"]')
    expect(error.text()).toContain('No answer')
    expect(wrapper.find('[data-testid="start-outcome"]').text()).toBe('It did not start.')
    expect(auth.user.value?.id).toBe(web.account('admin').userId)
    // Once Clerk answers, the API revokes the late ticket and records the start as failed.
    await vi.waitFor(
      async () => {
        expect(await rowsOf(user.id)).toMatchObject([{ status: 'failed' }])
      },
      { timeout: 30_000 },
    )
    const tokens = [...web.stack.clerk.state.actorTokens.values()].filter(
      (t) => t.userId === user.id,
    )
    expect(tokens.map((t) => t.status)).toEqual(['revoked'])
  }, 90_000)

  it('the API cannot be reached: "It may have started", with this user’s audit log', async () => {
    const user = customers[1]!
    const wrapper = await open(user)
    await web.setApi('stopped')
    await confirm(wrapper)
    const outcome = wrapper.find('[data-testid="start-outcome"]')
    expect(outcome.text()).toMatch(/^It may have started/)
    const link = outcome.find('a')
    expect(link.attributes('href')).toBe(
      `/audit?user=${encodeURIComponent(user.primaryEmail!).replace('%40', '@')}`,
    )
  })
})

describe('Impersonate dialog: the plan', () => {
  it('warns when the next start is billed beyond the plan, not before', async () => {
    const first = await open(customers[2]!)
    await until(() => useImpersonationStore(web.pinia).quota !== null, 'the quota')
    expect(first.find('[data-testid="quota-warning"]').exists()).toBe(false)
    await confirm(first)
    expect(useImpersonationStore(web.pinia).phase).toBe('done')
    first.unmount()
    document.body.innerHTML = ''

    const second = await open(customers[3]!)
    await until(() => second.find('[data-testid="quota-warning"]').exists(), 'the warning')
    expect(second.find('[data-testid="quota-warning"]').text()).toMatch(
      /This month's 1 impersonation included in the Clerk plan are used \(\d+ so far\): this one is billed beyond it\./,
    )
  })
})
