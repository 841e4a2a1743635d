// A webhook's response -> tags on the call, by its response mapping (all scalars, or chosen paths).
// Pure; `note` says what was skipped or cut, for the pixel ("response missing tags").
import { MAX_NESTING, nestingDepth } from '../core/json.js'
import { tagRecord } from '../core/tags.js'
import { flattenPayload } from '../postbacks/parsePostback.js'
import { storable } from '../core/text.js'
import type { ResponseMappingInput } from './webhookConfig.js'
import { normaliseTagKey, TAG_KEY_PATTERN, TAG_VALUE_MAX } from '../core/tags.js'

export interface ResponseTags {
  tags: Record<string, string>
  /** what went wrong or was changed, `; `-separated; null when nothing */
  note: string | null
}

const isJsonType = (mediaType: string) => mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json')

function parseJson(body: string, contentType: string | null): { value: unknown } | { note: string } {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() || null
  // no content type at all: the body may still be JSON
  if (mediaType !== null && !isJsonType(mediaType)) return { note: `response is not JSON (${mediaType})` }
  if (body.trim() === '') return { note: 'response body is empty' }
  try {
    return { value: JSON.parse(body) }
  } catch (e) {
    return { note: mediaType ? `response is not valid JSON: ${(e as Error).message}` : 'response is not JSON (no content type)' }
  }
}

/** The value at a dotted path (`bid.price`, `items.0.sku`); undefined when a step is missing. */
function atPath(root: unknown, path: string): unknown {
  let here = root
  for (const step of path.split('.')) {
    if (Array.isArray(here) && /^\d+$/.test(step)) here = here[Number(step)]
    // own properties only: a path such as `constructor` must not reach Object.prototype
    else if (here !== null && typeof here === 'object' && !Array.isArray(here) && Object.hasOwn(here, step)) here = (here as Record<string, unknown>)[step]
    else return undefined
  }
  return here
}

export function tagsFromResponse(body: string, contentType: string | null, mapping: ResponseMappingInput | null): ResponseTags {
  if (!mapping) return { tags: {}, note: null }
  const parsed = parseJson(body, contentType)
  if ('note' in parsed) return { tags: {}, note: parsed.note }
  const notes: string[] = []
  const tags = tagRecord()
  const put = (sentKey: string, sentValue: string) => {
    const rawKey = storable(sentKey)
    let value = storable(sentValue)
    const key = mapping.prefix ? `${mapping.prefix}_${normaliseTagKey(rawKey)}` : normaliseTagKey(rawKey)
    if (!TAG_KEY_PATTERN.test(key)) {
      notes.push(`"${rawKey}" is not usable as a tag key; skipped`)
      return
    }
    if (value.length > TAG_VALUE_MAX) {
      // never cut between the two halves of a surrogate pair
      const end = /[\ud800-\udbff]/.test(value[TAG_VALUE_MAX - 1]!) ? TAG_VALUE_MAX - 1 : TAG_VALUE_MAX
      value = value.slice(0, end)
      notes.push(`${key} cut to ${TAG_VALUE_MAX} characters`)
    }
    tags[key] = value
  }
  if (mapping.mode === 'ALL') {
    const root = parsed.value
    if (root === null || typeof root !== 'object' || Array.isArray(root)) {
      return { tags: {}, note: `response JSON is ${Array.isArray(root) ? 'an array' : root === null ? 'null' : `a ${typeof root}`}, not an object` }
    }
    const flat = flattenPayload(root as Record<string, unknown>)
    if (!flat) return { tags, note: `response JSON nests more than ${MAX_NESTING} levels deep; not parsed` }
    for (const [key, value] of flat) {
      const text = value == null ? '' : String(value).trim()
      if (text !== '') put(key, text)
    }
  } else {
    for (const { path, tag } of mapping.paths ?? []) {
      const value = atPath(parsed.value, path)
      if (value === undefined) {
        notes.push(`path ${path} not found`)
        continue
      }
      if (typeof value === 'object' && nestingDepth(value) > MAX_NESTING) {
        notes.push(`path ${path} nests more than ${MAX_NESTING} levels deep; skipped`)
        continue
      }
      const text = value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value).trim()
      if (text === '') notes.push(`path ${path} is empty; skipped`)
      else put(tag, text)
    }
  }
  return { tags, note: notes.length ? notes.join('; ') : null }
}
