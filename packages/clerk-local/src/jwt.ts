import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto'

// RS256 with an RSA-2048 key and e=65537: @clerk/backend's PEM path (`jwtKey`) strips a hard-coded
// RSA-2048 SPKI prefix instead of parsing ASN.1, so any other size fails with token-invalid-signature.

export interface JsonWebKey {
  kty: 'RSA'
  kid: string
  use: 'sig'
  alg: 'RS256'
  n: string
  e: string
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicKeyPem: string
  jwk: JsonWebKey
}

export function createSigningKey(privateKeyPem?: string): SigningKey {
  const privateKey = privateKeyPem
    ? createPrivateKey(privateKeyPem)
    : generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 }).privateKey
  const publicKey = createPublicKey(privateKey)
  const exported = publicKey.export({ format: 'jwk' })
  if (exported.kty !== 'RSA' || !exported.n || !exported.e) throw new Error('expected an RSA key')
  const kid = `ins_local_${exported.n.slice(0, 16)}`
  return {
    kid,
    privateKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: exported.n, e: exported.e },
  }
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')

export function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }))
  const payload = b64url(JSON.stringify(claims))
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key.privateKey)
  return `${header}.${payload}.${b64url(signature)}`
}
