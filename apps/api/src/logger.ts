// pino with request ids; authorization headers, cookies, tickets and keys never reach the log.
import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'ticket',
  'token',
  'secretKey',
  'jwtKey',
  '*.ticket',
  '*.token',
  '*.secretKey',
  '*.jwtKey',
  '*.authorization',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'actas-api' },
  }
  return destination ? pino(options, destination) : pino(options)
}
