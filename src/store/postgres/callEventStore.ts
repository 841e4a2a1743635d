// Call events on PostgreSQL: one interactive transaction per event, the call's row locked in it.
import { Prisma, type Call, type Pixel, type Webhook } from '../../generated/prisma/client.js'
import { applyTags } from '../../calls/applyTags.js'
import { triggerMoment } from '../../webhooks/firingRules.js'
import { isDeduped } from '../../webhooks/dedupe.js'
import { applyChange, type CallEventStore, type CallEventTrigger, type CheckedCallEvent, type RecordedCallEvent } from '../../calls/callEvents.js'
import { findCampaign } from '../../campaigns/campaigns.js'
import { badInput } from '../../core/errors.js'
import { findCall } from '../../calls/findCall.js'
import { applyPendingTags } from '../../postbacks/pendingTags.js'
import { planPixels, timersEndedBefore } from '../../delivery/outbox.js'
import { webhooksToFire } from '../../webhooks/firingRules.js'
import type { DeliverySlots } from '../../delivery/handoff.js'
import { tagMap } from '../../calls/tags.js'
import type { Db, Tx } from '../../core/db.js'

export class PrismaCallEventStore implements CallEventStore {
  /** transactions under way */
  private open = 0

  constructor(
    private readonly db: Db,
    private readonly slots: DeliverySlots,
  ) {}

  async record(companyId: string, event: CheckedCallEvent): Promise<RecordedCallEvent> {
    const { db } = this
    if (event.event === 'START') {
      const campaign = await findCampaign(db, companyId, event.campaignId, 'campaignId')
      if (campaign.archivedAt) throw badInput('campaignId', 'campaign is archived and takes no calls')
      if (await db.call.findUnique({ where: { companyId_uuid: { companyId, uuid: event.uuid } }, select: { id: true } }))
        throw badInput('uuid', `a call with uuid "${event.uuid}" exists`)
      return this.transaction(async (tx, held) => {
        const data = {
          uuid: event.uuid,
          companyId,
          campaignId: campaign.id,
          callerNumber: event.callerNumber,
          calledNumber: event.calledNumber,
          status: 'STARTED',
          startedAt: event.startedAt,
        }
        const call = await tx.call.create({ data }).catch((e: unknown) => {
          // the same uuid started at the same moment by another request: the unique index decides
          if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') throw badInput('uuid', `a call with uuid "${event.uuid}" exists`)
          throw e
        })
        // tags publishers sent before the call first; what telephony reports with the call wins over them
        await applyPendingTags(tx, call)
        await applyTags(tx, call.id, event.tags, 'CALL_EVENT')
        return { call, published: 'STARTED' as const, cancelled: [], ...(await this.writePixels(tx, call, 'CALL_START', held)) }
      })
    }
    const { id } = await findCall(db, companyId, event.uuid)
    return this.transaction(async (tx, held) => {
      // the call row stays locked until commit: two events of one call (end and conversion at once) are
      // decided one after the other, each on the state the other left
      await tx.$executeRaw`SELECT 1 FROM "Call" WHERE "id" = ${id} FOR UPDATE`
      const change = applyChange(await tx.call.findUniqueOrThrow({ where: { id } }), event)
      const { id: _id, uuid: _uuid, companyId: _company, updatedAt: _updated, ...data } = change.call
      const call = await tx.call.update({ where: { id }, data })
      await applyTags(tx, call.id, event.tags, 'CALL_EVENT')
      const cancelled = change.trigger === 'CALL_END' ? await cancelTimers(tx, call) : []
      return { call, published: change.published, cancelled, ...(await this.writePixels(tx, call, change.trigger, held)) }
    })
  }

  /** A transaction whose delivery slots, if any were reserved, are given back when it fails. */
  private async transaction<T>(fn: (tx: Tx, held: { reserved: number }) => Promise<T>): Promise<T> {
    const held = { reserved: 0 }
    this.open++
    try {
      return await this.db.$transaction((tx) => fn(tx, held))
    } catch (e) {
      this.slots.release(held.reserved)
      throw e
    } finally {
      this.open--
    }
  }

  private async writePixels(tx: Tx, call: Call, trigger: CallEventTrigger, held: { reserved: number }): Promise<Pick<RecordedCallEvent, 'pixels' | 'handoff'>> {
    const triggers = trigger === 'ANSWERED' ? ['ANSWERED', 'TIMER'] : [trigger]
    const webhooks: Webhook[] = await tx.webhook.findMany({
      where: { campaignId: call.campaignId, deletedAt: null, enabled: true, trigger: { in: triggers } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    })
    if (webhooks.length === 0) return { pixels: [], handoff: [] }
    const tags = await tagMap(tx, call.id)
    const firing: Webhook[] = []
    const now = new Date()
    const at = triggerMoment(call, trigger) ?? now
    for (const webhook of webhooksToFire(webhooks, trigger, tags)) {
      if (!webhook.dedupeWindowSeconds || !(await isDeduped(tx, webhook.id, call, webhook.dedupeWindowSeconds, at))) firing.push(webhook)
    }
    const plan = planPixels(call, firing, tags, this.slots, now)
    held.reserved += plan.reserved
    if (plan.pixels.length)
      await tx.pixel.createMany({ data: plan.pixels.map((p) => ({ ...p, request: undefined, unresolvedTokens: undefined, tagsApplied: undefined })) })
    return plan
  }

  /** Resolves once the events being written are written (their handed-over pixels then reach the worker before it stops). */
  async close(): Promise<void> {
    while (this.open > 0) await new Promise((r) => setTimeout(r, 2))
  }
}

/** The call ended: its timers not yet due never will be (cancelled now, not when they come due). */
async function cancelTimers(tx: Tx, call: Call): Promise<Pixel[]> {
  const pending = await tx.pixel.findMany({ where: { callId: call.id, trigger: 'TIMER', status: 'PENDING' } })
  const cancelled: Pixel[] = []
  for (const p of timersEndedBefore(pending, call.endedAt!, new Date())) {
    const { count } = await tx.pixel.updateMany({
      where: { id: p.id, status: 'PENDING' },
      data: { status: p.status, responseNote: p.responseNote, completedAt: p.completedAt, nextAttemptAt: null, lockedUntil: null },
    })
    if (count === 1) cancelled.push(p)
  }
  return cancelled
}
