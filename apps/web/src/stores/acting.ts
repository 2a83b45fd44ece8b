// The impersonated tab's side of an impersonation: learning that it was ended elsewhere (kill
// switch, policy, time limit, Stop in another tab), Stop with the way back to the console, and
// the notice the staff member sees once back.
//
// How the tab learns of an end: while a session has an actor and the tab is visible, it asks the
// API (`me`) every WATCH_INTERVAL_MS; when the tab becomes visible again or gets focus it asks at
// once; nothing runs while it is hidden. Once ActAs ended the impersonation, every API call of
// its session is refused (401) with `impersonationEnded`: who ended it (by email), why, when.
// When Clerk stops giving the session tokens first (clerk-js then drops the session), the tab asks
// once more with the last token it sent (still valid for the rest of its ≤ 60 s), so the sign-in
// page can still say how it ended.
import type { ImpersonationEnded } from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import { AuthError, useAuth } from '../auth/types'
import { ApiError, lastTokenClient, useApi, useRequestTimeout } from '../lib/api'
import { withDeadline } from '../lib/deadline'
import { endedSentence, formatDuration, returnRefusedSentence } from '../lib/return-words'
import { clearReturn, readReturn } from '../lib/return-to-console'
import { useSessionStore } from './session'

/** How often a visible impersonated tab asks whether its impersonation still lives. */
export const WATCH_INTERVAL_MS = 2_000

export type { Notice } from './session'

/** Where Stop (or the way back after an end) leads. */
export type StopOutcome =
  { to: 'console'; path: string } | { to: 'sign-in' } | { to: 'stay'; error: string }

export const useActingStore = defineStore('acting', () => {
  const api = useApi()
  const auth = useAuth()
  const session = useSessionStore()
  const timeoutMs = useRequestTimeout()

  /** How the current session's impersonation ended, once the API said so. */
  const ended = shallowRef<ImpersonationEnded | null>(null)
  const stopping = ref(false)

  const endedForThisSession = computed(() => {
    const current = session.actor?.impersonationId ?? null
    return ended.value && current && ended.value.impersonationId === current ? ended.value : null
  })
  const endedText = computed(() =>
    endedForThisSession.value ? endedSentence(endedForThisSession.value) : null,
  )

  /** Whom this tab acts (or last acted) as, kept past the end of the session. */
  let lastName: string | null = null
  watch(
    () => (session.actor ? (session.user?.fullName ?? session.user?.primaryEmail ?? null) : null),
    (name) => {
      if (name) lastName = name
    },
    { immediate: true },
  )

  function actingAsName(): string {
    const kept = readReturn(session.actor?.impersonationId)
    return kept?.userName ?? lastName ?? 'this user'
  }

  /** The impersonation this tab's own Stop ended: its notice is Stop's, not "ended elsewhere". */
  let stoppedHere: string | null = null

  /** The API refused this session because its impersonation ended: remember how. */
  function learnEnd(info: ImpersonationEnded): void {
    if (ended.value?.impersonationId === info.impersonationId) return
    // A `me` of the end watch answered after this tab's Stop ended it (the watch runs on a timer,
    // so one may be under way during Stop): Stop already said what happened.
    if (info.impersonationId === stoppedHere) return
    const name = actingAsName()
    ended.value = info
    // The way back without a password needs a live impersonation: the secret is useless now.
    clearReturn()
    // If Clerk drops the session before the staff member acts, the sign-in page says why.
    session.notice = {
      tone: 'warning',
      text: `${endedSentence(info)}. You are no longer acting as ${name}. Sign in to return to the console.`,
      page: 'sign-in',
    }
  }

  function endedIn(error: unknown): ImpersonationEnded | null {
    return error instanceof ApiError ? (error.info.impersonationEnded ?? null) : null
  }

  /** Asks with the last token sent, when Clerk no longer gives this session one. */
  async function askWithLastToken(): Promise<ImpersonationEnded | null> {
    const fallback = lastTokenClient(api)
    if (!fallback) return null
    return fallback.me.query().then(() => null, endedIn)
  }

  let checking: Promise<void> | null = null
  /** Asks the API once whether this impersonation still lives (coalesced). */
  function check(): Promise<void> {
    if (!session.actor || endedForThisSession.value) return Promise.resolve()
    checking ??= api.me
      .query()
      .then(
        () => undefined,
        async (error: unknown) => {
          let info = endedIn(error)
          // No token (Clerk refused to mint one for a revoked session), or none sent.
          const noToken =
            error instanceof ApiError &&
            (error.info.httpStatus === null || error.info.code === 'UNAUTHENTICATED')
          if (!info && noToken) info = await askWithLastToken()
          if (info) learnEnd(info)
        },
      )
      .finally(() => {
        checking = null
      })
    return checking
  }

  // Clerk dropped the impersonated session (e.g. clerk-js could not refresh its token) before
  // this tab learnt why: ask once with the last token, for the sign-in page's notice.
  watch(
    () => session.actor?.impersonationId ?? null,
    (current, before) => {
      if (!before || current || stopping.value || ended.value?.impersonationId === before) return
      void askWithLastToken().then((info) => {
        if (info && info.impersonationId === before) learnEnd(info)
      })
    },
  )

  let timer: ReturnType<typeof setInterval> | null = null
  let watchers = 0
  const visible = () => typeof document === 'undefined' || document.visibilityState !== 'hidden'
  const onVisibility = () => {
    if (visible()) void check()
  }
  const onFocus = () => void check()

  /** Starts watching (every WATCH_INTERVAL_MS while visible, and on focus); returns the stop. */
  function watchEnd(): () => void {
    watchers++
    if (watchers === 1) {
      timer = setInterval(() => {
        if (visible()) void check()
      }, WATCH_INTERVAL_MS)
      document.addEventListener('visibilitychange', onVisibility)
      window.addEventListener('focus', onFocus)
      void check()
    }
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      watchers--
      if (watchers > 0) return
      if (timer) clearInterval(timer)
      timer = null
      document.removeEventListener('visibilitychange', onVisibility)
      window.removeEventListener('focus', onFocus)
    }
  }

  /** Leaves the ended (or stopped) session for the sign-in page, the staff email filled in. */
  async function toSignIn(text: string, staffEmail: string | null = null): Promise<StopOutcome> {
    session.notice = { tone: 'info', text, page: 'sign-in' }
    try {
      await session.stopImpersonating()
    } catch {
      // Clerk already revoked the session; the sign-in page still takes over.
    }
    if (staffEmail && !session.prefillIdentifier) session.prefillIdentifier = staffEmail
    return { to: 'sign-in' }
  }

  /**
   * The banner's Stop: ends the impersonation (`impersonation.stop`, with this tab's return
   * secret when it has one) and, when the API hands back a sign-in ticket for the staff member,
   * signs in with it and leads back to the users page and its search, with a notice. Otherwise
   * to the sign-in page, saying why.
   */
  async function stop(): Promise<StopOutcome> {
    if (stopping.value) return { to: 'stay', error: '' }
    const after = endedForThisSession.value
    if (after) return toSignIn(`${endedSentence(after)}. Sign in to return to the console.`)
    stopping.value = true
    const kept = readReturn(session.actor?.impersonationId)
    const name = kept?.userName ?? actingAsName()
    try {
      let out
      try {
        out = await api.impersonation.stop.mutate(kept ? { returnSecret: kept.secret } : {})
      } catch (error) {
        const info = endedIn(error)
        if (info) {
          learnEnd(info)
          return await toSignIn(`${endedSentence(info)}. Sign in to return to the console.`)
        }
        // No answer: nothing ended, the secret is kept for another try.
        return { to: 'stay', error: 'Could not stop the impersonation. Try again.' }
      }
      stoppedHere = out.impersonation.id
      // Single use: sent once, whatever the answer.
      clearReturn()
      const record = out.impersonation
      const lasted =
        record.signedInAt && record.endedAt
          ? ` after ${formatDuration(Date.parse(record.endedAt) - Date.parse(record.signedInAt))}`
          : ''
      const stopped = `Stopped acting as ${name}${lasted}`
      if (out.returnTicket && kept) {
        session.switching = true
        try {
          await withDeadline(
            auth.signInWithTicket(out.returnTicket),
            timeoutMs,
            () => new AuthError('unavailable', 'Clerk did not answer in time.'),
          )
          session.notice = { tone: 'success', text: stopped, page: 'users' }
          await session.loadMe(true)
          return { to: 'console', path: kept.returnTo }
        } catch {
          session.switching = false
          return await toSignIn(
            `${stopped}. Clerk could not sign you back in just now. Sign in again to return to the console.`,
            record.actor.email,
          )
        }
      }
      return await toSignIn(
        `${stopped}. ${returnRefusedSentence(out.returnRefused)}`,
        record.actor.email,
      )
    } finally {
      stopping.value = false
    }
  }

  return {
    ended,
    endedForThisSession,
    endedText,
    stopping,

    check,
    watchEnd,
    stop,
  }
})
