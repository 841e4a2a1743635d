// The telephony door's event as zod schemas: they check every body `POST /call-events` takes, and the
// OpenAPI document is generated from them, so what the document says and what the door refuses are one
// definition. A refusal names the field at fault (`event`, `waitForWebhooksMs`, `tags[0].value`). The rules
// the GraphQL mutations share (numbers, uuids, tag keys, the time window) stay in checkCallEvent: the
// schemas describe them.
import { z } from 'zod'
import { badInput, type RinghookError } from '../core/errors.js'
import { parseIsoTime } from '../core/times.js'
import type { CallEventInput } from './callEvents.js'

/** The event names the door takes (in any case), and the event each one is. */
const EVENT_NAMES = { start: 'START', answered: 'ANSWER', end: 'END', conversion: 'CONVERSION' } as const

const TIME_EXAMPLE = '2026-11-30T12:00:00Z'

/** Text as telephony sends it: a string, or a number (a caller number sent as a JSON number). */
const text = z
  .union([z.string(), z.number()], { error: (issue) => (issue.input == null ? 'is required' : 'must be a string') })
  .transform(String)
  // PostgreSQL cannot compare or store text holding NUL
  .refine((value) => !value.includes('\0'), 'must not contain NUL characters')

const requiredText = text.refine((value) => value !== '', 'is required')
/** null and "" are the same as leaving the field out */
const optionalText = text.nullish().transform((value) => value || null)

const notATime = (value: unknown) => `"${String(value)}" is not an ISO 8601 time that exists (${TIME_EXAMPLE})`

/** When the event happened; now when left out. */
const eventTime = z
  .string({ error: (issue) => (typeof issue.input === 'number' ? notATime(issue.input) : 'must be a string') })
  .refine((value) => !value.includes('\0'), 'must not contain NUL characters')
  .transform((value, ctx) => {
    if (value === '') return null
    const moment = parseIsoTime(value)
    if (moment) return moment
    ctx.issues.push({ code: 'custom', message: notATime(value), input: value })
    return z.NEVER
  })
  .meta({
    description: `ISO 8601 (default: now) of a date that exists (2026-02-30 and 24:00 are refused), between 2000-01-01 and one day ahead of the server's clock`,
    format: 'date-time',
    examples: [TIME_EXAMPLE],
  })
  .nullish()

const tagValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })
  .transform(String)
  .meta({ id: 'TagValue', description: 'numbers and booleans are stored as text' })

const tagList = z.array(
  // a list item that is no object has no key
  z.preprocess(
    (item) => (item !== null && typeof item === 'object' && !Array.isArray(item) ? item : {}),
    z.object({ key: z.string({ error: 'must be a string' }), value: tagValue }),
  ),
  { error: 'must be an object of key: value or a list of {key, value}' },
)

/**
 * Tags: an object of key: value, or a list of {key, value}. The object is read as the list of its entries
 * (whatever its keys are named: `__proto__` is a key like any other), so a refusal names `tags[i]` either
 * way; the document shows both forms, the object's values being the list's.
 */
const tags = z
  .preprocess(
    (value) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).map(([key, v]) => ({ key, value: v })) : value),
    tagList,
  )
  .meta({
    description: 'keys are normalised (trimmed, lower case, spaces and dashes to `_`): letters, digits and `_`, at most 100; values at most 2,000 characters',
    override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
      const { description, ...list } = jsonSchema
      const value = (list.items as { properties: Record<string, unknown> }).properties.value
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key]
      Object.assign(jsonSchema, { description, anyOf: [{ type: 'object', additionalProperties: value }, list] })
    },
  })
  .nullish()

const waitForWebhooksMs = z
  .number({ error: 'must be a whole number of milliseconds' })
  .min(0, 'must be a whole number of milliseconds')
  .refine(Number.isInteger, 'must be a whole number of milliseconds')
  .meta({
    override: { type: 'integer' },
    description: "wait up to this long (at most 30 s) for the start webhooks; the answer then carries the call's tags, theirs included",
    examples: [5000],
  })
  .nullish()

/** `event` picks the event's schema; it is lower-cased first, names being taken in any case. */
const eventName = <Name extends keyof typeof EVENT_NAMES>(name: Name) => z.literal(name).meta({ description: 'the event, in any case' })

const startEvent = z
  .object({
    // checked in the order the fields are named: a refusal names the first field at fault
    event: eventName('start'),
    startedAt: eventTime,
    waitForWebhooksMs,
    campaignId: requiredText.meta({ description: 'the campaign the call came in on' }),
    callerNumber: requiredText.meta({ description: 'normalised to E.164 (default country +1); no extension', examples: ['(415) 555-0100'] }),
    calledNumber: optionalText.meta({ description: 'the number dialled, normalised to E.164' }),
    uuid: optionalText.meta({
      description: 'what telephony knows the call by (generated when left out): 1 to 100 of A-Z, a-z, 0-9, - and _',
      examples: ['CA123'],
    }),
    tags,
  })
  .meta({ id: 'StartEvent', description: 'a call came in: the call is STARTED and its CALL_START webhooks fire' })

const callUuid = requiredText.meta({ description: 'the call, by its uuid in the key’s company', examples: ['CA123'] })

const answeredEvent = z
  .object({ event: eventName('answered'), answeredAt: eventTime, uuid: callUuid })
  .meta({ id: 'AnsweredEvent', description: 'a STARTED call was answered: ANSWERED webhooks fire, TIMER webhooks are scheduled' })

const endEvent = z
  .object({ event: eventName('end'), endedAt: eventTime, uuid: callUuid })
  .meta({ id: 'EndEvent', description: 'the call ended: CALL_END webhooks fire, timers not yet due are cancelled' })

const conversionEvent = z
  .object({ event: eventName('conversion'), convertedAt: eventTime, uuid: callUuid, tags })
  .meta({ id: 'ConversionEvent', description: 'the call converted (once per call, at any status): CONVERSION webhooks fire' })

/** Why a body's `event` is not one: the same words as any other text field, or the names there are. */
function eventProblem(event: unknown): string {
  const name = requiredText.safeParse(event)
  if (!name.success) return name.error.issues[0]!.message
  return `"${name.data}" is not an event: use ${Object.keys(EVENT_NAMES).join(', ')}`
}

/** The body of `POST /call-events`: one event. */
export const callEventBodySchema = z.preprocess(
  // event names are taken in any case
  (body) => {
    if (body === null || typeof body !== 'object' || !('event' in body) || typeof body.event !== 'string') return body
    const name = body.event.toLowerCase()
    return name !== body.event && Object.hasOwn(EVENT_NAMES, name) ? { ...body, event: name } : body
  },
  z.discriminatedUnion('event', [startEvent, answeredEvent, endEvent, conversionEvent], {
    error: (issue) =>
      issue.code === 'invalid_union' ? eventProblem((issue.input as { event?: unknown }).event) : 'must be a JSON object describing one event',
  }),
)

/** A zod issue's path as a field name: `tags[0].value`; the body itself is `body`. */
function fieldOf(path: readonly PropertyKey[]): string {
  let field = ''
  for (const part of path) field += typeof part === 'number' ? `[${part}]` : `${field ? '.' : ''}${String(part)}`
  return field || 'body'
}

function refusalOf(error: z.ZodError): RinghookError {
  const issue = error.issues[0]!
  return badInput(fieldOf(issue.path), issue.message)
}

/** A JSON body -> the event it reports; throws BAD_USER_INPUT naming the first field at fault. */
export function parseCallEvent(body: unknown): { input: CallEventInput; waitForWebhooksMs: number | null } {
  const parsed = callEventBodySchema.safeParse(body)
  if (!parsed.success) throw refusalOf(parsed.error)
  const event = parsed.data
  switch (event.event) {
    case 'start':
      return {
        input: {
          event: EVENT_NAMES.start,
          campaignId: event.campaignId,
          callerNumber: event.callerNumber,
          calledNumber: event.calledNumber,
          uuid: event.uuid,
          startedAt: event.startedAt ?? null,
          tags: event.tags ?? null,
        },
        waitForWebhooksMs: event.waitForWebhooksMs ?? null,
      }
    case 'answered':
      return { input: { event: EVENT_NAMES.answered, uuid: event.uuid, answeredAt: event.answeredAt ?? null }, waitForWebhooksMs: null }
    case 'end':
      return { input: { event: EVENT_NAMES.end, uuid: event.uuid, endedAt: event.endedAt ?? null }, waitForWebhooksMs: null }
    case 'conversion':
      return {
        input: { event: EVENT_NAMES.conversion, uuid: event.uuid, convertedAt: event.convertedAt ?? null, tags: event.tags ?? null },
        waitForWebhooksMs: null,
      }
  }
}

// What the door answers. Nothing checks these at run time: the OpenAPI document is generated from them,
// and test/openapi.test.ts holds real answers to it.

const moment = z.iso.datetime().meta({ examples: ['2026-11-30T12:00:00.000Z'] })

const callSchema = z
  .object({
    id: z.string(),
    uuid: z.string().meta({ description: 'what telephony knows the call by, unique within the company' }),
    companyId: z.string(),
    campaignId: z.string(),
    callerNumber: z.string().meta({ description: 'E.164', examples: ['+14155550100'] }),
    calledNumber: z.string().nullable().meta({ description: 'E.164' }),
    status: z.enum(['STARTED', 'ANSWERED', 'ENDED']),
    startedAt: moment,
    answeredAt: moment.nullable(),
    endedAt: moment.nullable(),
    durationSeconds: z.int().nullable().meta({ description: 'the connected time, answer to end (0 when never answered); null until the call ends' }),
    converted: z.boolean(),
    convertedAt: moment.nullable(),
    updatedAt: moment,
  })
  .meta({ id: 'Call', description: 'the call after the event' })

const writtenPixel = z
  .object({
    id: z.string().meta({ description: 'the pixel, and the `webhook-id` its request carries' }),
    webhookId: z.string(),
    trigger: z.enum(['CALL_START', 'ANSWERED', 'CALL_END', 'CONVERSION', 'TIMER']),
    status: z.enum(['PENDING', 'DELIVERING', 'FAILED']).meta({
      description:
        'DELIVERING: handed to this instance’s worker at once; PENDING: waiting for a worker (or its timer, or its webhook’s open circuit); FAILED: not sent, its webhook was disabled by its circuit breaker (kept for a replay)',
    }),
    nextAttemptAt: moment.nullable().meta({ description: 'when it is due (a timer’s moment); null while it waits for its circuit, or failed' }),
  })
  .meta({ id: 'WrittenPixel', description: 'a webhook firing the event wrote' })

export const callEventAnswerSchema = z
  .object({
    event: z.enum([EVENT_NAMES.start, EVENT_NAMES.answered, EVENT_NAMES.end, EVENT_NAMES.conversion]),
    call: callSchema,
    tags: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'with waitForWebhooksMs only: the call’s tags once its start webhooks settled, theirs included' }),
    pixels: z.array(writtenPixel).meta({ description: 'the pixels the event wrote (timers included)' }),
  })
  .meta({ id: 'CallEventAnswer', description: 'the event is recorded: the call as it now is and the webhooks it fired' })
