// Live streams (SSE responses, graphql-ws sockets) by the API key that opened them, so that revoking a key
// ends them: at once on the instance that revoked it, through the bus on the others (Redis), and on any
// instance within API_KEY_CACHE_MS by looking the keys of open streams up again.
import type { Logger } from '../core/logger.js'
import type { PubSub } from './bus.js'
import type { Db } from '../core/db.js'

export class OpenStreams {
  private readonly byKey = new Map<string, Set<() => void>>()
  private timer: NodeJS.Timeout | null = null
  private listening: AsyncIterator<unknown> | null = null

  /** Registers how to end one stream opened with the key; answers the function that forgets it (the stream ended). */
  hold(apiKeyId: string, end: () => void): () => void {
    let ends = this.byKey.get(apiKeyId)
    if (!ends) this.byKey.set(apiKeyId, (ends = new Set()))
    ends.add(end)
    return () => {
      ends.delete(end)
      if (ends.size === 0 && this.byKey.get(apiKeyId) === ends) this.byKey.delete(apiKeyId)
    }
  }

  /** The key was revoked: every stream it opened here ends. */
  revoked(apiKeyId: string): void {
    const ends = this.byKey.get(apiKeyId)
    if (!ends) return
    this.byKey.delete(apiKeyId)
    for (const end of ends) end()
  }

  /** the keys with streams open here */
  get keyIds(): string[] {
    return [...this.byKey.keys()]
  }

  /**
   * Ends streams of keys revoked elsewhere: told by the bus (`apiKeyRevoked`, across instances over Redis),
   * and failing that found by reading the open streams' keys every `checkMs`.
   */
  watch(db: Db, pubsub: PubSub, checkMs: number, logger: Logger, onRevoked: (apiKeyId: string) => void): void {
    const revokedElsewhere = pubsub.subscribe('apiKeyRevoked')
    this.listening = revokedElsewhere[Symbol.asyncIterator]()
    void (async () => {
      for await (const { apiKeyId } of revokedElsewhere) {
        onRevoked(apiKeyId)
        this.revoked(apiKeyId)
      }
    })().catch((e) => logger.error({ err: e }, 'listening for revoked API keys failed'))
    this.timer = setInterval(() => {
      const ids = this.keyIds
      if (ids.length === 0) return
      db.apiKey
        .findMany({ where: { id: { in: ids }, revokedAt: { not: null } }, select: { id: true } })
        .then((revoked) => revoked.forEach(({ id }) => this.revoked(id)))
        .catch((e) => logger.error({ err: e }, 'checking the keys of open streams failed'))
    }, checkMs)
    this.timer.unref()
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    void this.listening?.return?.()
  }
}

/**
 * A subscription's events until it ends by itself or the key that opened it is revoked (then it completes:
 * an SSE response ends, graphql-ws sends `complete`).
 */
export function untilRevoked<T>(source: AsyncIterable<T>, streams: OpenStreams, apiKeyId: string): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]()
  let endNow: (r: IteratorResult<T>) => void = () => {}
  const ended = new Promise<IteratorResult<T>>((resolve) => (endNow = resolve))
  const done = { done: true, value: undefined } as IteratorResult<T>
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    forget()
    endNow(done)
    void it.return?.()
  }
  const forget = streams.hold(apiKeyId, finish)
  return {
    next: async () => {
      if (finished) return done
      const r = await Promise.race([it.next(), ended])
      if (r.done) finish()
      return r
    },
    return: async () => {
      finish()
      return done
    },
    throw: async (e) => {
      finish()
      throw e
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}
