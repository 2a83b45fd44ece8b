import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

// Machines and machine-to-machine (M2M) tokens, as Clerk models them (bapi-2026-05-12.yml,
// `/machines`, `/m2m_tokens`): a machine has a secret key and a list of "scoped machines", the
// machines it may talk to. A token created with machine A's secret key has `subject` A and
// `scopes` = A's scoped machines; machine B accepts it when B is among those scopes. See
// docs/m2m.md.

export interface Machine {
  id: string
  name: string
  /** Machine secret key (`ak_` + 32 hex): authenticates `POST /m2m_tokens`. New on every start. */
  secretKey: string
  /** Ids of the machines this machine may talk to. */
  scopedMachineIds: string[]
  defaultTokenTtlSeconds: number
  createdAt: number
  updatedAt: number
}

export interface M2MToken {
  /** `mt_` + 32 hex: the token's id (not a secret). */
  id: string
  /** The bearer value (`mt_` + 48 hex): only returned when the token is created. */
  token: string
  machineId: string
  scopes: string[]
  claims: unknown
  revoked: boolean
  revocationReason: string | null
  /** Epoch ms, or null for a token that never expires. */
  expiresAt: number | null
  lastUsedAt: number | null
  createdAt: number
  updatedAt: number
}

/** What a seeded machine looks like to tools and tests (the CLI prints it). */
export interface SeededMachine {
  id: string
  name: string
  secretKey: string
  scopedMachineIds: string[]
}

/** The machine that stands for ActAs itself: a caller "has the right scope" when its scopes include it. */
export const ACTAS_MACHINE_NAME = 'actas-api'

/** Seeded machines: ActAs itself, two callers scoped to it, and one caller without a scope. */
export const SEEDED_MACHINES: ReadonlyArray<{ name: string; scopedTo: readonly string[] }> = [
  { name: ACTAS_MACHINE_NAME, scopedTo: [] },
  { name: 'helpdesk', scopedTo: [ACTAS_MACHINE_NAME] },
  { name: 'audit-export', scopedTo: [ACTAS_MACHINE_NAME] },
  { name: 'no-scope', scopedTo: [] },
]

/** `mch_` + 27 word characters, derived from the seed and the name: same seed, same ids. */
export function machineId(seed: number, name: string): string {
  return `mch_${createHash('sha256').update(`actas-local:${seed}:machine:${name}`).digest('hex').slice(0, 27)}`
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Machines and their M2M tokens, in memory. */
export class MachineRegistry {
  readonly machines = new Map<string, Machine>()
  readonly tokens = new Map<string, M2MToken>()
  readonly #byToken = new Map<string, M2MToken>()

  constructor(readonly now: () => number = Date.now) {}

  add(
    name: string,
    id: string,
    scopedMachineIds: string[],
    defaultTokenTtlSeconds = 3600,
  ): Machine {
    const at = this.now()
    const machine: Machine = {
      id,
      name,
      secretKey: `ak_${randomBytes(16).toString('hex')}`,
      scopedMachineIds,
      defaultTokenTtlSeconds,
      createdAt: at,
      updatedAt: at,
    }
    this.machines.set(id, machine)
    return machine
  }

  /** The machine whose secret key is `secret`, if any (constant-time per comparison). */
  bySecretKey(secret: string): Machine | undefined {
    let found: Machine | undefined
    for (const m of this.machines.values()) if (sameSecret(secret, m.secretKey)) found = m
    return found
  }

  byToken(token: string): M2MToken | undefined {
    return this.#byToken.get(token)
  }

  isExpired(token: M2MToken): boolean {
    return token.expiresAt !== null && this.now() >= token.expiresAt
  }

  createToken(machine: Machine, secondsUntilExpiration: number | null, claims: unknown): M2MToken {
    const at = this.now()
    const ttl = secondsUntilExpiration ?? machine.defaultTokenTtlSeconds
    const token: M2MToken = {
      id: `mt_${randomBytes(16).toString('hex')}`,
      token: `mt_${randomBytes(24).toString('hex')}`,
      machineId: machine.id,
      scopes: machine.scopedMachineIds.slice(),
      claims: claims ?? null,
      revoked: false,
      revocationReason: null,
      expiresAt: at + Math.round(ttl * 1000),
      lastUsedAt: null,
      createdAt: at,
      updatedAt: at,
    }
    this.tokens.set(token.id, token)
    this.#byToken.set(token.token, token)
    return token
  }

  /** A live token of `machine` with the same claims and at least `minSeconds` left (opaque-token reuse). */
  reusable(machine: Machine, claims: unknown, minSeconds: number): M2MToken | undefined {
    const wanted = JSON.stringify(claims ?? null)
    const at = this.now()
    for (const t of this.tokens.values()) {
      if (t.machineId !== machine.id || t.revoked || this.isExpired(t)) continue
      if (JSON.stringify(t.claims) !== wanted) continue
      if (t.expiresAt === null || t.expiresAt - at >= minSeconds * 1000) return t
    }
    return undefined
  }

  seeded(): SeededMachine[] {
    return [...this.machines.values()].map((m) => ({
      id: m.id,
      name: m.name,
      secretKey: m.secretKey,
      scopedMachineIds: m.scopedMachineIds.slice(),
    }))
  }
}

/** Adds SEEDED_MACHINES to `registry`, ids derived from `seed`. */
export function seedMachines(registry: MachineRegistry, seed: number): SeededMachine[] {
  const ids = new Map(SEEDED_MACHINES.map((m) => [m.name, machineId(seed, m.name)]))
  for (const m of SEEDED_MACHINES) {
    registry.add(
      m.name,
      ids.get(m.name)!,
      m.scopedTo.map((name) => ids.get(name)!),
    )
  }
  return registry.seeded()
}
