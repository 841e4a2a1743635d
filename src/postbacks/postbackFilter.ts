import type { Prisma } from '../generated/prisma/client.js'
import { filterPhoneNumber } from '../calls/callFilter.js'
import type { PostbackOutcome } from './postbackWriter.js'
import { timeRange } from '../core/times.js'

export interface PostbackFilter {
  outcome?: PostbackOutcome | null
  callerNumber?: string | null
  apiKeyId?: string | null
  campaignId?: string | null
  receivedAfter?: Date | null
  receivedBefore?: Date | null
}

/** The postback log's filter -> a Prisma where, always scoped to the company. */
export function postbackWhere(companyId: string, filter: PostbackFilter | null | undefined): Prisma.PostbackWhereInput {
  const where: Prisma.PostbackWhereInput = { companyId }
  if (!filter) return where
  if (filter.outcome) where.outcome = filter.outcome
  if (filter.apiKeyId) where.apiKeyId = filter.apiKeyId
  if (filter.campaignId) where.campaignId = filter.campaignId
  if (filter.callerNumber) where.callerNumber = filterPhoneNumber(filter.callerNumber)
  const createdAt = timeRange(filter.receivedAfter, filter.receivedBefore)
  if (createdAt) where.createdAt = createdAt
  return where
}
