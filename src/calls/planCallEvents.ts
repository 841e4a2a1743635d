// Call events decided once, stored twice: a store reads what a batch of events needs (through CallEventReads),
// this function decides every write of the batch, and the store writes them (SQLite row by row on its writer
// thread, PostgreSQL set-based). Events are decided in order, each on the state the ones before it left.
import type { Call, Pixel, Webhook } from '../generated/prisma/client.js'
import { RinghookError, badInput, notFound } from '../core/errors.js'
import { newId } from '../core/ids.js'
import type { ItemResult } from '../core/groupCommit.js'
import type { TagSource } from '../core/tags.js'
import type { DeliverySlots } from '../delivery/handoff.js'
import { planPixels, timersEndedBefore } from '../delivery/outbox.js'
import { dedupeWindow, triggerMoment, webhooksToFire } from '../webhooks/firingRules.js'
import { applyChange, type CallEventTrigger, type CheckedCallEvent, type RecordedCallEvent } from './callEvents.js'

export interface CallEventItem {
  companyId: string
  event: CheckedCallEvent
}

export interface PendingTagRow {
  id: string
  postbackId: string
  key: string
  value: string
}

/** A pixel as the dedupe rule reads it. */
export interface FiredPixel {
  webhookId: string
  callerNumber: string
  callId: string
  createdAt: Date
}

/** What deciding a batch reads; each store answers from its database (all inside the batch's transaction). */
export interface CallEventReads {
  campaign(companyId: string, id: string): { id: string; archivedAt: Date | null } | undefined
  call(companyId: string, uuid: string): Call | undefined
  /** enabled, not deleted webhooks of a campaign, oldest first */
  webhooks(campaignId: string): Webhook[]
  tags(callId: string): Record<string, string>
  /** unexpired pending tags for a number, of no campaign or this one, oldest first */
  pendingTags(companyId: string, callerNumber: string, campaignId: string, now: Date): PendingTagRow[]
  /** pixels (not cancelled) of the webhook for the number created in [since, until] */
  firedPixels(webhookId: string, callerNumber: string, since: Date, until: Date): FiredPixel[]
  /** a call's PENDING timer pixels */
  pendingTimers(callId: string): Pixel[]
}

export interface TagWrite {
  callId: string
  key: string
  value: string
  source: TagSource
  sourceId: string | null
}

/** Every write of a batch, decided before the first one. */
export interface CallEventWrites {
  /** one per event, in order: what it recorded, or why it was refused (a refused event writes nothing) */
  results: ItemResult<RecordedCallEvent>[]
  /** calls to insert, and existing calls to update, each in its final state */
  newCalls: Call[]
  changedCalls: Call[]
  /** the last write of each (call, key) */
  tags: TagWrite[]
  usedPendingTags: string[]
  /** postbacks whose pending tags reached a call */
  postbackCalls: { postbackId: string; callId: string }[]
  /** pixels to insert, in their final state */
  pixels: Pixel[]
  /** existing PENDING timer pixels to cancel (only if still PENDING when written) */
  cancelledTimers: Pixel[]
  /** delivery slots taken for the pixels handed over (to give back if the batch is not committed) */
  reserved: number
}

/**
 * Decides a batch: each event checked against the state the events before it left (calls, tags, pending
 * tags, pixels of this batch included), its refusal or its writes. `slots` are the delivery worker's, taken
 * for the pixels handed over.
 */
export function planCallEvents(items: CallEventItem[], reads: CallEventReads, slots: DeliverySlots, now = new Date()): CallEventWrites {
  const writes: CallEventWrites = {
    results: [],
    newCalls: [],
    changedCalls: [],
    tags: [],
    usedPendingTags: [],
    postbackCalls: [],
    pixels: [],
    cancelledTimers: [],
    reserved: 0,
  }
  // the batch's own state over what the store read
  const calls = new Map<string, Call>()
  const newCallIds = new Set<string>()
  const tags = new Map<string, Record<string, string>>()
  const tagWrites = new Map<string, TagWrite>()
  const usedPending = new Set<string>()
  const firedHere: FiredPixel[] = []
  const timersHere = new Map<string, Pixel[]>()
  const webhooksOf = new Map<string, Webhook[]>()

  const callKey = (companyId: string, uuid: string) => `${companyId}\u0000${uuid}`
  const findCall = (companyId: string, uuid: string) => calls.get(callKey(companyId, uuid)) ?? reads.call(companyId, uuid)
  const tagsOf = (callId: string) => {
    let t = tags.get(callId)
    if (!t) tags.set(callId, (t = { ...reads.tags(callId) }))
    return t
  }
  const writeTag = (callId: string, key: string, value: string, source: TagSource, sourceId: string | null) => {
    tagsOf(callId)[key] = value
    tagWrites.set(`${callId}\u0000${key}`, { callId, key, value, source, sourceId })
  }
  const webhooks = (campaignId: string) => {
    let w = webhooksOf.get(campaignId)
    if (!w) webhooksOf.set(campaignId, (w = reads.webhooks(campaignId)))
    return w
  }
  const deduped = (w: Webhook, call: Call, at: Date) => {
    const { since, until } = dedupeWindow(w.dedupeWindowSeconds!, at)
    const other = (p: FiredPixel) => p.callId !== call.id && p.createdAt >= since && p.createdAt <= until
    return (
      firedHere.some((p) => p.webhookId === w.id && p.callerNumber === call.callerNumber && other(p)) ||
      reads.firedPixels(w.id, call.callerNumber, since, until).some(other)
    )
  }
  const keep = (call: Call) => {
    calls.set(callKey(call.companyId, call.uuid), call)
  }

  const firePixels = (call: Call, trigger: CallEventTrigger): Pick<RecordedCallEvent, 'pixels' | 'handoff'> => {
    const all = webhooks(call.campaignId)
    const triggers = trigger === 'ANSWERED' ? ['ANSWERED', 'TIMER'] : [trigger]
    if (!all.some((w) => triggers.includes(w.trigger))) return { pixels: [], handoff: [] }
    const callTags = { ...tagsOf(call.id) }
    const at = triggerMoment(call, trigger) ?? now
    const firing = webhooksToFire(all, trigger, callTags).filter((w) => !w.dedupeWindowSeconds || !deduped(w, call, at))
    const plan = planPixels(call, firing, callTags, slots, now, at)
    writes.reserved += plan.reserved
    for (const p of plan.pixels) {
      writes.pixels.push(p)
      firedHere.push({ webhookId: p.webhookId, callerNumber: p.callerNumber, callId: p.callId, createdAt: p.createdAt })
      if (p.trigger === 'TIMER') timersHere.set(call.id, [...(timersHere.get(call.id) ?? []), p])
    }
    return { pixels: plan.pixels, handoff: plan.handoff }
  }

  /** The call ended: its timers not yet due never will be (cancelled now, not when they come due). */
  const cancelTimers = (call: Call): Pixel[] => {
    const planned = timersHere.get(call.id) ?? []
    const stored = reads.pendingTimers(call.id).filter((p) => !planned.some((q) => q.id === p.id))
    const cancelled = timersEndedBefore([...stored, ...planned.filter((p) => p.status === 'PENDING')], call.endedAt!, now)
    for (const p of cancelled) {
      const inBatch = writes.pixels.findIndex((q) => q.id === p.id)
      if (inBatch >= 0) writes.pixels[inBatch] = p
      else writes.cancelledTimers.push(p)
    }
    return cancelled
  }

  const decide = ({ companyId, event }: CallEventItem): RecordedCallEvent => {
    if (event.event === 'START') {
      const campaign = reads.campaign(companyId, event.campaignId)
      if (!campaign) throw notFound('campaign', 'campaignId')
      if (campaign.archivedAt) throw badInput('campaignId', 'campaign is archived and takes no calls')
      if (findCall(companyId, event.uuid)) throw badInput('uuid', `a call with uuid "${event.uuid}" exists`)
      const call: Call = {
        id: newId(),
        uuid: event.uuid,
        companyId,
        campaignId: campaign.id,
        callerNumber: event.callerNumber,
        calledNumber: event.calledNumber,
        status: 'STARTED',
        startedAt: event.startedAt,
        answeredAt: null,
        endedAt: null,
        durationSeconds: null,
        converted: false,
        convertedAt: null,
        updatedAt: now,
      }
      keep(call)
      newCallIds.add(call.id)
      tags.set(call.id, {})
      // tags publishers sent before the call first, oldest first, used up; what telephony reports with the call wins over them
      const pending = reads.pendingTags(companyId, call.callerNumber, call.campaignId, now).filter((p) => !usedPending.has(p.id))
      for (const p of pending) {
        writeTag(call.id, p.key, p.value, 'POSTBACK', p.postbackId)
        usedPending.add(p.id)
      }
      for (const postbackId of new Set(pending.map((p) => p.postbackId))) writes.postbackCalls.push({ postbackId, callId: call.id })
      for (const { key, value } of event.tags) writeTag(call.id, key, value, 'CALL_EVENT', null)
      return { call, published: 'STARTED', cancelled: [], ...firePixels(call, 'CALL_START') }
    }
    const current = findCall(companyId, event.uuid)
    if (!current) throw notFound('call', 'uuid')
    const change = applyChange(current, event, now)
    keep(change.call)
    for (const { key, value } of event.tags) writeTag(change.call.id, key, value, 'CALL_EVENT', null)
    const cancelled = change.trigger === 'CALL_END' ? cancelTimers(change.call) : []
    return { call: change.call, published: change.published, cancelled, ...firePixels(change.call, change.trigger) }
  }

  for (const item of items) {
    try {
      writes.results.push({ ok: true, value: decide(item) })
    } catch (error) {
      // a refusal is decided before the event changes anything: the batch goes on without it
      if (!(error instanceof RinghookError)) throw error
      writes.results.push({ ok: false, error })
    }
  }
  for (const call of calls.values()) (newCallIds.has(call.id) ? writes.newCalls : writes.changedCalls).push(call)
  writes.tags = [...tagWrites.values()]
  writes.usedPendingTags = [...usedPending]
  return writes
}
