// <ActAsBanner>: who is really acting, why, in which mode, until when, and Stop. Reads the
// session token's `act` claim; asks the host application's guarded `statusUrl` whether ActAs
// still lets the impersonation live (every `intervalMs` while the tab is visible, at once on
// focus) and says so when ActAs ended it. Renders nothing for a session that is not an
// impersonation. A render function and a CSS string, no SFC: the same component is the Vue
// export and, through `defineCustomElement`, the `<actas-banner>` element.
import { computed, defineComponent, h, onBeforeUnmount, onMounted, ref, shallowRef } from 'vue'
import type { PropType } from 'vue'
import { readSessionToken } from './act.js'
import type { SessionClaims } from './act.js'
import { followEnds } from './ended-stream.js'
import type { EndedNews } from './ended-stream.js'
import { consoleReturnUrl } from './return.js'
import { clerkSession } from './session.js'
import type { HostSession } from './session.js'
import { askStatus } from './status.js'
import { formatRemaining, modeLabel } from './words.js'

/** How often a visible tab asks whether the impersonation still lives (default). */
export const STATUS_INTERVAL_MS = 1_000

export const bannerCss = `
.actas-banner{box-sizing:border-box;width:100%;background:#5c2d00;color:#fff;font:14px/1.45 system-ui,sans-serif;padding:8px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:6px 16px}
.actas-banner--ended{background:#7a0b16}
.actas-banner__text{margin:0;flex:1 1 16rem;min-width:0;overflow-wrap:anywhere}
.actas-banner__meta{display:block;color:#fde8cf}
.actas-banner__stop{flex:none;display:inline-block;background:#fff;color:#3d1e00;border-radius:6px;padding:6px 14px;font-weight:600;text-decoration:none}
.actas-banner__stop:focus-visible{outline:3px solid #ffd08a;outline-offset:2px}
`

let injected = false
/** The Vue export puts its CSS in the document once (the custom element uses its shadow root). */
function injectCss(): void {
  if (injected || typeof document === 'undefined') return
  injected = true
  const style = document.createElement('style')
  style.dataset['actasBanner'] = ''
  style.textContent = bannerCss
  document.head.append(style)
}

export const bannerProps = {
  /** The ActAs console's origin (e.g. `https://support.example.com`): where Stop leads. */
  consoleUrl: { type: String, required: true as const },
  /** The host application's guarded route the banner asks (see README). */
  statusUrl: { type: String, default: '/actas/session' },
  intervalMs: { type: Number, default: STATUS_INTERVAL_MS },
  /**
   * ActAs's push of ends (`<ActAs API origin>/v1/sessions/ended`): the end arrives in
   * milliseconds; the poll stays the backstop. Unset: the poll alone.
   */
  endsUrl: { type: String, default: undefined },
  /** Where the session comes from; default: clerk-js (`window.Clerk`). */
  session: { type: Object as PropType<HostSession>, default: undefined },
}

function createBanner(options: { injectCss: boolean }) {
  return defineComponent({
    name: 'ActAsBanner',
    props: bannerProps,
    emits: { ended: (_impersonationId: string | null) => true },
    setup(props, { emit }) {
      const source = (): HostSession => props.session ?? clerkSession()
      const claims = shallowRef<SessionClaims | null>(null)
      const state = ref<'live' | 'ended'>('live')
      const actorEmail = ref<string | null>(null)
      const userName = ref<string | null>(null)
      const expireAt = shallowRef<Date | null>(null)
      const now = ref(Date.now())
      /** Who ended it and why, when the push told. */
      const news = shallowRef<EndedNews | null>(null)
      const following = new AbortController()
      let lastToken: string | null = null
      let asking = false

      const actor = computed(() => claims.value?.actor ?? null)

      function end(): void {
        if (state.value === 'ended') return
        state.value = 'ended'
        stopTimers()
        following.abort()
        emit('ended', actor.value?.impersonationId ?? null)
      }

      /** Reads the token and asks the status route once (coalesced). */
      async function refresh(): Promise<void> {
        if (asking || state.value === 'ended') return
        asking = true
        try {
          const session = source()
          let token: string | null = null
          try {
            token = await session.getToken()
          } catch {
            token = null
          }
          const read = readSessionToken(token)
          if (read) {
            claims.value = read
            lastToken = token
            userName.value = session.userName() ?? userName.value
            expireAt.value = session.expireAt() ?? expireAt.value
          }
          if (!actor.value) return // not an impersonation (and never was in this page)
          startFollowing()
          // No token now: ask with the last one (still valid for its minute) to learn why.
          const answer = await askStatus({ statusUrl: props.statusUrl, token: token ?? lastToken })
          if (answer.state === 'live') actorEmail.value = answer.actorEmail ?? actorEmail.value
          else if (answer.state === 'ended' || answer.state === 'signed-out') end()
          else if (read && !read.actor) end() // the session changed to one without an actor
        } finally {
          asking = false
        }
      }

      let followingStarted = false
      /** Once the session is known to be an impersonation: follow ActAs's push of its end. */
      function startFollowing(): void {
        if (followingStarted || !props.endsUrl) return
        followingStarted = true
        void followEnds({
          url: props.endsUrl,
          getToken: async () =>
            (await source()
              .getToken()
              .catch(() => null)) ?? lastToken,
          onEnded: (told) => {
            news.value = told
            end()
          },
          signal: following.signal,
        })
      }

      let poll: ReturnType<typeof setInterval> | null = null
      let tick: ReturnType<typeof setInterval> | null = null
      const visible = () => typeof document === 'undefined' || document.visibilityState !== 'hidden'
      const onVisibility = () => {
        if (visible()) void refresh()
      }
      const onFocus = () => void refresh()
      function stopTimers(): void {
        if (poll) clearInterval(poll)
        if (tick) clearInterval(tick)
        poll = tick = null
        document.removeEventListener('visibilitychange', onVisibility)
        window.removeEventListener('focus', onFocus)
      }
      onMounted(() => {
        if (options.injectCss) injectCss()
        poll = setInterval(() => {
          if (visible()) void refresh()
        }, props.intervalMs)
        tick = setInterval(() => (now.value = Date.now()), 1_000)
        document.addEventListener('visibilitychange', onVisibility)
        window.addEventListener('focus', onFocus)
        void refresh()
      })
      onBeforeUnmount(() => {
        stopTimers()
        following.abort()
      })

      /** ` (ended by sam@…: wrong customer)` when the push told who. */
      function endedBy(): string {
        const told = news.value
        if (!told?.endedBy) return ''
        const by = told.endedBy.email ?? told.endedBy.id
        return ` (ended by ${by}${told.reason ? `: ${told.reason}` : ''})`
      }

      return () => {
        const a = actor.value
        if (!a) return null
        const who = actorEmail.value ?? `Support (${a.sub})`
        const customer = userName.value ?? 'this customer'
        const back = consoleReturnUrl(props.consoleUrl, a.impersonationId)
        if (state.value === 'ended')
          return h('div', { class: 'actas-banner actas-banner--ended', role: 'alert' }, [
            h(
              'p',
              { class: 'actas-banner__text' },
              `ActAs ended this impersonation${endedBy()}: ${who} is no longer acting as ${customer}, and this application refuses the session.`,
            ),
            h('a', { class: 'actas-banner__stop', href: back }, 'Back to the console'),
          ])
        const remaining = expireAt.value ? expireAt.value.getTime() - now.value : null
        return h('div', { class: 'actas-banner', role: 'region', 'aria-label': 'Impersonation' }, [
          h('p', { class: 'actas-banner__text' }, [
            h('strong', `${who} is acting as ${customer}`),
            // Its own line: at any width it starts with the mode, never with a separator.
            h('span', { class: 'actas-banner__meta' }, [
              modeLabel(a.mode),
              a.reason ? ` · Reason: ${a.reason}` : '',
              remaining !== null ? ` · Ends in ${formatRemaining(remaining)}` : '',
            ]),
          ]),
          h('a', { class: 'actas-banner__stop', href: back }, 'Stop'),
        ])
      }
    },
  })
}

/** The Vue component (its CSS goes into the document once). */
export const ActAsBanner = createBanner({ injectCss: true })
/** The same, for `defineCustomElement` (its CSS goes into the shadow root). */
export const ActAsBannerForElement = createBanner({ injectCss: false })
