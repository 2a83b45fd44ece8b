// Impersonation: start (API → ticket → Clerk sign-in → active session), the monthly quota,
// and the audit log with revoke. The ticket lives only in a local variable of start().
import type {
  ImpersonationMode,
  ImpersonationRecord,
  ImpersonationStartOutput,
  ImpersonationStatus,
  QuotaOutput,
  UserSummary,
} from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AuthError, useAuth } from '../auth/types'
import { ApiError, useApi, useRequestTimeout } from '../lib/api'
import { clientLike } from '../lib/api-like'
import { withDeadline } from '../lib/deadline'
import { describeError } from '../lib/errors'
import type { PlainError } from '../lib/errors'
import { clearReturn, createReturnSecret, saveReturn } from '../lib/return-to-console'
import { safeLandingUrl, safeRedirectPath } from '../lib/safe-redirect'
import { useStepUpStore } from '../lib/step-up'
import { useSessionStore } from './session'

export interface StartRequest {
  user: UserSummary
  reason: string
  ticketUrl?: string
  sessionMinutes: number
  /** The users page to come back to after Stop, with its search (`/users?q=…`). */
  returnTo?: string
  /** Absent: the API's default for this user. */
  mode?: ImpersonationMode
}

export type StartPhase = 'idle' | 'requesting' | 'signing-in' | 'done' | 'failed'

/** The audit log filters as the API takes them (ids resolved, dates as instants). */
export interface AuditFilters {
  actorId?: string
  userId?: string
  status?: ImpersonationStatus
  from?: string
  to?: string
}

export const useImpersonationStore = defineStore('impersonation', () => {
  const api = useApi()
  /**
   * For the sign-in report, which must outlive a navigation away (to the customer application's
   * origin): `keepalive` requests are delivered after the page is gone.
   */
  const reporter =
    clientLike(api, {
      fetch: (input, init) => globalThis.fetch(input, { ...init, keepalive: true }),
    }) ?? api
  const auth = useAuth()
  const timeoutMs = useRequestTimeout()
  const session = useSessionStore()
  const stepUp = useStepUpStore()

  const phase = ref<StartPhase>('idle')
  const startError = ref<PlainError | null>(null)
  /** The impersonation the last start created (issued), if any. */
  const lastImpersonationId = ref<string | null>(null)

  const quota = shallowRef<QuotaOutput | null>(null)
  const quotaError = ref<PlainError | null>(null)

  const records = shallowRef<ImpersonationRecord[]>([])
  const next = ref<string | null>(null)
  const total = ref<number | null>(null)
  const listLoading = ref(false)
  const listError = ref<PlainError | null>(null)
  const revoking = ref<string | null>(null)
  const revokeError = ref<PlainError | null>(null)

  /**
   * After a failed start: whether it started. `not_started`: no ticket exists (the API refused,
   * asked Clerk nothing past the console's deadline, or the ticket was revoked). `unknown`: the
   * request may have reached the API and its answer was lost (the audit log says).
   */
  const startOutcome = ref<'not_started' | 'unknown' | null>(null)
  /** The ticket sign-in failed on the network: Try again signs in with the same ticket. */
  const canRetrySignIn = ref(false)
  /** That sign-in again; its ticket lives only in this closure (memory, never stored). */
  let pendingSignIn: { retry: () => Promise<string | null>; abandon: () => void } | null = null

  function reset(): void {
    // A ticket kept for Try again and not used: recorded as failed (and revoked) now.
    pendingSignIn?.abandon()
    pendingSignIn = null
    canRetrySignIn.value = false
    phase.value = 'idle'
    startError.value = null
    startOutcome.value = null
  }

  /** The instant the API must not ask Clerk past: before this tab stops waiting for it. */
  function deadline(): string {
    const margin = Math.min(1000, Math.floor(timeoutMs / 4))
    return new Date(Date.now() + timeoutMs - margin).toISOString()
  }

  /**
   * Starts impersonating `request.user`: returns where to go (a same-origin path, or the host
   * application's URL carrying the session; see `leaveTo`), or null when it failed (see
   * `startError` and `startOutcome`).
   */
  async function start(request: StartRequest): Promise<string | null> {
    reset()
    phase.value = 'requesting'
    lastImpersonationId.value = null
    let started
    let secret: string
    try {
      // The way back: the secret stays in this tab, the API gets its hash.
      const created = await createReturnSecret()
      secret = created.secret
      // A stale password: the reverify dialog, then the same start again (no second click).
      started = await stepUp.run(() =>
        api.impersonation.start.mutate({
          userId: request.user.id,
          reason: request.reason.trim(),
          ...(request.ticketUrl?.trim() ? { ticketUrl: request.ticketUrl.trim() } : {}),
          sessionMinutes: request.sessionMinutes,
          ...(request.mode ? { mode: request.mode } : {}),
          returnSecretHash: created.hash,
          deadline: deadline(),
        }),
      )
    } catch (error) {
      phase.value = 'failed'
      startError.value = describeError(error)
      // Only a lost answer leaves it open: a timeout came after the deadline the API keeps, and
      // any answer of the API's is an answer.
      startOutcome.value =
        error instanceof ApiError && error.info.transport === 'network' ? 'unknown' : 'not_started'
      void loadQuota()
      return null
    }
    const impersonationId = started.impersonationId
    lastImpersonationId.value = impersonationId
    saveReturn({
      impersonationId,
      secret,
      returnTo: safeRedirectPath(request.returnTo, window.location.origin, '/users'),
      userName: request.user.fullName ?? request.user.primaryEmail ?? request.user.id,
    })
    return signInWith(started.ticket, impersonationId, started)
  }

  /** The ticket sign-in of a start (again, after a network failure: `retrySignIn`). */
  async function signInWith(
    ticket: string,
    impersonationId: string,
    started: Pick<ImpersonationStartOutput, 'landingUrl' | 'redirectPath'>,
  ): Promise<string | null> {
    phase.value = 'signing-in'
    startError.value = null
    startOutcome.value = null
    canRetrySignIn.value = false
    pendingSignIn = null
    session.switching = true
    try {
      await withDeadline(
        auth.signInWithTicket(ticket),
        timeoutMs,
        () =>
          new AuthError(
            'unavailable',
            'Clerk did not answer in time, so the impersonation did not start. Try again.',
          ),
      )
      // Not awaited: navigation does not wait for the report (keepalive: delivered even when the
      // tab leaves for another origin; webhooks and the reconciler record the sign-in anyway).
      void reportSignedIn()
      phase.value = 'done'
      // The host application when the API names it (APP_ORIGINS), with the session carried
      // across origins; the return secret stays in this tab's sessionStorage on this origin.
      const landing = safeLandingUrl(started.landingUrl)
      if (landing) return auth.buildUrlWithAuth(landing)
      return safeRedirectPath(started.redirectPath)
    } catch (error) {
      session.switching = false
      phase.value = 'failed'
      startError.value = describeError(error)
      startOutcome.value = 'not_started'
      if (error instanceof AuthError && error.kind === 'network') {
        // The ticket did not get through: Try again uses it (no second ticket, no second bill).
        canRetrySignIn.value = true
        pendingSignIn = {
          retry: () => signInWith(ticket, impersonationId, started),
          abandon: () => {
            clearReturn()
            void reportSignInFailed(impersonationId, error)
          },
        }
        return null
      }
      clearReturn()
      // A ticket that did not become a session is recorded as failed (and revoked).
      void reportSignInFailed(impersonationId, error)
      void loadQuota()
      return null
    }
  }

  /** Try again after a network failure of the ticket sign-in: the same ticket. */
  function retrySignIn(): Promise<string | null> {
    const pending = pendingSignIn
    return pending ? pending.retry() : Promise.resolve(null)
  }

  /**
   * Tells the API the ticket became this session (`impersonation.signedIn` with the new
   * session's token, which the API verifies). Best effort, not awaited: Clerk's webhooks and the
   * reconciler record the sign-in anyway.
   */
  async function reportSignedIn(): Promise<void> {
    try {
      const sessionToken = await auth.getToken()
      if (sessionToken) await reporter.impersonation.signedIn.mutate({ sessionToken })
    } catch {
      // recorded by the webhook or the reconciler instead
    }
  }

  /** Records a failed ticket sign-in in the audit log (the dialog shows the error). */
  async function reportSignInFailed(impersonationId: string, error: unknown): Promise<void> {
    const code =
      error instanceof AuthError ? error.kind : error instanceof Error ? 'sign_in_error' : 'unknown'
    try {
      await api.impersonation.signInFailed.mutate({ impersonationId, code })
    } catch {
      // The reconciler settles the ticket (expired unused) when the report does not arrive.
    }
  }

  async function loadQuota(): Promise<void> {
    try {
      quota.value = await api.quota.query()
      quotaError.value = null
    } catch (error) {
      quotaError.value = describeError(error)
    }
  }

  let listSeq = 0
  /** Loads the first page for `filters`, or (`more`) the next page of the current ones. */
  async function loadLog(filters: AuditFilters, more = false): Promise<void> {
    const mine = ++listSeq
    listLoading.value = true
    listError.value = null
    try {
      const page = await api.impersonation.list.query({
        ...filters,
        ...(more && next.value ? { cursor: next.value } : {}),
        limit: 50,
      })
      if (mine !== listSeq) return
      records.value = more ? [...records.value, ...page.items] : page.items
      next.value = page.next
      total.value = page.total
    } catch (error) {
      if (mine !== listSeq) return
      listError.value = describeError(error)
      if (!more) {
        records.value = []
        total.value = null
      }
    } finally {
      if (mine === listSeq) listLoading.value = false
    }
  }

  /** Forgets the log and its messages (a fresh visit of the audit page shows no old banner). */
  function resetLog(): void {
    listSeq++
    records.value = []
    next.value = null
    total.value = null
    listLoading.value = false
    listError.value = null
    revoking.value = null
    revokeError.value = null
  }

  async function revoke(impersonationId: string): Promise<void> {
    revoking.value = impersonationId
    revokeError.value = null
    try {
      const updated = await api.impersonation.revoke.mutate({ impersonationId })
      records.value = records.value.map((r) => (r.id === updated.id ? updated : r))
    } catch (error) {
      revokeError.value = describeError(error)
    } finally {
      revoking.value = null
    }
  }

  return {
    phase,
    startError,
    startOutcome,
    canRetrySignIn,
    retrySignIn,
    lastImpersonationId,
    quota,
    quotaError,
    records,
    next,
    total,
    listLoading,
    listError,
    revoking,
    revokeError,
    reset,
    start,
    loadQuota,
    loadLog,
    resetLog,
    revoke,
  }
})
