// The delivery worker takes due pixels in batches (PostgreSQL; SQLite has its own in pixelStoreSqlite.ts):
// a statement marks up to `limit` of them DELIVERING with a lock and returns their ids. Due are pixels
// whose worker died (lock expired), then PENDING pixels whose time has come, oldest first: one statement
// per state, so each walks the (status, nextAttemptAt) index and stops at the limit instead of sorting the
// whole backlog. Each statement re-checks the condition on the rows it locks, so two workers never take
// the same pixel.
import { Prisma } from '../../generated/prisma/client.js'
import type { Db } from '../../core/db.js'

async function claimWhere(db: Db, due: Prisma.Sql, limit: number, lockedUntil: Date): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "Pixel" SET "status" = 'DELIVERING', "lockedUntil" = ${lockedUntil}
    WHERE "id" IN (SELECT "id" FROM "Pixel" WHERE ${due} ORDER BY "nextAttemptAt" LIMIT ${limit}) AND ${due}
    RETURNING "id"`
  return rows.map((r) => r.id)
}

export async function claimDuePixels(db: Db, limit: number, lockMs: number, takeOver = true, now = new Date()): Promise<string[]> {
  const lockedUntil = new Date(now.getTime() + lockMs)
  const ids = takeOver ? await claimWhere(db, Prisma.sql`"status" = 'DELIVERING' AND "lockedUntil" < ${now}`, limit, lockedUntil) : []
  if (ids.length < limit) ids.push(...(await claimWhere(db, Prisma.sql`"status" = 'PENDING' AND "nextAttemptAt" <= ${now}`, limit - ids.length, lockedUntil)))
  return ids
}
