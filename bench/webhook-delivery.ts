// Benchmark: webhook delivery. Ringhook (a child process, as `npm start`, embedded SQLite, or PostgreSQL when
// DATABASE_URL=postgres://… names a server: a database of the run's own is made there) runs a campaign
// with three webhooks (two on call start, one on call end) pointing at a local sink in this process; this
// process drives call lifecycles (startCall, answerCall, endCall) the way telephony would. Beside it, in the
// same run, a bare undici `request` client with keep-alive fires at the same sink at the same concurrency,
// before Ringhook and again after it (this machine's speed drifts within a minute: the ratio is taken to
// the mean of the two).
//   npm run bench:webhooks        (DURATION=10 CONCURRENCY=64 RATE=500 to change; DATABASE_URL=postgres://… for PostgreSQL)
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Agent, request } from 'undici'
import { benchDatabase, companyByCli } from './postgres.js'
import { startRinghook, stopProcess } from './process.js'

const duration = Number(process.env.DURATION ?? 10) * 1000
const concurrency = Number(process.env.CONCURRENCY ?? 64)
const steadyRate = Number(process.env.RATE ?? 500)
// call lifecycles in flight in the phase driven as fast as it goes (telephony has many calls at once)
const lifecycles = Number(process.env.LIFECYCLES ?? concurrency * 4)

// the sink: answers 200 at once and notes when each pixel's request arrived
const arrivals = new Map<string, number>()
let _sinkCount = 0
const sink = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    _sinkCount++
    const m = /[?&]k=([^&]+)/.exec(req.url ?? '')
    if (m) arrivals.set(decodeURIComponent(m[1]!), performance.now())
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 })
    res.end('{}')
  })
})
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`

async function bareUndici(): Promise<number> {
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 })
  let sent = 0
  const end = performance.now() + duration
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const res = await request(`${sinkUrl}/bare`, { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' }, dispatcher })
        await res.body.dump()
        sent++
      }
    }),
  )
  await dispatcher.close()
  return sent / (duration / 1000)
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN
}

const bareBefore = await bareUndici()

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-bench-'))
// PostgreSQL: a database of this run's own on the server DATABASE_URL names, its company made by the cli
const server = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : null
const pgDatabase = server ? await benchDatabase(server) : null
const databaseUrl = pgDatabase?.url ?? `file:${path.join(dir, 'ringhook.db')}`
const pgKeys = pgDatabase ? await companyByCli(pgDatabase.url) : null
const app = await startRinghook(
  {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    ...(server ? { JOBS_URL: databaseUrl, DEMO_COMPANY: 'off' } : {}),
    LOG_LEVEL: 'error',
    ALLOWED_TARGETS: '127.0.0.1',
    PIXEL_CONCURRENCY: String(concurrency),
    PIXEL_POLL_MS: '50',
    // as many connections to the sink as the bare client opens (the default cap per endpoint is 32)
    PIXEL_CONNECTIONS_PER_ENDPOINT: String(concurrency),
  },
  process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [],
)
const keys = pgKeys ?? (JSON.parse(/\{[\s\S]*?\}/.exec(app.out())![0]) as { adminKey: string })
const api = new Agent({ connections: lifecycles, keepAliveTimeout: 30_000 })
async function gql(query: string, variables: object) {
  const res = await request(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
    body: JSON.stringify({ query, variables }),
    dispatcher: api,
  })
  const body = (await res.body.json()) as { data?: any; errors?: unknown }
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data
}
const campaignId = (await gql('mutation { createCampaign(input:{name:"bench"}) { id } }', {})).createCampaign.id
for (const [trigger, name] of [
  ['CALL_START', 'start-a'],
  ['CALL_START', 'start-b'],
  ['CALL_END', 'end'],
] as const) {
  await gql('mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }', {
    i: { campaignId, name, trigger, url: `${sinkUrl}/${name}?k=${name}:[call_uuid]`, body: '{"caller":"[caller_number]","call":"[call_uuid]"}' },
  })
}

// telephony reports call events on the REST door (POST /call-events), one request per event
// how long each call event took to be answered, in the steady phase
const answered: number[] = []
let timing = false
async function callEvent(event: object) {
  const sent = performance.now()
  const res = await request(`${app.url}/call-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
    body: JSON.stringify(event),
    dispatcher: api,
  })
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`call event answered ${res.statusCode}: ${body}`)
  if (timing) answered.push(performance.now() - sent)
}

const sentAt = new Map<string, number>()
let callSeq = 0
async function lifecycle(): Promise<void> {
  const uuid = `b${process.pid}-${callSeq++}`
  const t0 = performance.now()
  sentAt.set(`start-a:${uuid}`, t0)
  sentAt.set(`start-b:${uuid}`, t0)
  await callEvent({ event: 'start', campaignId, uuid, callerNumber: `+1415555${String(callSeq % 10_000).padStart(4, '0')}` })
  await callEvent({ event: 'answered', uuid })
  sentAt.set(`end:${uuid}`, performance.now())
  await callEvent({ event: 'end', uuid })
}

async function settle(expected: number, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs
  while (arrivals.size < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return performance.now()
}

// phase 1: as fast as the driver and Ringhook go
arrivals.clear()
sentAt.clear()
// CPU each side spends, to tell which one is the limit (both share the machine's cores)
const serverCpu = () => {
  const fields = fs.readFileSync(`/proc/${app.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, clock ticks (100/s) -> ms
}
const cpu0 = { server: serverCpu(), bench: process.cpuUsage() }
const t0 = performance.now()
const end = t0 + duration
await Promise.all(
  Array.from({ length: lifecycles }, async () => {
    while (performance.now() < end) await lifecycle()
  }),
)
const expected = callSeq * 3
const done = await settle(expected)
const maxRate = arrivals.size / ((done - t0) / 1000)
const busy = {
  server: (serverCpu() - cpu0.server) / (done - t0),
  bench: (() => {
    const u = process.cpuUsage(cpu0.bench)
    return (u.user + u.system) / 1000 / (done - t0)
  })(),
}
const phase1 = { calls: callSeq, pixels: arrivals.size, expected, seconds: (done - t0) / 1000 }

// phase 2: a steady rate of pixels (3 per call lifecycle), latency from each call event to the request at the sink
arrivals.clear()
sentAt.clear()
const callsPerSecond = steadyRate / 3
// the benchmark's own event-loop delay: a pause here shows in the latencies too
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
loopDelay.enable()
timing = true
const steadyStart = performance.now()
const inflight: Promise<void>[] = []
for (let i = 0; performance.now() - steadyStart < duration; i++) {
  const due = steadyStart + (i * 1000) / callsPerSecond
  const wait = due - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  inflight.push(lifecycle())
}
await Promise.all(inflight)
await settle(sentAt.size)
loopDelay.disable()
const latencies = [...sentAt].filter(([k]) => arrivals.has(k)).map(([k, t]) => arrivals.get(k)! - t)

await stopProcess(app.child)
await api.close()
const bareAfter = await bareUndici()
const bareRate = (bareBefore + bareAfter) / 2
sink.close()
fs.rmSync(dir, { recursive: true, force: true })
await pgDatabase?.drop()

console.log(
  `\nwebhook delivery on ${server ? 'PostgreSQL' : 'SQLite'}, ${concurrency} concurrent, ${lifecycles} call lifecycles in flight, ${duration / 1000} s a phase, ${os.cpus().length} cores, ${os.cpus()[0]?.model}`,
)
console.log(`| measure | value |`)
console.log(`| --- | --- |`)
console.log(
  `| bare undici request, keep-alive, ${concurrency} concurrent: before / after Ringhook | ${Math.round(bareBefore)} / ${Math.round(bareAfter)} req/s |`,
)
console.log(
  `| Ringhook, driven as fast as it goes | ${Math.round(maxRate)} pixels/s (${phase1.pixels} of ${phase1.expected} pixels from ${phase1.calls} calls in ${phase1.seconds.toFixed(1)} s) |`,
)
console.log(`| Ringhook / bare undici (the mean of the two) | ${((maxRate / bareRate) * 100).toFixed(1)} % |`)
console.log(
  `| CPU while driven as fast as it goes: Ringhook / benchmark (driver and sink) | ${(busy.server * 100).toFixed(0)} % / ${(busy.bench * 100).toFixed(0)} % of a core |`,
)
console.log(`| steady ${steadyRate} pixels/s: trigger-to-request p50 | ${percentile(latencies, 50).toFixed(1)} ms |`)
console.log(
  `| steady ${steadyRate} pixels/s: call event answered p50 / p99 | ${percentile(answered, 50).toFixed(1)} / ${percentile(answered, 99).toFixed(1)} ms (${answered.length} events) |`,
)
console.log(`| steady ${steadyRate} pixels/s: trigger-to-request p99 | ${percentile(latencies, 99).toFixed(1)} ms (${latencies.length} pixels) |`)
console.log(
  `| steady ${steadyRate} pixels/s: trigger-to-request max | ${Math.max(...latencies).toFixed(1)} ms; the benchmark's own event-loop delay max ${(loopDelay.max / 1e6).toFixed(1)} ms |`,
)
