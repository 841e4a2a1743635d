// Call events on embedded SQLite: group commit, the transactions on the writer thread (sqliteWriter.ts)
// with prepared statements of their own. Events that arrive while a batch is written form the next batch,
// one transaction: read through prepared statements, decided by planCallEvents (the same decision as on
// PostgreSQL), written row by row. A refused event is refused before it writes anything, so it does not
// undo the others.
import type Database from 'better-sqlite3'
import type { CallEventStore, CheckedCallEvent, RecordedCallEvent } from '../../calls/callEvents.js'
import { type CallEventItem as Item, type CallEventReads, planCallEvents } from '../../calls/planCallEvents.js'
import { GroupCommit, type ItemResult } from '../../core/groupCommit.js'
import { newId } from '../../core/ids.js'
import { heldSlots, NO_SLOTS, type DeliverySlots } from '../../delivery/handoff.js'
import type { SharedSlots } from '../../delivery/sharedSlots.js'
import { isBusy } from './sqliteBusy.js'
import { callFromRow, pixelFromRow, prepareTagsOf, prepareTagUpsert, sqliteTime, sqliteValue, webhookFromRow } from './sqliteRows.js'
import type { SqliteWriter, WriterTurn } from './sqliteWriter.js'
import { resultsFromWire, toWire, type WireResult } from './wire.js'

/**
 * The main thread's side: batches events for the writer thread, which takes delivery slots for the pixels
 * it hands over from the worker's shared counter (none when this instance runs no worker).
 */
export class SqliteCallEventStore implements CallEventStore {
  private readonly queue: GroupCommit<Item, RecordedCallEvent>

  /**
   * `worker`: this instance's delivery worker, whose slots the writer takes; none in an API-only instance.
   * `onBatch`: told each batch's size (metrics).
   */
  constructor(
    private readonly writer: SqliteWriter,
    private readonly worker: { slots: SharedSlots; notify(): void } | null,
    onBatch?: (size: number) => void,
  ) {
    // sent before any batch: the thread answers in order
    if (worker) void writer.call('useSlots', worker.slots.counter).catch(() => {})
    // an unexpected failure (not a refused event): each event on its own, so only the failing one fails
    this.queue = new GroupCommit((items) => this.writeTogether(items), { retryAlone: (e) => !isBusy(e), onBatch })
  }

  private async writeTogether(items: Item[]): Promise<ItemResult<RecordedCallEvent>[]> {
    try {
      return resultsFromWire(await this.writer.call('callEvents', items))
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
  private readonly reads: CallEventReads
  private readonly batch
  private slots: DeliverySlots = NO_SLOTS

  constructor(db: Database.Database) {
    this.upsertTag = prepareTagUpsert(db)
    const tagsOf = prepareTagsOf(db)
    this.s = {
      campaign: db.prepare(`SELECT "id", "archivedAt" FROM "Campaign" WHERE "id" = ? AND "companyId" = ?`),
      // uuids are unique within a company: another company's call of the same uuid is none of this one's business
      callByUuid: db.prepare(`SELECT * FROM "Call" WHERE "companyId" = ? AND "uuid" = ?`),
      insertCall: db.prepare(`INSERT INTO "Call" ("id", "uuid", "companyId", "campaignId", "callerNumber", "calledNumber", "status", "startedAt",
        "answeredAt", "endedAt", "durationSeconds", "converted", "convertedAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      updateCall: db.prepare(`UPDATE "Call" SET "status" = ?, "answeredAt" = ?, "endedAt" = ?, "durationSeconds" = ?, "converted" = ?, "convertedAt" = ?,
        "updatedAt" = ? WHERE "id" = ?`),
      pendingTags: db.prepare(`SELECT "id", "key", "value", "postbackId" FROM "PendingTag"
        WHERE "companyId" = ? AND "callerNumber" = ? AND "expiresAt" > ? AND ("campaignId" IS NULL OR "campaignId" = ?)
        ORDER BY "createdAt", "id"`),
      deletePendingTag: db.prepare(`DELETE FROM "PendingTag" WHERE "id" = ?`),
      postbackReachedCall: db.prepare(`UPDATE "Postback" SET "callId" = ? WHERE "id" = ?`),
      webhooks: db.prepare(`SELECT * FROM "Webhook" WHERE "campaignId" = ? AND "deletedAt" IS NULL AND "enabled" = 1 ORDER BY "createdAt", "id"`),
      // the bounds come from dedupeWindow (firingRules.ts)
      firedPixels: db.prepare(`SELECT "webhookId", "callerNumber", "callId", "createdAt" FROM "Pixel"
        WHERE "webhookId" = ? AND "callerNumber" = ? AND "createdAt" >= ? AND "createdAt" <= ? AND "status" <> 'CANCELLED'`),
      pendingTimers: db.prepare(`SELECT * FROM "Pixel" WHERE "callId" = ? AND "trigger" = 'TIMER' AND "status" = 'PENDING'`),
      cancelPixel: db.prepare(`UPDATE "Pixel" SET "status" = 'CANCELLED', "responseNote" = ?, "completedAt" = ?, "nextAttemptAt" = NULL, "lockedUntil" = NULL
        WHERE "id" = ? AND "status" = 'PENDING'`),
      insertPixel: db.prepare(`INSERT INTO "Pixel" ("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status",
        "attemptCount", "nextAttemptAt", "lockedUntil", "responseNote", "completedAt", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`),
    }
    const s = this.s
    const dateOf = (v: unknown) => (v == null ? null : new Date(v as string))
    this.reads = {
      campaign: (companyId, id) => {
        const row = s.campaign.get(id, companyId) as { id: string; archivedAt: string | null } | undefined
        return row && { id: row.id, archivedAt: dateOf(row.archivedAt) }
      },
      call: (companyId, uuid) => {
        const row = s.callByUuid.get(companyId, uuid) as Record<string, unknown> | undefined
        return row && callFromRow(row)
      },
      webhooks: (campaignId) => (s.webhooks.all(campaignId) as Record<string, unknown>[]).map(webhookFromRow),
      tags: tagsOf,
      pendingTags: (companyId, callerNumber, campaignId, now) =>
        s.pendingTags.all(companyId, callerNumber, sqliteTime(now), campaignId) as { id: string; key: string; value: string; postbackId: string }[],
      firedPixels: (webhookId, callerNumber, since, until) =>
        (
          s.firedPixels.all(webhookId, callerNumber, sqliteTime(since), sqliteTime(until)) as {
            webhookId: string
            callerNumber: string
            callId: string
            createdAt: string
          }[]
        ).map((r) => ({ ...r, createdAt: new Date(r.createdAt) })),
      pendingTimers: (callId) => (s.pendingTimers.all(callId) as Record<string, unknown>[]).map(pixelFromRow),
    }
    this.batch = db.transaction((items: Item[], held: { reserved: number }) => {
      const now = new Date()
      // slots counted as they are taken: a batch that fails half-way gives back what it took
      const plan = planCallEvents(items, this.reads, heldSlots(this.slots, held), now)
      const t = (d: Date | null) => (d ? sqliteTime(d) : null)
      for (const c of plan.newCalls) {
        s.insertCall.run(
          c.id,
          c.uuid,
          c.companyId,
          c.campaignId,
          c.callerNumber,
          c.calledNumber,
          c.status,
          t(c.startedAt),
          t(c.answeredAt),
          t(c.endedAt),
          c.durationSeconds,
          c.converted ? 1 : 0,
          t(c.convertedAt),
          t(c.updatedAt),
        )
      }
      for (const c of plan.changedCalls)
        s.updateCall.run(c.status, ...[c.answeredAt, c.endedAt, c.durationSeconds, c.converted, c.convertedAt, c.updatedAt].map(sqliteValue), c.id)
      for (const tag of plan.tags) this.upsertTag(newId(), tag.callId, tag.key, tag.value, tag.source, tag.sourceId, now)
      for (const id of plan.usedPendingTags) s.deletePendingTag.run(id)
      for (const { postbackId, callId } of plan.postbackCalls) s.postbackReachedCall.run(callId, postbackId)
      for (const p of plan.pixels) {
        s.insertPixel.run(
          p.id,
          p.companyId,
          p.campaignId,
          p.webhookId,
          p.callId,
          p.callerNumber,
          p.trigger,
          p.status,
          t(p.nextAttemptAt),
          t(p.lockedUntil),
          p.responseNote,
          t(p.completedAt),
          t(p.createdAt),
        )
      }
      for (const p of plan.cancelledTimers) s.cancelPixel.run(p.responseNote, t(p.completedAt), p.id)
      return plan.results.map((r): WireResult<RecordedCallEvent> => (r.ok ? r : { ok: false, error: toWire(r.error) }))
    })
  }

  /** The delivery worker's slots (shared with the main thread): pixels are handed over while it has room. */
  useSlots(slots: DeliverySlots): void {
    this.slots = slots
  }

  /**
   * The batch, inside the writer thread's transaction for its turn (its own savepoint: a batch that fails
   * undoes only itself). Pixels are handed over while the worker has free slots, taken as they are decided.
   * Slots taken for a batch that is not committed after all (it failed, or the turn's transaction did) are
   * given back.
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
}
