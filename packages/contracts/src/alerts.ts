// Alerts (issue 23): rules over the audit log with thresholds the operator configures (ALERT_*).
// Each alert is an event of the chain (`alert.raised`, ALERT_EVENT_TYPES), a webhook to the host
// (`alert.raised`, AlertWebhookSchema) and so a log-stream event; staff see the recent ones on
// the Active now page (`alerts.recent`). Raised once per rule, subject and window, whichever API
// instance sees it first. Browser-safe: zod only.
import { z } from 'zod'
import type { StaffPrincipal } from './ports.js'
import { InstantSchema } from './schemas/common.js'

/**
 * What an alert says looks wrong:
 * - `many_targets`: one staff member started impersonations of many distinct users in an hour;
 * - `refusal_burst`: many refused starts (denied, failed) by one staff member in an hour;
 * - `off_hours_start`: a start outside the configured working hours (in their time zone);
 * - `chain_unverified`: the audit chain (or a row projected from it) does not verify;
 * - `stream_failing`: a log stream to a SIEM is failing.
 */
export const ALERT_RULES = [
  'many_targets',
  'refusal_burst',
  'off_hours_start',
  'chain_unverified',
  'stream_failing',
] as const
export const AlertRuleSchema = z.enum(ALERT_RULES)
export type AlertRule = z.infer<typeof AlertRuleSchema>

/** The chain's event of an alert (its subject: the alert's row, `alerts`). */
export const ALERT_EVENT_TYPES = ['alert.raised'] as const
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number]

/** The host's message of an alert. */
export const ALERT_WEBHOOK_TYPES = ['alert.raised'] as const satisfies readonly AlertEventType[]

/** One alert: which rule, about whom or what, the figures, the window it counts. */
export const AlertSchema = z.object({
  id: z.uuid(),
  rule: AlertRuleSchema,
  /** A staff member's user id, a stream's id, or `chain`. */
  subject: z.string(),
  /** What was counted (or the hour seen, the chain's break) against the rule's threshold. */
  count: z.number().int().min(0),
  threshold: z.number().int().min(0),
  windowStart: InstantSchema,
  windowEnd: InstantSchema,
  /** In words, for a person: what happened. */
  summary: z.string(),
  seq: z.number().int().min(1),
  raisedAt: InstantSchema,
})
export type Alert = z.infer<typeof AlertSchema>

export const AlertWebhookSchema = z.object({
  type: z.enum(ALERT_WEBHOOK_TYPES),
  timestamp: InstantSchema,
  data: AlertSchema,
})
export type AlertWebhook = z.infer<typeof AlertWebhookSchema>

export const AlertsRecentOutputSchema = z.object({
  /** Newest first, at most 20. */
  items: z.array(AlertSchema),
  /** Whether any rule is configured. */
  enabled: z.boolean(),
})
export type AlertsRecentOutput = z.infer<typeof AlertsRecentOutputSchema>

/** `alerts.recent` (staff only). */
export interface AlertsPort {
  recent(principal: StaffPrincipal): Promise<AlertsRecentOutput>
}
