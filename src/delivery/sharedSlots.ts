import type { DeliverySlots } from './handoff.js'
// The delivery worker's free slots as one counter in shared memory, so the SQLite writer thread takes
// slots for the pixels it hands over inside its transaction, exactly as many as it writes claimed, while
// the main thread takes them for claims and gives them back as deliveries end.

/** Subtracted when the worker stops: the counter stays below zero, so nothing more is granted. */
const STOPPED = 1 << 30

export class SharedSlots implements DeliverySlots {
  constructor(readonly counter: Int32Array) {}

  static create(slots: number): SharedSlots {
    const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
    counter[0] = slots
    return new SharedSlots(counter)
  }

  get free(): number {
    return Math.max(0, Atomics.load(this.counter, 0))
  }

  /** Takes up to `n` free slots; answers how many it took. */
  reserve(n: number): number {
    for (;;) {
      const free = Atomics.load(this.counter, 0)
      const granted = Math.min(n, free)
      if (granted <= 0) return 0
      if (Atomics.compareExchange(this.counter, 0, free, free - granted) === free) return granted
    }
  }

  /** Takes `n` slots even when none is free (a probe must not wait behind the queue it decides about). */
  take(n: number): number {
    Atomics.sub(this.counter, 0, n)
    return n
  }

  release(n: number): void {
    if (n > 0) Atomics.add(this.counter, 0, n)
  }

  /** No slot is granted any more (the worker stops); slots given back later change nothing. */
  stop(): void {
    Atomics.sub(this.counter, 0, STOPPED)
  }
}
