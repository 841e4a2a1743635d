// Call events on PostgreSQL: group commit on the pg pool. A batch is one transaction: what it needs is read
// in three rounds of set-based queries (the calls it names, locked, and the campaigns; then their webhooks,
// tags, pending tags and timers; then the pixels the dedupe rule looks at), decided by planCallEvents (the
// same decision as on SQLite), and written in a handful of set-based statements however many events it
// holds. PENDING pixels are announced with NOTIFY, so workers elsewhere claim them at once.
import type { CallEventStore, CheckedCallEvent, RecordedCallEvent } from '../../calls/callEvents.js'
import { type CallEventItem, type CallEventReads, type FiredPixel, type PendingTagRow, planCallEvents } from '../../calls/planCallEvents.js'
import { GroupCommit, type ItemResult } from '../../core/groupCommit.js'
import { newId } from '../../core/ids.js'
import { heldSlots, type DeliverySlots } from '../../delivery/handoff.js'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'
import { inTransaction, pgTime, type Pool, type PoolClient } from './pool.js'

/** The channel workers LISTEN on for PENDING pixels written by any instance. */
export const PIXELS_CHANNEL = 'ringhook_pixels'

const key = (a: string, b: string) => `${a}\u0000${b}`

export class PgCallEventStore implements CallEventStore {
  private readonly queue: GroupCommit<CallEventItem, RecordedCallEvent>
  /** transactions under way */
  private open = 0

  constructor(
    private readonly pool: Pool,
    private readonly slots: DeliverySlots,
  ) {
    // an unexpected failure of a batch (a uuid started at the same moment by another instance): each event on
    // its own, so only the failing one fails
    this.queue = new GroupCommit((items) => this.writeBatch(items), { retryAlone: () => true })
  }

  record(companyId: string, event: CheckedCallEvent): Promise<RecordedCallEvent> {
    return this.queue.push({ companyId, event })
  }

  /** Resolves once the events being written are written (their handed-over pixels then reach the worker before it stops). */
  async close(): Promise<void> {
    await this.queue.drain()
    while (this.open > 0) await new Promise((r) => setTimeout(r, 2))
  }

  private async writeBatch(items: CallEventItem[]): Promise<ItemResult<RecordedCallEvent>[]> {
    this.open++
    const held = { reserved: 0 }
    try {
      return await inTransaction(this.pool, async (client) => {
        // a try again after a deadlock starts from nothing taken
        this.slots.release(held.reserved)
        held.reserved = 0
        const now = new Date()
        const reads = await readFor(client, items, now)
        const plan = planCallEvents(items, reads, heldSlots(this.slots, held), now)
        await write(client, plan, now)
        if (plan.pixels.some((p) => p.status === 'PENDING')) await client.query(`NOTIFY ${PIXELS_CHANNEL}`)
        return plan.results
      })
    } catch (e) {
      this.slots.release(held.reserved)
      throw e
    } finally {
      this.open--
    }
  }
}

/** Reads what deciding the batch needs, in three rounds, and answers it as CallEventReads. */
async function readFor(client: PoolClient, items: CallEventItem[], now: Date): Promise<CallEventReads> {
  // round 1: the calls the events name (locked until commit: events of one call from several instances are
  // decided one after the other), and the campaigns start events name
  const named = [...new Map(items.map(({ companyId, event }) => [key(companyId, event.uuid), [companyId, event.uuid]])).values()]
  const calls = (
    await client.query<Call>(
      `SELECT c.* FROM "Call" c JOIN unnest($1::text[], $2::text[]) AS k("companyId", "uuid") USING ("companyId", "uuid") ORDER BY c."id" FOR UPDATE OF c`,
      [named.map((n) => n[0]), named.map((n) => n[1])],
    )
  ).rows
  const startCampaigns = [...new Set(items.flatMap(({ event }) => (event.event === 'START' ? [event.campaignId] : [])))]
  const campaigns = startCampaigns.length
    ? (
        await client.query<{ id: string; companyId: string; archivedAt: Date | null }>(
          `SELECT "id", "companyId", "archivedAt" FROM "Campaign" WHERE "id" = ANY($1)`,
          [startCampaigns],
        )
      ).rows
    : []

  // round 2: webhooks of every campaign involved, tags of the calls found, pending tags of the numbers that
  // call in (locked: two instances starting calls of one number apply them once), timers of calls that end
  const campaignIds = [...new Set([...campaigns.map((c) => c.id), ...calls.map((c) => c.campaignId)])]
  const callIds = calls.map((c) => c.id)
  const starting = [
    ...new Map(
      items.flatMap(({ companyId, event }) => (event.event === 'START' ? [[key(companyId, event.callerNumber), [companyId, event.callerNumber]]] : [])),
    ).values(),
  ] as [string, string][]
  const ending = calls.filter((c) => items.some((i) => i.event.event === 'END' && i.companyId === c.companyId && i.event.uuid === c.uuid)).map((c) => c.id)
  const webhooks = campaignIds.length
    ? (
        await client.query<Webhook>(`SELECT * FROM "Webhook" WHERE "campaignId" = ANY($1) AND "deletedAt" IS NULL AND "enabled" ORDER BY "createdAt", "id"`, [
          campaignIds,
        ])
      ).rows
    : []
  const tags = callIds.length
    ? (await client.query<{ callId: string; key: string; value: string }>(`SELECT "callId", "key", "value" FROM "Tag" WHERE "callId" = ANY($1)`, [callIds]))
        .rows
    : []
  const pending = starting.length
    ? (
        await client.query<PendingTagRow & { companyId: string; callerNumber: string; campaignId: string | null }>(
          `SELECT p."id", p."companyId", p."callerNumber", p."campaignId", p."postbackId", p."key", p."value" FROM "PendingTag" p
           JOIN unnest($1::text[], $2::text[]) AS k("companyId", "callerNumber") USING ("companyId", "callerNumber")
           WHERE p."expiresAt" > $3 ORDER BY p."createdAt", p."id" FOR UPDATE OF p`,
          [starting.map((s) => s[0]), starting.map((s) => s[1]), pgTime(now)],
        )
      ).rows
    : []
  const timers = ending.length
    ? (await client.query<Pixel>(`SELECT * FROM "Pixel" WHERE "callId" = ANY($1) AND "trigger" = 'TIMER' AND "status" = 'PENDING'`, [ending])).rows
    : []

  // round 3: the pixels the dedupe rule may look at, from the earliest trigger moment less the widest window
  const deduping = webhooks.filter((w) => w.dedupeWindowSeconds)
  let fired: FiredPixel[] = []
  if (deduping.length) {
    const numbers = [...new Set([...calls.map((c) => c.callerNumber), ...items.flatMap(({ event }) => (event.event === 'START' ? [event.callerNumber] : []))])]
    // an event's trigger moment is its own time (firingRules.ts: triggerMoment)
    const moments = items.map(({ event }) => (event.event === 'START' ? event.startedAt : event.at).getTime())
    const widest = Math.max(...deduping.map((w) => w.dedupeWindowSeconds!))
    const since = new Date(Math.min(now.getTime(), ...moments) - widest * 1000)
    fired = (
      await client.query<FiredPixel>(
        `SELECT "webhookId", "callerNumber", "callId", "createdAt" FROM "Pixel"
         WHERE "webhookId" = ANY($1) AND "callerNumber" = ANY($2) AND "createdAt" >= $3 AND "status" <> 'CANCELLED'`,
        [deduping.map((w) => w.id), numbers, pgTime(since)],
      )
    ).rows
  }

  const callsByUuid = new Map(calls.map((c) => [key(c.companyId, c.uuid), c]))
  const campaignsById = new Map(campaigns.map((c) => [c.id, c]))
  const tagsByCall = new Map<string, Record<string, string>>()
  for (const t of tags) {
    const record = tagsByCall.get(t.callId) ?? {}
    record[t.key] = t.value
    tagsByCall.set(t.callId, record)
  }
  return {
    campaign: (companyId, id) => {
      const c = campaignsById.get(id)
      return c && c.companyId === companyId ? { id: c.id, archivedAt: c.archivedAt } : undefined
    },
    call: (companyId, uuid) => callsByUuid.get(key(companyId, uuid)),
    webhooks: (campaignId) => webhooks.filter((w) => w.campaignId === campaignId),
    tags: (callId) => tagsByCall.get(callId) ?? {},
    pendingTags: (companyId, callerNumber, campaignId) =>
      pending.filter((p) => p.companyId === companyId && p.callerNumber === callerNumber && (p.campaignId === null || p.campaignId === campaignId)),
    firedPixels: (webhookId, callerNumber, since, until) =>
      fired.filter((p) => p.webhookId === webhookId && p.callerNumber === callerNumber && p.createdAt >= since && p.createdAt <= until),
    pendingTimers: (callId) => timers.filter((p) => p.callId === callId),
  }
}

/** The batch's writes, each kind in one statement over arrays of its rows. */
async function write(client: PoolClient, plan: ReturnType<typeof planCallEvents>, now: Date): Promise<void> {
  const col = <T, V>(rows: T[], f: (r: T) => V) => rows.map(f)
  if (plan.newCalls.length) {
    const c = plan.newCalls
    await client.query(
      `INSERT INTO "Call" ("id", "uuid", "companyId", "campaignId", "callerNumber", "calledNumber", "status", "startedAt", "answeredAt", "endedAt",
         "durationSeconds", "converted", "convertedAt", "updatedAt")
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamp(3)[], $9::timestamp(3)[],
         $10::timestamp(3)[], $11::int[], $12::boolean[], $13::timestamp(3)[], $14::timestamp(3)[])`,
      [
        col(c, (r) => r.id),
        col(c, (r) => r.uuid),
        col(c, (r) => r.companyId),
        col(c, (r) => r.campaignId),
        col(c, (r) => r.callerNumber),
        col(c, (r) => r.calledNumber),
        col(c, (r) => r.status),
        col(c, (r) => pgTime(r.startedAt)),
        col(c, (r) => pgTime(r.answeredAt)),
        col(c, (r) => pgTime(r.endedAt)),
        col(c, (r) => r.durationSeconds),
        col(c, (r) => r.converted),
        col(c, (r) => pgTime(r.convertedAt)),
        col(c, (r) => pgTime(r.updatedAt)),
      ],
    )
  }
  if (plan.changedCalls.length) {
    const c = plan.changedCalls
    await client.query(
      `UPDATE "Call" c SET "status" = u."status", "answeredAt" = u."answeredAt", "endedAt" = u."endedAt", "durationSeconds" = u."durationSeconds",
         "converted" = u."converted", "convertedAt" = u."convertedAt", "updatedAt" = u."updatedAt"
       FROM unnest($1::text[], $2::text[], $3::timestamp(3)[], $4::timestamp(3)[], $5::int[], $6::boolean[], $7::timestamp(3)[], $8::timestamp(3)[])
         AS u("id", "status", "answeredAt", "endedAt", "durationSeconds", "converted", "convertedAt", "updatedAt")
       WHERE c."id" = u."id"`,
      [
        col(c, (r) => r.id),
        col(c, (r) => r.status),
        col(c, (r) => pgTime(r.answeredAt)),
        col(c, (r) => pgTime(r.endedAt)),
        col(c, (r) => r.durationSeconds),
        col(c, (r) => r.converted),
        col(c, (r) => pgTime(r.convertedAt)),
        col(c, (r) => pgTime(r.updatedAt)),
      ],
    )
  }
  if (plan.tags.length) {
    const t = plan.tags
    await client.query(
      `INSERT INTO "Tag" ("id", "callId", "key", "value", "source", "sourceId", "createdAt", "updatedAt")
       SELECT u.*, $7::timestamp(3), $7::timestamp(3) FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u
       ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source", "sourceId" = excluded."sourceId",
         "updatedAt" = excluded."updatedAt"`,
      [
        col(t, () => newId()),
        col(t, (r) => r.callId),
        col(t, (r) => r.key),
        col(t, (r) => r.value),
        col(t, (r) => r.source),
        col(t, (r) => r.sourceId),
        pgTime(now),
      ],
    )
  }
  if (plan.usedPendingTags.length) await client.query(`DELETE FROM "PendingTag" WHERE "id" = ANY($1)`, [plan.usedPendingTags])
  if (plan.postbackCalls.length) {
    await client.query(`UPDATE "Postback" p SET "callId" = u."callId" FROM unnest($1::text[], $2::text[]) AS u("id", "callId") WHERE p."id" = u."id"`, [
      col(plan.postbackCalls, (r) => r.postbackId),
      col(plan.postbackCalls, (r) => r.callId),
    ])
  }
  if (plan.pixels.length) {
    const p = plan.pixels
    await client.query(
      `INSERT INTO "Pixel" ("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status", "attemptCount", "nextAttemptAt",
         "lockedUntil", "responseNote", "completedAt", "createdAt")
       SELECT u."id", u."companyId", u."campaignId", u."webhookId", u."callId", u."callerNumber", u."trigger", u."status", 0, u."nextAttemptAt",
         u."lockedUntil", u."responseNote", u."completedAt", u."createdAt"
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamp(3)[], $10::timestamp(3)[],
         $11::text[], $12::timestamp(3)[], $13::timestamp(3)[])
         AS u("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status", "nextAttemptAt", "lockedUntil", "responseNote",
           "completedAt", "createdAt")`,
      [
        col(p, (r) => r.id),
        col(p, (r) => r.companyId),
        col(p, (r) => r.campaignId),
        col(p, (r) => r.webhookId),
        col(p, (r) => r.callId),
        col(p, (r) => r.callerNumber),
        col(p, (r) => r.trigger),
        col(p, (r) => r.status),
        col(p, (r) => pgTime(r.nextAttemptAt)),
        col(p, (r) => pgTime(r.lockedUntil)),
        col(p, (r) => r.responseNote),
        col(p, (r) => pgTime(r.completedAt)),
        col(p, (r) => pgTime(r.createdAt)),
      ],
    )
  }
  if (plan.cancelledTimers.length) {
    const p = plan.cancelledTimers
    await client.query(
      `UPDATE "Pixel" p SET "status" = 'CANCELLED', "responseNote" = u."note", "completedAt" = u."at", "nextAttemptAt" = NULL, "lockedUntil" = NULL
       FROM unnest($1::text[], $2::text[], $3::timestamp(3)[]) AS u("id", "note", "at") WHERE p."id" = u."id" AND p."status" = 'PENDING'`,
      [col(p, (r) => r.id), col(p, (r) => r.responseNote), col(p, (r) => pgTime(r.completedAt))],
    )
  }
}
