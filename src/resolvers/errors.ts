import { GraphQLError } from 'graphql'

export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'RATE_LIMITED'

const httpStatus: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
}

/** An error a user can act on: a code, a message, and the input field at fault. */
export class RinghookError extends GraphQLError {
  readonly code: ErrorCode
  readonly field: string | undefined
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message, { extensions: { code, ...(field ? { field } : {}) } })
    this.code = code
    this.field = field
  }
  get httpStatus(): number {
    return httpStatus[this.code]
  }
}

export const badInput = (field: string, message: string) => new RinghookError('BAD_USER_INPUT', `${field}: ${message}`, field)
export const notFound = (what: string, field?: string) =>
  new RinghookError('NOT_FOUND', field ? `${field}: ${what} not found` : `${what} not found`, field)
export const unauthenticated = (message: string) => new RinghookError('UNAUTHENTICATED', message)
export const forbidden = (message: string) => new RinghookError('FORBIDDEN', message)
