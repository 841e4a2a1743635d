// Postback batches through Prisma with set-based raw SQL: a handful of statements per batch, however many
// postbacks it holds. Used for PostgreSQL.
import type { DatabaseProvider } from '../../core/config.js'
import { Prisma } from '../../generated/prisma/client.js'
import type { BatchLookups, BatchPlan, CallRow, PostbackStore } from '../../postbacks/postbackWriter.js'
import type { PostbackRecord, WrittenPostback } from '../../postbacks/postbackWriter.js'
import type { Db } from '../../core/db.js'

const ROWS_PER_STATEMENT = 500

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export class PrismaPostbackStore implements PostbackStore {
  constructor(
    private readonly db: Db,
    private readonly provider: DatabaseProvider,
  ) {}

  /** A JSON column value: text on SQLite, jsonb on PostgreSQL. */
  private json(text: string | null): Prisma.Sql {
    return this.provider === 'postgresql' && text !== null ? Prisma.sql`CAST(${text} AS JSONB)` : Prisma.sql`${text}`
  }

  async writeBatch(_records: PostbackRecord[], plan: (calls: CallRow[]) => BatchPlan, lookups: BatchLookups): Promise<WrittenPostback[]> {
    return this.db.$transaction(async (tx) => {
      const calls: CallRow[] = []
      if (lookups.uuids.length) {
        calls.push(
          ...(await tx.$queryRaw<CallRow[]>`
          SELECT "id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt" FROM "Call"
          WHERE ("companyId", "uuid") IN (${Prisma.join(lookups.uuids.map((u) => Prisma.sql`(${u.companyId}, ${u.uuid})`))})`),
        )
      }
      if (lookups.numbers.length) {
        calls.push(
          ...(await tx.$queryRaw<CallRow[]>`
          SELECT "id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt" FROM "Call"
          WHERE "companyId" IN (${Prisma.join(lookups.companies)}) AND "callerNumber" IN (${Prisma.join(lookups.numbers)})
            AND "startedAt" >= ${lookups.since}`),
        )
      }
      const { results, postbacks, tags, pendingTags } = plan(calls)
      for (const chunk of chunks(postbacks, ROWS_PER_STATEMENT)) {
        const values = chunk.map((row) => {
          const cells = row.map((cell, i) => (i === 9 || i === 10 || i === 13 ? this.json(cell as string | null) : cell))
          return Prisma.sql`(${Prisma.join(cells)})`
        })
        await tx.$executeRaw`
          INSERT INTO "Postback" ("id", "companyId", "apiKeyId", "campaignId", "callId", "callerNumber", "channel", "contentType", "rawBody",
            "tags", "problems", "outcome", "httpStatus", "response", "idempotencyKey", "sourceIp", "userAgent", "createdAt")
          VALUES ${Prisma.join(values)}`
      }
      for (const chunk of chunks(tags, ROWS_PER_STATEMENT)) {
        await tx.$executeRaw`
          INSERT INTO "Tag" ("id", "callId", "key", "value", "sourceId", "createdAt", "updatedAt", "source")
          VALUES ${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)}, 'POSTBACK')`))}
          ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source",
            "sourceId" = excluded."sourceId", "updatedAt" = excluded."updatedAt"`
      }
      for (const chunk of chunks(pendingTags, ROWS_PER_STATEMENT)) {
        await tx.$executeRaw`
          INSERT INTO "PendingTag" ("id", "companyId", "callerNumber", "campaignId", "postbackId", "key", "value", "createdAt", "expiresAt")
          VALUES ${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)})`))}`
      }
      return results
    })
  }

  async close(): Promise<void> {}
}
