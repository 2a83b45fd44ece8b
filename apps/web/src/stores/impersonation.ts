// Impersonation: start (API → ticket → Clerk sign-in → active session), the monthly quota,
// and the audit log with revoke. The ticket lives only in a local variable of start().
import type {
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
import { safeRedirectPath } from '../lib/safe-redirect'

export interface StartRequest {
  user: UserSummary
  reason: string
  ticketUrl?: string
  sessionMinutes: number
}

export type StartPhase = 'idle' | 'requesting' | 'signing-in' | 'done' | 'failed'

export interface AuditFilters {
  actorId: string
  userId: string
  status: ImpersonationStatus | ''
}

export const useImpersonationStore = defineStore('impersonation', () => {
  const api = useApi()
  const auth = useAuth()
  const timeoutMs = useRequestTimeout()

  const phase = ref<StartPhase>('idle')
  const startError = ref<PlainError | null>(null)

  const quota = shallowRef<QuotaOutput | null>(null)
  const quotaError = ref<PlainError | null>(null)

  const records = shallowRef<ImpersonationRecord[]>([])
  const next = ref<string | null>(null)
  const listLoading = ref(false)
  const listError = ref<PlainError | null>(null)
  const revoking = ref<string | null>(null)
  const revokeError = ref<PlainError | null>(null)

  function reset(): void {
    phase.value = 'idle'
    startError.value = null
  }

  /**
   * Starts impersonating `request.user`: returns the same-origin path to go to, or null when it
   * failed (see `startError`).
   */
  async function start(request: StartRequest): Promise<string | null> {
    phase.value = 'requesting'
    startError.value = null
    try {
      const started = await api.impersonation.start.mutate({
        userId: request.user.id,
        reason: request.reason.trim(),
        ...(request.ticketUrl?.trim() ? { ticketUrl: request.ticketUrl.trim() } : {}),
        sessionMinutes: request.sessionMinutes,
      })
      phase.value = 'signing-in'
      await withDeadline(
        auth.signInWithTicket(started.ticket),
        timeoutMs,
        () =>
          new AuthError(
            'unavailable',
            'Clerk did not answer in time, so the impersonation did not start. Try again.',
          ),
      )
      phase.value = 'done'
      return safeRedirectPath(started.redirectPath)
    } catch (error) {
      phase.value = 'failed'
      startError.value = describeError(error)
      void loadQuota()
      return null
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

  async function loadLog(filters: AuditFilters, more = false): Promise<void> {
    listLoading.value = true
    listError.value = null
    try {
      const page = await api.impersonation.list.query({
        ...(filters.actorId.trim() ? { actorId: filters.actorId.trim() } : {}),
        ...(filters.userId.trim() ? { userId: filters.userId.trim() } : {}),
        ...(filters.status ? { status: filters.status } : {}),
        ...(more && next.value ? { cursor: next.value } : {}),
        limit: 50,
      })
      records.value = more ? [...records.value, ...page.items] : page.items
      next.value = page.next
    } catch (error) {
      listError.value = describeError(error)
      if (!more) records.value = []
    } finally {
      listLoading.value = false
    }
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
    quota,
    quotaError,
    records,
    next,
    listLoading,
    listError,
    revoking,
    revokeError,
    reset,
    start,
    loadQuota,
    loadLog,
    revoke,
  }
})
