import type { Prisma } from '../generated/prisma/client.js'
import { badInput } from './errors.js'
import type { CallStatus } from './interfaces.js'
import { normalisePhoneNumber } from './normalise.js'

export interface CallFilter {
  campaignId?: string | null
  status?: CallStatus | null
  callerNumber?: string | null
  startedAfter?: Date | null
  startedBefore?: Date | null
}

/** The call log's filter -> a Prisma where, always scoped to the company. */
export function callWhere(companyId: string, filter: CallFilter | null | undefined): Prisma.CallWhereInput {
  const where: Prisma.CallWhereInput = { companyId }
  if (!filter) return where
  if (filter.campaignId) where.campaignId = filter.campaignId
  if (filter.status) where.status = filter.status
  if (filter.callerNumber) {
    const number = normalisePhoneNumber(filter.callerNumber)
    if (!number) throw badInput('filter.callerNumber', `"${filter.callerNumber}" is not a phone number`)
    where.callerNumber = number
  }
  if (filter.startedAfter || filter.startedBefore) {
    where.startedAt = {
      ...(filter.startedAfter ? { gte: filter.startedAfter } : {}),
      ...(filter.startedBefore ? { lt: filter.startedBefore } : {}),
    }
  }
  return where
}
