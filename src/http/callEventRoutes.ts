// The telephony door: `POST /call-events` with one JSON event, the same operation as the startCall,
// answerCall, endCall and convertCall mutations without GraphQL's cost per request (a telephony platform
// reports every call three or four times). Admin keys only, as `Authorization: Bearer` or `X-Ringhook-Key`.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../core/config.js'
import { authenticate } from '../tenancy/authenticate.js'
import { CALL_EVENT_TIME_FIELDS, recordCallEvent, waitForStartPixels, type CallEventInput } from '../calls/callEvents.js'
import { badInput, forbidden, RinghookError } from '../core/errors.js'
import { readBody, sendJson } from './readBody.js'
import { parseIsoTime } from '../core/times.js'
import type { Services } from '../graphql/context.js'
import type { TagInput } from '../core/tags.js'
import { tagMap } from '../calls/tags.js'

export const CALL_EVENTS_PATH = '/call-events'

const EVENTS: Record<string, CallEventInput['event']> = { start: 'START', answered: 'ANSWER', end: 'END', conversion: 'CONVERSION' }

type Fields = Record<string, unknown>

function text(fields: Fields, name: string, required: true): string
function text(fields: Fields, name: string, required?: false): string | null
function text(fields: Fields, name: string, required = false): string | null {
  const v = fields[name]
  if (v == null || v === '') {
    if (required) throw badInput(name, 'is required')
    return null
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw badInput(name, 'must be a string')
  // PostgreSQL cannot compare or store text holding NUL
  if (typeof v === 'string' && v.includes('\0')) throw badInput(name, 'must not contain NUL characters')
  return String(v)
}

function time(fields: Fields, name: string): Date | null {
  const v = text(fields, name)
  if (v === null) return null
  const d = parseIsoTime(v)
  if (!d) throw badInput(name, `"${v}" is not an ISO 8601 time that exists (2026-11-30T12:00:00Z)`)
  return d
}

/** Tags as an object of key: value, or a list of {key, value}. */
function tags(fields: Fields): TagInput[] | null {
  const v = fields.tags
  if (v == null) return null
  const list = Array.isArray(v) ? v : typeof v === 'object' ? Object.entries(v as object).map(([key, value]) => ({ key, value })) : null
  if (!list) throw badInput('tags', 'must be an object of key: value or a list of {key, value}')
  return list.map((t, i) => {
    const { key, value } = (t ?? {}) as { key?: unknown; value?: unknown }
    if (typeof key !== 'string') throw badInput(`tags[${i}].key`, 'must be a string')
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw badInput(`tags[${i}].value`, 'must be a string, number or boolean')
    return { key, value: String(value) }
  })
}

/** A JSON body -> the event it reports; BAD_USER_INPUT naming the field otherwise. */
export function parseCallEvent(fields: Fields): { input: CallEventInput; waitForWebhooksMs: number | null } {
  const name = text(fields, 'event', true)
  const key = name.toLowerCase()
  const event = Object.hasOwn(EVENTS, key) ? EVENTS[key] : undefined
  if (!event) throw badInput('event', `"${name}" is not an event: use ${Object.keys(EVENTS).join(', ')}`)
  const at = time(fields, CALL_EVENT_TIME_FIELDS[event])
  if (event === 'START') {
    const wait = fields.waitForWebhooksMs
    if (wait != null && (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0))
      throw badInput('waitForWebhooksMs', 'must be a whole number of milliseconds')
    return {
      input: {
        event,
        campaignId: text(fields, 'campaignId', true),
        callerNumber: text(fields, 'callerNumber', true),
        calledNumber: text(fields, 'calledNumber'),
        uuid: text(fields, 'uuid'),
        startedAt: at,
        tags: tags(fields),
      },
      waitForWebhooksMs: (wait as number | undefined) ?? null,
    }
  }
  const uuid = text(fields, 'uuid', true)
  if (event === 'CONVERSION') return { input: { event, uuid, convertedAt: at, tags: tags(fields) }, waitForWebhooksMs: null }
  return { input: event === 'ANSWER' ? { event, uuid, answeredAt: at } : { event, uuid, endedAt: at }, waitForWebhooksMs: null }
}

export function createCallEventRoutes(services: Services, config: Config) {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const key = req.headers['x-ringhook-key']
      const auth = await authenticate(services.apiKeys, (Array.isArray(key) ? key[0] : key) ?? req.headers.authorization)
      if (auth.role !== 'ADMIN') throw forbidden('call events need an admin key')
      const raw = (await readBody(req, config.bodyLimitBytes)).toString('utf8')
      let fields: unknown
      try {
        fields = JSON.parse(raw)
      } catch (e) {
        throw badInput('body', `invalid JSON: ${(e as Error).message}`)
      }
      if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw badInput('body', 'must be a JSON object describing one event')
      const { input, waitForWebhooksMs } = parseCallEvent(fields as Fields)
      const recorded = await recordCallEvent(services, auth.companyId, input)
      let tags: Record<string, string> | undefined
      if (waitForWebhooksMs) {
        await waitForStartPixels(services.db, recorded.call.id, waitForWebhooksMs)
        tags = await tagMap(services.db, recorded.call.id)
      }
      sendJson(res, 200, {
        event: input.event,
        call: recorded.call,
        ...(tags ? { tags } : {}),
        pixels: recorded.pixels.map((p) => ({ id: p.id, webhookId: p.webhookId, trigger: p.trigger, status: p.status, nextAttemptAt: p.nextAttemptAt })),
      })
    } catch (e) {
      if (e instanceof RinghookError) return sendJson(res, e.httpStatus, { error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) })
      throw e
    }
  }
  return { handles: (method: string | undefined, path: string) => method === 'POST' && path === CALL_EVENTS_PATH, handle }
}
