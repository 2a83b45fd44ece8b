import type { LocalRequest, Router } from '../http.js'
import type { Session } from '../model.js'
import { verifyPassword } from '../state.js'
import { isResponse, str, type ClientScope, type FapiScope } from './context.js'
import { fapiErrors } from './errors.js'
import { sessionReverificationJson } from './serialize.js'

/** Reverification (step-up): `session.startVerification`, `attemptFirstFactorVerification`. */
export function verificationRoutes(router: Router, h: FapiScope): void {
  const { state, store, withScope, wrapped, serializeOptions, activeSessionOf, refuseUser } = h

  const reverified = (req: LocalRequest, s: ClientScope, session: Session) =>
    wrapped(
      req,
      s,
      sessionReverificationJson(
        store,
        session,
        store.reverifications.get(session.id)!,
        serializeOptions(req, s),
      ),
    )

  router.add(
    'POST',
    '/v1/client/sessions/:sid/verify',
    withScope((req, s) => {
      const session = activeSessionOf(s, req.params.sid)
      if (isResponse(session)) return session
      const level = str(req.body, 'level')
      if (!level) return fapiErrors.paramMissing('level')
      if (level !== 'first_factor' && level !== 'second_factor' && level !== 'multi_factor')
        return fapiErrors.paramInvalid(
          'level',
          'level must be first_factor, second_factor or multi_factor.',
        )
      // Users here have no second factor: every level is met by the first factor (password).
      store.reverifications.set(session.id, {
        level,
        status: 'needs_first_factor',
        firstFactor: null,
      })
      return reverified(req, s, session)
    }),
  )

  router.add(
    'POST',
    '/v1/client/sessions/:sid/verify/prepare_first_factor',
    withScope((req, s) => {
      const session = activeSessionOf(s, req.params.sid)
      if (isResponse(session)) return session
      if (!store.reverifications.has(session.id)) return fapiErrors.reverificationMissing()
      const strategy = str(req.body, 'strategy')
      if (!strategy) return fapiErrors.paramMissing('strategy')
      // A password needs no preparation; the other strategies are not enabled here.
      if (strategy !== 'password') return fapiErrors.strategyNotAllowed(strategy)
      return reverified(req, s, session)
    }),
  )

  router.add(
    'POST',
    '/v1/client/sessions/:sid/verify/attempt_first_factor',
    withScope((req, s) => {
      const session = activeSessionOf(s, req.params.sid)
      if (isResponse(session)) return session
      const reverification = store.reverifications.get(session.id)
      if (!reverification) return fapiErrors.reverificationMissing()
      const strategy = str(req.body, 'strategy')
      if (!strategy) return fapiErrors.paramMissing('strategy')
      if (strategy !== 'password') return fapiErrors.strategyNotAllowed(strategy)
      const password = str(req.body, 'password')
      if (!password) return fapiErrors.paramMissing('password')
      const refused = refuseUser(session.userId)
      if (refused) return refused
      reverification.firstFactor ??= { status: 'unverified', attempts: 0 }
      reverification.firstFactor.attempts++
      const user = state.users.get(session.userId)!
      if (!verifyPassword(user.passwordDigest, password)) return fapiErrors.passwordIncorrect()
      reverification.firstFactor.status = 'verified'
      reverification.status = 'complete'
      // The first factor was verified now: the next token's fva[0] is 0.
      session.firstFactorVerifiedAt = state.now()
      store.recordActivity(session)
      return reverified(req, s, session)
    }),
  )
}
