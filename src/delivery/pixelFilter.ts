import type { Prisma } from '../generated/prisma/client.js'
import { timeRange } from '../core/times.js'

export interface PixelFilter {
  status?: string | null
  trigger?: string | null
  createdAfter?: Date | null
  createdBefore?: Date | null
}

/** The pixel lists' filter -> a Prisma where (the caller adds the company or the webhook). */
export function pixelWhere(filter: PixelFilter | null | undefined): Prisma.PixelWhereInput {
  const where: Prisma.PixelWhereInput = {}
  if (filter?.status) where.status = filter.status
  if (filter?.trigger) where.trigger = filter.trigger
  const createdAt = timeRange(filter?.createdAfter, filter?.createdBefore)
  if (createdAt) where.createdAt = createdAt
  return where
}
