// Which procedures machines (other services with Clerk M2M tokens) may call. Browser-safe.
// Deny by default: a machine may call a procedure only when (1) the procedure's meta allows
// machines (`machines: 'read'`, `'write'` or `'on_behalf'`), (2) it is not one of
// NEVER_FOR_MACHINES, and (3) the permission map grants it to the machine's id or to one of its
// scopes.

/** The read procedures machines may be granted. */
export const MACHINE_READ_PROCEDURES = [
  'users.search',
  'impersonation.list',
  'impersonation.get',
  'sessions.inspect',
  'sessions.revoked',
  'audit.verify',
  'audit.export',
] as const

/**
 * Read procedures left out of the default map: each needs an explicit MACHINE_PERMISSIONS grant
 * (`audit.verify` walks the chain: work for the database, not a routine read).
 */
export const MACHINE_EXPLICIT_READ_PROCEDURES: readonly string[] = ['audit.verify']

/**
 * The write procedures machines may be granted: reports a service makes to ActAs (the guard's
 * action trail). Never in the default map: each needs an explicit MACHINE_PERMISSIONS grant.
 */
export const MACHINE_WRITE_PROCEDURES = ['impersonation.actions'] as const

/**
 * The procedures a machine calls only on behalf of a named staff member (input `onBehalfOf:
 * user_…`), judged exactly as if that person called it (their permission and staff organization
 * read from Clerk, the policy, consent and approval grants, quotas, step-up) and recorded with the
 * person as actor and the machine as `via`. Never in the default map: each needs an explicit
 * MACHINE_PERMISSIONS grant. A machine ends only the impersonations it started itself.
 */
export const MACHINE_ON_BEHALF_PROCEDURES = ['impersonation.start', 'impersonation.end'] as const

/** Every procedure a machine may ever be granted. */
export const MACHINE_PROCEDURES = [
  ...MACHINE_READ_PROCEDURES,
  ...MACHINE_WRITE_PROCEDURES,
  ...MACHINE_ON_BEHALF_PROCEDURES,
] as const

/** Revoking a ticket stays a human act (the console's own): no configuration grants it. */
export const NEVER_FOR_MACHINES: readonly string[] = ['impersonation.revoke']

/**
 * Machine id (`mch_…`) or scope (the id of a machine the caller may talk to, e.g. ActAs's own
 * machine id) → procedure names.
 */
export type MachinePermissions = Readonly<Record<string, readonly string[]>>

/**
 * The default map: every machine whose scopes include `actasMachineId` may call the read
 * procedures but MACHINE_EXPLICIT_READ_PROCEDURES (not the writes nor the on-behalf procedures
 * either: those are granted one by one).
 */
export function defaultMachinePermissions(actasMachineId: string): MachinePermissions {
  return {
    [actasMachineId]: MACHINE_READ_PROCEDURES.filter(
      (p) => !MACHINE_EXPLICIT_READ_PROCEDURES.includes(p),
    ),
  }
}

/** Whether `permissions` grants `procedure` to a machine (the meta check is the router's). */
export function machineMayCall(
  permissions: MachinePermissions,
  machine: { machineId: string; scopes: readonly string[] },
  procedure: string,
): boolean {
  if (NEVER_FOR_MACHINES.includes(procedure)) return false
  for (const [key, procedures] of Object.entries(permissions)) {
    if (key !== machine.machineId && !machine.scopes.includes(key)) continue
    if (procedures.includes(procedure)) return true
  }
  return false
}
