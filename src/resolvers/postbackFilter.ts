import type { Prisma } from '../generated/prisma/client.js'
import { badInput } from './errors.js'
import { normalisePhoneNumber } from './normalise.js'
import type { PostbackOutcome } from './postbackWriter.js'

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
  if (filter.callerNumber) {
    const number = normalisePhoneNumber(filter.callerNumber)
    if (!number) throw badInput('filter.callerNumber', `"${filter.callerNumber}" is not a phone number`)
    where.callerNumber = number
  }
  if (filter.receivedAfter || filter.receivedBefore) {
    where.createdAt = {
      ...(filter.receivedAfter ? { gte: filter.receivedAfter } : {}),
      ...(filter.receivedBefore ? { lt: filter.receivedBefore } : {}),
    }
  }
  return where
}
