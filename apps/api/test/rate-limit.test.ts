// Per-actor rate limits with the default settings: impersonation.start 5/min, users.search 120/min.
import { describe, expect, it } from 'vitest'
import { actasCode, callRaw } from './support/stack.js'
import { useAdminStack } from './support/use-admin-stack.js'

const file = useAdminStack({ limits: 'default' })

describe('rate limits', () => {
  it('lets an actor start 5 impersonations a minute, then answers 429 with Retry-After', async () => {
    const token = await file.admin.token()
    // Attempts on a banned user: refused by policy, but they count.
    const attempt = () =>
      callRaw(file.stack.app, 'impersonation.start', {
        type: 'mutation',
        token,
        input: {
          userId: file.stack.account('banned').userId,
          reason: 'Rate limit probe, five a minute',
        },
      })
    for (let i = 0; i < 5; i++) expect(actasCode(await attempt())).toBe('POLICY_DENIED')
    const limited = await attempt()
    expect({ status: limited.status, code: actasCode(limited) }).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
    })
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Other procedures are counted separately.
    expect(
      (await callRaw(file.stack.app, 'impersonation.list', { type: 'query', token, input: {} }))
        .status,
    ).toBe(200)
  })

  it('lets an actor search 120 times a minute, then answers 429', async () => {
    const token = await file.admin.token()
    const search = () =>
      callRaw(file.stack.app, 'users.search', { type: 'query', token, input: { limit: 1 } })
    for (let i = 0; i < 120; i++) expect((await search()).status).toBe(200)
    const limited = await search()
    expect({ status: limited.status, code: actasCode(limited) }).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
    })
    expect(limited.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/))
  })
})
