import { badInput } from '../core/errors.js'
import { type TagInput, type TagSource, normaliseTagKey, TAG_KEY_PATTERN, TAG_VALUE_MAX } from '../core/tags.js'
import type { Db } from '../core/db.js'

type TxClient = Parameters<Parameters<Db['$transaction']>[0]>[0]

/** Normalises and checks tags given through the API; `field` names the input list in errors. */
export function checkTagInputs(tags: readonly TagInput[], field = 'tags'): TagInput[] {
  return tags.map((tag, i) => {
    const key = normaliseTagKey(tag.key)
    if (!TAG_KEY_PATTERN.test(key)) throw badInput(`${field}[${i}].key`, `"${tag.key}" is not a tag key (letters, digits and _ once normalised, at most 100)`)
    if (tag.value.length > TAG_VALUE_MAX) throw badInput(`${field}[${i}].value`, `must be at most ${TAG_VALUE_MAX} characters`)
    if (tag.value.includes('\0')) throw badInput(`${field}[${i}].value`, 'must not contain NUL characters')
    return { key, value: tag.value }
  })
}

/** Writes tags on a call: one value per key, a later write replaces value and source. */
export async function applyTags(
  db: Db | TxClient,
  callId: string,
  tags: readonly TagInput[],
  source: TagSource,
  sourceId: string | null = null,
): Promise<void> {
  for (const { key, value } of tags) {
    await db.tag.upsert({
      where: { callId_key: { callId, key } },
      create: { callId, key, value, source, sourceId },
      update: { value, source, sourceId },
    })
  }
}
