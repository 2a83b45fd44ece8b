import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { fakeAuth, harness, settle, stubNetwork } from '../testing/harness'
import type { StubNetwork } from '../testing/harness'
import AuditView from './AuditView.vue'

const future = new Date(Date.now() + 5 * 60_000).toISOString()
const past = new Date(Date.now() - 60_000).toISOString()

function record(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    actor: { id: 'user_ada', email: 'ada@support.actas.test' },
    user: { id: 'user_jane', email: 'jane@example.com' },
    reason: `Reason ${id}`,
    ticketUrl: null,
    status: 'issued',
    outcomeCode: null,
    outcomeMessage: null,
    clerkActorTokenId: 'act_1',
    sessionMinutes: 30,
    expiresAt: future,
    sessionExpiresAt: future,
    createdAt: past,
    updatedAt: past,
    requestId: null,
    ip: null,
    userAgent: null,
    ...overrides,
  }
}

const ID_OPEN = '00000000-0000-4000-8000-00000000000a'
const ID_EXPIRED = '00000000-0000-4000-8000-00000000000b'
const ID_DENIED = '00000000-0000-4000-8000-00000000000c'

let network: StubNetwork

beforeEach(() => {
  network = stubNetwork({
    'impersonation.list': () => ({
      data: {
        items: [
          record(ID_OPEN),
          record(ID_EXPIRED, { expiresAt: past }),
          record(ID_DENIED, {
            status: 'denied',
            outcomeMessage: 'Banned users cannot be impersonated.',
          }),
        ],
        next: null,
      },
    }),
    'impersonation.revoke': (input) => ({
      data: record((input as { impersonationId: string }).impersonationId, { status: 'revoked' }),
    }),
  })
})

async function mountView() {
  const wrapper = mount(AuditView, { global: { plugins: harness(fakeAuth(), network) } })
  await settle()
  return wrapper
}

describe('AuditView', () => {
  it('lists impersonations with actor, user, reason and outcome', async () => {
    const wrapper = await mountView()
    const rows = wrapper.findAll('tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.text()).toContain('ada@support.actas.test')
    expect(rows[0]!.text()).toContain('jane@example.com')
    expect(rows[0]!.text()).toContain(`Reason ${ID_OPEN}`)
    expect(rows[2]!.text()).toContain('Banned users cannot be impersonated.')
  })

  it('offers Revoke only for issued tickets that have not expired, and shows the new status', async () => {
    const wrapper = await mountView()
    const revokeButtons = () => wrapper.findAll('button').filter((b) => b.text() === 'Revoke')
    expect(revokeButtons()).toHaveLength(1)
    await revokeButtons()[0]!.trigger('click')
    await settle()
    expect(network.calls.find((c) => c.path === 'impersonation.revoke')?.input).toEqual({
      impersonationId: ID_OPEN,
    })
    expect(wrapper.findAll('tbody tr')[0]!.text()).toContain('revoked')
    expect(revokeButtons()).toHaveLength(0)
  })

  it('sends the actor, user and status filters to the API', async () => {
    const wrapper = await mountView()
    await wrapper.find('#filter-actor').setValue(' user_ada ')
    await wrapper.find('#filter-user').setValue('user_jane')
    await wrapper.find('#filter-status').setValue('denied')
    await settle()
    const lists = network.calls.filter((c) => c.path === 'impersonation.list')
    expect(lists.at(-1)?.input).toEqual({
      actorId: 'user_ada',
      userId: 'user_jane',
      status: 'denied',
      limit: 50,
    })
  })

  it('explains a refused revoke in plain words', async () => {
    network.handle('impersonation.revoke', () => ({
      error: { code: 'TICKET_ALREADY_USED', httpStatus: 409, message: 'used' },
    }))
    const wrapper = await mountView()
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Revoke')!
      .trigger('click')
    await settle()
    expect(wrapper.find('[role="alert"]').text()).toContain('Ticket already used')
  })
})
