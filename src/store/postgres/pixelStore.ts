// Deliveries on PostgreSQL through Prisma: claims by one statement per state, one pixel loaded and settled
// at a time. The embedded SQLite store uses its load and holdLock (resend, test-fire) too.
import type { Pixel } from '../../generated/prisma/client.js'
import { applyTags } from '../../calls/applyTags.js'
import { tagMap } from '../../calls/tags.js'
import type { DeliveryJob } from '../../delivery/handoff.js'
import type { AttemptRecord, PixelStore, PixelUpdate } from '../../delivery/pixelStore.js'
import type { TagInput } from '../../core/tags.js'
import { claimDuePixels } from './claimDuePixels.js'
import type { Db } from '../../core/db.js'

export class PrismaPixelStore implements PixelStore {
  constructor(private readonly db: Db) {}

  async claim(limit: number, lockMs: number, takeOver: boolean): Promise<DeliveryJob[]> {
    const ids = await claimDuePixels(this.db, limit, lockMs, takeOver)
    return Promise.all(ids.map((id) => this.load(id)))
  }

  async load(pixelId: string): Promise<DeliveryJob> {
    const { webhook, call, ...pixel } = await this.db.pixel.findUniqueOrThrow({ where: { id: pixelId }, include: { webhook: true, call: true } })
    return { pixel, webhook, call, tags: pixel.request === null ? await tagMap(this.db, call.id) : null }
  }

  async holdLock(pixelId: string, until: Date): Promise<void> {
    await this.db.pixel.update({ where: { id: pixelId }, data: { lockedUntil: until } })
  }

  async settle(job: DeliveryJob, update: PixelUpdate, attempt: AttemptRecord | null, tags: TagInput[]): Promise<Pixel | null> {
    const { request, ...rest } = update
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.pixel.updateMany({
        where: { id: job.pixel.id, status: 'DELIVERING', attemptCount: job.pixel.attemptCount },
        data: { ...rest, ...(request ? { request: request as never } : {}) },
      })
      if (count === 0) return null
      if (attempt) await tx.pixelAttempt.create({ data: { ...attempt, pixelId: job.pixel.id, responseHeaders: attempt.responseHeaders ?? undefined } })
      if (tags.length) {
        await applyTags(tx, job.call.id, tags, 'WEBHOOK', job.pixel.id)
        await tx.call.update({ where: { id: job.call.id }, data: { updatedAt: new Date() } })
      }
      return tx.pixel.findUniqueOrThrow({ where: { id: job.pixel.id } })
    })
  }

  async close(): Promise<void> {}
}
