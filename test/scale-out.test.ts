// Scale-out: two API processes (ROLE=api) and two delivery workers (ROLE=worker), each started as `npm start`
// is, on one database and one Redis. Call events go to both APIs (one call's events to either), pixels are
// delivered once each by whichever worker claims them, live streams on one API see deliveries made by the
// workers, and a worker killed with SIGKILL mid-delivery loses nothing: the other takes its pixels over,
// and only pixels being delivered at the kill arrive twice (with the same webhook-id).
import type { ChildProcess } from 'node:child_process'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRinghook, type Started } from '../bench/process.js'
import { collect, sleep, startTestApp, type TestApp } from './helpers/app.js'
import { createTestDatabase, redisUrl, testProvider, type TestDatabase } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook } from './fixtures.js'

type Role = 'api' | 'worker'
const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode ? resolve(null) : child.once('exit', resolve)))

describe(`scale-out: 2 api + 2 worker processes on one ${testProvider} database and Redis`, () => {
  let database: TestDatabase
  /** in this process, for setting up campaigns and reading the pixels back (it serves no call events) */
  let admin: TestApp
  let sink: Receiver
  const processes: { role: Role; process: Started }[] = []
  const clients: Client[] = []
  const apis = () => processes.filter((p) => p.role === 'api').map((p) => p.process.url)

  beforeAll(async () => {
    database = await createTestDatabase()
    admin = await startTestApp({ env: { ROLE: 'api', REDIS_URL: redisUrl }, database })
    sink = await startReceiver()
    const roles: Role[] = ['api', 'api', 'worker', 'worker']
    const started = await Promise.all(
      roles.map((role) =>
        startRinghook({
          PORT: '0',
          HOST: '127.0.0.1',
          DATABASE_URL: database.url,
          ...(testProvider === 'postgres' ? { JOBS_URL: database.url } : {}),
          REDIS_URL: redisUrl,
          ROLE: role,
          DEMO_COMPANY: 'off',
          LOG_LEVEL: 'error',
          ALLOWED_TARGETS: '127.0.0.1',
          PIXEL_POLL_MS: '50',
          PIXEL_LOCK_MS: '1500',
          // few deliveries a worker: with a backlog, both workers are busy
          PIXEL_CONCURRENCY: '2',
        }),
      ),
    )
    started.forEach((process, i) => processes.push({ role: roles[i]!, process }))
  }, 120_000)
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()))
    for (const p of processes) {
      p.process.child.kill('SIGTERM')
      await exited(p.process.child)
    }
    await sink?.close()
    await admin?.close()
    await database?.drop()
  })

  async function callEvent(api: string, event: object) {
    const res = await fetch(`${api}/call-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.company.adminKey}` },
      body: JSON.stringify(event),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json()) as { call: { uuid: string } }
  }

  /** Waits (bounded) until the campaign has `count` pixels, all SUCCEEDED; answers them with their attempts. */
  async function allSucceeded(campaignId: string, count: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const pixels = await admin.app.db.pixel.findMany({ where: { campaignId }, include: { attempts: true } })
      if (pixels.length === count && pixels.every((p) => p.status === 'SUCCEEDED')) return pixels
      if (Date.now() > deadline) throw new Error(`not all delivered: ${JSON.stringify(pixels.map((p) => p.status))}`)
      await sleep(50)
    }
  }

  const arrivalsOf = (path: string) => {
    const counts = new Map<string, number>()
    for (const r of sink.received(path)) counts.set(String(r.headers['webhook-id']), (counts.get(String(r.headers['webhook-id'])) ?? 0) + 1)
    return counts
  }

  it('takes call events on both APIs and delivers each pixel once, seen live on either API', async () => {
    const campaignId = await createCampaign(admin, 'spread')
    await createWebhook(admin, { campaignId, name: 'start', url: `${sink.url}/spread-start`, timeoutMs: 1000 })
    await createWebhook(admin, { campaignId, name: 'end', trigger: 'CALL_END', url: `${sink.url}/spread-end`, timeoutMs: 1000 })
    // a live stream on the second API: the workers' deliveries reach it through Redis
    const client = createClient({
      url: `${apis()[1]!.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin.company.adminKey}` },
      retryAttempts: 0,
    })
    clients.push(client)
    const fired = collect<{ pixelFired: { id: string; status: string } }>(client, 'subscription { pixelFired { id status } }')
    await sleep(300)

    const calls = 12
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const [a, b] = i % 2 ? [apis()[0]!, apis()[1]!] : [apis()[1]!, apis()[0]!]
        const uuid = `spread-${i}`
        await callEvent(a, { event: 'start', campaignId, uuid, callerNumber: `+1415555${String(100 + i).padStart(4, '0')}` })
        await callEvent(b, { event: 'answered', uuid })
        await callEvent(b, { event: 'end', uuid })
      }),
    )
    const pixels = await allSucceeded(campaignId, calls * 2, 20_000)
    expect(pixels.map((p) => p.attempts.length)).toEqual(Array(calls * 2).fill(1))
    // each pixel arrived exactly once: no duplicates without a kill
    const arrivals = new Map([...arrivalsOf('/spread-start'), ...arrivalsOf('/spread-end')])
    expect([...arrivals.keys()].sort()).toEqual(pixels.map((p) => p.id).sort())
    expect([...arrivals.values()]).toEqual(Array(calls * 2).fill(1))

    const deadline = Date.now() + 10_000
    const succeeded = () => new Set(fired.events.filter((e) => e.pixelFired.status === 'SUCCEEDED').map((e) => e.pixelFired.id))
    while (succeeded().size < calls * 2 && Date.now() < deadline) await sleep(50)
    expect([...succeeded()].sort()).toEqual(pixels.map((p) => p.id).sort())
    expect(fired.errors).toEqual([])
  })

  it('loses nothing when one worker is killed (SIGKILL) mid-run; only pixels in flight at the kill arrive twice', async () => {
    sink.on('/slow', { delayMs: 500 })
    const campaignId = await createCampaign(admin, 'kill')
    await createWebhook(admin, { campaignId, name: 'slow', url: `${sink.url}/slow`, timeoutMs: 1000 })
    const first = 24
    await Promise.all(
      Array.from({ length: first }, (_, i) =>
        callEvent(apis()[i % 2]!, { event: 'start', campaignId, uuid: `kill-${i}`, callerNumber: `+1415555${String(200 + i).padStart(4, '0')}` }),
      ),
    )
    // both workers hold a backlog's share: once more requests wait at the receiver than one worker sends
    // at once (PIXEL_CONCURRENCY), both have some there; then one is killed
    const deadline = Date.now() + 15_000
    while (sink.unanswered('/slow') < 3 && Date.now() < deadline) await sleep(5)
    expect(sink.unanswered('/slow')).toBeGreaterThanOrEqual(3)
    const victim = processes.find((p) => p.role === 'worker')!
    victim.process.child.kill('SIGKILL')
    await exited(victim.process.child)
    processes.splice(processes.indexOf(victim), 1)
    // what was being delivered at the kill (the killed worker's pixels among them)
    const delivering = new Set((await admin.app.db.pixel.findMany({ where: { campaignId, status: 'DELIVERING' } })).map((p) => p.id))
    await sleep(200)
    // its requests waiting at the receiver were cut off
    const cutOff = new Set(sink.aborted.filter((r) => r.path === '/slow').map((r) => String(r.headers['webhook-id'])))
    expect(cutOff.size).toBeGreaterThan(0)

    // call events go on after the kill
    const later = 6
    for (let i = 0; i < later; i++) {
      await callEvent(apis()[i % 2]!, { event: 'start', campaignId, uuid: `kill-late-${i}`, callerNumber: `+1415555${String(300 + i).padStart(4, '0')}` })
    }
    // the killed worker's locks pass (its claims' and its attempts' budgets) and the other worker takes over
    const pixels = await allSucceeded(campaignId, first + later, 40_000)
    expect(pixels.map((p) => p.attempts.length)).toEqual(Array(first + later).fill(1))
    const arrivals = arrivalsOf('/slow')
    expect([...arrivals.keys()].sort()).toEqual(pixels.map((p) => p.id).sort())
    const twice = [...arrivals].filter(([, n]) => n > 1).map(([id]) => id)
    // a pixel arrives twice only if it was being delivered at the kill; each one cut off was sent again
    for (const id of twice) expect(delivering.has(id), `${id} arrived twice`).toBe(true)
    for (const id of cutOff) expect(arrivals.get(id)).toBe(2)
  })
})
