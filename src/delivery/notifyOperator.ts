// A company's operator URL hears of every change of its webhooks' circuits (webhookHealthChanged), signed
// like any webhook (Standard Webhooks: webhook-id is the event's id, so a repeat is recognised). Run as a
// job with retries (jobs/notifyOperatorJob.ts); what happened is kept on the event row.
import type { Db } from '../core/db.js'
import { attemptKind } from './health.js'
import { refusedTarget } from './deliverPixel.js'
import type { OutboundHttp } from './http/outboundHttp.js'
import { signWebhook } from './signWebhook.js'

/** How long the operator URL has to answer. */
const TIMEOUT_MS = 10_000

/** What the operator URL receives. */
export interface OperatorEvent {
  type: 'webhook.health_changed'
  timestamp: string
  data: { eventId: string; webhookId: string; webhookName: string; campaignId: string; from: string; to: string; reason: string; at: string }
}

/**
 * Sends one event to its company's operator URL, once it has been answered 2xx (a company without an
 * operator URL: nothing to do). Throws when it was not (the job tries again later), after noting why.
 */
export async function notifyOperator(deps: { db: Db; http: OutboundHttp }, eventId: string): Promise<'sent' | 'no operator URL' | 'sent before'> {
  const { db } = deps
  const event = await db.webhookHealthEvent.findUnique({ where: { id: eventId } })
  if (!event) return 'no operator URL'
  if (event.notifiedAt) return 'sent before'
  const company = await db.company.findUniqueOrThrow({ where: { id: event.companyId } })
  if (!company.operatorUrl) return 'no operator URL'
  const webhook = await db.webhook.findUniqueOrThrow({ where: { id: event.webhookId } })
  const now = new Date()
  const payload: OperatorEvent = {
    type: 'webhook.health_changed',
    timestamp: now.toISOString(),
    data: {
      eventId: event.id,
      webhookId: webhook.id,
      webhookName: webhook.name,
      campaignId: webhook.campaignId,
      from: event.from,
      to: event.to,
      reason: event.reason,
      at: event.createdAt.toISOString(),
    },
  }
  const body = JSON.stringify(payload)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Ringhook/0.1',
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  }
  if (company.operatorSigningSecret) Object.assign(headers, signWebhook(company.operatorSigningSecret, event.id, now, body))
  const request = { method: 'POST', url: company.operatorUrl, headers, body }
  const result = (await refusedTarget(deps.http, new URL(company.operatorUrl))) ?? (await deps.http.exchange(request, TIMEOUT_MS, { urgent: true }))
  const ok = attemptKind(result) === 'success'
  const why = ok ? null : (result.error ?? `HTTP ${result.statusCode}`)
  await db.webhookHealthEvent.update({
    where: { id: event.id },
    data: { notifyAttempts: { increment: 1 }, notifiedAt: ok ? new Date() : null, notifyError: why },
  })
  // the URL itself stays out of the message (it is logged, and such URLs may carry a secret in their path)
  if (!ok) throw new Error(`the operator URL of company ${company.id} did not take event ${event.id}: ${why}`)
  return 'sent'
}
