import { parsePhoneNumberFromString } from 'libphonenumber-js'
import { badInput } from './errors.js'

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
  // libphonenumber's parse shows in profiles of call events; callers repeat, so recent answers are kept
  if (recentNumbers.size >= RECENT_NUMBERS_MAX) recentNumbers.clear()
  if (raw.length <= 64) recentNumbers.set(raw, result)
  return result
}

/** Phone number -> E.164, or null when parsePhoneNumber refuses it. */
export function normalisePhoneNumber(raw: string): string | null {
  const parsed = parsePhoneNumber(raw)
  return parsed.ok ? parsed.e164 : null
}

/** A phone number given through the API, as E.164; BAD_USER_INPUT naming `field` when it is not one. */
export function checkPhoneNumber(field: string, raw: string): string {
  const number = parsePhoneNumber(raw)
  if (!number.ok) throw badInput(field, number.reason)
  return number.e164
}
