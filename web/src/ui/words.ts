// Words for the API's enums and codes, as a person reads them.
export const TRIGGER_WORDS: Record<string, string> = {
  CALL_START: 'call start',
  ANSWERED: 'answered',
  CALL_END: 'call end',
  CONVERSION: 'conversion',
  TIMER: 'timer',
  RESEND: 'resend',
  TEST: 'test fire',
}
export const triggerWords = (t: string) => TRIGGER_WORDS[t] ?? t.toLowerCase()

export const OPERATOR_WORDS: Record<string, string> = {
  EQUALS: 'equals',
  NOT_EQUALS: 'does not equal',
  EXISTS: 'exists',
  NOT_EXISTS: 'does not exist',
  IN: 'is one of',
  CONTAINS: 'contains',
  GREATER_THAN: 'is greater than',
  LESS_THAN: 'is less than',
}

export const OUTCOME_WORDS: Record<string, string> = {
  CALL_FOUND: 'call found, tags applied',
  COMPLETED_CALL_FOUND: 'completed call found, tags applied',
  TAGS_STORED: 'call not found, tags stored',
  REJECTED: 'refused',
}

export const SOURCE_WORDS: Record<string, string> = {
  POSTBACK: 'postback',
  WEBHOOK: 'webhook response',
  CALL_EVENT: 'call event',
  API: 'API',
}

/** "HTTP 500 in 12 ms" / "timeout after 5000 ms: …" */
export function attemptWords(a: { statusCode?: number | null; durationMs: number; error?: string | null }): string {
  if (a.statusCode != null) return `HTTP ${a.statusCode} in ${a.durationMs} ms${a.error ? ` (${a.error})` : ''}`
  return `${a.error ?? 'no answer'} after ${a.durationMs} ms`
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
