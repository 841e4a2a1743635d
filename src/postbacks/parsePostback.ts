// A postback as received -> its fields, flattened and normalised into tags, with the problems found.
// Pure: no database. ingestPostback.ts decides what to do with the result.
import { MAX_NESTING, nestingDepth } from '../core/json.js'
import { tagRecord } from '../core/tags.js'
import { storable } from '../core/text.js'
import { normaliseTagKey, TAG_KEY_PATTERN, TAG_VALUE_MAX } from '../core/tags.js'
import type { PostbackProblem } from './postbackSchema.js'

export type { PostbackProblem }

/** Problems that refuse a postback; the others only say what was changed or skipped. */
export const REFUSING_PROBLEMS = new Set<PostbackProblem['code']>([
  'INVALID_BODY',
  'EMPTY_PAYLOAD',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_IDENTIFICATION',
  'INVALID_CALLER_NUMBER',
  'BODY_TOO_LARGE',
  'RATE_LIMITED',
  'CALL_NOT_FOUND',
  'TOO_DEEP',
  'MALFORMED_URL',
  'INVALID_IDEMPOTENCY_KEY',
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
 * (`items_0_sku`). null is an empty field. Null when the payload nests deeper than MAX_NESTING levels
 * (checked first, so the walk below never recurses deeper than that).
 */
export function flattenPayload(value: Record<string, unknown>): [string, unknown][] | null {
  if (nestingDepth(value) > MAX_NESTING) return null
  const out: [string, unknown][] = []
  const walk = (v: Record<string, unknown>, prefix: string) => {
    for (const [k, child] of Object.entries(v)) {
      const key = prefix ? `${prefix}_${k}` : k
      if (Array.isArray(child)) {
        if (child.every((x) => x === null || typeof x !== 'object')) out.push([key, child.map((x) => (x == null ? '' : String(x))).join(',')])
        else
          child.forEach((item, i) =>
            item !== null && typeof item === 'object' ? walk(item as Record<string, unknown>, `${key}_${i}`) : out.push([`${key}_${i}`, item]),
          )
      } else if (child !== null && typeof child === 'object') {
        walk(child as Record<string, unknown>, key)
      } else {
        out.push([key, child])
      }
    }
  }
  walk(value, '')
  return out
}

/** Said once on a postback whose text had to be made storable (core/text.ts). */
export const REPLACED_PROBLEM: PostbackProblem = {
  code: 'CHARACTERS_REPLACED',
  message: 'the postback contains NUL characters or unpaired UTF-16 surrogates; they are stored as U+FFFD',
}

export function parsePostbackFields(fields: Record<string, unknown>, tagPrefix: string | null): ParsedPostback {
  const problems: PostbackProblem[] = []
  const tags = tagRecord()
  let callUuid: string | null = null
  let callerNumberRaw: string | null = null
  const flattened = flattenPayload(fields)
  if (!flattened) {
    const fatal: PostbackProblem = {
      code: 'TOO_DEEP',
      message: `the payload nests objects or arrays more than ${MAX_NESTING} levels deep; nothing was read from it`,
    }
    return { tags, callUuid, callerNumberRaw, problems: [fatal], fatal }
  }
  // the key is how it was sent, not what it says
  const flat = flattened.filter(([k]) => k !== 'key' && k !== 'api_key')
  let replaced = false
  for (const [sentKey, rawValue] of flat) {
    const sentValue = rawValue == null ? '' : String(rawValue)
    const sentTrimmed = sentValue.trim()
    const rawKey = storable(sentKey)
    const value = storable(sentTrimmed)
    if (rawKey !== sentKey || value !== sentTrimmed) replaced = true
    const normalised = normaliseTagKey(rawKey)
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
      problems.push({
        code: 'MALFORMED_KEY',
        field: rawKey,
        message: `"${rawKey}" is not usable as a tag key (letters, digits and _ once normalised, at most 100); skipped`,
      })
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
  if (replaced) problems.push(REPLACED_PROBLEM)
  let fatal: PostbackProblem | null = null
  if (flat.length === 0) fatal = { code: 'EMPTY_PAYLOAD', message: 'the postback carries no fields' }
  else if (!callUuid && !callerNumberRaw)
    fatal = { code: 'MISSING_IDENTIFICATION', message: 'give caller_number or call_uuid to say which call the data is for' }
  if (fatal) problems.unshift(fatal)
  return { tags, callUuid, callerNumberRaw, problems, fatal }
}
