// Postback batches on embedded SQLite, on a connection of the writer's own with prepared statements: a
// batch is one synchronous transaction, far cheaper a row than the same rows through Prisma's raw queries.
// Its busy timeout is 0: a locked database is retried asynchronously (sqliteBusy.ts).
import type Database from 'better-sqlite3'
import { withBusyRetry } from './sqliteBusy.js'
import { openFastConnection, type FastConnection, sqliteTime, sqliteValue } from './sqliteRows.js'
import type { BatchLookups, BatchPlan, CallRow, PostbackRecord, PostbackStore, WrittenPostback } from '../../postbacks/postbackWriter.js'

export class SqlitePostbackStore implements PostbackStore {
  private readonly db: Database.Database
  private readonly connection: FastConnection
  private readonly statements

  constructor(file: string) {
    this.db = (this.connection = openFastConnection(file)).db
    const callColumns = '"id", "uuid", "companyId", "campaignId", "callerNumber", "status", "startedAt"'
    this.statements = {
      callByUuid: this.db.prepare(`SELECT ${callColumns} FROM "Call" WHERE "companyId" = ? AND "uuid" = ?`),
      callsByNumber: this.db.prepare(`SELECT ${callColumns} FROM "Call" WHERE "companyId" = ? AND "callerNumber" = ? AND "startedAt" >= ?`),
      postback: this.db.prepare(`INSERT INTO "Postback" ("id", "companyId", "apiKeyId", "campaignId", "callId", "callerNumber", "channel",
        "contentType", "rawBody", "tags", "problems", "outcome", "httpStatus", "response", "idempotencyKey", "sourceIp", "userAgent", "createdAt")
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      tag: this.db.prepare(`INSERT INTO "Tag" ("id", "callId", "key", "value", "sourceId", "createdAt", "updatedAt", "source")
        VALUES (?, ?, ?, ?, ?, ?, ?, 'POSTBACK')
        ON CONFLICT ("callId", "key") DO UPDATE SET "value" = excluded."value", "source" = excluded."source",
          "sourceId" = excluded."sourceId", "updatedAt" = excluded."updatedAt"`),
      pendingTag:
        this.db.prepare(`INSERT INTO "PendingTag" ("id", "companyId", "callerNumber", "campaignId", "postbackId", "key", "value", "createdAt", "expiresAt")
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    }
  }

  async writeBatch(records: PostbackRecord[], plan: (calls: CallRow[]) => BatchPlan, lookups: BatchLookups): Promise<WrittenPostback[]> {
    const s = this.statements
    const run = this.db.transaction(() => {
      const calls: CallRow[] = []
      for (const { companyId, uuid } of lookups.uuids) {
        const row = s.callByUuid.get(companyId, uuid) as CallRow | undefined
        if (row) calls.push(row)
      }
      const since = sqliteTime(lookups.since)
      const pairs = new Set(records.filter((r) => r.callerNumber && !r.rejection).map((r) => `${r.companyId}\u0000${r.callerNumber}`))
      for (const pair of pairs) {
        const [companyId, number] = pair.split('\u0000')
        calls.push(...(s.callsByNumber.all(companyId, number, since) as CallRow[]))
      }
      const { results, postbacks, tags, pendingTags } = plan(calls)
      for (const row of postbacks) s.postback.run(row.map(sqliteValue))
      for (const row of tags) s.tag.run(row.map(sqliteValue))
      for (const row of pendingTags) s.pendingTag.run(row.map(sqliteValue))
      return results
    })
    return withBusyRetry(() => run.immediate())
  }

  async close(): Promise<void> {
    this.connection.close()
  }
}
