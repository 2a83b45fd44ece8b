// Plain records as the API returns them, for the pure wording functions' tests (src/lib/*-words):
// one signed-in-or-issued impersonation of bella@ by ada@ on 2026-11-29, and its events.
import type {
  ImpersonationEvent,
  ImpersonationGetOutput,
  ImpersonationRecord,
} from '@actas/contracts/client'

export function impersonationRecord(over: Partial<ImpersonationRecord> = {}): ImpersonationRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    actor: { id: 'user_ada', email: 'ada@support.test' },
    user: { id: 'user_bella', email: 'bella@example.com' },
    reason: 'Customer reports missing invoices',
    ticketUrl: null,
    mode: 'full',
    status: 'issued',
    outcomeCode: null,
    outcomeMessage: null,
    clerkActorTokenId: 'act_1',
    sessionMinutes: 30,
    expiresAt: '2026-11-29T12:10:00Z',
    sessionExpiresAt: '2026-11-29T12:40:00Z',
    clerkSessionId: null,
    signedInAt: null,
    endedAt: null,
    endCause: null,
    endedBy: null,
    endReason: null,
    attempts: 1,
    createdAt: '2026-11-29T11:59:00Z',
    updatedAt: '2026-11-29T11:59:00Z',
    requestId: null,
    ip: null,
    userAgent: null,
    ...over,
  }
}

export function impersonationEvent(over: Partial<ImpersonationEvent> = {}): ImpersonationEvent {
  return {
    seq: 1,
    type: 'requested',
    cause: null,
    by: null,
    reason: null,
    clerkSessionId: null,
    data: {},
    at: '2026-11-29T11:59:00Z',
    prevHash: '0',
    hash: '1',
    ...over,
  }
}

/** `impersonation.get`'s answer: the record (signed in by default) with its events and actions. */
export function impersonationGot(
  over: Partial<ImpersonationGetOutput> = {},
): ImpersonationGetOutput {
  return {
    ...impersonationRecord({
      status: 'signed_in',
      clerkSessionId: 'sess_1',
      signedInAt: '2026-11-29T12:00:00Z',
    }),
    events: [impersonationEvent()],
    actions: [],
    actionsTotal: 0,
    ...over,
  }
}
