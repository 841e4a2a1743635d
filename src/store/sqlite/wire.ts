// How results and errors cross between the SQLite writer thread and the main thread: as plain data.
import type { ItemResult } from '../../core/groupCommit.js'
import { RinghookError, type ErrorCode } from '../../core/errors.js'

/** An error as it crosses between threads. */
export type WireError = { message: string; code?: string; ringhook?: { code: ErrorCode; field?: string } }

export type WireResult<O> = { ok: true; value: O } | { ok: false; error: WireError }

export function toWire(e: unknown): WireError {
  if (e instanceof RinghookError) return { message: e.message, ringhook: { code: e.code, field: e.field } }
  const err = e as Error & { code?: unknown }
  return { message: err?.message ?? String(e), code: typeof err?.code === 'string' ? err.code : undefined }
}

export function fromWire(e: WireError): Error {
  if (e.ringhook) return new RinghookError(e.ringhook.code, e.message, e.ringhook.field)
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {})
}

export const resultsFromWire = <O>(results: WireResult<O>[]): ItemResult<O>[] => results.map((r) => (r.ok ? r : { ok: false, error: fromWire(r.error) }))
