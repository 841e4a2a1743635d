// The postback hot path: group commit. Postbacks that arrive while a batch is being written are matched to
// their calls and written together in one transaction (find calls by uuid and by number, insert postbacks,
// upsert tags, insert pending tags), however many there are. Each caller's promise settles after the
// commit, so an answer always means the postback is stored.
import { GroupCommit, type ItemResult } from '../core/groupCommit.js'
import { newId } from '../core/ids.js'
import type { PostbackProblem } from './parsePostback.js'
import { OUTCOME_WORDS, type PostbackOutcome } from './postbackSchema.js'

export { OUTCOME_WORDS, type PostbackOutcome }

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

export interface CallRow {
  id: string
  uuid: string
  companyId: string
  campaignId: string
  callerNumber: string
  status: string
  /** a Date (PostgreSQL) or the stored ISO text (SQLite) */
  startedAt: Date | string
}

/** What a batch must look up before it can decide: calls by uuid (in their company), and recent calls by caller number. */
export interface BatchLookups {
  uuids: { companyId: string; uuid: string }[]
  companies: string[]
  numbers: string[]
  since: Date
}

export type PostbackRow = [
  id: string,
  companyId: string,
  apiKeyId: string,
  campaignId: string | null,
  callId: string | null,
  callerNumber: string | null,
  channel: string,
  contentType: string | null,
  rawBody: string,
  tags: string,
  problems: string,
  outcome: string,
  httpStatus: number,
  response: string | null,
  idempotencyKey: string | null,
  sourceIp: string | null,
  userAgent: string | null,
  createdAt: Date,
]
export type TagRow = [id: string, callId: string, key: string, value: string, sourceId: string, createdAt: Date, updatedAt: Date]
export type PendingTagRow = [
  id: string,
  companyId: string,
  callerNumber: string,
  campaignId: string | null,
  postbackId: string,
  key: string,
  value: string,
  createdAt: Date,
  expiresAt: Date,
]

/** Everything one batch writes, decided before the first write. */
export interface BatchPlan {
  results: WrittenPostback[]
  postbacks: PostbackRow[]
  tags: TagRow[]
  pendingTags: PendingTagRow[]
}

/**
 * Where batches are written. Each store runs lookups, plan and writes in one transaction: the SQLite store
 * synchronously on a connection of its own with prepared statements, the Prisma store with set-based raw SQL.
 */
export interface PostbackStore {
  writeBatch(records: PostbackRecord[], plan: (calls: CallRow[]) => BatchPlan, lookups: BatchLookups): Promise<WrittenPostback[]>
  close(): Promise<void>
}

export function lookupsFor(records: PostbackRecord[], now: Date): BatchLookups {
  const live = records.filter((r) => !r.rejection)
  const byNumber = live.filter((r) => r.callerNumber)
  const uuids = new Map(live.filter((r) => r.callUuid).map((r) => [`${r.companyId}\u0000${r.callUuid}`, { companyId: r.companyId, uuid: r.callUuid! }]))
  return {
    uuids: [...uuids.values()],
    companies: [...new Set(byNumber.map((r) => r.companyId))],
    numbers: [...new Set(byNumber.map((r) => r.callerNumber!))],
    since: new Date(now.getTime() - Math.max(0, ...byNumber.map((r) => r.pendingTtlSeconds)) * 1000),
  }
}

/**
 * Decides each postback of a batch against the calls found: call_uuid picks that call (same company), else
 * the newest call of the caller number started within the key's storage window (in the key's campaign when
 * it pins one); otherwise its tags wait for the number as pending tags. Later postbacks in a batch win.
 */
export function planBatch(records: PostbackRecord[], calls: CallRow[], now: Date): BatchPlan {
  // uuids are unique within a company only
  const byUuid = new Map<string, CallRow>()
  const byNumber = new Map<string, CallRow[]>()
  for (const call of calls) {
    byUuid.set(`${call.companyId}\u0000${call.uuid}`, call)
    const list = byNumber.get(call.callerNumber) ?? []
    list.push(call)
    byNumber.set(call.callerNumber, list)
  }
  for (const list of byNumber.values()) list.sort((a, b) => time(b.startedAt) - time(a.startedAt))

  const plan: BatchPlan = { results: [], postbacks: [], tags: [], pendingTags: [] }
  const tagRows = new Map<string, TagRow>()
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
      call = record.callUuid ? byUuid.get(`${record.companyId}\u0000${record.callUuid}`) : undefined
      if (!call && record.callerNumber) {
        const windowStart = now.getTime() - record.pendingTtlSeconds * 1000
        call = byNumber
          .get(record.callerNumber)
          ?.find(
            (c) =>
              c.companyId === record.companyId && (!record.pinnedCampaignId || c.campaignId === record.pinnedCampaignId) && time(c.startedAt) >= windowStart,
          )
      }
      if (call) {
        answer.outcome = call.status === 'ENDED' ? 'COMPLETED_CALL_FOUND' : 'CALL_FOUND'
        answer.callUuid = call.uuid
        answer.callerNumber = call.callerNumber
        for (const [key, value] of Object.entries(record.tags)) {
          tagRows.set(`${call.id}\u0000${key}`, [newId(), call.id, key, value, record.id, now, now])
        }
      } else if (record.callerNumber) {
        answer.outcome = 'TAGS_STORED'
        const expiresAt = new Date(record.receivedAt.getTime() + record.pendingTtlSeconds * 1000)
        for (const [key, value] of Object.entries(record.tags)) {
          plan.pendingTags.push([newId(), record.companyId, record.callerNumber, record.pinnedCampaignId, record.id, key, value, now, expiresAt])
        }
      } else {
        const problem: PostbackProblem = { code: 'CALL_NOT_FOUND', field: 'call_uuid', message: `no call with call_uuid "${record.callUuid}"` }
        Object.assign(answer, { httpStatus: 404, status: 'rejected', error: problem.message, problems: [...record.problems, problem] })
      }
      if (answer.outcome !== 'REJECTED') answer.status = OUTCOME_WORDS[answer.outcome]
    }
    const campaignId = call?.campaignId ?? record.pinnedCampaignId
    const callId = call?.id ?? null
    plan.results.push({ record, answer, campaignId, callId })
    plan.postbacks.push([
      record.id,
      record.companyId,
      record.apiKeyId,
      campaignId,
      callId,
      answer.callerNumber,
      record.channel,
      record.contentType,
      record.rawBody,
      JSON.stringify(answer.tags),
      JSON.stringify(answer.problems),
      answer.outcome,
      answer.httpStatus,
      // the full answer is kept only where a retry may ask for it again
      record.idempotencyKey ? JSON.stringify(answer) : null,
      record.idempotencyKey,
      record.sourceIp,
      record.userAgent,
      record.receivedAt,
    ])
  }
  plan.tags = [...tagRows.values()]
  return plan
}

const time = (t: Date | string) => (typeof t === 'string' ? Date.parse(t) : t.getTime())

export class PostbackWriter {
  private readonly queue: GroupCommit<PostbackRecord, WrittenPostback>
  private closed = false

  /** `onBatch`: told each batch's size (metrics) */
  constructor(
    private readonly store: PostbackStore,
    { maxBatch = 500, onBatch }: { maxBatch?: number; onBatch?: (size: number) => void } = {},
  ) {
    // one bad row (a concurrent duplicate idempotency key, say) must not fail the others
    this.queue = new GroupCommit((records) => this.writeBatch(records), { maxBatch, retryAlone: () => true, onBatch })
  }

  write(record: PostbackRecord): Promise<WrittenPostback> {
    if (this.closed) return Promise.reject(new Error('postback writer is closed'))
    return this.queue.push(record)
  }

  /** Waits for everything queued to be written. */
  async close(): Promise<void> {
    this.closed = true
    await this.queue.drain()
    await this.store.close()
  }

  private async writeBatch(records: PostbackRecord[]): Promise<ItemResult<WrittenPostback>[]> {
    const now = new Date()
    const written = await this.store.writeBatch(records, (calls) => planBatch(records, calls, now), lookupsFor(records, now))
    return written.map((value) => ({ ok: true, value }))
  }
}
