import { describe, expect, it } from 'vitest'
import { safeRedirectPath } from './safe-redirect'

const origin = 'https://console.example.com'

describe('safeRedirectPath', () => {
  it('keeps same-origin paths with their query and hash', () => {
    expect(safeRedirectPath('/', origin)).toBe('/')
    expect(safeRedirectPath('/users?q=ada&page=2#top', origin)).toBe('/users?q=ada&page=2#top')
  })

  it.each([
    'https://evil.example/',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    'users',
    '/\t/evil.example',
    '',
    null,
    42,
  ])('refuses %j and falls back', (candidate) => {
    expect(safeRedirectPath(candidate, origin, '/home')).toBe('/home')
  })
})
