import { describe, expect, it } from 'vitest'
import { matchingPhone, normalizeSearchQuery } from './phone-query.js'

describe('normalizeSearchQuery', () => {
  it.each([
    // [typed, default country, what Clerk is asked]
    ['33654616717', 'FR', '33654616717'],
    ['+33654616717', 'US', '33654616717'],
    ['+33 6 54 61 67 17', 'US', '33654616717'],
    ['+33-6-54-61-67-17', 'US', '33654616717'],
    ['+33.6.54.61.67.17', 'US', '33654616717'],
    ['0033 6 54 61 67 17', 'US', '33654616717'],
    ['06 54 61 67 17', 'FR', '33654616717'],
    ['06.54.61.67.17', 'FR', '33654616717'],
    ['06 54 61', 'FR', '3365461'],
    ['(650) 253-0000', 'US', '6502530000'],
    ['+1 (650) 253-0000', 'FR', '16502530000'],
    ['07911 123456', 'GB', '447911123456'],
    ['654 616 717', 'US', '654616717'],
  ] as const)('%s (default %s) asks Clerk for %s', (typed, country, expected) => {
    expect(normalizeSearchQuery(typed, country)).toEqual({
      query: expected,
      phoneDigits: expected,
    })
  })

  it.each(['ada@support.actas.test', 'Ada Lovelace', 'user_2abc', 'crm_123', '12', '+1', '--'])(
    'leaves %s alone (not a phone number)',
    (typed) => {
      expect(normalizeSearchQuery(typed, 'US')).toEqual({ query: typed, phoneDigits: null })
    },
  )

  it('treats an empty or blank box as no query', () => {
    expect(normalizeSearchQuery('  ', 'US')).toEqual({ query: undefined, phoneDigits: null })
    expect(normalizeSearchQuery(undefined, 'US')).toEqual({ query: undefined, phoneDigits: null })
  })
})

describe('matchingPhone', () => {
  it('shows the phone that matched, formatted for people, or nothing', () => {
    const phones = ['+15550100666', '+33654616717']
    expect(matchingPhone(phones, '3365461')).toBe('+33 6 54 61 67 17')
    expect(matchingPhone(phones, '999')).toBeNull()
    expect(matchingPhone([], '336')).toBeNull()
  })
})
