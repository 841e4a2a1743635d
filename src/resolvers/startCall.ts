import crypto from 'node:crypto'
import type { Call } from '../generated/prisma/client.js'
import { applyTags, checkTagInputs } from './applyTags.js'
import { findCampaign } from './campaigns.js'
import { badInput } from './errors.js'
import { publishCallUpdated } from './findCall.js'
import type { Services, TagInput } from './interfaces.js'
import { normalisePhoneNumber } from './normalise.js'
import { applyPendingTags } from './pendingTags.js'
import { queueCallEventPixels } from './queueCallEventPixels.js'

export interface StartCallInput {
  campaignId: string
  callerNumber: string
  calledNumber?: string | null
  uuid?: string | null
  startedAt?: Date | null
  tags?: TagInput[] | null
  /** wait up to this long for the CALL_START webhooks to answer, so routing sees the tags they write */
  waitForWebhooksMs?: number | null
}

const MAX_START_WAIT_MS = 30_000

/** Polls until the call's CALL_START pixels have settled (delivered, failed or waiting for a retry) or the deadline. */
async function waitForStartPixels(db: Services['db'], callId: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    const open = await db.pixel.count({ where: { callId, trigger: 'CALL_START', status: { in: ['PENDING', 'DELIVERING'] }, attemptCount: 0 } })
    if (open === 0) return
    await new Promise((r) => setTimeout(r, 10))
  }
}

const UUID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/

/** Telephony reports a new call: it is created STARTED with its tags. */
export async function startCall({ db, pubsub, pixelQueue }: Services, companyId: string, input: StartCallInput): Promise<Call> {
  const campaign = await findCampaign(db, companyId, input.campaignId, 'campaignId')
  if (campaign.archivedAt) throw badInput('campaignId', 'campaign is archived and takes no calls')
  const callerNumber = normalisePhoneNumber(input.callerNumber)
  if (!callerNumber) throw badInput('callerNumber', `"${input.callerNumber}" is not a phone number`)
  let calledNumber: string | null = null
  if (input.calledNumber) {
    calledNumber = normalisePhoneNumber(input.calledNumber)
    if (!calledNumber) throw badInput('calledNumber', `"${input.calledNumber}" is not a phone number`)
  }
  const uuid = input.uuid ?? crypto.randomUUID()
  if (!UUID_PATTERN.test(uuid)) throw badInput('uuid', 'use 1 to 100 characters of A-Z, a-z, 0-9, - and _')
  const tags = checkTagInputs(input.tags ?? [])
  if (await db.call.findUnique({ where: { uuid }, select: { id: true } })) throw badInput('uuid', `a call with uuid "${uuid}" exists`)

  const call = await db.$transaction(async (tx) => {
    const created = await tx.call.create({
      data: {
        uuid,
        companyId,
        campaignId: campaign.id,
        callerNumber,
        calledNumber,
        status: 'STARTED',
        ...(input.startedAt ? { startedAt: input.startedAt } : {}),
      },
    })
    // tags publishers sent before the call first; what telephony reports with the call wins over them
    await applyPendingTags(tx, created)
    await applyTags(tx, created.id, tags, 'CALL_EVENT')
    await queueCallEventPixels(tx, created, 'CALL_START')
    return created
  })
  pixelQueue.notify()
  publishCallUpdated(pubsub, call, 'STARTED')
  if (input.waitForWebhooksMs) await waitForStartPixels(db, call.id, Math.min(input.waitForWebhooksMs, MAX_START_WAIT_MS))
  return call
}
