// <ActAsCustomerAccess>: the customer's side of ActAs access requests, for a page of the host
// application where the customer is signed in (the host's Clerk session): support's pending
// requests to act as them (approve, deny), the access they granted (revoke), a form to let
// support in unasked ("24 h, read-only"), and who acted as them (when, how long, why, which mode,
// how many actions). It calls ActAs's `customer.*` procedures with the session token; ActAs lets
// a user see and decide only for themselves, and never an impersonated session. A render
// function and a CSS string, no SFC: the Vue export, and `<actas-customer-access>` through
// `defineCustomElement` (customer-access-element.ts).
import { createActAsClient, getActAsError } from '@actas/contracts/client'
import type { AccessRecord, ActAsClient, CustomerHistoryItem } from '@actas/contracts/client'
import type { ImpersonationMode } from '@actas/contracts/facts'
import { defineComponent, h, nextTick, onBeforeUnmount, onMounted, ref, shallowRef } from 'vue'
import type { PropType } from 'vue'
import { clerkSession } from './session.js'
import type { HostSession } from './session.js'
import { modeLabel } from './words.js'

/** How often the requests and the history are asked again while the tab is visible (default). */
export const ACCESS_INTERVAL_MS = 5_000

export const customerAccessCss = `
.actas-access{box-sizing:border-box;font:15px/1.5 system-ui,sans-serif;color:#1b1b1f;max-width:48rem}
.actas-access h2{font-size:1.2rem;margin:1rem 0 .5rem}
.actas-access ul{list-style:none;padding:0;margin:0}
.actas-access li{border:1px solid #c9c9d1;border-radius:8px;padding:.75rem;margin:.5rem 0}
.actas-access button{font:inherit;border-radius:6px;border:1px solid #3d3d4a;background:#fff;color:#1b1b1f;padding:.35rem .9rem;margin:.25rem .5rem .25rem 0;cursor:pointer}
.actas-access button.actas-access__primary{background:#1f4fd1;border-color:#1f4fd1;color:#fff}
.actas-access button:focus-visible,.actas-access select:focus-visible,.actas-access input:focus-visible{outline:3px solid #ffb000;outline-offset:2px}
.actas-access__muted{color:#4a4a57}
.actas-access__error{color:#9b0d1b;font-weight:600}
.actas-access table{border-collapse:collapse;width:100%}
.actas-access th,.actas-access td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #dcdce3;vertical-align:top}
.actas-access label{display:inline-block;margin:.25rem 1rem .25rem 0}
@media (max-width:40rem){.actas-access table,.actas-access tbody,.actas-access tr,.actas-access td,.actas-access th{display:block}.actas-access thead{position:absolute;left:-9999px}.actas-access td{border:0;padding:.1rem 0}.actas-access tr{border-bottom:1px solid #dcdce3;padding:.5rem 0}}
`

let injected = false
function injectCss(): void {
  if (injected || typeof document === 'undefined') return
  injected = true
  const style = document.createElement('style')
  style.dataset['actasCustomerAccess'] = ''
  style.textContent = customerAccessCss
  document.head.append(style)
}

export const customerAccessProps = {
  /** ActAs's tRPC endpoint (e.g. `https://actas.example.com/trpc`). */
  apiUrl: { type: String, required: true as const },
  intervalMs: { type: Number, default: ACCESS_INTERVAL_MS },
  /** Where the session comes from; default: clerk-js (`window.Clerk`). */
  session: { type: Object as PropType<HostSession>, default: undefined },
}

/** `1 h 05 min`, `12 min`, `40 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`
}

const when = (iso: string) => new Date(iso).toLocaleString()

const GRANT_LENGTHS = [
  { minutes: 60, label: '1 hour' },
  { minutes: 24 * 60, label: '24 hours' },
  { minutes: 7 * 24 * 60, label: '7 days' },
]

function createCustomerAccess(options: { injectCss: boolean }) {
  return defineComponent({
    name: 'ActAsCustomerAccess',
    props: customerAccessProps,
    emits: { changed: (_record: AccessRecord) => true },
    setup(props, { emit }) {
      const source = (): HostSession => props.session ?? clerkSession()
      let client: ActAsClient | null = null
      const api = () =>
        (client ??= createActAsClient({
          url: props.apiUrl,
          getToken: () => source().getToken(),
          retries: 0,
        }))
      const requests = shallowRef<AccessRecord[]>([])
      const history = shallowRef<CustomerHistoryItem[]>([])
      const loaded = ref(false)
      const error = ref<string | null>(null)
      /** The error is the lists' read failing (retried by itself), not an action's. */
      const loadFailed = ref(false)
      const statusLine = ref<HTMLElement | null>(null)
      const busy = ref(false)
      const status = ref('')
      const grantMode = ref<ImpersonationMode>('read_only')
      const grantMinutes = ref(24 * 60)
      let timer: ReturnType<typeof setTimeout> | undefined
      let stopped = false

      async function load(): Promise<void> {
        try {
          const [r, hist] = await Promise.all([
            api().customer.requests.query(),
            api().customer.history.query({ limit: 20 }),
          ])
          requests.value = r.items
          history.value = hist.items
          if (loadFailed.value) error.value = null
          loadFailed.value = false
        } catch (e) {
          error.value = describe(e, 'load')
          loadFailed.value = true
        } finally {
          loaded.value = true
        }
      }

      /** What went wrong, in the customer's words; an unreachable ActAs says what happens next. */
      function describe(e: unknown, during: 'load' | 'act'): string {
        const err = getActAsError(e)
        const seconds = Math.max(1, Math.round(props.intervalMs / 1000))
        if (during === 'load') {
          const what = err.transport
            ? 'ActAs cannot be reached right now'
            : err.code === 'SERVICE_UNAVAILABLE'
              ? err.message.replace(/\.?$/, '')
              : null
          return what
            ? `${what}. Trying again every ${seconds} s; what you see may be out of date.`
            : err.message
        }
        return err.transport
          ? 'ActAs could not be reached, so this may not have been saved. Try again in a moment.'
          : err.message
      }

      function schedule(): void {
        clearTimeout(timer)
        if (stopped) return
        timer = setTimeout(() => {
          if (typeof document !== 'undefined' && document.hidden) return schedule()
          void load().finally(schedule)
        }, props.intervalMs)
      }

      async function act(call: () => Promise<AccessRecord>, done: string): Promise<void> {
        if (busy.value) return
        busy.value = true
        error.value = null
        try {
          const record = await call()
          emit('changed', record)
          await load()
          // Said with the lists it changed; the button pressed may be gone (a decided request):
          // keyboard focus goes to what happened, not to the top of the page.
          status.value = done
          await nextTick()
          statusLine.value?.focus()
        } catch (e) {
          error.value = describe(e, 'act')
          loadFailed.value = false
        } finally {
          busy.value = false
        }
      }

      const approve = (r: AccessRecord) =>
        act(
          () => api().customer.decide.mutate({ accessId: r.id, decision: 'approve' }),
          'You approved the request.',
        )
      const deny = (r: AccessRecord) =>
        act(
          () => api().customer.decide.mutate({ accessId: r.id, decision: 'deny' }),
          'You denied the request.',
        )
      const revoke = (r: AccessRecord) =>
        act(
          () => api().customer.revoke.mutate({ accessId: r.id }),
          'Access revoked: any session support had under it has ended.',
        )
      const grant = () =>
        act(
          () => api().customer.grant.mutate({ mode: grantMode.value, minutes: grantMinutes.value }),
          'Support may now access your account.',
        )

      onMounted(() => {
        if (options.injectCss) injectCss()
        void load().finally(schedule)
      })
      onBeforeUnmount(() => {
        stopped = true
        clearTimeout(timer)
      })

      const who = (r: AccessRecord) => r.requestedBy?.label ?? 'Support'
      const pending = () =>
        requests.value.filter((r) => r.status === 'pending' && r.needs.consent && !r.consentedBy)
      const granted = () => requests.value.filter((r) => r.status === 'granted')

      return () =>
        h('section', { class: 'actas-access', 'aria-labelledby': 'actas-access-title' }, [
          h('h2', { id: 'actas-access-title' }, 'Support access to your account'),
          h(
            'p',
            { class: 'actas-access__muted', role: 'status', tabindex: -1, ref: statusLine },
            status.value,
          ),
          error.value
            ? h('div', { class: 'actas-access__error', role: 'alert' }, [
                h('p', error.value),
                loadFailed.value
                  ? h('button', { type: 'button', onClick: () => void load() }, 'Try again now')
                  : null,
              ])
            : null,
          h('h2', { id: 'actas-access-requests' }, 'Requests'),
          pending().length === 0
            ? h('p', { class: 'actas-access__muted' }, loaded.value ? 'No requests.' : 'Loading…')
            : h(
                'ul',
                { 'aria-labelledby': 'actas-access-requests' },
                pending().map((r) =>
                  h('li', { 'data-access-id': r.id, 'data-testid': 'access-request' }, [
                    h('p', [
                      h('strong', who(r)),
                      ` asks to act as you (${modeLabel(r.mode).toLowerCase()}, up to ${formatDuration(r.minutes * 60)}): `,
                      h('q', r.reason),
                    ]),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'actas-access__primary',
                        disabled: busy.value,
                        onClick: () => void approve(r),
                      },
                      'Approve',
                    ),
                    h(
                      'button',
                      { type: 'button', disabled: busy.value, onClick: () => void deny(r) },
                      'Deny',
                    ),
                  ]),
                ),
              ),
          h('h2', { id: 'actas-access-granted' }, 'Access you granted'),
          granted().length === 0
            ? h('p', { class: 'actas-access__muted' }, 'None.')
            : h(
                'ul',
                { 'aria-labelledby': 'actas-access-granted' },
                granted().map((r) =>
                  h('li', { 'data-access-id': r.id, 'data-testid': 'access-grant' }, [
                    h('p', [
                      `${r.requestedBy ? who(r) : 'Support'}: ${modeLabel(r.grant?.mode ?? r.mode).toLowerCase()} until ${r.grant ? when(r.grant.until) : '—'}.`,
                    ]),
                    h(
                      'button',
                      { type: 'button', disabled: busy.value, onClick: () => void revoke(r) },
                      'Revoke',
                    ),
                  ]),
                ),
              ),
          h(
            'form',
            {
              'aria-labelledby': 'actas-access-grant-title',
              onSubmit: (e: Event) => {
                e.preventDefault()
                void grant()
              },
            },
            [
              h('h2', { id: 'actas-access-grant-title' }, 'Let support in'),
              h('label', [
                'Mode ',
                h(
                  'select',
                  {
                    value: grantMode.value,
                    onChange: (e: Event) =>
                      (grantMode.value = (e.target as HTMLSelectElement)
                        .value as ImpersonationMode),
                  },
                  [
                    h('option', { value: 'read_only' }, 'Read-only'),
                    h('option', { value: 'full' }, 'Full access'),
                  ],
                ),
              ]),
              h('label', [
                'For ',
                h(
                  'select',
                  {
                    value: String(grantMinutes.value),
                    onChange: (e: Event) =>
                      (grantMinutes.value = Number((e.target as HTMLSelectElement).value)),
                  },
                  GRANT_LENGTHS.map((g) => h('option', { value: String(g.minutes) }, g.label)),
                ),
              ]),
              h(
                'button',
                { type: 'submit', class: 'actas-access__primary', disabled: busy.value },
                'Grant access',
              ),
            ],
          ),
          h('h2', { id: 'actas-access-history' }, 'Who acted as you'),
          history.value.length === 0
            ? h('p', { class: 'actas-access__muted' }, 'Nobody from support has acted as you.')
            : h('table', { 'aria-labelledby': 'actas-access-history' }, [
                h(
                  'thead',
                  h(
                    'tr',
                    ['Who', 'When', 'How long', 'Why', 'Mode', 'Actions'].map((t) =>
                      h('th', { scope: 'col' }, t),
                    ),
                  ),
                ),
                h(
                  'tbody',
                  history.value.map((i) =>
                    h(
                      'tr',
                      {
                        'data-impersonation-id': i.impersonationId,
                        'data-testid': 'access-history',
                      },
                      [
                        h('td', i.staff.label),
                        h('td', when(i.startedAt)),
                        h('td', `${formatDuration(i.seconds)}${i.endedAt ? '' : ' (now)'}`),
                        h('td', i.reason),
                        h('td', modeLabel(i.mode)),
                        h('td', String(i.actions)),
                      ],
                    ),
                  ),
                ),
              ]),
        ])
    },
  })
}

/** The Vue component (its CSS put in the document once). */
export const ActAsCustomerAccess = createCustomerAccess({ injectCss: true })
/** The same, for `defineCustomElement` (CSS in the shadow root). */
export const ActAsCustomerAccessForElement = createCustomerAccess({ injectCss: false })
