// The threaded delivery client against a real receiver on loopback: requests in flight capped, the next
// one sent from the thread's queue, a request that would start too late for its lock not sent at all,
// timeouts, and the target check made on the thread for host names.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOutboundHttp, createThreadedOutboundHttp, type OutboundHttp } from '../../src/delivery/http/outboundHttp.js'

describe('threaded delivery client', () => {
  let server: http.Server
  let url: string
  let open = 0
  let mostOpen = 0
  const seen: string[] = []
  const clients: OutboundHttp[] = []
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url!)
      open++
      mostOpen = Math.max(mostOpen, open)
      const hold = Number(new URL(req.url!, 'http://x').searchParams.get('hold') ?? 0)
      if (hold < 0) return // never answers
      setTimeout(() => {
        open--
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ path: req.url }))
      }, hold)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    for (const c of clients) await c.close()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  const client = (maxInFlight: number, allowed = '127.0.0.1') => {
    const c = createThreadedOutboundHttp(allowed, 8, maxInFlight)
    clients.push(c)
    return c
  }
  const get = (path: string) => ({ method: 'GET', url: `${url}${path}`, headers: {}, body: null })

  it('sends at most maxInFlight at once and the rest from its queue, answering each', async () => {
    const c = client(2)
    mostOpen = 0
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => c.exchange(get(`/cap?hold=80&i=${i}`), 5000)))
    expect(results.map((r) => [r.statusCode, r.error])).toEqual(Array(6).fill([200, null]))
    expect(results.map((r) => JSON.parse(r.body!).path)).toEqual(Array.from({ length: 6 }, (_, i) => `/cap?hold=80&i=${i}`))
    expect(mostOpen).toBe(2)
  })

  it('does not send a request that could only start after its start-by time', async () => {
    const c = client(1)
    const before = seen.length
    const first = c.exchange(get('/late?hold=300&n=1'), 5000)
    const second = c.exchange(get('/late?hold=0&n=2'), 5000, { startBy: Date.now() + 100 })
    const [a, b] = await Promise.all([first, second])
    expect(a.statusCode).toBe(200)
    expect([b.statusCode, b.notSent]).toEqual([null, true])
    expect(b.error).toMatch(/^not sent: waited for a request slot until .*, too late to end within the pixel's lock$/)
    expect(seen.slice(before)).toEqual(['/late?hold=300&n=1'])
  })

  it('sends an urgent request (a test-fire) ahead of those waiting for a slot', async () => {
    const c = client(1)
    const before = seen.length
    const first = c.exchange(get('/order?hold=150&n=1'), 5000)
    await new Promise((r) => setTimeout(r, 30))
    const waiting = c.exchange(get('/order?hold=0&n=2'), 5000)
    const urgent = c.exchange(get('/order?hold=0&n=3'), 5000, { urgent: true })
    await Promise.all([first, waiting, urgent])
    expect(seen.slice(before)).toEqual(['/order?hold=150&n=1', '/order?hold=0&n=3', '/order?hold=0&n=2'])
  })

  it('lets a request under way end when closed, and sends nothing after', async () => {
    const c = createThreadedOutboundHttp('127.0.0.1', 8, 4)
    const out = c.exchange(get('/closing?hold=150'), 5000)
    await new Promise((r) => setTimeout(r, 30))
    await c.close()
    expect((await out).statusCode).toBe(200)
    const after = await c.exchange(get('/closing?hold=0&after=1'), 5000)
    expect([after.notSent, after.error]).toEqual([true, 'not sent: the server is shutting down'])
    expect(seen.filter((u) => u.includes('after=1'))).toEqual([])
  })

  it('times out a receiver that never answers', async () => {
    const c = client(4)
    const r = await c.exchange(get('/hang?hold=-1'), 200)
    expect([r.statusCode, r.error]).toEqual([null, 'timed out after 200 ms'])
    expect(r.durationMs).toBeGreaterThanOrEqual(190)
  })

  it('answers a request that timed out waiting for a connection only once undici gives it one, and never sends it', async () => {
    // one connection: the second request waits in undici's queue behind a receiver that never answers
    const c = createOutboundHttp('127.0.0.1', 1)
    clients.push(c)
    const [first, second] = await Promise.all([c.exchange(get('/hang?hold=-1&n=1'), 300), c.exchange(get('/queued?hold=0'), 100)])
    expect([first.error, second.error]).toEqual(['timed out after 300 ms', 'timed out after 100 ms'])
    // it kept its place (and the caller's slot) until the connection came free, so requests to a slow
    // endpoint cannot pile up in undici's queue beyond the cap on requests in flight
    expect(second.durationMs).toBeGreaterThanOrEqual(290)
    expect(seen.filter((u) => u.startsWith('/queued'))).toEqual([])
  })

  it('refuses a host name whose address is not allowed, on the thread, before connecting', async () => {
    const c = client(4, '127.0.0.2')
    const before = seen.length
    const port = (server.address() as AddressInfo).port
    const r = await c.exchange({ method: 'GET', url: `http://localhost:${port}/refused`, headers: {}, body: null }, 2000)
    expect(r.statusCode).toBeNull()
    expect(r.error).toMatch(/^refused: .*loopback/)
    expect(seen.length).toBe(before)
  })
})
