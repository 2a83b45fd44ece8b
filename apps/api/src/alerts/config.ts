// ALERT_*: the alert rules' thresholds (config.ts spreads `AlertsEnvShape` into the environment
// schema and calls `alertSettings`). A threshold of 0 (the default) turns its rule off.
//
//   ALERT_MANY_TARGETS=20                    distinct users one staff member starts on in an hour
//   ALERT_REFUSALS=10                        refused starts (denied, failed) of one staff member in an hour
//   ALERT_WORKING_HOURS="Mon-Fri 08:00-18:00 Europe/Berlin"   starts outside them alert (unset: off)
//   ALERT_CHAIN_CHECK=true                   a periodic verify of the chain; a break alerts
//   ALERT_STREAM_FAILING=true                a log stream in state `failing` alerts
//   ALERT_CHECK_INTERVAL_MS=60000            how often the periodic checks run
import { z } from 'zod'

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const

/** Working hours: the week days (0 = Sunday), the minutes of the day [from, to), a time zone. */
export interface WorkingHours {
  days: readonly number[]
  fromMinute: number
  toMinute: number
  timeZone: string
  /** As configured, for the alert's summary. */
  text: string
}

const minuteOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number)
  return (h ?? 0) * 60 + (m ?? 0)
}

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const HOURS =
  /^(?:(Sun|Mon|Tue|Wed|Thu|Fri|Sat)(?:-(Sun|Mon|Tue|Wed|Thu|Fri|Sat))?\s+)?([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)\s+(\S+)$/

export const WorkingHoursSchema = z
  .string()
  .trim()
  .transform((v, ctx): WorkingHours => {
    const m = HOURS.exec(v)
    if (!m) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be "[Mon-Fri ]HH:MM-HH:MM <IANA time zone>", e.g. "Mon-Fri 08:00-18:00 Europe/Berlin"',
      })
      return z.NEVER
    }
    const [, d1, d2, h1, m1, h2, m2, zone = ''] = m
    if (!isTimeZone(zone)) {
      ctx.addIssue({
        code: 'custom',
        message: `${zone} is not a time zone (IANA, e.g. Europe/Berlin)`,
      })
      return z.NEVER
    }
    const fromMinute = minuteOf(`${h1}:${m1}`)
    const toMinute = minuteOf(`${h2}:${m2}`)
    if (toMinute <= fromMinute || toMinute > 24 * 60) {
      ctx.addIssue({ code: 'custom', message: 'the hours must end after they start, by 24:00' })
      return z.NEVER
    }
    let days: number[] = [0, 1, 2, 3, 4, 5, 6]
    if (d1) {
      const a = DAYS.indexOf(d1 as (typeof DAYS)[number])
      const b = d2 ? DAYS.indexOf(d2 as (typeof DAYS)[number]) : a
      days = []
      for (let i = a; ; i = (i + 1) % 7) {
        days.push(i)
        if (i === b) break
      }
    }
    return { days, fromMinute, toMinute, timeZone: zone, text: v }
  })

const threshold = (fallback: number) =>
  z.preprocess(blank, z.coerce.number().int().min(0).max(100_000).default(fallback))
const flag = (fallback: boolean) =>
  z.preprocess(
    blank,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  )

export const AlertsEnvShape = {
  ALERT_MANY_TARGETS: threshold(0),
  ALERT_REFUSALS: threshold(0),
  ALERT_WORKING_HOURS: z.preprocess(blank, WorkingHoursSchema.optional()),
  ALERT_CHAIN_CHECK: flag(true),
  ALERT_STREAM_FAILING: flag(true),
  ALERT_CHECK_INTERVAL_MS: z.preprocess(
    blank,
    z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  ),
}

type AlertsEnv = z.output<z.ZodObject<typeof AlertsEnvShape>>

/** The rules' settings, as the alert service takes them. */
export interface AlertSettings {
  /** Distinct users per staff member per hour (0: off). */
  manyTargets: number
  /** Refused starts per staff member per hour (0: off). */
  refusals: number
  workingHours: WorkingHours | null
  chainCheck: boolean
  streamFailing: boolean
  checkIntervalMs: number
}

export function alertSettings(e: AlertsEnv): { alerts: AlertSettings } {
  return {
    alerts: {
      manyTargets: e.ALERT_MANY_TARGETS,
      refusals: e.ALERT_REFUSALS,
      workingHours: e.ALERT_WORKING_HOURS ?? null,
      chainCheck: e.ALERT_CHAIN_CHECK,
      streamFailing: e.ALERT_STREAM_FAILING,
      checkIntervalMs: e.ALERT_CHECK_INTERVAL_MS,
    },
  }
}

/** Whether `at` falls within the working hours (in their time zone). */
export function withinHours(hours: WorkingHours, at: Date): boolean {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: hours.timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at)
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
  const day = DAYS.indexOf(get('weekday') as (typeof DAYS)[number])
  const minute = Number(get('hour')) * 60 + Number(get('minute'))
  return hours.days.includes(day) && minute >= hours.fromMinute && minute < hours.toMinute
}
