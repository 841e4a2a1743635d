import type { Call } from '../generated/prisma/client.js'
import { applyTags, checkTagInputs } from './applyTags.js'
import { badInput } from './errors.js'
import { findCall, publishCallUpdated } from './findCall.js'
import type { Services, TagInput } from './interfaces.js'
import { queueCallEventPixels } from './queueCallEventPixels.js'

/** The call converted (a sale, a qualified lead); once per call. Conversion data may come as tags. */
export async function convertCall(
  { db, pubsub, pixelQueue }: Services,
  companyId: string,
  input: { uuid: string; convertedAt?: Date | null; tags?: TagInput[] | null },
): Promise<Call> {
  const call = await findCall(db, companyId, input.uuid)
  if (call.converted) throw badInput('uuid', 'call is already converted')
  const tags = checkTagInputs(input.tags ?? [])
  const updated = await db.$transaction(async (tx) => {
    const converted = await tx.call.update({ where: { id: call.id }, data: { converted: true, convertedAt: input.convertedAt ?? new Date() } })
    await applyTags(tx, call.id, tags, 'CALL_EVENT')
    await queueCallEventPixels(tx, converted, 'CONVERSION')
    return converted
  })
  pixelQueue.notify()
  publishCallUpdated(pubsub, updated, 'CONVERTED')
  return updated
}
