// Benchmark: scale-out. Ringhook as several processes (`npm start` with ROLE=api or ROLE=worker) on one
// PostgreSQL database and one Redis, beside one process doing everything (ROLE=all) in the same run, each on
// a database of its own. The campaign and driver are those of bench:webhooks (three webhooks a call, a local
// sink in this process); call events go to the API processes in turn, so one call's events land on both.
// Three phases:
//   one process          ROLE=all, driven as fast as it goes
//   2 api + 2 workers    the same load spread over the two APIs
//   … with a SIGKILL     the same, one worker killed with SIGKILL halfway; the other takes its pixels over
// After each phase every pixel must reach a final state, every pixel must have arrived at the sink, and a
// pixel may arrive twice (the same webhook-id) only if it was being delivered when the worker was killed.
//   npm run bench:scale-out   (DURATION=10 CONCURRENCY=64; DATABASE_URL=postgres://… REDIS_URL=redis://… to change)
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { Agent, request } from 'undici'
import pg from 'pg'
import { benchDatabase, companyByCli } from './postgres.js'
import { startRinghook, stopProcess, type Started } from './process.js'

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const duration = Number(process.env.DURATION ?? 10) * 1000
const concurrency = Number(process.env.CONCURRENCY ?? 64)
const lifecycles = Number(process.env.LIFECYCLES ?? concurrency * 4)
// the webhooks' timeout: a killed worker's pixels are taken over once their locks (timeout + margin) pass
const webhookTimeoutMs = 1000

// the sink: answers 200 at once and counts each pixel's arrivals by its webhook-id
const arrivals = new Map<string, number>()
const sink = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const id = req.headers['webhook-id']
    if (typeof id === 'string') arrivals.set(id, (arrivals.get(id) ?? 0) + 1)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 })
    res.end('{}')
  })
})
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`

type Role = 'all' | 'api' | 'worker'
interface PhaseResult {
  label: string
  calls: number
  pixels: number
  final: number
  arrived: number
  repeated: number
  repeatedNotInFlight: number
  seconds: number
  pixelsPerSecond: number
}

async function phase(label: string, roles: Role[], kill: boolean): Promise<PhaseResult> {
  arrivals.clear()
  const database = await benchDatabase(server)
  const keys = await companyByCli(database.url)
  const started: { role: Role; process: Started }[] = []
  for (const role of roles) {
    const process = await startRinghook({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      JOBS_URL: database.url,
      REDIS_URL: redisUrl,
      ROLE: role,
      DEMO_COMPANY: 'off',
      LOG_LEVEL: 'error',
      ALLOWED_TARGETS: '127.0.0.1',
      PIXEL_CONCURRENCY: String(concurrency),
      PIXEL_CONNECTIONS_PER_ENDPOINT: String(concurrency),
      PIXEL_POLL_MS: '50',
      // a claim held by a killed worker is taken over after this (the lock is extended before each attempt)
      PIXEL_LOCK_MS: '3000',
    })
    started.push({ role, process })
  }
  const apis = started.filter((s) => s.role !== 'worker').map((s) => s.process.url)
  const agent = new Agent({ connections: lifecycles, keepAliveTimeout: 30_000 })
  const post = async (url: string, path: string, body: object) => {
    const res = await request(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
      body: JSON.stringify(body),
      dispatcher: agent,
    })
    const text = await res.body.text()
    if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${path} answered ${res.statusCode}: ${text}`)
    return JSON.parse(text) as { data?: any }
  }
  const gql = (query: string, variables: object = {}) => post(apis[0]!, '/graphql', { query, variables })
  const campaignId = (await gql('mutation { createCampaign(input:{name:"bench"}) { id } }')).data.createCampaign.id
  for (const [trigger, name] of [
    ['CALL_START', 'start-a'],
    ['CALL_START', 'start-b'],
    ['CALL_END', 'end'],
  ] as const) {
    await gql('mutation($i:CreateWebhookInput!){ createWebhook(input:$i) { id } }', {
      i: { campaignId, name, trigger, url: `${sinkUrl}/${name}`, body: '{"call":"[call_uuid]"}', timeoutMs: webhookTimeoutMs },
    })
  }

  let calls = 0
  let events = 0
  const callEvent = (event: object) => post(apis[events++ % apis.length]!, '/call-events', event)
  const t0 = performance.now()
  const end = t0 + duration
  // one worker is killed halfway; the pixels being delivered then are the only ones that may arrive twice
  let inFlight = new Set<string>()
  const killer = kill
    ? (async () => {
        await new Promise((r) => setTimeout(r, duration / 2))
        const victim = started.find((s) => s.role === 'worker')!
        victim.process.child.kill('SIGKILL')
        await new Promise((r) => victim.process.child.once('exit', r))
        started.splice(started.indexOf(victim), 1)
        const client = new pg.Client({ connectionString: database.url })
        await client.connect()
        const rows = await client.query<{ id: string }>(`SELECT id FROM "Pixel" WHERE status = 'DELIVERING'`)
        await client.end()
        inFlight = new Set(rows.rows.map((r) => r.id))
      })()
    : Promise.resolve()
  await Promise.all(
    Array.from({ length: lifecycles }, async () => {
      while (performance.now() < end) {
        const uuid = `s${process.pid}-${calls++}`
        await callEvent({ event: 'start', campaignId, uuid, callerNumber: `+1415555${String(calls % 10_000).padStart(4, '0')}` })
        await callEvent({ event: 'answered', uuid })
        await callEvent({ event: 'end', uuid })
      }
    }),
  )
  await killer
  // every pixel final (bounded: a killed worker's locks pass within seconds)
  const pending = () => database.count(`SELECT COUNT(*) AS n FROM "Pixel" WHERE status IN ('PENDING', 'DELIVERING')`)
  const deadline = performance.now() + 120_000
  while ((await pending()) > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const seconds = (performance.now() - t0) / 1000
  const pixels = await database.count('SELECT COUNT(*) AS n FROM "Pixel"')
  const final = await database.count(`SELECT COUNT(*) AS n FROM "Pixel" WHERE status = 'SUCCEEDED'`)
  const repeatedIds = [...arrivals].filter(([, n]) => n > 1).map(([id]) => id)
  for (const s of started) await stopProcess(s.process.child)
  await agent.close()
  await database.drop()
  return {
    label,
    calls,
    pixels,
    final,
    arrived: arrivals.size,
    repeated: repeatedIds.length,
    repeatedNotInFlight: repeatedIds.filter((id) => !inFlight.has(id)).length,
    seconds,
    pixelsPerSecond: final / seconds,
  }
}

const results = [
  await phase('one process (ROLE=all)', ['all'], false),
  await phase('2 api + 2 workers', ['api', 'api', 'worker', 'worker'], false),
  await phase('2 api + 2 workers, one worker SIGKILLed halfway', ['api', 'api', 'worker', 'worker'], true),
]
sink.close()

console.log(
  `\nscale-out on PostgreSQL and Redis, ${concurrency} deliveries a worker, ${lifecycles} call lifecycles in flight, ${duration / 1000} s of call events, ${os.cpus().length} cores, ${os.cpus()[0]?.model}`,
)
console.log(
  '| processes | calls | pixels | SUCCEEDED | arrived (distinct webhook-id) | arrived twice (not in flight at the kill) | s to the last final | pixels/s |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  console.log(
    `| ${r.label} | ${r.calls} | ${r.pixels} | ${r.final} | ${r.arrived} | ${r.repeated} (${r.repeatedNotInFlight}) | ${r.seconds.toFixed(1)} | ${Math.round(r.pixelsPerSecond)} |`,
  )
}
const failures = results.flatMap((r) => {
  const f: string[] = []
  if (r.pixels !== r.calls * 3) f.push(`${r.label}: ${r.pixels} pixels for ${r.calls} calls (3 each expected)`)
  if (r.final !== r.pixels) f.push(`${r.label}: ${r.pixels - r.final} pixels not SUCCEEDED`)
  if (r.arrived !== r.pixels) f.push(`${r.label}: ${r.pixels - r.arrived} pixels never arrived`)
  if (r.repeatedNotInFlight > 0) f.push(`${r.label}: ${r.repeatedNotInFlight} pixels arrived twice without a kill`)
  return f
})
if (failures.length) {
  console.error(`FAIL:\n${failures.join('\n')}`)
  process.exit(1)
}
