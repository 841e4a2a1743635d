// A call event reached: the pixels of the webhooks it fires are written in the same transaction as the
// call update (the outbox), so a pixel once decided is never lost; the delivery worker sends them.
import type { Call } from '../generated/prisma/client.js'
import type { Db } from '../db/client.js'
import { evaluateMatches } from './matchTags.js'
import type { MatchGroups } from './webhookConfig.js'

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0]

export type CallEventTrigger = 'CALL_START' | 'ANSWERED' | 'CALL_END' | 'CONVERSION'

/** Tags of a call as key -> value. */
export async function tagMap(tx: Tx | Db, callId: string): Promise<Record<string, string>> {
  const tags = await tx.tag.findMany({ where: { callId }, select: { key: true, value: true } })
  return Object.fromEntries(tags.map((t) => [t.key, t.value]))
}

/**
 * Writes a PENDING pixel for each enabled webhook of the call's campaign on this trigger whose matches hold
 * and that is not inside its dedupe window for this caller. Answering also schedules the TIMER webhooks
 * (their matches are checked when they come due). Returns how many pixels were written.
 */
export async function queueCallEventPixels(tx: Tx, call: Call, trigger: CallEventTrigger, now = new Date()): Promise<number> {
  const triggers = trigger === 'ANSWERED' ? ['ANSWERED', 'TIMER'] : [trigger]
  const webhooks = await tx.webhook.findMany({
    where: { campaignId: call.campaignId, deletedAt: null, enabled: true, trigger: { in: triggers } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  })
  if (webhooks.length === 0) return 0
  const tags = await tagMap(tx, call.id)
  const rows = []
  for (const webhook of webhooks) {
    const isTimer = webhook.trigger === 'TIMER'
    if (!isTimer && !evaluateMatches(webhook.matches as unknown as MatchGroups, tags).matched) continue
    if (webhook.dedupeWindowSeconds && (await isDeduped(tx, webhook.id, call, webhook.dedupeWindowSeconds, now))) continue
    const due = isTimer ? new Date((call.answeredAt ?? now).getTime() + (webhook.timerSeconds ?? 0) * 1000) : now
    rows.push({
      companyId: call.companyId,
      campaignId: call.campaignId,
      webhookId: webhook.id,
      callId: call.id,
      callerNumber: call.callerNumber,
      trigger: webhook.trigger,
      status: 'PENDING',
      nextAttemptAt: due,
      createdAt: now,
    })
  }
  if (rows.length) await tx.pixel.createMany({ data: rows })
  return rows.length
}

/** A pixel of this webhook for this caller (another call) inside the window: the webhook does not fire again. */
export async function isDeduped(tx: Tx | Db, webhookId: string, call: Call, windowSeconds: number, now = new Date()) {
  const earlier = await tx.pixel.findFirst({
    where: {
      webhookId,
      callerNumber: call.callerNumber,
      callId: { not: call.id },
      createdAt: { gte: new Date(now.getTime() - windowSeconds * 1000) },
      status: { not: 'CANCELLED' },
    },
    select: { id: true },
  })
  return earlier !== null
}
