// Console tabs of one browser share one Clerk client: when one tab signs in with an
// impersonation ticket, the staff session of every other tab ends (single-session mode), and they
// notice at their next token refresh. So the acting tab tells the others (a BroadcastChannel):
// they say "You are acting as X in another tab" instead of dropping to the sign-in page, and once
// that tab is back (Stop, or its impersonation ended or the tab closed), they load again by
// themselves: signed in as the staff member after Stop's return, else on the sign-in page.
import { onScopeDispose, watch } from 'vue'
import { useSessionStore } from '../stores/session'

const CHANNEL = 'actas.console.tabs'

export type TabMessage =
  /** This tab now acts as `userName`. */
  | { type: 'acting'; userName: string }
  /** This tab no longer acts (stopped, ended, or closing). */
  | { type: 'back' }

/** Installs the tab messages for this tab's lifetime (App.vue). */
export function useOtherTabs(reload: () => void = () => window.location.reload()): void {
  if (typeof BroadcastChannel === 'undefined') return
  const session = useSessionStore()
  const channel = new BroadcastChannel(CHANNEL)
  const post = (message: TabMessage) => channel.postMessage(message)

  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    // A tab that acts itself follows its own session (its banner says how it ends).
    if (session.actor) return
    if (event.data.type === 'acting') session.actingElsewhere = event.data.userName
    else if (event.data.type === 'back' && session.actingElsewhere !== null) reload()
  }

  const actingAs = () =>
    session.actor ? (session.user?.fullName ?? session.user?.primaryEmail ?? 'a customer') : null
  // Back once no longer acting and no session switch is under way (Stop's return: the staff
  // session is active by then, so the other tabs load signed in).
  let acting = false
  watch(
    () => [actingAs(), session.switching] as const,
    ([name, switching]) => {
      if (name) {
        acting = true
        post({ type: 'acting', userName: name })
      } else if (acting && !switching) {
        acting = false
        post({ type: 'back' })
      }
    },
  )
  const onPageHide = () => {
    if (session.actor) post({ type: 'back' })
  }
  window.addEventListener('pagehide', onPageHide)
  onScopeDispose(() => {
    window.removeEventListener('pagehide', onPageHide)
    channel.close()
  })
}
