import { clerkError, type LocalResponse } from '../http.js'

// The Backend API's error bodies, with Clerk's codes. Handlers throw `BapiError`; the router
// wrapper turns it into the `{"errors":[...]}` envelope.

export class BapiError extends Error {
  constructor(readonly response: LocalResponse) {
    super(`BAPI error ${response.status}`)
  }
}

export const invalidParam = (param: string, longMessage: string): BapiError =>
  new BapiError(
    clerkError(422, 'form_param_value_invalid', 'is invalid', longMessage, { param_name: param }),
  )

export const missingParam = (param: string): BapiError =>
  new BapiError(
    clerkError(
      422,
      'form_param_missing',
      'missing required parameter',
      `${param} must be included.`,
      { param_name: param },
    ),
  )

export const unknownParam = (param: string): BapiError =>
  new BapiError(
    clerkError(
      422,
      'form_param_unknown',
      'is unknown',
      `${param} is not a valid parameter for this request.`,
      { param_name: param },
    ),
  )

export const notFound = (longMessage = 'Resource not found'): BapiError =>
  new BapiError(clerkError(404, 'resource_not_found', 'not found', longMessage))

export const unauthenticated = (): LocalResponse =>
  clerkError(
    401,
    'authentication_invalid',
    'Invalid authentication',
    'Unable to authenticate the request, you need to supply an active API key',
  )
