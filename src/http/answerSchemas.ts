// The REST doors' refusals and failures as zod schemas, for the OpenAPI document (test/openapi.test.ts
// holds real answers to it).
import { z } from 'zod'
import type { ErrorCode } from '../core/errors.js'

const REFUSAL_IDS: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'BadUserInput',
  UNAUTHENTICATED: 'Unauthenticated',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'NotFound',
  RATE_LIMITED: 'RateLimited',
}

/** A refusal a user can act on: what was wrong, its code, and the input field at fault. */
export function refusalSchema(code: ErrorCode, example: { error: string; field?: string }) {
  return z
    .object({
      error: z.string().meta({ description: 'what was wrong, the field first when one is at fault' }),
      code: z.literal(code),
      field: z.string().optional().meta({ description: 'the input field at fault: `event`, `uuid`, `tags[0].value`; `body` for the body as a whole' }),
    })
    .meta({ id: REFUSAL_IDS[code], examples: [{ ...example, code }] })
}

/** The database could not be reached (503, with Retry-After), or an unexpected error (500, logged). */
export const failureSchema = (retryable: boolean) =>
  z
    .object({ error: z.string(), retryable: z.literal(retryable).meta({ description: retryable ? 'retry later' : 'the same request will fail again' }) })
    .meta({ id: retryable ? 'Unavailable' : 'UnexpectedError' })

/** A request refused before a door read it: a body over the limit, a request line and headers past Node's. */
export const requestRefusedSchema = z.object({ error: z.string() }).meta({ id: 'RequestRefused' })

/** Seconds to wait before retrying (429, 503). */
export const retryAfterHeaders = z.object({ 'Retry-After': z.string().meta({ description: 'seconds to wait before retrying', examples: ['5'] }) })
