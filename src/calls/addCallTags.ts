import type { Call } from '../generated/prisma/client.js'
import { applyTags, checkTagInputs } from './applyTags.js'
import { badInput } from '../core/errors.js'
import { findCall, publishCallUpdated } from './findCall.js'
import type { PubSub } from '../events/bus.js'
import type { TagInput } from '../core/tags.js'
import type { Db } from '../core/db.js'

/** Tags written through the API (source API); they apply at once, whatever the call's status. */
export async function addCallTags({ db, pubsub }: { db: Db; pubsub: PubSub }, companyId: string, input: { uuid: string; tags: TagInput[] }): Promise<Call> {
  if (input.tags.length === 0) throw badInput('tags', 'give at least one tag')
  const call = await findCall(db, companyId, input.uuid)
  await applyTags(db, call.id, checkTagInputs(input.tags), 'API')
  const touched = await db.call.update({ where: { id: call.id }, data: { updatedAt: new Date() } })
  publishCallUpdated(pubsub, touched, 'TAGGED')
  return touched
}
