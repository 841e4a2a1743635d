import type { Prisma } from '../generated/prisma/client.js'
import { badInput } from './errors.js'
import type { CallStatus } from './interfaces.js'
import { parsePhoneNumber } from './normalise.js'

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

/** A phone number given through the API, as E.164; BAD_USER_INPUT naming `field` when it is not one. */
export function checkPhoneNumber(field: string, raw: string): string {
  const number = parsePhoneNumber(raw)
  if (!number.ok) throw badInput(field, number.reason)
  return number.e164
}

/** [after, before): inclusive start, exclusive end; undefined when neither is given. */
export function timeRange(after: Date | null | undefined, before: Date | null | undefined): { gte?: Date; lt?: Date } | undefined {
  if (!after && !before) return undefined
  return { ...(after ? { gte: after } : {}), ...(before ? { lt: before } : {}) }
}
