import { createPublicKey, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSigningKey, signJwt } from './jwt.js'

describe('session JWT signing', () => {
  const key = createSigningKey()

  it('uses an RSA-2048 key with e=65537, which @clerk/backend requires for jwtKey', () => {
    const pub = createPublicKey(key.publicKeyPem)
    expect(pub.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n })
    // @clerk/backend strips this fixed SPKI prefix instead of parsing the PEM.
    expect(key.publicKeyPem.replace(/-----[^-]+-----|\s/g, '')).toMatch(
      /^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA.*IDAQAB$/,
    )
  })

  it('signs RS256 tokens that verify with the public key and carry the claims', () => {
    const jwt = signJwt(key, { sub: 'user_1', sid: 'sess_1' })
    const [h, p, s] = jwt.split('.') as [string, string, string]
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: key.kid,
    })
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({
      sub: 'user_1',
      sid: 'sess_1',
    })
    expect(
      verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key.publicKeyPem, Buffer.from(s, 'base64url')),
    ).toBe(true)
    const tampered = Buffer.from(JSON.stringify({ sub: 'user_2', sid: 'sess_1' })).toString(
      'base64url',
    )
    expect(
      verify(
        'RSA-SHA256',
        Buffer.from(`${h}.${tampered}`),
        key.publicKeyPem,
        Buffer.from(s, 'base64url'),
      ),
    ).toBe(false)
  })

  it('keeps the key id stable for a given private key, so JWKS lookups by kid work', () => {
    const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    expect(createSigningKey(pem).kid).toBe(key.kid)
    expect(createSigningKey(pem).jwk).toEqual(key.jwk)
  })
})
