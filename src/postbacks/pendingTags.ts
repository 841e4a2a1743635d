import type { Call } from '../generated/prisma/client.js'
import { applyTags } from '../calls/applyTags.js'
import type { Db, Tx } from '../core/db.js'

/**
 * A number calls in: the tags publishers sent for it before (and not yet expired) apply to the call, oldest
 * first so later postbacks win; they are then used up, and their postbacks point at the call.
 */
export async function applyPendingTags(tx: Tx, call: Call, now = new Date()): Promise<number> {
  const pending = await tx.pendingTag.findMany({
    where: {
      companyId: call.companyId,
      callerNumber: call.callerNumber,
      expiresAt: { gt: now },
      OR: [{ campaignId: null }, { campaignId: call.campaignId }],
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  })
  if (pending.length === 0) return 0
  for (const tag of pending) await applyTags(tx, call.id, [{ key: tag.key, value: tag.value }], 'POSTBACK', tag.postbackId)
  await tx.pendingTag.deleteMany({ where: { id: { in: pending.map((p) => p.id) } } })
  await tx.postback.updateMany({ where: { id: { in: [...new Set(pending.map((p) => p.postbackId))] } }, data: { callId: call.id } })
  return pending.length
}

/** Deletes pending tags whose storage window has passed; they are never applied. */
export async function expirePendingTags(db: Db, now = new Date()): Promise<number> {
  const { count } = await db.pendingTag.deleteMany({ where: { expiresAt: { lte: now } } })
  return count
}
