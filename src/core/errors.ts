// Errors a user can act on, in the domain's words, not tied to a transport: GraphQL answers them with
// `extensions` (src/graphql/yoga.ts), the REST doors with their HTTP status and a JSON body.
export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'RATE_LIMITED'

const httpStatus: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
}

/** An error a user can act on: a code, a message, the input field at fault, and details to answer with. */
export class RinghookError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }

  get httpStatus(): number {
    return httpStatus[this.code]
  }

  /** What a GraphQL answer carries of it (graphql-js copies an original error's `extensions`). */
  get extensions(): Record<string, unknown> {
    return { code: this.code, ...(this.field ? { field: this.field } : {}), ...this.details }
  }
}

export const badInput = (field: string, message: string) => new RinghookError('BAD_USER_INPUT', `${field}: ${message}`, field)
export const notFound = (what: string, field?: string) => new RinghookError('NOT_FOUND', field ? `${field}: ${what} not found` : `${what} not found`, field)
export const unauthenticated = (message: string) => new RinghookError('UNAUTHENTICATED', message)
export const forbidden = (message: string) => new RinghookError('FORBIDDEN', message)

/** Prisma error codes and driver-adapter kinds that mean the database could not be reached or was busy for now. */
const UNAVAILABLE_CODES = new Set([
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  '57P01',
  '57P03',
  '08001',
  '08006',
])
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'])

/** Whether an unexpected error is the database being out of reach or busy (a retry later can help), along its causes. */
export function isUnavailable(e: unknown): boolean {
  for (
    let err = e as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } }; cause?: unknown } | undefined, i = 0;
    err && i < 5;
    err = err.cause as typeof err, i++
  ) {
    if (typeof err.code === 'string' && UNAVAILABLE_CODES.has(err.code)) return true
    const kind = err.meta?.driverAdapterError?.cause?.kind
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true
  }
  return false
}

/** How an unexpected error is answered: 503 when a retry later can help (the database is out of reach), else 500. */
export function internalFailure(e: unknown): { status: 500 | 503; error: string; retryable: boolean } {
  return isUnavailable(e)
    ? { status: 503, error: 'the database cannot be reached right now; retry later', retryable: true }
    : { status: 500, error: 'an unexpected error (it is logged); retrying the same request will not help', retryable: false }
}

/** Seconds a client is asked to wait before retrying a 503. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5
