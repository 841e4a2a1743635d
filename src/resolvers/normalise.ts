import { parsePhoneNumberFromString } from 'libphonenumber-js'

/** Numbers seen lately -> their E.164 form (or null): callers call again and publishers post the same numbers. */
const recentNumbers = new Map<string, string | null>()
const RECENT_NUMBERS_MAX = 50_000

/** Phone number -> E.164, default country +1 (US/CA); null when it is not a phone number. */
export function normalisePhoneNumber(raw: string, defaultCountry: 'US' = 'US'): string | null {
  const known = recentNumbers.get(raw)
  if (known !== undefined) return known
  const trimmed = raw.trim()
  const parsed = trimmed ? parsePhoneNumberFromString(trimmed, defaultCountry) : undefined
  const number = parsed?.isPossible() ? parsed.number : null
  // libphonenumber's parse was about 2.5 % of the server's time taking call events (bench/README.md)
  if (recentNumbers.size >= RECENT_NUMBERS_MAX) recentNumbers.clear()
  if (raw.length <= 64) recentNumbers.set(raw, number)
  return number
}

/**
 * Tag keys: trimmed, lower case, spaces, dashes and dots to underscores (`Caller State` -> `caller_state`,
 * `lead.zip` -> `lead_zip`, the same key a nested `{"lead": {"zip": …}}` flattens to).
 */
export function normaliseTagKey(raw: string): string {
  return raw.trim().toLowerCase().replace(/[\s.-]+/g, '_')
}

export const TAG_KEY_PATTERN = /^[a-z0-9_]{1,100}$/
export const TAG_VALUE_MAX = 2000
