import type { Call } from '../generated/prisma/client.js'
import type { PubSub, CallUpdatedEvent } from '../events/bus.js'
import { jsonRow } from '../events/bus.js'
import { notFound } from '../core/errors.js'
import type { Db } from '../core/db.js'

/** The company's call by uuid, or NOT_FOUND (another company's uuid answers the same). */
export async function findCall(db: Db, companyId: string, uuid: string, field = 'uuid'): Promise<Call> {
  const call = await db.call.findUnique({ where: { companyId_uuid: { companyId, uuid } } })
  if (!call) throw notFound('call', field)
  return call
}

export function publishCallUpdated(pubsub: PubSub, call: Call, event: CallUpdatedEvent['event']): void {
  if (pubsub.listens('callUpdated', call.companyId)) pubsub.publish('callUpdated', call.companyId, { event, call: jsonRow(call) })
}
