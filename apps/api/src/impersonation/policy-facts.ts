// The facts the policy judges on, gathered once per moment and complete: nothing is decided on
// the first page of a list. Membership of a staff or read-only organization is asked directly
// (`GET /v1/organizations/{id}/memberships?user_id=…` per organization, or
// `GET /v1/users?user_id=…&organization_id=…` for a search page); the actor's permission is read
// from its membership of each staff organization the same way. A read that fails rejects (the
// callers fail closed: 503, or the row is left for the reconciler's next run).
import { timingSafeEqual } from 'node:crypto'
import { IMPERSONATE_PERMISSION } from '@actas/contracts'
import type {
  EndCause,
  ImpersonationMode,
  ImpersonationVerdict,
  ReturnRefusal,
  UserPrincipal,
} from '@actas/contracts'
import type { AuditEventRow, ImpersonationRow } from '../audit/schema.js'
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { DirectoryUser, UserDirectory } from '../directory/user-directory.js'
import type { AccessFactsReader } from '../access/facts.js'
import { capOf, sha256Hex } from './lifecycle.js'
import { endCauseOf, FactNotGathered, judge, returnRefusalOf, verdictOf } from './policy.js'
import type { Judgement, PolicyFacts } from './policy.js'

export interface ImpersonationPolicyOptions {
  directory: UserDirectory
  /** STAFF_ORGANIZATIONS, resolved. */
  staffOrganizations: Pick<StaffOrganizations, 'ids'>
  /** READ_ONLY_ORGANIZATIONS, resolved (null or absent: none). */
  readOnlyOrganizations?: Pick<StaffOrganizations, 'named'> | null | undefined
  /** IMPERSONATION_DEFAULT_MODE. */
  defaultMode?: ImpersonationMode | undefined
  now: () => Date
  /** The access model's facts (consent, approval, organizations' settings, grants); absent: none. */
  access?: AccessFactsReader | null | undefined
}

/** Who acts; `via`: the machine acting on their behalf (the actor is then read from Clerk). */
type Caller = Pick<UserPrincipal, 'userId' | 'actor'> & { via?: string | null }

const displayName = (user: DirectoryUser) => user.fullName ?? user.primaryEmail ?? user.id

export class ImpersonationPolicy {
  constructor(private readonly o: ImpersonationPolicyOptions) {}

  private readOnly(): Promise<ReadonlyMap<string, string>> {
    return this.o.readOnlyOrganizations?.named() ?? Promise.resolve(new Map())
  }

  /**
   * The verdicts of one search page, in order. Two fresh reads for the whole page, whatever its
   * size: which rows are members of a staff organization, and which of a read-only one (both
   * asked directly of Clerk). The read-only organizations named are those the row shows (`shown`,
   * display data), or every configured one when the row does not show which.
   */
  async searchVerdicts(
    caller: Caller,
    users: readonly DirectoryUser[],
    shown: readonly (readonly { organizationId: string }[])[],
  ): Promise<ImpersonationVerdict[]> {
    const ids = users.map((u) => u.id)
    const [staffIds, readOnly] = await Promise.all([
      this.o.staffOrganizations.ids(),
      this.readOnly(),
    ])
    const [staff, readOnlyMembers, access] = await Promise.all([
      this.o.directory.membersAmong(ids, [...staffIds]),
      this.o.directory.membersAmong(ids, [...readOnly.keys()]),
      this.o.access?.forPage(caller.userId, ids) ?? null,
    ])
    return users.map((user, i) => {
      const named = (shown[i] ?? []).flatMap((m) => readOnly.get(m.organizationId) ?? [])
      const readOnlyIn = readOnlyMembers.has(user.id)
        ? [...new Set(named.length > 0 ? named : readOnly.values())]
        : []
      const facts: PolicyFacts = {
        actor: { id: caller.userId, machine: false, impersonating: Boolean(caller.actor) },
        target: { id: user.id, user, staff: staff.has(user.id), readOnlyIn },
        ...(access?.has(user.id) ? { access: access.get(user.id)! } : {}),
      }
      return verdictOf(judge('search', facts, this.o))
    })
  }

  /**
   * `impersonation.start`'s judgement of `target` (read just before), `mode` as asked, for a
   * session of `sessionMinutes` (a grant's window must cover it). A machine acting on behalf of
   * the caller (`caller.via`): the caller as Clerk knows them now too (deleted, banned, locked,
   * the permission in a staff organization), what their own session token would have proved.
   */
  async atStart(
    caller: Caller,
    target: DirectoryUser,
    mode: ImpersonationMode | undefined,
    sessionMinutes?: number,
  ): Promise<Judgement> {
    const [targetFacts, access, actor] = await Promise.all([
      this.targetFacts(target.id, target),
      this.o.access?.forTarget(caller.userId, target.id) ?? null,
      caller.via ? this.actorFacts(caller.userId, this.o.directory) : null,
    ])
    const facts: PolicyFacts = {
      actor: actor
        ? { ...actor, via: caller.via! }
        : { id: caller.userId, machine: false, impersonating: Boolean(caller.actor) },
      target: { ...targetFacts, name: displayName(target) },
      ...(mode ? { mode } : {}),
      ...(sessionMinutes !== undefined ? { sessionMinutes } : {}),
      now: this.o.now(),
      ...(access ? { access } : {}),
    }
    return judge('start', facts, this.o)
  }

  /**
   * `access.request`: the access facts of `target` for `caller` (what a request needs: consent,
   * approval; or that the organization is off), read like the start's.
   */
  accessFacts(callerId: string, targetId: string) {
    return this.o.access?.forTarget(callerId, targetId) ?? Promise.resolve(null)
  }

  /**
   * Continuous re-authorization of a live impersonation: why it must end now, or null. Fresh
   * reads of the actor and the target (user, and their memberships in the organizations that
   * matter), through `directory` (the reconciler counts its calls).
   */
  async continuousCause(
    row: ImpersonationRow,
    directory: UserDirectory = this.o.directory,
  ): Promise<EndCause | null> {
    const [actor, target, access] = await Promise.all([
      this.actorFacts(row.actorId, directory),
      directory.getUser(row.userId).then((user) => this.targetFacts(row.userId, user, directory)),
      this.o.access?.forTarget(row.actorId, row.userId, { directory, lapsed: true }) ?? null,
    ])
    return endCauseOf(
      judge(
        'continuous',
        { actor, target, mode: row.mode, now: this.o.now(), ...(access ? { access } : {}) },
        this.o,
      ),
    )
  }

  /**
   * Stop's way back to the console: why no return ticket, or null. `events` are the
   * impersonation's (the return secret's hash is in its `requested` event). Clerk failing to
   * answer is `clerk_unavailable`.
   */
  async atReturn(input: {
    row: ImpersonationRow
    events: readonly Pick<AuditEventRow, 'type' | 'data'>[]
    secret: string | undefined
    enabled: boolean
  }): Promise<ReturnRefusal | null> {
    const { row } = input
    const cap = capOf(row)
    const returnFacts: NonNullable<PolicyFacts['return']> = {
      enabled: input.enabled,
      secret: secretMatch(input.events, input.secret),
      pastCap: cap !== null && this.o.now() >= cap,
    }
    const facts: PolicyFacts = {
      actor: { id: row.actorId, machine: false, impersonating: false },
      // No rule about the target applies at the return.
      target: { id: row.userId, user: null, staff: false, readOnlyIn: [] },
      return: returnFacts,
    }
    try {
      // The mechanics first, without asking Clerk: the actor is read only if they pass.
      return returnRefusalOf(judge('return', facts, this.o))
    } catch (error) {
      if (!(error instanceof FactNotGathered)) throw error
    }
    try {
      facts.actor = await this.actorFacts(row.actorId, this.o.directory)
    } catch {
      return 'clerk_unavailable'
    }
    return returnRefusalOf(judge('return', facts, this.o))
  }

  /** The actor now: the user, and whether it holds the permission in a staff organization. */
  private async actorFacts(
    actorId: string,
    directory: UserDirectory,
  ): Promise<PolicyFacts['actor']> {
    const staffIds = [...(await this.o.staffOrganizations.ids())]
    const [user, memberships] = await Promise.all([
      directory.getUser(actorId),
      directory.membershipsIn(actorId, staffIds),
    ])
    return {
      id: actorId,
      machine: false,
      impersonating: false,
      user,
      mayImpersonate: memberships.some(
        (m) =>
          staffIds.includes(m.organizationId) && m.permissions.includes(IMPERSONATE_PERMISSION),
      ),
    }
  }

  /** The target now: staff, and the read-only organizations it is a member of (asked directly). */
  private async targetFacts(
    targetId: string,
    user: DirectoryUser | null,
    directory: UserDirectory = this.o.directory,
  ): Promise<PolicyFacts['target']> {
    const [staffIds, readOnly] = await Promise.all([
      this.o.staffOrganizations.ids(),
      this.readOnly(),
    ])
    const memberships = user
      ? await directory.membershipsIn(targetId, [...staffIds, ...readOnly.keys()])
      : []
    return {
      id: targetId,
      user,
      staff: memberships.some((m) => staffIds.has(m.organizationId)),
      readOnlyIn: [...new Set(memberships.flatMap((m) => readOnly.get(m.organizationId) ?? []))],
    }
  }
}

/** The return secret sent, against the hash the impersonation's `requested` event holds. */
function secretMatch(
  events: readonly Pick<AuditEventRow, 'type' | 'data'>[],
  secret: string | undefined,
): 'missing' | 'mismatch' | 'match' {
  if (!secret) return 'missing'
  const requested = events.find((e) => e.type === 'requested')
  const data = requested ? (JSON.parse(requested.data) as Record<string, unknown>) : {}
  const hash = data['returnSecretHash']
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return 'mismatch'
  const stored = Buffer.from(hash, 'hex')
  const given = Buffer.from(sha256Hex(secret), 'hex')
  return stored.length === given.length && timingSafeEqual(stored, given) ? 'match' : 'mismatch'
}
