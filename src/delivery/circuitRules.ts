// The circuit breaker's rules, pure: its settings and their defaults (with the anchors they were chosen
// against), when it trips, how long it waits before a probe, when it gives up and disables the webhook,
// and the words a held pixel carries. circuitBreaker.ts applies them.
import type { Webhook } from '../generated/prisma/client.js'
import { badInput } from '../core/errors.js'

export const CIRCUIT_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN', 'DISABLED'] as const
export type CircuitState = (typeof CIRCUIT_STATES)[number]

export interface BreakerSettings {
  /** false: the webhook never trips (410 Gone still disables it when disableOnGone) */
  enabled: boolean
  /** trips when at least this share of the window's attempts failed… (Convoy: 70 %) */
  failureRatePercent: number
  /** …and the window holds at least this many attempts (Convoy: 10) */
  minAttempts: number
  /** the window, whole minutes (Convoy: 5 minutes) */
  windowSeconds: number
  /** wait after a trip before one probe; doubled after each failed probe… */
  cooldownSeconds: number
  /** …up to this */
  maxCooldownSeconds: number
  /** disabled when failing continuously this long (Svix: 5 days); null: never */
  disableAfterFailingSeconds: number | null
  /** disabled after this many trips in a row without the circuit closing (Convoy: 10); null: never */
  disableAfterTrips: number | null
  /** a 410 Gone answer disables the webhook at once (Standard Webhooks) */
  disableOnGone: boolean
}

/**
 * Defaults a user is not surprised by: trips on Convoy's numbers, probes every 30 s at first and at most
 * every 15 minutes while the endpoint stays down (nothing is dropped meanwhile: pixels wait), disables only
 * after Svix's five days of continuous failure or when the endpoint answers 410 Gone. Convoy's "disable
 * after 10 trips" would disable a webhook whose endpoint was down for about an hour: off by default.
 */
export const BREAKER_DEFAULTS: BreakerSettings = {
  enabled: true,
  failureRatePercent: 70,
  minAttempts: 10,
  windowSeconds: 300,
  cooldownSeconds: 30,
  maxCooldownSeconds: 900,
  disableAfterFailingSeconds: 5 * 86_400,
  disableAfterTrips: null,
  disableOnGone: true,
}

const BOUNDS: Record<Exclude<keyof BreakerSettings, 'enabled' | 'disableOnGone'>, [number, number]> = {
  failureRatePercent: [1, 100],
  minAttempts: [1, 100_000],
  windowSeconds: [60, 86_400],
  cooldownSeconds: [1, 86_400],
  maxCooldownSeconds: [1, 7 * 86_400],
  disableAfterFailingSeconds: [60, 90 * 86_400],
  disableAfterTrips: [1, 1000],
}

/** A webhook's settings: its own over the defaults. */
export function breakerSettings(webhook: Pick<Webhook, 'circuitBreaker'>): BreakerSettings {
  return { ...BREAKER_DEFAULTS, ...((webhook.circuitBreaker as Partial<BreakerSettings> | null) ?? {}) }
}

/** Checks what a user sets (fields left out keep the default); answers what is stored, or null for all defaults. */
export function checkBreakerSettings(input: Partial<Record<keyof BreakerSettings, unknown>> | null): Partial<BreakerSettings> | null {
  if (input === null) return null
  const out: Partial<BreakerSettings> = {}
  for (const [key, value] of Object.entries(input) as [keyof BreakerSettings, unknown][]) {
    // null: the default (for the two "never" settings, null is never)
    if (value === undefined || (value === null && key !== 'disableAfterFailingSeconds' && key !== 'disableAfterTrips')) continue
    const field = `circuitBreaker.${key}`
    if (key === 'enabled' || key === 'disableOnGone') {
      if (typeof value !== 'boolean') throw badInput(field, 'must be true or false')
      out[key] = value
      continue
    }
    const bounds = BOUNDS[key]
    if (!bounds) throw badInput(field, 'is not a circuit breaker setting')
    if (value === null && (key === 'disableAfterFailingSeconds' || key === 'disableAfterTrips')) {
      out[key] = null
      continue
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds[0] || value > bounds[1])
      throw badInput(
        field,
        `must be an integer from ${bounds[0]} to ${bounds[1]}${key === 'disableAfterFailingSeconds' || key === 'disableAfterTrips' ? ', or null (never)' : ''}`,
      )
    if (key === 'windowSeconds' && value % 60 !== 0) throw badInput(field, 'must be whole minutes (a multiple of 60): health is counted per minute')
    ;(out as Record<string, unknown>)[key] = value
  }
  const merged = { ...BREAKER_DEFAULTS, ...out }
  if (merged.maxCooldownSeconds < merged.cooldownSeconds)
    throw 'maxCooldownSeconds' in out
      ? badInput('circuitBreaker.maxCooldownSeconds', `must not be less than cooldownSeconds (${merged.cooldownSeconds})`)
      : badInput('circuitBreaker.cooldownSeconds', `must not be more than maxCooldownSeconds (${merged.maxCooldownSeconds}); set maxCooldownSeconds too`)
  return Object.keys(out).length ? out : null
}

/** The attempts and breaker failures of a webhook's window. */
export interface WindowCounts {
  attempts: number
  failures: number
}

export function shouldTrip(window: WindowCounts, s: BreakerSettings): boolean {
  return s.enabled && window.attempts >= s.minAttempts && window.failures * 100 >= s.failureRatePercent * window.attempts
}

/** The wait before the probe after trip number `trips` (1 for the first): doubled per trip, capped. */
export function cooldownMs(trips: number, s: BreakerSettings): number {
  return Math.min(s.cooldownSeconds * 2 ** Math.max(0, trips - 1), s.maxCooldownSeconds) * 1000
}

/** Why the webhook must be disabled now (the trip count and failure time as they will be), or null. */
export function disableReason(s: BreakerSettings, trips: number, failingSince: Date | null, now: Date): string | null {
  if (s.disableAfterTrips !== null && trips >= s.disableAfterTrips)
    return `tripped ${trips} times in a row without recovering (disableAfterTrips ${s.disableAfterTrips})`
  if (s.disableAfterFailingSeconds !== null && failingSince && now.getTime() - failingSince.getTime() >= s.disableAfterFailingSeconds * 1000)
    return `failing continuously since ${failingSince.toISOString()} (disableAfterFailingSeconds ${s.disableAfterFailingSeconds})`
  return null
}

export const tripReason = (w: WindowCounts, s: BreakerSettings) =>
  `${w.failures} of ${w.attempts} attempts failed in the last ${s.windowSeconds / 60} minute(s) (trips at ${s.failureRatePercent} % of at least ${s.minAttempts})`

/** What a pixel that waits for the circuit says. */
export const heldNote = (w: Pick<Webhook, 'circuitChangedAt' | 'circuitReason' | 'circuitProbeAt'>) =>
  `waiting: the webhook's circuit is open${w.circuitChangedAt ? ` since ${w.circuitChangedAt.toISOString()}` : ''}${w.circuitReason ? ` (${w.circuitReason})` : ''}; one probe goes${w.circuitProbeAt ? ` at ${w.circuitProbeAt.toISOString()}` : ' soon'}, and the waiting pixels follow when it succeeds`

/** What a pixel of a disabled webhook says (kept FAILED, for replayPixels). */
export const disabledNote = (w: Pick<Webhook, 'circuitChangedAt' | 'circuitReason'>) =>
  `not sent: the webhook was disabled by its circuit breaker${w.circuitChangedAt ? ` at ${w.circuitChangedAt.toISOString()}` : ''}${w.circuitReason ? ` (${w.circuitReason})` : ''}; enableWebhook re-enables it and replayPixels sends what waited`

/** Whether new pixels of the webhook wait instead of going out. */
export const circuitHolds = (w: Pick<Webhook, 'circuitState'>) => w.circuitState === 'OPEN' || w.circuitState === 'HALF_OPEN'
