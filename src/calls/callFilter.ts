import type { Prisma } from '../generated/prisma/client.js'
import { checkPhoneNumber } from '../core/phone.js'
import { timeRange } from '../core/times.js'

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
  if (filter.callerNumber) where.callerNumber = filterPhoneNumber(filter.callerNumber)
  const startedAt = timeRange(filter.startedAfter, filter.startedBefore)
  if (startedAt) where.startedAt = startedAt
  return where
}

/** A caller number filter, normalised as stored; BAD_USER_INPUT on filter.callerNumber when it is not one. */
export function filterPhoneNumber(raw: string): string {
  return checkPhoneNumber('filter.callerNumber', raw)
}

export type CallStatus = 'STARTED' | 'ANSWERED' | 'ENDED'
