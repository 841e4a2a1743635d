// Postback batches on PostgreSQL, on the pg pool: a batch is one transaction in two round trips however
// many postbacks it holds. One script opens it and reads the calls the postbacks may belong to; the plan
// decides; one script writes the postbacks, tags and pending tags (multi-row VALUES) and commits. Scripts
// take no parameters: values go in as literals escaped by pg.
import type { BatchLookups, BatchPlan, CallRow, PostbackRecord, PostbackStore, WrittenPostback } from '../../postbacks/postbackWriter.js'
import { arrayLiteral, literal, runScript, withRetries, type Pool } from './pool.js'

const texts = (values: unknown[]) => arrayLiteral(values, 'text')
const rows = (values: unknown[][]) => values.map((row) => `(${row.map(literal).join(', ')})`).join(',\n')

const CALL_COLUMNS = `"id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt"`

export class PgPostbackStore implements PostbackStore {
  constructor(private readonly pool: Pool) {}

  writeBatch(_records: PostbackRecord[], plan: (calls: CallRow[]) => BatchPlan, lookups: BatchLookups): Promise<WrittenPostback[]> {
    return withRetries(this.pool, async (client) => {
      const reads = ['BEGIN']
      if (lookups.uuids.length) {
        reads.push(`SELECT ${CALL_COLUMNS} FROM "Call" JOIN unnest(${texts(lookups.uuids.map((u) => u.companyId))}, ${texts(lookups.uuids.map((u) => u.uuid))})
          AS k("companyId", "uuid") USING ("companyId", "uuid")`)
      }
      if (lookups.numbers.length) {
        reads.push(`SELECT ${CALL_COLUMNS} FROM "Call" WHERE "companyId" = ANY(${texts(lookups.companies)}) AND "callerNumber" = ANY(${texts(lookups.numbers)})
          AND "startedAt" >= ${literal(lookups.since)}::timestamp(3)`)
      }
      const [, ...found] = await runScript(client, reads)
      const { results, postbacks, tags, pendingTags } = plan(found.flat() as CallRow[])
      const writes: string[] = []
      if (postbacks.length) {
        writes.push(`INSERT INTO "Postback" ("id", "companyId", "apiKeyId", "campaignId", "callId", "callerNumber", "channel", "contentType", "rawBody",
            "tags", "problems", "outcome", "httpStatus", "response", "idempotencyKey", "sourceIp", "userAgent", "createdAt")
          VALUES ${rows(postbacks)}`)
      }
      if (tags.length) {
        writes.push(`INSERT INTO "Tag" ("id", "callId", "key", "value", "sourceId", "createdAt", "updatedAt", "source")
          VALUES ${rows(tags.map((t) => [...t, 'POSTBACK']))}
          ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source",
            "sourceId" = excluded."sourceId", "updatedAt" = excluded."updatedAt"`)
      }
      if (pendingTags.length) {
        writes.push(`INSERT INTO "PendingTag" ("id", "companyId", "callerNumber", "campaignId", "postbackId", "key", "value", "createdAt", "expiresAt")
          VALUES ${rows(pendingTags)}`)
      }
      await runScript(client, [...writes, 'COMMIT'])
      return results
    })
  }

  async close(): Promise<void> {}
}
