// Who I am: the Clerk session (through the auth adapter), my permission and the actor (from
// the API's `me`, the authority: who started an impersonation and until when, from the audit
// log, the same in every tab), and the staff identifier to pre-fill after Stop.
import type { MeOutput } from '@actas/contracts/client'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import { AuthError, useAuth } from '../auth/types'
import { useApi, useRequestTimeout } from '../lib/api'
import { withDeadline } from '../lib/deadline'
import { describeError } from '../lib/errors'
import type { PlainError } from '../lib/errors'

/** A one-time message for the page Stop (or an end elsewhere) leads to (stores/acting.ts). */
export interface Notice {
  tone: 'success' | 'info' | 'warning'
  text: string
  /** The page that shows it: the users page after a return, else the sign-in page. */
  page: 'users' | 'sign-in'
}

export const useSessionStore = defineStore('session', () => {
  const auth = useAuth()
  const api = useApi()
  const timeoutMs = useRequestTimeout()

  const me = shallowRef<MeOutput | null>(null)
  const meError = ref<PlainError | null>(null)
  /** The session `me` was loaded for; another session means loading it again. */
  let meSessionId: string | null = null
  let meRequest: Promise<MeOutput | null> | null = null
  /** Filled in on the sign-in screen after Stop. */
  const prefillIdentifier = ref('')
  /** Shown once on the users or sign-in page (components/ActingNotice.vue). */
  const notice = shallowRef<Notice | null>(null)
  /**
   * True while Clerk switches this tab's session on purpose with a ticket (the impersonation's at
   * start, the staff member's on the way back): the old session is briefly gone before the new
   * one is active, which is not a sign-out (App.vue does not send the tab to sign-in). Cleared
   * once a session is active again.
   */
  const switching = ref(false)
  /**
   * Another console tab of this browser acts as this customer (composables/use-other-tabs.ts):
   * this tab's staff session ends with it, so it says so instead of going to sign-in.
   */
  const actingElsewhere = ref<string | null>(null)

  const isLoaded = auth.isLoaded
  const loadFailed = auth.loadFailed
  const user = auth.user
  const signedIn = computed(() => auth.session.value !== null)
  const sessionId = computed(() => auth.session.value?.id ?? null)
  const actor = computed(() => auth.session.value?.actor ?? null)
  /** When the current session began. */
  const sessionCreatedAt = computed(() => auth.session.value?.createdAt ?? null)
  watch(sessionId, (id) => {
    if (id && switching.value) switching.value = false // the new session is active
  })
  const meIsCurrent = computed(() => me.value !== null && me.value.sessionId === sessionId.value)
  /** The API's actor of the current session (null until `me` is loaded for it). */
  const meActor = computed(() => (meIsCurrent.value ? me.value!.actor : null))
  /**
   * The staff member who started the impersonation, as people know them: the audited email once
   * `me` answered (null before, and when the audit log has no email: never a raw user id).
   */
  const startedBy = computed(() => meActor.value?.email ?? null)
  /**
   * When the session ends: the earlier of Clerk's session expiry and the audit log's latest end
   * of the impersonation (`me().actor.sessionExpiresAt`), whichever are known.
   */
  const sessionExpiresAt = computed(() => {
    const clerk = auth.session.value?.expireAt ?? null
    const audited = meActor.value?.sessionExpiresAt
    const audit = audited ? new Date(audited) : null
    if (clerk && audit) return clerk.getTime() <= audit.getTime() ? clerk : audit
    return clerk ?? audit
  })
  /** Staff: the API says this session may impersonate (and it is not itself impersonated). */
  const canImpersonate = computed(
    () =>
      meIsCurrent.value &&
      me.value!.canImpersonate &&
      me.value!.actor === null &&
      actor.value === null,
  )
  const organizationSlug = computed(() =>
    meIsCurrent.value ? (me.value!.organization?.slug ?? null) : null,
  )

  /** Loads `me` for the current session (once per session; `force` reloads). */
  async function loadMe(force = false): Promise<MeOutput | null> {
    const current = sessionId.value
    if (!current) {
      me.value = null
      return null
    }
    if (!force && meSessionId === current && me.value) return me.value
    if (!force && meSessionId === current && meRequest) return meRequest
    meSessionId = current
    meError.value = null
    const request = api.me
      .query()
      .then((result) => {
        if (meSessionId === current) me.value = result
        return result
      })
      .catch((error: unknown) => {
        if (meSessionId === current) {
          meError.value = describeError(error)
          me.value = null
        }
        return null
      })
      .finally(() => {
        if (meRequest === request) meRequest = null
      })
    meRequest = request
    return request
  }

  /** Signs in; gives up (AuthError 'unavailable') when Clerk does not answer in time. */
  async function signIn(identifier: string, password: string): Promise<void> {
    await withDeadline(
      auth.signInWithPassword(identifier.trim(), password),
      timeoutMs,
      () =>
        new AuthError(
          'unavailable',
          'Clerk did not answer in time, so you are not signed in. Check your connection, then try again.',
        ),
    )
    prefillIdentifier.value = ''
    await loadMe(true)
  }

  /** Ends the impersonated session and returns to sign-in with the staff identifier filled in. */
  async function stopImpersonating(): Promise<void> {
    prefillIdentifier.value = meActor.value?.email ?? ''
    me.value = null
    meSessionId = null
    await signOutWithin()
  }

  function signOutWithin(): Promise<void> {
    return withDeadline(
      auth.signOut('/sign-in'),
      timeoutMs,
      () => new AuthError('unavailable', 'Clerk did not answer in time. Try again.'),
    )
  }

  /** Forgets `shown` once its page closes (a newer notice stays for its own page). */
  function noticeSeen(shown: Notice): void {
    if (notice.value === shown) notice.value = null
  }

  async function signOut(): Promise<void> {
    prefillIdentifier.value = user.value?.primaryEmail ?? ''
    me.value = null
    meSessionId = null
    await signOutWithin()
  }

  return {
    isLoaded,
    loadFailed,
    user,
    signedIn,
    sessionId,
    actor,
    startedBy,
    sessionExpiresAt,
    sessionCreatedAt,
    me,
    meError,
    canImpersonate,
    organizationSlug,
    prefillIdentifier,
    notice,
    switching,
    actingElsewhere,
    noticeSeen,
    loadMe,
    signIn,
    signOut,
    stopImpersonating,
  }
})
