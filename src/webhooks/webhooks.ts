import { Prisma, type Webhook } from '../generated/prisma/client.js'
import { findCampaign } from '../campaigns/campaigns.js'
import { badInput, notFound } from '../core/errors.js'
import {
  checkBody,
  checkHeaders,
  checkMatches,
  checkRange,
  checkResponseMapping,
  checkSigningSecret,
  checkUrlTemplate,
  WEBHOOK_LIMITS,
  type WebhookConfigInput,
} from './webhookConfig.js'
import { checkName } from '../core/text.js'
import type { Db } from '../core/db.js'
import { checkBreakerSettings } from '../delivery/circuitRules.js'

/** The company's webhook (not deleted), or NOT_FOUND. */
export async function findWebhook(db: Db, companyId: string, id: string, field = 'id'): Promise<Webhook> {
  const webhook = await db.webhook.findFirst({ where: { id, companyId, deletedAt: null } })
  if (!webhook) throw notFound('webhook', field)
  return webhook
}

/** Checked column values for the fields the input sets; `current` is the webhook being updated. */
function webhookData(input: WebhookConfigInput, current: Webhook | null): Prisma.WebhookUncheckedUpdateInput {
  const data: Prisma.WebhookUncheckedUpdateInput = {}
  if (input.name != null) data.name = checkName(input.name)
  if (input.trigger != null) data.trigger = input.trigger
  const trigger = input.trigger ?? current?.trigger
  const timerSeconds = input.timerSeconds !== undefined ? input.timerSeconds : current?.timerSeconds
  if (trigger === 'TIMER') {
    if (timerSeconds == null) throw badInput('timerSeconds', 'a TIMER webhook needs timerSeconds (seconds into the answered call)')
    data.timerSeconds = checkRange('timerSeconds', timerSeconds, 1, WEBHOOK_LIMITS.timerSecondsMax)
  } else if (input.timerSeconds != null) {
    throw badInput('timerSeconds', 'applies to TIMER webhooks only')
  } else {
    data.timerSeconds = null
  }
  if (input.matches != null) data.matches = checkMatches(input.matches) as unknown as Prisma.InputJsonValue
  if (input.method != null) data.method = input.method
  if (input.url != null) data.urlTemplate = checkUrlTemplate(input.url)
  if (input.headers != null) data.headers = checkHeaders(input.headers) as unknown as Prisma.InputJsonValue
  const bodyType = input.bodyType ?? current?.bodyType ?? 'JSON'
  if (input.bodyType != null) data.bodyType = input.bodyType
  const body = input.body !== undefined ? input.body : current?.bodyTemplate
  if (body != null) data.bodyTemplate = checkBody(body, bodyType as 'JSON')
  else if (input.body === null) data.bodyTemplate = null
  if (input.timeoutMs != null) data.timeoutMs = checkRange('timeoutMs', input.timeoutMs, 100, WEBHOOK_LIMITS.timeoutMsMax)
  if (input.maxAttempts != null) data.maxAttempts = checkRange('maxAttempts', input.maxAttempts, 1, WEBHOOK_LIMITS.maxAttemptsMax)
  if (input.retryBaseDelayMs != null) data.retryBaseDelayMs = checkRange('retryBaseDelayMs', input.retryBaseDelayMs, 100, 3_600_000)
  if (input.responseMapping !== undefined) {
    data.responseMapping = input.responseMapping === null ? Prisma.DbNull : (checkResponseMapping(input.responseMapping) as unknown as Prisma.InputJsonValue)
  }
  if (input.dedupeWindowSeconds !== undefined) {
    data.dedupeWindowSeconds =
      input.dedupeWindowSeconds === null ? null : checkRange('dedupeWindowSeconds', input.dedupeWindowSeconds, 1, WEBHOOK_LIMITS.dedupeWindowSecondsMax)
  }
  if (input.signingSecret !== undefined) data.signingSecret = input.signingSecret === null ? null : checkSigningSecret(input.signingSecret)
  if (input.enabled != null) data.enabled = input.enabled
  if (input.circuitBreaker !== undefined) {
    const settings = checkBreakerSettings(input.circuitBreaker)
    data.circuitBreaker = settings === null ? Prisma.DbNull : (settings as Prisma.InputJsonValue)
  }
  if (input.maxPerSecond !== undefined)
    data.maxPerSecond = input.maxPerSecond === null ? null : checkRange('maxPerSecond', input.maxPerSecond, 1, WEBHOOK_LIMITS.maxPerSecondMax)
  if (input.maxInFlight !== undefined)
    data.maxInFlight = input.maxInFlight === null ? null : checkRange('maxInFlight', input.maxInFlight, 1, WEBHOOK_LIMITS.maxInFlightMax)
  return data
}

export async function createWebhook(db: Db, companyId: string, input: WebhookConfigInput & { campaignId: string }): Promise<Webhook> {
  const campaign = await findCampaign(db, companyId, input.campaignId, 'campaignId')
  for (const field of ['name', 'trigger', 'url'] as const) {
    if (input[field] == null) throw badInput(field, 'is required')
  }
  const data = webhookData(input, null)
  return db.webhook.create({
    data: {
      ...(data as Prisma.WebhookUncheckedCreateInput),
      companyId,
      campaignId: campaign.id,
      method: input.method ?? 'POST',
      matches: (data.matches ?? []) as Prisma.InputJsonValue,
      headers: (data.headers ?? []) as Prisma.InputJsonValue,
    },
  })
}

export async function updateWebhook(db: Db, companyId: string, input: WebhookConfigInput & { id: string }): Promise<Webhook> {
  const current = await findWebhook(db, companyId, input.id)
  const { id, ...changes } = input
  return db.webhook.update({ where: { id }, data: webhookData(changes, current) })
}

/** Deleting keeps the row (its pixels stay readable) but the webhook is gone from the API and fires no more. */
export async function deleteWebhook(db: Db, companyId: string, input: { id: string }): Promise<Webhook> {
  await findWebhook(db, companyId, input.id)
  return db.webhook.update({ where: { id: input.id }, data: { deletedAt: new Date(), enabled: false } })
}
