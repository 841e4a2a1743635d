// Call events on embedded SQLite: group commit, the transactions on the writer thread
// (src/db/sqliteWriter.ts) with prepared statements of their own. Events that arrive while a batch is
// written form the next batch, one transaction; an event is refused before it writes anything, so one
// refused event does not undo the others. Through Prisma an event cost some ten ORM queries (about 5 ms of
// CPU); here it is a few prepared statements (bench/README.md).
import type Database from 'better-sqlite3'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'
import { GroupCommit, type ItemResult } from '../../core/groupCommit.js'
import type { SharedSlots } from '../../delivery/sharedSlots.js'
import { newId } from '../../core/ids.js'
import { isBusy } from './sqliteBusy.js'
import { callFromRow, pixelFromRow, prepareTagsOf, prepareTagUpsert, sqliteTime, sqliteValue, webhookFromRow } from './sqliteRows.js'
import { dedupeWindow, triggerMoment } from '../../webhooks/firingRules.js'
import { resultsFromWire, toWire, type SqliteWriter, type WireResult, type WriterTurn } from './sqliteWriter.js'
import { applyChange, type CallEventStore, type CallEventTrigger, type CheckedCallEvent, type RecordedCallEvent } from '../../calls/callEvents.js'
import { badInput, notFound, RinghookError } from '../../core/errors.js'
import type { TagInput } from '../../core/tags.js'
import { NO_SLOTS, type DeliverySlots } from '../../delivery/handoff.js'
import { planPixels, timersEndedBefore } from '../../delivery/outbox.js'
import { webhooksToFire } from '../../webhooks/firingRules.js'

interface Item {
  companyId: string
  event: CheckedCallEvent
}

/** What one batch has read already: the webhooks of each campaign. */
type BatchCache = Map<string, Webhook[]>

/**
 * The main thread's side: batches events for the writer thread, which takes delivery slots for the pixels
 * it hands over from the worker's shared counter (none when this instance runs no worker).
 */
export class SqliteCallEventStore implements CallEventStore {
  private readonly queue: GroupCommit<Item, RecordedCallEvent>

  /** `worker`: this instance's delivery worker, whose slots the writer takes; none in an API-only instance */
  constructor(
    private readonly writer: SqliteWriter,
    private readonly worker: { slots: SharedSlots; notify(): void } | null,
  ) {
    // sent before any batch: the thread answers in order
    if (worker) void writer.call('useSlots', worker.slots.counter).catch(() => {})
    // an unexpected failure (not a refused event): each event on its own, so only the failing one fails
    this.queue = new GroupCommit((items) => this.writeTogether(items), { retryAlone: (e) => !isBusy(e) })
  }

  private async writeTogether(items: Item[]): Promise<ItemResult<RecordedCallEvent>[]> {
    try {
      return resultsFromWire(await this.writer.call<WireResult<RecordedCallEvent>[]>('callEvents', items))
    } catch (e) {
      // the batch gave its slots back on the writer thread: due pixels may be waiting for them
      this.worker?.notify()
      throw e
    }
  }

  record(companyId: string, event: CheckedCallEvent): Promise<RecordedCallEvent> {
    return this.queue.push({ companyId, event })
  }

  async close(): Promise<void> {
    await this.queue.drain()
  }
}

/** The writer thread's side: one transaction per batch on the thread's connection. */
export class SqliteCallEventWrites {
  private readonly s
  private readonly upsertTag
  private readonly tagsOf
  private readonly batch
  private slots: DeliverySlots = NO_SLOTS

  constructor(db: Database.Database) {
    this.upsertTag = prepareTagUpsert(db)
    this.tagsOf = prepareTagsOf(db)
    this.s = {
      campaign: db.prepare(`SELECT "id", "archivedAt" FROM "Campaign" WHERE "id" = ? AND "companyId" = ?`),
      // uuids are unique within a company: another company's call of the same uuid is none of this one's business
      callByUuid: db.prepare(`SELECT * FROM "Call" WHERE "companyId" = ? AND "uuid" = ?`),
      insertCall:
        db.prepare(`INSERT INTO "Call" ("id", "uuid", "companyId", "campaignId", "callerNumber", "calledNumber", "status", "startedAt", "converted", "updatedAt")
        VALUES (?, ?, ?, ?, ?, ?, 'STARTED', ?, 0, ?)`),
      updateCall:
        db.prepare(`UPDATE "Call" SET "status" = ?, "answeredAt" = ?, "endedAt" = ?, "durationSeconds" = ?, "converted" = ?, "convertedAt" = ?, "updatedAt" = ?
        WHERE "id" = ?`),
      pendingTags: db.prepare(`SELECT "id", "key", "value", "postbackId" FROM "PendingTag"
        WHERE "companyId" = ? AND "callerNumber" = ? AND "expiresAt" > ? AND ("campaignId" IS NULL OR "campaignId" = ?)
        ORDER BY "createdAt", "id"`),
      deletePendingTag: db.prepare(`DELETE FROM "PendingTag" WHERE "id" = ?`),
      postbackReachedCall: db.prepare(`UPDATE "Postback" SET "callId" = ? WHERE "id" = ?`),
      webhooks: db.prepare(`SELECT * FROM "Webhook" WHERE "campaignId" = ? AND "deletedAt" IS NULL AND "enabled" = 1 ORDER BY "createdAt", "id"`),
      // the bounds come from dedupeWindow (firingRules.ts)
      deduped: db.prepare(`SELECT 1 FROM "Pixel" WHERE "webhookId" = ? AND "callerNumber" = ? AND "callId" <> ? AND "createdAt" >= ? AND "createdAt" <= ?
        AND "status" <> 'CANCELLED' LIMIT 1`),
      pendingTimers: db.prepare(`SELECT * FROM "Pixel" WHERE "callId" = ? AND "trigger" = 'TIMER' AND "status" = 'PENDING'`),
      cancelPixel: db.prepare(`UPDATE "Pixel" SET "status" = 'CANCELLED', "responseNote" = ?, "completedAt" = ?, "nextAttemptAt" = NULL, "lockedUntil" = NULL
        WHERE "id" = ? AND "status" = 'PENDING'`),
      insertPixel:
        db.prepare(`INSERT INTO "Pixel" ("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status", "attemptCount", "nextAttemptAt", "lockedUntil", "createdAt")
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`),
    }
    this.batch = db.transaction((items: Item[], held: { reserved: number }) => {
      const cache: BatchCache = new Map()
      return items.map((item): WireResult<RecordedCallEvent> => {
        try {
          return { ok: true, value: this.apply(item, cache, held, this.slots) }
        } catch (error) {
          if (!(error instanceof RinghookError)) throw error
          return { ok: false, error: toWire(error) }
        }
      })
    })
  }

  /** The delivery worker's slots (shared with the main thread): pixels are handed over while it has room. */
  useSlots(slots: DeliverySlots): void {
    this.slots = slots
  }

  /**
   * The batch, inside the writer thread's transaction for its turn (its own savepoint: a batch that fails
   * undoes only itself). Pixels are handed over while the worker has free slots, taken as they are written.
   * A refused event (unknown call, wrong state) is refused by checks made before it writes anything, so it
   * needs no savepoint of its own; any other error fails the batch. Slots taken for a batch that is not
   * committed after all (it failed, or the turn's transaction did) are given back.
   */
  write(items: Item[], turn: WriterTurn): WireResult<RecordedCallEvent>[] {
    const held = { reserved: 0 }
    const giveBack = () => {
      this.slots.release(held.reserved)
      held.reserved = 0
    }
    turn.onRollback(giveBack)
    try {
      return this.batch(items, held)
    } catch (e) {
      giveBack()
      throw e
    }
  }

  private apply({ companyId, event }: Item, cache: BatchCache, held: { reserved: number }, slots: DeliverySlots): RecordedCallEvent {
    const now = new Date()
    if (event.event === 'START') {
      const campaign = this.s.campaign.get(event.campaignId, companyId) as { id: string; archivedAt: string | null } | undefined
      if (!campaign) throw notFound('campaign', 'campaignId')
      if (campaign.archivedAt) throw badInput('campaignId', 'campaign is archived and takes no calls')
      if (this.s.callByUuid.get(companyId, event.uuid)) throw badInput('uuid', `a call with uuid "${event.uuid}" exists`)
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
      this.s.insertCall.run(call.id, call.uuid, companyId, call.campaignId, call.callerNumber, call.calledNumber, sqliteTime(call.startedAt), sqliteTime(now))
      // tags publishers sent before the call first; what telephony reports with the call wins over them
      this.applyPendingTags(call, now)
      this.applyTags(call.id, event.tags, now)
      return { call, published: 'STARTED', cancelled: [], ...this.writePixels(call, 'CALL_START', cache, held, slots, now) }
    }
    const row = this.s.callByUuid.get(companyId, event.uuid) as Record<string, unknown> | undefined
    if (!row) throw notFound('call', 'uuid')
    const change = applyChange(callFromRow(row), event, now)
    const c = change.call
    this.s.updateCall.run(c.status, ...[c.answeredAt, c.endedAt, c.durationSeconds, c.converted, c.convertedAt, c.updatedAt].map(sqliteValue), c.id)
    this.applyTags(c.id, event.tags, now)
    const cancelled = change.trigger === 'CALL_END' ? this.cancelTimers(c, now) : []
    return { call: c, published: change.published, cancelled, ...this.writePixels(c, change.trigger, cache, held, slots, now) }
  }

  /** The call ended: its timers not yet due never will be (cancelled now, not when they come due). */
  private cancelTimers(call: Call, now: Date): Pixel[] {
    const timers = timersEndedBefore((this.s.pendingTimers.all(call.id) as Record<string, unknown>[]).map(pixelFromRow), call.endedAt!, now)
    return timers.filter((p) => this.s.cancelPixel.run(p.responseNote, sqliteTime(now), p.id).changes === 1)
  }

  private applyTags(callId: string, tags: TagInput[], now: Date): void {
    for (const { key, value } of tags) this.upsertTag(newId(), callId, key, value, 'CALL_EVENT', null, now)
  }

  /** A number calls in: unexpired pending tags apply, oldest first, and are used up (as pendingTags.ts). */
  private applyPendingTags(call: Call, now: Date): void {
    const pending = this.s.pendingTags.all(call.companyId, call.callerNumber, sqliteTime(now), call.campaignId) as {
      id: string
      key: string
      value: string
      postbackId: string
    }[]
    for (const tag of pending) {
      this.upsertTag(newId(), call.id, tag.key, tag.value, 'POSTBACK', tag.postbackId, now)
      this.s.deletePendingTag.run(tag.id)
    }
    for (const postbackId of new Set(pending.map((p) => p.postbackId))) this.s.postbackReachedCall.run(call.id, postbackId)
  }

  private writePixels(
    call: Call,
    trigger: CallEventTrigger,
    cache: BatchCache,
    held: { reserved: number },
    slots: DeliverySlots,
    now: Date,
  ): Pick<RecordedCallEvent, 'pixels' | 'handoff'> {
    let webhooks = cache.get(call.campaignId)
    if (!webhooks) cache.set(call.campaignId, (webhooks = (this.s.webhooks.all(call.campaignId) as Record<string, unknown>[]).map(webhookFromRow)))
    const triggers = trigger === 'ANSWERED' ? ['ANSWERED', 'TIMER'] : [trigger]
    if (!webhooks.some((w) => triggers.includes(w.trigger))) return { pixels: [], handoff: [] }
    const tags = this.tagsOf(call.id)
    const at = triggerMoment(call, trigger) ?? now
    const deduped = (w: Webhook) => {
      const { since, until } = dedupeWindow(w.dedupeWindowSeconds!, at)
      return this.s.deduped.get(w.id, call.callerNumber, call.id, sqliteTime(since), sqliteTime(until)) !== undefined
    }
    const firing = webhooksToFire(webhooks, trigger, tags).filter((w) => !w.dedupeWindowSeconds || !deduped(w))
    const plan = planPixels(call, firing, tags, slots, now)
    held.reserved += plan.reserved
    for (const p of plan.pixels) {
      this.s.insertPixel.run(
        p.id,
        p.companyId,
        p.campaignId,
        p.webhookId,
        p.callId,
        p.callerNumber,
        p.trigger,
        p.status,
        ...[p.nextAttemptAt, p.lockedUntil, p.createdAt].map(sqliteValue),
      )
    }
    return plan
  }
}
