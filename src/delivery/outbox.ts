// The outbox: the pixel rows a call event writes for the webhooks it fires, in the event's transaction, so
// a decided firing is never lost. Those due now are handed to this process's worker while it has room.
import type { Call, Pixel, Webhook } from '../generated/prisma/client.js'
import { newId } from '../core/ids.js'
import { timerCancelNote } from '../webhooks/firingRules.js'
import type { DeliveryJob, DeliverySlots } from './handoff.js'
import { handoverLock } from './locks.js'
import { circuitHolds, disabledNote, heldNote } from './circuitRules.js'

/** When a TIMER webhook's pixel comes due: its seconds after the answer. */
export const timerDue = (call: Pick<Call, 'answeredAt'>, webhook: Pick<Webhook, 'timerSeconds'>, now: Date) =>
  new Date((call.answeredAt ?? now).getTime() + (webhook.timerSeconds ?? 0) * 1000)

/** Whether a webhook's new pixel goes to the worker now: not while its circuit holds it or it is disabled. */
const goesOut = (webhook: Webhook) => webhook.trigger === 'TIMER' || webhook.circuitState === 'CLOSED'

/**
 * The pixel row for a webhook firing on a call: PENDING, or DELIVERING and locked when handed over. It is
 * dated at `at`, the moment the call reached the trigger (what the dedupe window compares: firingRules.ts).
 * While the webhook's circuit is open it waits (PENDING, no due time, the reason noted) for the circuit to
 * close; when the breaker disabled the webhook it is kept FAILED, saying so, for a replay. (A timer pixel
 * is judged when it comes due.)
 */
export function newPixel(call: Call, webhook: Webhook, now: Date, handedOver: boolean, at = now): Pixel {
  const due = webhook.trigger === 'TIMER' ? timerDue(call, webhook, now) : now
  const held = webhook.trigger !== 'TIMER' && circuitHolds(webhook)
  const disabled = webhook.trigger !== 'TIMER' && webhook.circuitState === 'DISABLED'
  return {
    id: newId(),
    companyId: call.companyId,
    campaignId: call.campaignId,
    webhookId: webhook.id,
    callId: call.id,
    callerNumber: call.callerNumber,
    trigger: webhook.trigger,
    status: disabled ? 'FAILED' : handedOver ? 'DELIVERING' : 'PENDING',
    request: null,
    unresolvedTokens: null,
    tagsApplied: null,
    responseNote: disabled ? disabledNote(webhook) : held ? heldNote(webhook) : null,
    attemptCount: 0,
    nextAttemptAt: held || disabled ? null : due,
    lockedUntil: handedOver ? handoverLock(now, webhook.timeoutMs) : null,
    createdAt: at,
    completedAt: disabled ? now : null,
    replayOfId: null,
    replayJobId: null,
  }
}

/**
 * The pixels for the webhooks that fire, after the store's dedupe check. Pixels due now are handed over
 * while the worker has room. The store writes `pixels`; `handoff` goes to the worker after the commit.
 */
export function planPixels(
  call: Call,
  firing: Webhook[],
  tags: Record<string, string>,
  slots: DeliverySlots,
  now: Date,
  at = now,
): { pixels: Pixel[]; handoff: DeliveryJob[]; reserved: number } {
  const dueNow = firing.filter((w) => w.trigger !== 'TIMER' && goesOut(w)).length
  const reserved = dueNow ? slots.reserve(dueNow) : 0
  let left = reserved
  const pixels: Pixel[] = []
  const handoff: DeliveryJob[] = []
  for (const webhook of firing) {
    const handedOver = webhook.trigger !== 'TIMER' && goesOut(webhook) && left > 0
    const pixel = newPixel(call, webhook, now, handedOver, at)
    pixels.push(pixel)
    if (handedOver) {
      left--
      handoff.push({ pixel, webhook, call, tags })
    }
  }
  return { pixels, handoff, reserved }
}

/**
 * The call ended at `endedAt`: of its PENDING timer pixels, those due after it, marked CANCELLED with the
 * reason (the stores write them), so nothing waits for a moment that will never come.
 */
export function timersEndedBefore(pending: Pixel[], endedAt: Date, now: Date): Pixel[] {
  return pending
    .filter((p) => p.trigger === 'TIMER' && p.status === 'PENDING' && p.nextAttemptAt && p.nextAttemptAt > endedAt)
    .map((p) => ({
      ...p,
      status: 'CANCELLED',
      responseNote: timerCancelNote(endedAt, p.nextAttemptAt!),
      nextAttemptAt: null,
      lockedUntil: null,
      completedAt: now,
    }))
}
