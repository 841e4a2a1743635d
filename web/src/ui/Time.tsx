// A time in the viewer's zone, with the UTC time on hover.
const local = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

export const utcText = (iso: string) => `${iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '')} UTC`

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** `clock`: the time of day only (the live tail), the date and UTC on hover. */
export function Time({ at, clock: short }: { at: string | null | undefined; clock?: boolean }) {
  if (!at) return <span className="muted">—</span>
  const d = new Date(at)
  return (
    <time dateTime={at} title={short ? `${local.format(d)} (${utcText(at)})` : utcText(at)}>
      {short ? clock.format(d) : local.format(d)}
    </time>
  )
}

// an RFC 3339 date-time, as the API's DateTime takes it
const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

/** Whether the API takes `text` as a DateTime: RFC 3339, 1970 to 9999. */
export function isApiTime(text: string): boolean {
  const at = Date.parse(text)
  return API_TIME.test(text) && !Number.isNaN(at) && at >= 0 && at < Date.UTC(10000, 0, 1)
}

// the times the server writes into its notes and reasons ("next probe at 2026-03-01T12:00:00.000Z")
const TIME_IN_TEXT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g

/** A note of the server's with each time in it in the viewer's zone, UTC on hover, as every other time. */
export function WithTimes({ text }: { text: string }) {
  const parts: React.ReactNode[] = []
  let from = 0
  for (const m of text.matchAll(TIME_IN_TEXT)) {
    parts.push(text.slice(from, m.index), <Time key={m.index} at={m[0]} />)
    from = m.index + m[0].length
  }
  parts.push(text.slice(from))
  return <>{parts}</>
}

/** datetime-local input value (viewer's zone) <-> ISO time */
export function toLocalInput(iso: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}
export function fromLocalInput(value: string): string | null {
  if (!value) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

export function Duration({ ms }: { ms: number | null | undefined }) {
  if (ms == null) return <span className="muted">—</span>
  return <span>{ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`}</span>
}
