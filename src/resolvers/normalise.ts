import { parsePhoneNumberFromString } from 'libphonenumber-js'

/** Phone number -> E.164, default country +1 (US/CA); null when it is not a phone number. */
export function normalisePhoneNumber(raw: string, defaultCountry: 'US' = 'US'): string | null {
  const trimmed = raw.trim()
  if (!trimmed) return null
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry)
  return parsed?.isPossible() ? parsed.number : null
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
