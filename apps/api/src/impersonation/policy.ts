// The policy: one judge. Who may be impersonated, by whom, in which mode, for how long, and who
// may get back to the console — every rule written once, in RULES, with the moments it applies
// to. Pure: the facts come from policy-facts.ts (one complete gathering per moment), and the
// callers only translate the judgement into their answer:
//
// - `search`: the verdict each search row carries (its buttons);
// - `start`: the check inside `impersonation.start`;
// - `continuous`: re-authorization of a live impersonation (the reconciler's runs and the
//   webhook-triggered `reauthorize`): a rule that applies ends it, with the rule's cause;
// - `return`: Stop's way back to the console (a return ticket for the staff member).
//
// Staff is tied to the staff organizations (STAFF_ORGANIZATIONS, resolved to ids): a target is
// staff when it is a member of any of them, whatever its role there; the actor's permission
// (org:admin:impersonate) counts only there. Memberships and permissions in any other
// organization count for nothing: a customer organization's admin role may carry the
// permission (Clerk's roles belong to the instance) and its admin is still a customer.
//
// Modes: a target who is a member of a read-only organization (READ_ONLY_ORGANIZATIONS) may only
// be impersonated read-only — at the start, and for as long as the impersonation lives (one in
// `full` ends when its target joins such an organization); anyone else in either mode, the
// configured default preselected.
import type {
  EndCause,
  ImpersonationMode,
  ImpersonationVerdict,
  PolicyRule,
  ReturnRefusal,
} from '@actas/contracts'

export const MOMENTS = ['search', 'start', 'continuous', 'return'] as const
export type Moment = (typeof MOMENTS)[number]

/** What a judgement rests on. Each moment's gatherer (policy-facts.ts) reads what its rules need. */
export interface PolicyFacts {
  actor: {
    id: string
    /** A machine caller acting on its own (no named person): impersonating stays a human act. */
    machine: boolean
    /**
     * The machine (`mch_…`) acting on behalf of this actor (`onBehalfOf`): no session token of
     * theirs decided who they are, so the rules listing this moment in `onBehalfAt` judge them
     * (`user` and `mayImpersonate` gathered). Absent: the actor acts in their own name.
     */
    via?: string
    /** The caller's own session is an impersonation (`act` claim): no chains. */
    impersonating: boolean
    /** The actor as Clerk knows it now (null: deleted). Gathered at `continuous` and `return`. */
    user?: { banned: boolean; locked: boolean } | null
    /**
     * Holds org:admin:impersonate in a staff organization now. Gathered at `continuous` and
     * `return`, and at `start` on behalf of the actor (`via`); at a person's own `start` their
     * session token's claims decided it before the policy ran.
     */
    mayImpersonate?: boolean
  }
  target: {
    id: string
    /** How people know the target (messages). */
    name?: string
    /** The target as Clerk knows it now (null: deleted). */
    user: { banned: boolean; locked: boolean } | null
    /** A member of a staff organization. */
    staff: boolean
    /** Names of the read-only organizations the target is a member of (none: any mode). */
    readOnlyIn: readonly string[]
  }
  /** The mode asked (`start`; absent when none was asked) or running (`continuous`). */
  mode?: ImpersonationMode
  /** The session length asked (`start`), minutes; with `now`, what a grant's window must cover. */
  sessionMinutes?: number
  now?: Date
  /**
   * The access model (access requests, grants, organizations' settings; src/access/): gathered
   * at `search`, `start` and `continuous` when the deployment has it (absent: no rule applies).
   */
  access?: AccessFacts
  /** The way back to the console (`return`). */
  return?: {
    /** RETURN_TO_CONSOLE. */
    enabled: boolean
    /** The return secret sent to Stop, against the one the impersonation started with. */
    secret: 'missing' | 'mismatch' | 'match'
    /** The impersonation is past its cap. */
    pastCap: boolean
  }
}

/** A live grant the actor may use for this target: its mode and the end of its window. */
export interface GrantFact {
  id: string
  mode: ImpersonationMode
  until: Date
}

export interface AccessFacts {
  /** The target's organization that switched impersonation off (its name), or null. */
  organizationOff: string | null
  /** Why the target's consent is required (a clause), or null when it is not. */
  consentRequired: string | null
  /** Why a second staff member's approval is required (a clause), or null when it is not. */
  approvalRequired: string | null
  /** The approval is required only for `full` (ACCESS_APPROVAL_REQUIRED=full). */
  approvalOnlyFull: boolean
  /** The live grant with the target's consent this actor may use (the widest), or null. */
  consentGrant: GrantFact | null
  /** The live grant with a second staff member's approval for this actor, or null. */
  approvalGrant: GrantFact | null
  /**
   * `continuous`: how the last grant this actor had for the target ended (`expired` or
   * `revoked`), or null (none, or it is still live): the end cause when a rule needs a grant.
   */
  lapsed?: 'expired' | 'revoked' | null
}

/** One rule: where it applies, when it bites, and what each moment answers when it does. */
export interface PolicyRuleDefinition {
  id: string
  moments: readonly Moment[]
  /**
   * Moments where the rule applies only to a machine acting on behalf of the actor
   * (`facts.actor.via`): what a person's own session token proves there, and a machine's cannot.
   */
  onBehalfAt?: readonly Moment[]
  /**
   * `deny` (default): the rule refuses. `read_only`: it limits the modes to read-only; it
   * refuses only an impersonation in `full` (asked at `start`, running at `continuous`).
   */
  effect?: 'deny' | 'read_only'
  /** Whether the rule bites on these facts. */
  applies(facts: PolicyFacts): boolean
  /** `search` / `start`: the refusal's rule and message. */
  rule?: PolicyRule
  reason?: (facts: PolicyFacts) => string
  /** `continuous`: why the impersonation ends. */
  cause?: EndCause
  /** `continuous`: why it ends, when that depends on the facts (takes precedence over `cause`). */
  causeOf?: (facts: PolicyFacts) => EndCause
  /** `return`: why no return ticket. */
  refusal?: ReturnRefusal
}

export const POLICY_MESSAGES = {
  impersonated_session:
    'You are in an impersonated session; end it before impersonating anyone (no chains).',
  self: 'You cannot impersonate yourself.',
  staff: 'Staff cannot be impersonated: this user is a member of a staff organization.',
  banned: 'This user is banned.',
  locked: 'This user is locked.',
  machine:
    'Machines cannot impersonate on their own: a machine granted impersonation.start names the staff member it acts for (onBehalfOf), who is judged as if they started it.',
} as const

/** Why a machine may not act for the staff member it named (rule `machine`, at `start`). */
const onBehalf = (what: string) => (f: PolicyFacts) =>
  `${f.actor.via ?? 'The machine'} acts on behalf of ${f.actor.id}, who ${what}: a machine starts only for a staff member who may impersonate now.`

/**
 * Thrown when a rule needs a fact that was not gathered: never "allowed". A gatherer may leave
 * costly facts out and gather them only when the judge reaches a rule that needs them.
 */
export class FactNotGathered extends Error {
  constructor(readonly fact: string) {
    super(`policy: the fact ${fact} was not gathered`)
  }
}

function known<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new FactNotGathered(name)
  return value
}

const actorUser = (f: PolicyFacts) => known(f.actor.user, 'actor.user')
const returnFacts = (f: PolicyFacts) => known(f.return, 'return')
const message = (text: string) => () => text

const accessFacts = (f: PolicyFacts): AccessFacts | null => f.access ?? null

/** Whether the approval rule covers this impersonation (its mode; unknown at search: `full`). */
const approvalCovers = (a: AccessFacts, f: PolicyFacts) =>
  a.approvalRequired !== null && (!a.approvalOnlyFull || f.mode !== 'read_only')

/** The grants a start rests on (those the rules that bite require), narrowed to one limit. */
export function grantLimit(f: PolicyFacts): { mode: ImpersonationMode; until: Date } | null {
  const a = accessFacts(f)
  if (!a) return null
  const used = [
    a.consentRequired !== null ? a.consentGrant : null,
    approvalCovers(a, f) ? a.approvalGrant : null,
  ].filter((g): g is GrantFact => g !== null)
  if (used.length === 0) return null
  return {
    mode: used.some((g) => g.mode === 'read_only') ? 'read_only' : 'full',
    until: new Date(Math.min(...used.map((g) => g.until.getTime()))),
  }
}

/** Why a live impersonation that needed a grant ends now. */
const lapsedCause = (f: PolicyFacts): EndCause => {
  const lapsed = accessFacts(f)?.lapsed
  return lapsed === 'expired' ? 'access_expired' : 'access_revoked'
}

const whoOf = (f: PolicyFacts) => f.target.name ?? 'This user'

export const ACCESS_MESSAGES = {
  organizationOff: (name: string) =>
    `${name} switched impersonation of its members off (its admins' setting); nobody may impersonate them.`,
  consent: (f: PolicyFacts, why: string) =>
    `${whoOf(f)}'s consent is required (${why}): request access, and start once they approve it.`,
  approval: (why: string) =>
    `A second staff member's approval is required (${why}): request access, and start once an approver approves it.`,
  approvalFull: () =>
    "Full access needs a second staff member's approval (ACCESS_APPROVAL_REQUIRED=full): request access, or start read-only.",
  grantReadOnly: () => 'The access granted is read-only.',
  grantWindow: (until: Date, minutes: number) =>
    `The access granted ends at ${until.toISOString()}: ask for at most ${Math.max(0, minutes)} minutes, or request access again.`,
} as const

/** Why only read-only: the organizations named (READ_ONLY_ORGANIZATIONS). */
export function readOnlyReason(organizationNames: readonly string[]): string {
  const list = organizationNames.join(', ')
  return `Members of ${list} may only be impersonated read-only (READ_ONLY_ORGANIZATIONS).`
}

/**
 * Every rule, in the order they are judged (the first that bites answers). Adding a rule is
 * adding a row here (and its fact to the gatherers of its moments); policy-rules.test.ts shows
 * each one enforced at every moment it names.
 */
export const RULES: readonly PolicyRuleDefinition[] = [
  // The way back to the console: the mechanics of Stop's return ticket.
  {
    id: 'return_disabled',
    moments: ['return'],
    applies: (f) => !returnFacts(f).enabled,
    refusal: 'disabled',
  },
  {
    id: 'return_secret_missing',
    moments: ['return'],
    applies: (f) => returnFacts(f).secret === 'missing',
    refusal: 'no_secret',
  },
  {
    id: 'return_secret_mismatch',
    moments: ['return'],
    applies: (f) => returnFacts(f).secret === 'mismatch',
    refusal: 'secret_mismatch',
  },
  {
    id: 'return_past_cap',
    moments: ['return'],
    applies: (f) => returnFacts(f).pastCap,
    refusal: 'past_cap',
  },
  // The actor.
  {
    id: 'machine',
    moments: ['search', 'start'],
    applies: (f) => f.actor.machine,
    rule: 'machine',
    reason: message(POLICY_MESSAGES.machine),
  },
  {
    id: 'impersonated_session',
    moments: ['search', 'start'],
    applies: (f) => f.actor.impersonating,
    rule: 'impersonated_session',
    reason: message(POLICY_MESSAGES.impersonated_session),
  },
  {
    id: 'self',
    moments: ['search', 'start'],
    applies: (f) => f.target.id === f.actor.id,
    rule: 'self',
    reason: message(POLICY_MESSAGES.self),
  },
  {
    id: 'actor_deleted',
    moments: ['continuous', 'return'],
    onBehalfAt: ['start'],
    applies: (f) => actorUser(f) === null,
    cause: 'actor_deleted',
    refusal: 'actor_not_allowed',
    rule: 'machine',
    reason: onBehalf('no longer exists'),
  },
  {
    id: 'actor_banned',
    moments: ['continuous', 'return'],
    onBehalfAt: ['start'],
    applies: (f) => actorUser(f)?.banned === true,
    cause: 'actor_banned',
    refusal: 'actor_not_allowed',
    rule: 'machine',
    reason: onBehalf('is banned'),
  },
  {
    id: 'actor_locked',
    moments: ['continuous', 'return'],
    onBehalfAt: ['start'],
    applies: (f) => actorUser(f)?.locked === true,
    cause: 'actor_locked',
    refusal: 'actor_not_allowed',
    rule: 'machine',
    reason: onBehalf('is locked'),
  },
  {
    id: 'actor_lost_permission',
    moments: ['continuous', 'return'],
    onBehalfAt: ['start'],
    applies: (f) => !known(f.actor.mayImpersonate, 'actor.mayImpersonate'),
    cause: 'actor_lost_permission',
    refusal: 'actor_not_allowed',
    rule: 'machine',
    reason: onBehalf('holds no org:admin:impersonate in a staff organization'),
  },
  // The target.
  {
    id: 'target_deleted',
    moments: ['continuous'],
    applies: (f) => f.target.user === null,
    cause: 'target_deleted',
  },
  {
    id: 'staff',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => f.target.staff,
    rule: 'staff',
    reason: message(POLICY_MESSAGES.staff),
    cause: 'target_became_staff',
  },
  {
    id: 'banned',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => f.target.user?.banned === true,
    rule: 'banned',
    reason: message(POLICY_MESSAGES.banned),
    cause: 'target_banned',
  },
  {
    id: 'locked',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => f.target.user?.locked === true,
    rule: 'locked',
    reason: message(POLICY_MESSAGES.locked),
    cause: 'target_locked',
  },
  // The access model: the target's organization's own setting, the customer's consent, a second
  // staff member's approval, and the grant a start rests on (src/access/).
  {
    id: 'organization_off',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => (accessFacts(f)?.organizationOff ?? null) !== null,
    rule: 'organization_off',
    reason: (f) => ACCESS_MESSAGES.organizationOff(accessFacts(f)!.organizationOff!),
    cause: 'organization_off',
  },
  {
    id: 'consent_required',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => {
      const a = accessFacts(f)
      return a !== null && a.consentRequired !== null && a.consentGrant === null
    },
    rule: 'consent_required',
    reason: (f) => ACCESS_MESSAGES.consent(f, accessFacts(f)!.consentRequired!),
    causeOf: lapsedCause,
  },
  {
    id: 'approval_required',
    moments: ['search', 'start', 'continuous'],
    applies: (f) => {
      const a = accessFacts(f)
      return (
        a !== null && a.approvalRequired !== null && !a.approvalOnlyFull && a.approvalGrant === null
      )
    },
    rule: 'approval_required',
    reason: (f) => ACCESS_MESSAGES.approval(accessFacts(f)!.approvalRequired!),
    causeOf: lapsedCause,
  },
  {
    id: 'approval_required_full',
    moments: ['search', 'start', 'continuous'],
    effect: 'read_only',
    applies: (f) => {
      const a = accessFacts(f)
      return (
        a !== null && a.approvalRequired !== null && a.approvalOnlyFull && a.approvalGrant === null
      )
    },
    rule: 'approval_required',
    reason: () => ACCESS_MESSAGES.approvalFull(),
    causeOf: lapsedCause,
  },
  {
    id: 'grant_read_only',
    moments: ['search', 'start', 'continuous'],
    effect: 'read_only',
    applies: (f) => grantLimit(f)?.mode === 'read_only',
    rule: 'grant_exceeded',
    reason: () => ACCESS_MESSAGES.grantReadOnly(),
    cause: 'access_revoked',
  },
  {
    id: 'grant_window',
    moments: ['start'],
    applies: (f) => {
      const limit = grantLimit(f)
      if (!limit || f.sessionMinutes === undefined) return false
      const now = known(f.now, 'now')
      return now.getTime() + f.sessionMinutes * 60_000 > limit.until.getTime()
    },
    rule: 'grant_exceeded',
    reason: (f) => {
      const limit = grantLimit(f)!
      const left = Math.floor((limit.until.getTime() - known(f.now, 'now').getTime()) / 60_000)
      return ACCESS_MESSAGES.grantWindow(limit.until, left)
    },
  },
  {
    id: 'read_only_target',
    moments: ['search', 'start', 'continuous'],
    effect: 'read_only',
    applies: (f) => f.target.readOnlyIn.length > 0,
    rule: 'read_only_target',
    reason: (f) => readOnlyReason(f.target.readOnlyIn),
    cause: 'target_became_read_only',
  },
]

export type Judgement =
  | {
      allowed: true
      modes: ImpersonationMode[]
      defaultMode: ImpersonationMode
      /** Why only some modes (a `read_only` rule bit). */
      modeReason?: string
      /** The rule that keeps it read-only, when one rule alone does (what would lift it). */
      modeRule?: PolicyRule
    }
  | {
      allowed: false
      by: PolicyRuleDefinition
      reason: string
      /** `continuous`: the end cause, when the rule derives it from the facts. */
      cause?: EndCause
    }

export interface JudgeOptions {
  /** The mode to preselect when the target allows both (IMPERSONATION_DEFAULT_MODE; default full). */
  defaultMode?: ImpersonationMode | undefined
}

/** Every rule of `moment`, in order, on `facts`: the first refusal, else what is allowed. */
export function judge(
  moment: Moment,
  facts: PolicyFacts,
  options: JudgeOptions = {},
  rules: readonly PolicyRuleDefinition[] = RULES,
): Judgement {
  let modeReason: string | undefined
  /** The rules (by public name) that keep it read-only. */
  const modeRules = new Set<PolicyRule | undefined>()
  for (const rule of rules) {
    const at =
      rule.moments.includes(moment) ||
      (facts.actor.via !== undefined && rule.onBehalfAt?.includes(moment) === true)
    if (!at || !rule.applies(facts)) continue
    const reason = rule.reason?.(facts) ?? rule.id
    if (rule.effect === 'read_only') {
      if (facts.mode === 'full') {
        const who = facts.target.name ?? facts.target.id
        const refusal = `${who} may only be impersonated read-only: ${reason} Start a read-only impersonation instead.`
        return { allowed: false, by: rule, reason: refusal, ...causeOf(rule, facts, moment) }
      }
      modeReason ??= reason
      modeRules.add(rule.rule)
      continue
    }
    return { allowed: false, by: rule, reason, ...causeOf(rule, facts, moment) }
  }
  if (modeReason !== undefined) {
    const [only] = modeRules
    return {
      allowed: true,
      modes: ['read_only'],
      defaultMode: 'read_only',
      modeReason,
      ...(modeRules.size === 1 && only ? { modeRule: only } : {}),
    }
  }
  return { allowed: true, modes: ['read_only', 'full'], defaultMode: options.defaultMode ?? 'full' }
}

function causeOf(
  rule: PolicyRuleDefinition,
  facts: PolicyFacts,
  moment: Moment,
): { cause?: EndCause } {
  return moment === 'continuous' && rule.causeOf ? { cause: rule.causeOf(facts) } : {}
}

function missing(rule: PolicyRuleDefinition, what: string, moment: Moment): never {
  throw new Error(`policy: the rule ${rule.id} applies at ${moment} but has no ${what}`)
}

/** The judgement as a search row's verdict (the start's refusal is the same rule and message). */
export function verdictOf(judgement: Judgement): ImpersonationVerdict {
  if (judgement.allowed) {
    const { allowed, modes, defaultMode, modeReason, modeRule } = judgement
    return {
      allowed,
      modes,
      defaultMode,
      ...(modeReason ? { modeReason } : {}),
      ...(modeRule ? { modeRule } : {}),
    }
  }
  const rule = judgement.by.rule ?? missing(judgement.by, 'refusal rule', 'search')
  return { allowed: false, rule, reason: judgement.reason }
}

/** `continuous`: why a live impersonation ends now, or null. */
export function endCauseOf(judgement: Judgement): EndCause | null {
  if (judgement.allowed) return null
  return judgement.cause ?? judgement.by.cause ?? missing(judgement.by, 'end cause', 'continuous')
}

/** `return`: why Stop hands back no way in, or null. */
export function returnRefusalOf(judgement: Judgement): ReturnRefusal | null {
  if (judgement.allowed) return null
  return judgement.by.refusal ?? missing(judgement.by, 'return refusal', 'return')
}

/** The verdict every search row carries for a machine caller (no facts read for it). */
export const MACHINE_VERDICT: ImpersonationVerdict = verdictOf(
  judge('search', {
    actor: { id: '', machine: true, impersonating: false },
    target: { id: '', user: null, staff: false, readOnlyIn: [] },
  }),
)
