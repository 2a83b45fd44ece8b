import { Router } from '../http.js'
import type { SigningKey } from '../jwt.js'
import type { ClerkState } from '../state.js'

export interface FapiContext {
  state: ClerkState
  signingKey: SigningKey
  /** `iss` of session JWTs: `https://<frontend API host from the publishable key>`. */
  issuer: string
}

/** The Frontend API routes, relative to the FAPI mount point (e.g. `/v1/client`). */
export function createFapiRouter(_ctx: FapiContext): Router {
  return new Router()
}
