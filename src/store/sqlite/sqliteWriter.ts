// The embedded database's writer thread. Call events, delivery outcomes and claims are SQLite
// transactions, about a quarter of the main thread's time at full load; they run on a thread of their
// own (sqliteWriterThread.ts), on one connection, while the main thread takes requests. The stores still
// group-commit on the main thread: a batch is one message there. The thread writes the batches that
// arrived in one of its turns in one transaction (a savepoint each) and answers them in one message. Errors come back as
// errors: a refused item as the RinghookError it was, a failed batch with its SQLite code (so a busy
// database is still known as one).
import type Database from 'better-sqlite3'
import { isBusy, withBusyRetry } from './sqliteBusy.js'
import { startThread } from '../../core/threads.js'
import type { WriterOp, WriterOps } from './writerOps.js'
import { fromWire, toWire, type WireError } from './wire.js'

export type WriterRequest<Op extends string = WriterOp> = { id: number; op: Op; args: unknown[] }
export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError }

export const failedReply = (id: number, e: unknown): WriterReply => ({ id, ok: false, error: toWire(e) })

/** The writer thread's transaction for one turn, shared by the batches that arrived in it. */
export interface WriterTurn {
  /** runs if the turn's transaction does not commit (its work is undone) */
  onRollback(undo: () => void): void
}

/**
 * The writes of one turn of the writer thread, in one immediate transaction with a savepoint each (each
 * write is itself a better-sqlite3 transaction function, nested here): a write that fails is undone and
 * answered alone, the others commit together. A busy database fails the turn, which is tried again after a
 * short pause. An error after which SQLite rolled the whole transaction back (a full disk, an I/O error)
 * fails the turn for good: the writes after it would otherwise run on their own, outside the turn, and
 * its commit fail. When the turn does not commit, every write is answered with the error and its
 * `onRollback` hooks run (each try of the turn registers its own).
 */
export async function writeTurn<Op extends string>(
  db: Database.Database,
  requests: WriterRequest<Op>[],
  writes: { [K in Op]?: (turn: WriterTurn, ...args: never[]) => unknown },
): Promise<WriterReply[]> {
  try {
    return await withBusyRetry(() => {
      const undo: (() => void)[] = []
      const turn: WriterTurn = { onRollback: (fn) => undo.push(fn) }
      try {
        return db
          .transaction(() =>
            requests.map(({ id, op, args }): WriterReply => {
              try {
                return { id, ok: true, value: writes[op]!(turn, ...(args as never[])) }
              } catch (e) {
                if (isBusy(e) || !db.inTransaction) throw e
                return failedReply(id, e)
              }
            }),
          )
          .immediate()
      } catch (e) {
        for (const fn of undo) fn()
        throw e
      }
    })
  } catch (e) {
    return requests.map(({ id }) => failedReply(id, e))
  }
}

export class SqliteWriter {
  private readonly thread
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  private nextId = 0
  private ended: Error | null = null
  private closing = false
  private started = false

  constructor(file: string) {
    this.thread = startThread(import.meta.url, 'sqliteWriterThread', { file })
    // the answers of one turn of the thread come together
    this.thread.on('message', (replies: WriterReply[]) => {
      for (const reply of replies) {
        const waiting = this.pending.get(reply.id)
        if (!waiting) continue
        this.pending.delete(reply.id)
        if (reply.ok) waiting.resolve(reply.value)
        else waiting.reject(fromWire(reply.error))
      }
      if (this.pending.size === 0) this.thread.unref()
    })
    const fail = (error: Error) => {
      this.ended ??= error
      for (const waiting of this.pending.values()) waiting.reject(error)
      this.pending.clear()
    }
    let failure = ''
    this.thread.on('error', (e) => (failure = `: ${e.message}`))
    // the thread ending by itself is a bug: what it was writing is refused (not acknowledged, so sent again;
    // pixels under way are taken over when their locks expire) and the process ends, as for an uncaught
    // error; before it was ready, ready() rejects and the server does not start
    this.thread.on('exit', (code) => {
      if (this.closing) return
      const error = new Error(`the SQLite writer thread exited (code ${code})${failure}`)
      fail(error)
      if (this.started) throw error
    })
  }

  /** Runs `op` on the writer thread; answers what it answered there, or its error. */
  call<K extends WriterOp>(op: K, ...args: Parameters<WriterOps[K]>): Promise<ReturnType<WriterOps[K]>> {
    if (this.ended) return Promise.reject(this.ended)
    return new Promise<ReturnType<WriterOps[K]>>((resolve, reject) => {
      const id = ++this.nextId
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      // an answer awaited keeps the process alive
      if (this.pending.size === 1) this.thread.ref()
      this.thread.postMessage({ id, op, args } satisfies WriterRequest)
    })
  }

  /** Resolves once the thread has opened its connection (rejects when it could not). */
  async ready(): Promise<void> {
    await this.call('ready')
    this.started = true
  }

  /** Closes the thread's connection and ends the thread (the stores drain their queues first). */
  async close(): Promise<void> {
    if (this.ended) {
      this.closing = true
      await this.thread.terminate()
      return
    }
    await this.call('close').catch(() => {})
    this.closing = true
    this.ended = new Error('the SQLite writer is closed')
    await this.thread.terminate()
  }
}
