import { parsePhoneNumberFromString } from 'libphonenumber-js'

export type PhoneNumber = { ok: true; e164: string } | { ok: false; reason: string }

/** Numbers seen lately -> what they parse to: callers call again and publishers post the same numbers. */
const recentNumbers = new Map<string, PhoneNumber>()
const RECENT_NUMBERS_MAX = 50_000

/**
 * Phone number -> E.164, default country +1 (US/CA). Refused when it is not a possible number, or when it
 * carries an extension (`4155550100 ext 5`): caller and called numbers have none, and dropping it without
 * a word would match the wrong line.
 */
export function parsePhoneNumber(raw: string, defaultCountry: 'US' = 'US'): PhoneNumber {
  const known = recentNumbers.get(raw)
  if (known !== undefined) return known
  const trimmed = raw.trim()
  const parsed = trimmed ? parsePhoneNumberFromString(trimmed, defaultCountry) : undefined
  const result: PhoneNumber = !parsed?.isPossible()
    ? { ok: false, reason: `"${raw}" is not a phone number` }
    : parsed.ext
      ? { ok: false, reason: `"${raw}" has an extension (${parsed.ext}); give the number without it` }
      : { ok: true, e164: parsed.number }
  // libphonenumber's parse was a measurable share of the server's time taking call events (bench/README.md)
  if (recentNumbers.size >= RECENT_NUMBERS_MAX) recentNumbers.clear()
  if (raw.length <= 64) recentNumbers.set(raw, result)
  return result
}

/** Phone number -> E.164, or null when parsePhoneNumber refuses it. */
export function normalisePhoneNumber(raw: string): string | null {
  const parsed = parsePhoneNumber(raw)
  return parsed.ok ? parsed.e164 : null
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
