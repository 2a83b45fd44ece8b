// Access requests, the staff side: the caller's own requests by user (their state, polled while
// a row or dialog shows them), and for approvers the requests waiting for a staff decision (the
// Requests page and the count in the nav). Decisions go through step-up (the API asks for a
// recent password at the moment of deciding).
import type { AccessRecord, ImpersonationMode } from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { useApi } from '../lib/api'
import { useStepUpStore } from '../lib/step-up'

export const useAccessStore = defineStore('access', () => {
  const api = useApi()
  const stepUp = useStepUpStore()
  /** The caller's latest request per user id. */
  const mine = shallowRef<ReadonlyMap<string, AccessRecord>>(new Map())
  /** Pending requests the caller may decide (approvers). */
  const toDecide = shallowRef<AccessRecord[]>([])
  const toDecideCount = ref(0)
  const mayApprove = ref(false)

  function remember(record: AccessRecord) {
    const next = new Map(mine.value)
    next.set(record.user.id, record)
    mine.value = next
  }

  /** The caller's latest request for `userId` (its state, live). */
  async function refreshFor(userId: string): Promise<AccessRecord | null> {
    const out = await api.access.list.query({ view: 'mine', userId, limit: 1 })
    const latest = out.items[0] ?? null
    if (latest) remember(latest)
    mayApprove.value = out.mayApprove
    toDecideCount.value = out.toDecide
    return latest
  }

  async function request(input: {
    userId: string
    reason: string
    mode: ImpersonationMode
    minutes: number
  }): Promise<AccessRecord> {
    const record = await api.access.request.mutate(input)
    remember(record)
    return record
  }

  /** The approvers' list and count (the nav's badge). */
  async function refreshToDecide(): Promise<void> {
    const out = await api.access.list.query({ view: 'to_decide', limit: 50 })
    toDecide.value = out.items
    toDecideCount.value = out.toDecide
    mayApprove.value = out.mayApprove
  }

  async function decide(
    accessId: string,
    decision: 'approve' | 'deny',
    reason?: string,
  ): Promise<AccessRecord> {
    const record = await stepUp.run(() =>
      api.access.decide.mutate({ accessId, decision, ...(reason ? { reason } : {}) }),
    )
    toDecide.value = toDecide.value.filter((r) => r.id !== accessId)
    toDecideCount.value = Math.max(0, toDecideCount.value - 1)
    return record
  }

  return {
    mine,
    toDecide,
    toDecideCount,
    mayApprove,
    refreshFor,
    request,
    refreshToDecide,
    decide,
  }
})
