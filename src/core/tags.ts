// Tags as key -> value records. Keys come from outside (`__proto__`, `constructor` are keys like any
// other), so records have no prototype and are read with Object.hasOwn: an ordinary object would drop a
// `__proto__` key on write and answer Object's own members for keys it does not hold.

export type TagRecord = Record<string, string>

/** An empty tag record (no prototype). */
export function tagRecord(entries?: Iterable<readonly [string, string]>): TagRecord {
  const tags: TagRecord = Object.create(null)
  if (entries) for (const [k, v] of entries) tags[k] = v
  return tags
}

/** The tag's value, or undefined when the record holds no such key (whatever the key is named). */
export function tagValue(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(tags, key) ? tags[key] : undefined
}

/**
 * Tag keys: trimmed, lower case, spaces, dashes and dots to underscores (`Caller State` -> `caller_state`,
 * `lead.zip` -> `lead_zip`, the same key a nested `{"lead": {"zip": …}}` flattens to).
 */
export function normaliseTagKey(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[\s.-]+/g, '_')
}

export const TAG_KEY_PATTERN = /^[a-z0-9_]{1,100}$/
export const TAG_VALUE_MAX = 2000

export type TagSource = 'POSTBACK' | 'WEBHOOK' | 'CALL_EVENT' | 'API'

export interface TagInput {
  key: string
  value: string
}
