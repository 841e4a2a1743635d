// Subscriptions of one company with the same operation and variables share one execution: the first one
// subscribes (its events are resolved once, the database read once), the others receive the same results.
// Each subscriber keeps a stream of its own, so what the other plugins do per subscriber (the stream ending
// with its key, the error shape) still applies to each. Tenancy holds before anything is shared: the key
// starts with the company, and every topic the subscriptions read is the company's own.
import type { ExecutionResult } from 'graphql'
import { print } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { MAX_NESTING, nestingDepth } from '../core/json.js'
import type { Context } from './context.js'

type Result = ExecutionResult
type Subscribed = AsyncIterable<Result> | Result

/** One subscriber's stream: the results the shared execution pushes, until it ends or the subscriber leaves. */
class Subscriber implements AsyncIterableIterator<Result> {
  private readonly queue: Result[] = []
  private waiting: ((r: IteratorResult<Result>) => void) | null = null
  private done = false

  constructor(private readonly leave: (s: Subscriber) => void) {}

  push(value: Result): void {
    if (this.done) return
    if (this.waiting) {
      const w = this.waiting
      this.waiting = null
      w({ value, done: false })
    } else this.queue.push(value)
  }

  end(): void {
    if (this.done) return
    this.done = true
    this.waiting?.({ value: undefined, done: true })
    this.waiting = null
  }

  next(): Promise<IteratorResult<Result>> {
    const value = this.queue.shift()
    if (value !== undefined) return Promise.resolve({ value, done: false })
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => (this.waiting = resolve))
  }

  return(): Promise<IteratorResult<Result>> {
    this.end()
    this.queue.length = 0
    this.leave(this)
    return Promise.resolve({ value: undefined, done: true })
  }

  throw(e: unknown): Promise<IteratorResult<Result>> {
    void this.return()
    return Promise.reject(e)
  }

  [Symbol.asyncIterator]() {
    return this
  }
}

/** The executions under way, by company, operation and variables. */
class Executions {
  private readonly groups = new Map<string, { subscribers: Set<Subscriber>; started: Promise<Subscribed>; source: AsyncIterator<Result> | null }>()

  join(key: string, start: () => Promise<Subscribed> | Subscribed): Promise<Subscribed> {
    let group = this.groups.get(key)
    if (!group) {
      const started = Promise.resolve().then(start)
      const g = { subscribers: new Set<Subscriber>(), started, source: null as AsyncIterator<Result> | null }
      this.groups.set(key, (group = g))
      started.then(
        (result) => {
          if (!isAsyncIterable(result)) {
            this.groups.delete(key)
            return
          }
          g.source = result[Symbol.asyncIterator]()
          void this.pump(key, g)
        },
        () => this.groups.delete(key),
      )
    }
    const g = group
    return g.started.then((result) => {
      // a refusal (an unknown campaign, say) is each subscriber's answer, not a stream
      if (!isAsyncIterable(result)) return result
      const subscriber = new Subscriber((s) => this.leave(key, g, s))
      g.subscribers.add(subscriber)
      return subscriber
    })
  }

  private async pump(key: string, g: { subscribers: Set<Subscriber>; source: AsyncIterator<Result> | null }): Promise<void> {
    try {
      for (;;) {
        const r = await g.source!.next()
        if (r.done) break
        for (const s of g.subscribers) s.push(r.value)
      }
    } finally {
      if (this.groups.get(key) === g) this.groups.delete(key)
      for (const s of g.subscribers) s.end()
    }
  }

  private leave(key: string, g: { subscribers: Set<Subscriber>; source: AsyncIterator<Result> | null }, s: Subscriber): void {
    g.subscribers.delete(s)
    if (g.subscribers.size > 0) return
    // the last one left: the execution stops
    if (this.groups.get(key) === g) this.groups.delete(key)
    void g.source?.return?.()
  }
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<Result> => value !== null && typeof value === 'object' && Symbol.asyncIterator in value

/** Variables as a key: the same values in any key order are the same key. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
    .join(',')}}`
}

export function useSharedSubscriptions(): Plugin<Context> {
  const executions = new Executions()
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const companyId = args.contextValue.auth?.companyId
      // variables that nest deep are refused by coercion anyway: not worth a key
      if (!companyId || nestingDepth(args.variableValues ?? {}) > MAX_NESTING) return
      const key = `${companyId}\u0000${args.operationName ?? ''}\u0000${stableJson(args.variableValues ?? {})}\u0000${print(args.document)}`
      setSubscribeFn((subscribeArgs) => executions.join(key, () => subscribeFn(subscribeArgs) as Promise<Subscribed>) as never)
    },
  }
}
