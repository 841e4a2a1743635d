import type { Db } from '../core/db.js'
import { tagMap } from '../calls/tags.js'
import type { DeliveryJob } from './handoff.js'

/** A claimed pixel with its webhook and call (and the call's tags when its first attempt is to come), through Prisma. */
export async function loadDeliveryJob(db: Db, pixelId: string): Promise<DeliveryJob> {
  const { webhook, call, ...pixel } = await db.pixel.findUniqueOrThrow({ where: { id: pixelId }, include: { webhook: true, call: true } })
  return { pixel, webhook, call, tags: pixel.request === null ? await tagMap(db, call.id) : null }
}

/** Keeps the pixel with this worker until then, through Prisma. */
export async function holdPixelLock(db: Db, pixelId: string, until: Date): Promise<void> {
  await db.pixel.update({ where: { id: pixelId }, data: { lockedUntil: until } })
}
