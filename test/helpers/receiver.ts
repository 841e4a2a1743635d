// A real HTTP receiver for webhooks on 127.0.0.1: records every request; answers by a handler per path.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Db } from '../../src/core/db.js'

export interface Received {
  method: string
  path: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  at: number
}

export type Reply = { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number; hang?: boolean }

export interface Receiver {
  url: string
  port: number
  requests: Received[]
  /** requests whose connection closed before they were answered (their sender died or gave up) */
  aborted: Received[]
  /** requests to a path received and not answered yet */
  unanswered(path: string): number
  /** the most requests to a path that were open at once */
  mostOpen(path: string): number
  /** answers for a path, used in turn; the last one repeats */
  on(path: string, ...replies: Reply[]): void
  received(path: string): Received[]
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = []
  const aborted: Received[] = []
  const open = new Set<Received>()
  const mostOpen = new Map<string, number>()
  const replies = new Map<string, Reply[]>()
  const hanging = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const url = req.url ?? '/'
      const path = url.split('?')[0]!
      const received = { method: req.method ?? '', path, url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      requests.push(received)
      open.add(received)
      const now = [...open].filter((r) => r.path === path).length
      if (now > (mostOpen.get(path) ?? 0)) mostOpen.set(path, now)
      res.on('close', () => {
        open.delete(received)
        if (!res.writableFinished) aborted.push(received)
      })
      const queue = replies.get(path) ?? []
      const reply = (queue.length > 1 ? queue.shift() : queue[0]) ?? {}
      if (reply.hang) {
        hanging.add(res)
        return
      }
      setTimeout(() => {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
        res.end(reply.body ?? '{"ok":true}')
      }, reply.delayMs ?? 0)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    aborted,
    unanswered: (path) => [...open].filter((r) => r.path === path).length,
    mostOpen: (path) => mostOpen.get(path) ?? 0,
    on: (path, ...r) => replies.set(path, r),
    received: (path) => requests.filter((r) => r.path === path),
    close: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Waits (bounded) until the call has `count` pixels, all in a final state; returns them oldest first with attempts. */
export async function settledPixels(t: { app: { db: Db } }, callUuid: string, count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pixels = await t.app.db.pixel.findMany({
      where: { call: { uuid: callUuid } },
      include: { attempts: { orderBy: { number: 'asc' } } },
      orderBy: { createdAt: 'asc' },
    })
    if (pixels.length >= count && pixels.every((p) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(p.status))) return pixels
    if (Date.now() > deadline) throw new Error(`pixels not settled: ${JSON.stringify(pixels.map((p) => [p.trigger, p.status, p.attemptCount]))}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
