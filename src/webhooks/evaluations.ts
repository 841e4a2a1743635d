// "Why did this webhook not fire": for each webhook of a call's campaign, fired (its pixel) or not and why,
// by the same rules the firing used (firingRules.ts, dedupe.ts) and with the call's actual values.
import { tagMap } from '../calls/tags.js'
import { isDeduped } from './dedupe.js'
import { triggerMoment } from './firingRules.js'
import { evaluateMatches, type FailedMatch } from './matchTags.js'
import type { MatchGroups } from './webhookConfig.js'
import type { Db } from '../core/db.js'

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
export async function webhookEvaluations({ db }: { db: Db }, callId: string): Promise<WebhookEvaluation[]> {
  const call = await db.call.findUniqueOrThrow({ where: { id: callId } })
  const webhooks = await db.webhook.findMany({ where: { campaignId: call.campaignId, deletedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  const pixels = await db.pixel.findMany({ where: { callId, trigger: { notIn: ['RESEND', 'TEST'] } }, orderBy: { createdAt: 'asc' } })
  const tags = await tagMap(db, callId)
  const out: WebhookEvaluation[] = []
  for (const webhook of webhooks) {
    const pixel = pixels.find((p) => p.webhookId === webhook.id)
    const base = { webhookId: webhook.id, trigger: webhook.trigger, pixelId: pixel?.id ?? null, failedConditions: [] as FailedMatch[] }
    if (
      pixel &&
      pixel.trigger === 'TIMER' &&
      pixel.status === 'PENDING' &&
      pixel.attemptCount === 0 &&
      pixel.nextAttemptAt &&
      pixel.nextAttemptAt > new Date()
    ) {
      out.push({
        ...base,
        fired: false,
        reason: `timer comes due at ${pixel.nextAttemptAt.toISOString()} (${webhook.timerSeconds} s after the answer); not sent yet`,
      })
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
      out.push({
        ...base,
        fired: false,
        reason: `conditions not met: ${first.key} ${first.operator} ${JSON.stringify(first.expected)}, but ${said}`,
        failedConditions: match.failed,
      })
      continue
    }
    const at = triggerMoment(call, webhook.trigger)
    if (webhook.dedupeWindowSeconds && at && (await isDeduped(db, webhook.id, call, webhook.dedupeWindowSeconds, at))) {
      out.push({ ...base, fired: false, reason: `deduped: fired for caller ${call.callerNumber} within the last ${webhook.dedupeWindowSeconds} s` })
      continue
    }
    out.push({
      ...base,
      fired: false,
      reason: 'not fired when the trigger was reached (the webhook was created or changed after it, or the tags arrived later)',
    })
  }
  return out
}
