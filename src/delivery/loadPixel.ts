import type { Db } from '../core/db.js'
import { tagMap } from '../calls/tags.js'
import type { DeliveryJob } from './handoff.js'

/** A claimed pixel with its webhook and call (and the call's tags when its first attempt is to come), through Prisma. */
export async function loadDeliveryJob(db: Db, pixelId: string): Promise<DeliveryJob> {
  const { webhook, call, ...pixel } = await db.pixel.findUniqueOrThrow({ where: { id: pixelId }, include: { webhook: true, call: true } })
  return { pixel, webhook, call, tags: pixel.request === null ? await tagMap(db, call.id) : null }
}

/** Keeps the pixel with this worker until then while it still holds it (PixelStore.holdLock), through Prisma. */
export async function holdPixelLock(db: Db, job: DeliveryJob, until: Date): Promise<boolean> {
  const { count } = await db.pixel.updateMany({
    where: { id: job.pixel.id, status: 'DELIVERING', lockedUntil: job.pixel.lockedUntil },
    data: { lockedUntil: until },
  })
  if (count === 1) job.pixel.lockedUntil = until
  return count === 1
}
