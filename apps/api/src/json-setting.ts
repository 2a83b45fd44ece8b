import { z } from 'zod'

/**
 * A setting that holds JSON (WEBHOOK_ENDPOINTS, MACHINE_PERMISSIONS, LOG_STREAMS): the parsed
 * value for the schema piped after it, `whenUnset` when the variable is unset, and otherwise one
 * issue saying `message` — never JSON.parse's own message, which quotes the text (and so a secret).
 */
export function jsonSetting(message: string, whenUnset: unknown) {
  return z
    .string()
    .optional()
    .transform((v, ctx): unknown => {
      if (v === undefined) return whenUnset
      try {
        return JSON.parse(v) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message })
        return z.NEVER
      }
    })
}

/**
 * A receiver's URL in such a setting: http(s) only, and no `user:password@` (a URL is logged,
 * credentials go in a field of their own that is not). `hint` ends the credentials message with
 * where they go instead (e.g. `: use token`).
 */
export function receiverUrl(hint: string) {
  return z
    .string({ error: 'url is required (http or https)' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
      message: 'url must be an http(s) URL',
    })
    .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), {
      message: `url must not carry credentials (user:password@)${hint}`,
    })
}
