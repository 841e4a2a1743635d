import type { Db } from '../core/db.js'

/** Tags of a call as key -> value. */
export async function tagMap(db: Pick<Db, 'tag'>, callId: string): Promise<Record<string, string>> {
  const tags = await db.tag.findMany({ where: { callId }, select: { key: true, value: true } })
  return Object.fromEntries(tags.map((t) => [t.key, t.value]))
}
