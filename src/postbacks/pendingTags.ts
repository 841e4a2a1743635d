import type { Db } from '../core/db.js'

/** Deletes pending tags whose storage window has passed; they are never applied. */
export async function expirePendingTags(db: Db, now = new Date()): Promise<number> {
  const { count } = await db.pendingTag.deleteMany({ where: { expiresAt: { lte: now } } })
  return count
}
