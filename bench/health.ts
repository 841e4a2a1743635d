// Benchmark: endpoint health with a large history. A database (embedded SQLite, or PostgreSQL when
// DATABASE_URL=postgres://… names a server: a database of the run's own) is filled with PIXELS pixels (one
// attempt each) of WEBHOOKS webhooks over the last week, and the health buckets such a week leaves (minute
// buckets for two days, hour buckets for five weeks); then Ringhook (a child process, as `npm start`) is
// asked, one request at a time, for a webhook's health over an hour, a day and a week, an origin's health
// over a week and the list of endpoints; beside them, in the same run, a bare GraphQL query of the same
// webhook (its id and name) as the floor. Latencies are measured at the client (HTTP included).
//   npm run bench:health        (PIXELS=1000000 WEBHOOKS=20 ROUNDS=200 to change)
import { newId } from '../src/core/ids.js'
import { COUNT_COLUMNS, LATENCY_BOUNDS_MS } from '../src/delivery/health.js'
import { openHistory, startOnHistory, timeQueries, WEBHOOK_TYPES, type QueryCase } from './fill.js'
import { stopProcess } from './process.js'

const pixels = Number(process.env.PIXELS ?? 1_000_000)
const webhooks = Number(process.env.WEBHOOKS ?? 20)
const rounds = Number(process.env.ROUNDS ?? 200)
const origins = 4
const week = 7 * 86_400_000

const { url: databaseUrl, keys, writer, remove } = await openHistory()

const started = performance.now()
const now = Date.now()
const campaignId = newId()
await writer.insert(
  'Campaign',
  ['id', 'companyId', 'name', 'createdAt', 'updatedAt'],
  [[campaignId, keys.companyId, 'bench', new Date(now - week), new Date(now)]],
)
const webhookIds = Array.from({ length: webhooks }, () => newId())
const originOf = (w: number) => `http://127.0.0.${1 + (w % origins)}:8080`
await writer.insert(
  'Webhook',
  ['id', 'companyId', 'campaignId', 'name', 'trigger', 'matches', 'method', 'urlTemplate', 'headers', 'createdAt', 'updatedAt'],
  webhookIds.map((id, w) => [
    id,
    keys.companyId,
    campaignId,
    `w${w}`,
    'CALL_END',
    '[]',
    'POST',
    `${originOf(w)}/hook`,
    '[]',
    new Date(now - week),
    new Date(now),
  ]),
  WEBHOOK_TYPES,
)
// calls, pixels (one attempt each) over the last week, in batches
const batch = 10_000
const callsPerPixel = 4
for (let done = 0; done < pixels; done += batch) {
  const n = Math.min(batch, pixels - done)
  const calls: unknown[][] = []
  const pixelRows: unknown[][] = []
  const attempts: unknown[][] = []
  let callId = ''
  for (let i = 0; i < n; i++) {
    const at = new Date(now - week + Math.floor(((done + i) / pixels) * week))
    if ((done + i) % callsPerPixel === 0) {
      callId = newId()
      calls.push([callId, `bench-${done + i}`, keys.companyId, campaignId, `+1415555${String((done + i) % 10_000).padStart(4, '0')}`, 'ENDED', at, at])
    }
    const id = newId()
    const ok = (done + i) % 10 !== 0
    const w = (done + i) % webhooks
    pixelRows.push([id, keys.companyId, campaignId, webhookIds[w], callId, '+14155550100', 'CALL_END', ok ? 'SUCCEEDED' : 'FAILED', 1, at, at])
    attempts.push([newId(), id, 1, at, 20 + ((done + i) % 200), ok ? 200 : 503])
  }
  await writer.insert('Call', ['id', 'uuid', 'companyId', 'campaignId', 'callerNumber', 'status', 'startedAt', 'updatedAt'], calls)
  await writer.insert(
    'Pixel',
    ['id', 'companyId', 'campaignId', 'webhookId', 'callId', 'callerNumber', 'trigger', 'status', 'attemptCount', 'createdAt', 'completedAt'],
    pixelRows,
  )
  await writer.insert('PixelAttempt', ['id', 'pixelId', 'number', 'startedAt', 'durationMs', 'statusCode'], attempts)
}
// the buckets such a history leaves: every minute of two days and every hour of five weeks, each webhook
const bucketColumns = ['companyId', 'webhookId', 'origin', 'period', 'bucketStart', ...COUNT_COLUMNS, 'latencySumMs', 'lastSuccessAt', 'lastFailureAt']
for (const [period, stepMs, count] of [
  ['MINUTE', 60_000, 2 * 1440],
  ['HOUR', 3_600_000, 35 * 24],
] as const) {
  for (let w = 0; w < webhooks; w++) {
    const rows: unknown[][] = []
    for (let k = 0; k < count; k++) {
      const start = new Date(now - (now % stepMs) - k * stepMs)
      const attempts = period === 'MINUTE' ? 30 : 1800
      const failures = Math.floor(attempts / 10)
      const histogram = LATENCY_BOUNDS_MS.map((_, i) => (i >= 3 && i <= 6 ? (attempts - failures) / 4 : 0))
      const counts: Record<string, number> = { attempts, successes: attempts - failures, http5xx: failures, answered: attempts }
      rows.push([
        keys.companyId,
        webhookIds[w],
        originOf(w),
        period,
        start,
        ...COUNT_COLUMNS.map((c, i) => (i >= 10 ? histogram[i - 10]! : (counts[c] ?? 0))),
        attempts * 80.5,
        start,
        start,
      ])
    }
    await writer.insert('HealthBucket', bucketColumns, rows)
  }
}
await writer.close()
const filled = (performance.now() - started) / 1000

const app = await startOnHistory(databaseUrl)
const HEALTH =
  'attempts successes successRate failures { timeout network http4xx http429 http5xx refused total } latencyMs { p50 p95 p99 mean } lastSuccessAt lastFailureAt'
const webhookId = webhookIds[0]
const cases: QueryCase[] = [
  ['bare: webhook { id name }', 'query($id:ID!){ webhook(id:$id) { id name } }', { id: webhookId }],
  [
    'webhook.health(HOUR), 60 points',
    `query($id:ID!){ webhook(id:$id) { health(window: HOUR) { ${HEALTH} series { at attempts successRate } } } }`,
    { id: webhookId },
  ],
  [
    'webhook.health(DAY), 24 points',
    `query($id:ID!){ webhook(id:$id) { health(window: DAY) { ${HEALTH} series { at attempts successRate } } } }`,
    { id: webhookId },
  ],
  [
    'webhook.health(WEEK), 168 points',
    `query($id:ID!){ webhook(id:$id) { health(window: WEEK) { ${HEALTH} series { at attempts successRate } } } }`,
    { id: webhookId },
  ],
  ['endpointHealth(origin, WEEK)', `query($o:String!){ endpointHealth(origin:$o, window: WEEK) { ${HEALTH} } }`, { o: originOf(0) }],
  ['endpoints(WEEK)', `{ endpoints(window: WEEK) { origin attempts } }`, {}],
]
const results = await timeQueries(app.url, keys.adminKey, cases, rounds)
await stopProcess(app.child)
await remove()

console.log(
  `\n${databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}: ${pixels.toLocaleString('en')} pixels (and attempts), ${(pixels / callsPerPixel).toLocaleString('en')} calls, ${webhooks} webhooks over ${origins} origins; filled in ${filled.toFixed(0)} s`,
)
console.log(`${rounds} requests each, one at a time, latency at the client in ms:\n`)
console.log('| query | p50 | p99 | max |\n| --- | --- | --- | --- |')
for (const line of results) console.log(line)
