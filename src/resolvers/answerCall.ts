import type { Call } from '../generated/prisma/client.js'
import { badInput } from './errors.js'
import { findCall, publishCallUpdated } from './findCall.js'
import type { Services } from './interfaces.js'
import { queueCallEventPixels } from './queueCallEventPixels.js'

/** The call was answered: STARTED -> ANSWERED. */
export async function answerCall({ db, pubsub, pixelQueue }: Services, companyId: string, input: { uuid: string; answeredAt?: Date | null }): Promise<Call> {
  const call = await findCall(db, companyId, input.uuid)
  if (call.status !== 'STARTED') throw badInput('uuid', `call is ${call.status}; only a STARTED call can be answered`)
  const answeredAt = input.answeredAt ?? new Date()
  if (answeredAt < call.startedAt) throw badInput('answeredAt', 'is before the call started')
  const updated = await db.$transaction(async (tx) => {
    const changed = await tx.call.update({ where: { id: call.id }, data: { status: 'ANSWERED', answeredAt } })
    await queueCallEventPixels(tx, changed, 'ANSWERED')
    return changed
  })
  pixelQueue.notify()
  publishCallUpdated(pubsub, updated, 'ANSWERED')
  return updated
}
