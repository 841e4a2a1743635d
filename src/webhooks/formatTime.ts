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
      // years before 1 are counted back from 1 BC: the era says which way
      era: 'short',
    })
    if (formats.size > 500) formats.clear()
    formats.set(zone, format)
  }
  return format
}

/** Milliseconds since 1970 of a UTC wall-clock time; unlike Date.UTC, the years 0 to 99 stay as they are. */
function utcTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const at = new Date(0)
  at.setUTCFullYear(year, month - 1, day)
  return at.setUTCHours(hour, minute, second, 0)
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
    year: parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    ms,
    zoneName: parts.timeZoneName ?? zone,
  }
  const asUtc = utcTime(clock.year, clock.month, clock.day, clock.hour, clock.minute, clock.second)
  return { ...clock, offset: Math.round((asUtc - (at.getTime() - ms)) / 60_000) }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const pad = (n: number, width = 2) => String(n).padStart(width, '0')
/** A year in four digits at least, as ISO 8601 writes it (0050, -0001) */
const yearText = (year: number) => (year < 0 ? `-${pad(-year, 4)}` : pad(year, 4))
const weekday = (c: WallClock) => DAYS[new Date(utcTime(c.year, c.month, c.day)).getUTCDay()]!

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`
}

/** strftime directives and what each writes; `%:z` is the offset with a colon. */
const DIRECTIVES: Record<string, (c: WallClock, at: Date) => string> = {
  Y: (c) => yearText(c.year),
  y: (c) => pad(((c.year % 100) + 100) % 100),
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
  a: (c) => weekday(c).slice(0, 3),
  A: (c) => weekday(c),
  j: (c) => pad((utcTime(c.year, c.month, c.day) - utcTime(c.year, 1, 1)) / 86_400_000 + 1, 3),
  z: (c) => offsetText(c.offset, false),
  ':z': (c) => offsetText(c.offset, true),
  Z: (c) => c.zoneName,
  s: (_, at) => String(Math.floor(at.getTime() / 1000)),
  F: (c) => `${yearText(c.year)}-${pad(c.month)}-${pad(c.day)}`,
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
