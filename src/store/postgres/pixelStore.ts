// Deliveries on PostgreSQL, on the pg pool. Claims take due pixels in batches with FOR UPDATE SKIP LOCKED
// (workers on several instances never wait for each other's rows nor take the same one) and read their
// webhooks, calls and tags with one statement each; outcomes are written in batches (group commit), one
// statement a batch. A worker LISTENs for the PENDING pixels any instance writes.
import { GroupCommit } from '../../core/groupCommit.js'
import { newId } from '../../core/ids.js'
import type { TagInput } from '../../core/tags.js'
import type { DeliveryJob } from '../../delivery/handoff.js'
import { type AttemptRecord, type PixelStore, type PixelUpdate, type ProbeTimes, type EndPixels, updatedPixel } from '../../delivery/pixelStore.js'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'
import { PIXELS_CHANNEL } from './callEventStore.js'
import { pgTime, type Pool, type PoolClient } from './pool.js'
import { COUNT_COLUMNS, healthDeltas, type HealthSample } from '../../delivery/health.js'

interface Outcome {
  job: DeliveryJob
  pixel: Pixel
  attempt: AttemptRecord | null
  tags: TagInput[]
  health: HealthSample | null
}

const json = (v: unknown) => (v == null ? null : JSON.stringify(v))

/** Health columns after the key: the counts, then the latency sum and the latest success and failure. */
const HEALTH_VALUES = [
  ...COUNT_COLUMNS.map((c) => [c, 'int'] as const),
  ['latencySumMs', 'float8'],
  ['lastSuccessAt', 'timestamp(3)'],
  ['lastFailureAt', 'timestamp(3)'],
] as const

/**
 * Adds a batch's health deltas (one per bucket, sorted: every worker locks bucket rows in one order) to
 * their buckets; parameters from $29: the key columns, then HEALTH_VALUES, an array each.
 */
const UPSERT_HEALTH = (() => {
  const key = [
    ['companyId', 'text'],
    ['webhookId', 'text'],
    ['origin', 'text'],
    ['period', 'text'],
    ['bucketStart', 'timestamp(3)'],
  ] as const
  const columns = [...key, ...HEALTH_VALUES]
  const params = columns.map(([, type], i) => `$${29 + i}::${type}[]`).join(', ')
  const names = columns.map(([name]) => `"${name}"`).join(', ')
  return `INSERT INTO "HealthBucket" (${names})
    SELECT ${names} FROM unnest(${params}) AS d(${names})
    ON CONFLICT ("webhookId", "origin", "period", "bucketStart") DO UPDATE SET
      ${COUNT_COLUMNS.map((c) => `"${c}" = "HealthBucket"."${c}" + excluded."${c}"`).join(', ')},
      "latencySumMs" = "HealthBucket"."latencySumMs" + excluded."latencySumMs",
      "lastSuccessAt" = GREATEST("HealthBucket"."lastSuccessAt", excluded."lastSuccessAt"),
      "lastFailureAt" = GREATEST("HealthBucket"."lastFailureAt", excluded."lastFailureAt")`
})()

export class PgPixelStore implements PixelStore {
  private readonly queue: GroupCommit<Outcome, boolean>
  private listener: PoolClient | null = null

  /** `onBatch`: told each batch of outcomes' size (metrics) */
  constructor(
    private readonly pool: Pool,
    onBatch?: (size: number) => void,
  ) {
    // a failed batch is written one outcome at a time, so only the failing one fails (else their pixels
    // would be sent again when their locks expire)
    this.queue = new GroupCommit((outcomes) => this.writeOutcomes(outcomes), { retryAlone: () => true, onBatch })
  }

  async claim(limit: number, lockMs: number, takeOver: boolean): Promise<DeliveryJob[]> {
    const now = new Date()
    const lockedUntil = pgTime(new Date(now.getTime() + lockMs))
    // due: DELIVERING by a worker whose lock expired (it died), then PENDING whose time has come, oldest first;
    // a statement per state, each walking the (status, nextAttemptAt) index and stopping at the limit
    const take = async (due: string, n: number) =>
      (
        await this.pool.query<Pixel>(
          `UPDATE "Pixel" p SET "status" = 'DELIVERING', "lockedUntil" = $1
           FROM (SELECT "id" FROM "Pixel" WHERE ${due} ORDER BY "nextAttemptAt" LIMIT $3 FOR UPDATE SKIP LOCKED) AS due
           WHERE p."id" = due."id" RETURNING p.*`,
          [lockedUntil, pgTime(now), n],
        )
      ).rows
    const pixels = takeOver ? await take(`"status" = 'DELIVERING' AND "lockedUntil" < $2`, limit) : []
    if (pixels.length < limit) pixels.push(...(await take(`"status" = 'PENDING' AND "nextAttemptAt" <= $2`, limit - pixels.length)))
    return this.jobsOf(pixels)
  }

  /** The claimed pixels with their webhooks, calls and (for a first attempt) the calls' tags. */
  private async jobsOf(pixels: Pixel[]): Promise<DeliveryJob[]> {
    if (pixels.length === 0) return []
    const webhookIds = [...new Set(pixels.map((p) => p.webhookId))]
    const callIds = [...new Set(pixels.map((p) => p.callId))]
    const firstAttempt = [...new Set(pixels.filter((p) => p.request === null).map((p) => p.callId))]
    const [webhooks, calls, tags] = await Promise.all([
      this.pool.query<Webhook>(`SELECT * FROM "Webhook" WHERE "id" = ANY($1)`, [webhookIds]),
      this.pool.query<Call>(`SELECT * FROM "Call" WHERE "id" = ANY($1)`, [callIds]),
      firstAttempt.length
        ? this.pool.query<{ callId: string; key: string; value: string }>(`SELECT "callId", "key", "value" FROM "Tag" WHERE "callId" = ANY($1)`, [firstAttempt])
        : Promise.resolve({ rows: [] }),
    ])
    const webhookById = new Map(webhooks.rows.map((w) => [w.id, w]))
    const callById = new Map(calls.rows.map((c) => [c.id, c]))
    const tagsByCall = new Map<string, Record<string, string>>()
    for (const t of tags.rows) tagsByCall.set(t.callId, { ...tagsByCall.get(t.callId), [t.key]: t.value })
    return pixels.map((pixel) => ({
      pixel,
      webhook: webhookById.get(pixel.webhookId)!,
      call: callById.get(pixel.callId)!,
      tags: pixel.request === null ? (tagsByCall.get(pixel.callId) ?? {}) : null,
    }))
  }

  async load(pixelId: string): Promise<DeliveryJob> {
    const { rows } = await this.pool.query<Pixel>(`SELECT * FROM "Pixel" WHERE "id" = $1`, [pixelId])
    if (!rows[0]) throw new Error(`pixel ${pixelId} not found`)
    return (await this.jobsOf(rows))[0]!
  }

  async holdLock(job: DeliveryJob, until: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE "Pixel" SET "lockedUntil" = $2 WHERE "id" = $1 AND "status" = 'DELIVERING' AND "lockedUntil" = $3`, [
      job.pixel.id,
      pgTime(until),
      pgTime(job.pixel.lockedUntil),
    ])
    if (rowCount === 1) job.pixel.lockedUntil = until
    return rowCount === 1
  }

  async settle(
    job: DeliveryJob,
    update: PixelUpdate,
    attempt: AttemptRecord | null,
    tags: TagInput[],
    health: HealthSample | null = null,
  ): Promise<Pixel | null> {
    const pixel = updatedPixel(job.pixel, update)
    return (await this.queue.push({ job, pixel, attempt, tags, health })) ? pixel : null
  }

  /**
   * A batch of outcomes in one statement (one round trip, atomic): each pixel written only while it is as its
   * worker took it (DELIVERING, the same attempt count, the same lock: a worker taken for dead writes nothing),
   * then the attempts and the response's tags of those written (the last of a call's key winning), and the
   * calls those tags changed; and every attempt made (written or taken over: the request was sent) added to
   * its health buckets (delivery/health.ts). Answers, for each, whether it was written.
   */
  private async writeOutcomes(outcomes: Outcome[]): Promise<{ ok: true; value: boolean }[]> {
    const o = outcomes
    const a = o.flatMap((x) => (x.attempt ? [{ pixelId: x.pixel.id, ...x.attempt }] : []))
    const t = o.flatMap((x) => x.tags.map((tag) => ({ callId: x.job.call.id, key: tag.key, value: tag.value, pixelId: x.pixel.id })))
    const h = healthDeltas(o.flatMap((x) => (x.health ? [x.health] : [])))
    const now = pgTime(new Date())
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH written AS (
         UPDATE "Pixel" p SET "status" = u."status", "attemptCount" = u."attemptCount", "nextAttemptAt" = u."nextAttemptAt",
           "lockedUntil" = u."lockedUntil", "completedAt" = u."completedAt", "responseNote" = u."responseNote", "tagsApplied" = u."tagsApplied",
           "request" = u."request", "unresolvedTokens" = u."unresolvedTokens"
         FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::timestamp(3)[], $6::timestamp(3)[], $7::timestamp(3)[], $8::text[], $9::jsonb[],
           $10::jsonb[], $11::jsonb[], $12::timestamp(3)[])
           AS u("id", "takenAt", "status", "attemptCount", "nextAttemptAt", "lockedUntil", "completedAt", "responseNote", "tagsApplied", "request", "unresolvedTokens",
             "heldUntil")
         WHERE p."id" = u."id" AND p."status" = 'DELIVERING' AND p."attemptCount" = u."takenAt" AND p."lockedUntil" IS NOT DISTINCT FROM u."heldUntil"
         RETURNING p."id"
       ),
       attempts AS (
         INSERT INTO "PixelAttempt" ("id", "pixelId", "number", "startedAt", "durationMs", "statusCode", "responseHeaders", "responseBody", "responseTruncated", "error")
         SELECT * FROM unnest($13::text[], $14::text[], $15::int[], $16::timestamp(3)[], $17::int[], $18::int[], $19::jsonb[], $20::text[], $21::boolean[], $22::text[])
           AS a("id", "pixelId", "number", "startedAt", "durationMs", "statusCode", "responseHeaders", "responseBody", "responseTruncated", "error")
         WHERE a."pixelId" IN (SELECT "id" FROM written)
       ),
       tags AS (
         SELECT DISTINCT ON (t."callId", t."key") t.* FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::text[]) WITH ORDINALITY
           AS t("id", "callId", "key", "value", "sourceId", "n")
         WHERE t."sourceId" IN (SELECT "id" FROM written) ORDER BY t."callId", t."key", t."n" DESC
       ),
       tagged AS (
         INSERT INTO "Tag" ("id", "callId", "key", "value", "source", "sourceId", "createdAt", "updatedAt")
         SELECT "id", "callId", "key", "value", 'WEBHOOK', "sourceId", $28::timestamp(3), $28::timestamp(3) FROM tags
         ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source", "sourceId" = excluded."sourceId",
           "updatedAt" = excluded."updatedAt"
       ),
       touched AS (UPDATE "Call" SET "updatedAt" = $28::timestamp(3) WHERE "id" IN (SELECT "callId" FROM tags)),
       health AS (${UPSERT_HEALTH})
       SELECT "id" FROM written`,
      [
        o.map((x) => x.pixel.id),
        o.map((x) => x.job.pixel.attemptCount),
        o.map((x) => x.pixel.status),
        o.map((x) => x.pixel.attemptCount),
        o.map((x) => pgTime(x.pixel.nextAttemptAt)),
        o.map((x) => pgTime(x.pixel.lockedUntil)),
        o.map((x) => pgTime(x.pixel.completedAt)),
        o.map((x) => x.pixel.responseNote),
        o.map((x) => json(x.pixel.tagsApplied)),
        o.map((x) => json(x.pixel.request)),
        o.map((x) => json(x.pixel.unresolvedTokens)),
        o.map((x) => pgTime(x.job.pixel.lockedUntil)),
        a.map(() => newId()),
        a.map((r) => r.pixelId),
        a.map((r) => r.number),
        a.map((r) => pgTime(r.startedAt)),
        a.map((r) => r.durationMs),
        a.map((r) => r.statusCode),
        a.map((r) => json(r.responseHeaders)),
        a.map((r) => r.responseBody),
        a.map((r) => r.responseTruncated),
        a.map((r) => r.error),
        t.map(() => newId()),
        t.map((r) => r.callId),
        t.map((r) => r.key),
        t.map((r) => r.value),
        t.map((r) => r.pixelId),
        now,
        h.map((d) => d.companyId),
        h.map((d) => d.webhookId),
        h.map((d) => d.origin),
        h.map((d) => d.period),
        h.map((d) => new Date(d.bucketStart).toISOString()),
        ...COUNT_COLUMNS.map((_, i) => h.map((d) => d.counts[i]!)),
        h.map((d) => d.latencySumMs),
        h.map((d) => (d.lastSuccessAt === null ? null : new Date(d.lastSuccessAt).toISOString())),
        h.map((d) => (d.lastFailureAt === null ? null : new Date(d.lastFailureAt).toISOString())),
      ],
    )
    const written = new Set(rows.map((r) => r.id))
    return outcomes.map((x) => ({ ok: true as const, value: written.has(x.pixel.id) }))
  }

  // the circuit's statements name 'PENDING' literally, so the planner uses the partial index of waiting pixels.
  // Releasing and ending check the webhook's state in the statement: a sweep that read it a moment ago must
  // not release what a circuit opened since holds, nor end what a webhook enabled since sends.

  async holdPixels(webhookId: string, note: string, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE "Pixel" SET "nextAttemptAt" = NULL, "responseNote" = $2 WHERE "id" IN (SELECT "id" FROM "Pixel"
         WHERE "webhookId" = $1 AND "status" = 'PENDING' AND "nextAttemptAt" IS NOT NULL AND NOT ("trigger" = 'TIMER' AND "attemptCount" = 0) LIMIT $3)`,
      [webhookId, note, limit],
    )
    return rowCount ?? 0
  }

  async releasePixels(webhookId: string, now: Date, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE "Pixel" SET "nextAttemptAt" = $2, "responseNote" = NULL WHERE "id" IN (SELECT "id" FROM "Pixel"
         WHERE "webhookId" = $1 AND "status" = 'PENDING' AND "nextAttemptAt" IS NULL LIMIT $3)
         AND EXISTS (SELECT 1 FROM "Webhook" WHERE "id" = $1 AND "circuitState" = 'CLOSED' AND "deletedAt" IS NULL)`,
      [webhookId, pgTime(now), limit],
    )
    return rowCount ?? 0
  }

  async endPixels(webhookId: string, end: EndPixels, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE "Pixel" SET "status" = $2, "nextAttemptAt" = NULL, "completedAt" = $4, "responseNote" = $3 WHERE "id" IN (SELECT "id" FROM "Pixel"
         WHERE "webhookId" = $1 AND "status" = 'PENDING' AND (NOT $5 OR "nextAttemptAt" IS NULL) LIMIT $6)
         AND EXISTS (SELECT 1 FROM "Webhook" WHERE "id" = $1 AND CASE WHEN $7 THEN "circuitState" = 'DISABLED' ELSE "deletedAt" IS NOT NULL END)`,
      [webhookId, end.status, end.note, pgTime(end.now), end.heldOnly, limit, end.status === 'FAILED'],
    )
    return rowCount ?? 0
  }

  /**
   * One statement: the webhook's row locked while its circuit is due a probe (a second worker waits for the
   * first, then finds the probe time moved on), the oldest waiting pixel taken with SKIP LOCKED, the
   * circuit HALF_OPEN and the pixel claimed only when there is one.
   */
  async takeProbe(webhookId: string, probe: ProbeTimes): Promise<{ job: DeliveryJob; from: 'OPEN' | 'HALF_OPEN' } | null> {
    const { rows } = await this.pool.query<Pixel & { fromState: 'OPEN' | 'HALF_OPEN' }>(
      `WITH circuit AS (
         SELECT "circuitState" FROM "Webhook" WHERE "id" = $1 AND "circuitState" IN ('OPEN', 'HALF_OPEN') AND "circuitProbeAt" <= $2 FOR UPDATE
       ),
       waiting AS (
         SELECT "id" FROM "Pixel" WHERE "webhookId" = $1 AND "status" = 'PENDING' AND "nextAttemptAt" IS NULL AND EXISTS (SELECT 1 FROM circuit)
         ORDER BY "createdAt" LIMIT 1 FOR UPDATE SKIP LOCKED
       ),
       probed AS (
         UPDATE "Webhook" w SET "circuitState" = 'HALF_OPEN', "circuitProbeAt" = $3, "updatedAt" = $2,
           "circuitChangedAt" = CASE WHEN w."circuitState" = 'OPEN' THEN $2 ELSE w."circuitChangedAt" END,
           "circuitReason" = CASE WHEN w."circuitState" = 'OPEN' THEN $5 ELSE w."circuitReason" END
         WHERE w."id" = $1 AND EXISTS (SELECT 1 FROM waiting)
       )
       UPDATE "Pixel" p SET "status" = 'DELIVERING', "lockedUntil" = $4 FROM waiting WHERE p."id" = waiting."id"
       RETURNING p.*, (SELECT "circuitState" FROM circuit) AS "fromState"`,
      [webhookId, pgTime(probe.now), pgTime(probe.deadline), pgTime(probe.lockedUntil), probe.reason],
    )
    if (!rows[0]) return null
    const { fromState, ...pixel } = rows[0]
    return { job: (await this.jobsOf([pixel]))[0]!, from: fromState }
  }

  /** Calls `onPending` whenever any instance writes PENDING pixels (the call-event store NOTIFYs). */
  async listen(onPending: () => void): Promise<void> {
    this.listener = await this.pool.connect()
    this.listener.on('notification', () => onPending())
    // a listener that loses its connection leaves the worker to its poll interval
    this.listener.on('error', () => {})
    await this.listener.query(`LISTEN ${PIXELS_CHANNEL}`)
  }

  async close(): Promise<void> {
    await this.queue.drain()
    this.listener?.release(true)
    this.listener = null
  }
}
