// The postback hot path: group commit. Postbacks that arrive while a write is in flight are matched to
// their calls and written together, in one transaction of a handful of set-based statements (find calls
// by uuid, find calls by number, insert postbacks, upsert tags, insert pending tags), however many there
// are. Each caller's promise settles after the commit, so an answer always means the postback is stored.
import crypto from 'node:crypto'
import type { DatabaseProvider } from '../config.js'
import type { Db } from '../db/client.js'
import { Prisma } from '../generated/prisma/client.js'
import type { PostbackProblem } from './parsePostback.js'

export type PostbackOutcome = 'CALL_FOUND' | 'COMPLETED_CALL_FOUND' | 'TAGS_STORED' | 'REJECTED'

/** What a publisher is told; stored with the postback so an idempotent retry gets it again. */
export interface PostbackAnswer {
  httpStatus: number
  outcome: PostbackOutcome
  status: string
  postbackId: string | null
  callUuid: string | null
  callerNumber: string | null
  tags: Record<string, string>
  problems: PostbackProblem[]
  error?: string
  retryAfterSeconds?: number
}

export const OUTCOME_WORDS: Record<Exclude<PostbackOutcome, 'REJECTED'>, string> = {
  CALL_FOUND: 'call found, tags applied',
  COMPLETED_CALL_FOUND: 'completed call found, tags applied',
  TAGS_STORED: 'call not found, tags stored',
}

/** A postback ready to be written: checked, parsed, its key known. */
export interface PostbackRecord {
  id: string
  companyId: string
  apiKeyId: string
  /** the key's pinned campaign: matching stays inside it */
  pinnedCampaignId: string | null
  pendingTtlSeconds: number
  channel: string
  contentType: string | null
  rawBody: string
  tags: Record<string, string>
  problems: PostbackProblem[]
  callUuid: string | null
  callerNumber: string | null
  idempotencyKey: string | null
  sourceIp: string | null
  userAgent: string | null
  receivedAt: Date
  /** set when the postback is refused before matching (bad input, rate limit): logged, not applied */
  rejection: { httpStatus: number; error: string; retryAfterSeconds?: number } | null
}

export interface WrittenPostback {
  record: PostbackRecord
  answer: PostbackAnswer
  campaignId: string | null
  callId: string | null
}

interface CallRow {
  id: string
  uuid: string
  companyId: string
  campaignId: string
  callerNumber: string
  status: string
  startedAt: Date
}

interface Pending {
  record: PostbackRecord
  resolve: (w: WrittenPostback) => void
  reject: (e: unknown) => void
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0]

const ROWS_PER_STATEMENT = 500
let counter = 0

export class PostbackWriter {
  private queue: Pending[] = []
  private flushing = false
  private scheduled = false
  private closed = false

  constructor(
    private readonly db: Db,
    private readonly provider: DatabaseProvider,
    private readonly maxBatch = 500,
  ) {}

  /** Time-ordered ids (milliseconds, a per-process counter, randomness), so rows written in one batch keep their order. */
  static newId(): string {
    counter = (counter + 1) % 1_679_616
    return `${Date.now().toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${crypto.randomBytes(6).toString('base64url')}`
  }

  write(record: PostbackRecord): Promise<WrittenPostback> {
    if (this.closed) return Promise.reject(new Error('postback writer is closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject })
      this.schedule()
    })
  }

  /** Waits for everything queued to be written. */
  async close(): Promise<void> {
    this.closed = true
    while (this.queue.length || this.flushing) await new Promise((r) => setTimeout(r, 5))
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return
    this.scheduled = true
    // requests parsed in the same turn of the event loop share a batch; under load, the ones that arrive
    // while a batch is being written form the next one
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return
    this.flushing = true
    const batch = this.queue.splice(0, this.maxBatch)
    try {
      let written: WrittenPostback[]
      try {
        written = await this.db.$transaction((tx) => this.writeBatch(tx, batch.map((p) => p.record)))
      } catch (batchError) {
        if (batch.length === 1) throw batchError
        // one bad row (a concurrent duplicate idempotency key, say) must not fail the others
        written = []
        for (const p of batch) {
          try {
            written.push(...(await this.db.$transaction((tx) => this.writeBatch(tx, [p.record]))))
          } catch (e) {
            written.push(null as never)
            p.reject(e)
          }
        }
      }
      batch.forEach((p, i) => written[i] && p.resolve(written[i]!))
    } catch (e) {
      batch.forEach((p) => p.reject(e))
    } finally {
      this.flushing = false
      if (this.queue.length) this.schedule()
    }
  }

  private async writeBatch(tx: Tx, records: PostbackRecord[]): Promise<WrittenPostback[]> {
    const now = new Date()
    const live = records.filter((r) => !r.rejection)

    const uuids = [...new Set(live.filter((r) => r.callUuid).map((r) => r.callUuid!))]
    const byUuid = new Map<string, CallRow>()
    if (uuids.length) {
      const rows = await tx.$queryRaw<CallRow[]>`
        SELECT "id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt" FROM "Call"
        WHERE "uuid" IN (${Prisma.join(uuids)})`
      for (const row of rows) byUuid.set(row.uuid, row)
    }

    const numberRecords = live.filter((r) => r.callerNumber && !(r.callUuid && sameCompany(byUuid.get(r.callUuid), r)))
    const byNumber = new Map<string, CallRow[]>()
    if (numberRecords.length) {
      const since = new Date(now.getTime() - Math.max(...numberRecords.map((r) => r.pendingTtlSeconds)) * 1000)
      const companies = [...new Set(numberRecords.map((r) => r.companyId))]
      const numbers = [...new Set(numberRecords.map((r) => r.callerNumber!))]
      const rows = await tx.$queryRaw<CallRow[]>`
        SELECT "id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt" FROM "Call"
        WHERE "companyId" IN (${Prisma.join(companies)}) AND "callerNumber" IN (${Prisma.join(numbers)}) AND "startedAt" >= ${since}
        ORDER BY "startedAt" DESC`
      for (const row of rows) {
        const list = byNumber.get(row.callerNumber) ?? []
        list.push(row)
        byNumber.set(row.callerNumber, list)
      }
    }

    const results: WrittenPostback[] = []
    const tagRows = new Map<string, [string, string, string, string, string, Date, Date]>()
    const pendingRows: [string, string, string, string | null, string, string, string, Date, Date][] = []
    for (const record of records) {
      const answer: PostbackAnswer = {
        httpStatus: 200,
        outcome: 'REJECTED',
        status: '',
        postbackId: record.id,
        callUuid: null,
        callerNumber: record.callerNumber,
        tags: record.tags,
        problems: record.problems,
      }
      let call: CallRow | undefined
      if (record.rejection) {
        Object.assign(answer, { httpStatus: record.rejection.httpStatus, status: 'rejected', error: record.rejection.error })
        if (record.rejection.retryAfterSeconds) answer.retryAfterSeconds = record.rejection.retryAfterSeconds
      } else {
        const byId = record.callUuid ? byUuid.get(record.callUuid) : undefined
        call = sameCompany(byId, record) ? byId : undefined
        if (!call && record.callerNumber) {
          const windowStart = now.getTime() - record.pendingTtlSeconds * 1000
          call = byNumber
            .get(record.callerNumber)
            ?.find((c) => c.companyId === record.companyId && (!record.pinnedCampaignId || c.campaignId === record.pinnedCampaignId) && new Date(c.startedAt).getTime() >= windowStart)
        }
        if (call) {
          answer.outcome = call.status === 'ENDED' ? 'COMPLETED_CALL_FOUND' : 'CALL_FOUND'
          answer.callUuid = call.uuid
          answer.callerNumber = call.callerNumber
          for (const [key, value] of Object.entries(record.tags)) {
            // later postbacks in the batch win, as they would one at a time
            tagRows.set(`${call.id}\u0000${key}`, [PostbackWriter.newId(), call.id, key, value, record.id, now, now])
          }
        } else if (record.callerNumber) {
          answer.outcome = 'TAGS_STORED'
          const expiresAt = new Date(record.receivedAt.getTime() + record.pendingTtlSeconds * 1000)
          for (const [key, value] of Object.entries(record.tags)) {
            pendingRows.push([PostbackWriter.newId(), record.companyId, record.callerNumber, record.pinnedCampaignId, record.id, key, value, now, expiresAt])
          }
        } else {
          const problem: PostbackProblem = { code: 'CALL_NOT_FOUND', field: 'call_uuid', message: `no call with call_uuid "${record.callUuid}"` }
          Object.assign(answer, { httpStatus: 404, status: 'rejected', error: problem.message, problems: [...record.problems, problem] })
        }
        if (answer.outcome !== 'REJECTED') answer.status = OUTCOME_WORDS[answer.outcome]
      }
      results.push({ record, answer, campaignId: call?.campaignId ?? record.pinnedCampaignId, callId: call?.id ?? null })
    }

    for (const chunk of chunks(results, ROWS_PER_STATEMENT)) {
      const values = chunk.map(({ record: r, answer: a, campaignId, callId }) => {
        const cells = [
          r.id, r.companyId, r.apiKeyId, campaignId, callId, a.callerNumber, r.channel, r.contentType, r.rawBody,
          this.json(a.tags), this.json(a.problems), a.outcome, a.httpStatus, this.json(a), r.idempotencyKey, r.sourceIp, r.userAgent, r.receivedAt,
        ]
        return Prisma.sql`(${Prisma.join(cells)})`
      })
      await tx.$executeRaw`
        INSERT INTO "Postback" ("id", "companyId", "apiKeyId", "campaignId", "callId", "callerNumber", "channel", "contentType", "rawBody",
          "tags", "problems", "outcome", "httpStatus", "response", "idempotencyKey", "sourceIp", "userAgent", "createdAt")
        VALUES ${Prisma.join(values)}`
    }
    for (const chunk of chunks([...tagRows.values()], ROWS_PER_STATEMENT)) {
      await tx.$executeRaw`
        INSERT INTO "Tag" ("id", "callId", "key", "value", "sourceId", "createdAt", "updatedAt", "source")
        VALUES ${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)}, 'POSTBACK')`))}
        ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source",
          "sourceId" = excluded."sourceId", "updatedAt" = excluded."updatedAt"`
    }
    for (const chunk of chunks(pendingRows, ROWS_PER_STATEMENT)) {
      await tx.$executeRaw`
        INSERT INTO "PendingTag" ("id", "companyId", "callerNumber", "campaignId", "postbackId", "key", "value", "createdAt", "expiresAt")
        VALUES ${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)})`))}`
    }
    return results
  }

  /** A JSON column value: text on SQLite, jsonb on PostgreSQL. */
  private json(value: unknown): Prisma.Sql {
    const text = JSON.stringify(value)
    return this.provider === 'postgresql' ? Prisma.sql`CAST(${text} AS JSONB)` : Prisma.sql`${text}`
  }
}

function sameCompany(call: CallRow | undefined, record: PostbackRecord): boolean {
  return !!call && call.companyId === record.companyId
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
