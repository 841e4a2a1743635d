// Group commit for the hot paths (postbacks, call events, delivery outcomes): items that arrive while a
// batch is being written are written together in the next one, one transaction however many there are.
// Each caller's promise settles after its batch commits, or with its own error: a write may refuse single
// items, and when a whole batch fails, its items can be written again one by one so that only the bad
// one fails.

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

  /**
   * `write` commits a batch and answers for each item, in order. When it throws for a batch of several,
   * `retryAlone(error)` says whether to write each item on its own (not when the failure would be the same
   * for every item, a busy database say). `onBatch` is told each batch's size as it is taken (metrics).
   */
  constructor(
    private readonly write: (items: I[]) => Promise<ItemResult<O>[]>,
    private readonly options: { maxBatch?: number; retryAlone?: (error: unknown) => boolean; onBatch?: (size: number) => void } = {},
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
    const batch = this.queue.splice(0, this.options.maxBatch ?? 500)
    this.options.onBatch?.(batch.length)
    try {
      const results = await this.writeBatch(batch.map((w) => w.item))
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

  private async writeBatch(items: I[]): Promise<ItemResult<O>[]> {
    try {
      return await this.write(items)
    } catch (e) {
      if (items.length === 1 || !this.options.retryAlone?.(e)) throw e
      const results: ItemResult<O>[] = []
      for (const item of items) {
        try {
          results.push(...(await this.write([item])))
        } catch (error) {
          results.push({ ok: false, error })
        }
      }
      return results
    }
  }
}
