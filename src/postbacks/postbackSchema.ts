// A postback's shapes as zod schemas: what the doors take (query, JSON and form bodies, the Idempotency-Key)
// and what they answer (ours, and Retreaver's at /data_writing). The OpenAPI document is generated from
// them. Every postback is logged, refused ones too, so nothing here refuses a request before it is logged:
// the JSON body's schema decides, where ingestPostback's caller reads the body, whether it is an object of
// fields (INVALID_BODY otherwise); the Idempotency-Key's is the check ingestPostback makes. The rest (which
// field identifies the call, how deep a payload nests) is read from the fields after they are flattened
// (parsePostback.ts): the schemas describe it.
import { z } from 'zod'

export const POSTBACK_PROBLEM_CODES = [
  'INVALID_BODY',
  'EMPTY_PAYLOAD',
  'UNSUPPORTED_CONTENT_TYPE',
  'MISSING_IDENTIFICATION',
  'INVALID_CALLER_NUMBER',
  'EMPTY_FIELD',
  'NORMALISED_KEY',
  'MALFORMED_KEY',
  'VALUE_TOO_LONG',
  'BODY_TOO_LARGE',
  'RATE_LIMITED',
  'CALL_NOT_FOUND',
  'TOO_DEEP',
  'MALFORMED_URL',
  'CHARACTERS_REPLACED',
  'INVALID_IDEMPOTENCY_KEY',
] as const

export const postbackProblemSchema = z
  .object({
    code: z.enum(POSTBACK_PROBLEM_CODES),
    field: z.string().optional().meta({ description: 'the field at fault, as sent (or once normalised)' }),
    message: z.string(),
  })
  .meta({ id: 'PostbackProblem', description: 'something found in a postback: why it was refused, or what was changed or skipped' })

/** Something found in a postback: why it was refused, or what was changed or skipped. */
export type PostbackProblem = z.infer<typeof postbackProblemSchema>

export type PostbackOutcome = 'CALL_FOUND' | 'COMPLETED_CALL_FOUND' | 'TAGS_STORED' | 'REJECTED'

export const OUTCOME_WORDS = {
  CALL_FOUND: 'call found, tags applied',
  COMPLETED_CALL_FOUND: 'completed call found, tags applied',
  TAGS_STORED: 'call not found, tags stored',
} as const satisfies Record<Exclude<PostbackOutcome, 'REJECTED'>, string>

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/

/** An Idempotency-Key is kept in an index: short, and printable. */
export const idempotencyKeySchema = z
  .string()
  .regex(IDEMPOTENCY_KEY)
  .meta({
    description:
      'a retry with the same key gets the first answer again and logs nothing new; 1 to 200 printable ASCII characters (INVALID_IDEMPOTENCY_KEY otherwise)',
    examples: ['lead-8812'],
  })

const identification = {
  caller_number: 'the caller’s number, normalised to E.164 (default +1): picks the newest call of that number, or the tags wait for it to call',
  call_uuid: 'picks that call (of the key’s company)',
  key: 'the key, when it is not in the URL or a header (`api_key` works too)',
} as const

/**
 * A JSON postback: an object of fields. Every field but `key`, `caller_number` and `call_uuid` becomes a tag;
 * nested objects are flattened with `_`, arrays of scalars joined with commas.
 */
export const postbackJsonBodySchema = z
  .looseObject(
    {
      caller_number: z.unknown().optional().meta({ description: identification.caller_number }),
      call_uuid: z.unknown().optional().meta({ description: identification.call_uuid }),
      key: z.unknown().optional().meta({ description: identification.key }),
    },
    { error: 'the JSON body must be an object of fields' },
  )
  .meta({
    id: 'PostbackJsonBody',
    description:
      'an object of fields: every field but `key`, `caller_number` and `call_uuid` becomes a tag. Nested objects are flattened with `_` ({"lead":{"zip":…}} → lead_zip), arrays of scalars become one comma-separated value, arrays of objects are indexed (items_0_sku); at most 32 levels deep (TOO_DEEP). Give `caller_number` or `call_uuid` (MISSING_IDENTIFICATION otherwise).',
    examples: [{ caller_number: '+14155550100', lead: { zip: '94103' }, interests: ['solar', 'roof'] }],
  })

/** Fields as the query string or a form body carries them: text; a repeated name is joined with commas. */
export const postbackFormSchema = z
  .object({
    caller_number: z.string().optional().meta({ description: identification.caller_number }),
    call_uuid: z.string().optional().meta({ description: identification.call_uuid }),
    key: z.string().optional().meta({ description: identification.key }),
  })
  .catchall(z.string())
  .meta({
    id: 'PostbackForm',
    description: 'fields as text: every field but `key`, `caller_number` and `call_uuid` becomes a tag; a repeated name is joined with commas',
    examples: [{ caller_number: '4155550100', age: '39', lead_source: 'facebook' }],
  })

/** The query of a GET postback: the fields that identify the call, and any others. */
export const postbackQuerySchema = z.object({
  caller_number: z
    .string()
    .optional()
    .meta({ description: identification.caller_number, examples: ['4155550100'] }),
  call_uuid: z.string().optional().meta({ description: identification.call_uuid }),
})

/** Every other query field is a tag: as an OpenAPI parameter, an object exploded into the query. */
export const postbackTagFieldsSchema = z
  .record(z.string(), z.string())
  .optional()
  .meta({
    param: { name: 'fields', in: 'query', style: 'form', explode: true },
    description: 'every other field becomes a tag (keys trimmed, lower cased, spaces, dashes and dots to `_`); a repeated name is joined with commas',
    examples: [{ age: '39', lead_source: 'facebook' }],
  })

export const postbackPathKeySchema = z.object({
  key: z.string().meta({
    description: 'the publisher key, percent-escaped; a malformed escape after it is refused (MALFORMED_URL: write % as %25)',
    examples: ['rh_pub_…'],
  }),
})

export const postbackHeadersSchema = z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() })

const tags = z.record(z.string(), z.string()).meta({ description: 'the parsed tags, keys normalised: {key: value}', examples: [{ lead_zip: '94103' }] })
const problems = z.array(postbackProblemSchema).meta({ description: 'what was refused, changed or skipped' })

/** What a postback taken is answered (200). */
export const postbackTakenSchema = z
  .object({
    outcome: z.enum(['CALL_FOUND', 'COMPLETED_CALL_FOUND', 'TAGS_STORED']),
    status: z.enum([OUTCOME_WORDS.CALL_FOUND, OUTCOME_WORDS.COMPLETED_CALL_FOUND, OUTCOME_WORDS.TAGS_STORED]),
    postbackId: z.string(),
    callUuid: z.string().nullable().meta({ description: 'the call its tags reached; null when they wait for the number' }),
    callerNumber: z.string().meta({ description: 'E.164' }),
    tags,
    problems,
  })
  .meta({
    id: 'PostbackTaken',
    description: 'the postback is logged and its tags applied to the call, or stored for the number',
    examples: [
      {
        outcome: 'CALL_FOUND',
        status: 'call found, tags applied',
        postbackId: 'cmf0…',
        callUuid: 'CA123',
        callerNumber: '+14155550100',
        tags: { lead_zip: '94103', interests: 'solar,roof' },
        problems: [],
      },
    ],
  })

/** What a postback refused is answered (4xx): logged when its key was valid (postbackId), not otherwise. */
export const postbackRefusedSchema = z
  .object({
    outcome: z.literal('REJECTED'),
    status: z.literal('rejected'),
    error: z.string(),
    postbackId: z.string().nullable().meta({ description: 'the logged postback; null when it was not logged (no valid key)' }),
    callUuid: z.null(),
    callerNumber: z.string().nullable(),
    tags,
    problems,
  })
  .meta({
    id: 'PostbackRefused',
    description: 'the postback is refused (logged when its key was valid); `error` says why, `problems` lists what was found',
    examples: [
      {
        outcome: 'REJECTED',
        status: 'rejected',
        error: 'give caller_number or call_uuid to say which call the data is for',
        postbackId: 'cmf0…',
        callUuid: null,
        callerNumber: null,
        tags: { age: '39' },
        problems: [{ code: 'MISSING_IDENTIFICATION', message: 'give caller_number or call_uuid to say which call the data is for' }],
      },
    ],
  })

/** Retreaver's answer to a postback taken, at /data_writing. */
export const retreaverTakenSchema = z
  .union([
    z.object({ tag_values: tags, call_uuid: z.string(), status: z.enum([OUTCOME_WORDS.CALL_FOUND, OUTCOME_WORDS.COMPLETED_CALL_FOUND]) }),
    z.object({ tag_values: tags, caller_number: z.string(), status: z.literal(OUTCOME_WORDS.TAGS_STORED) }),
  ])
  .meta({
    id: 'RetreaverTaken',
    description: 'Retreaver’s shape: the tags, and the call they reached (`call_uuid`) or the number they wait for (`caller_number`)',
    examples: [{ tag_values: { age: '39' }, call_uuid: 'CA123', status: 'call found, tags applied' }],
  })

/** Retreaver's answer to a postback refused. */
export const retreaverRefusedSchema = z
  .object({ status: z.literal('rejected'), error: z.string(), problems })
  .meta({ id: 'RetreaverRefused', description: 'Retreaver’s shape of a refusal' })
