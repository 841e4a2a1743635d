// How pixels reach the delivery worker of this process: handed over in memory by the call-event stores
// (written already claimed, in slots reserved for them), or told to look for due work in the outbox.
import type { Call, Pixel, Webhook } from '../generated/prisma/client.js'

export interface PixelQueue {
  /** pixels were written PENDING: look for due work now */
  notify(): void
  /** pixels written claimed by this process (slots reserved while writing): deliver them now */
  deliver(jobs: DeliveryJob[]): void
}

/** A pixel with what its delivery needs, in memory. */
export interface DeliveryJob {
  pixel: Pixel
  webhook: Webhook
  call: Call
  /** the call's tags, for rendering the first attempt and checking a timer's matches; null when not loaded */
  tags: Record<string, string> | null
}

/** Room in this process's delivery worker: the stores ask for it while writing pixels. */
export interface DeliverySlots {
  /** up to `n` deliveries this process starts at once; 0 when it runs no worker or is full */
  reserve(n: number): number
  /** slots reserved for pixels that were not written after all */
  release(n: number): void
}

/** No delivery worker here (an API-only instance): nothing is handed over. */
export const NO_SLOTS: DeliverySlots = { reserve: () => 0, release: () => {} }

/** The slots, counting in `held` what is taken through them. */
export function heldSlots(slots: DeliverySlots, held: { reserved: number }): DeliverySlots {
  return {
    reserve: (n) => {
      const taken = slots.reserve(n)
      held.reserved += taken
      return taken
    },
    release: (n) => slots.release(n),
  }
}
