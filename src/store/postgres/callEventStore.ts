// Call events on PostgreSQL: group commit on the pg pool. A batch is one transaction in two round trips
// however many events it holds: one script opens it and reads what deciding needs (the calls it names,
// locked; campaigns, webhooks, tags, pending tags, timers, the pixels the dedupe rule looks at), then
// planCallEvents decides (the same decision as on SQLite), then one script writes the set-based statements
// and commits. Scripts take no parameters: values go in as literals escaped by pg. PENDING pixels are
// announced with NOTIFY, so workers elsewhere claim them at once.
import type { CallEventStore, CheckedCallEvent, RecordedCallEvent } from '../../calls/callEvents.js'
import { type CallEventItem, type CallEventReads, type FiredPixel, type PendingTagRow, planCallEvents } from '../../calls/planCallEvents.js'
import { GroupCommit, type ItemResult } from '../../core/groupCommit.js'
import { newId } from '../../core/ids.js'
import { heldSlots, type DeliverySlots } from '../../delivery/handoff.js'
import type { Call, Pixel, Webhook } from '../../generated/prisma/client.js'
import { arrayLiteral, literal, runScript, withRetries, type Pool, type PoolClient } from './pool.js'

/** The channel workers LISTEN on for PENDING pixels written by any instance. */
export const PIXELS_CHANNEL = 'ringhook_pixels'

const key = (a: string, b: string) => `${a}\u0000${b}`

export class PgCallEventStore implements CallEventStore {
  private readonly queue: GroupCommit<CallEventItem, RecordedCallEvent>
  /** transactions under way */
  private open = 0

  /** `onBatch`: told each batch's size (metrics) */
  constructor(
    private readonly pool: Pool,
    private readonly slots: DeliverySlots,
    onBatch?: (size: number) => void,
  ) {
    // an unexpected failure of a batch (a uuid started at the same moment by another instance): each event on
    // its own, so only the failing one fails
    this.queue = new GroupCommit((items) => this.writeBatch(items), { retryAlone: () => true, onBatch })
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
      // two round trips: BEGIN and the reads as one script, then the writes and COMMIT as another
      return await withRetries(this.pool, async (client) => {
        // a try again after a deadlock starts from nothing taken
        this.slots.release(held.reserved)
        held.reserved = 0
        const now = new Date()
        const reads = await readFor(client, items, now)
        const plan = planCallEvents(items, reads, heldSlots(this.slots, held), now)
        await runScript(client, [...writesOf(plan, now), 'COMMIT'])
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

const texts = (values: unknown[]) => arrayLiteral(values, 'text')
const times = (values: (Date | null)[]) => arrayLiteral(values, 'timestamp(3)')

/**
 * Reads what deciding the batch needs, as one script opening the transaction, and answers it as
 * CallEventReads. Later statements find the calls again by (company, uuid) rather than by what earlier
 * ones answered, so all of them go in one round trip.
 */
async function readFor(client: PoolClient, items: CallEventItem[], now: Date): Promise<CallEventReads> {
  const pairs = (list: CallEventItem[]) => {
    const unique = [...new Map(list.map(({ companyId, event }) => [key(companyId, event.uuid), [companyId, event.uuid] as const])).values()]
    return `unnest(${texts(unique.map((n) => n[0]))}, ${texts(unique.map((n) => n[1]))}) AS k("companyId", "uuid")`
  }
  // the calls the events name, and the calls that end
  const named = `SELECT c.* FROM "Call" c JOIN ${pairs(items)} USING ("companyId", "uuid")`
  const ending = items.filter((i) => i.event.event === 'END')
  const startCampaigns = [...new Set(items.flatMap(({ event }) => (event.event === 'START' ? [event.campaignId] : [])))]
  const starting = [
    ...new Map(
      items.flatMap(({ companyId, event }) => (event.event === 'START' ? [[key(companyId, event.callerNumber), [companyId, event.callerNumber]]] : [])),
    ).values(),
  ] as [string, string][]
  // events on calls already there (all but starts) need those calls' campaigns, numbers and tags
  const later = items.filter((i) => i.event.event !== 'START')
  const laterCalls = later.length ? `SELECT c.* FROM "Call" c JOIN ${pairs(later)} USING ("companyId", "uuid")` : null
  const campaignIds = `SELECT unnest(${texts(startCampaigns)})${laterCalls ? ` UNION SELECT n."campaignId" FROM (${laterCalls}) n` : ''}`
  const numbers = `SELECT unnest(${texts(starting.map((s) => s[1]))})${laterCalls ? ` UNION SELECT n."callerNumber" FROM (${laterCalls}) n` : ''}`
  // an event's trigger moment is its own time (firingRules.ts: triggerMoment): the dedupe rule looks back
  // from the earliest, by each webhook's window
  const earliest = new Date(Math.min(now.getTime(), ...items.map(({ event }) => (event.event === 'START' ? event.startedAt : event.at).getTime())))
  const statements = {
    // locked until commit: events of one call from several instances are decided one after the other
    calls: `${named} ORDER BY c."id" FOR UPDATE OF c`,
    campaigns: startCampaigns.length ? `SELECT "id", "companyId", "archivedAt" FROM "Campaign" WHERE "id" = ANY(${texts(startCampaigns)})` : null,
    // webhooks of every campaign involved: those start events name and those of the calls found
    webhooks: `SELECT * FROM "Webhook" WHERE "campaignId" IN (${campaignIds}) AND "deletedAt" IS NULL AND "enabled" ORDER BY "createdAt", "id"`,
    // a start of a uuid already there is refused: only the other events need their calls' tags
    tags: laterCalls ? `SELECT "callId", "key", "value" FROM "Tag" WHERE "callId" IN (SELECT n."id" FROM (${laterCalls}) n)` : null,
    // pending tags of the numbers that call in (locked: two instances starting calls of one number apply them once)
    pending: starting.length
      ? `SELECT p."id", p."companyId", p."callerNumber", p."campaignId", p."postbackId", p."key", p."value" FROM "PendingTag" p
         JOIN unnest(${texts(starting.map((s) => s[0]))}, ${texts(starting.map((s) => s[1]))}) AS k("companyId", "callerNumber") USING ("companyId", "callerNumber")
         WHERE p."expiresAt" > ${literal(now)} ORDER BY p."createdAt", p."id" FOR UPDATE OF p`
      : null,
    timers: ending.length
      ? `SELECT * FROM "Pixel" WHERE "callId" IN (SELECT c."id" FROM "Call" c JOIN ${pairs(ending)} USING ("companyId", "uuid"))
         AND "trigger" = 'TIMER' AND "status" = 'PENDING'`
      : null,
    // the pixels the dedupe rule may look at
    fired: `SELECT p."webhookId", p."callerNumber", p."callId", p."createdAt" FROM "Pixel" p JOIN "Webhook" w ON w."id" = p."webhookId"
      WHERE w."campaignId" IN (${campaignIds}) AND w."dedupeWindowSeconds" > 0 AND w."deletedAt" IS NULL AND w."enabled"
        AND p."callerNumber" IN (${numbers}) AND p."status" <> 'CANCELLED'
        AND p."createdAt" >= ${literal(earliest)}::timestamp(3) - make_interval(secs => w."dedupeWindowSeconds")`,
  }
  const names = Object.keys(statements).filter((k) => statements[k as keyof typeof statements] !== null) as (keyof typeof statements)[]
  const [, ...rows] = await runScript(client, ['BEGIN', ...names.map((n) => statements[n]!)])
  const result = <T>(name: keyof typeof statements) => (names.includes(name) ? rows[names.indexOf(name)]! : []) as T[]
  const calls = result<Call>('calls')
  const campaigns = result<{ id: string; companyId: string; archivedAt: Date | null }>('campaigns')
  const webhooks = result<Webhook>('webhooks')
  const tags = result<{ callId: string; key: string; value: string }>('tags')
  const pending = result<PendingTagRow & { companyId: string; callerNumber: string; campaignId: string | null }>('pending')
  const timers = result<Pixel>('timers')
  const fired = result<FiredPixel>('fired')

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

/** The batch's writes, each kind one statement over arrays of its rows; a NOTIFY when PENDING pixels were written. */
function writesOf(plan: ReturnType<typeof planCallEvents>, now: Date): string[] {
  const col = <T>(rows: T[], f: (r: T) => unknown, type: string) => arrayLiteral(rows.map(f), type)
  const statements: string[] = []
  if (plan.newCalls.length) {
    const c = plan.newCalls
    statements.push(`INSERT INTO "Call" ("id", "uuid", "companyId", "campaignId", "callerNumber", "calledNumber", "status", "startedAt", "answeredAt", "endedAt",
         "durationSeconds", "converted", "convertedAt", "updatedAt")
       SELECT * FROM unnest(${col(c, (r) => r.id, 'text')}, ${col(c, (r) => r.uuid, 'text')}, ${col(c, (r) => r.companyId, 'text')},
         ${col(c, (r) => r.campaignId, 'text')}, ${col(c, (r) => r.callerNumber, 'text')}, ${col(c, (r) => r.calledNumber, 'text')},
         ${col(c, (r) => r.status, 'text')}, ${times(c.map((r) => r.startedAt))}, ${times(c.map((r) => r.answeredAt))}, ${times(c.map((r) => r.endedAt))},
         ${col(c, (r) => r.durationSeconds, 'int')}, ${col(c, (r) => r.converted, 'boolean')}, ${times(c.map((r) => r.convertedAt))},
         ${times(c.map((r) => r.updatedAt))})`)
  }
  if (plan.changedCalls.length) {
    const c = plan.changedCalls
    statements.push(`UPDATE "Call" c SET "status" = u."status", "answeredAt" = u."answeredAt", "endedAt" = u."endedAt", "durationSeconds" = u."durationSeconds",
         "converted" = u."converted", "convertedAt" = u."convertedAt", "updatedAt" = u."updatedAt"
       FROM unnest(${col(c, (r) => r.id, 'text')}, ${col(c, (r) => r.status, 'text')}, ${times(c.map((r) => r.answeredAt))}, ${times(c.map((r) => r.endedAt))},
         ${col(c, (r) => r.durationSeconds, 'int')}, ${col(c, (r) => r.converted, 'boolean')}, ${times(c.map((r) => r.convertedAt))},
         ${times(c.map((r) => r.updatedAt))})
         AS u("id", "status", "answeredAt", "endedAt", "durationSeconds", "converted", "convertedAt", "updatedAt")
       WHERE c."id" = u."id"`)
  }
  if (plan.tags.length) {
    const t = plan.tags
    statements.push(`INSERT INTO "Tag" ("id", "callId", "key", "value", "source", "sourceId", "createdAt", "updatedAt")
       SELECT u.*, ${literal(now)}::timestamp(3), ${literal(now)}::timestamp(3)
       FROM unnest(${col(t, () => newId(), 'text')}, ${col(t, (r) => r.callId, 'text')}, ${col(t, (r) => r.key, 'text')}, ${col(t, (r) => r.value, 'text')},
         ${col(t, (r) => r.source, 'text')}, ${col(t, (r) => r.sourceId, 'text')}) AS u
       ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source", "sourceId" = excluded."sourceId",
         "updatedAt" = excluded."updatedAt"`)
  }
  if (plan.usedPendingTags.length) statements.push(`DELETE FROM "PendingTag" WHERE "id" = ANY(${texts(plan.usedPendingTags)})`)
  if (plan.postbackCalls.length) {
    const b = plan.postbackCalls
    statements.push(`UPDATE "Postback" p SET "callId" = u."callId" FROM unnest(${col(b, (r) => r.postbackId, 'text')}, ${col(b, (r) => r.callId, 'text')})
       AS u("id", "callId") WHERE p."id" = u."id"`)
  }
  if (plan.pixels.length) {
    const p = plan.pixels
    statements.push(`INSERT INTO "Pixel" ("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status", "attemptCount", "nextAttemptAt",
         "lockedUntil", "responseNote", "completedAt", "createdAt")
       SELECT u."id", u."companyId", u."campaignId", u."webhookId", u."callId", u."callerNumber", u."trigger", u."status", 0, u."nextAttemptAt",
         u."lockedUntil", u."responseNote", u."completedAt", u."createdAt"
       FROM unnest(${col(p, (r) => r.id, 'text')}, ${col(p, (r) => r.companyId, 'text')}, ${col(p, (r) => r.campaignId, 'text')},
         ${col(p, (r) => r.webhookId, 'text')}, ${col(p, (r) => r.callId, 'text')}, ${col(p, (r) => r.callerNumber, 'text')},
         ${col(p, (r) => r.trigger, 'text')}, ${col(p, (r) => r.status, 'text')}, ${times(p.map((r) => r.nextAttemptAt))}, ${times(p.map((r) => r.lockedUntil))},
         ${col(p, (r) => r.responseNote, 'text')}, ${times(p.map((r) => r.completedAt))}, ${times(p.map((r) => r.createdAt))})
         AS u("id", "companyId", "campaignId", "webhookId", "callId", "callerNumber", "trigger", "status", "nextAttemptAt", "lockedUntil", "responseNote",
           "completedAt", "createdAt")`)
  }
  if (plan.cancelledTimers.length) {
    const p = plan.cancelledTimers
    statements.push(`UPDATE "Pixel" p SET "status" = 'CANCELLED', "responseNote" = u."note", "completedAt" = u."at", "nextAttemptAt" = NULL, "lockedUntil" = NULL
       FROM unnest(${col(p, (r) => r.id, 'text')}, ${col(p, (r) => r.responseNote, 'text')}, ${times(p.map((r) => r.completedAt))}) AS u("id", "note", "at")
       WHERE p."id" = u."id" AND p."status" = 'PENDING'`)
  }
  if (plan.pixels.some((p) => p.status === 'PENDING')) statements.push(`NOTIFY ${PIXELS_CHANNEL}`)
  return statements
}
