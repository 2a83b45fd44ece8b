// The alerts' events in the chain (`alert.*`): their subject is an alert's row, not an
// impersonation, so the impersonations' projection check (audit/verify.ts) leaves them out.
import { like } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { auditEvents } from '../audit/schema.js'

export const ALERT_EVENTS: SQL = like(auditEvents.type, 'alert.%')
