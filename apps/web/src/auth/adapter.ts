// The one place that touches @clerk/vue's composables. Call createClerkAuth() inside the app's
// injection context (app.runWithContext) after installing the plugin (auth/install.ts).
import { useAuth as useClerkAuth, useClerk, useSession, useSignIn, useUser } from '@clerk/vue'
import { computed, ref, watch } from 'vue'
import { networkAuthError, toAuthError } from './errors'
import type { Auth, AuthActor, AuthSession, AuthUser } from './types'
import { AuthError } from './types'
import { parseActorClaim } from '@actas/contracts/facts'

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** The `act` claim of a session (Clerk's `session.actor`) as the console reads it. */
export const toActor: (act: unknown) => AuthActor | null = parseActorClaim

export function createClerkAuth(loadTimeoutMs: number): Auth {
  const clerk = useClerk()
  const { isLoaded } = useClerkAuth()
  const { user: clerkUser } = useUser()
  const { session: clerkSession } = useSession()
  const { signIn, setActive } = useSignIn()

  const user = computed<AuthUser | null>(() => {
    const u = clerkUser.value
    if (!u) return null
    return {
      id: u.id,
      fullName:
        str(u.fullName) ?? (str([u.firstName, u.lastName].filter(Boolean).join(' ')) || null),
      primaryEmail: u.primaryEmailAddress?.emailAddress ?? null,
      username: u.username ?? null,
      imageUrl: u.hasImage ? u.imageUrl : null,
      createdAt: u.createdAt ?? null,
      lastSignInAt: u.lastSignInAt ?? null,
      organizations: (u.organizationMemberships ?? []).map((m) => m.organization.name),
    }
  })

  const session = computed<AuthSession | null>(() => {
    const s = clerkSession.value
    if (!s) return null
    return {
      id: s.id,
      expireAt: s.expireAt ?? null,
      createdAt: s.createdAt ?? null,
      actor: toActor(s.actor),
    }
  })

  // @clerk/vue logs a failed load and leaves isLoaded false: past the timeout the console says
  // Clerk is unavailable — until clerk-js loads after all (a Frontend API that was only slow or
  // frozen a moment), which clears it by itself.
  const timedOut = ref(false)
  setTimeout(() => (timedOut.value = true), loadTimeoutMs)
  const loadFailed = computed(() => timedOut.value && !isLoaded.value)

  const whenLoaded = () =>
    isLoaded.value
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const stop = watch([isLoaded, loadFailed], ([loaded, failed]) => {
            if (!loaded && !failed) return
            stop()
            if (loaded) resolve()
            else
              reject(
                new AuthError(
                  'unavailable',
                  'Clerk could not be loaded. Reload the page to try again.',
                ),
              )
          })
        })

  /** A sign-in that did not complete. Offline, clerk-js answers one with no session instead of
   * an error: that is a network failure, not a step this console lacks. */
  const incomplete = () =>
    navigator.onLine
      ? new AuthError('incomplete', 'Sign-in needs a step this console does not support.')
      : networkAuthError()

  async function activate(createdSessionId: string | null) {
    if (!createdSessionId) throw incomplete()
    await setActive.value!({ session: createdSessionId })
  }

  return {
    isLoaded,
    loadFailed,
    user,
    session,
    whenLoaded,
    async signInWithPassword(identifier, password) {
      await whenLoaded()
      try {
        const attempt = await signIn.value!.create({ strategy: 'password', identifier, password })
        if (attempt.status !== 'complete') throw incomplete()
        await activate(attempt.createdSessionId)
      } catch (error) {
        throw toAuthError(error)
      }
    },
    async signInWithTicket(ticket) {
      await whenLoaded()
      try {
        const attempt = await signIn.value!.create({ strategy: 'ticket', ticket })
        await activate(attempt.createdSessionId)
      } catch (error) {
        throw toAuthError(error)
      }
    },
    async reverifyWithPassword(password) {
      await whenLoaded()
      const s = clerk.value?.session
      if (!s) throw new AuthError('incomplete', 'You are signed out. Sign in again.')
      try {
        await s.startVerification({ level: 'first_factor' })
        const verification = await s.attemptFirstFactorVerification({
          strategy: 'password',
          password,
        })
        if (verification.status !== 'complete')
          throw new AuthError(
            'incomplete',
            'Confirming it is you needs a step this console does not support.',
          )
        // The cached token still carries the old `fva`: the next API call needs a fresh one.
        await s.getToken({ skipCache: true })
      } catch (error) {
        throw toAuthError(error)
      }
    },
    async signOut(redirectTo) {
      await whenLoaded()
      await clerk.value!.signOut({ redirectUrl: redirectTo })
    },
    async getToken() {
      await whenLoaded()
      const s = clerk.value?.session
      return s ? await s.getToken() : null
    },
    buildUrlWithAuth(url) {
      return clerk.value ? clerk.value.buildUrlWithAuth(url) : url
    },
  }
}
