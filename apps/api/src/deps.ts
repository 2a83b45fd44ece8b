// The composition root: builds every adapter from validated config, once per process.
import { createPublicKey } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RateLimiterPort } from '@actas/contracts'
import { parseSigningKey } from './audit/chain.js'
import { openDatabase } from './audit/db.js'
import type { OpenedDatabase } from './audit/db.js'
import { QuotaGate } from './audit/quota.js'
import { startRetention } from './audit/retention.js'
import { AuditStore } from './audit/store.js'
import type { Config } from './config.js'
import { ClerkDirectory } from './directory/clerk-directory.js'
import { MembershipMirror } from './directory/membership-mirror.js'
import { SignedInMirror } from './impersonation/last-sign-in.js'
import { StaffOrganizations } from './directory/staff-organizations.js'
import type { UserDirectory } from './directory/user-directory.js'
import { ImpersonationLifecycle } from './impersonation/lifecycle.js'
import { ImpersonationPolicy } from './impersonation/policy-facts.js'
import { Reconciler } from './impersonation/reconciler.js'
import { ImpersonationService } from './impersonation/service.js'
import { AlertService } from './alerts/service.js'
import { LogStreamDispatcher } from './log-streams/dispatcher.js'
import { createLogger } from './logger.js'
import { AuditExporter } from './ocsf/export.js'
import { connectRedis, IpRateLimiter, ProcedureRateLimiter } from './rate-limit.js'
import { SessionInspector } from './sessions/inspector.js'
import { SessionVerifier } from './sessions/verifier.js'
import { RevocationRegistry, revocationChannel } from './sessions/revocations.js'
import { WebhookDispatcher } from './webhooks/dispatcher.js'
import { WebhookOutbox } from './webhooks/outbox.js'
import { AccessFactsReader } from './access/facts.js'
import { AccessService } from './access/service.js'
import { AccessStore } from './access/store.js'

export interface AppDeps {
  config: Config
  logger: Logger
  database: OpenedDatabase
  directory: UserDirectory
  /** STAFF_ORGANIZATIONS resolved to ids (once, lazily; see directory/staff-organizations.ts). */
  staffOrganizations: StaffOrganizations
  /** The organizations shown in search rows (MEMBERSHIP_MIRROR_REFRESH_SECONDS; absent when 0). */
  memberships: MembershipMirror | undefined
  audit: AuditStore
  service: ImpersonationService
  rateLimiter: RateLimiterPort
  /** Per client IP: credentials Clerk must verify (see plugins/auth.ts). */
  ipLimiter: IpRateLimiter
  /** The Redis client of the shared limits (REDIS_URL), if any. */
  redis: Redis | undefined
  sessions: SessionInspector
  /** Verifies Clerk session tokens (authentication and sessions.inspect; see sessions/verifier.ts). */
  sessionVerifier: SessionVerifier
  /** Impersonated sessions ActAs ended: refused by every instance (see sessions/revocations.ts). */
  revocations: RevocationRegistry
  lifecycle: ImpersonationLifecycle
  /** The policy's one judge (search, start, continuous re-authorization, the return). */
  policy: ImpersonationPolicy
  reconciler: Reconciler
  /** The outbox of webhooks to the host (WEBHOOK_ENDPOINTS): the audit page's view and retry. */
  webhooks: WebhookOutbox
  /** Access requests, grants and organizations' settings (access.*, customer.*). */
  access: AccessService
  /** Sends the outbox's messages; absent without endpoints. */
  webhookDispatcher: WebhookDispatcher | undefined
  /** `audit.export`: the chain as events or OCSF (ocsf/export.ts). */
  auditExport: AuditExporter
  /** Sends the chain to the configured log streams (LOG_STREAMS); absent without any. */
  logStreams: LogStreamDispatcher | undefined
  /** The alert rules (ALERT_*): `alerts.recent`, the periodic check. */
  alerts: AlertService
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

/**
 * What createDeps opened, closed in the reverse order: by `close()`, or at once when start-up
 * fails midway (timers, the LISTEN client, the database and Redis never outlive a failed start).
 */
const CLOSE_TIMEOUT_MS = 5_000

class Opened {
  private readonly closers: { what: string; close: () => unknown }[] = []

  /** `value`, whose `close` runs when everything opened after it has been closed. */
  add<T>(what: string, value: T, close: (value: T) => unknown): T {
    this.closers.push({ what, close: () => close(value) })
    return value
  }

  /**
   * Closes everything, last opened first; a failure is logged and the rest still closed. Each
   * close is bounded (CLOSE_TIMEOUT_MS): a frozen database or Redis never holds the shutdown.
   */
  async closeAll(logger: Logger): Promise<void> {
    for (const { what, close } of this.closers.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          Promise.resolve().then(close),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out`)), CLOSE_TIMEOUT_MS)
          }),
        ])
      } catch (err) {
        logger.error({ err, what }, 'closing failed')
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<AppDeps> {
  const logger = overrides.logger ?? createLogger(config.logLevel)
  const opened = new Opened()
  try {
    return await openDeps(config, overrides, logger, opened)
  } catch (error) {
    logger.error(
      { err: error },
      'start-up failed; closing what was opened (database, timers, listener, Redis)',
    )
    await opened.closeAll(logger)
    throw error
  }
}

async function openDeps(
  config: Config,
  overrides: DepsOverrides,
  logger: Logger,
  opened: Opened,
): Promise<AppDeps> {
  const now = overrides.now ?? (() => new Date())
  const database = overrides.database
    ? overrides.database
    : opened.add(
        'database',
        await openDatabase(config.database, { logger: logger.child({ component: 'database' }) }),
        (db) => db.close(),
      )
  logger.info({ kind: database.kind }, 'audit database open')
  const directory = opened.add(
    'Clerk connections',
    new ClerkDirectory({
      secretKey: config.clerk.secretKey,
      publishableKey: config.clerk.publishableKey,
      apiUrl: config.clerk.apiUrl,
      timeoutMs: config.clerk.timeoutMs,
      logger: logger.child({ component: 'clerk' }),
    }),
    (d) => d.close(),
  )
  const staffOrganizations = new StaffOrganizations({
    entries: config.staffOrganizations,
    directory,
    logger: logger.child({ component: 'staff-organizations' }),
  })
  // Resolved in the background now so the first request rarely waits; a failure is logged and
  // retried on demand.
  staffOrganizations.ids().catch(() => undefined)
  const readOnlyOrganizations =
    config.readOnlyOrganizations.length > 0
      ? new StaffOrganizations({
          entries: config.readOnlyOrganizations,
          setting: 'READ_ONLY_ORGANIZATIONS',
          directory,
          logger: logger.child({ component: 'read-only-organizations' }),
        })
      : null
  readOnlyOrganizations?.ids().catch(() => undefined)
  // The organizations shown in search rows, without one Clerk call per user (display only).
  const memberships =
    config.membershipMirrorRefreshMs > 0
      ? new MembershipMirror({
          directory,
          logger: logger.child({ component: 'membership-mirror' }),
          refreshMs: config.membershipMirrorRefreshMs,
        })
      : undefined
  if (memberships) {
    memberships.start()
    opened.add('membership mirror', memberships, (m) => m.stop())
  }
  const signer = config.audit.signingKey ? parseSigningKey(config.audit.signingKey) : null
  if (!signer)
    logger.warn('AUDIT_SIGNING_KEY is not set: the audit chain gets no signed checkpoints')
  // Webhooks to the host: messages are written with the events they announce (same
  // transaction) and sent by this instance's dispatcher (and every other instance's).
  const webhooks = new WebhookOutbox(database.db, {
    endpoints: config.webhooks.endpoints.map((e) => e.url),
    logger: logger.child({ component: 'webhooks' }),
  })
  const webhookDispatcher =
    config.webhooks.endpoints.length > 0
      ? new WebhookDispatcher(database.db, {
          endpoints: config.webhooks.endpoints,
          logger: logger.child({ component: 'webhooks' }),
          maxAttempts: config.webhooks.maxAttempts,
          timeoutMs: config.webhooks.timeoutMs,
          retryBaseMs: config.webhooks.retryBaseMs,
          retryMaxMs: config.webhooks.retryMaxMs,
          intervalMs: config.webhooks.dispatchIntervalMs,
        })
      : undefined
  webhooks.onEnqueued = webhookDispatcher ? () => webhookDispatcher.wake() : undefined
  if (webhookDispatcher) {
    webhookDispatcher.start()
    opened.add('webhook dispatcher', webhookDispatcher, (d) => d.close())
  }
  // The search rows' last sign-in, in memory (last-sign-in.ts): told of this process's sign-ins.
  const signedIn = new SignedInMirror({
    audit: {
      signedInSince: (afterSeq, limit) => audit.signedInSince(afterSeq, limit),
      latestImpersonatedSignIns: (userIds) => audit.latestImpersonatedSignIns(userIds),
    },
  })
  const audit = new AuditStore(database.db, {
    now,
    signer,
    previousPublicKeys: config.auditPreviousPublicKeys.map((pem) => createPublicKey(pem)),
    checkpointEvery: config.audit.checkpointEvery,
    checkpointMinutes: config.audit.checkpointMinutes,
    outbox: webhooks.enabled ? webhooks : null,
    onAppended: (type) => {
      if (type === 'signed_in') signedIn.invalidate()
    },
  })
  // Time-based checkpoints: a signed head at least every AUDIT_CHECKPOINT_MINUTES when it moved.
  const checkpointTimer = signer
    ? setInterval(
        () =>
          void audit.checkpointIfDue().catch((err: unknown) => {
            logger.error({ err }, 'audit checkpoint failed')
          }),
        Math.min(60_000, config.audit.checkpointMinutes * 60_000),
      )
    : null
  if (checkpointTimer) {
    checkpointTimer.unref()
    opened.add('checkpoint timer', checkpointTimer, (t) => clearInterval(t))
  }
  // Log streams: every event of the chain, in order, to each configured receiver.
  const logStreams =
    config.logStreams.length > 0
      ? new LogStreamDispatcher(database.db, {
          streams: config.logStreams,
          audit,
          logger: logger.child({ component: 'log-streams' }),
          now,
        })
      : undefined
  if (logStreams) {
    await logStreams.start()
    opened.add('log streams', logStreams, (d) => d.close())
  }
  // Alert rules (ALERT_*): after each start, and a periodic check of the chain and the streams.
  const alerts = new AlertService(database.db, {
    settings: config.alerts,
    audit,
    logger: logger.child({ component: 'alerts' }),
    now,
  })
  alerts.start()
  opened.add('alerts', alerts, (a) => a.close())
  opened.add(
    'retention',
    startRetention(audit, {
      retentionDays: config.audit.retentionDays,
      logger: logger.child({ component: 'retention' }),
    }),
    async (r) => {
      r.stop()
      await r.running
    },
  )
  const revocations = new RevocationRegistry({
    db: database.db,
    logger: logger.child({ component: 'revocations' }),
    refreshMs: config.revocationRefreshMs,
    listen:
      config.database.kind === 'postgres' && database.kind === 'postgres'
        ? { url: config.database.url, channel: revocationChannel(config.database.schema) }
        : null,
  })
  opened.add('revocation registry', revocations, (r) => r.close())
  await revocations.start()
  const sessionVerifier = new SessionVerifier({
    secretKey: config.clerk.secretKey,
    publishableKey: config.clerk.publishableKey,
    apiUrl: config.clerk.apiUrl,
    jwtKey: config.clerk.jwtKey,
    authorizedParties: config.clerk.authorizedParties,
    ...(overrides.now ? { now: () => now().getTime() } : {}),
  })
  const sessions = new SessionInspector({ revocations, verifier: sessionVerifier })
  // The access model (consent, two-person rule, organizations' settings): its facts feed the judge.
  const accessStore = new AccessStore(database.db, audit, now)
  const accessOrganizations = (entries: readonly string[], setting: string, needed: boolean) => {
    if (needed && entries.length === 0)
      throw new Error(`${setting} needs at least one organization for the rule that names it`)
    return entries.length > 0
      ? new StaffOrganizations({
          entries,
          setting,
          directory,
          logger: logger.child({ component: 'access-organizations' }),
        })
      : null
  }
  const accessFacts = new AccessFactsReader({
    store: accessStore,
    directory,
    now,
    rules: {
      consent: config.access.consent,
      consentOrganizations: accessOrganizations(
        config.access.consentOrganizations,
        'ACCESS_CONSENT_ORGANIZATIONS',
        config.access.consent === 'organizations',
      ),
      approval: config.access.approval,
      approvalOrganizations: accessOrganizations(
        config.access.approvalOrganizations,
        'ACCESS_APPROVAL_ORGANIZATIONS',
        config.access.approval === 'organizations' || config.access.approval === 'roles',
      ),
      approvalRoles: config.access.approvalRoles,
    },
  })
  // The one judge of the policy, for search, start, continuous re-authorization and the return.
  const policy = new ImpersonationPolicy({
    directory,
    staffOrganizations,
    readOnlyOrganizations,
    defaultMode: config.impersonationDefaultMode,
    now,
    access: accessFacts,
  })
  const lifecycle = new ImpersonationLifecycle({
    directory,
    audit,
    sessions,
    revocations,
    now,
    logger: logger.child({ component: 'lifecycle' }),
    policy,
    returnToConsole: config.returnToConsole,
  })
  const reconciler = new Reconciler({
    audit,
    directory,
    lifecycle,
    now,
    logger: logger.child({ component: 'reconciler' }),
    policy,
    maxClerkCalls: config.reconciler.maxClerkCalls,
  })
  opened.add('reconciler', reconciler, (r) => r.close())
  if (config.reconciler.intervalSeconds > 0)
    reconciler.start(config.reconciler.intervalSeconds * 1000)
  const service = new ImpersonationService({
    directory,
    audit,
    now,
    logger: logger.child({ component: 'impersonation' }),
    policy,
    defaultPhoneCountry: config.defaultPhoneCountry,
    ...(memberships ? { memberships } : {}),
    signedIn,
    actorTokenTtlSeconds: config.clerk.actorTokenTtlSeconds,
    impersonationQuota: config.impersonationQuota,
    impersonationQuotaMode: config.impersonationQuotaMode,
    defaultMode: config.impersonationDefaultMode,
    stepUpMinutes: config.stepUpMinutes,
    quotaGate: new QuotaGate(database.db),
    appHomePath: config.appHomePath,
    appOrigins: config.appOrigins,
    lifecycle,
    deniedFullPerMinute: config.audit.deniedFullPerMinute,
    onStartSettled: (actorId, id) => alerts.settled(actorId, id),
  })
  opened.add('impersonation service', service, (s) => s.close())
  const access = new AccessService({
    store: accessStore,
    audit,
    directory,
    staffOrganizations,
    policy,
    reconciler,
    recordDenied: (attempt, request) => service.recordDenied(attempt, request),
    requestExpiryDays: config.access.requestExpiryDays,
    staffDisplay: config.access.staffDisplay,
    stepUpMinutes: config.stepUpMinutes,
    now,
    logger: logger.child({ component: 'access' }),
  })
  access.start(30_000)
  opened.add('access expiry', access, (a) => a.close())
  const redis = config.redis
    ? opened.add(
        'Redis',
        await connectRedis(config.redis.url, logger.child({ component: 'redis' })),
        (r) => r.disconnect(),
      )
    : undefined
  const limiterStore = {
    // A clock given by the caller (tests) moves the limits' windows too.
    now: overrides.now ? () => now().getTime() : undefined,
    redis,
    keyPrefix: config.redis?.keyPrefix ?? 'actas',
    logger: logger.child({ component: 'rate-limit' }),
  }
  const rateLimiter = new ProcedureRateLimiter(config.rateLimits, limiterStore)
  const ipLimiter = new IpRateLimiter(config.unverifiedPerIpPerMinute, limiterStore)
  return {
    config,
    logger,
    database,
    directory,
    staffOrganizations,
    memberships,
    audit,
    service,
    rateLimiter,
    ipLimiter,
    redis,
    sessions,
    sessionVerifier,
    revocations,
    lifecycle,
    policy,
    reconciler,
    webhooks,
    webhookDispatcher,
    access,
    auditExport: new AuditExporter({ db: database.db, audit }),
    logStreams,
    alerts,
    now,
    close: () => opened.closeAll(logger),
  }
}
