// Impersonation: start (API → ticket → Clerk sign-in → active session), the monthly quota,
// and the audit log with revoke. The ticket lives only in a local variable of start().
import type {
  ImpersonationMode,
  ImpersonationRecord,
  ImpersonationStatus,
  QuotaOutput,
  UserSummary,
} from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AuthError, useAuth } from '../auth/types'
import { useApi, useRequestTimeout } from '../lib/api'
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

  function reset(): void {
    phase.value = 'idle'
    startError.value = null
  }

  /**
   * Starts impersonating `request.user`: returns where to go (a same-origin path, or the host
   * application's URL carrying the session; see `leaveTo`), or null when it failed (see
   * `startError`).
   */
  async function start(request: StartRequest): Promise<string | null> {
    phase.value = 'requesting'
    startError.value = null
    lastImpersonationId.value = null
    let impersonationId: string | null = null
    try {
      // The way back: the secret stays in this tab, the API gets its hash.
      const { secret, hash } = await createReturnSecret()
      // A stale password: the reverify dialog, then the same start again (no second click).
      const started = await stepUp.run(() =>
        api.impersonation.start.mutate({
          userId: request.user.id,
          reason: request.reason.trim(),
          ...(request.ticketUrl?.trim() ? { ticketUrl: request.ticketUrl.trim() } : {}),
          sessionMinutes: request.sessionMinutes,
          ...(request.mode ? { mode: request.mode } : {}),
          returnSecretHash: hash,
        }),
      )
      impersonationId = started.impersonationId
      lastImpersonationId.value = impersonationId
      saveReturn({
        impersonationId,
        secret,
        returnTo: safeRedirectPath(request.returnTo, window.location.origin, '/users'),
        userName: request.user.fullName ?? request.user.primaryEmail ?? request.user.id,
      })
      phase.value = 'signing-in'
      session.switching = true
      await withDeadline(
        auth.signInWithTicket(started.ticket),
        timeoutMs,
        () =>
          new AuthError(
            'unavailable',
            'Clerk did not answer in time, so the impersonation did not start. Try again.',
          ),
      )
      await reportSignedIn()
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
      clearReturn()
      // A ticket that did not become a session is recorded as failed (and revoked).
      if (impersonationId) void reportSignInFailed(impersonationId, error)
      void loadQuota()
      return null
    }
  }

  /**
   * Tells the API the ticket became this session (`impersonation.signedIn` with the new
   * session's token, which the API verifies). Best effort: Clerk's webhooks and the reconciler
   * record the sign-in anyway.
   */
  async function reportSignedIn(): Promise<void> {
    try {
      const sessionToken = await auth.getToken()
      if (sessionToken) await api.impersonation.signedIn.mutate({ sessionToken })
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
