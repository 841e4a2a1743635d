// A postback as received -> its fields, flattened and normalised into tags, with the problems found.
// Pure: no database. ingestPostback.ts decides what to do with the result.
import { normaliseTagKey, TAG_KEY_PATTERN, TAG_VALUE_MAX } from './normalise.js'

export interface PostbackProblem {
  code: 'INVALID_BODY' | 'EMPTY_PAYLOAD' | 'UNSUPPORTED_CONTENT_TYPE' | 'MISSING_IDENTIFICATION' | 'INVALID_CALLER_NUMBER' |
    'EMPTY_FIELD' | 'NORMALISED_KEY' | 'MALFORMED_KEY' | 'VALUE_TOO_LONG' | 'BODY_TOO_LARGE' | 'RATE_LIMITED' | 'CALL_NOT_FOUND'
  field?: string
  message: string
}

/** Problems that refuse a postback; the others only say what was changed or skipped. */
export const REFUSING_PROBLEMS = new Set<PostbackProblem['code']>([
  'INVALID_BODY', 'EMPTY_PAYLOAD', 'UNSUPPORTED_CONTENT_TYPE', 'MISSING_IDENTIFICATION', 'INVALID_CALLER_NUMBER',
  'BODY_TOO_LARGE', 'RATE_LIMITED', 'CALL_NOT_FOUND',
])

export interface ParsedPostback {
  /** normalised (and prefixed) tag key -> value */
  tags: Record<string, string>
  callUuid: string | null
  callerNumberRaw: string | null
  problems: PostbackProblem[]
  /** a problem that refuses the postback (400) */
  fatal: PostbackProblem | null
}

/** Fields that identify the call or carry the key; they are not written as tags. */
export const IDENTIFICATION_FIELDS = new Set(['key', 'api_key', 'caller_number', 'call_uuid'])

/** Keys a publisher key's tag prefix leaves alone: caller and geo facts every publisher means the same way. */
export function isUnprefixed(key: string): boolean {
  return /^(caller_(number|zip|state|city|country)|call_uuid|geo_.+|geo)$/.test(key)
}

/**
 * Flattens a JSON payload: nested objects join their keys with `_` (`{"lead":{"zip":1}}` -> `lead_zip`);
 * arrays of scalars become one comma-separated value (`[1,2]` -> `1,2`); arrays of objects are indexed
 * (`items_0_sku`). null is an empty field.
 */
export function flattenPayload(value: Record<string, unknown>, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}_${k}` : k
    if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) out.push([key, v.map((x) => (x == null ? '' : String(x))).join(',')])
      else v.forEach((item, i) => (item !== null && typeof item === 'object' ? flattenPayload(item as Record<string, unknown>, `${key}_${i}`, out) : out.push([`${key}_${i}`, item])))
    } else if (v !== null && typeof v === 'object') {
      flattenPayload(v as Record<string, unknown>, key, out)
    } else {
      out.push([key, v])
    }
  }
  return out
}

export function parsePostbackFields(fields: Record<string, unknown>, tagPrefix: string | null): ParsedPostback {
  const problems: PostbackProblem[] = []
  const tags: Record<string, string> = {}
  let callUuid: string | null = null
  let callerNumberRaw: string | null = null
  // the key is how it was sent, not what it says
  const flat = flattenPayload(fields).filter(([k]) => k !== 'key' && k !== 'api_key')
  for (const [rawKey, rawValue] of flat) {
    const normalised = normaliseTagKey(rawKey)
    const value = rawValue == null ? '' : String(rawValue).trim()
    if (normalised === 'call_uuid') {
      callUuid = value || null
      continue
    }
    if (normalised === 'caller_number') {
      callerNumberRaw = value || null
      continue
    }
    if (IDENTIFICATION_FIELDS.has(normalised)) continue
    if (!TAG_KEY_PATTERN.test(normalised)) {
      problems.push({ code: 'MALFORMED_KEY', field: rawKey, message: `"${rawKey}" is not usable as a tag key (letters, digits and _ once normalised, at most 100); skipped` })
      continue
    }
    if (normalised !== rawKey) problems.push({ code: 'NORMALISED_KEY', field: rawKey, message: `"${rawKey}" was stored as "${normalised}"` })
    if (value === '') {
      problems.push({ code: 'EMPTY_FIELD', field: normalised, message: `"${normalised}" is empty; not stored` })
      continue
    }
    if (value.length > TAG_VALUE_MAX) {
      problems.push({ code: 'VALUE_TOO_LONG', field: normalised, message: `"${normalised}" is longer than ${TAG_VALUE_MAX} characters; not stored` })
      continue
    }
    const key = tagPrefix && !isUnprefixed(normalised) ? `${tagPrefix}_${normalised}` : normalised
    tags[key] = value
  }
  let fatal: PostbackProblem | null = null
  if (flat.length === 0) fatal = { code: 'EMPTY_PAYLOAD', message: 'the postback carries no fields' }
  else if (!callUuid && !callerNumberRaw) fatal = { code: 'MISSING_IDENTIFICATION', message: 'give caller_number or call_uuid to say which call the data is for' }
  if (fatal) problems.unshift(fatal)
  return { tags, callUuid, callerNumberRaw, problems, fatal }
}
