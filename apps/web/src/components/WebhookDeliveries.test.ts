// The audit page's outbox of webhooks to the host application, against the real API: an
// endpoint (a real HTTP server on a free port) that refuses every message until the test lets
// it accept, one attempt before a dead letter, and a staff member's Retry from the component.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import { mount } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import WebhookDeliveries from './WebhookDeliveries.vue'

let web: WebStack
let endpoint: Server
let accepting = false
const received: string[] = []
let impersonationId = ''

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    req.resume()
    if (accepting) received.push(String(req.headers['webhook-id']))
    res.writeHead(accepting ? 204 : 503).end()
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  const { port } = endpoint.address() as { port: number }
  web = await webStack({
    env: {
      WEBHOOK_ENDPOINTS: JSON.stringify([
        {
          url: `http://127.0.0.1:${port}/hooks/actas?token=not-shown`,
          secret: `whsec_${randomBytes(32).toString('base64')}`,
        },
      ]),
      WEBHOOK_MAX_ATTEMPTS: '1',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    },
  })
  const admin = await web.stack.signIn('admin')
  const api = web.stack.client(() => admin.token())
  impersonationId = (
    await api.impersonation.start.mutate({
      userId: web.stack.customers()[0]!.id,
      reason: 'Customer cannot see the invoices',
    })
  ).impersonationId
  // The started message fails once and is dead-lettered.
  for (let i = 0; ; i++) {
    const { items } = await api.webhooks.deliveries.query({ status: 'dead' })
    if (items.length > 0) break
    if (i > 400) throw new Error('no dead letter came')
    await new Promise((r) => setTimeout(r, 25))
  }
}, 60_000)

afterAll(async () => {
  await web?.close()
  await new Promise((resolve) => endpoint?.close(resolve))
})
afterEach(() => {
  document.body.innerHTML = ''
})

async function mountDeliveries() {
  const auth = await web.signedIn('admin')
  const wrapper = mount(WebhookDeliveries, {
    global: { plugins: web.plugins(auth) },
    attachTo: document.body,
  })
  await until(() => wrapper.find('[data-testid="webhook-deliveries"]').exists(), 'the outbox')
  return wrapper
}

describe('WebhookDeliveries', () => {
  it('shows a dead letter with its error, without the query string, and a staff Retry delivers it', async () => {
    let wrapper = await mountDeliveries()
    await until(() => wrapper.find('tbody tr').exists(), 'the dead letter')
    const row = wrapper.find('tbody tr')
    expect(row.text()).toContain('started')
    expect(row.text()).toContain(impersonationId.slice(0, 8))
    expect(row.text()).toContain('dead letter')
    expect(row.text()).toContain('HTTP 503')
    expect(row.text()).toMatch(/\/hooks\/actas/)
    expect(wrapper.text()).not.toContain('not-shown')

    accepting = true
    await wrapper.find('button[aria-label^="Retry the started message"]').trigger('click')
    await until(() => received.length === 1, 'the delivery')
    await until(() => wrapper.find('[data-testid="webhook-empty"]').exists(), 'an empty dead list')
    expect(wrapper.find('[data-testid="webhook-empty"]').text()).toMatch(/No dead letters/)

    // Delivered, under the Delivered filter.
    wrapper.unmount()
    wrapper = await mountDeliveries()
    await wrapper.find('#webhook-status').setValue('delivered')
    await until(() => wrapper.find('tbody tr').exists(), 'the delivered row')
    expect(wrapper.find('tbody tr').text()).toContain('delivered')
    expect(wrapper.find('tbody tr button').exists()).toBe(false)
  })
})
