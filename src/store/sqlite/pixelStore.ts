// Delivery outcomes and claims on embedded SQLite, on the writer thread (sqliteWriter.ts) with prepared
// statements of their own. Outcomes are written in batches (group commit): each attempt is an UPDATE of
// the pixel, an INSERT of the attempt and the response's tags, rather than Prisma round trips. Claims are
// one UPDATE … RETURNING with the claimed pixels' webhooks, calls and tags read in the same transaction.
// Loading one pixel (resend, test-fire) stays on Prisma.
import type Database from 'better-sqlite3'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'
import { GroupCommit } from '../../core/groupCommit.js'
import { newId } from '../../core/ids.js'
import { isBusy } from './sqliteBusy.js'
import { callFromRow, pixelFromRow, prepareTagsOf, prepareTagUpsert, sqliteTime, webhookFromRow } from './sqliteRows.js'
import type { SqliteWriter } from './sqliteWriter.js'
import type { Outcome } from './writerOps.js'
import type { DeliveryJob } from '../../delivery/handoff.js'
import { updatedPixel, type AttemptRecord, type PixelStore, type PixelUpdate, type ProbeTimes, type EndPixels } from '../../delivery/pixelStore.js'
import type { TagInput } from '../../core/tags.js'
import { holdPixelLock, loadDeliveryJob } from '../../delivery/loadPixel.js'
import type { Db } from '../../core/db.js'
import { COUNT_COLUMNS, healthDeltas, type HealthSample } from '../../delivery/health.js'

/** Adds a batch's counts to a health bucket (delivery/health.ts), keeping the latest success and failure. */
const UPSERT_HEALTH = `INSERT INTO "HealthBucket" ("companyId", "webhookId", "origin", "period", "bucketStart", ${COUNT_COLUMNS.map((c) => `"${c}"`).join(', ')},
    "latencySumMs", "lastSuccessAt", "lastFailureAt")
  VALUES (${Array.from({ length: 5 + COUNT_COLUMNS.length + 3 }, () => '?').join(', ')})
  ON CONFLICT ("webhookId", "origin", "period", "bucketStart") DO UPDATE SET
    ${COUNT_COLUMNS.map((c) => `"${c}" = "${c}" + excluded."${c}"`).join(', ')}, "latencySumMs" = "latencySumMs" + excluded."latencySumMs",
    "lastSuccessAt" = coalesce(max("lastSuccessAt", excluded."lastSuccessAt"), "lastSuccessAt", excluded."lastSuccessAt"),
    "lastFailureAt" = coalesce(max("lastFailureAt", excluded."lastFailureAt"), "lastFailureAt", excluded."lastFailureAt")`

const json = (v: unknown) => (v == null ? null : JSON.stringify(v))
const time = (d: Date | null) => (d ? sqliteTime(d) : null)
const msTime = (ms: number | null) => (ms === null ? null : sqliteTime(new Date(ms)))

/** An outcome of a delivery in the shape the writer writes it. */
function outcomeOf(job: DeliveryJob, p: Pixel, attempt: AttemptRecord | null, tags: TagInput[], health: HealthSample | null): Outcome {
  return {
    id: p.id,
    takenAt: job.pixel.attemptCount,
    heldUntil: time(job.pixel.lockedUntil),
    callId: job.call.id,
    status: p.status,
    attemptCount: p.attemptCount,
    nextAttemptAt: time(p.nextAttemptAt),
    lockedUntil: time(p.lockedUntil),
    completedAt: time(p.completedAt),
    responseNote: p.responseNote,
    tagsApplied: json(p.tagsApplied),
    request: json(p.request),
    unresolvedTokens: json(p.unresolvedTokens),
    attempt: attempt && [
      attempt.number,
      sqliteTime(attempt.startedAt),
      attempt.durationMs,
      attempt.statusCode,
      json(attempt.responseHeaders),
      attempt.responseBody,
      attempt.responseTruncated ? 1 : 0,
      attempt.error,
    ],
    tags: tags.flatMap((t) => [t.key, t.value]),
    health: health && [health.companyId, health.webhookId, health.origin, health.at, health.kind, health.durationMs],
  }
}

/** The main thread's side: claims and batches of outcomes go to the writer thread; load and holdLock to Prisma. */
export class SqlitePixelStore implements PixelStore {
  private readonly queue: GroupCommit<Outcome, boolean>

  /** `onBatch`: told each batch of outcomes' size (metrics) */
  constructor(
    private readonly writer: SqliteWriter,
    private readonly db: Db,
    onBatch?: (size: number) => void,
  ) {
    // a busy database stays busy for the next one too; any other failure is one outcome's, so the others
    // are written one by one (else their pixels would be sent again when their locks expire)
    this.queue = new GroupCommit(async (outcomes) => (await this.writer.call('outcomes', outcomes)).map((value) => ({ ok: true as const, value })), {
      retryAlone: (e) => !isBusy(e),
      onBatch,
    })
  }

  claim(limit: number, lockMs: number, takeOver: boolean): Promise<DeliveryJob[]> {
    return this.writer.call('claim', limit, lockMs, takeOver)
  }

  load(pixelId: string): Promise<DeliveryJob> {
    return loadDeliveryJob(this.db, pixelId)
  }

  holdLock(job: DeliveryJob, until: Date): Promise<boolean> {
    return holdPixelLock(this.db, job, until)
  }

  async settle(
    job: DeliveryJob,
    update: PixelUpdate,
    attempt: AttemptRecord | null,
    tags: TagInput[],
    health: HealthSample | null = null,
  ): Promise<Pixel | null> {
    const pixel = updatedPixel(job.pixel, update)
    return (await this.queue.push(outcomeOf(job, pixel, attempt, tags, health))) ? pixel : null
  }

  holdPixels(webhookId: string, note: string, limit: number): Promise<number> {
    return this.writer.call('holdPixels', webhookId, note, limit)
  }

  releasePixels(webhookId: string, now: Date, limit: number): Promise<number> {
    return this.writer.call('releasePixels', webhookId, sqliteTime(now), limit)
  }

  endPixels(webhookId: string, end: EndPixels, limit: number): Promise<number> {
    return this.writer.call('endPixels', webhookId, { ...end, now: sqliteTime(end.now) }, limit)
  }

  takeProbe(webhookId: string, probe: ProbeTimes): Promise<{ job: DeliveryJob; from: 'OPEN' | 'HALF_OPEN' } | null> {
    return this.writer.call('takeProbe', webhookId, {
      now: sqliteTime(probe.now),
      deadline: sqliteTime(probe.deadline),
      lockedUntil: sqliteTime(probe.lockedUntil),
      reason: probe.reason,
    })
  }

  async close(): Promise<void> {
    await this.queue.drain()
  }
}

/** The writer thread's side. */
export class SqlitePixelWrites {
  private readonly s
  private readonly upsertTag
  private readonly tagsOf
  /** Claims due pixels (a savepoint in the writer thread's transaction: no other writer between the reads and the updates). */
  readonly claim: (limit: number, lockMs: number, takeOver: boolean) => DeliveryJob[]
  /** A batch of outcomes (a savepoint in the writer thread's transaction); each answers whether it was written (false: the pixel was taken over). */
  readonly writeOutcomes: (outcomes: Outcome[]) => boolean[]
  /** A probe of an open circuit (PixelStore.takeProbe), in one transaction. */
  readonly takeProbe: (
    webhookId: string,
    probe: { now: string; deadline: string; lockedUntil: string; reason: string },
  ) => {
    job: DeliveryJob
    from: 'OPEN' | 'HALF_OPEN'
  } | null

  constructor(db: Database.Database) {
    this.upsertTag = prepareTagUpsert(db)
    this.tagsOf = prepareTagsOf(db)
    this.s = {
      // only while the pixel is as this worker took it: a worker taken for dead must not overwrite the one that took over
      updatePixel: db.prepare(`UPDATE "Pixel" SET "status" = ?, "attemptCount" = ?, "nextAttemptAt" = ?, "lockedUntil" = ?, "completedAt" = ?,
        "responseNote" = ?, "tagsApplied" = ?, "request" = ?, "unresolvedTokens" = ?
        WHERE "id" = ? AND "status" = 'DELIVERING' AND "attemptCount" = ? AND "lockedUntil" IS ?`),
      insertAttempt: db.prepare(`INSERT INTO "PixelAttempt" ("id", "pixelId", "number", "startedAt", "durationMs", "statusCode", "responseHeaders",
        "responseBody", "responseTruncated", "error") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      touchCall: db.prepare(`UPDATE "Call" SET "updatedAt" = ? WHERE "id" = ?`),
      // due: DELIVERING by a worker whose lock expired (it died), then PENDING whose time has come, oldest
      // first. Two statements, each walking the (status, nextAttemptAt) index and stopping at the limit: one
      // statement with OR had to read and sort every due row, a millisecond and more with a backlog.
      claimExpired: db.prepare(`UPDATE "Pixel" SET "status" = 'DELIVERING', "lockedUntil" = @lockedUntil
        WHERE "id" IN (SELECT "id" FROM "Pixel" WHERE "status" = 'DELIVERING' AND "lockedUntil" < @now LIMIT @limit) RETURNING *`),
      claimPending: db.prepare(`UPDATE "Pixel" SET "status" = 'DELIVERING', "lockedUntil" = @lockedUntil
        WHERE "id" IN (SELECT "id" FROM "Pixel" WHERE "status" = 'PENDING' AND "nextAttemptAt" <= @now ORDER BY "nextAttemptAt" LIMIT @limit) RETURNING *`),
      upsertHealth: db.prepare(UPSERT_HEALTH),
      // the circuit's statements name 'PENDING' literally: SQLite uses the partial index of waiting pixels only then.
      // Releasing and ending check the webhook's state in the statement: a sweep that read it a moment ago
      // must not release what a circuit opened since holds, nor end what a webhook enabled since sends.
      holdPixels: db.prepare(`UPDATE "Pixel" SET "nextAttemptAt" = NULL, "responseNote" = ? WHERE "id" IN (SELECT "id" FROM "Pixel"
        WHERE "webhookId" = ? AND "status" = 'PENDING' AND "nextAttemptAt" IS NOT NULL AND NOT ("trigger" = 'TIMER' AND "attemptCount" = 0) LIMIT ?)`),
      releasePixels: db.prepare(`UPDATE "Pixel" SET "nextAttemptAt" = @now, "responseNote" = NULL WHERE "id" IN (SELECT "id" FROM "Pixel"
        WHERE "webhookId" = @webhookId AND "status" = 'PENDING' AND "nextAttemptAt" IS NULL LIMIT @limit)
        AND EXISTS (SELECT 1 FROM "Webhook" WHERE "id" = @webhookId AND "circuitState" = 'CLOSED' AND "deletedAt" IS NULL)`),
      endPixels:
        db.prepare(`UPDATE "Pixel" SET "status" = @status, "nextAttemptAt" = NULL, "completedAt" = @now, "responseNote" = @note WHERE "id" IN (SELECT "id" FROM "Pixel"
        WHERE "webhookId" = @webhookId AND "status" = 'PENDING' AND (@heldOnly = 0 OR "nextAttemptAt" IS NULL) LIMIT @limit)
        AND EXISTS (SELECT 1 FROM "Webhook" WHERE "id" = @webhookId AND CASE WHEN @disabled = 1 THEN "circuitState" = 'DISABLED' ELSE "deletedAt" IS NOT NULL END)`),
      oldestWaiting: db.prepare(
        `SELECT "id" FROM "Pixel" WHERE "webhookId" = ? AND "status" = 'PENDING' AND "nextAttemptAt" IS NULL ORDER BY "createdAt" LIMIT 1`,
      ),
      circuitOf: db.prepare(`SELECT "circuitState" FROM "Webhook" WHERE "id" = ? AND "circuitState" IN ('OPEN', 'HALF_OPEN') AND "circuitProbeAt" <= ?`),
      probeCircuit: db.prepare(`UPDATE "Webhook" SET "circuitState" = 'HALF_OPEN', "circuitProbeAt" = @deadline, "updatedAt" = @now,
        "circuitChangedAt" = CASE WHEN "circuitState" = 'OPEN' THEN @now ELSE "circuitChangedAt" END,
        "circuitReason" = CASE WHEN "circuitState" = 'OPEN' THEN @reason ELSE "circuitReason" END WHERE "id" = @id`),
      claimProbe: db.prepare(`UPDATE "Pixel" SET "status" = 'DELIVERING', "lockedUntil" = ? WHERE "id" = ? RETURNING *`),
      webhook: db.prepare(`SELECT * FROM "Webhook" WHERE "id" = ?`),
      call: db.prepare(`SELECT * FROM "Call" WHERE "id" = ?`),
    }
    this.claim = db.transaction((limit: number, lockMs: number, takeOver: boolean) => {
      const now = new Date()
      const params = { now: sqliteTime(now), lockedUntil: sqliteTime(new Date(now.getTime() + lockMs)), limit }
      const rows = takeOver ? (this.s.claimExpired.all(params) as Record<string, unknown>[]) : []
      if (rows.length < limit) rows.push(...(this.s.claimPending.all({ ...params, limit: limit - rows.length }) as Record<string, unknown>[]))
      return this.jobsOf(rows)
    })
    this.takeProbe = db.transaction((webhookId: string, probe: { now: string; deadline: string; lockedUntil: string; reason: string }) => {
      const circuit = this.s.circuitOf.get(webhookId, probe.now) as { circuitState: 'OPEN' | 'HALF_OPEN' } | undefined
      const waiting = circuit && (this.s.oldestWaiting.get(webhookId) as { id: string } | undefined)
      if (!circuit || !waiting) return null
      this.s.probeCircuit.run({ id: webhookId, ...probe })
      return { job: this.jobsOf([this.s.claimProbe.get(probe.lockedUntil, waiting.id) as Record<string, unknown>])[0]!, from: circuit.circuitState }
    })
    this.writeOutcomes = db.transaction((outcomes: Outcome[]) => {
      const written = outcomes.map((o) => this.write(o))
      this.countHealth(outcomes)
      return written
    })
  }

  /** The batch's attempts added to their health buckets (every attempt made counts, written or taken over). */
  private countHealth(outcomes: Outcome[]): void {
    const samples: HealthSample[] = []
    for (const { health: h } of outcomes) {
      if (h) samples.push({ companyId: h[0], webhookId: h[1], origin: h[2], at: h[3], kind: h[4], durationMs: h[5] })
    }
    for (const d of healthDeltas(samples)) {
      this.s.upsertHealth.run(
        d.companyId,
        d.webhookId,
        d.origin,
        d.period,
        msTime(d.bucketStart),
        ...d.counts,
        d.latencySumMs,
        msTime(d.lastSuccessAt),
        msTime(d.lastFailureAt),
      )
    }
  }

  /** Claimed pixel rows with their webhooks, calls and (for a first attempt) the calls' tags, read in the same transaction. */
  private jobsOf(rows: Record<string, unknown>[]): DeliveryJob[] {
    const webhooks = new Map<string, Webhook>()
    const calls = new Map<string, Call>()
    return rows.map((row): DeliveryJob => {
      const pixel = pixelFromRow(row)
      let webhook = webhooks.get(pixel.webhookId)
      if (!webhook) webhooks.set(pixel.webhookId, (webhook = webhookFromRow(this.s.webhook.get(pixel.webhookId) as Record<string, unknown>)))
      let call = calls.get(pixel.callId)
      if (!call) calls.set(pixel.callId, (call = callFromRow(this.s.call.get(pixel.callId) as Record<string, unknown>)))
      const tags = pixel.request === null ? this.tagsOf(call.id) : null
      return { pixel, webhook, call, tags }
    })
  }

  holdPixels(webhookId: string, note: string, limit: number): number {
    return this.s.holdPixels.run(note, webhookId, limit).changes
  }

  releasePixels(webhookId: string, now: string, limit: number): number {
    return this.s.releasePixels.run({ now, webhookId, limit }).changes
  }

  endPixels(webhookId: string, end: { status: string; note: string; now: string; heldOnly: boolean }, limit: number): number {
    const disabled = end.status === 'FAILED' ? 1 : 0
    return this.s.endPixels.run({ webhookId, status: end.status, note: end.note, now: end.now, heldOnly: end.heldOnly ? 1 : 0, disabled, limit }).changes
  }

  private write(o: Outcome): boolean {
    const { changes } = this.s.updatePixel.run(
      o.status,
      o.attemptCount,
      o.nextAttemptAt,
      o.lockedUntil,
      o.completedAt,
      o.responseNote,
      o.tagsApplied,
      o.request,
      o.unresolvedTokens,
      o.id,
      o.takenAt,
      o.heldUntil,
    )
    if (changes === 0) return false
    if (o.attempt) this.s.insertAttempt.run(newId(), o.id, ...o.attempt)
    if (o.tags.length) {
      const now = new Date()
      for (let i = 0; i < o.tags.length; i += 2) this.upsertTag(newId(), o.callId, o.tags[i]!, o.tags[i + 1]!, 'WEBHOOK', o.id, now)
      this.s.touchCall.run(sqliteTime(now), o.callId)
    }
    return true
  }
}
