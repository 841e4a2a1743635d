// The delivery worker takes due pixels in batches: one statement marks up to `limit` of them DELIVERING
// with a lock, and returns their ids. A pixel whose worker died (lock expired) is due again. The
// statement re-checks the condition on each row, so two workers never take the same pixel.
import type { Db } from '../db/client.js'
import { Prisma } from '../generated/prisma/client.js'

export async function claimDuePixels(db: Db, limit: number, lockMs: number, now = new Date()): Promise<string[]> {
  const lockedUntil = new Date(now.getTime() + lockMs)
  const due = Prisma.sql`(("status" = 'PENDING' AND "nextAttemptAt" <= ${now}) OR ("status" = 'DELIVERING' AND "lockedUntil" < ${now}))`
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "Pixel" SET "status" = 'DELIVERING', "lockedUntil" = ${lockedUntil}
    WHERE "id" IN (SELECT "id" FROM "Pixel" WHERE ${due} ORDER BY "nextAttemptAt" LIMIT ${limit}) AND ${due}
    RETURNING "id"`
  return rows.map((r) => r.id)
}

/** When the next pixel comes due (for the worker's sleep), or null when none is waiting. */
export async function nextPixelDue(db: Db): Promise<Date | null> {
  const next = await db.pixel.findFirst({ where: { status: 'PENDING' }, orderBy: { nextAttemptAt: 'asc' }, select: { nextAttemptAt: true } })
  return next?.nextAttemptAt ?? null
}
