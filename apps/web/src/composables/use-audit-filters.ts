// The audit log's filters: what the form holds, what the URL says (people, not ids; dates as
// yyyy-mm-dd), how a typed person becomes one user id (users.search), and loading the log for
// them. The URL is the source of truth: Filter writes it, and every change of it loads the log.
import type { ImpersonationStatus, UserSummary } from '@actas/contracts/client'
import { computed, inject, onBeforeUnmount, provide, reactive, ref, watch } from 'vue'
import type { InjectionKey } from 'vue'
import type { LocationQuery } from 'vue-router'
import { useRoute, useRouter } from 'vue-router'
import { useApi } from '../lib/api'
import { STATUS_WORDS } from '../lib/impersonation-words'
import { lookUpUser } from '../lib/user-lookup'
import type { Lookup } from '../lib/user-lookup'
import { useImpersonationStore } from '../stores/impersonation'
import type { AuditFilters } from '../stores/impersonation'

/** Every status of the log, in the order of the words (a Record over the contracts' statuses). */
export const AUDIT_STATUSES = Object.keys(STATUS_WORDS) as ImpersonationStatus[]

/** The filters as typed (and as kept in the URL): people, not ids; dates as yyyy-mm-dd. */
export interface FormFilters {
  actor: string
  user: string
  status: ImpersonationStatus | ''
  from: string
  to: string
}

export type PersonField = 'actor' | 'user'

const DATE = /^\d{4}-\d{2}-\d{2}$/

export function fromQuery(q: LocationQuery): FormFilters {
  const one = (k: string) => {
    const v = Array.isArray(q[k]) ? q[k][0] : q[k]
    return typeof v === 'string' ? v : ''
  }
  const status = one('status') as ImpersonationStatus
  return {
    actor: one('actor'),
    user: one('user'),
    status: (AUDIT_STATUSES as readonly string[]).includes(status) ? status : '',
    from: DATE.test(one('from')) ? one('from') : '',
    to: DATE.test(one('to')) ? one('to') : '',
  }
}

export function toQuery(f: FormFilters): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v.trim()) out[k] = v.trim()
  return out
}

/** Local midnight of a yyyy-mm-dd date, plus `days`, as an instant. */
export function dayStart(date: string, days = 0): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(y, m - 1, d + days).toISOString()
}

/** Why a typed person is not one user, in words ('' when it is). */
export function lookupMessage(l: Lookup | null, text: string): string {
  if (!l || l.kind === 'found') return ''
  if (l.kind === 'none') return `No user matches “${text}”. Try an email, a name or a user id.`
  if (l.kind === 'many') return `${l.total.toLocaleString()} users match “${text}”. Pick one:`
  return `${l.error.title}: ${l.error.message}`
}

const AuditFiltersKey: InjectionKey<AuditFiltersState> = Symbol('actas.auditFilters')

/** The audit page's filters, for its filter form (the page provides them). */
export function useAuditFilters() {
  const store = useImpersonationStore()
  const api = useApi()
  const route = useRoute()
  const router = useRouter()

  const applied = computed(() => fromQuery(route.query))
  const form = reactive<FormFilters>({ ...applied.value })
  /** Why an actor/user filter could not be turned into one user (shown at its field). */
  const lookups = reactive<Record<PersonField, Lookup | null>>({ actor: null, user: null })
  const dateError = ref('')
  const filtered = computed(() => Object.keys(toQuery(applied.value)).length > 0)

  function apply() {
    dateError.value =
      form.from && form.to && form.to < form.from ? 'The end date is before the start date.' : ''
    if (dateError.value) return
    void router.push({ name: 'audit', query: toQuery(form) })
  }

  let lastFilters: AuditFilters = {}
  let loadSeq = 0
  async function load(f: FormFilters = applied.value) {
    const mine = ++loadSeq
    Object.assign(form, f)
    const [actor, user] = await Promise.all([
      f.actor.trim() ? lookUpUser(api, f.actor) : null,
      f.user.trim() ? lookUpUser(api, f.user) : null,
    ])
    if (mine !== loadSeq) return
    lookups.actor = actor
    lookups.user = user
    if ((actor && actor.kind !== 'found') || (user && user.kind !== 'found')) {
      store.resetLog()
      return
    }
    const filters: AuditFilters = {
      ...(actor?.kind === 'found' ? { actorId: actor.id } : {}),
      ...(user?.kind === 'found' ? { userId: user.id } : {}),
      ...(f.status ? { status: f.status } : {}),
      ...(f.from ? { from: dayStart(f.from) } : {}),
      ...(f.to ? { to: dayStart(f.to, 1) } : {}),
    }
    lastFilters = filters
    await store.loadLog(filters)
  }

  /** The next page of the log for the filters shown. */
  function loadMore() {
    return store.loadLog(lastFilters, true)
  }

  /** One of several matching people, picked: the filter names them by email. */
  function pick(field: PersonField, user: UserSummary) {
    form[field] = user.primaryEmail ?? user.id
    apply()
  }

  // A fresh visit shows no message from an earlier one; the URL drives what is shown.
  store.resetLog()
  watch(applied, (f) => void load(f), { immediate: true })
  onBeforeUnmount(() => store.resetLog())

  const state = { applied, form, lookups, dateError, filtered, apply, load, loadMore, pick }
  provide(AuditFiltersKey, state)
  return state
}

export type AuditFiltersState = ReturnType<typeof useAuditFilters>

/** The filters the page above provided (`useAuditFilters`). */
export function injectAuditFilters(): AuditFiltersState {
  const state = inject(AuditFiltersKey, null)
  if (!state) throw new Error('injectAuditFilters() needs useAuditFilters() in a parent')
  return state
}
