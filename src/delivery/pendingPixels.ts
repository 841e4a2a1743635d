// What the outbox holds, for the metrics gauges: PENDING pixels, and how long the oldest due one has waited.
// Both read the (status, nextAttemptAt) index: a count of its PENDING entries (raw, so that SQLite counts
// them in the index without reading each row, as Prisma's count would), and its first due entry.
import type { Db } from '../core/db.js'
import type { PendingPixels } from '../core/metrics.js'

export async function readPendingPixels(db: Db, now = new Date()): Promise<PendingPixels> {
  const [pending, oldest] = await Promise.all([
    db.$queryRaw<{ n: number | bigint }[]>`SELECT COUNT(*) AS "n" FROM "Pixel" WHERE "status" = 'PENDING'`,
    db.pixel.findFirst({
      where: { status: 'PENDING', nextAttemptAt: { lte: now } },
      orderBy: { nextAttemptAt: 'asc' },
      select: { nextAttemptAt: true },
    }),
  ])
  const due = oldest?.nextAttemptAt
  return { pending: Number(pending[0]?.n ?? 0), oldestDueAgeSeconds: due ? Math.max(0, (now.getTime() - due.getTime()) / 1000) : 0 }
}
