// What a person does with pixels: resend one, test-fire a webhook, and ask why a webhook did or did not fire.
import type { Pixel } from '../generated/prisma/client.js'
import { deliverPixel } from './deliverPixel.js'
import { badInput, notFound } from './errors.js'
import type { Services } from './interfaces.js'
import { evaluateMatches, type FailedMatch } from './matchTags.js'
import { isDeduped } from './callEventStorePrisma.js'
import { triggerMoment } from './firingRules.js'
import { tagMap } from './pixelStore.js'
import { findWebhook } from './webhooks.js'
import { findCall } from './findCall.js'
import type { MatchGroups } from './webhookConfig.js'
import { applyTags, checkTagInputs } from './applyTags.js'
import type { TagInput } from './interfaces.js'

/** A new pixel (trigger RESEND) for the same webhook and call, delivered by the worker like any other. */
export async function resendPixel(services: Services, companyId: string, id: string): Promise<Pixel> {
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
  services: Services,
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
  return deliverPixel({ pixels: services.pixelStore, pubsub: services.pubsub, http: services.outboundHttp }, pixel.id, { maxAttempts: 1, urgent: true })
}

export interface WebhookEvaluation {
  webhookId: string
  trigger: string
  fired: boolean
  pixelId: string | null
  /** why it did not fire; null when it fired */
  reason: string | null
  failedConditions: FailedMatch[]
}

/** For each webhook of the call's campaign: fired (its pixel) or not, and why, with the call's actual values. */
export async function webhookEvaluations(services: Services, callId: string): Promise<WebhookEvaluation[]> {
  const { db } = services
  const call = await db.call.findUniqueOrThrow({ where: { id: callId } })
  const webhooks = await db.webhook.findMany({ where: { campaignId: call.campaignId, deletedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  const pixels = await db.pixel.findMany({ where: { callId, trigger: { notIn: ['RESEND', 'TEST'] } }, orderBy: { createdAt: 'asc' } })
  const tags = await tagMap(db, callId)
  const out: WebhookEvaluation[] = []
  for (const webhook of webhooks) {
    const pixel = pixels.find((p) => p.webhookId === webhook.id)
    const base = { webhookId: webhook.id, trigger: webhook.trigger, pixelId: pixel?.id ?? null, failedConditions: [] as FailedMatch[] }
    if (pixel && pixel.trigger === 'TIMER' && pixel.status === 'PENDING' && pixel.attemptCount === 0 && pixel.nextAttemptAt && pixel.nextAttemptAt > new Date()) {
      out.push({ ...base, fired: false, reason: `timer comes due at ${pixel.nextAttemptAt.toISOString()} (${webhook.timerSeconds} s after the answer); not sent yet` })
      continue
    }
    if (pixel && pixel.status !== 'CANCELLED') {
      out.push({ ...base, fired: true, reason: null })
      continue
    }
    if (pixel) {
      out.push({ ...base, fired: false, reason: pixel.responseNote ?? 'cancelled' })
      continue
    }
    if (!triggerMoment(call, webhook.trigger)) {
      out.push({ ...base, fired: false, reason: `trigger ${webhook.trigger} not reached (call is ${call.status}${call.converted ? ', converted' : ''})` })
      continue
    }
    if (!webhook.enabled) {
      out.push({ ...base, fired: false, reason: 'webhook is disabled' })
      continue
    }
    const match = evaluateMatches(webhook.matches as unknown as MatchGroups, tags)
    if (!match.matched) {
      const first = match.failed[0]!
      const said = first.actual === null ? `the call has no ${first.key} tag` : `${first.key} is "${first.actual}"`
      out.push({ ...base, fired: false, reason: `conditions not met: ${first.key} ${first.operator} ${JSON.stringify(first.expected)}, but ${said}`, failedConditions: match.failed })
      continue
    }
    const at = triggerMoment(call, webhook.trigger)
    if (webhook.dedupeWindowSeconds && at && (await isDeduped(db, webhook.id, call, webhook.dedupeWindowSeconds, at))) {
      out.push({ ...base, fired: false, reason: `deduped: fired for caller ${call.callerNumber} within the last ${webhook.dedupeWindowSeconds} s` })
      continue
    }
    out.push({ ...base, fired: false, reason: 'not fired when the trigger was reached (the webhook was created or changed after it, or the tags arrived later)' })
  }
  return out
}
