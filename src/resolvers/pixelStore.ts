// Where deliveries read pixels and record their attempts. On PostgreSQL through Prisma, one pixel at a
// time; on embedded SQLite attempts are recorded in batches (pixelStoreSqlite.ts).
import type { Pixel } from '../generated/prisma/client.js'
import type { Db } from '../db/client.js'
import { applyTags } from './applyTags.js'
import { claimDuePixels } from './claimDuePixels.js'
import type { DeliveryJob, TagInput } from './interfaces.js'

/** What an attempt (or a decision not to send) changes on the pixel; fields left out keep their value. */
export interface PixelUpdate {
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  attemptCount?: number
  nextAttemptAt: Date | null
  lockedUntil: Date | null
  completedAt?: Date | null
  responseNote?: string | null
  tagsApplied?: Record<string, string>
  /** the rendered request, written at the first attempt */
  request?: Record<string, unknown>
  unresolvedTokens?: string[]
}

export interface AttemptRecord {
  number: number
  startedAt: Date
  durationMs: number
  statusCode: number | null
  responseHeaders: Record<string, string> | null
  responseBody: string | null
  responseTruncated: boolean
  error: string | null
}

export interface PixelStore {
  /**
   * Marks up to `limit` due pixels DELIVERING, locked for `lockMs`, and answers them ready to deliver:
   * PENDING pixels whose time has come, and with `takeOver`, first those whose worker's lock expired.
   */
  claim(limit: number, lockMs: number, takeOver: boolean): Promise<DeliveryJob[]>
  /** a claimed pixel with its webhook and call (and the call's tags when its first attempt is to come) */
  load(pixelId: string): Promise<DeliveryJob>
  /** keeps the pixel with this worker until then */
  holdLock(pixelId: string, until: Date): Promise<void>
  /**
   * Writes the attempt, the pixel's new state and the tags the response gave, and answers the pixel as
   * written; only while the pixel is still as this worker took it (DELIVERING, the same attempt count).
   * Answers null and writes nothing when it is not: another worker took it over (this one was taken for
   * dead) and records its own attempt.
   */
  settle(job: DeliveryJob, update: PixelUpdate, attempt: AttemptRecord | null, tags: TagInput[]): Promise<Pixel | null>
  close(): Promise<void>
}

/** Tags of a call as key -> value. */
export async function tagMap(db: Pick<Db, 'tag'>, callId: string): Promise<Record<string, string>> {
  const tags = await db.tag.findMany({ where: { callId }, select: { key: true, value: true } })
  return Object.fromEntries(tags.map((t) => [t.key, t.value]))
}

/** The pixel after an update, as the stores answer it. */
export function updatedPixel(pixel: Pixel, update: PixelUpdate): Pixel {
  const next = { ...pixel } as Record<string, unknown>
  for (const [key, value] of Object.entries(update)) if (value !== undefined) next[key] = value
  return next as unknown as Pixel
}

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
