// The lock-time budget of a pixel, in one place. A worker holds a pixel while it delivers it; when the lock
// expires another worker takes the pixel over (its worker is taken for dead), so every lock must outlast
// the request it covers with room left to record the outcome. ARCHITECTURE.md draws the budget.

/** After a request's timeout, the lock still holds this long, for the outcome to be written. */
export const LOCK_MARGIN_MS = 5000
/** A pixel handed over at its call event may start this late (it waits for a request slot) and keep the full margin. */
const HANDOVER_START_MS = 5000
/** A claimed pixel whose lock leaves less than this for waiting for a request slot has its lock extended… */
const MIN_QUEUE_MS = 2000
/** …to leave this much. */
const QUEUE_ALLOWANCE_MS = 5000

/** The lock of a pixel written already claimed at its call event (handed over in memory). */
export const handoverLock = (now: Date, timeoutMs: number) => new Date(now.getTime() + HANDOVER_START_MS + timeoutMs + LOCK_MARGIN_MS)

/** The lock of a test-fire's pixel, sent at once ahead of the queue. */
export const testFireLock = (now: Date, timeoutMs: number) => new Date(now.getTime() + timeoutMs + LOCK_MARGIN_MS)

/** The lock a claimed pixel needs before its attempt: null when the one it holds leaves room enough. */
export function lockToHold(lockedUntil: number, timeoutMs: number, now = Date.now()): number | null {
  return lockedUntil < now + MIN_QUEUE_MS + timeoutMs + LOCK_MARGIN_MS ? now + QUEUE_ALLOWANCE_MS + timeoutMs + LOCK_MARGIN_MS : null
}

/** The latest moment a request may start and still end, timeout and margin included, within its pixel's lock. */
export const startBy = (lockedUntil: number, timeoutMs: number) => lockedUntil - timeoutMs - LOCK_MARGIN_MS
