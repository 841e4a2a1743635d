// Statuses at a glance: a word, a colour and a symbol (colour is never the only signal).
type Tone = 'ok' | 'bad' | 'wait' | 'muted' | 'info'

const TONES: Record<string, [Tone, string]> = {
  SUCCEEDED: ['ok', '✓'],
  FAILED: ['bad', '✕'],
  PENDING: ['wait', '…'],
  DELIVERING: ['wait', '→'],
  CANCELLED: ['muted', '–'],
  CALL_FOUND: ['ok', '✓'],
  COMPLETED_CALL_FOUND: ['ok', '✓'],
  TAGS_STORED: ['info', '•'],
  REJECTED: ['bad', '✕'],
  CLOSED: ['ok', '●'],
  OPEN: ['bad', '○'],
  HALF_OPEN: ['wait', '◐'],
  DISABLED: ['bad', '■'],
  STARTED: ['wait', '●'],
  ANSWERED: ['info', '●'],
  ENDED: ['muted', '■'],
  QUEUED: ['wait', '…'],
  RUNNING: ['wait', '→'],
  COMPLETED: ['ok', '✓'],
}

export function Badge({ value, tone, children }: { value?: string; tone?: Tone; children?: React.ReactNode }) {
  const [t, symbol] = (value && TONES[value]) || [tone ?? 'muted', '']
  return (
    <span className={`badge ${tone ?? t}`}>
      {symbol && <span aria-hidden="true">{symbol} </span>}
      {children ?? value?.replaceAll('_', ' ').toLowerCase()}
    </span>
  )
}
