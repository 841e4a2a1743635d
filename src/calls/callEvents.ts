// Call events from telephony: start, answered, end, conversion. Checked here; written by the call-event
// store of the database in use, in one transaction per event (per batch of events on SQLite): the call
// update, its tags, and a pixel for each webhook the event fires (the outbox). Pixels the local delivery
// worker has room for are written already claimed by it and handed over in memory, so the common case
// costs no claim query and no reload; the rest wait for the worker's claim loop. Either way a pixel is
// written before the event is answered, and a worker that dies leaves it to be taken over when its lock
// expires.
import crypto from 'node:crypto'
import type { Call, Pixel } from '../generated/prisma/client.js'
import { jsonRow, type CallUpdatedEvent } from '../events/bus.js'
import { checkTagInputs } from './applyTags.js'
import { badInput, RinghookError } from '../core/errors.js'
import { eventTimeProblem } from '../core/times.js'
import { publishCallUpdated } from './findCall.js'
import type { DeliveryJob } from '../delivery/handoff.js'
import type { PubSub } from '../events/bus.js'
import type { PixelQueue } from '../delivery/handoff.js'
import type { TagInput } from '../core/tags.js'
import { checkPhoneNumber } from '../core/phone.js'
import type { Db } from '../core/db.js'

export type CallEventInput =
  | {
      event: 'START'
      campaignId: string
      callerNumber: string
      calledNumber?: string | null
      uuid?: string | null
      startedAt?: Date | null
      tags?: TagInput[] | null
    }
  | { event: 'ANSWER'; uuid: string; answeredAt?: Date | null }
  | { event: 'END'; uuid: string; endedAt?: Date | null }
  | { event: 'CONVERSION'; uuid: string; convertedAt?: Date | null; tags?: TagInput[] | null }

export interface CheckedStart {
  event: 'START'
  campaignId: string
  callerNumber: string
  calledNumber: string | null
  uuid: string
  startedAt: Date
  tags: TagInput[]
}

export interface CheckedChange {
  event: 'ANSWER' | 'END' | 'CONVERSION'
  uuid: string
  /** when it happened (answeredAt, endedAt, convertedAt) */
  at: Date
  tags: TagInput[]
}

export type CheckedCallEvent = CheckedStart | CheckedChange

export type CallEventTrigger = 'CALL_START' | 'ANSWERED' | 'CALL_END' | 'CONVERSION'

export interface RecordedCallEvent {
  call: Call
  published: CallUpdatedEvent['event']
  /** the pixels written for the event (timers included) */
  pixels: Pixel[]
  /** those written claimed by this process's worker, to deliver now */
  handoff: DeliveryJob[]
  /** timer pixels the event cancelled (the call ended before they came due) */
  cancelled: Pixel[]
}

/** Writes checked call events; the SQLite and PostgreSQL stores implement it. */
export interface CallEventStore {
  record(companyId: string, event: CheckedCallEvent): Promise<RecordedCallEvent>
  close(): Promise<void>
}

const UUID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/

function checkUuid(uuid: string): string {
  if (!UUID_PATTERN.test(uuid)) throw badInput('uuid', 'use 1 to 100 characters of A-Z, a-z, 0-9, - and _')
  return uuid
}

/** The time field of each event, in the mutations' inputs and the REST door alike. */
export const CALL_EVENT_TIME_FIELDS = { START: 'startedAt', ANSWER: 'answeredAt', END: 'endedAt', CONVERSION: 'convertedAt' } as const

/** Normalises numbers and tags and fills in defaults; throws BAD_USER_INPUT naming the field. */
export function checkCallEvent(input: CallEventInput, now = new Date()): CheckedCallEvent {
  const given =
    input.event === 'START' ? input.startedAt : input.event === 'ANSWER' ? input.answeredAt : input.event === 'END' ? input.endedAt : input.convertedAt
  const timeProblem = given ? eventTimeProblem(given, now) : null
  if (timeProblem) throw badInput(CALL_EVENT_TIME_FIELDS[input.event], timeProblem)
  if (input.event === 'START') {
    const callerNumber = checkPhoneNumber('callerNumber', input.callerNumber)
    const calledNumber = input.calledNumber ? checkPhoneNumber('calledNumber', input.calledNumber) : null
    return {
      event: 'START',
      campaignId: input.campaignId,
      callerNumber,
      calledNumber,
      uuid: checkUuid(input.uuid ?? crypto.randomUUID()),
      startedAt: input.startedAt ?? now,
      tags: checkTagInputs(input.tags ?? []),
    }
  }
  const at = input.event === 'ANSWER' ? input.answeredAt : input.event === 'END' ? input.endedAt : input.convertedAt
  return { event: input.event, uuid: input.uuid, at: at ?? now, tags: input.event === 'CONVERSION' ? checkTagInputs(input.tags ?? []) : [] }
}

/**
 * The call after a change event, the trigger it reaches and the event published; throws BAD_USER_INPUT
 * when the call's state does not allow it (STARTED -> ANSWERED -> ENDED, one conversion).
 */
export function applyChange(
  call: Call,
  event: CheckedChange,
  now = new Date(),
): { call: Call; trigger: CallEventTrigger; published: CallUpdatedEvent['event'] } {
  switch (event.event) {
    case 'ANSWER':
      if (call.status !== 'STARTED') throw badInput('uuid', `call is ${call.status}; only a STARTED call can be answered`)
      if (event.at < call.startedAt) throw badInput('answeredAt', 'is before the call started')
      return { call: { ...call, status: 'ANSWERED', answeredAt: event.at, updatedAt: now }, trigger: 'ANSWERED', published: 'ANSWERED' }
    case 'END': {
      if (call.status === 'ENDED') throw badInput('uuid', 'call has already ended')
      if (event.at < (call.answeredAt ?? call.startedAt)) throw badInput('endedAt', 'is before the call started or was answered')
      // the connected time (answer to end), the figure pay-per-call buyers pay on; 0 for a call never answered
      const durationSeconds = call.answeredAt ? Math.round((event.at.getTime() - call.answeredAt.getTime()) / 1000) : 0
      return { call: { ...call, status: 'ENDED', endedAt: event.at, durationSeconds, updatedAt: now }, trigger: 'CALL_END', published: 'ENDED' }
    }
    case 'CONVERSION':
      if (call.converted) throw badInput('uuid', 'call is already converted')
      return { call: { ...call, converted: true, convertedAt: event.at, updatedAt: now }, trigger: 'CONVERSION', published: 'CONVERTED' }
  }
}

/** Counts call events (metrics), and the timer pixels an event cancelled. */
export interface CallEventMetrics {
  callEvent(event: CallEventInput['event'], result: 'recorded' | 'refused' | 'failed'): void
  pixelFinished(status: 'CANCELLED', trigger: string): void
}

/** What recording a call event works with. */
export interface CallEventDeps {
  callEvents: CallEventStore
  pixelQueue: PixelQueue
  pubsub: PubSub
  metrics?: CallEventMetrics
}

/** Records a call event (GraphQL mutations and the REST route both come here), hands over and publishes. */
export async function recordCallEvent(services: CallEventDeps, companyId: string, input: CallEventInput): Promise<RecordedCallEvent> {
  let recorded: RecordedCallEvent
  try {
    recorded = await services.callEvents.record(companyId, checkCallEvent(input))
  } catch (e) {
    services.metrics?.callEvent(input.event, e instanceof RinghookError ? 'refused' : 'failed')
    throw e
  }
  services.metrics?.callEvent(input.event, 'recorded')
  for (const pixel of recorded.cancelled) services.metrics?.pixelFinished('CANCELLED', pixel.trigger)
  if (recorded.handoff.length) services.pixelQueue.deliver(recorded.handoff)
  if (recorded.pixels.length > recorded.handoff.length) services.pixelQueue.notify()
  publishCallUpdated(services.pubsub, recorded.call, recorded.published)
  if (recorded.cancelled.length && services.pubsub.listens('pixelFired', companyId)) {
    for (const pixel of recorded.cancelled) services.pubsub.publish('pixelFired', companyId, { pixel: jsonRow(pixel) })
  }
  return recorded
}

/** the longest a start event may wait for its webhooks */
const MAX_START_WAIT_MS = 30_000

/**
 * Polls until the call's CALL_START pixels have settled (delivered, failed or waiting for a retry) or the
 * deadline (at most 30 s). A pixel waiting for its webhook's circuit (no due time) is not waited for.
 */
export async function waitForStartPixels(db: Db, callId: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + Math.min(deadlineMs, MAX_START_WAIT_MS)
  while (Date.now() < deadline) {
    const open = await db.pixel.count({
      where: { callId, trigger: 'CALL_START', attemptCount: 0, OR: [{ status: 'DELIVERING' }, { status: 'PENDING', nextAttemptAt: { not: null } }] },
    })
    if (open === 0) return
    await new Promise((r) => setTimeout(r, 10))
  }
}
