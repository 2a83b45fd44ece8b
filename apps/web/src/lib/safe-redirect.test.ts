import { describe, expect, it } from 'vitest'
import { safeLandingUrl, safeRedirectPath } from './safe-redirect'

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

describe('safeLandingUrl', () => {
  it("takes the host application's http(s) URL (the API checked it against APP_ORIGINS)", () => {
    expect(safeLandingUrl('http://127.0.0.1:5180/', origin)).toBe('http://127.0.0.1:5180/')
    expect(safeLandingUrl('https://app.example.com/orders?x=1', origin)).toBe(
      'https://app.example.com/orders?x=1',
    )
  })

  it.each([
    'javascript:alert(1)',
    'data:text/html,hi',
    'https://user:pw@app.example.com/',
    `${origin}/users`, // the console itself: its redirectPath is used instead
    '/orders',
    null,
    undefined,
  ])('refuses %j', (candidate) => {
    expect(safeLandingUrl(candidate, origin)).toBeNull()
  })
})
