// The delivery worker as a process of its own (ROLE=worker) beside an API instance (ROLE=api), sharing the
// database: killed with SIGKILL mid-delivery and started again, every pixel still reaches a final state.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, startTestApp, type TestApp } from './helpers/app.js'
import { testProvider } from './helpers/db.js'
import { startReceiver, type Receiver } from './helpers/receiver.js'
import { createCampaign, createWebhook, startCall } from './fixtures.js'

const root = path.resolve(import.meta.dirname, '..')

/** every worker started, so none outlives the test file (a test that times out leaves its finally blocks unrun) */
const started = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL')
})

function startWorker(databaseUrl: string, role: 'worker' | 'all' = 'worker', extraEnv: Record<string, string> = {}): Promise<ChildProcess & { url?: string }> {
  // node itself, not the tsx wrapper: SIGKILL must reach the process that delivers
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ...(databaseUrl.startsWith('postgres') ? { JOBS_URL: databaseUrl } : {}),
      ROLE: role,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      ALLOWED_TARGETS: '127.0.0.1',
      PIXEL_POLL_MS: '50',
      PIXEL_LOCK_MS: '1500',
      DEMO_COMPANY: 'off',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.add(child)
  child.once('exit', () => started.delete(child))
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 30_000)
    child.stdout!.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/[^\s/]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Object.assign(child, { url: m[1] }))
      }
    })
    child.stderr!.on('data', (d) => (out += d))
    child.on('exit', (code, signal) => signal !== 'SIGKILL' && signal !== 'SIGTERM' && reject(new Error(`worker exited ${code}: ${out}`)))
  })
}

/** Waits (at most 20 s) until every pixel of the campaign has SUCCEEDED; answers them with their attempts. */
async function allSucceeded(api: TestApp, campaignId: string) {
  const until = Date.now() + 20_000
  for (;;) {
    const pixels = await api.app.db.pixel.findMany({ where: { campaignId }, include: { attempts: true } })
    if (pixels.every((p) => p.status === 'SUCCEEDED')) return pixels
    if (Date.now() > until) throw new Error(`not all delivered: ${JSON.stringify(pixels.map((p) => p.status))}`)
    await sleep(50)
  }
}

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode ? resolve(null) : child.once('exit', resolve)))

describe(`worker process faults on ${testProvider}`, () => {
  let api: TestApp
  let sink: Receiver
  beforeAll(async () => {
    api = await startTestApp({ env: { ROLE: 'api' } })
    sink = await startReceiver()
  })
  afterAll(async () => {
    for (const child of started) child.kill('SIGKILL')
    await api?.close()
    await sink?.close()
  })

  it('loses no pixel when the worker is killed (SIGKILL) mid-delivery and started again', async () => {
    sink.on('/slow', { delayMs: 800 })
    const campaignId = await createCampaign(api)
    await createWebhook(api, { campaignId, name: 'slow', url: `${sink.url}/slow`, timeoutMs: 1000 })
    const calls = []
    for (let i = 0; i < 5; i++) calls.push(await startCall(api, { campaignId, uuid: `kill-${i}` }))
    // the API instance runs no worker: nothing is delivered yet
    await sleep(300)
    expect(sink.received('/slow')).toHaveLength(0)

    const first = await startWorker(api.databaseUrl)
    // a worker serves no API
    const refused = await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ company { id } }"}',
    })
    expect(refused.status).toBe(404)
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
    const deadline = Date.now() + 10_000
    while (sink.received('/slow').length < 5 && Date.now() < deadline) await sleep(10)
    expect(sink.received('/slow').length).toBe(5)
    first.kill('SIGKILL') // every delivery is in flight: answered by nobody
    await exited(first)
    const stuck = await api.app.db.pixel.findMany({ where: { webhook: { campaignId } } })
    expect(stuck.map((p) => p.status)).toEqual(Array(5).fill('DELIVERING'))

    // the requests again answer at once: a loaded machine must not turn the second worker's into timeouts
    sink.on('/slow', { status: 200 })
    const second = await startWorker(api.databaseUrl)
    try {
      // each attempt holds its pixel for the webhook's timeout plus 5 s: the killed worker's locks expire then
      const pixels = await allSucceeded(api, campaignId)
      expect(pixels.map((p) => p.attempts.length)).toEqual(Array(5).fill(1))
      // receivers saw each pixel twice, with the same webhook-id to dedupe by
      const ids = sink.received('/slow').map((r) => r.headers['webhook-id'])
      expect(ids).toHaveLength(10)
      expect(new Set(ids).size).toBe(5)
    } finally {
      second.kill('SIGTERM')
      await exited(second)
    }
  })
  it('loses no pixel handed over in memory when the process that took the call events is killed (SIGKILL)', async () => {
    sink.on('/handed', { delayMs: 800 })
    const campaignId = await createCampaign(api, 'handoff')
    await createWebhook(api, { campaignId, name: 'handed', url: `${sink.url}/handed`, timeoutMs: 1000 })
    // one process takes the call events and delivers (ROLE=all): its pixels are written claimed by it
    // (no polling: a claim on its way holds the slots, and the events should find them free)
    const first = await startWorker(api.databaseUrl, 'all', { PIXEL_POLL_MS: '60000' })
    const answers = []
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${first.url}/call-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${api.company.adminKey}` },
        body: JSON.stringify({ event: 'start', campaignId, uuid: `handed-${i}`, callerNumber: '+14155550107' }),
      })
      answers.push((await res.json()) as { pixels: { status: string }[] })
    }
    expect(answers.map((a) => a.pixels.map((p) => p.status))).toEqual(Array(4).fill(['DELIVERING']))
    const deadline = Date.now() + 10_000
    while (sink.received('/handed').length < 4 && Date.now() < deadline) await sleep(10)
    expect(sink.received('/handed').length).toBe(4)
    first.kill('SIGKILL') // the deliveries were in flight, known only to the dead process's memory
    await exited(first)
    const stuck = await api.app.db.pixel.findMany({ where: { campaignId } })
    expect(stuck.map((p) => p.status)).toEqual(Array(4).fill('DELIVERING'))

    sink.on('/handed', { status: 200 })
    const second = await startWorker(api.databaseUrl)
    try {
      // written locked for 5 s to start, the webhook's timeout and 5 s to record: taken over once that passes
      const pixels = await allSucceeded(api, campaignId)
      expect(pixels.map((p) => p.attempts.length)).toEqual(Array(4).fill(1))
      const ids = sink.received('/handed').map((r) => r.headers['webhook-id'])
      expect(ids).toHaveLength(8)
      expect(new Set(ids).size).toBe(4)
    } finally {
      second.kill('SIGTERM')
      await exited(second)
    }
  })
})
