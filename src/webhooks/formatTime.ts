// Times for the token functions date() and unix(): read from ISO 8601 text or unix seconds, written with a
// strftime-style format in an IANA time zone (through Intl, so daylight saving time follows the zone's rules).
import { parseIsoTime } from '../core/times.js'

const UNIX_SECONDS = /^-?\d+(?:\.\d+)?$/
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i

/**
 * A time from a token's value: unix seconds (`1710055800`), or ISO 8601 (`2024-03-10T07:30:00Z`, a date
 * alone, a space for the T); without an offset it is read as UTC, never as this server's zone. Null when
 * it is neither.
 */
export function readTime(value: string): Date | null {
  const text = value.trim()
  if (UNIX_SECONDS.test(text)) {
    const ms = Number(text) * 1000
    return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(Math.floor(ms)) : null
  }
  let iso = text.replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T')
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00'
  if (!HAS_OFFSET.test(iso)) iso += 'Z'
  return parseIsoTime(iso.replace(/z$/, 'Z'))
}

/** Whether Intl knows the IANA time zone (`America/New_York`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    zoneFormat(zone)
    return true
  } catch {
    return false
  }
}

const formats = new Map<string, Intl.DateTimeFormat>()

function zoneFormat(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'short',
    })
    if (formats.size > 500) formats.clear()
    formats.set(zone, format)
  }
  return format
}

interface WallClock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  ms: number
  /** minutes east of UTC */
  offset: number
  zoneName: string
}

function wallClock(at: Date, zone: string): WallClock {
  const ms = ((at.getTime() % 1000) + 1000) % 1000
  if (zone.toUpperCase() === 'UTC') {
    return {
      year: at.getUTCFullYear(),
      month: at.getUTCMonth() + 1,
      day: at.getUTCDate(),
      hour: at.getUTCHours(),
      minute: at.getUTCMinutes(),
      second: at.getUTCSeconds(),
      ms,
      offset: 0,
      zoneName: 'UTC',
    }
  }
  const parts: Record<string, string> = {}
  for (const p of zoneFormat(zone).formatToParts(at)) parts[p.type] = p.value
  const clock = {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    ms,
    zoneName: parts.timeZoneName ?? zone,
  }
  const asUtc = Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second)
  return { ...clock, offset: Math.round((asUtc - (at.getTime() - ms)) / 60_000) }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`
}

/** strftime directives and what each writes; `%:z` is the offset with a colon. */
const DIRECTIVES: Record<string, (c: WallClock, at: Date) => string> = {
  Y: (c) => String(c.year),
  y: (c) => pad(c.year % 100),
  m: (c) => pad(c.month),
  d: (c) => pad(c.day),
  e: (c) => String(c.day).padStart(2, ' '),
  H: (c) => pad(c.hour),
  I: (c) => pad(c.hour % 12 || 12),
  M: (c) => pad(c.minute),
  S: (c) => pad(c.second),
  L: (c) => pad(c.ms, 3),
  p: (c) => (c.hour < 12 ? 'AM' : 'PM'),
  b: (c) => MONTHS[c.month - 1]!.slice(0, 3),
  B: (c) => MONTHS[c.month - 1]!,
  a: (c) => DAYS[new Date(Date.UTC(c.year, c.month - 1, c.day)).getUTCDay()]!.slice(0, 3),
  A: (c) => DAYS[new Date(Date.UTC(c.year, c.month - 1, c.day)).getUTCDay()]!,
  j: (c) => pad((Date.UTC(c.year, c.month - 1, c.day) - Date.UTC(c.year, 0, 1)) / 86_400_000 + 1, 3),
  z: (c) => offsetText(c.offset, false),
  ':z': (c) => offsetText(c.offset, true),
  Z: (c) => c.zoneName,
  s: (_, at) => String(Math.floor(at.getTime() / 1000)),
  F: (c) => `${c.year}-${pad(c.month)}-${pad(c.day)}`,
  T: (c) => `${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}`,
  '%': () => '%',
}

const DIRECTIVE = /%(:z|.?)/gs

/** The directives a format uses that formatTime does not know (`%Q`), or a lone `%` at the end. */
export function unknownDirectives(format: string): string[] {
  return [...format.matchAll(DIRECTIVE)].filter((m) => !(m[1]! in DIRECTIVES)).map((m) => m[0])
}

export const TIME_DIRECTIVES = Object.keys(DIRECTIVES).map((d) => `%${d}`)

/**
 * The time written in `zone` with a strftime-style format; without a format, ISO 8601 to the second
 * (`2024-03-10T07:30:00Z` in UTC, `2024-03-10T03:30:00-04:00` in a zone).
 */
export function formatTime(at: Date, format: string | undefined, zone = 'UTC'): string {
  const clock = wallClock(at, zone)
  if (!format) {
    const offset = clock.offset === 0 && zone.toUpperCase() === 'UTC' ? 'Z' : offsetText(clock.offset, true)
    return `${DIRECTIVES.F!(clock, at)}T${DIRECTIVES.T!(clock, at)}${offset}`
  }
  return format.replace(DIRECTIVE, (whole, d: string) => DIRECTIVES[d]?.(clock, at) ?? whole)
}
