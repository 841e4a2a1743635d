// The OpenAPI 3.1 document of the REST doors (`/postback`, `/data_writing`, `/call-events`), generated from
// the zod schemas the doors check their requests with and the ones their answers are held to. Built once
// when the server starts; served at GET /openapi.json without a key (it documents, it reveals nothing).
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi'
import type { z } from 'zod'
import { callEventAnswerSchema, callEventBodySchema } from '../calls/callEventSchema.js'
import {
  postbackFormSchema,
  postbackHeadersSchema,
  postbackJsonBodySchema,
  postbackPathKeySchema,
  postbackQuerySchema,
  postbackRefusedSchema,
  postbackTagFieldsSchema,
  postbackTakenSchema,
  retreaverRefusedSchema,
  retreaverTakenSchema,
} from '../postbacks/postbackSchema.js'
import { failureSchema, refusalSchema, requestRefusedSchema, retryAfterHeaders } from './answerSchemas.js'
import { CALL_EVENTS_PATH } from './callEventRoutes.js'
import packageJson from '../../package.json' with { type: 'json' }

export const OPENAPI_PATH = '/openapi.json'

const json = (schema: z.ZodType) => ({ 'application/json': { schema } })

/** The answers every door shares: the database out of reach, an unexpected error. */
const failures: ZodOpenApiResponsesObject = {
  '500': { description: 'an unexpected error (it is logged); retrying the same request will not help', content: json(failureSchema(false)) },
  '503': {
    description: 'the database cannot be reached right now: retry later (postbacks: with the same Idempotency-Key)',
    headers: retryAfterHeaders,
    content: json(failureSchema(true)),
  },
}

type Shape = { taken: z.ZodType; refused: z.ZodType }

/** A postback door's answers, in our shape or Retreaver's; `method` decides which refusals can happen. */
function postbackAnswers({ taken, refused }: Shape, method: 'get' | 'post'): ZodOpenApiResponsesObject {
  return {
    '200': {
      description: 'logged, and its tags applied to the call (`call found, tags applied`), or stored for the number (`call not found, tags stored`)',
      content: json(taken),
    },
    '400': {
      description:
        'refused and logged: invalid JSON or a JSON body that is not an object (INVALID_BODY), an empty payload, nesting past 32 levels (TOO_DEEP), no `caller_number` or `call_uuid`, a caller number that is not one, a malformed percent-escape in a `/data_writing/<key>` path (MALFORMED_URL), an unusable Idempotency-Key',
      content: json(refused),
    },
    '401': { description: 'missing, unknown or revoked key: not logged (there is no company to log it for)', content: json(refused) },
    '404': { description: 'no call with that `call_uuid` in the key’s company (CALL_NOT_FOUND); logged', content: json(refused) },
    ...(method === 'get'
      ? {
          '414': {
            description: 'the query string is over `BODY_LIMIT_BYTES`: logged, the query not kept; send large postbacks as a POST body',
            content: json(refused),
          },
          '431': {
            description: 'the request line and headers are past `BODY_LIMIT_BYTES` + 16 KB: refused by Node before the door, not logged',
            content: json(requestRefusedSchema),
          },
        }
      : {
          '413': { description: 'the body is over `BODY_LIMIT_BYTES`: logged, the body not kept', content: json(refused) },
          '415': { description: 'a content type other than JSON or a form (UNSUPPORTED_CONTENT_TYPE); logged', content: json(refused) },
        }),
    '429': { description: 'more postbacks than the key may send per minute (RATE_LIMITED); logged', headers: retryAfterHeaders, content: json(refused) },
    ...failures,
  }
}

const postbackBody = {
  description: 'the fields, as JSON or a form; a body with no content type is read as JSON when it starts with `{` or `[`',
  content: {
    'application/json': {
      schema: postbackJsonBodySchema,
      examples: {
        json: { value: { caller_number: '+14155550100', lead: { zip: '94103' }, interests: ['solar', 'roof'] } },
      },
    },
    'application/x-www-form-urlencoded': { schema: postbackFormSchema },
  },
}

const anyKey = [{ keyQuery: [] }, { ringhookKey: [] }, { bearer: [] }]
/** A POST may carry its key in the body ("key" or "api_key") instead. */
const anyKeyOrInBody = [...anyKey, {}]

const ours: Shape = { taken: postbackTakenSchema, refused: postbackRefusedSchema }
const retreavers: Shape = { taken: retreaverTakenSchema, refused: retreaverRefusedSchema }

function postbackOperation(shape: Shape, method: 'get' | 'post', summary: string, extra: Partial<ZodOpenApiOperationObject> = {}): ZodOpenApiOperationObject {
  return {
    tags: ['postbacks'],
    summary,
    security: method === 'get' ? anyKey : anyKeyOrInBody,
    requestParams: { query: postbackQuerySchema, header: postbackHeadersSchema },
    parameters: [postbackTagFieldsSchema],
    ...(method === 'post' ? { requestBody: postbackBody } : {}),
    responses: postbackAnswers(shape, method),
    ...extra,
  }
}

const POSTBACKS = `Publishers send caller data with their publisher key (admin keys work too). Every field but \`key\`, \`caller_number\` and \`call_uuid\` becomes a tag. \`call_uuid\` picks that call; otherwise \`caller_number\`, normalised to E.164, picks the newest call of that number started within the key's storage window, or the tags wait for the number and apply when it calls in. Every postback with a valid key is logged, refused ones included, with its body exactly as received (the key replaced by \`[REDACTED]\`). A retry with the same \`Idempotency-Key\` gets the first answer again and logs nothing new.`

const RETREAVER = 'Publishers moving from Retreaver change only the host: the same postback, answered in Retreaver’s shape.'

const CALL_EVENTS = `A telephony platform reports each call three or four times; \`POST ${CALL_EVENTS_PATH}\` takes one event per request as JSON, with an admin key, and does what the startCall, answerCall, endCall and convertCall mutations do without GraphQL's cost per request. The answer is the call and the pixels the event wrote; a refused event writes nothing. Call lifecycle: STARTED → ANSWERED → ENDED; one conversion per call, at any status.`

/** The document, as an object; the server serves it serialised once. */
export function createOpenApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Ringhook REST doors',
      version: packageJson.version,
      description:
        'The REST doors of Ringhook, the webhook hub for pay-per-call call tracking: publisher postbacks in (ours and Retreaver’s URL shapes) and call events from telephony. The GraphQL API at /graphql is described by its own schema. Generated from the zod schemas the doors check their requests with.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'postbacks', description: POSTBACKS },
      { name: 'call events', description: CALL_EVENTS },
    ],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the API key as `Authorization: Bearer <key>`' },
        ringhookKey: { type: 'apiKey', in: 'header', name: 'X-Ringhook-Key', description: 'the API key in the `X-Ringhook-Key` header' },
        keyQuery: { type: 'apiKey', in: 'query', name: 'key', description: 'the API key as `?key=` (postbacks only)' },
      },
    },
    paths: {
      '/postback': {
        get: postbackOperation(ours, 'get', 'A postback: the key and every field in the query', { description: POSTBACKS }),
        post: postbackOperation(ours, 'post', 'A postback: a JSON or form body', {
          description: `${POSTBACKS} The key may be in the query, the body ("key"), the X-Ringhook-Key header or a bearer token; query fields count too.`,
        }),
      },
      '/data_writing': {
        get: postbackOperation(retreavers, 'get', 'A postback in Retreaver’s shape: the key and every field in the query', { description: RETREAVER }),
        post: postbackOperation(retreavers, 'post', 'A postback in Retreaver’s shape: `key` in the JSON body', { description: RETREAVER }),
      },
      '/data_writing/{key}': {
        get: postbackOperation(retreavers, 'get', 'A postback in Retreaver’s shape: the key in the path, every field in the query', {
          description: RETREAVER,
          security: [{}],
          requestParams: { path: postbackPathKeySchema, query: postbackQuerySchema, header: postbackHeadersSchema },
        }),
      },
      [CALL_EVENTS_PATH]: {
        post: {
          tags: ['call events'],
          summary: 'One call event: start, answered, end or conversion',
          description: CALL_EVENTS,
          security: [{ bearer: [] }, { ringhookKey: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: callEventBodySchema,
                examples: {
                  start: {
                    value: { event: 'start', campaignId: '<campaign id>', uuid: 'CA123', callerNumber: '(415) 555-0100', tags: { caller_state: 'CA' } },
                  },
                  answered: { value: { event: 'answered', uuid: 'CA123' } },
                  end: { value: { event: 'end', uuid: 'CA123', endedAt: '2026-11-30T12:05:00Z' } },
                  conversion: { value: { event: 'conversion', uuid: 'CA123', tags: [{ key: 'sale_amount', value: '120' }] } },
                },
              },
            },
          },
          responses: {
            '200': { description: 'recorded: the call as it now is and the pixels the event wrote', content: json(callEventAnswerSchema) },
            '400': {
              description: 'BAD_USER_INPUT naming the field at fault; nothing is written',
              content: json(refusalSchema('BAD_USER_INPUT', { error: 'uuid: call has already ended', field: 'uuid' })),
            },
            '401': {
              description: 'the key is missing, unknown or revoked',
              content: json(refusalSchema('UNAUTHENTICATED', { error: 'unknown or revoked API key' })),
            },
            '403': {
              description: 'a publisher key: call events need an admin key',
              content: json(refusalSchema('FORBIDDEN', { error: 'call events need an admin key' })),
            },
            '404': {
              description: 'no such campaign or call in the key’s company',
              content: json(refusalSchema('NOT_FOUND', { error: 'uuid: call not found', field: 'uuid' })),
            },
            '413': { description: 'the body is over `BODY_LIMIT_BYTES`', content: json(requestRefusedSchema) },
            ...failures,
          },
        },
      },
    },
  })
}
