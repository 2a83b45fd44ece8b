// Phone numbers as people type them, turned into what Clerk's `query` matches.
//
// Clerk matches `query` as a substring of each phone number in E.164 (`+33654616717`), so only the
// bare digits find a user: `+33 6 54 61 67 17`, `06 54 61 67 17` or `(650) 253-0000` find nothing
// as typed. A query made only of digits and separators is a phone query:
// - spaces, dashes, dots, slashes and parentheses are dropped; `00` in front becomes `+`;
// - `+…` (international): the digits after `+` (country code included), complete or not;
// - a national number whose trunk prefix was typed (`06 54 61 67 17` with default country FR,
//   `07911 123456` with GB): the prefix is replaced by the default country's calling code, by
//   libphonenumber-js (`AsYouType`, so a partial number works too: `06 54 61` → `3365461`);
// - otherwise the digits as typed, which are already a substring of the E.164 number (bare
//   national digits, or digits with the country code).
import { AsYouType, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js'
import type { CountryCode } from 'libphonenumber-js'

const PHONE_LIKE = /^\+?[\d\s().\-/]+$/
const SEPARATORS = /[\s().\-/]/g
/** Fewer digits than this is not treated as a phone number (too many accidental matches). */
const MIN_DIGITS = 3

export interface SearchQuery {
  /** What to send to Clerk as `query` (undefined: list everyone). */
  query: string | undefined
  /** The digits a phone must contain to have matched (null: not a phone query). */
  phoneDigits: string | null
}

export function normalizeSearchQuery(
  raw: string | undefined,
  defaultCountry: CountryCode,
): SearchQuery {
  const query = raw?.trim() || undefined
  if (!query || !PHONE_LIKE.test(query)) return { query, phoneDigits: null }
  let cleaned = query.replace(SEPARATORS, '')
  if (cleaned.startsWith('00')) cleaned = `+${cleaned.slice(2)}`
  const digits = cleaned.replace(/^\+/, '')
  if (digits.length < MIN_DIGITS || !/^\d+$/.test(digits)) return { query, phoneDigits: null }
  if (cleaned.startsWith('+')) return { query: digits, phoneDigits: digits }
  const phoneDigits = withoutTrunkPrefix(digits, defaultCountry) ?? digits
  return { query: phoneDigits, phoneDigits }
}

/** `06546…` in FR → `336546…`; null when no trunk prefix was typed. */
function withoutTrunkPrefix(digits: string, country: CountryCode): string | null {
  const typer = new AsYouType(country)
  typer.input(digits)
  const value = typer.getNumberValue()
  const callingCode = getCountryCallingCode(country)
  if (!value || !value.startsWith(`+${callingCode}`)) return null
  const national = value.slice(1 + callingCode.length)
  // The national significant number is what was typed minus a prefix: a trunk prefix.
  if (national.length > 0 && national !== digits && digits.endsWith(national)) {
    return `${callingCode}${national}`
  }
  return null
}

/** The first of `phones` (E.164) that contains `phoneDigits`, formatted for people. */
export function matchingPhone(phones: readonly string[], phoneDigits: string): string | null {
  const phone = phones.find((p) => p.replace(/\D/g, '').includes(phoneDigits))
  if (!phone) return null
  return parsePhoneNumberFromString(phone)?.formatInternational() ?? phone
}
