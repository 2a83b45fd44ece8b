// The audit page's log streams panel, against the real API with LOG_STREAMS set: a receiver (a
// real HTTP server on a free port) that is down shows the stream retrying, then failing, with
// its error and how far behind it is; once the receiver answers, the stream is active again
// with its last delivery.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { mount } from '@vue/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until, webStack } from '../../test/support/harness'
import type { WebStack } from '../../test/support/harness'
import LogStreams from './LogStreams.vue'

let web: WebStack
let receiver: Server
let up = false

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume()
    res.writeHead(up ? 200 : 503).end()
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const { port } = receiver.address() as { port: number }
  web = await webStack({
    env: {
      LOG_STREAMS: JSON.stringify([
        {
          id: 'siem',
          kind: 'splunk_hec',
          url: `http://127.0.0.1:${port}/services/collector/event`,
          token: 'hec-token-not-shown',
          pollMs: 50,
          retryBaseMs: 20,
          retryMaxMs: 100,
          failingAfter: 2,
        },
      ]),
    },
  })
  const admin = await web.stack.signIn('admin')
  await web.stack
    .client(() => admin.token())
    .impersonation.start.mutate({
      userId: web.stack.customers()[0]!.id,
      reason: 'Customer cannot see the invoices',
    })
}, 60_000)

afterAll(async () => {
  await web?.close()
  await new Promise((resolve) => receiver?.close(resolve))
})

describe('LogStreams', () => {
  it('shows a failing stream with its error and lag, then active with its last delivery', async () => {
    const auth = await web.signedIn('admin')
    const wrapper = mount(LogStreams, {
      props: { refreshMs: 100 },
      global: { plugins: web.plugins(auth) },
      attachTo: document.body,
    })
    const state = () => wrapper.find('[data-testid="stream-state"]')
    await until(() => state().exists() && state().text() === 'failing', 'a failing stream')
    const row = wrapper.find('tr[data-stream-id="siem"]')
    expect(row.text()).toContain('Splunk HEC')
    expect(row.text()).toContain('HTTP 503')
    expect(row.text()).toMatch(/[1-9]\d* events?/)
    expect(wrapper.find('[data-testid="stream-last-delivered"]').text()).toBe('never')
    expect(wrapper.text()).not.toContain('hec-token-not-shown')

    up = true
    await until(() => state().text() === 'active', 'the stream active again')
    await until(
      () => wrapper.find('[data-testid="stream-last-delivered"]').text() !== 'never',
      'a last delivery',
    )
    expect(wrapper.find('tr[data-stream-id="siem"]').text()).toContain('0 events')
    wrapper.unmount()
  })
})
