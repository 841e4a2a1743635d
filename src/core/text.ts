// Text from outside as every store can hold it: PostgreSQL refuses NUL in text and unpaired UTF-16
// surrogates in JSON, so both become U+FFFD (the rest is kept as it came). Names and other one-line texts
// refuse control characters.
import { badInput } from './errors.js'

// an unpaired surrogate (possible in JSON text and query strings) is not a character at all
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** The text with NUL and unpaired surrogates replaced by U+FFFD. */
export function storable(text: string): string {
  UNSTORABLE.lastIndex = 0
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE, '\ufffd') : text
}

/** A one-line name (campaign, webhook, API key): trimmed, 1 to 200 characters, no control characters. */
export function checkName(name: string, field = 'name'): string {
  const trimmed = name.trim()
  if (!trimmed) throw badInput(field, 'must not be empty')
  if (trimmed.length > 200) throw badInput(field, 'must be at most 200 characters')
  refuseControlCharacters(field, trimmed)
  return trimmed
}

const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/

/** Line breaks, NUL and other control characters (tab aside) break a URL or header and cannot be stored everywhere. */
export function refuseControlCharacters(field: string, value: string): void {
  if (CONTROL_CHARACTERS.test(value)) throw badInput(field, 'must not contain control characters (line breaks, NUL, …)')
}

/** NUL cannot be stored in PostgreSQL text; the rest of a multi-line text may be anything. */
export function refuseNul(field: string, value: string): void {
  if (value.includes('\0')) throw badInput(field, 'must not contain NUL characters')
}
