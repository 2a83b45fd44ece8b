// The access model's facts for the policy's one judge (impersonation/policy.ts `AccessFacts`),
// gathered completely: the organizations whose setting matters are read from the audit database
// (all of them: few rows), and the target's membership of each organization a rule names is
// asked of Clerk directly, by user id per organization (or one `membersAmong` read for a search
// page). Grants are read from the projection; nothing is judged on a first page.
import type { StaffOrganizations } from '../directory/staff-organizations.js'
import type { DirectoryMembership, UserDirectory } from '../directory/user-directory.js'
import type { AccessFacts, GrantFact } from '../impersonation/policy.js'
import { liveGrant } from './model.js'
import type { AccessRequestRow } from './schema.js'
import type { AccessStore } from './store.js'

type Organizations = Pick<StaffOrganizations, 'named'>

/** The deployment's access rules (config `access`), organizations resolved. */
export interface AccessRules {
  consent: 'off' | 'all' | 'organizations'
  consentOrganizations: Organizations | null
  approval: 'off' | 'full' | 'organizations' | 'roles'
  approvalOrganizations: Organizations | null
  approvalRoles: readonly string[]
}

export interface AccessFactsOptions {
  store: Pick<AccessStore, 'openFor' | 'restrictedOrganizations' | 'lastEnded'>
  directory: Pick<UserDirectory, 'membershipsIn' | 'membersAmong'>
  rules: AccessRules
  now: () => Date
}

const empty = (): Promise<ReadonlyMap<string, string>> => Promise.resolve(new Map())

/** The widest of `grants` (full over read-only, then the latest end). */
function widest(grants: readonly GrantFact[]): GrantFact | null {
  let best: GrantFact | null = null
  for (const g of grants) {
    if (
      !best ||
      (g.mode === 'full' && best.mode === 'read_only') ||
      (g.mode === best.mode && g.until > best.until)
    )
      best = g
  }
  return best
}

/** Whether `actorId` may start under `row`: its own request, or a grant the customer gave unasked. */
function usableBy(row: AccessRequestRow, actorId: string): boolean {
  return row.requestedBy === null || row.requestedBy === actorId
}

const grantOf = (row: AccessRequestRow): GrantFact => ({
  id: row.id,
  mode: row.grantMode ?? 'read_only',
  until: row.grantEndsAt!,
})

export class AccessFactsReader {
  constructor(private readonly o: AccessFactsOptions) {}

  /** The grants `actorId` may use for the user, among the user's open rows. */
  grants(rows: readonly AccessRequestRow[], actorId: string) {
    const now = this.o.now()
    const live = rows.filter((r) => liveGrant(r, now) && usableBy(r, actorId))
    return {
      consentGrant: widest(live.filter((r) => r.consentedBy !== null).map(grantOf)),
      approvalGrant: widest(
        live.filter((r) => r.approvedBy !== null && r.requestedBy === actorId).map(grantOf),
      ),
    }
  }

  /**
   * One target's facts (`start`, `continuous`, `access.request`): its memberships of every
   * organization a rule names, asked directly (`directory`: the reconciler counts its calls).
   */
  async forTarget(
    actorId: string,
    targetId: string,
    options: { directory?: AccessFactsOptions['directory']; lapsed?: boolean } = {},
  ): Promise<AccessFacts> {
    const directory = options.directory ?? this.o.directory
    const { rules } = this.o
    const { restricted, consentOrgs, approvalOrgs, open } = await this.sources([targetId])
    const ids = new Set([
      ...restricted.map((r) => r.organizationId),
      ...consentOrgs.keys(),
      ...approvalOrgs.keys(),
    ])
    const memberships: DirectoryMembership[] =
      ids.size > 0 ? await directory.membershipsIn(targetId, [...ids]) : []
    const memberOf = new Map(memberships.map((m) => [m.organizationId, m]))
    const setting = (value: string) =>
      restricted.find((r) => r.setting === value && memberOf.has(r.organizationId)) ?? null
    const off = setting('off')
    const consentBySetting = setting('consent_required')
    const consentOrg = [...consentOrgs].find(([id]) => memberOf.has(id))
    const consentRequired =
      rules.consent === 'all'
        ? 'ACCESS_CONSENT_REQUIRED=all'
        : consentOrg
          ? `members of ${consentOrg[1]} (ACCESS_CONSENT_ORGANIZATIONS)`
          : consentBySetting
            ? `${consentBySetting.organizationName} requires its members' consent`
            : null
    const approvalOrg = [...approvalOrgs].find(([id]) => {
      const m = memberOf.get(id)
      return m && (rules.approval === 'organizations' || rules.approvalRoles.includes(m.role))
    })
    const approvalRequired =
      rules.approval === 'full'
        ? 'ACCESS_APPROVAL_REQUIRED=full'
        : approvalOrg
          ? rules.approval === 'roles'
            ? `${memberOf.get(approvalOrg[0])!.role} of ${approvalOrg[1]} (ACCESS_APPROVAL_ROLES)`
            : `members of ${approvalOrg[1]} (ACCESS_APPROVAL_ORGANIZATIONS)`
          : null
    const facts: AccessFacts = {
      organizationOff: off ? off.organizationName : null,
      consentRequired,
      approvalRequired,
      approvalOnlyFull: rules.approval === 'full',
      ...this.grants(open, actorId),
    }
    if (options.lapsed) facts.lapsed = await this.o.store.lastEnded(targetId, actorId)
    return facts
  }

  /**
   * The facts of a search page, for one actor: a `membersAmong` read per kind of organization
   * (off, consent required, consent organizations, approval organizations), and, for
   * ACCESS_APPROVAL_REQUIRED=roles, each member's roles in the approval organizations asked
   * directly.
   */
  async forPage(actorId: string, userIds: readonly string[]): Promise<Map<string, AccessFacts>> {
    const { rules } = this.o
    const { restricted, consentOrgs, approvalOrgs, open } = await this.sources(userIds)
    const among = async (orgs: readonly string[]) =>
      orgs.length > 0 && userIds.length > 0
        ? this.o.directory.membersAmong(userIds, orgs)
        : new Set<string>()
    const offRows = restricted.filter((r) => r.setting === 'off')
    const consentRows = restricted.filter((r) => r.setting === 'consent_required')
    const [off, consentBySetting, consentMembers, approvalMembers] = await Promise.all([
      among(offRows.map((r) => r.organizationId)),
      among(consentRows.map((r) => r.organizationId)),
      among([...consentOrgs.keys()]),
      among([...approvalOrgs.keys()]),
    ])
    // Roles: asked per member of an approval organization (complete: by user id, per organization).
    const roleHolders = new Set<string>()
    if (rules.approval === 'roles')
      await Promise.all(
        [...approvalMembers].map(async (userId) => {
          const memberships = await this.o.directory.membershipsIn(userId, [...approvalOrgs.keys()])
          if (memberships.some((m) => rules.approvalRoles.includes(m.role))) roleHolders.add(userId)
        }),
      )
    const anyName = (rows: { organizationName: string }[]) =>
      rows.length === 1 ? rows[0]!.organizationName : 'Their organization'
    const facts = new Map<string, AccessFacts>()
    for (const userId of userIds) {
      const consentRequired =
        rules.consent === 'all'
          ? 'ACCESS_CONSENT_REQUIRED=all'
          : consentMembers.has(userId)
            ? `members of ${[...consentOrgs.values()].join(', ')} (ACCESS_CONSENT_ORGANIZATIONS)`
            : consentBySetting.has(userId)
              ? `${anyName(consentRows)} requires its members' consent`
              : null
      const approvalRequired =
        rules.approval === 'full'
          ? 'ACCESS_APPROVAL_REQUIRED=full'
          : rules.approval === 'organizations' && approvalMembers.has(userId)
            ? `members of ${[...approvalOrgs.values()].join(', ')} (ACCESS_APPROVAL_ORGANIZATIONS)`
            : rules.approval === 'roles' && roleHolders.has(userId)
              ? `${rules.approvalRoles.join(', ')} of ${[...approvalOrgs.values()].join(', ')} (ACCESS_APPROVAL_ROLES)`
              : null
      facts.set(userId, {
        organizationOff: off.has(userId) ? anyName(offRows) : null,
        consentRequired,
        approvalRequired,
        approvalOnlyFull: rules.approval === 'full',
        ...this.grants(
          open.filter((r) => r.userId === userId),
          actorId,
        ),
      })
    }
    return facts
  }

  /**
   * What every judgement starts from: the organizations whose setting is not `allowed`, those
   * the deployment's rules name, and the open requests and grants of `userIds`.
   */
  private async sources(userIds: readonly string[]) {
    const { rules } = this.o
    const [restricted, consentOrgs, approvalOrgs, open] = await Promise.all([
      this.o.store.restrictedOrganizations(),
      rules.consent === 'organizations' ? this.named(rules.consentOrganizations) : empty(),
      rules.approval === 'organizations' || rules.approval === 'roles'
        ? this.named(rules.approvalOrganizations)
        : empty(),
      this.o.store.openFor(userIds),
    ])
    return { restricted, consentOrgs, approvalOrgs, open }
  }

  private named(orgs: Organizations | null): Promise<ReadonlyMap<string, string>> {
    return orgs ? orgs.named() : empty()
  }
}
