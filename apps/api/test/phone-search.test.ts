// Phone search through the whole stack (real SDKs, local Clerk server): a number typed with
// spaces, dashes, dots, parentheses, `00` or in national format finds the same user as the bare
// digits, and the row shows the phone that matched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack } from './support/stack.js'
import type { SignedIn, Stack } from './support/stack.js'

let stack: Stack
let admin: SignedIn
let userId: string

beforeAll(async () => {
  stack = await startStack({
    env: { DEFAULT_PHONE_COUNTRY: 'FR', RATE_LIMIT_SEARCH_PER_MINUTE: '1000' },
  })
  // A customer whose (only) phone is the French mobile 06 54 61 67 17.
  const user = stack.customers()[0]!
  user.phoneNumbers = [{ id: 'idn_phone_search_test', phoneNumber: '+33654616717' }]
  user.primaryPhoneNumberId = 'idn_phone_search_test'
  stack.clerk.state.userChanged(user)
  userId = user.id
  admin = await stack.signIn('admin')
}, 60_000)

afterAll(async () => {
  await stack?.close()
})

describe('users.search by phone', () => {
  it('finds the same user whichever way the number is typed', async () => {
    const api = stack.client(() => admin.token())
    const bare = await api.users.search.query({ query: '33654616717' })
    expect(bare.items.map((i) => i.id)).toEqual([userId])
    for (const typed of [
      '+33654616717',
      '+33 6 54 61 67 17',
      '+33-6-54-61-67-17',
      '+33.6.54.61.67.17',
      '+33 (6) 54 61 67 17',
      '0033 6 54 61 67 17',
      '06 54 61 67 17',
      '06-54-61-67-17',
      '06.54.61.67.17',
      '(06) 54 61 67 17',
      '654616717',
    ]) {
      const found = await api.users.search.query({ query: typed })
      expect(
        found.items.map((i) => i.id),
        typed,
      ).toEqual([userId])
      expect(found.total, typed).toBe(1)
      expect(found.items[0]!.matchedPhone, typed).toBe('+33 6 54 61 67 17')
    }
  })

  it('finds a partly typed national number too', async () => {
    const api = stack.client(() => admin.token())
    const found = await api.users.search.query({ query: '06 54 61 67', limit: 100 })
    expect(found.items.map((i) => i.id)).toContain(userId)
    expect(found.items.find((i) => i.id === userId)?.matchedPhone).toBe('+33 6 54 61 67 17')
  })

  it('shows no phone when the row matched by something else', async () => {
    const api = stack.client(() => admin.token())
    const user = stack.clerk.state.users.get(userId)!
    const found = await api.users.search.query({ query: user.emailAddresses[0]!.emailAddress })
    expect(found.items.map((i) => i.id)).toEqual([userId])
    expect(found.items[0]!.matchedPhone).toBeUndefined()
  })
})
