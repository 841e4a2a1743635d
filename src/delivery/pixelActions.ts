// What a person does with pixels: resend one, test-fire a webhook, and ask why a webhook did or did not fire.
import type { Pixel } from '../generated/prisma/client.js'
import { deliverPixel } from './deliverPixel.js'
import { badInput, notFound } from '../core/errors.js'
import { findWebhook } from '../webhooks/webhooks.js'
import { findCall } from '../calls/findCall.js'
import { applyTags, checkTagInputs } from '../calls/applyTags.js'
import type { PixelQueue } from './handoff.js'
import type { DeliveryDeps } from './deliverPixel.js'
import type { TagInput } from '../core/tags.js'
import type { Db } from '../core/db.js'

/** A new pixel (trigger RESEND, naming its original) for the same webhook and call, delivered by the worker like any other. */
export async function resendPixel(services: { db: Db; pixelQueue: PixelQueue }, companyId: string, id: string): Promise<Pixel> {
  const original = await services.db.pixel.findFirst({ where: { id, companyId } })
  if (!original) throw notFound('pixel', 'id')
  const pixel = await services.db.pixel.create({
    data: {
      companyId,
      campaignId: original.campaignId,
      webhookId: original.webhookId,
      callId: original.callId,
      callerNumber: original.callerNumber,
      trigger: 'RESEND',
      status: 'PENDING',
      nextAttemptAt: new Date(),
      replayOfId: original.id,
    },
  })
  services.pixelQueue.notify()
  return pixel
}

/**
 * Fires a webhook once, now, against a call (its tags, plus any sample tags given) and answers with the
 * pixel: the request sent and the response. Without a call, a sample call is made in the webhook's campaign
 * (caller +15555550100) so that the test is logged like every other message. No retries.
 */
export async function testFireWebhook(
  services: {
    db: Db
    pixelStore: DeliveryDeps['pixels']
    pubsub: DeliveryDeps['pubsub']
    outboundHttp: DeliveryDeps['http']
    circuit: DeliveryDeps['circuit']
    deliveryLimits: DeliveryDeps['limits']
  },
  companyId: string,
  input: { webhookId: string; callUuid?: string | null; tags?: TagInput[] | null },
): Promise<Pixel> {
  const { db } = services
  const webhook = await findWebhook(db, companyId, input.webhookId, 'webhookId')
  const sampleTags = checkTagInputs(input.tags ?? [])
  let call = input.callUuid ? await findCall(db, companyId, input.callUuid, 'callUuid') : null
  if (call && call.campaignId !== webhook.campaignId) throw badInput('callUuid', 'the call is of another campaign than the webhook')
  if (!call) {
    call = await db.call.create({
      data: { uuid: `test-${crypto.randomUUID()}`, companyId, campaignId: webhook.campaignId, callerNumber: '+15555550100', status: 'STARTED' },
    })
  }
  if (sampleTags.length) await applyTags(db, call.id, sampleTags, 'API')
  const pixel = await db.pixel.create({
    data: {
      companyId,
      campaignId: webhook.campaignId,
      webhookId: webhook.id,
      callId: call.id,
      callerNumber: call.callerNumber,
      trigger: 'TEST',
      status: 'DELIVERING',
      lockedUntil: new Date(Date.now() + webhook.timeoutMs + 5000),
    },
  })
  const deps = { pixels: services.pixelStore, pubsub: services.pubsub, http: services.outboundHttp, circuit: services.circuit, limits: services.deliveryLimits }
  return deliverPixel(deps, pixel.id, { maxAttempts: 1, urgent: true })
}
