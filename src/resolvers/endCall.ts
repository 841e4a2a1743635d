import type { Call } from '../generated/prisma/client.js'
import { badInput } from './errors.js'
import { findCall, publishCallUpdated } from './findCall.js'
import type { Services } from './interfaces.js'
import { queueCallEventPixels } from './queueCallEventPixels.js'

/**
 * The call ended: -> ENDED. Its duration is the connected time (answer to end), the figure pay-per-call
 * buyers pay on; 0 for a call never answered.
 */
export async function endCall({ db, pubsub, pixelQueue }: Services, companyId: string, input: { uuid: string; endedAt?: Date | null }): Promise<Call> {
  const call = await findCall(db, companyId, input.uuid)
  if (call.status === 'ENDED') throw badInput('uuid', 'call has already ended')
  const endedAt = input.endedAt ?? new Date()
  if (endedAt < (call.answeredAt ?? call.startedAt)) throw badInput('endedAt', 'is before the call started or was answered')
  const durationSeconds = call.answeredAt ? Math.round((endedAt.getTime() - call.answeredAt.getTime()) / 1000) : 0
  const updated = await db.$transaction(async (tx) => {
    const changed = await tx.call.update({ where: { id: call.id }, data: { status: 'ENDED', endedAt, durationSeconds } })
    await queueCallEventPixels(tx, changed, 'CALL_END')
    return changed
  })
  pixelQueue.notify()
  publishCallUpdated(pubsub, updated, 'ENDED')
  return updated
}
