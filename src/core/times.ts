// Times from outside: ISO 8601 text checked strictly (a date that does not exist, such as 2026-02-30, is
// refused rather than rolled over into March), and kept within windows that every store can hold.

/** a date and a time of day, with seconds, fractions and an offset optional */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-](\d{2}):?(\d{2}))?$/

/** ISO 8601 text -> the moment, or null when it is not such a time or names a date or time of day that does not exist. */
export function parseIsoTime(text: string): Date | null {
  const m = ISO_TIME.exec(text)
  if (!m) return null
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number]
  // Date rolls 30 February over into March: the parts must come back as they were given (setUTCFullYear,
  // unlike Date.UTC, keeps the years 0 to 99 as they are)
  const asUtc = new Date(0)
  asUtc.setUTCFullYear(year, month - 1, day)
  asUtc.setUTCHours(hour, minute, second)
  const exists =
    asUtc.getUTCFullYear() === year &&
    asUtc.getUTCMonth() === month - 1 &&
    asUtc.getUTCDate() === day &&
    asUtc.getUTCHours() === hour &&
    asUtc.getUTCMinutes() === minute &&
    asUtc.getUTCSeconds() === second
  if (!exists || (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59))) return null
  const moment = new Date(text)
  return Number.isNaN(moment.getTime()) ? null : moment
}

/** The widest window of any time the API takes (filters included): what both databases store as given. */
export const TIME_RANGE = { earliest: new Date('1970-01-01T00:00:00Z'), latest: new Date('9999-12-31T23:59:59.999Z') }

/** Call events happen in this window: not before 2000, not more than a day ahead of this server's clock. */
export const EVENT_TIME_WINDOW = { earliest: new Date('2000-01-01T00:00:00Z'), aheadMs: 24 * 3600 * 1000 }

/** Why a call event's time is refused, or null: outside EVENT_TIME_WINDOW. */
export function eventTimeProblem(at: Date, now = new Date()): string | null {
  if (at < EVENT_TIME_WINDOW.earliest) return `${at.toISOString()} is before 2000-01-01`
  if (at.getTime() > now.getTime() + EVENT_TIME_WINDOW.aheadMs)
    return `${at.toISOString()} is more than a day ahead of this server's clock (${now.toISOString()})`
  return null
}

/** [after, before): inclusive start, exclusive end; undefined when neither is given. */
export function timeRange(after: Date | null | undefined, before: Date | null | undefined): { gte?: Date; lt?: Date } | undefined {
  if (!after && !before) return undefined
  return { ...(after ? { gte: after } : {}), ...(before ? { lt: before } : {}) }
}
