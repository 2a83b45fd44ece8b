// The composition root: builds every adapter from validated config, once per process.
import type { Logger } from 'pino'
import type { RateLimiterPort } from '@actas/contracts'
import { openDatabase } from './audit/db.js'
import type { OpenedDatabase } from './audit/db.js'
import { AuditStore } from './audit/store.js'
import type { Config } from './config.js'
import { ClerkDirectory } from './directory/clerk-directory.js'
import { StaffOrganizations } from './directory/staff-organizations.js'
import type { UserDirectory } from './directory/user-directory.js'
import { ImpersonationService } from './impersonation/service.js'
import { createLogger } from './logger.js'
import { MemoryRateLimiter } from './rate-limit.js'
import { SessionInspector } from './sessions/inspector.js'

export interface AppDeps {
  config: Config
  logger: Logger
  database: OpenedDatabase
  directory: UserDirectory
  /** STAFF_ORGANIZATIONS resolved to ids (once, lazily; see directory/staff-organizations.ts). */
  staffOrganizations: StaffOrganizations
  audit: AuditStore
  service: ImpersonationService
  rateLimiter: RateLimiterPort
  sessions: SessionInspector
  now: () => Date
  /** Closes what createDeps opened (Clerk connections, the database). Call after the app has closed. */
  close(): Promise<void>
}

export interface DepsOverrides {
  logger?: Logger
  now?: () => Date
  /** An already opened database (tests share one per file). */
  database?: OpenedDatabase
}

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<AppDeps> {
  const logger = overrides.logger ?? createLogger(config.logLevel)
  const now = overrides.now ?? (() => new Date())
  const database = overrides.database ?? (await openDatabase(config.database))
  const directory = new ClerkDirectory({
    secretKey: config.clerk.secretKey,
    publishableKey: config.clerk.publishableKey,
    apiUrl: config.clerk.apiUrl,
    timeoutMs: config.clerk.timeoutMs,
  })
  const staffOrganizations = new StaffOrganizations({
    entries: config.staffOrganizations,
    directory,
    logger: logger.child({ component: 'staff-organizations' }),
  })
  // Resolved in the background now so the first request rarely waits; a failure is logged and
  // retried on demand.
  staffOrganizations.ids().catch(() => undefined)
  const audit = new AuditStore(database.db, now)
  const service = new ImpersonationService({
    directory,
    audit,
    now,
    logger: logger.child({ component: 'impersonation' }),
    staffOrganizations,
    defaultPhoneCountry: config.defaultPhoneCountry,
    actorTokenTtlSeconds: config.clerk.actorTokenTtlSeconds,
    impersonationQuota: config.impersonationQuota,
    appHomePath: config.appHomePath,
  })
  const rateLimiter = new MemoryRateLimiter(config.rateLimits, () => now().getTime())
  const sessions = new SessionInspector({
    secretKey: config.clerk.secretKey,
    apiUrl: config.clerk.apiUrl,
    jwtKey: config.clerk.jwtKey,
    authorizedParties: config.clerk.authorizedParties,
  })
  return {
    config,
    logger,
    database,
    directory,
    staffOrganizations,
    audit,
    service,
    rateLimiter,
    sessions,
    now,
    close: async () => {
      directory.close()
      if (!overrides.database) await database.close()
    },
  }
}
