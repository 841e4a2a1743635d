// Group commit for the fast paths on embedded SQLite: items that arrive while a batch is being written
// are written together in the next one, one transaction however many there are. Each caller's promise
// settles after its batch commits (or with its own error: one bad item does not fail the others).

export type ItemResult<O> = { ok: true; value: O } | { ok: false; error: unknown }

interface Waiting<I, O> {
  item: I
  resolve(value: O): void
  reject(error: unknown): void
}

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = []
  private flushing = false
  private scheduled = false

  /** `write` commits a batch and answers for each item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<ItemResult<O>[]>,
    private readonly maxBatch = 500,
  ) {}

  push(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves once everything queued has been written. */
  async drain(): Promise<void> {
    while (this.queue.length || this.flushing || this.scheduled) await new Promise((r) => setTimeout(r, 2))
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return
    this.scheduled = true
    // items pushed in the same turn of the event loop share a batch
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return
    this.flushing = true
    const batch = this.queue.splice(0, this.maxBatch)
    try {
      const results = await this.write(batch.map((w) => w.item))
      batch.forEach((w, i) => {
        const r = results[i]!
        if (r.ok) w.resolve(r.value)
        else w.reject(r.error)
      })
    } catch (e) {
      batch.forEach((w) => w.reject(e))
    } finally {
      this.flushing = false
      if (this.queue.length) this.schedule()
    }
  }
}
